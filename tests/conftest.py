"""Fixture wiring only: the real servers in tests/servers/ and the shared fixtures in
tests/fixtures/ are available to every test."""

_PACKAGE = f"{__package__}." if __package__ else ""

pytest_plugins = [
    f"{_PACKAGE}servers.postgres",
    f"{_PACKAGE}servers.openbao",
    f"{_PACKAGE}servers.moto",
    f"{_PACKAGE}servers.seaweedfs",
    f"{_PACKAGE}fixtures.reader_libraries",
]
