"""Records a contract set aside, loaded by the job's own target into `<stream>__quarantine`.

`dativo validate` writes bad records to a JSON lines file during the run; afterwards they are
sent to the same target as Singer messages of one stream per source stream, so with
target-iceberg they land in the Iceberg table `<table>__quarantine` beside the good rows. The
record is kept as JSON text, so the quarantine table's schema never changes with the source's.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import orjson

from dativo_core.contracts.quarantine import (
    RECORD_JSON_COLUMN,
    SINGER_SCHEMA,
    STREAM_COLUMN,
    SUFFIX,
)
from dativo_core.jobs.errors import JobError
from dativo_core.pipe.plugin import PluginCommand
from dativo_core.secrets.redaction import redaction_filter


def quarantine_messages(path: Path) -> Iterator[bytes]:
    """SCHEMA once per quarantine stream, then one RECORD per bad record of the file."""
    announced: set[str] = set()
    with path.open("rb") as lines:
        for line in lines:
            if not line.strip():
                continue
            bad = orjson.loads(line)
            stream = bad[STREAM_COLUMN] + SUFFIX
            if stream not in announced:
                announced.add(stream)
                yield _message({"type": "SCHEMA", "stream": stream, "schema": SINGER_SCHEMA, "key_properties": []})
            record = {key: bad.get(key) for key in SINGER_SCHEMA["properties"] if key != RECORD_JSON_COLUMN}
            record[RECORD_JSON_COLUMN] = orjson.dumps(bad.get("record")).decode()
            yield _message({"type": "RECORD", "stream": stream, "record": record})


def _message(value: dict[str, object]) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_APPEND_NEWLINE)


def load_quarantine(path: Path, target: PluginCommand) -> int:
    """Send the file's bad records to the target; the number of records sent."""
    if not path.exists():
        return 0
    messages = list(quarantine_messages(path))
    records = sum(1 for message in messages if message.startswith(b'{"type":"RECORD"'))
    if not records:
        return 0
    result = subprocess.run(target.argv(), input=b"".join(messages), capture_output=True, check=False)
    if result.returncode != 0:
        tail = redaction_filter().redact(result.stderr.decode(errors="replace").strip())
        raise JobError(
            f"loading {records} quarantined records from {path} into the target '{target.name}' "
            f"failed with exit code {result.returncode}; they stay in that file. "
            f"Its last stderr lines:\n" + "\n".join(f"    {line}" for line in tail.splitlines()[-20:])
        )
    return records
