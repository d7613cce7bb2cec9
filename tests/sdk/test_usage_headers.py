"""Usage-window headers as Codex and Claude subscriptions send them, read into one shape (spec 9.8)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from rolemodel.usage_headers import UsageReport, WindowLength, parse_usage_headers, usage_headers

NOW_MS = 1_790_000_000_000


def test_codex_reports_whole_or_fractional_percents_with_an_absolute_reset() -> None:
    headers = {
        "x-codex-primary-used-percent": "12.5",
        "x-codex-primary-window-minutes": "300",
        "x-codex-primary-reset-at": "1790003600",
        "x-codex-secondary-used-percent": "40",
        "x-codex-secondary-window-minutes": "10080",
        "x-codex-secondary-reset-at": "1790300000",
    }
    assert parse_usage_headers(headers, NOW_MS) == [
        UsageReport(WindowLength.SHORT, 0.125, 1_790_003_600_000, 18000),
        UsageReport(WindowLength.LONG, 0.40, 1_790_300_000_000, 604800),
    ]


def test_older_codex_backends_give_the_reset_in_seconds_from_now() -> None:
    headers = {"x-codex-primary-used-percent": "42", "x-codex-primary-reset-after-seconds": "600"}
    (report,) = parse_usage_headers(headers, NOW_MS)
    assert report == UsageReport(WindowLength.SHORT, 0.42, NOW_MS + 600_000, 18000)


def test_a_weekly_only_plan_reports_its_long_window_as_primary() -> None:
    headers = {
        "x-codex-primary-used-percent": "37",
        "x-codex-primary-window-minutes": "10080",
        "x-codex-primary-reset-at": "1790300000",
    }
    (report,) = parse_usage_headers(headers, NOW_MS)
    assert report.window == WindowLength.LONG


def test_anthropic_reports_fractions_and_unix_seconds() -> None:
    headers = {
        "anthropic-ratelimit-unified-5h-utilization": "0.25",
        "anthropic-ratelimit-unified-5h-reset": "1790003600",
        "anthropic-ratelimit-unified-7d-utilization": "1.02",
        "anthropic-ratelimit-unified-7d-reset": "1790300000",
    }
    assert parse_usage_headers(headers, NOW_MS) == [
        UsageReport(WindowLength.SHORT, 0.25, 1_790_003_600_000, 18000),
        UsageReport(WindowLength.LONG, 1.0, 1_790_300_000_000, 604800),
    ]


def test_unparseable_or_incomplete_headers_report_nothing() -> None:
    assert parse_usage_headers({"x-codex-primary-used-percent": "garbage"}, NOW_MS) == []
    assert parse_usage_headers({"x-codex-primary-used-percent": "5"}, NOW_MS) == []  # no reset time
    assert parse_usage_headers({"anthropic-ratelimit-unified-5h-utilization": "nan"}, NOW_MS) == []
    assert parse_usage_headers({"content-type": "text/event-stream"}, NOW_MS) == []


@given(
    st.sampled_from(["codex", "anthropic"]),
    st.floats(0, 1),
    st.integers(1_700_000_000, 1_900_000_000),
    st.floats(0, 1),
)
def test_what_the_scripted_subscription_sends_reads_back(family: str, short: float, reset_s: int, long: float) -> None:
    reports = [
        UsageReport(WindowLength.SHORT, short, reset_s * 1000, 18000),
        UsageReport(WindowLength.LONG, long, (reset_s + 86400) * 1000, 604800),
    ]
    parsed = parse_usage_headers(usage_headers(reports, family), NOW_MS)
    resolution = 0.005  # Codex sends whole percents, Anthropic two decimals of a fraction
    assert [p.window for p in parsed] == [WindowLength.SHORT, WindowLength.LONG]
    assert [p.resets_at_ms for p in parsed] == [r.resets_at_ms for r in reports]
    assert all(abs(p.used - r.used) <= resolution + 1e-9 for p, r in zip(parsed, reports, strict=True))
