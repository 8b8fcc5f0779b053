"""Building the Rust readers in rust_ext/ with cargo, for the set-up script and the tests.

`python -m dativo_core.native.build` builds them when cargo is installed and otherwise says how
to, exiting 0 so a set-up without Rust goes on (everything but the Rust readers works then).
`python -m dativo_core.native.build --ffi-module` regenerates the cffi modules of the headers
(the readers' and target-iceberg's decoder's; committed: they need neither cargo nor a C
compiler), after a change to a header.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from dativo_core.native.library import (
    BUILD_COMMAND,
    HEADER_PATH,
    RUST_EXT_DIR,
    _cdef_text,
    built_library_path,
)

READER_CRATES = ("dativo_csv_reader", "sequence_reader")
FFI_MODULE_COMMAND = "python -m dativo_core.native.build --ffi-module"


@dataclass(frozen=True)
class FfiModule:
    """A header's declarations as cffi's out-of-line ABI module, importable as `name`."""

    header: Path
    name: str
    path: Path


FFI_MODULES = (
    FfiModule(HEADER_PATH, "dativo_core.native._reader_ffi", Path(__file__).with_name("_reader_ffi.py")),
    FfiModule(
        RUST_EXT_DIR / "include" / "dativo_singer_decoder.h",
        "dativo_target_iceberg._decoder_ffi",
        RUST_EXT_DIR.parent / "targets" / "dativo_target_iceberg" / "_decoder_ffi.py",
    ),
)


class BuildError(RuntimeError):
    """cargo failed; the message holds the tail of its output."""


class ReadersNotBuilt(RuntimeError):
    """No cargo to build the readers with, and no libraries built before."""


def write_ffi_module(module: FfiModule, path: Path | None = None) -> None:
    """Write cffi's out-of-line ABI module for a header: it holds the declarations already
    parsed, so loading a library takes a few milliseconds instead of the ~70 ms pycparser needs
    to parse the header at every start. Needs no C compiler; rerun it when the header changes
    (a test says so)."""
    from cffi import FFI

    builder = FFI()
    builder.cdef(_cdef_text(module.header))
    builder.set_source(module.name, None)
    builder.emit_python_code(str(path or module.path))


def cargo_path() -> str | None:
    return shutil.which("cargo")


def build_readers() -> list[Path]:
    """Build every reader crate (release profile) and return their library paths.

    Cargo rebuilds only what changed, so calling this when the libraries are fresh is cheap.
    """
    cargo = cargo_path()
    if cargo is None:
        raise BuildError(f"cargo is not installed; install Rust (rustup) and run `{BUILD_COMMAND}`")
    command = [cargo, "build", "--release", "--manifest-path", str(RUST_EXT_DIR / "Cargo.toml")]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = "\n".join(done.stderr.splitlines()[-30:])
        raise BuildError(f"`{' '.join(command)}` failed (exit {done.returncode}):\n{tail}")
    return [built_library_path(crate) for crate in READER_CRATES]


def ready_reader_libraries() -> dict[str, Path]:
    """Every reader library by crate name, built (or brought up to date) first when cargo exists."""
    if cargo_path() is not None:
        build_readers()
    paths = {crate: built_library_path(crate) for crate in READER_CRATES}
    missing = [str(path) for path in paths.values() if not path.is_file()]
    if missing:
        raise ReadersNotBuilt(f"cargo is not installed and {missing} are not built; run `{BUILD_COMMAND}`")
    return paths


def main(argv: list[str] | None = None) -> int:
    if (sys.argv[1:] if argv is None else argv) == ["--ffi-module"]:
        for module in FFI_MODULES:
            write_ffi_module(module)
        return 0
    if cargo_path() is None:
        print(
            "cargo not found: skipping the Rust readers (everything else works). "
            f"To build them later, install Rust and run `{BUILD_COMMAND}`.",
            file=sys.stderr,
        )
        return 0
    try:
        paths = build_readers()
    except BuildError as exc:
        print(exc, file=sys.stderr)
        return 1
    for path in paths:
        print(f"built {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
