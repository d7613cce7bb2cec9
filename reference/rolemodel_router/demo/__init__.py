"""``rolemodel demo``: the reference router on the bundled example catalog, end to end, on this machine.

No real model can be assumed here, so two scripted backends stand in for the models: one for the
local server (llama.cpp, vLLM) and one for the cloud providers, each speaking its real wire dialect
with a simulated prompt cache. Everything else is the real router: the same catalog, engine, state,
handoff and Execute path a deployment uses.
"""
