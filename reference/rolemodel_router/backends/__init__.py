"""Backends the router calls over HTTP.

:mod:`.scripted` is a deterministic stand-in for a model provider: a real HTTP server that speaks
the OpenAI and Anthropic dialects, answers from a script, simulates each provider's prompt cache
and misbehaves on demand. It is the only fake in the test suite, because no real model runs there.
"""
