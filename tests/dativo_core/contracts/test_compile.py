from pathlib import Path

import pyarrow as pa
from pyiceberg.io.pyarrow import pyarrow_to_schema
from pyiceberg.types import (
    BooleanType,
    DateType,
    DoubleType,
    FloatType,
    IntegerType,
    ListType,
    LongType,
    StringType,
    StructType,
    TimestamptzType,
    TimeType,
)

from dativo_core.contracts import arrow_schema, load_contract, singer_schema

EXAMPLES = Path(__file__).parents[3] / "examples" / "contracts"


def test_v31_contract_compiles_to_singer_schema():
    table = load_contract(EXAMPLES / "orders.odcs.yaml").tables[0]
    schema = singer_schema(table)
    props = schema["properties"]
    assert props["order_id"] == {"type": "integer", "minimum": 1}
    assert props["customer_id"] == {"type": "string", "format": "uuid"}
    assert props["customer_email"] == {
        "type": ["string", "null"],
        "maxLength": 254,
        "format": "email",
    }
    assert props["amount"] == {"type": "number", "minimum": 0, "exclusiveMaximum": 100000}
    assert props["currency"]["pattern"] == "^[A-Z]{3}$"
    assert props["order_date"] == {"type": "string", "format": "date"}
    assert props["created_at"] == {"type": "string", "format": "date-time"}
    assert props["gift_wrap"] == {"type": ["boolean", "null"]}
    assert props["shipping_address"]["required"] == ["country"]
    assert props["coupon_codes"] == {
        "type": ["array", "null"],
        "items": {"type": ["string", "null"]},
    }
    assert schema["required"] == [
        "order_id",
        "customer_id",
        "channel",
        "status",
        "quantity",
        "amount",
        "order_date",
        "created_at",
    ]


def test_v30_dates_with_a_time_format_become_timestamps_and_times():
    table = load_contract(EXAMPLES / "customers.odcs.yaml").tables[0]
    props = singer_schema(table)["properties"]
    assert props["birth_date"] == {"type": ["string", "null"], "format": "date"}
    assert props["signed_up_at"] == {"type": "string", "format": "date-time"}
    assert props["preferred_contact_time"] == {"type": ["string", "null"], "format": "time"}
    # v3.0's boolean exclusiveMaximum turned `maximum` into a strict bound
    assert props["loyalty_points"] == {
        "type": ["integer", "null"],
        "minimum": 0,
        "exclusiveMaximum": 1000000,
    }
    assert props["credit_limit"] == {"type": ["number", "null"], "exclusiveMinimum": 0}


def test_arrow_and_iceberg_types():
    orders = arrow_schema(load_contract(EXAMPLES / "orders.odcs.yaml").tables[0])
    assert orders.field("order_id").type == pa.int64() and not orders.field("order_id").nullable
    assert orders.field("quantity").type == pa.int32()  # format i32
    assert orders.field("created_at").type == pa.timestamp("us", tz="UTC")
    assert orders.field("order_date").type == pa.date32()
    assert orders.field("shipping_address").type.field("country").nullable is False
    customers = arrow_schema(load_contract(EXAMPLES / "customers.odcs.yaml").tables[0])
    assert customers.field("preferred_contact_time").type == pa.time64("us")
    assert customers.field("signed_up_at").type == pa.timestamp("us", tz="UTC")

    iceberg = {
        f.name: f for f in pyarrow_to_schema(orders, name_mapping=_name_mapping(orders)).fields
    }
    assert isinstance(iceberg["order_id"].field_type, LongType) and iceberg["order_id"].required
    assert isinstance(iceberg["quantity"].field_type, IntegerType)
    assert isinstance(iceberg["amount"].field_type, DoubleType)
    assert isinstance(iceberg["created_at"].field_type, TimestamptzType)
    assert isinstance(iceberg["order_date"].field_type, DateType)
    assert (
        isinstance(iceberg["gift_wrap"].field_type, BooleanType)
        and not iceberg["gift_wrap"].required
    )
    assert isinstance(iceberg["shipping_address"].field_type, StructType)
    assert isinstance(iceberg["coupon_codes"].field_type, ListType)
    assert isinstance(iceberg["customer_id"].field_type, StringType)
    customers_iceberg = {
        f.name: f.field_type
        for f in pyarrow_to_schema(customers, name_mapping=_name_mapping(customers)).fields
    }
    assert isinstance(customers_iceberg["preferred_contact_time"], TimeType)
    assert isinstance(customers_iceberg["signed_up_at"], TimestamptzType)


def test_number_f32_and_integer_widths():
    from dativo_core.contracts.model import ContractField, ContractTable

    table = ContractTable(
        "t",
        None,
        [
            ContractField("small", "integer", {"format": "i8"}),
            ContractField("wide", "integer", {"format": "u32"}),
            ContractField("plain", "integer"),
            ContractField("ratio", "number", {"format": "f32"}),
            ContractField("anything", None),
        ],
    )
    schema = arrow_schema(table)
    assert [schema.field(n).type for n in ("small", "wide", "plain", "ratio", "anything")] == [
        pa.int32(),
        pa.int64(),
        pa.int64(),
        pa.float32(),
        pa.string(),
    ]
    iceberg = pyarrow_to_schema(schema, name_mapping=_name_mapping(schema))
    assert isinstance(iceberg.find_field("ratio").field_type, FloatType)


def _name_mapping(schema: pa.Schema):
    from pyiceberg.table.name_mapping import MappedField, NameMapping

    counter = iter(range(1, 10_000))

    def mapped(field: pa.Field) -> MappedField:
        children = []
        if pa.types.is_struct(field.type):
            children = [mapped(child) for child in field.type]
        elif pa.types.is_list(field.type):
            children = [mapped(field.type.value_field)]
        return MappedField(field_id=next(counter), names=[field.name], fields=children)

    return NameMapping([mapped(f) for f in schema])
