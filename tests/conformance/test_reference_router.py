"""CI's conformance gate: the reference router passes every MUST and SHOULD, with each of its stores and over TLS.

The runs use the command, as a user would. ``reference_expected_failures.txt``
lists known discrepancies of the reference router (with the reason and the
issue); an entry that starts passing fails the run as stale, so the list
cannot outlive the bugs it excuses.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from rolemodel_conformance.expected_failures import parse
from tests.conformance.routers import running_router
from tests.conformance.suite import load_report, run_suite, statuses
from tests.security.certs import make_pki

EXPECTED = Path(__file__).with_name("reference_expected_failures.txt")


def _assert_clean(directory: Path) -> None:
    document = load_report(directory)
    bad = {r["id"]: r["summary"] for r in document["requirements"] if r["status"] not in ("PASS", "SKIP")}
    unexpected = {rid: why for rid, why in bad.items() if rid not in parse(EXPECTED.read_text())}
    assert unexpected == {}
    assert document["outcome"] == "PASS"
    assert document["summary"]["WARN"] == 0


@pytest.mark.slow
def test_the_reference_router_passes_every_must_and_should_twice_at_once_and_again(tmp_path: Path) -> None:
    """The memory and SQLite stores, each run by a suite of its own at the same time on one machine (each
    router's catalog puts the scripted backends on ports of its own), then the memory router once more: a
    second run against the same router passes as well. Both serve the HTTP front door, so chapter 14 is
    scored through the official clients."""
    door = ("--http", "127.0.0.1:0")
    with (
        running_router("memory:", extra=door) as memory,
        running_router(f"sqlite:///{tmp_path / 'router.db'}", extra=door) as sqlite,
    ):
        runs = {"memory": memory, "sqlite": sqlite}
        with ThreadPoolExecutor(max_workers=2) as pool:
            done = dict(
                zip(
                    runs,
                    pool.map(
                        lambda item: run_suite(
                            *item[1].target_args,
                            "--expected-failures",
                            str(EXPECTED),
                            "--report-dir",
                            str(tmp_path / item[0]),
                        ),
                        runs.items(),
                    ),
                    strict=True,
                )
            )
        again = run_suite(
            *memory.target_args, "--expected-failures", str(EXPECTED), "--report-dir", str(tmp_path / "again")
        )
    for name, finished in [*done.items(), ("again", again)]:
        assert finished.returncode == 0, name + finished.stdout[-4000:] + finished.stderr[-2000:]
        _assert_clean(tmp_path / name)
        assert statuses(load_report(tmp_path / name))["RM-HTTP-060"] == "PASS"
        assert load_report(tmp_path / name)["duration_s"] < 180


@pytest.mark.slow
def test_over_tls_with_bearer_tokens_and_a_scoped_token(tmp_path: Path) -> None:
    pki = make_pki(tmp_path)
    tokens = tmp_path / "tokens.yaml"
    tokens.write_text(
        "tokens:\n"
        "  - {name: suite, token: conformance-suite-token-0001}\n"
        "  - {name: chat-only, token: conformance-chat-token-0002, roles: [chat]}\n"
    )
    (tmp_path / "token").write_text("conformance-suite-token-0001")
    (tmp_path / "scoped").write_text("conformance-chat-token-0002")
    serve: tuple[str, ...] = ("--tls-cert", str(pki.server_cert), "--tls-key", str(pki.server_key))
    # --http: tokens on the front door (RM-HTTP-070 to -073), a login beside the router's token among them
    serve += ("--tokens-file", str(tokens), "--http", "127.0.0.1:0")
    with running_router(extra=serve) as router:
        done = run_suite(
            *router.target_args,
            "--tls",
            "--ca-file",
            str(pki.ca),
            "--token-file",
            str(tmp_path / "token"),
            "--scoped-token-file",
            str(tmp_path / "scoped"),
            "--requirement",
            "RM-AUTH-*",
            "--requirement",
            "RM-CARD-*",
            "--requirement",
            "RM-VER-*",
            "--requirement",
            "RM-CORE-*",
            "--requirement",
            "RM-QUOTA-001",
            "--requirement",
            "RM-HTTP-07*",
            "--report-dir",
            str(tmp_path / "reports"),
        )
        without_token = run_suite(*router.target_args, "--tls", "--ca-file", str(pki.ca), "--wait", "5")
    assert done.returncode == 0, done.stdout[-4000:]
    statuses = {r["id"]: r["status"] for r in load_report(tmp_path / "reports")["requirements"]}
    assert {statuses[f"RM-AUTH-00{i}"] for i in (1, 2, 3)} == {"PASS"}
    assert {statuses[f"RM-HTTP-07{i}"] for i in (0, 1, 2, 3)} == {"PASS"}
    assert without_token.returncode == 2
    assert "--token-file" in without_token.stdout + without_token.stderr
