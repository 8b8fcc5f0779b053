"""The rows type inference has already converted, kept so the sync need not parse the file again.

Inference parses every row and converts each column to its kind to see whether it fits; the
sync used to parse and convert the same file a second time. The spool keeps the converted
batches of each file as one Arrow IPC section of a single unlinked temporary file (under
TMPDIR; gone when the tap exits, even if killed), up to a byte budget for the whole tap. The
sync uses a section only when it is exactly what a second read would give: the file read to its
end, no column widened after the section's first batch, the file unchanged since. Otherwise it
reads the file. A full disk or any other I/O error only ends the spooling; inference goes on.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pyarrow as pa

# For the whole tap: a 1M-row, 10-column file takes about 100 MB.
DEFAULT_SPOOL_BYTES = 1 << 30


def _signature(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns


class Spool:
    """One temporary file holding kept sections, and what is left of the byte budget."""

    def __init__(self, budget_bytes: int) -> None:
        self._budget = budget_bytes
        self._file: IO[bytes] | None = None

    def section_for(self, source: Path) -> SectionWriter | None:
        """A writer for the rows of `source`; None once the budget is spent or spooling failed."""
        if self._budget <= 0:
            return None
        try:
            if self._file is None:
                self._file = tempfile.TemporaryFile(prefix="tap-csv-spool-")
            self._file.seek(0, 2)
            return SectionWriter(self, self._file, source)
        except OSError:
            self.stop()
            return None

    def room_after(self, offset: int) -> int:
        return self._budget - offset

    def stop(self) -> None:
        """No more sections (the budget is spent, or the disk failed us); kept ones stay readable."""
        self._budget = 0

    def read_section(self, offset: int) -> pa.RecordBatchStreamReader:
        assert self._file is not None
        self._file.seek(offset)
        return pa.ipc.open_stream(self._file)


@dataclass(frozen=True)
class KeptFile:
    """One file's rows, converted to the kinds inference found."""

    spool: Spool
    source: Path
    source_signature: tuple[int, int]
    schema: pa.Schema
    offset: int
    size_bytes: int

    def can_replace(self, types: dict[str, pa.DataType]) -> bool:
        """Whether reading the file with `types` now would give these very batches."""
        if _signature(self.source) != self.source_signature:
            return False
        names = set(self.schema.names)
        return all(name in names and self.schema.field(name).type == t for name, t in types.items())

    def batches(self, columns: Sequence[str]) -> Iterator[pa.RecordBatch]:
        """The kept batches with only `columns`, in file order."""
        with self.spool.read_section(self.offset) as reader:
            for batch in reader:
                yield batch.select(list(columns))


class SectionWriter:
    """Appends one file's converted batches; gives the section up when they stop fitting."""

    def __init__(self, spool: Spool, file: IO[bytes], source: Path) -> None:
        self._spool = spool
        self._file: IO[bytes] | None = file
        self._source = source
        self._signature = _signature(source)
        self._offset = file.tell()
        self._writer: pa.ipc.RecordBatchStreamWriter | None = None
        self._schema: pa.Schema | None = None

    def write(self, batch: pa.RecordBatch) -> None:
        """Keep `batch`; other column types than the first batch's give the section up, and
        going over the budget or an I/O error ends the spooling."""
        if self._file is None:
            return
        if self._schema is not None and batch.schema != self._schema:
            self.abandon()
            return
        try:
            if self._writer is None:
                self._schema = batch.schema
                self._writer = pa.ipc.new_stream(self._file, batch.schema)
            self._writer.write_batch(batch)
            over_budget = self._spool.room_after(self._file.tell()) < 0
        except OSError:
            over_budget = True
        if over_budget:
            self.abandon()
            self._spool.stop()

    def abandon(self) -> None:
        """Give this section up and free its disk space (later sections start where it began)."""
        if self._file is None:
            return
        try:
            self._file.truncate(self._offset)
        except OSError:
            self._spool.stop()
        self._file = self._writer = None

    def finish(self) -> KeptFile | None:
        """The section of the whole file, or None if it was given up or the file changed meanwhile."""
        if self._file is None or self._writer is None or self._schema is None:
            self.abandon()
            return None
        try:
            self._writer.close()
            size = self._file.tell() - self._offset
            unchanged = _signature(self._source) == self._signature
        except OSError:
            self.abandon()
            self._spool.stop()
            return None
        if not unchanged:
            self.abandon()
            return None
        kept = KeptFile(self._spool, self._source, self._signature, self._schema, self._offset, size)
        self._file = self._writer = None
        return kept
