"""rolemodel-conformance: checks a rolemodel.v1 router against the spec, over gRPC, as a black box.

The suite imports nothing from any router. It reads the router's card to learn
what the router claims, runs the checks that apply, and reports a verdict per
requirement of ``spec/registry/requirements.yaml`` (spec chapter 13): PASS,
FAIL, WARN, SKIP, NOT_TESTABLE or ERROR. See ``docs/conformance.md``.
"""

from rolemodel import __version__

__all__ = ["__version__"]
