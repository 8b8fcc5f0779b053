import subprocess

import pytest

from dativo_core.pip_install import InstallError, environment_name, ensure_installed

PYPROJECT = """
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "hello-plugin"
version = "1.0"

[project.scripts]
hello-plugin = "hello_plugin:main"
"""


@pytest.fixture
def local_package(tmp_path):
    package = tmp_path / "hello-plugin"
    (package / "hello_plugin").mkdir(parents=True)
    (package / "pyproject.toml").write_text(PYPROJECT)
    (package / "hello_plugin" / "__init__.py").write_text("def main():\n    print('hello from its own venv')\n")
    return package


def test_environment_name_is_one_folder_per_pin():
    assert environment_name("airbyte-source-faker==7.2.1") == "airbyte-source-faker-7.2.1"


@pytest.mark.slow
def test_installs_once_into_its_own_environment(tmp_path, local_package):
    root = tmp_path / "cache"
    program = ensure_installed(str(local_package), "hello-plugin", root)
    assert program.parent.parent.parent == root
    out = subprocess.run([str(program)], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "hello from its own venv"
    marker = program.parent.parent / ".dativo-installed"
    stamp = marker.stat().st_mtime_ns
    assert ensure_installed(str(local_package), "hello-plugin", root) == program
    assert marker.stat().st_mtime_ns == stamp, "the second use must not install again"


@pytest.mark.slow
def test_a_missing_executable_is_named(tmp_path, local_package):
    with pytest.raises(InstallError, match="gave no executable 'not-there'"):
        ensure_installed(str(local_package), "not-there", tmp_path / "cache")


@pytest.mark.slow
def test_a_failing_install_says_which_requirement(tmp_path):
    with pytest.raises(InstallError, match=r"for '/nonexistent/pkg' failed"):
        ensure_installed("/nonexistent/pkg", "x", tmp_path / "cache")
