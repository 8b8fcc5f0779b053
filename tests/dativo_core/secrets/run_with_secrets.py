"""A run as `dativo run` does it, for the end-to-end redaction test: resolve, hand over, relay, log.

Usage: python run_with_secrets.py SECRETS_DIR WORK_DIR. Logs go to stderr and WORK_DIR/run.log, the
audit log to WORK_DIR/audit.jsonl, the plugin's stdout to WORK_DIR/out.jsonl, the private config
to WORK_DIR/tmp. The plugin (a child Python process) leaks the secret on its stderr and crashes.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

from dativo_core.secrets import AuditLog, resolve_config, write_private_config
from dativo_core.secrets.directory import DirectorySecretBackend
from dativo_core.secrets.redaction import redaction_filter

PLUGIN = r"""
import hashlib, json, sys
config = json.load(open(sys.argv[1]))
print(json.dumps({"argv": sys.argv, "password_sha256": hashlib.sha256(config["password"].encode()).hexdigest()}))
print(json.dumps({"type": "STATE", "value": {"bookmarks": {"orders": {"id": 42}}}}))
sys.stderr.write(f"connecting to {config['host']} with password {config['password']}\n")
raise RuntimeError(f"authentication failed for {config['dsn']}")
"""


def main() -> int:
    secrets_dir, work_dir = Path(sys.argv[1]), Path(sys.argv[2])
    (work_dir / "tmp").mkdir(parents=True)
    logging.basicConfig(level=logging.INFO, handlers=[logging.StreamHandler(), logging.FileHandler(work_dir / "run.log")])
    redaction_filter()
    log = logging.getLogger("dativo.run")
    config = {"host": "db.internal", "password": "${secret:db_password}",
              "dsn": "postgresql://app:${secret:db_password}@db.internal/app"}
    resolved = resolve_config(config, "acme", ["password", "dsn"], DirectorySecretBackend(secrets_dir),
                              audit=AuditLog(work_dir / "audit.jsonl"), job="acme/orders", plugin="tap-fake")
    with write_private_config(resolved, directory=work_dir / "tmp") as config_path:
        plugin = subprocess.run([sys.executable, "-c", PLUGIN, str(config_path)], capture_output=True, text=True)
    (work_dir / "out.jsonl").write_text(plugin.stdout)
    for line in plugin.stderr.splitlines():
        logging.getLogger("tap-fake").info(line)
    log.error("tap-fake exited with %d; its config was %s", plugin.returncode, resolved)
    print(f"run finished, plugin exit code {plugin.returncode}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
