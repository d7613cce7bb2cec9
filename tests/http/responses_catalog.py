"""The catalog of the Responses front-door tests and the Codex test: a GPT-5.x and a DeepSeek.

- ``gpt`` speaks the Responses API (as OpenAI's GPT-5.x and the ChatGPT Codex backend do),
  reasons, runs the hosted ``web_search`` tool, and caches like OpenAI: automatically, from 1024
  tokens, in steps of 128;
- ``deepseek`` speaks Chat Completions and caches from 64 tokens in steps of 64.

``code.edit`` starts on DeepSeek and reaches GPT for hard turns; the tests pin one or the other
with ``x-rolemodel-pin`` to move a conversation on purpose. ``chore`` has DeepSeek alone.
Codex's model names (``gpt-*``) map to ``code.edit``, as docs/clients.md sets it up.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

GPT_MODEL = "gpt-5.4"
DEEPSEEK_MODEL = "deepseek-chat"
RULES = [{"model_pattern": "gpt-*", "role": "code.edit", "description": "Codex's main model"}]


def catalog(base_url: str) -> dict[str, Any]:
    openai_url = f"{base_url}/v1"
    return {
        "name": "responses-front-door-tests",
        "endpoints": [
            {
                "id": "gpt",
                "provider_kind": "PROVIDER_KIND_OPENAI",
                "model": GPT_MODEL,
                "locality": "LOCALITY_REMOTE",
                "capabilities": ["CAPABILITY_TOOLS", "CAPABILITY_STREAMING", "CAPABILITY_REASONING"],
                "context_window_tokens": 272000,
                "max_output_tokens": 32000,
                "hosted_tools": ["web_search"],
                "connection": {"base_url": openai_url, "api_dialect": "API_DIALECT_OPENAI_RESPONSES"},
                "pricing": {"currency": "USD", "input_per_mtok": "1.25", "output_per_mtok": "10",
                            "cache_read_per_mtok": "0.125"},
                "caching": {"mode": "CACHE_MODE_AUTOMATIC", "min_cacheable_tokens": 1024, "granularity_tokens": 128,
                            "ttl_seconds": 600},
                "default_quality": 0.95,
            },
            {
                "id": "deepseek",
                "provider_kind": "PROVIDER_KIND_DEEPSEEK",
                "model": DEEPSEEK_MODEL,
                "locality": "LOCALITY_REMOTE",
                "capabilities": ["CAPABILITY_TOOLS", "CAPABILITY_STREAMING", "CAPABILITY_REASONING"],
                "context_window_tokens": 128000,
                "max_output_tokens": 8000,
                "connection": {"base_url": openai_url, "api_dialect": "API_DIALECT_OPENAI_CHAT"},
                "pricing": {"currency": "USD", "input_per_mtok": "0.28", "output_per_mtok": "0.42",
                            "cache_read_per_mtok": "0.028"},
                "caching": {"mode": "CACHE_MODE_AUTOMATIC", "min_cacheable_tokens": 64, "granularity_tokens": 64,
                            "ttl_seconds": 3600, "refresh_on_hit": True},
                "default_quality": 0.8,
            },
        ],
        "roles": [
            {
                "name": "code.edit",
                "ladder": [
                    {"name": "cheap", "endpoint_ids": ["deepseek"]},
                    {"name": "premium", "endpoint_ids": ["gpt"], "min_difficulty": 0.7},
                ],
                "default_strategy": "STRATEGY_COST",
                "required_capabilities": ["CAPABILITY_TOOLS"],
                "allow_downgrade": True,
                "affinity": {"tool_loop": "TOOL_LOOP_POLICY_FREE"},
            },
            {"name": "chore", "ladder": [{"endpoint_ids": ["deepseek"]}], "default_strategy": "STRATEGY_COST"},
        ],
        "policies": {"client_model_rules": RULES},
    }  # fmt: skip


def write_catalog(directory: Path, base_url: str) -> Path:
    path = directory / "responses-catalog.yaml"
    path.write_text(yaml.safe_dump(catalog(base_url), sort_keys=False))
    return path
