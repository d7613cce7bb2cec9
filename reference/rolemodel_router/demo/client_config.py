"""What ``rolemodel demo --http`` prints: configuration to paste for Claude Code, Codex and aider.

The demo's front door runs without tokens, so any API key works; the clients still insist on one,
so the lines set a placeholder. Every model name is an alias of the bundled catalog, so a client
pointed at the demo is routed by role from its first request. Each block is shell that works
when pasted as it is, in a fresh shell, from any directory.
"""

from __future__ import annotations

from dataclasses import dataclass

#: The key the clients are given: the demo checks none, but every client wants one.
PLACEHOLDER_KEY = "rolemodel-demo"


@dataclass(frozen=True)
class ClientConfig:
    client: str
    lines: tuple[str, ...]


def client_configs(base_url: str) -> list[ClientConfig]:
    """Copy-paste set-ups for the three clients, against the front door at ``base_url`` (no ``/v1``)."""
    openai_base = f"{base_url}/v1"
    provider = (
        f'model_providers.rolemodel={{name="rolemodel demo", base_url="{openai_base}", '
        f'env_key="ROLEMODEL_TOKEN", wire_api="responses"}}'
    )
    return [
        ClientConfig(
            "Claude Code",
            (
                f"ANTHROPIC_BASE_URL={base_url} ANTHROPIC_AUTH_TOKEN={PLACEHOLDER_KEY} \\",
                "  ANTHROPIC_MODEL=rolemodel/code.plan ANTHROPIC_DEFAULT_HAIKU_MODEL=rolemodel/background \\",
                "  claude",
            ),
        ),
        ClientConfig(
            "Codex",
            (
                f"ROLEMODEL_TOKEN={PLACEHOLDER_KEY} codex -m rolemodel/code.edit \\",
                f"  -c model_provider=rolemodel -c '{provider}'",
            ),
        ),
        ClientConfig(
            "aider",
            (
                f"OPENAI_API_BASE={openai_base} OPENAI_API_KEY={PLACEHOLDER_KEY} \\",
                "  aider --model openai/rolemodel/code.edit --weak-model openai/rolemodel/chore "
                "--no-show-model-warnings",
            ),
        ),
    ]


def render_client_configs(base_url: str) -> str:
    """The human block: a heading per client and its lines, indented for copying."""
    out = [f"The front door serves the OpenAI and Anthropic APIs on {base_url}. Point a client at it:"]
    for config in client_configs(base_url):
        out.append(f"\n  {config.client}:")
        out.extend(f"    {line}" for line in config.lines)
    return "\n".join(out)
