"""Generated from proto/rolemodel/v1 by tools/generate.py. Do not edit."""
