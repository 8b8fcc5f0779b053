"""The build helper the set-up script calls: builds with cargo, or explains how without it."""

from pathlib import Path

import pytest

from dativo_core.native import build
from dativo_core.native.library import BUILD_COMMAND


def test_without_cargo_setup_goes_on_and_says_how_to_build(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    assert build.main([]) == 0
    assert BUILD_COMMAND in capsys.readouterr().err
    with pytest.raises(build.BuildError, match="cargo is not installed"):
        build.build_readers()
    built = all(build.built_library_path(crate).is_file() for crate in build.READER_CRATES)
    if built:
        assert set(build.ready_reader_libraries()) == set(build.READER_CRATES)
    else:
        with pytest.raises(build.ReadersNotBuilt, match="cargo build --release"):
            build.ready_reader_libraries()


def test_build_produces_every_reader_library(reader_libraries: dict[str, Path]) -> None:
    if build.cargo_path() is None:
        pytest.skip("cargo is not installed")
    paths = build.build_readers()
    assert paths == list(reader_libraries.values())
    assert all(path.stat().st_size > 0 for path in paths)


@pytest.mark.parametrize("module", build.FFI_MODULES, ids=lambda module: module.path.name)
def test_ffi_module_holds_the_current_header(tmp_path: Path, module: build.FfiModule) -> None:
    fresh = tmp_path / module.path.name
    build.write_ffi_module(module, fresh)

    def declarations(path: Path) -> list[str]:
        # The format version line depends on the installed cffi, not on the header.
        return [line for line in path.read_text().splitlines() if "_version" not in line]

    assert declarations(fresh) == declarations(module.path), (
        f"{module.header} changed: run `{build.FFI_MODULE_COMMAND}`"
    )
