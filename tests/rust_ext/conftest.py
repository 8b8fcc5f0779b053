"""The reader libraries, built from rust_ext/ by the test session (or skipped without cargo)."""

from pathlib import Path

import pytest

from dativo_core.native.build import BuildError, ReadersNotBuilt, ready_reader_libraries


@pytest.fixture(scope="session")
def reader_libraries() -> dict[str, Path]:
    try:
        return ready_reader_libraries()
    except BuildError as exc:
        pytest.fail(str(exc), pytrace=False)
    except ReadersNotBuilt as exc:
        pytest.skip(str(exc))
