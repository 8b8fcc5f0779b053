//! Rows written as Singer RECORD lines straight from the CSV fields: each field is parsed as its
//! column's kind, as `columns.rs` does for Arrow, and written as the Arrow encoder would write
//! that value, so both outputs are the same JSON.

use dativo_reader::RecordLineWriter;

use crate::kinds::Kind;
use crate::rows::{FieldError, RowSink};
use crate::values::{parse_bool, parse_date, parse_float, parse_int, parse_timestamp};

pub struct JsonRows<'a> {
    writer: &'a mut RecordLineWriter,
    kinds: &'a [Kind],
    out: &'a mut Vec<u8>,
}

impl<'a> JsonRows<'a> {
    pub fn new(writer: &'a mut RecordLineWriter, kinds: &'a [Kind], out: &'a mut Vec<u8>) -> Self {
        JsonRows { writer, kinds, out }
    }
}

impl RowSink for JsonRows<'_> {
    fn begin_row(&mut self) {
        self.writer.begin_record(self.out);
    }

    fn null(&mut self, column: usize) {
        self.writer.key(self.out, column);
        self.writer.null(self.out);
    }

    fn value(&mut self, column: usize, field: &[u8]) -> Result<(), FieldError> {
        let (writer, out) = (&mut *self.writer, &mut *self.out);
        writer.key(out, column);
        let not_of_kind = FieldError::NotOfKind;
        match self.kinds[column] {
            Kind::Integer => writer.integer(out, parse_int(field).ok_or(not_of_kind)?),
            Kind::Boolean => writer.boolean(out, parse_bool(field).ok_or(not_of_kind)?),
            Kind::Date => writer.date(out, i64::from(parse_date(field).ok_or(not_of_kind)?)),
            Kind::DateTime => {
                let micros = parse_timestamp(field).ok_or(not_of_kind)?;
                writer.timestamp(out, i128::from(micros) * 1_000, true)
            }
            Kind::Number => writer.float(out, parse_float(field).ok_or(not_of_kind)?),
            Kind::Null | Kind::String => {
                writer.string(out, std::str::from_utf8(field).map_err(|_| FieldError::InvalidUtf8)?)
            }
        }
        Ok(())
    }

    fn end_row(&mut self) {
        self.writer.end_record(self.out);
    }
}
