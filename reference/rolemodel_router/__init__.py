"""The reference router of the role-model protocol (rolemodel.v1)."""

from rolemodel import __version__

__all__ = ["__version__"]
