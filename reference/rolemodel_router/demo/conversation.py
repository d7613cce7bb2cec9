"""The demo's scripted session: a chat, then a coding agent's plan, chores and a fallback.

Each turn says what it is meant to show. The router decides every turn for real; the script only
fixes what the models answer, and which backend fails when a turn demonstrates a fallback.
"""

from __future__ import annotations

from dataclasses import dataclass

from rolemodel_router.backends.scripted import Fault, Step

CHAT = "chat"
AGENT = "agent"

#: A repository overview as a coding agent sends it on every turn: long enough (about 3,000
#: tokens) that prompt caching decides what each turn costs.
_MODULES = ("payments", "ledger", "invoices", "customers", "notifications", "reports")
AGENT_SYSTEM = (
    "You are a careful coding agent working in a Python monorepo. Repository overview:\n"
    + "\n".join(
        f"- {module}/{part}.py: {purpose} for {module}; owned by the {module} team; "
        f"tests in tests/{module}/test_{part}.py"
        for module in _MODULES
        for part, purpose in (
            ("models", "SQLAlchemy models and migrations"),
            ("service", "the domain service with its transaction boundaries"),
            ("api", "HTTP handlers, request validation and error mapping"),
            ("events", "outbox events published to the message bus"),
            ("settings", "configuration read from the environment at start-up"),
        )
    )
    * 4
)


@dataclass(frozen=True)
class Turn:
    shows: str
    conversation: str
    role: str
    user: str
    answer: str
    difficulty: float | None = None
    fail_chosen: Step | None = None  # when set, the endpoint the router chooses fails this way
    verdict: str = ""  # when set, the client reports TASK_FAILED with this detail after the turn


TURNS = (
    Turn(
        "an easy chat turn stays on the free local model",
        CHAT,
        "chat",
        "Hi! Can you suggest a name for my new cat?",
        "How about Miso? Short, warm and easy to call.",
    ),
    Turn(
        "the next turn reads the local model's warm cache",
        CHAT,
        "chat",
        "She is grey and sleeps all day. Another idea?",
        "Then Nimbus: a small grey cloud that hardly moves.",
    ),
    Turn(
        "planning goes to a strong model, which writes the long context to its cache",
        AGENT,
        "code.plan",
        "Plan how to split the payments module into its own service.",
        "1. Freeze the payments API. 2. Move models behind an interface. 3. Publish events. 4. Cut over reads.",
        difficulty=0.45,
    ),
    Turn(
        "the follow-up stays there: the warm cache makes it cheaper than moving",
        AGENT,
        "code.plan",
        "Turn the plan into a checklist we can track.",
        "- [ ] Freeze the API\n- [ ] Interface for models\n- [ ] Outbox events\n- [ ] Read cut-over",
        difficulty=0.45,
    ),
    Turn(
        "a chore runs on the big local model; then the client reports that the tests failed",
        AGENT,
        "chore",
        "Run the formatter and commit the result.",
        "Formatted 14 files and committed them as 'style: format'.",
        verdict="the test suite failed after formatting",
    ),
    Turn(
        "the failed check escalates the next chore one rung up the ladder",
        AGENT,
        "chore",
        "The tests fail after formatting: fix them and commit.",
        "Restored the import order the tests rely on; the suite passes. Committed 'fix: import order'.",
    ),
    Turn(
        "the chosen model is overloaded: Execute falls back before the first token, to a cold cache",
        AGENT,
        "code.plan",
        "Review the plan once more for risks.",
        "Main risk: double writes during the cut-over. Keep the ledger as the single writer until reads move.",
        difficulty=0.45,
        fail_chosen=Fault.server_error(529),
    ),
)
