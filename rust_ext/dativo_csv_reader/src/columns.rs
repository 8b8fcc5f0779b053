//! Building one Arrow column of a batch from CSV fields of a known kind.

use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Date32Builder, Float64Builder, Int64Builder, StringBuilder,
    TimestampMicrosecondBuilder,
};
use arrow_array::ArrayRef;

use crate::kinds::Kind;
use crate::rows::{FieldError, RowSink};
use crate::values::{parse_bool, parse_date, parse_float, parse_int, parse_timestamp};

pub enum ColumnBuilder {
    Integer(Int64Builder),
    Boolean(BooleanBuilder),
    Date(Date32Builder),
    DateTime(TimestampMicrosecondBuilder),
    Number(Float64Builder),
    /// Also a null column's: tap-csv reads a column of nulls only as text.
    String(StringBuilder),
}

impl ColumnBuilder {
    pub fn new(kind: Kind, capacity: usize) -> Self {
        match kind {
            Kind::Integer => ColumnBuilder::Integer(Int64Builder::with_capacity(capacity)),
            Kind::Boolean => ColumnBuilder::Boolean(BooleanBuilder::with_capacity(capacity)),
            Kind::Date => ColumnBuilder::Date(Date32Builder::with_capacity(capacity)),
            Kind::DateTime => ColumnBuilder::DateTime(
                TimestampMicrosecondBuilder::with_capacity(capacity).with_timezone("UTC"),
            ),
            Kind::Number => ColumnBuilder::Number(Float64Builder::with_capacity(capacity)),
            Kind::Null | Kind::String => {
                ColumnBuilder::String(StringBuilder::with_capacity(capacity, capacity * 8))
            }
        }
    }

    pub fn append_null(&mut self) {
        match self {
            ColumnBuilder::Integer(b) => b.append_null(),
            ColumnBuilder::Boolean(b) => b.append_null(),
            ColumnBuilder::Date(b) => b.append_null(),
            ColumnBuilder::DateTime(b) => b.append_null(),
            ColumnBuilder::Number(b) => b.append_null(),
            ColumnBuilder::String(b) => b.append_null(),
        }
    }

    /// Append a field that is not a null value.
    pub fn append(&mut self, field: &[u8]) -> Result<(), FieldError> {
        let not_of_kind = FieldError::NotOfKind;
        match self {
            ColumnBuilder::Integer(b) => b.append_value(parse_int(field).ok_or(not_of_kind)?),
            ColumnBuilder::Boolean(b) => b.append_value(parse_bool(field).ok_or(not_of_kind)?),
            ColumnBuilder::Date(b) => b.append_value(parse_date(field).ok_or(not_of_kind)?),
            ColumnBuilder::DateTime(b) => b.append_value(parse_timestamp(field).ok_or(not_of_kind)?),
            ColumnBuilder::Number(b) => b.append_value(parse_float(field).ok_or(not_of_kind)?),
            ColumnBuilder::String(b) => {
                b.append_value(std::str::from_utf8(field).map_err(|_| FieldError::InvalidUtf8)?)
            }
        }
        Ok(())
    }

    pub fn finish(&mut self) -> ArrayRef {
        match self {
            ColumnBuilder::Integer(b) => Arc::new(b.finish()),
            ColumnBuilder::Boolean(b) => Arc::new(b.finish()),
            ColumnBuilder::Date(b) => Arc::new(b.finish()),
            ColumnBuilder::DateTime(b) => Arc::new(b.finish()),
            ColumnBuilder::Number(b) => Arc::new(b.finish()),
            ColumnBuilder::String(b) => Arc::new(b.finish()),
        }
    }
}

impl RowSink for Vec<ColumnBuilder> {
    fn null(&mut self, column: usize) {
        self[column].append_null();
    }

    fn value(&mut self, column: usize, field: &[u8]) -> Result<(), FieldError> {
        self[column].append(field)
    }
}
