"""aider (the pinned PyPI release, in its own virtualenv) through the front door, with docs/clients.md's set-up.

The configuration files are the guide's snippets, with the router's real address: the test edits a
file the way a user would, and the scripted model answers in aider's ``whole`` edit format.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from rolemodel_router.backends.scripted import Reply, ScriptedBackend
from rolemodel_router.demo.backends import running_backends
from tests.clients.harness import aider_binary, run_aider
from tests.http import test_clients_doc as guide
from tests.router.harness import RouterProcess

BEFORE = 'def greet():\n    return "hello"\n'
AFTER = 'def greet():\n    """Say hello."""\n    return "hello"\n'


@pytest.fixture(scope="module")
def aider() -> Path:
    return aider_binary()


@pytest.fixture
def bundled(tmp_path: Path) -> Iterator[tuple[RouterProcess, dict[str, tuple[ScriptedBackend, str]]]]:
    """The bundled catalog with every endpoint on a scripted backend, served with the front door."""
    with (
        running_backends(tmp_path) as backends,
        RouterProcess("memory:", catalog=backends.catalog_path, extra=["--http", "127.0.0.1:0"]) as router,
    ):
        yield router, backends.models


def test_an_edit_through_the_documented_set_up_on_the_bundled_catalog(
    aider: Path, bundled: tuple[RouterProcess, dict[str, tuple[ScriptedBackend, str]]], tmp_path: Path
) -> None:
    router, models = bundled
    workdir = tmp_path / "project"
    workdir.mkdir()
    (workdir / "hello.py").write_text(BEFORE)
    config = yaml.safe_load(guide.snippet("aider"))
    config["openai-api-base"] = guide.local(config["openai-api-base"], router)
    config_file = tmp_path / "aider.conf.yml"
    config_file.write_text(yaml.safe_dump(config))
    settings_file = tmp_path / "aider.model.settings.yml"
    settings_file.write_text(guide.snippet("aider-headers"))
    edit = f"hello.py\n```python\n{AFTER}```\n"
    for backend, model in models.values():
        backend.script(model, [Reply(text=edit)])
    session = run_aider(aider, config_file, settings_file, "Add a docstring to greet().", workdir, "hello.py")
    assert session.returncode == 0, session.stdout[-2000:] + session.stderr[-2000:]
    assert (workdir / "hello.py").read_text() == AFTER
    served = [(model, len(backend.requests_for(model))) for backend, model in models.values()]
    assert sum(count for _, count in served) >= 1, "the edit went through the router to a scripted model"
