"""Everything derived from the proto and the registries is committed and current."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def buf() -> str:
    """The buf of this environment (pip's buf-bin installs it next to the interpreter)."""
    local = Path(sys.executable).parent / "buf"
    found = str(local) if local.exists() else shutil.which("buf")
    assert found, "buf not found: pip install -e '.[dev]'"
    return found


def test_regenerating_changes_nothing(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "tools"))
    from generate import generate, generated_paths

    generate(tmp_path)
    stale = [p for p in generated_paths() if (tmp_path / p).read_bytes() != (ROOT / p).read_bytes()]
    assert stale == [], f"stale generated files, run: python tools/generate.py\n{stale}"


def test_no_generated_file_is_left_over() -> None:
    sys.path.insert(0, str(ROOT / "tools"))
    from generate import generated_paths

    owned = set(generated_paths())
    on_disk = {p.relative_to(ROOT).as_posix() for p in (ROOT / "rolemodel" / "v1").iterdir() if p.is_file()}
    assert on_disk <= owned


def test_buf_lint_is_clean() -> None:
    result = subprocess.run([buf(), "lint"], cwd=ROOT / "proto", capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_breaking_change_against_the_released_descriptor_set() -> None:
    released = ROOT / "proto" / "released" / "rolemodel-v1.binpb"
    result = subprocess.run(
        [buf(), "breaking", "--against", str(released)],
        cwd=ROOT / "proto",
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
