//! Building one Arrow column of a batch from CSV fields of a known kind.

use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Date32Builder, Float64Builder, Int64Builder, StringBuilder,
    Time32SecondBuilder, TimestampNanosecondBuilder, TimestampSecondBuilder,
};
use arrow_array::{ArrayRef, NullArray};

use crate::kinds::Kind;
use crate::values::{parse_bool, parse_date, parse_float, parse_int, parse_time, parse_timestamp};

pub enum ColumnBuilder {
    Null(usize),
    Integer(Int64Builder),
    Boolean(BooleanBuilder),
    Date(Date32Builder),
    Time(Time32SecondBuilder),
    TimestampSeconds(TimestampSecondBuilder),
    TimestampNanos(TimestampNanosecondBuilder),
    Float(Float64Builder),
    String(StringBuilder),
}

/// Why a field could not be added, for the caller to place in the file.
pub enum FieldError {
    NotOfKind,
    InvalidUtf8,
}

impl ColumnBuilder {
    pub fn new(kind: Kind, capacity: usize) -> Self {
        match kind {
            Kind::Null => ColumnBuilder::Null(0),
            Kind::Integer => ColumnBuilder::Integer(Int64Builder::with_capacity(capacity)),
            Kind::Boolean => ColumnBuilder::Boolean(BooleanBuilder::with_capacity(capacity)),
            Kind::Date => ColumnBuilder::Date(Date32Builder::with_capacity(capacity)),
            Kind::Time => ColumnBuilder::Time(Time32SecondBuilder::with_capacity(capacity)),
            Kind::TimestampSeconds => {
                ColumnBuilder::TimestampSeconds(TimestampSecondBuilder::with_capacity(capacity))
            }
            Kind::TimestampSecondsUtc => ColumnBuilder::TimestampSeconds(
                TimestampSecondBuilder::with_capacity(capacity).with_timezone("UTC"),
            ),
            Kind::TimestampNanos => {
                ColumnBuilder::TimestampNanos(TimestampNanosecondBuilder::with_capacity(capacity))
            }
            Kind::TimestampNanosUtc => ColumnBuilder::TimestampNanos(
                TimestampNanosecondBuilder::with_capacity(capacity).with_timezone("UTC"),
            ),
            Kind::Float => ColumnBuilder::Float(Float64Builder::with_capacity(capacity)),
            Kind::String => ColumnBuilder::String(StringBuilder::with_capacity(capacity, capacity * 8)),
        }
    }

    pub fn append_null(&mut self) {
        match self {
            ColumnBuilder::Null(count) => *count += 1,
            ColumnBuilder::Integer(b) => b.append_null(),
            ColumnBuilder::Boolean(b) => b.append_null(),
            ColumnBuilder::Date(b) => b.append_null(),
            ColumnBuilder::Time(b) => b.append_null(),
            ColumnBuilder::TimestampSeconds(b) => b.append_null(),
            ColumnBuilder::TimestampNanos(b) => b.append_null(),
            ColumnBuilder::Float(b) => b.append_null(),
            ColumnBuilder::String(b) => b.append_null(),
        }
    }

    /// Append a field that is not a null value; `kind` is the column's kind.
    pub fn append(&mut self, kind: Kind, field: &[u8]) -> Result<(), FieldError> {
        let not_of_kind = FieldError::NotOfKind;
        match self {
            ColumnBuilder::Null(_) => return Err(not_of_kind),
            ColumnBuilder::Integer(b) => b.append_value(parse_int(field).ok_or(not_of_kind)?),
            ColumnBuilder::Boolean(b) => b.append_value(parse_bool(field).ok_or(not_of_kind)?),
            ColumnBuilder::Date(b) => b.append_value(parse_date(field).ok_or(not_of_kind)?),
            ColumnBuilder::Time(b) => b.append_value(parse_time(field).ok_or(not_of_kind)?),
            ColumnBuilder::TimestampSeconds(b) => {
                let t = parse_timestamp(field).ok_or(FieldError::NotOfKind)?;
                let wants_zone = kind == Kind::TimestampSecondsUtc;
                if t.fractional || t.zoned != wants_zone {
                    return Err(not_of_kind);
                }
                b.append_value(t.seconds)
            }
            ColumnBuilder::TimestampNanos(b) => {
                let t = parse_timestamp(field).ok_or(FieldError::NotOfKind)?;
                // A naive timestamp is read as UTC in a UTC column, never the other way round.
                if t.zoned && kind == Kind::TimestampNanos {
                    return Err(not_of_kind);
                }
                let nanos = t
                    .seconds
                    .checked_mul(1_000_000_000)
                    .and_then(|n| n.checked_add(i64::from(t.nanos)))
                    .ok_or(not_of_kind)?;
                b.append_value(nanos)
            }
            ColumnBuilder::Float(b) => b.append_value(parse_float(field).ok_or(not_of_kind)?),
            ColumnBuilder::String(b) => {
                b.append_value(std::str::from_utf8(field).map_err(|_| FieldError::InvalidUtf8)?)
            }
        }
        Ok(())
    }

    pub fn finish(&mut self) -> ArrayRef {
        match self {
            ColumnBuilder::Null(count) => Arc::new(NullArray::new(std::mem::take(count))),
            ColumnBuilder::Integer(b) => Arc::new(b.finish()),
            ColumnBuilder::Boolean(b) => Arc::new(b.finish()),
            ColumnBuilder::Date(b) => Arc::new(b.finish()),
            ColumnBuilder::Time(b) => Arc::new(b.finish()),
            ColumnBuilder::TimestampSeconds(b) => Arc::new(b.finish()),
            ColumnBuilder::TimestampNanos(b) => Arc::new(b.finish()),
            ColumnBuilder::Float(b) => Arc::new(b.finish()),
            ColumnBuilder::String(b) => Arc::new(b.finish()),
        }
    }
}
