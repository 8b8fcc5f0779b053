"""The reader libraries fixture, shared with tests/rust_ext/."""

from tests.rust_ext.conftest import reader_libraries

__all__ = ["reader_libraries"]
