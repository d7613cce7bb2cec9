"""Context handoff (spec chapter 8): what a conversation becomes when it reaches another endpoint.

Pure functions of the request's messages, the target endpoint and the role's handoff policy, with
no state: the same conversation always hands off the same way, on every replica and every turn.
"""

from rolemodel_router.handoff.plan import Handoff, HandoffTarget, apply_handoff

__all__ = ["Handoff", "HandoffTarget", "apply_handoff"]
