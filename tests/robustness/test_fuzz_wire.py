"""A smaller run of bench/fuzz_wire.py: adversarial bytes never crash the router or escape without ErrorInfo."""

from __future__ import annotations

from bench.fuzz_wire import RSS_BOUND_MB, run


def test_adversarial_requests_get_precise_errors_and_change_nothing() -> None:
    result = run(600, seed=7, show_progress=False)
    assert result["sent"] == 600
    assert result["server_crashes"] == 0
    assert result["malformed_statuses"] == []
    assert result["state_changed_by_rejects"] == 0
    assert result["integrity_check"] == "ok"
    assert result["rss_growth_mb"] < RSS_BOUND_MB
    assert result["by_status"].get("INVALID_ARGUMENT REQUEST_INVALID", 0) > 300
