"""Run the scripted backend as its own process.

    python -m rolemodel_router.backends.scripted --port 0 --script script.json

The first line on standard output is the base URL (``http://127.0.0.1:PORT``), so that a parent
process can read the address and go. The server stops gracefully on SIGINT or SIGTERM and exits with status 0.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from rolemodel_router.backends.scripted.app import create_app
from rolemodel_router.backends.scripted.script_file import ScriptError, load_file
from rolemodel_router.backends.scripted.server import ScriptedServer, base_url, bind_socket, install_cut_filter
from rolemodel_router.backends.scripted.state import BackendState


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m rolemodel_router.backends.scripted",
        description="A scripted LLM backend speaking the OpenAI Chat Completions, OpenAI Responses and Anthropic "
        "Messages APIs, with a simulated prompt cache and faults on demand. Prints its base URL on the first line.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on; 0 picks a free one (default)")
    parser.add_argument("--script", type=Path, help="JSON script document (models, cache rules, replies, faults)")
    args = parser.parse_args(argv)

    state = BackendState()
    if args.script is not None:
        try:
            load_file(state, args.script)
        except (OSError, ScriptError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    stopping = threading.Event()
    sock = bind_socket(args.host, args.port)
    install_cut_filter()
    server = ScriptedServer(create_app(state, stopping), stopping, log_config=True)
    # uvicorn shuts down gracefully on SIGINT and SIGTERM, then raises the signal again once the
    # old handlers are back; these handlers turn that into a normal exit.
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, _exit_normally)
    print(base_url(sock), flush=True)
    server.run(sockets=[sock])
    return 0


def _exit_normally(number: int, frame: object) -> None:
    raise SystemExit(0)


if __name__ == "__main__":
    sys.exit(main())
