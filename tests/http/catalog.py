"""The catalog of the front-door tests: three endpoints on one scripted backend, and client model rules.

- ``local`` (OpenAI-compatible, free, prefix cache that keeps the reply) serves chat, chores and
  background work;
- ``cheap`` (DeepSeek-class, automatic caching from 64 tokens) is the first rung of ``code.edit``;
- ``claude`` (Anthropic, explicit caching, signed reasoning) is the rung that only escalation
  reaches for ``code.edit`` and ``chore``.

The rules route a coding agent's own model names the way docs/clients.md describes: its small
background model to ``background``, its main model to ``code.edit``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

LOCAL_MODEL = "local-coder"
CHEAP_MODEL = "cheap-chat"
CLAUDE_MODEL = "claude-main"
#: The type of Anthropic's hosted web search, which the claude endpoint runs.
ANTHROPIC_WEB_SEARCH = "web_search_20250305"
RULES = [
    {"model_pattern": "claude-haiku-*", "role": "background", "description": "a coding agent's background model"},
    {"model_pattern": "claude-*", "role": "code.edit", "description": "a coding agent's main model"},
    {"model_pattern": "gpt-*", "role": "chat"},
]


def _endpoint(endpoint_id: str, model: str, kind: str, dialect: str, base_url: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": endpoint_id,
        "provider_kind": kind,
        "model": model,
        "locality": fields.pop("locality", "LOCALITY_REMOTE"),
        "capabilities": ["CAPABILITY_TOOLS", "CAPABILITY_STREAMING", *fields.pop("capabilities", [])],
        "context_window_tokens": fields.pop("context_window_tokens", 128000),
        "max_output_tokens": 4096,
        "connection": {"base_url": base_url, "api_dialect": dialect},
        **fields,
    }


def catalog(base_url: str) -> dict[str, Any]:
    openai_url = f"{base_url}/v1"
    return {
        "name": "http-front-door-tests",
        "endpoints": [
            _endpoint(
                "local", LOCAL_MODEL, "PROVIDER_KIND_OPENAI_COMPATIBLE", "API_DIALECT_OPENAI_CHAT", openai_url,
                locality="LOCALITY_LOCAL",
                context_window_tokens=32768,
                pricing={"currency": "USD", "input_per_mtok": "0", "output_per_mtok": "0"},
                caching={"mode": "CACHE_MODE_AUTOMATIC", "min_cacheable_tokens": 1, "granularity_tokens": 1,
                         "ttl_seconds": 1800, "refresh_on_hit": True, "includes_output": True},
                default_quality=0.5,
            ),
            _endpoint(
                "cheap", CHEAP_MODEL, "PROVIDER_KIND_DEEPSEEK", "API_DIALECT_OPENAI_CHAT", openai_url,
                pricing={"currency": "USD", "input_per_mtok": "0.28", "output_per_mtok": "0.42",
                         "cache_read_per_mtok": "0.028"},
                caching={"mode": "CACHE_MODE_AUTOMATIC", "min_cacheable_tokens": 64, "granularity_tokens": 64,
                         "ttl_seconds": 3600, "refresh_on_hit": True},
                default_quality=0.75,
            ),
            _endpoint(
                "claude", CLAUDE_MODEL, "PROVIDER_KIND_ANTHROPIC", "API_DIALECT_ANTHROPIC_MESSAGES", base_url,
                capabilities=["CAPABILITY_REASONING"],
                context_window_tokens=200000,
                pricing={"currency": "USD", "input_per_mtok": "3", "output_per_mtok": "15",
                         "cache_read_per_mtok": "0.3", "cache_write_5m_per_mtok": "3.75"},
                caching={"mode": "CACHE_MODE_EXPLICIT", "min_cacheable_tokens": 1024, "granularity_tokens": 1,
                         "ttl_seconds": 300, "refresh_on_hit": True},
                hosted_tools=[ANTHROPIC_WEB_SEARCH],
                default_quality=0.9,
            ),
        ],
        "roles": [
            {
                "name": "chat",
                "ladder": [{"endpoint_ids": ["local"]}, {"endpoint_ids": ["cheap"], "min_difficulty": 0.5}],
                "default_strategy": "STRATEGY_COST",
                "allow_downgrade": True,
            },
            {
                "name": "code.edit",
                "description": "cheap first; a failed task moves it to claude",
                "ladder": [{"name": "cheap", "endpoint_ids": ["cheap"]}, {"name": "top", "endpoint_ids": ["claude"]}],
                "default_strategy": "STRATEGY_COST",
                "required_capabilities": ["CAPABILITY_TOOLS"],
                "escalation": {"escalate_on": ["OUTCOME_CLASS_TASK_FAILED"], "max_level": 1, "deescalate_after": 2},
                "affinity": {"horizon_turns": 3, "tool_loop": "TOOL_LOOP_POLICY_PIN"},
                "allow_downgrade": True,
            },
            {
                "name": "chore",
                "ladder": [{"endpoint_ids": ["local"]}, {"endpoint_ids": ["claude"]}],
                "default_strategy": "STRATEGY_COST",
                "allow_downgrade": True,
            },
            {
                "name": "background",
                "ladder": [{"endpoint_ids": ["local"]}],
                "default_strategy": "STRATEGY_COST",
                "side_requests": {"merge_back": False},
            },
        ],
        "policies": {"client_model_rules": RULES},
    }  # fmt: skip


def write_catalog(directory: Path, base_url: str) -> Path:
    path = directory / "http-catalog.yaml"
    path.write_text(yaml.safe_dump(catalog(base_url), sort_keys=False))
    return path
