"""A real llama.cpp server for tests and benchmarks, with a model written on the spot.

No model can be downloaded, so :func:`write_model` writes a llama-architecture
GGUF file with random weights and a byte-level tokenizer: its answers are noise,
but the server's prompt cache, slots and timings are real. Every byte of text is
one token (the tokenizer has no merges), so a message's token count is known
exactly without asking the server (:func:`chatml_tokens`).

:class:`LlamaServer` starts ``llama-server`` (built by ``.ci/build-llama-server``)
on a free loopback port with ``--cache-ram 0``, so that an evicted prompt is
really gone instead of coming back from the host-memory cache.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gguf
import numpy as np

#: Where .ci/build-llama-server puts the binary, under the user's cache.
LLAMA_CPP_PYTHON_VERSION = "0.3.36"
CHATML = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content']"
    " + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
SPECIAL_TOKENS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")
#: Tokens of the generation prompt "<|im_start|>assistant\n" that ends every chat prompt.
GENERATION_PROMPT_TOKENS = 1 + len("assistant\n")
START_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class ModelShape:
    """The size of a written model; wider and deeper models prefill and decode more slowly."""

    layers: int = 2
    embedding: int = 64
    heads: int = 4
    feed_forward: int = 128
    context: int = 16384


def _byte_symbols() -> list[str]:
    """GPT-2's byte-to-unicode table: the symbol each byte is written as in a byte-level vocabulary."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAC + 1)) + list(range(0xAE, 0xFF + 1))
    symbols = {b: chr(b) for b in printable}
    extra = 0
    for b in range(256):
        if b not in symbols:
            symbols[b] = chr(256 + extra)
            extra += 1
    return [symbols[b] for b in range(256)]


def write_model(path: Path, shape: ModelShape = ModelShape(), seed: int = 7) -> Path:
    """Write a llama-architecture GGUF model with random F32 weights; returns ``path``."""
    rng = np.random.default_rng(seed)
    symbols = _byte_symbols()
    # llama.cpp needs at least one merge; this one joins bytes 0 and 1, which no text here holds,
    # so that every byte of real text stays one token.
    merge = symbols[0] + symbols[1]
    vocab = [*symbols, *SPECIAL_TOKENS, merge]
    n_vocab, n_embd, n_ff = len(vocab), shape.embedding, shape.feed_forward
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name("rolemodel-test-model")
    writer.add_context_length(shape.context)
    writer.add_embedding_length(n_embd)
    writer.add_block_count(shape.layers)
    writer.add_feed_forward_length(n_ff)
    writer.add_head_count(shape.heads)
    writer.add_head_count_kv(shape.heads)
    writer.add_rope_dimension_count(n_embd // shape.heads)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_vocab_size(n_vocab)
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("default")
    writer.add_token_list(vocab)
    normal, control = gguf.TokenType.NORMAL, gguf.TokenType.CONTROL
    writer.add_token_types([normal] * 256 + [control] * len(SPECIAL_TOKENS) + [normal])
    writer.add_token_merges([f"{symbols[0]} {symbols[1]}"])
    writer.add_bos_token_id(256)
    writer.add_eos_token_id(258)
    writer.add_add_bos_token(False)
    writer.add_chat_template(CHATML)

    def weights(*dims: int) -> np.ndarray[Any, np.dtype[np.float32]]:
        return (rng.standard_normal(dims) * 0.02).astype(np.float32)

    writer.add_tensor("token_embd.weight", weights(n_vocab, n_embd))
    for i in range(shape.layers):
        writer.add_tensor(f"blk.{i}.attn_norm.weight", np.ones(n_embd, dtype=np.float32))
        for name in ("attn_q", "attn_k", "attn_v", "attn_output"):
            writer.add_tensor(f"blk.{i}.{name}.weight", weights(n_embd, n_embd))
        writer.add_tensor(f"blk.{i}.ffn_norm.weight", np.ones(n_embd, dtype=np.float32))
        writer.add_tensor(f"blk.{i}.ffn_gate.weight", weights(n_ff, n_embd))
        writer.add_tensor(f"blk.{i}.ffn_up.weight", weights(n_ff, n_embd))
        writer.add_tensor(f"blk.{i}.ffn_down.weight", weights(n_embd, n_ff))
    writer.add_tensor("output_norm.weight", np.ones(n_embd, dtype=np.float32))
    # Special tokens get zero output rows: their logit is 0 while some byte's is above it, so greedy
    # decoding (temperature 0) never ends early and every answer has exactly max_tokens tokens.
    output = weights(n_vocab, n_embd) * 50.0
    output[256:] = 0.0
    writer.add_tensor("output.weight", output)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def chatml_tokens(role: str, content: str) -> int:
    """Tokens of one message as the model's chat template renders it: one per byte, one per special token."""
    return 1 + len(role.encode()) + 1 + len(content.encode()) + 1 + 1


def cache_dir() -> Path:
    base = os.environ.get("ROLEMODEL_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "rolemodel"
    )
    return Path(base)


def find_llama_server() -> Path | None:
    """The llama-server binary: $ROLEMODEL_LLAMA_SERVER, the build cache, or PATH; None when there is none."""
    named = os.environ.get("ROLEMODEL_LLAMA_SERVER")
    if named:
        return Path(named) if Path(named).is_file() else None
    cached = cache_dir() / f"llama-server-{LLAMA_CPP_PYTHON_VERSION}" / "bin" / "llama-server"
    if cached.is_file():
        return cached
    found = shutil.which("llama-server")
    return Path(found) if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class LlamaServer:
    """One llama-server process on loopback; use as a context manager."""

    def __init__(
        self, binary: Path, model: Path, *, slots: int = 2, context: int = 8192, threads: int = 1, log: Path
    ) -> None:
        self.port = _free_port()
        self.slots = slots
        self.context = context
        self.args = [
            str(binary),
            *("-m", str(model), "--host", "127.0.0.1", "--port", str(self.port)),
            *("-c", str(context), "--parallel", str(slots), "-t", str(threads), "-tb", str(threads)),
            *("--cache-ram", "0", "--slots", "--no-warmup", "--jinja"),
        ]
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LlamaServer:
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(self.args, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"llama-server exited with {self.process.returncode}; see {self.log}")
            try:
                if self.get("/health").get("status") == "ok":
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        self.__exit__()
        raise RuntimeError(f"llama-server did not become healthy in {START_TIMEOUT_S:.0f} s; see {self.log}")

    def __exit__(self, *_: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(self.base_url + path, timeout=30) as response:  # noqa: S310 (loopback)
            return json.loads(response.read())

    def post(self, path: str, body: dict[str, Any]) -> Any:
        request = urllib.request.Request(  # noqa: S310 (loopback)
            self.base_url + path, data=json.dumps(body).encode(), headers={"content-type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=600) as response:  # noqa: S310 (loopback)
            return json.loads(response.read())
