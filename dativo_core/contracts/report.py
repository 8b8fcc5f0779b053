"""What a contract check tells the user: the first violations per stream as they are found, and
a summary of violations per stream and rule at the end (the mapper and target-iceberg alike)."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from dativo_core.contracts.model import Contract
from dativo_core.contracts.validator import (
    ContractValidator,
    ContractViolationError,
    Policy,
    Violation,
)

LOGGED_VIOLATIONS_PER_STREAM = 20


@dataclass
class StreamTally:
    records: int = 0
    broken: int = 0
    rules: Counter[str] = field(default_factory=Counter)
    logged: int = 0


class ViolationReport:
    """Counts per stream and rule; logs a stream's first violations, not all of them."""

    def __init__(self, contract: Contract, policy: Policy, outcomes: dict[Policy, str], log: logging.Logger) -> None:
        """`outcomes` words, per policy, what happened to broken records ("quarantined", ...)."""
        self.contract = contract
        self.policy = policy
        self.outcomes = outcomes
        self.log = log
        self.tallies: dict[str, StreamTally] = {}

    def tally(self, stream: str) -> StreamTally:
        return self.tallies.setdefault(stream, StreamTally())

    def record(self, stream: str, records: int, broken: int, violations: Iterable[Violation]) -> None:
        tally = self.tally(stream)
        tally.records += records
        tally.broken += broken
        tally.rules.update(v.rule for v in violations)

    def log_violations(self, stream: str, violations: Iterable[Violation]) -> None:
        tally = self.tally(stream)
        for violation in violations:
            if tally.logged >= LOGGED_VIOLATIONS_PER_STREAM:
                return
            tally.logged += 1
            self.log.warning("stream '%s', %s", stream, violation)

    def finish(self, validators: dict[str, ContractValidator | None]) -> None:
        """Run-level rules (rowCount) of every checked stream; under `fail` a broken one stops the run."""
        for stream, validator in validators.items():
            if validator is None:
                continue
            found = validator.finish()
            self.record(stream, 0, 0, found)
            if found and self.policy is Policy.FAIL:
                raise ContractViolationError(stream, found)
            self.log_violations(stream, found)

    def summary(self) -> str:
        """Violations per rule and stream, for stderr at the end of a run."""
        contract = self.contract
        out = [f"contract '{contract.name}' {contract.version} (ODCS {contract.api_version}), policy {self.policy.value}"]
        for stream, tally in self.tallies.items():
            outcome = f" ({self.outcomes[self.policy]})" if tally.broken else ""
            out.append(f"  stream '{stream}': {tally.records} records checked, {tally.broken} broke the contract{outcome}")
            for rule, count in sorted(tally.rules.items()):
                out.append(f"    {rule:<18} {count}")
        return "\n".join(out)
