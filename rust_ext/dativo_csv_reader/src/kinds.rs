//! Column kinds and their inference, in pyarrow's order: a column takes the first kind, of
//! Integer, Boolean, Date, Time, Timestamp (s, s UTC, ns, ns UTC) and Float, that every non-null
//! field of the file parses as; a column of nulls only is Null; anything else is String.

use arrow_schema::{DataType, TimeUnit};

use crate::values::{parse_bool, parse_date, parse_float, parse_int, parse_time, parse_timestamp};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Null,
    Integer,
    Boolean,
    Date,
    Time,
    TimestampSeconds,
    TimestampSecondsUtc,
    TimestampNanos,
    TimestampNanosUtc,
    Float,
    String,
}

/// The kinds inference tries, in order; bit `i` of a candidate mask stands for `INFERRED[i]`.
const INFERRED: [Kind; 9] = [
    Kind::Integer,
    Kind::Boolean,
    Kind::Date,
    Kind::Time,
    Kind::TimestampSeconds,
    Kind::TimestampSecondsUtc,
    Kind::TimestampNanos,
    Kind::TimestampNanosUtc,
    Kind::Float,
];
const ALL_CANDIDATES: u16 = (1 << INFERRED.len()) - 1;
const TIMESTAMP_BITS: u16 = 0b1111 << 4;

impl Kind {
    /// The type names accepted in the `column_types` config.
    pub const NAMES: [&'static str; 8] =
        ["integer", "number", "boolean", "date", "time", "timestamp", "timestamp_utc", "string"];

    pub fn from_name(name: &str) -> Option<Kind> {
        Some(match name {
            "integer" => Kind::Integer,
            "number" => Kind::Float,
            "boolean" => Kind::Boolean,
            "date" => Kind::Date,
            "time" => Kind::Time,
            "timestamp" => Kind::TimestampNanos,
            "timestamp_utc" => Kind::TimestampNanosUtc,
            "string" => Kind::String,
            _ => return None,
        })
    }

    /// What a user reads in an error about a field that is not of this kind.
    pub fn describe(self) -> &'static str {
        match self {
            Kind::Null => "null",
            Kind::Integer => "an integer",
            Kind::Boolean => "a boolean (true/false/1/0)",
            Kind::Date => "a date (YYYY-MM-DD)",
            Kind::Time => "a time (HH:MM[:SS])",
            Kind::TimestampSeconds | Kind::TimestampNanos => "a timestamp without time zone",
            Kind::TimestampSecondsUtc | Kind::TimestampNanosUtc => "a timestamp",
            Kind::Float => "a number",
            Kind::String => "text",
        }
    }

    pub fn data_type(self) -> DataType {
        let utc = || Some("UTC".into());
        match self {
            Kind::Null => DataType::Null,
            Kind::Integer => DataType::Int64,
            Kind::Boolean => DataType::Boolean,
            Kind::Date => DataType::Date32,
            Kind::Time => DataType::Time32(TimeUnit::Second),
            Kind::TimestampSeconds => DataType::Timestamp(TimeUnit::Second, None),
            Kind::TimestampSecondsUtc => DataType::Timestamp(TimeUnit::Second, utc()),
            Kind::TimestampNanos => DataType::Timestamp(TimeUnit::Nanosecond, None),
            Kind::TimestampNanosUtc => DataType::Timestamp(TimeUnit::Nanosecond, utc()),
            Kind::Float => DataType::Float64,
            Kind::String => DataType::Utf8,
        }
    }
}

/// The kinds (bits of `candidates`) that one non-null field parses as.
fn matching_kinds(field: &[u8], candidates: u16) -> u16 {
    let mut matched = 0u16;
    let wanted = |bit: usize| candidates & (1 << bit) != 0;
    let integer = wanted(0) && parse_int(field).is_some();
    if integer {
        matched |= 1;
    }
    if wanted(1) && parse_bool(field).is_some() {
        matched |= 1 << 1;
    }
    if wanted(2) && parse_date(field).is_some() {
        matched |= 1 << 2;
    }
    if wanted(3) && parse_time(field).is_some() {
        matched |= 1 << 3;
    }
    if candidates & TIMESTAMP_BITS != 0 {
        if let Some(t) = parse_timestamp(field) {
            matched |= match (t.fractional, t.zoned) {
                (false, false) => (1 << 4) | (1 << 6),
                (false, true) => (1 << 5) | (1 << 7),
                (true, false) => 1 << 6,
                (true, true) => 1 << 7,
            };
        }
    }
    if wanted(8) && parse_float(field).is_some() {
        matched |= 1 << 8;
    }
    matched & candidates
}

/// Inference for one column, fed every field of the file.
#[derive(Debug, Clone, Copy)]
pub struct KindInference {
    candidates: u16,
    saw_value: bool,
}

impl Default for KindInference {
    fn default() -> Self {
        KindInference { candidates: ALL_CANDIDATES, saw_value: false }
    }
}

impl KindInference {
    /// Account for one field that is not a null value.
    pub fn observe(&mut self, field: &[u8]) {
        self.saw_value = true;
        if self.candidates != 0 {
            self.candidates = matching_kinds(field, self.candidates);
        }
    }

    pub fn kind(&self) -> Kind {
        if !self.saw_value {
            return Kind::Null;
        }
        match self.candidates.trailing_zeros() as usize {
            bit if bit < INFERRED.len() => INFERRED[bit],
            _ => Kind::String,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn infer(fields: &[&str]) -> Kind {
        let mut inference = KindInference::default();
        fields.iter().for_each(|f| inference.observe(f.as_bytes()));
        inference.kind()
    }

    #[test]
    fn first_kind_that_holds_every_field_wins() {
        assert_eq!(infer(&["1", "2"]), Kind::Integer);
        assert_eq!(infer(&["1", "true"]), Kind::Boolean);
        assert_eq!(infer(&["2", "true"]), Kind::String);
        assert_eq!(infer(&["1", "1.5"]), Kind::Float);
        assert_eq!(infer(&["2020-01-01", "2020-01-01 10:00:00"]), Kind::TimestampSeconds);
        assert_eq!(infer(&["2020-01-01T10:00:00.5", "2020-01-01"]), Kind::TimestampNanos);
        assert_eq!(infer(&["2020-01-01 10:00:00", "2020-01-01T10:00:00Z"]), Kind::String);
        assert_eq!(infer(&[]), Kind::Null);
    }
}
