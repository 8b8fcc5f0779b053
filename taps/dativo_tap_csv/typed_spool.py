"""The rows type inference has already converted, kept so the sync need not parse the file again.

Inference parses every row and converts each column to its kind to see whether it fits; the
sync used to parse and convert the same file a second time. A spool keeps the converted
batches in an unlinked temporary file (Arrow IPC, under TMPDIR) up to a byte budget. The sync
uses it only when it is complete and its column types are exactly the ones the sync reads
(no kind widened after the first batch, the file unchanged since); otherwise it reads the file.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pyarrow as pa

# Per stream: a 1M-row, 10-column file takes about 100 MB.
DEFAULT_SPOOL_BYTES = 1 << 30


def _signature(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns


@dataclass
class TypedSpool:
    """One file's rows, converted to the kinds inference found, ready to be read once."""

    source: Path
    source_signature: tuple[int, int]
    schema: pa.Schema
    file: IO[bytes]
    size_bytes: int

    def can_replace(self, path: Path, types: dict[str, pa.DataType]) -> bool:
        """Whether reading `path` with `types` would give these very batches."""
        if path != self.source or _signature(path) != self.source_signature:
            return False
        names = set(self.schema.names)
        return all(name in names and self.schema.field(name).type == t for name, t in types.items())

    def batches(self, columns: Sequence[str]) -> Iterator[pa.RecordBatch]:
        """The kept batches with only `columns`, in file order; the spool is gone afterwards."""
        try:
            self.file.seek(0)
            with pa.ipc.open_stream(self.file) as reader:
                for batch in reader:
                    yield batch.select(list(columns))
        finally:
            self.file.close()


class SpoolWriter:
    """Collects one file's converted batches; gives up, freeing its disk, when they stop fitting."""

    def __init__(self, source: Path, budget_bytes: int) -> None:
        self._source = source
        self._signature = _signature(source)
        self._budget = budget_bytes
        self._file: IO[bytes] | None = tempfile.TemporaryFile(prefix="tap-csv-spool-")
        self._writer: pa.ipc.RecordBatchStreamWriter | None = None
        self._schema: pa.Schema | None = None

    def write(self, batch: pa.RecordBatch) -> None:
        """Keep `batch`; a batch with other column types than the first, or over budget, ends it."""
        if self._file is None:
            return
        if self._writer is None:
            self._schema = batch.schema
            self._writer = pa.ipc.new_stream(self._file, batch.schema)
        elif batch.schema != self._schema:
            self.abandon()
            return
        self._writer.write_batch(batch)
        if self._file.tell() > self._budget:
            self.abandon()

    def abandon(self) -> None:
        if self._file is not None:
            self._file.close()
        self._file = self._writer = None

    def finish(self) -> TypedSpool | None:
        """The spool of the whole file, or None if it was given up or the file changed meanwhile."""
        if self._file is None or self._writer is None or self._schema is None:
            self.abandon()
            return None
        self._writer.close()
        size = self._file.tell()
        if _signature(self._source) != self._signature:
            self.abandon()
            return None
        spool = TypedSpool(self._source, self._signature, self._schema, self._file, size)
        self._file = self._writer = None
        return spool
