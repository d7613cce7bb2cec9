"""A real, installed distribution made on the fly: a package and its ``.dist-info`` on ``sys.path``.

This is how a wheel lands in site-packages, so ``importlib.metadata`` finds its entry points the
same way it finds those of any installed plugin; nothing is mocked.
"""

from __future__ import annotations

from pathlib import Path

import pytest


def install_plugin(
    root: Path,
    monkeypatch: pytest.MonkeyPatch,
    distribution: str,
    module: str,
    source: str,
    entry_points: dict[str, str],
) -> None:
    """Write ``module`` (with ``source``) and a dist-info declaring ``entry_points``, then put ``root`` on sys.path."""
    (root / f"{module}.py").write_text(source, encoding="utf-8")
    info = root / f"{distribution.replace('-', '_')}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {distribution}\nVersion: 0.1\n", encoding="utf-8")
    lines = "".join(f"{name} = {target}\n" for name, target in entry_points.items())
    (info / "entry_points.txt").write_text(f"[rolemodel.difficulty_estimators]\n{lines}", encoding="utf-8")
    monkeypatch.syspath_prepend(str(root))
