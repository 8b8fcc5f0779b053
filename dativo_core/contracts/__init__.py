"""ODCS v3 data contracts: load and check them, compile them to Singer/Arrow schemas, and
validate Arrow batches of records against them with a fail, quarantine or warn policy."""

from dativo_core.contracts.compile import arrow_schema, singer_schema
from dativo_core.contracts.model import (
    Contract,
    ContractField,
    ContractTable,
    load_contract,
)
from dativo_core.contracts.validator import (
    ContractValidator,
    ContractViolationError,
    Policy,
    ValidationResult,
    Violation,
    quarantine_table,
)

__all__ = [
    "Contract",
    "ContractField",
    "ContractTable",
    "ContractValidator",
    "ContractViolationError",
    "Policy",
    "ValidationResult",
    "Violation",
    "arrow_schema",
    "load_contract",
    "quarantine_table",
    "singer_schema",
]
