"""Difficulty estimators: the learned built-in (``lexical``) and the registry that finds any by name.

The interface is :class:`rolemodel_router.engine.difficulty.DifficultyEstimator`; the heuristic
placeholder stays there too. See ``docs/difficulty.md`` for what the estimators can and cannot do.
"""

from rolemodel_router.estimators.lexical import LexicalEstimator
from rolemodel_router.estimators.registry import (
    DEFAULT_ESTIMATOR,
    ENTRY_POINT_GROUP,
    EstimatorError,
    EstimatorLoadError,
    UnknownEstimatorError,
    available_estimators,
    load_estimator,
)

__all__ = [
    "DEFAULT_ESTIMATOR",
    "ENTRY_POINT_GROUP",
    "EstimatorError",
    "EstimatorLoadError",
    "LexicalEstimator",
    "UnknownEstimatorError",
    "available_estimators",
    "load_estimator",
]
