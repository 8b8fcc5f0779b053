"""A full resolution run leaves no secret value in any output, log, audit line, argv or file."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

from secret_files import write_secret

SECRET = "Xq9-acme-db-password-5521"
RUNNER = Path(__file__).with_name("run_with_secrets.py")


def test_no_secret_value_escapes_a_run(tmp_path: Path) -> None:
    secrets_dir, work_dir = tmp_path / "secrets", tmp_path / "work"
    write_secret(secrets_dir, "acme", "db_password", SECRET)

    run = subprocess.run([sys.executable, str(RUNNER), str(secrets_dir), str(work_dir)],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr

    plugin_output = [json.loads(line) for line in (work_dir / "out.jsonl").read_text().splitlines()]
    # The plugin did get the real value, through its private config file named in argv.
    assert plugin_output[0]["password_sha256"] == hashlib.sha256(SECRET.encode()).hexdigest()
    assert plugin_output[0]["argv"][1].startswith(str(work_dir / "tmp"))
    assert list((work_dir / "tmp").iterdir()) == []  # the private config is gone

    # Its leaks were relayed, masked, into both log destinations.
    assert "connecting to db.internal with password ***" in run.stderr
    assert "authentication failed for postgresql://app:***@db.internal/app" in run.stderr
    assert "'password': '***'" in (work_dir / "run.log").read_text()

    produced = {"stdout": run.stdout, "stderr": run.stderr}
    produced |= {str(p): p.read_text(errors="replace") for p in work_dir.rglob("*") if p.is_file()}
    assert set(produced) >= {"stdout", "stderr", str(work_dir / "run.log"), str(work_dir / "audit.jsonl"),
                             str(work_dir / "out.jsonl")}
    leaks = [where for where, text in produced.items() if SECRET in text]
    assert leaks == []
    audit = json.loads((work_dir / "audit.jsonl").read_text())
    assert audit["secrets"] == [{"key": "password", "name": "db_password", "backend": "directory"},
                                {"key": "dsn", "name": "db_password", "backend": "directory"}]
