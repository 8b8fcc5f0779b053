"""The reader libraries, built from rust_ext/ by the test session (or skipped without cargo)."""

from pathlib import Path

import pytest

from dativo_core.native.build import READER_CRATES, BuildError, build_readers, cargo_path
from dativo_core.native.library import BUILD_COMMAND, built_library_path


@pytest.fixture(scope="session")
def reader_libraries() -> dict[str, Path]:
    if cargo_path() is not None:
        try:
            build_readers()
        except BuildError as exc:
            pytest.fail(str(exc))
    paths = {crate: built_library_path(crate) for crate in READER_CRATES}
    missing = [str(p) for p in paths.values() if not p.is_file()]
    if missing:
        pytest.skip(f"cargo is not installed and {missing} are not built; run `{BUILD_COMMAND}`")
    return paths
