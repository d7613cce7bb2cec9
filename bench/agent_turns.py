"""Agent turns in the shape a coding agent sends them over the Messages API, for estimator tests and benchmarks.

The system prompt, the tool definitions and the reminder blocks are synthetic but sized like
Claude Code's: a system prompt of about 28,000 tokens, 24 tools, and a first user message whose
leading text blocks carry ``<system-reminder>`` context (project notes with code in them). Each
part is written to trip a reader that looks at the whole prompt: code fences, "first ... then",
"plan", "architecture", "refactor".
"""

from __future__ import annotations

import json
from typing import Any

from rolemodel.dialects.anthropic_messages.request import decode_request
from rolemodel.v1 import conversation_pb2, hints_pb2, router_service_pb2

SYSTEM_PARAGRAPH = (
    "You are an interactive coding agent. First read the relevant files, then plan the change, then "
    "refactor with care and keep the architecture intact. Prove each claim with a test. Example:\n"
    "```python\ndef apply(patch):\n    return patch.check() and patch.write()\n```\n"
    "Never invent file contents; when a command fails, read its output before the next step.\n"
)
SYSTEM_PROMPT = SYSTEM_PARAGRAPH * 330  # about 112,000 characters, 28,000 tokens
TOOL_NAMES = (
    "Task",
    "Bash",
    "Glob",
    "Grep",
    "LS",
    "ExitPlanMode",
    "Read",
    "Edit",
    "MultiEdit",
    "Write",
    "NotebookEdit",
    "WebFetch",
    "TodoWrite",
    "WebSearch",
    "BashOutput",
    "KillShell",
    "SlashCommand",
    "ListMcpResources",
    "ReadMcpResource",
    "Skill",
    "AskUserQuestion",
    "EnterPlanMode",
    "LSP",
    "Notebook",
)
REMINDER = (
    "<system-reminder>\nAs you answer the user's questions, you can use the following context:\n"
    "# claudeMd\nDesign notes: first run the tests, then refactor.\n```ts\nexport function main(): void {\n"
    "  run();\n}\n```\n</system-reminder>"
)
FIRST_QUESTION = "read this file and tell me the secret word: notes/secret.txt"
FAILING_PYTEST = (
    "============================= test session starts ==============================\n"
    "collected 14 items\n\ntests/test_parser.py ..F.....F.....                                    [100%]\n\n"
    "=================================== FAILURES ===================================\n"
    "_________________________________ test_nested _________________________________\n"
    "    def test_nested():\n>       assert parse('[[1]]') == [[1]]\n"
    "E   AssertionError: assert [1] == [[1]]\n\ntests/test_parser.py:31: AssertionError\n"
    "=========================== short test summary info ============================\n"
    "FAILED tests/test_parser.py::test_nested - AssertionError: assert [1] == [[1]]\n"
    "FAILED tests/test_parser.py::test_empty - AssertionError\n"
    "========================= 2 failed, 12 passed in 0.31s =========================\n"
)
PASSING_PYTEST = (
    "============================= test session starts ==============================\n"
    "collected 14 items\n\ntests/test_parser.py ..............                                    [100%]\n\n"
    "============================== 14 passed in 0.29s ==============================\n"
)


def tool(name: str) -> dict[str, Any]:
    schema = {
        "type": "object",
        "properties": {
            "path": {"type": "string", "description": f"The absolute path the {name} tool works on."},
            "options": {"type": "object", "description": "Refactor, plan and design switches; see the system prompt."},
        },
        "required": ["path"],
    }
    description = f"{name}: a tool of the agent. " + "Use it first, then check its result step by step. " * 30
    return {"name": name, "description": description, "input_schema": schema}


def first_turn_body() -> dict[str, Any]:
    """The body of the agent's first request: a trivial question under a huge, constant prompt."""
    return {
        "model": "claude-sonnet-4-5",
        "max_tokens": 32000,
        "system": [{"type": "text", "text": SYSTEM_PROMPT, "cache_control": {"type": "ephemeral"}}],
        "tools": [tool(name) for name in TOOL_NAMES],
        "messages": [
            {
                "role": "user",
                "content": [{"type": "text", "text": REMINDER}, {"type": "text", "text": FIRST_QUESTION}],
            }
        ],
    }


def after_test_run_body(test_output: str, *, is_error: bool = False) -> dict[str, Any]:
    """The turn after the agent ran the tests: the tool result carries their output."""
    body = first_turn_body()
    body["messages"] = [
        {"role": "user", "content": [{"type": "text", "text": REMINDER}, {"type": "text", "text": "fix the parser"}]},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Running the tests first."},
                {"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {"command": "pytest -q"}},
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_1",
                    "content": [{"type": "text", "text": test_output}],
                    "is_error": is_error,
                }
            ],
        },
    ]
    return body


def route_request(body: dict[str, Any], role: str = "code.edit") -> router_service_pb2.RouteRequest:
    """The request the HTTP front door builds for ``body``: content, no counts, the role of the model name."""
    canonical = decode_request(json.loads(json.dumps(body)))
    conversation = conversation_pb2.ConversationRef(
        conversation_id="agent-turn",
        turn_index=sum(1 for m in canonical.messages if m.role == conversation_pb2.MESSAGE_ROLE_ASSISTANT),
        messages=[conversation_pb2.MessageRef(message=m) for m in canonical.messages],
        tools=canonical.tools,
    )
    return router_service_pb2.RouteRequest(conversation=conversation, hints=hints_pb2.RoutingHints(role=role))


def long_loop_body(rounds: int, result_text: str) -> dict[str, Any]:
    """A turn deep in a tool loop: ``rounds`` tool calls since the user last wrote, each with a result."""
    body = first_turn_body()
    messages: list[dict[str, Any]] = [{"role": "user", "content": "make the build pass"}]
    for number in range(rounds):
        call_id = f"toolu_{number}"
        messages.append(
            {
                "role": "assistant",
                "content": [{"type": "tool_use", "id": call_id, "name": "Bash", "input": {"command": "make"}}],
            }
        )
        result = {"type": "tool_result", "tool_use_id": call_id, "content": [{"type": "text", "text": result_text}]}
        messages.append({"role": "user", "content": [result]})
    body["messages"] = messages
    return body
