"""The `contract` setting: records checked against an ODCS contract on the Arrow batches the
loader builds, before they are buffered for their table.

The checks are `dativo_core.contracts.ContractValidator`'s (vectorized, with the input line of
each row), as `dativo validate` runs them. What a broken record does is the policy's:
- `fail`: the load stops with the first violations; nothing after the last commit is committed.
- `quarantine`: bad rows go to `<table>__quarantine` (the layout of
  `dativo_core.contracts.quarantine`), committed in the same flush just before the stream's
  table and before the STATE they are covered by is emitted; good rows load.
- `warn`: violations are logged and every row loads.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import orjson
import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.catalog import Catalog

from dativo_core.contracts import (
    ContractValidator,
    ContractViolationError,
    Policy,
    load_contract,
)
from dativo_core.contracts.model import Contract
from dativo_core.contracts.quarantine import ARROW_SCHEMA, SUFFIX, quarantine_rows
from dativo_core.contracts.report import ViolationReport
from dativo_core.contracts.validator import check_table_usable
from dativo_core.documents import DocumentError
from dativo_target_iceberg.config import ConfigError, TargetConfig
from dativo_target_iceberg.stream_schema import StreamSchema
from dativo_target_iceberg.table_writer import (
    COVERED_ROWS_PROPERTY,
    COVERED_STATE_PROPERTY,
    QUARANTINE_OF_PROPERTY,
    STREAM_PROPERTY,
    TableWriter,
)

log = logging.getLogger("target-iceberg")

OUTCOMES = {
    Policy.QUARANTINE: "quarantined",
    Policy.WARN: "loaded anyway",
    Policy.FAIL: "the load stopped",
}

def records_of_lines(data: bytes, first_row: int, rows: Sequence[int]) -> list[str]:
    """The `record` of chosen RECORD lines (newline-joined in `data`; row 0 is line `first_row`)
    as JSON text. Only bad rows are read this way: a clean batch is never split into lines."""
    lines = data.split(b"\n")
    return [orjson.dumps(orjson.loads(lines[first_row + row]).get("record")).decode() for row in rows]


class QuarantineWriter(TableWriter):
    """A stream's `<table>__quarantine`; each commit records how far into the stream it reaches."""

    def __init__(
        self, catalog: Catalog, main: TableWriter, line: int, table_properties: dict[str, str], exactly_once: bool
    ) -> None:
        """Without `exactly_once` the run did not start from the stream table's checkpoint, so
        its positions mean nothing to a later run and commits record none."""
        namespace, table = main.identifier
        super().__init__(
            catalog, (namespace, table + SUFFIX), StreamSchema(main.stream + SUFFIX, ARROW_SCHEMA, ()), line,
            table_properties={**table_properties, QUARANTINE_OF_PROPERTY: main.stream},
        )
        self.main = main
        self.exactly_once = exactly_once

    def _snapshot_properties(self, state: bytes | None) -> dict[str, str]:
        """No `dativo.state`: the stream's own table says where the stream stands."""
        main = self.main
        properties = {STREAM_PROPERTY: self.stream, QUARANTINE_OF_PROPERTY: main.stream}
        if self.exactly_once:
            properties[COVERED_ROWS_PROPERTY] = str(main.rows_since_committed_state)
            if main.committed_state is not None:
                properties[COVERED_STATE_PROPERTY] = main.committed_state.decode()
        return properties


class ContractGate:
    """Checks each stream's batches against its schema object and applies the policy."""

    def __init__(
        self,
        contract: Contract,
        policy: Policy,
        catalog: Catalog,
        config: TargetConfig,
        quarantined_rows: dict[str, int] | None = None,
    ) -> None:
        """`quarantined_rows`: per stream, the first records after the skipped ones whose bad
        ones an interrupted run quarantined already (see recovery.py); they are not written again."""
        self.contract = contract
        self.policy = policy
        self.catalog = catalog
        self.config = config
        self.report = ViolationReport(contract, policy, OUTCOMES, log)
        self.validators: dict[str, ContractValidator | None] = {}
        self.quarantines: dict[str, QuarantineWriter] = {}
        self._quarantined_ahead = dict(quarantined_rows or {})

    @classmethod
    def from_config(
        cls, config: TargetConfig, catalog: Catalog, quarantined_rows: dict[str, int] | None = None
    ) -> ContractGate | None:
        if config.contract is None:
            return None
        try:
            contract = load_contract(config.contract)
            for table in contract.tables:
                check_table_usable(table)  # a broken contract stops the load before any record
        except (DocumentError, OSError) as exc:
            raise ConfigError(f"contract {config.contract}: {exc}") from None
        return cls(contract, Policy(config.contract_policy), catalog, config, quarantined_rows)

    def checks(self, stream: str) -> bool:
        """Whether the contract has a schema object for this stream."""
        return self._validator(stream) is not None

    def _validator(self, stream: str) -> ContractValidator | None:
        if stream not in self.validators:
            table = self.contract.table_for_stream(stream)
            if table is None:
                log.warning(
                    "stream '%s': no schema object of contract %s matches it; its records load unchecked",
                    stream, self.contract.source,
                )
                self.validators[stream] = None
            else:
                self.validators[stream] = ContractValidator(table)
                self.report.tally(stream)
        return self.validators[stream]

    def check(
        self, writer: TableWriter, batch: pa.Table, lines: Sequence[int], source: tuple[bytes, int] | None
    ) -> pa.Table:
        """The rows of `batch` to load. `lines` are the rows' input lines; `source` is the RECORD
        lines the batch was read from and the one of its row 0, to quarantine bad records as they
        came in (None: they are written as validated, e.g. from BATCH files)."""
        stream = writer.stream
        validator = self._validator(stream)
        if validator is None:
            return batch
        result = validator.validate(batch, lines)
        ahead = self._quarantined_ahead.get(stream, 0)
        if ahead:
            self._quarantined_ahead[stream] = max(0, ahead - batch.num_rows)
        self.report.record(stream, batch.num_rows, len(result.bad_indices), result.violations)
        if not result.violations:
            return batch
        if self.policy is Policy.FAIL:
            violations = sorted(result.violations, key=lambda v: (v.line is None, v.line or 0))
            raise ContractViolationError(stream, violations)
        self.report.log_violations(stream, result.violations)
        if self.policy is Policy.WARN or not len(result.bad_indices):
            return batch
        records = records_of_lines(*source, result.bad_indices.to_pylist()) if source is not None else None
        bad = quarantine_rows(stream, result, records)
        self._quarantine(writer, bad, result.bad_indices, ahead, lines[0] if len(lines) else 0)
        return batch.take(result.good_indices)

    def _quarantine(self, writer: TableWriter, bad: pa.Table, rows: pa.Array, ahead: int, line: int) -> None:
        """Buffer bad rows, leaving out those among the batch's first `ahead` rows, which an
        interrupted run quarantined already."""
        stream = writer.stream
        if ahead:
            fresh = pc.greater_equal(rows, ahead)
            log.info(
                "stream '%s': %d bad records were quarantined by the interrupted run; not written again",
                stream, bad.num_rows - pc.sum(pc.cast(fresh, pa.int64())).as_py(),
            )
            bad = bad.filter(fresh)
        if not bad.num_rows:
            return
        quarantine = self.quarantines.get(stream)
        if quarantine is None:
            quarantine = QuarantineWriter(
                self.catalog, writer, line, self.config.table_properties_for(stream), self.config.exactly_once
            )
            self.quarantines[stream] = quarantine
        quarantine.add(bad)

    @property
    def buffered_rows(self) -> int:
        return sum(q.buffered_rows for q in self.quarantines.values())

    @property
    def buffered_bytes(self) -> int:
        return sum(q.buffered_bytes for q in self.quarantines.values())

    def commit(self, writer: TableWriter, state: bytes | None) -> int:
        """Commit the stream's quarantined rows; called just before the stream's own commit."""
        quarantine = self.quarantines.get(writer.stream)
        if quarantine is None or not quarantine.buffered_rows:
            return 0
        rows = quarantine.commit(state)
        log.info("committed %d rows to %s", rows, quarantine.name)
        return rows

    def finish(self) -> None:
        """Run-level rules (rowCount), before the last flush: under `fail` it is not committed."""
        self.report.finish(self.validators)

    def summary(self) -> str:
        return self.report.summary()
