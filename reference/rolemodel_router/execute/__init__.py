"""Execute (spec chapter 10): the router calls the model itself, with fallbacks, and records the outcome."""

from rolemodel_router.execute.executor import Executor
from rolemodel_router.execute.settings import ExecuteSettings

__all__ = ["ExecuteSettings", "Executor"]
