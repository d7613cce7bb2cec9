"""Difficulty estimators by name: the built-ins, and any installed under an entry-point group.

A catalog's role names its estimator (``Role.difficulty_estimator``); the router turns the name into
an object once, with :func:`load_estimator`. A third-party estimator (an embedding model, a
classifier service) is a distribution that declares, in its ``pyproject.toml``::

    [project.entry-points."rolemodel.difficulty_estimators"]
    my-embedding = "my_package.estimator:MyEstimator"

The entry point must name a callable that takes no arguments and returns an object with ``name``,
``version`` and ``estimate(query) -> float`` (:class:`DifficultyEstimator`); a class with such an
``__init__`` is the usual case. Its ``estimate`` runs on the router's request path, so it should
be fast and must not block on the network without a deadline of its own.

Built-in names are reserved: an entry point under ``heuristic`` or ``lexical`` is never loaded, so
installing a package cannot replace a built-in (this project's own distribution declares the
built-ins in the group too, so that tools listing the group see them). Two installed distributions
that declare the same other name with different targets make that name ambiguous, and loading it
fails rather than picking one.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import metadata

from rolemodel_router.engine.difficulty import DifficultyEstimator, HeuristicEstimator
from rolemodel_router.estimators.lexical import LexicalEstimator

ENTRY_POINT_GROUP = "rolemodel.difficulty_estimators"
#: The estimator a role gets when its catalog entry names none. The heuristic, not the learned
#: estimator: on open-ended prompts (arena, AlpacaEval) the learned one scores almost every prompt
#: 0.82 (the base rate of "the cheap answer is worse"), which would lift whole roles into their
#: strongest tier; it is chosen per role, for question-answering traffic like MMLU's.
DEFAULT_ESTIMATOR = "heuristic"

_BUILT_INS: dict[str, Callable[[], DifficultyEstimator]] = {
    "heuristic": HeuristicEstimator,
    "lexical": LexicalEstimator,
}


class EstimatorError(LookupError):
    """Base of the errors raised while turning an estimator name into an estimator."""


class UnknownEstimatorError(EstimatorError):
    """No built-in and no installed entry point has this name."""

    def __init__(self, name: str, available: list[str]) -> None:
        self.name = name
        self.available = available
        super().__init__(
            f"unknown difficulty estimator {name!r}; available: {', '.join(available)}. "
            f"Install a distribution that declares it in the entry-point group {ENTRY_POINT_GROUP!r}."
        )


class EstimatorLoadError(EstimatorError):
    """An installed estimator exists under this name but could not be made into a usable object."""


def _plugin_entry_points() -> dict[str, list[metadata.EntryPoint]]:
    """Installed entry points of the group, by name, without the ones that restate a built-in."""
    found: dict[str, list[metadata.EntryPoint]] = {}
    for entry_point in metadata.entry_points(group=ENTRY_POINT_GROUP):
        if entry_point.name in _BUILT_INS:
            continue  # reserved
        same = found.setdefault(entry_point.name, [])
        if all(other.value != entry_point.value for other in same):
            same.append(entry_point)
    return found


def available_estimators() -> list[str]:
    """Every name :func:`load_estimator` accepts, sorted; installed plugins are not imported."""
    return sorted(set(_BUILT_INS) | set(_plugin_entry_points()))


def _check(name: str, candidate: object) -> DifficultyEstimator:
    missing = [
        attribute
        for attribute, ok in (
            ("name", isinstance(getattr(candidate, "name", None), str)),
            ("version", isinstance(getattr(candidate, "version", None), str)),
            ("estimate", callable(getattr(candidate, "estimate", None))),
        )
        if not ok
    ]
    if missing:
        raise EstimatorLoadError(
            f"difficulty estimator {name!r} lacks {', '.join(missing)} (needs str name, str version, estimate(query))"
        )
    return candidate  # type: ignore[return-value]  # checked structurally above


def load_estimator(name: str) -> DifficultyEstimator:
    """A new instance of the estimator called ``name``.

    Raises :class:`UnknownEstimatorError` (with the available names) when nothing has that name,
    and :class:`EstimatorLoadError` when an installed plugin cannot be imported, is ambiguous,
    raises while being built, or builds something that is not an estimator.
    """
    built_in = _BUILT_INS.get(name)
    if built_in is not None:
        return built_in()
    candidates = _plugin_entry_points().get(name)
    if not candidates:
        raise UnknownEstimatorError(name, available_estimators())
    if len(candidates) > 1:
        targets = ", ".join(sorted(ep.value for ep in candidates))
        raise EstimatorLoadError(f"difficulty estimator {name!r} is declared more than once: {targets}")
    entry_point = candidates[0]
    try:
        factory = entry_point.load()
    except Exception as error:
        raise EstimatorLoadError(
            f"cannot import difficulty estimator {name!r} ({entry_point.value}): {error}"
        ) from error
    if not callable(factory):
        raise EstimatorLoadError(f"difficulty estimator {name!r} ({entry_point.value}) is not callable")
    try:
        instance = factory()
    except Exception as error:
        raise EstimatorLoadError(f"building difficulty estimator {name!r} failed: {error}") from error
    return _check(name, instance)
