"""Mappers between tap and target: the real `dativo-validate` contract mapper, and `cat`."""

from __future__ import annotations

import io
import sys
from pathlib import Path

from dativo_core.pipe.console import Console
from dativo_core.pipe.plugin import PluginCommand
from dativo_core.pipe.runner import Outcome, Pipe
from dativo_core.state.local import StateFile
from tests.dativo_core.pipe.pipe_programs import (
    COUNTING_TAP,
    committing_target,
    write_json,
    write_program,
)

CONTRACT = """
apiVersion: v3.1.0
kind: DataContract
id: users-contract
version: 1.0.0
status: active
schema:
  - name: users
    properties:
      - {name: id, logicalType: integer, required: true, logicalTypeOptions: {maximum: 5}}
"""


def _validate(tmp_path: Path) -> PluginCommand:
    (tmp_path / "users.odcs.yaml").write_text(CONTRACT)
    config = write_json(tmp_path / "validate.json", {"contract": str(tmp_path / "users.odcs.yaml"), "policy": "fail"})
    return PluginCommand("mapper", str(Path(sys.executable).parent / "dativo-validate"), config)


def _run(tmp_path: Path, count: int, mappers: list[PluginCommand]):
    tap = PluginCommand("tap", str(write_program(tmp_path, "tap-counting", COUNTING_TAP)),
                        write_json(tmp_path / "tap.json", {"streams": {"users": count}, "state_every": 2,
                                                           "log": str(tmp_path / "tap-log.json")}))
    state = StateFile(tmp_path / "state.json")
    stderr = io.StringIO()
    result = Pipe(tap, committing_target(tmp_path), state, console=Console(stderr), mappers=mappers).run()
    table = [int(line) for line in (tmp_path / "table.txt").read_text().split()]
    return result, state.read(), table, stderr.getvalue()


def test_records_pass_through_a_chain_of_mappers(tmp_path):
    result, state, table, stderr = _run(tmp_path, 5, [_validate(tmp_path), PluginCommand("mapper", "cat")])
    assert result.outcome is Outcome.OK, result.message
    assert result.records == {"users": 5} and table == [1, 2, 3, 4, 5]
    assert state == {"bookmarks": {"users": {"id": 5}}}
    assert "[dativo-validate]" in stderr and "5 records checked, 0 broke the contract" in stderr


def test_a_failing_mapper_ends_the_run_and_the_target_keeps_what_was_covered(tmp_path):
    result, state, table, _ = _run(tmp_path, 10, [_validate(tmp_path)])
    assert (result.outcome, result.exit_code) == (Outcome.MAPPER_FAILED, 5)
    assert result.message.startswith("the mapper 'dativo-validate' failed with exit code 1")
    assert "field 'id': contract rule 'maximum' broken" in result.message
    assert "The tap failed" not in result.message
    assert table == [1, 2, 3, 4] and state == {"bookmarks": {"users": {"id": 4}}}


def test_dativo_pipe_pairs_mapper_configs_by_position(tmp_path):
    from click.testing import CliRunner

    from dativo_core.cli.pipe import pipe

    tap = write_program(tmp_path, "tap-counting", COUNTING_TAP)
    tap_config = write_json(tmp_path / "tap.json", {"streams": {"users": 7}, "log": str(tmp_path / "log.json")})
    target = committing_target(tmp_path)
    validate = _validate(tmp_path)
    args = ["--tap", str(tap), "--tap-config", str(tap_config), "--target", target.executable,
            "--target-config", str(target.config), "--mapper", validate.executable,
            "--mapper-config", str(validate.config), "--mapper", "cat",
            "--state-file", str(tmp_path / "state.json"), "--progress-interval", "0"]
    result = CliRunner().invoke(pipe, args)
    assert result.exit_code == 5, result.output
    assert "the mapper 'dativo-validate' failed" in result.output and "rule 'maximum' broken" in result.output
    more = ["--mapper-config", str(validate.config)] * 2
    extra = CliRunner().invoke(pipe, [*args, *more])
    assert extra.exit_code == 2 and "each --mapper-config belongs to the --mapper" in extra.output
