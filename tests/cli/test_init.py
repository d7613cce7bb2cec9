"""`rolemodel init` writes a commented starter catalog that `rolemodel serve` accepts, and refuses in one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from rolemodel import RouterClient
from rolemodel_router.config.catalog_loader import load_catalog
from tests.cli.cli_process import rolemodel
from tests.router.harness import RouterProcess

EXIT_BAD_CONFIG = 2
VARIANTS = {
    "example": ((), 7, {"local-small", "claude-opus-4-5"}),
    "local-only": (("--local-only",), 2, {"local-small", "local-big"}),
    "with-subscription": (("--with-subscription",), 3, {"local-big", "deepseek-chat", "claude-plan"}),
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_init_writes_a_commented_catalog_that_serve_accepts(variant: str, tmp_path: Path) -> None:
    flags, endpoints, some_ids = VARIANTS[variant]
    path = tmp_path / "catalog.yaml"
    done = rolemodel("init", *flags, str(path))
    assert done.code == 0, done.stderr
    assert done.stdout.splitlines()[:2] == [
        f"wrote {path}: valid: {endpoints} endpoints, {len(load_catalog(path).catalog.roles)} roles",
        f"serve it:  rolemodel serve --catalog {path}",
    ]
    text = path.read_text()
    assert text.startswith("# ") and "rolemodel check-catalog FILE" in text
    assert rolemodel("check-catalog", str(path)).code == 0
    with RouterProcess(catalog=path) as router, RouterClient(router.address) as client:
        card = client.get_router_card()
    assert len(card.endpoints) == endpoints
    assert some_ids <= {profile.endpoint.id for profile in card.endpoints}


def test_the_subscription_starter_names_the_login_headers_and_no_key(tmp_path: Path) -> None:
    path = tmp_path / "catalog.yaml"
    assert rolemodel("init", "--with-subscription", str(path)).code == 0
    (plan,) = [e for e in load_catalog(path).catalog.endpoints if e.connection.client_credential_headers]
    assert list(plan.connection.client_credential_headers) == ["authorization"]
    assert plan.connection.api_key_env == ""


def test_init_to_stdout_prints_the_same_catalog(tmp_path: Path) -> None:
    path = tmp_path / "catalog.yaml"
    assert rolemodel("init", "--local-only", str(path)).code == 0
    printed = rolemodel("init", "--local-only", "-")
    assert printed.code == 0 and printed.stdout == path.read_text()


def test_init_keeps_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "catalog.yaml"
    path.write_text("# mine\n")
    done = rolemodel("init", str(path))
    assert done.code == EXIT_BAD_CONFIG
    assert done.one_line() == f"rolemodel init: {path} exists; pass --force to overwrite it"
    assert path.read_text() == "# mine\n"
    assert rolemodel("init", "--force", str(path)).code == 0
    assert path.read_text() != "# mine\n"


def test_init_into_a_missing_directory(tmp_path: Path) -> None:
    path = tmp_path / "nope" / "catalog.yaml"
    done = rolemodel("init", str(path))
    assert done.code == EXIT_BAD_CONFIG
    assert done.one_line() == f"rolemodel init: cannot write {path}: No such file or directory"


def test_init_takes_one_variant() -> None:
    done = rolemodel("init", "--local-only", "--with-subscription", "catalog.yaml")
    assert done.code == EXIT_BAD_CONFIG
    assert done.one_line() == (
        "rolemodel init: argument --with-subscription: not allowed with argument --local-only "
        "(see 'rolemodel init --help')"
    )


def test_check_catalog_counts_one_role_in_the_singular() -> None:
    pool = Path(__file__).resolve().parents[2] / "examples" / "local-pool.yaml"
    done = rolemodel("check-catalog", str(pool))
    assert done.code == 0, done.stderr
    digest = load_catalog(pool).digest[:16]
    assert done.stdout.strip() == f"{pool}: valid: 2 endpoints, 1 role, digest {digest}"
