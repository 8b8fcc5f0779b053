"""`dativo state get|set|clear|list` over a real state directory and a single state file."""

from __future__ import annotations

import json

from click.testing import CliRunner

from dativo_core.cli.main import cli
from dativo_core.state.backend import StateKey
from dativo_core.state.local import StateFile
from dativo_core.state.sql import SqlStateBackend


def invoke(*args: str, input: str | None = None):
    return CliRunner().invoke(cli, ["state", *args], input=input)


def test_set_get_list_and_clear_in_a_state_directory(tmp_path):
    where = ["--state-dir", str(tmp_path)]
    value = {"bookmarks": {"users": {"updated_at": "2024-01-01"}}}

    assert (
        invoke("set", *where, "--pipeline-id", "acme/users", "-", input=json.dumps(value)).exit_code
        == 0
    )
    assert invoke("set", *where, "--pipeline-id", "orders", "-", input="{}").exit_code == 0

    got = invoke("get", *where, "--pipeline-id", "acme/users")
    assert json.loads(got.stdout) == value
    assert json.loads((tmp_path / "acme" / "users.json").read_text()) == value
    assert invoke("list", *where).stdout.splitlines() == ["acme/users", "default/orders"]

    assert invoke("clear", *where, "--pipeline-id", "acme/users").exit_code == 0
    assert json.loads(invoke("get", *where, "--pipeline-id", "acme/users").stdout) == {}
    assert invoke("list", *where).stdout.splitlines() == ["default/orders"]


def test_the_state_directory_can_come_from_the_environment(tmp_path):
    result = CliRunner(env={"DATIVO_STATE_DIR": str(tmp_path)}).invoke(
        cli,
        ["state", "set", "--pipeline-id", "p", "-"],
        input='{"type": "STATE", "value": {"a": 1}}',
    )

    assert result.exit_code == 0
    assert json.loads((tmp_path / "default" / "p.json").read_text()) == {"a": 1}


def test_a_single_state_file_from_a_file(tmp_path):
    source = tmp_path / "new.json"
    source.write_text('{"bookmarks": {}}')
    state = tmp_path / "s.json"

    assert invoke("set", "--state-file", str(state), str(source)).exit_code == 0
    assert StateFile(state).read() == {"bookmarks": {}}


def test_bad_input_and_missing_options_are_explained(tmp_path):
    not_object = invoke("set", "--state-file", str(tmp_path / "s.json"), "-", input="[1]")
    assert not_object.exit_code == 1
    assert "stdin must hold a JSON object" in not_object.stderr

    broken = tmp_path / "broken.json"
    broken.write_text("{nope")
    unreadable = invoke("get", "--state-file", str(broken))
    assert unreadable.exit_code == 1
    assert f"state file {broken} is not valid JSON" in unreadable.stderr

    no_key = invoke("get", "--state-dir", str(tmp_path))
    assert no_key.exit_code == 2
    assert "--state-dir needs --pipeline-id" in no_key.stderr

    bad_key = invoke("get", "--state-dir", str(tmp_path), "--pipeline-id", "../etc")
    assert bad_key.exit_code == 2
    assert "may only hold letters" in bad_key.stderr


def test_set_refuses_while_a_run_holds_the_lock(tmp_path):
    state = StateFile(tmp_path / "s.json")
    state.write({"keep": True})

    with state.lock():
        result = invoke("set", "--state-file", str(state.path), "-", input="{}")

    assert result.exit_code == 1
    assert "is locked by another run" in result.stderr
    assert state.read() == {"keep": True}


def test_any_backend_through_a_state_settings_file(tmp_path):
    settings = tmp_path / "state.yaml"
    url = f"sqlite:///{tmp_path / 'state.db'}"
    settings.write_text(f"backend: sql\nurl: {url}\n")
    where = ["--state-backend", str(settings), "--pipeline-id", "acme/orders"]

    assert invoke("set", *where, "-", input='{"bookmarks": {"orders": 5}}').exit_code == 0

    backend = SqlStateBackend(url)
    assert backend.get(StateKey("acme", "orders")) == {"bookmarks": {"orders": 5}}
    assert json.loads(invoke("get", *where).stdout) == {"bookmarks": {"orders": 5}}
    listed = invoke("list", "--state-backend", str(settings))
    assert listed.stdout.splitlines() == ["acme/orders"]

    settings.write_text("backend: sql\nurl_env: NOT_SET_ANYWHERE\n")
    unset = invoke("get", *where)
    assert unset.exit_code == 2
    assert "environment variable NOT_SET_ANYWHERE is not set" in unset.stderr
