import datetime as dt

import pyarrow as pa
import pytest

from dativo_core.contracts import ContractValidator, ContractViolationError, quarantine_table
from dativo_core.contracts.model import contract_from_document
from dativo_core.contracts.odcs import check_against_official_schema
from dativo_core.documents import DocumentError


def contract_table(properties, quality=None, api_version="v3.1.0"):
    """A one-table contract, checked against the official schema like any user's."""
    obj = {"name": "t", "properties": properties}
    if quality:
        obj["quality"] = quality
    doc = {
        "apiVersion": api_version,
        "kind": "DataContract",
        "id": "test",
        "version": "1.0.0",
        "status": "active",
        "schema": [obj],
    }
    check_against_official_schema(doc, "test.yaml")
    return contract_from_document(doc, "test.yaml").tables[0]


def validate(properties, rows, quality=None, api_version="v3.1.0", lines=None):
    validator = ContractValidator(contract_table(properties, quality, api_version))
    return validator.validate(pa.Table.from_pylist(rows), lines)


def broken(result):
    return sorted((v.row, v.field, v.rule) for v in result.violations)


def test_types_are_checked_by_castability_and_bad_rows_named():
    props = [
        {"name": "id", "logicalType": "integer", "logicalTypeOptions": {"format": "i32"}},
        {"name": "day", "logicalType": "date"},
        {"name": "at", "logicalType": "timestamp"},
        {"name": "clock", "logicalType": "time"},
    ]
    rows = [
        {"id": 1, "day": "2024-02-29", "at": "2024-01-01T10:00:00+02:00", "clock": "08:30:00"},
        {"id": 2**40, "day": "2023-02-29", "at": "yesterday", "clock": "25:00:00"},
        {"id": 3, "day": None, "at": "2024-01-01 10:00:00", "clock": None},
    ]
    result = validate(props, rows, lines=[7, 8, 9])
    assert broken(result) == [
        (1, "at", "type"),
        (1, "clock", "type"),
        (1, "day", "type"),
        (1, "id", "type"),
    ]
    assert {str(v) for v in result.violations} >= {
        "line 8, field 'day': type: cannot read '2023-02-29' as date",
        f"line 8, field 'id': type: cannot read {2**40} as integer (i32)",
    }
    assert result.good_indices.to_pylist() == [0, 2]
    good = result.good_rows
    assert good.schema.field("id").type == pa.int32()
    assert good.column("at").to_pylist() == [
        dt.datetime(2024, 1, 1, 8, tzinfo=dt.UTC),
        dt.datetime(2024, 1, 1, 10, tzinfo=dt.UTC),  # no offset: read as UTC
    ]
    assert good.column("clock").to_pylist() == [dt.time(8, 30), None]
    assert result.bad_rows.column("at").to_pylist() == ["yesterday"]
    assert result.summary == {"type": 4}


def test_required_and_missing_columns():
    props = [
        {"name": "id", "logicalType": "integer", "required": True},
        {"name": "note", "logicalType": "string"},
        {"name": "must", "logicalType": "string", "required": True},
    ]
    result = validate(
        props, [{"id": 1, "must": "x"}, {"id": None, "must": "y"}, {"id": 3, "must": None}]
    )
    assert broken(result) == [(1, "id", "required"), (2, "must", "required")]
    # a required column absent from the batch is null in every row
    result = validate(props, [{"id": 1}])
    assert broken(result) == [(0, "must", "required")]


def test_primary_key_within_and_across_batches():
    table = contract_table(
        [
            {
                "name": "tenant",
                "logicalType": "string",
                "primaryKey": True,
                "primaryKeyPosition": 1,
            },
            {"name": "id", "logicalType": "integer", "primaryKey": True, "primaryKeyPosition": 2},
            {"name": "email", "logicalType": "string", "unique": True},
        ]
    )
    validator = ContractValidator(table)
    first = validator.validate(
        pa.Table.from_pylist(
            [
                {"tenant": "a", "id": 1, "email": "x@a"},
                {"tenant": "b", "id": 1, "email": "y@a"},
                {"tenant": "a", "id": 1, "email": "z@a"},
                {"tenant": "a", "id": 2, "email": "x@a"},
                {"tenant": "a", "id": None, "email": "n@a"},
            ]
        )
    )
    assert broken(first) == [
        (2, "tenant, id", "primaryKey"),
        (3, "email", "unique"),
        (4, "id", "required"),
    ]
    assert "(tenant, id) = (a, 1) appears more than once" in first.violations[0].message
    second = validator.validate(
        pa.Table.from_pylist(
            [
                {"tenant": "b", "id": 1, "email": "new@a"},
                {
                    "tenant": "c",
                    "id": 1,
                    "email": "z@a",
                },  # z@a was only on a rejected row: still free
                {"tenant": "d", "id": 4, "email": "y@a"},
            ]
        )
    )
    assert broken(second) == [(0, "tenant, id", "primaryKey"), (2, "email", "unique")]
    per_batch = ContractValidator(table, unique_across_batches=False)
    per_batch.validate(pa.Table.from_pylist([{"tenant": "a", "id": 1, "email": "x@a"}]))
    assert per_batch.validate(pa.Table.from_pylist([{"tenant": "a", "id": 1, "email": "x@a"}])).ok


def test_numeric_bounds_v31_and_v30():
    v31 = [
        {
            "name": "n",
            "logicalType": "number",
            "logicalTypeOptions": {"minimum": 0, "exclusiveMaximum": 10, "multipleOf": 0.5},
        }
    ]
    result = validate(
        v31, [{"n": 0.0}, {"n": -1.0}, {"n": 10.0}, {"n": 9.5}, {"n": 2.25}, {"n": None}]
    )
    assert broken(result) == [
        (1, "n", "minimum"),
        (2, "n", "exclusiveMaximum"),
        (4, "n", "multipleOf"),
    ]
    v30 = [
        {
            "name": "n",
            "logicalType": "integer",
            "logicalTypeOptions": {
                "minimum": 0,
                "exclusiveMinimum": True,
                "maximum": 5,
                "format": "u8",
            },
        }
    ]
    result = validate(v30, [{"n": 0}, {"n": 1}, {"n": 5}, {"n": 6}], api_version="v3.0.2")
    assert broken(result) == [(0, "n", "exclusiveMinimum"), (3, "n", "maximum")]
    result = validate(
        [{"name": "n", "logicalType": "integer", "logicalTypeOptions": {"format": "u8"}}],
        [{"n": 255}, {"n": 256}, {"n": -1}],
    )
    assert broken(result) == [(1, "n", "format"), (2, "n", "format")]
    assert result.violations[0].message == "256 does not fit integer format u8"


def test_date_and_timestamp_bounds():
    props = [
        {
            "name": "d",
            "logicalType": "date",
            "logicalTypeOptions": {"minimum": "2020-01-01", "exclusiveMaximum": "2025-01-01"},
        },
        {
            "name": "ts",
            "logicalType": "timestamp",
            "logicalTypeOptions": {"maximum": "2024-12-31T23:59:59Z"},
        },
    ]
    result = validate(
        props,
        [
            {"d": "2020-01-01", "ts": "2024-12-31T23:59:59Z"},
            {"d": "2019-12-31", "ts": "2025-01-01T00:00:00Z"},
            {"d": "2025-01-01", "ts": None},
        ],
    )
    assert broken(result) == [
        (1, "d", "minimum"),
        (1, "ts", "maximum"),
        (2, "d", "exclusiveMaximum"),
    ]


def test_string_options_and_formats():
    props = [
        {
            "name": "code",
            "logicalType": "string",
            "logicalTypeOptions": {"minLength": 2, "maxLength": 4, "pattern": "^[A-Z]+$"},
        },
        {"name": "email", "logicalType": "string", "logicalTypeOptions": {"format": "email"}},
        {"name": "uid", "logicalType": "string", "logicalTypeOptions": {"format": "uuid"}},
        {"name": "ip", "logicalType": "string", "logicalTypeOptions": {"format": "ipv4"}},
        {"name": "ip6", "logicalType": "string", "logicalTypeOptions": {"format": "ipv6"}},
        {"name": "host", "logicalType": "string", "logicalTypeOptions": {"format": "hostname"}},
        {"name": "link", "logicalType": "string", "logicalTypeOptions": {"format": "uri"}},
    ]
    good = {
        "code": "ÄB",
        "email": "a.b@example.org",
        "uid": "123e4567-e89b-12d3-a456-426614174000",
        "ip": "192.168.0.1",
        "ip6": "2001:db8::1",
        "host": "db-1.example.com",
        "link": "https://x.org/a",
    }
    bad = {
        "code": "abcde",
        "email": "a@b",
        "uid": "123e4567e89b12d3a456426614174000",
        "ip": "256.1.1.1",
        "ip6": "2001:db8:::1",
        "host": "-bad-.com",
        "link": "not a uri",
    }
    result = validate(props, [good, bad, {k: None for k in good}])
    assert broken(result) == [
        (0, "code", "pattern"),  # Ä is not in [A-Z]; length 2 counts characters, not bytes
        (1, "code", "maxLength"),
        (1, "code", "pattern"),
        (1, "email", "format"),
        (1, "host", "format"),
        (1, "ip", "format"),
        (1, "ip6", "format"),
        (1, "link", "format"),
        (1, "uid", "format"),
    ]


def test_nested_objects_and_arrays():
    props = [
        {
            "name": "address",
            "logicalType": "object",
            "properties": [
                {"name": "city", "logicalType": "string"},
                {
                    "name": "zip",
                    "logicalType": "string",
                    "required": True,
                    "logicalTypeOptions": {"pattern": "^[0-9]{5}$"},
                },
            ],
        },
        {
            "name": "tags",
            "logicalType": "array",
            "logicalTypeOptions": {"minItems": 1, "maxItems": 2, "uniqueItems": True},
            "items": {"name": "tag", "logicalType": "string"},
        },
    ]
    result = validate(
        props,
        [
            {"address": {"city": "Berlin", "zip": "10115"}, "tags": ["a", "b"]},
            {"address": {"city": "Paris", "zip": None}, "tags": ["a", "a"]},
            {"address": None, "tags": []},
            {"address": {"city": "Rome", "zip": "ABC"}, "tags": ["a", "b", "c"]},
        ],
    )
    assert broken(result) == [
        (1, "address.zip", "required"),
        (1, "tags", "uniqueItems"),
        (2, "tags", "minItems"),
        (3, "address.zip", "pattern"),
        (3, "tags", "maxItems"),
    ]


def test_library_metrics_v31():
    props = [
        {
            "name": "unit",
            "logicalType": "string",
            "quality": [
                {
                    "metric": "invalidValues",
                    "arguments": {"validValues": ["kg", "lb"]},
                    "mustBe": 0,
                },
                {"metric": "nullValues", "mustBeLessThan": 30, "unit": "percent"},
            ],
        },
        {
            "name": "iban",
            "logicalType": "string",
            "quality": [
                {
                    "metric": "invalidValues",
                    "arguments": {"pattern": "^[A-Z]{2}[0-9]{2}"},
                    "mustBe": 0,
                },
                {
                    "metric": "missingValues",
                    "arguments": {"missingValues": [None, "", "N/A"]},
                    "mustBeLessThan": 2,
                },
            ],
        },
        {
            "name": "name",
            "logicalType": "string",
            "quality": [{"metric": "duplicateValues", "mustBe": 0}],
        },
    ]
    rows = [
        {"unit": "kg", "iban": "DE12", "name": "a"},
        {"unit": "stone", "iban": "N/A", "name": "b"},
        {"unit": None, "iban": "", "name": "a"},
        {"unit": None, "iban": "XX", "name": "c"},
    ]
    result = validate(props, rows)
    assert broken(result) == [
        (1, "iban", "invalidValues"),
        (1, "iban", "missingValues"),
        (1, "unit", "invalidValues"),
        (2, "iban", "invalidValues"),
        (2, "iban", "missingValues"),
        (2, "name", "duplicateValues"),
        (2, "unit", "nullValues"),
        (3, "iban", "invalidValues"),
        (3, "unit", "nullValues"),
    ]
    messages = {v.message for v in result.violations}
    assert (
        "'stone' is not a valid value (invalidValues mustBe 0 rows; this batch has 1 rows)"
        in messages
    )
    assert "null (nullValues mustBeLessThan 30 percent; this batch has 50 percent)" in messages
    # within its threshold, a metric flags nothing
    relaxed = [
        {
            "name": "unit",
            "logicalType": "string",
            "quality": [{"metric": "nullValues", "mustBeLessOrEqualTo": 2}],
        }
    ]
    assert validate(relaxed, rows).ok


def test_library_rules_v30_and_schema_level_duplicates():
    props = [
        {
            "name": "segment",
            "logicalType": "string",
            "quality": [{"rule": "validValues", "validValues": ["a", "b"]}],
        },
        {
            "name": "name",
            "logicalType": "string",
            "quality": [{"rule": "duplicateCount", "mustBeLessThan": 2}],
        },
    ]
    rows = [
        {"segment": "a", "name": "x"},
        {"segment": "z", "name": "x"},
        {"segment": None, "name": "x"},
    ]
    result = validate(props, rows, api_version="v3.0.2")
    assert broken(result) == [
        (1, "name", "duplicateValues"),
        (1, "segment", "invalidValues"),
        (2, "name", "duplicateValues"),
    ]

    table_quality = [
        {"metric": "duplicateValues", "mustBe": 0, "arguments": {"properties": ["a", "b"]}}
    ]
    props = [{"name": "a", "logicalType": "string"}, {"name": "b", "logicalType": "integer"}]
    result = validate(
        props, [{"a": "x", "b": 1}, {"a": "x", "b": 2}, {"a": "x", "b": 1}], table_quality
    )
    assert broken(result) == [(2, "a, b", "duplicateValues")]
    assert result.violations[0].message.startswith("'x, 1' is a duplicate")


def test_row_count_is_a_run_level_rule():
    table = contract_table(
        [{"name": "a", "logicalType": "string"}], [{"metric": "rowCount", "mustBeBetween": [2, 3]}]
    )
    validator = ContractValidator(table)
    assert validator.validate(pa.Table.from_pylist([{"a": "x"}])).ok
    [violation] = validator.finish()
    assert (violation.rule, violation.row) == ("rowCount", None)
    assert "the run had 1 rows" in violation.message
    validator.validate(pa.Table.from_pylist([{"a": "y"}]))
    assert validator.finish() == []


def test_quarantine_table_keeps_rows_and_says_why():
    props = [
        {"name": "id", "logicalType": "integer", "required": True},
        {"name": "email", "logicalType": "string", "logicalTypeOptions": {"format": "email"}},
    ]
    result = validate(
        props,
        [{"id": 1, "email": "a@b.co"}, {"id": None, "email": "nope"}, {"id": 3, "email": "x"}],
        lines=[10, 11, 12],
    )
    q = quarantine_table(result)
    assert q.column_names == [
        "id",
        "email",
        "_dativo_reason",
        "_dativo_rule",
        "_dativo_source_line",
    ]
    assert q.to_pylist() == [
        {
            "id": None,
            "email": "nope",
            "_dativo_rule": "required,format",
            "_dativo_source_line": 11,
            "_dativo_reason": "id: missing or null, but the contract requires it; "
            "email: 'nope' is not a valid email",
        },
        {
            "id": 3,
            "email": "x",
            "_dativo_rule": "format",
            "_dativo_source_line": 12,
            "_dativo_reason": "email: 'x' is not a valid email",
        },
    ]
    as_json = quarantine_table(result, as_json_text=True)
    assert as_json.column("_dativo_record").to_pylist() == [
        '{"id":null,"email":"nope"}',
        '{"id":3,"email":"x"}',
    ]


def test_contract_expressions_are_checked_before_data():
    with pytest.raises(DocumentError, match="not supported by the RE2 engine"):
        ContractValidator(
            contract_table(
                [
                    {
                        "name": "s",
                        "logicalType": "string",
                        "logicalTypeOptions": {"pattern": "^(?!x)"},
                    }
                ]
            )
        )
    with pytest.raises(DocumentError, match="minimum 'soon' is not a date32"):
        ContractValidator(
            contract_table(
                [{"name": "d", "logicalType": "date", "logicalTypeOptions": {"minimum": "soon"}}]
            )
        )


def test_violation_error_names_stream_line_and_field():
    result = validate(
        [{"name": "id", "logicalType": "integer", "required": True}], [{"id": None}], lines=[42]
    )
    error = ContractViolationError("orders", result.violations)
    assert str(error).startswith(
        "line 42, stream 'orders', field 'id': contract rule 'required' broken: missing or null"
    )


def test_many_uncastable_values_are_all_located():
    rows = [{"d": f"{i % 28 + 1:02d}/01/2024"} for i in range(2000)] + [{"d": "2024-01-05"}]
    result = validate([{"name": "d", "logicalType": "date"}], rows)
    assert result.summary == {"type": 2000}
    assert result.good_rows.column("d").to_pylist() == [dt.date(2024, 1, 5)]
    # a column whose type can never become the contract's fails every present row at once
    result = validate([{"name": "d", "logicalType": "date"}], [{"d": [1]}, {"d": None}])
    assert broken(result) == [(0, "d", "type")]


def test_schema_level_rules_must_name_fields_of_the_object():
    quality = [{"metric": "duplicateValues", "mustBe": 0, "arguments": {"properties": ["a", "zz"]}}]
    with pytest.raises(DocumentError, match=r"schema object 't'.*unknown: \['zz'\]"):
        ContractValidator(contract_table([{"name": "a", "logicalType": "string"}], quality))


def test_listed_values_are_compared_in_the_column_type():
    props = [
        {
            "name": "size",
            "logicalType": "integer",
            "quality": [
                {
                    "metric": "invalidValues",
                    "arguments": {"validValues": [1, "2", "three"]},
                    "mustBe": 0,
                },
                {"metric": "missingValues", "arguments": {"missingValues": ["", -1]}, "mustBe": 0},
            ],
        },
        {
            "name": "day",
            "logicalType": "date",
            "quality": [
                {"metric": "invalidValues", "arguments": {"pattern": "-01$"}, "mustBe": 0},
            ],
        },
    ]
    result = validate(
        props,
        [
            {"size": 1, "day": "2024-01-01"},
            {"size": 2, "day": "2024-01-02"},
            {"size": 3, "day": None},
            {"size": -1, "day": "2024-02-01"},
        ],
    )
    assert broken(result) == [
        (1, "day", "invalidValues"),
        (2, "size", "invalidValues"),
        (3, "size", "invalidValues"),
        (3, "size", "missingValues"),
    ]


def test_array_items_are_checked_and_reported_on_their_row():
    props = [
        {
            "name": "emails",
            "logicalType": "array",
            "items": {
                "name": "email",
                "logicalType": "string",
                "logicalTypeOptions": {"format": "email"},
            },
        },
        {
            "name": "lines",
            "logicalType": "array",
            "items": {
                "name": "line",
                "logicalType": "object",
                "properties": [
                    {
                        "name": "qty",
                        "logicalType": "integer",
                        "required": True,
                        "logicalTypeOptions": {"minimum": 1},
                    },
                ],
            },
        },
    ]
    result = validate(
        props,
        [
            {"emails": ["a@b.co"], "lines": [{"qty": 1}]},
            {"emails": ["a@b.co", "nope", "x"], "lines": []},
            {"emails": None, "lines": [{"qty": 2}, {"qty": 0}, {"qty": None}]},
        ],
    )
    assert broken(result) == [
        (1, "emails[]", "format"),
        (1, "emails[]", "format"),
        (2, "lines[].qty", "minimum"),
        (2, "lines[].qty", "required"),
    ]
    assert result.good_indices.to_pylist() == [0]
