"""The reference router of the role-model protocol (rolemodel.v1)."""

__version__ = "0.1.0"
