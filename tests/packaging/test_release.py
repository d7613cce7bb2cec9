"""The release artifacts: `python -m build` makes an sdist and a wheel that carry the licence and pass `twine check`."""

from __future__ import annotations

import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

import rolemodel
import rolemodel_conformance
import rolemodel_router
from rolemodel.versions import CURRENT_VERSION

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (sdist,) = out.glob("*.tar.gz")
    (wheel,) = out.glob("*.whl")
    return sdist, wheel


@pytest.mark.slow
def test_the_wheel_carries_the_licence_and_declares_it(artifacts: tuple[Path, Path]) -> None:
    _, wheel = artifacts
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        (licence,) = [n for n in names if n.endswith(".dist-info/licenses/LICENSE")]
        assert archive.read(licence) == (ROOT / "LICENSE").read_bytes()
        (metadata,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        text = archive.read(metadata).decode()
    assert "License-Expression: Apache-2.0" in text
    assert "Apache License" in (ROOT / "LICENSE").read_text()
    # What `rolemodel init` and `rolemodel serve` read at run time ships too.
    assert "rolemodel_router/data/example_catalog.yaml" in names
    assert {
        "rolemodel_router/data/starters/local-only.yaml",
        "rolemodel_router/data/starters/with-subscription.yaml",
    } <= set(names)
    # The dashboard's built page: pip users need no Node.js.
    built = ROOT / "reference" / "rolemodel_router" / "dashboard" / "static"
    files = [p.relative_to(built.parent).as_posix() for p in built.rglob("*") if p.is_file()]
    page = {f"rolemodel_router/dashboard/{name}" for name in files}
    assert "rolemodel_router/dashboard/static/index.html" in page
    assert any(name.endswith(".js") for name in page)
    assert page <= set(names)


@pytest.mark.slow
def test_the_sdist_carries_the_licence_and_both_pass_twine_check(artifacts: tuple[Path, Path]) -> None:
    sdist, wheel = artifacts
    with tarfile.open(sdist) as archive:
        assert any(name.endswith("/LICENSE") for name in archive.getnames())
    checked = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", str(sdist), str(wheel)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_one_version_tied_to_the_protocol_version() -> None:
    """MAJOR.MINOR of the distribution is the newest protocol version it serves (docs/releasing.md)."""
    assert rolemodel_router.__version__ == rolemodel_conformance.__version__ == rolemodel.__version__
    major, minor = rolemodel.__version__.split(".")[:2]
    assert f"{major}.{minor}" == CURRENT_VERSION
