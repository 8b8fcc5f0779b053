"""Fixtures of the interoperability tests: a fresh copy of this checkout as a Meltano project."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from interop_tools import MELTANO, MeltanoProject, copy_checkout, tool


@pytest.fixture(scope="session")
def meltano_project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MeltanoProject]:
    """This checkout as a fresh clone, after `meltano install` (every plugin in its own venv)."""
    root = copy_checkout(tmp_path_factory.mktemp("meltano-project"))
    project = MeltanoProject(root=root, meltano=tool(MELTANO, "meltano"))
    project.run("install")
    yield project
    print("\nmeltano timings (s): " + ", ".join(f"{k}: {v:.1f}" for k, v in project.timings.items()))
