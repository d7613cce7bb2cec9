"""The catalog of the Execute tests: three endpoints of three dialect families on one scripted backend.

``ex-local`` is free and chosen first under the cost strategy, so a fault scripted on it sends the
call to the fallbacks, ``ex-mini`` (OpenAI, automatic caching) and then ``ex-claude`` (Anthropic,
explicit caching, a signed-reasoning provider).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

LOCAL_MODEL = "local-small"
MINI_MODEL = "mini"
CLAUDE_MODEL = "claude"
KEY_ENV = "EXECUTE_TEST_CLAUDE_KEY"


def catalog(
    base_url: str, *, claude_key_env: str = "", unreachable_local: str = "", mini_credential_headers: str = ""
) -> dict[str, Any]:
    """``mini_credential_headers`` (comma-separated) makes ``ex-mini`` a subscription endpoint (spec 12.4)."""
    local_url = unreachable_local or f"{base_url}/v1"
    mini_connection: dict[str, Any] = {"base_url": f"{base_url}/v1", "api_dialect": "API_DIALECT_OPENAI_CHAT"}
    if mini_credential_headers:
        mini_connection["client_credential_headers"] = mini_credential_headers.split(",")
    claude_connection: dict[str, Any] = {"base_url": base_url, "api_dialect": "API_DIALECT_ANTHROPIC_MESSAGES"}
    if claude_key_env:
        claude_connection["api_key_env"] = claude_key_env
    return {
        "name": "execute-tests",
        "endpoints": [
            {
                "id": "ex-local",
                "provider_kind": "PROVIDER_KIND_OPENAI_COMPATIBLE",
                "model": LOCAL_MODEL,
                "locality": "LOCALITY_LOCAL",
                "capabilities": ["CAPABILITY_TOOLS", "CAPABILITY_STREAMING"],
                "context_window_tokens": 8192,
                "max_output_tokens": 1024,
                "pricing": {"currency": "USD", "input_per_mtok": "0", "output_per_mtok": "0"},
                "caching": {"mode": "CACHE_MODE_NONE"},
                "default_quality": 0.5,
                "connection": {"base_url": local_url, "api_dialect": "API_DIALECT_OPENAI_CHAT"},
            },
            {
                "id": "ex-mini",
                "provider_kind": "PROVIDER_KIND_OPENAI",
                "model": MINI_MODEL,
                "locality": "LOCALITY_REMOTE",
                "capabilities": ["CAPABILITY_TOOLS", "CAPABILITY_STREAMING", "CAPABILITY_JSON_SCHEMA"],
                "context_window_tokens": 128000,
                "max_output_tokens": 16000,
                "pricing": {
                    "currency": "USD",
                    "input_per_mtok": "0.25",
                    "output_per_mtok": "2",
                    "cache_read_per_mtok": "0.025",
                },
                "caching": {
                    "mode": "CACHE_MODE_AUTOMATIC",
                    "min_cacheable_tokens": 1024,
                    "granularity_tokens": 128,
                    "ttl_seconds": 300,
                    "refresh_on_hit": True,
                    "includes_output": True,
                },
                "default_quality": 0.7,
                "connection": mini_connection,
            },
            {
                "id": "ex-claude",
                "provider_kind": "PROVIDER_KIND_ANTHROPIC",
                "model": CLAUDE_MODEL,
                "locality": "LOCALITY_REMOTE",
                "capabilities": ["CAPABILITY_TOOLS", "CAPABILITY_STREAMING", "CAPABILITY_REASONING"],
                "input_modalities": ["MODALITY_TEXT", "MODALITY_IMAGE"],
                "context_window_tokens": 200000,
                "max_output_tokens": 8000,
                "pricing": {
                    "currency": "USD",
                    "input_per_mtok": "3",
                    "output_per_mtok": "15",
                    "cache_read_per_mtok": "0.3",
                    "cache_write_5m_per_mtok": "3.75",
                    "cache_write_1h_per_mtok": "6",
                },
                "caching": {
                    "mode": "CACHE_MODE_EXPLICIT",
                    "min_cacheable_tokens": 1024,
                    "granularity_tokens": 1,
                    "ttl_seconds": 300,
                    "refresh_on_hit": True,
                },
                "default_quality": 0.95,
                "connection": claude_connection,
            },
        ],
        "roles": [
            {
                "name": "chat",
                "description": "One tier; the free local model first, then the cheaper remote one.",
                "ladder": [{"endpoint_ids": ["ex-local", "ex-mini", "ex-claude"]}],
                "default_strategy": "STRATEGY_COST",
                "affinity": {"horizon_turns": 1, "tool_loop": "TOOL_LOOP_POLICY_FREE"},
            },
            {
                "name": "chore",
                "description": "Local until a check fails, then the strong model.",
                "ladder": [
                    {"name": "local", "endpoint_ids": ["ex-local"]},
                    {"name": "main", "endpoint_ids": ["ex-claude"]},
                ],
                "default_strategy": "STRATEGY_COST",
                "escalation": {"escalate_on": ["OUTCOME_CLASS_TASK_FAILED"], "max_level": 1, "deescalate_after": 2},
                "affinity": {"horizon_turns": 1},
            },
            {
                "name": "x-test.tail",
                "description": "Long conversations reach the small local model as a tail window.",
                "ladder": [{"endpoint_ids": ["ex-local"]}],
                "handoff": {"compaction": "COMPACTION_STRATEGY_TAIL_WINDOW"},
            },
            {
                "name": "x-test.summary",
                "description": "Long conversations reach the small local model with a summary of what was left out.",
                "ladder": [{"endpoint_ids": ["ex-local"]}],
                "handoff": {"compaction": "COMPACTION_STRATEGY_SUMMARY"},
            },
            {
                "name": "summarize",
                "description": "Summaries, as isolated side requests.",
                "ladder": [{"endpoint_ids": ["ex-mini"]}],
                "side_requests": {"merge_back": False},
            },
            {
                "name": "x-test.text-reasoning",
                "description": "Foreign reasoning is kept as text.",
                "ladder": [{"endpoint_ids": ["ex-mini", "ex-claude"]}],
                "default_strategy": "STRATEGY_COST",
                "handoff": {"reasoning": "REASONING_HANDOFF_TO_TEXT", "images": "IMAGE_HANDOFF_PLACEHOLDER"},
            },
            {
                "name": "x-test.subscription",
                "description": "The best model first (a subscription, when ex-mini is one), the local one after it.",
                "ladder": [{"endpoint_ids": ["ex-mini", "ex-local"]}],
                "default_strategy": "STRATEGY_QUALITY",
                "affinity": {"horizon_turns": 1, "tool_loop": "TOOL_LOOP_POLICY_FREE"},
            },
        ],
    }


def write_catalog(directory: Path, base_url: str, **options: str) -> Path:
    path = directory / "execute-catalog.yaml"
    path.write_text(yaml.safe_dump(catalog(base_url, **options), sort_keys=False))
    return path
