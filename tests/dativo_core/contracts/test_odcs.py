import copy
from pathlib import Path

import pytest
import yaml

from dativo_core.contracts import load_contract
from dativo_core.contracts.odcs import (
    SCHEMA_FILE_BY_API_VERSION,
    check_against_official_schema,
    official_schema,
)
from dativo_core.documents import DocumentError

EXAMPLES = Path(__file__).parents[3] / "examples" / "contracts"


def _orders() -> dict:
    return yaml.safe_load((EXAMPLES / "orders.odcs.yaml").read_text())


def _customers() -> dict:
    return yaml.safe_load((EXAMPLES / "customers.odcs.yaml").read_text())


def test_official_schemas_are_the_published_ones_per_version():
    assert official_schema("v3.0.2")["properties"]["apiVersion"]["enum"][0] == "v3.0.2"
    assert official_schema("v3.1.0")["properties"]["apiVersion"]["enum"][0] == "v3.1.0"
    # v3.0.x contracts share the v3.0.2 schema, whose enum names all of them
    assert {"v3.0.0", "v3.0.1", "v3.0.2"} <= set(
        official_schema("v3.0.0")["properties"]["apiVersion"]["enum"]
    )
    assert set(SCHEMA_FILE_BY_API_VERSION) >= {"v3.0.0", "v3.0.1", "v3.0.2", "v3.1.0"}


def test_example_contracts_load():
    orders = load_contract(EXAMPLES / "orders.odcs.yaml")
    customers = load_contract(EXAMPLES / "customers.odcs.yaml")
    assert (orders.api_version, customers.api_version) == ("v3.1.0", "v3.0.2")
    assert [t.name for t in orders.tables] == ["orders"]
    assert orders.tables[0].primary_key == ["order_id"]
    assert customers.table_for_stream("crm_customers") is customers.tables[0]
    assert customers.table_for_stream("public-customers") is customers.tables[0]
    assert customers.table_for_stream("invoices") is None
    assert orders.unchecked == [] and customers.unchecked == []


def test_each_contract_is_checked_against_its_own_version():
    """`timestamp` only exists from v3.1.0 on: the same document is valid or not by apiVersion."""
    doc = {
        "apiVersion": "v3.1.0",
        "kind": "DataContract",
        "id": "events",
        "version": "1.0.0",
        "status": "active",
        "schema": [{"name": "events", "properties": [{"name": "at", "logicalType": "timestamp"}]}],
    }
    assert check_against_official_schema(doc, "events.yaml") == "v3.1.0"
    doc["apiVersion"] = "v3.0.2"
    with pytest.raises(DocumentError) as caught:
        check_against_official_schema(doc, "events.yaml")
    assert caught.value.path == "$.schema[0].properties[0].logicalType"
    assert "'timestamp' is not one of" in caught.value.problem
    assert "(ODCS v3.0.2)" in caught.value.problem


@pytest.mark.parametrize(
    ("change", "path", "problem"),
    [
        (
            lambda d: d["schema"][0]["properties"][6].__setitem__("logicalType", "int"),
            "$.schema[0].properties[6].logicalType",
            "'int' is not one of",
        ),
        (
            lambda d: d["schema"][0]["properties"][6]["logicalTypeOptions"].__setitem__(
                "format", "i33"
            ),
            "$.schema[0].properties[6].logicalTypeOptions.format",
            "'i33' is not one of",
        ),
        (
            lambda d: d["schema"][0]["properties"][1].__setitem__("required", "yes"),
            "$.schema[0].properties[1].required",
            "'yes' is not of type 'boolean'",
        ),
        (lambda d: d.pop("id"), "$", "'id' is a required property"),
        (
            lambda d: d["schema"][0]["properties"][2]["quality"][0].__setitem__("metric", "nullz"),
            "$.schema[0].properties[2].quality[0].metric",
            "'nullz' is not one of",
        ),
        (
            lambda d: d["schema"][0]["properties"][2]["logicalTypeOptions"].__setitem__(
                "minimum", 3
            ),
            "$.schema[0].properties[2].logicalTypeOptions",
            "'minimum' was unexpected",
        ),
        (
            lambda d: d["schema"][0].__setitem__("colour", "red"),
            "$.schema[0]",
            "'colour' was unexpected",
        ),
        (
            lambda d: d.__setitem__("apiVersion", "v2.9"),
            "$.apiVersion",
            "not a supported ODCS version",
        ),
    ],
)
def test_invalid_contracts_name_the_path(tmp_path, change, path, problem):
    doc = copy.deepcopy(_orders())
    change(doc)
    file = tmp_path / "orders.odcs.yaml"
    file.write_text(yaml.safe_dump(doc, sort_keys=False))
    with pytest.raises(DocumentError) as caught:
        load_contract(file)
    assert caught.value.path == path
    assert problem in caught.value.problem
    assert str(file) in str(caught.value)


def test_unreadable_contract_files(tmp_path):
    (tmp_path / "bad.yaml").write_text("apiVersion: [v3.1.0\n")
    with pytest.raises(DocumentError, match="not valid YAML"):
        load_contract(tmp_path / "bad.yaml")
    (tmp_path / "list.yaml").write_text("- a\n- b\n")
    with pytest.raises(DocumentError, match="must be a mapping"):
        load_contract(tmp_path / "list.yaml")


def test_rules_that_cannot_run_on_records_are_listed(tmp_path):
    doc = _orders()
    doc["schema"][0]["quality"].append(
        {"type": "sql", "query": "SELECT COUNT(*) FROM orders", "mustBeLessThan": 10}
    )
    doc["schema"][0]["properties"][0]["quality"] = [
        {"type": "text", "description": "Ids come from the shop."}
    ]
    file = tmp_path / "c.yaml"
    file.write_text(yaml.safe_dump(doc))
    contract = load_contract(file)
    assert contract.unchecked == [
        "$.schema[0].properties[0].quality[0] (text)",
        "$.schema[0].quality[2] (sql)",
    ]
