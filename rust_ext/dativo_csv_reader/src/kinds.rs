//! Column kinds and their inference, as Dativo's tap-csv infers them: a column takes the first
//! of integer, boolean, date, date-time and number that every non-null field parses as; a column
//! of nulls only is null (read as text); anything else is string.

use arrow_schema::{DataType, TimeUnit};

use crate::values::{is_float, is_long_integer, parse_bool, parse_date, parse_int, parse_timestamp};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Null,
    Integer,
    Boolean,
    Date,
    DateTime,
    Number,
    String,
}

/// The kinds inference tries, in order; bit `i` of a candidate mask stands for `INFERRED[i]`.
const INFERRED: [Kind; 5] = [Kind::Integer, Kind::Boolean, Kind::Date, Kind::DateTime, Kind::Number];
const ALL_CANDIDATES: u8 = (1 << INFERRED.len()) - 1;
const NUMBER_BIT: u8 = 1 << 4;

impl Kind {
    /// The type names accepted in the `column_types` config (tap-csv's kind names).
    pub const NAMES: [&'static str; 6] = ["integer", "boolean", "date", "date-time", "number", "string"];

    pub fn from_name(name: &str) -> Option<Kind> {
        Some(match name {
            "integer" => Kind::Integer,
            "boolean" => Kind::Boolean,
            "date" => Kind::Date,
            "date-time" => Kind::DateTime,
            "number" => Kind::Number,
            "string" => Kind::String,
            _ => return None,
        })
    }

    /// The kind's name, as a user reads it in an error.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Null => "null",
            Kind::Integer => "integer",
            Kind::Boolean => "boolean",
            Kind::Date => "date",
            Kind::DateTime => "date-time",
            Kind::Number => "number",
            Kind::String => "string",
        }
    }

    pub fn data_type(self) -> DataType {
        match self {
            Kind::Integer => DataType::Int64,
            Kind::Boolean => DataType::Boolean,
            Kind::Date => DataType::Date32,
            Kind::DateTime => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            Kind::Number => DataType::Float64,
            Kind::Null | Kind::String => DataType::Utf8,
        }
    }
}

/// The kinds (bits of `candidates`) that one non-null field parses as.
fn matching_kinds(field: &[u8], candidates: u8) -> u8 {
    let tests: [fn(&[u8]) -> bool; 5] = [
        |f| parse_int(f).is_some(),
        |f| parse_bool(f).is_some(),
        |f| parse_date(f).is_some(),
        |f| parse_timestamp(f).is_some(),
        is_float,
    ];
    let mut matched = 0u8;
    for (bit, test) in tests.iter().enumerate() {
        if candidates & (1 << bit) != 0 && test(field) {
            matched |= 1 << bit;
        }
        // A decimal integer is a number too (unless it is long); skip parsing it again as a float.
        if bit == 0 && matched == 1 && field.iter().all(|b| b.is_ascii_digit() || *b == b'-') {
            let number = if is_long_integer(field) { 0 } else { NUMBER_BIT };
            return (matched | number) & candidates;
        }
    }
    matched
}

/// Inference for one column, fed its non-null fields.
#[derive(Debug, Clone, Copy)]
pub struct KindInference {
    candidates: u8,
    saw_value: bool,
}

impl Default for KindInference {
    fn default() -> Self {
        KindInference { candidates: ALL_CANDIDATES, saw_value: false }
    }
}

impl KindInference {
    pub fn observe(&mut self, field: &[u8]) {
        self.saw_value = true;
        if self.candidates != 0 {
            self.candidates = matching_kinds(field, self.candidates);
        }
    }

    /// Whether the column is text for good: a value matched no other kind, so no later field,
    /// nor what another share observed, can change it.
    pub fn is_settled(&self) -> bool {
        self.saw_value && self.candidates == 0
    }

    /// Take in what `other` observed of the same column (another share of the file): a field
    /// narrows the candidates to the kinds it parses as, so the order of fields never matters.
    pub fn merge(&mut self, other: &KindInference) {
        self.saw_value |= other.saw_value;
        self.candidates &= other.candidates;
    }

    pub fn kind(&self) -> Kind {
        if !self.saw_value {
            return Kind::Null;
        }
        INFERRED
            .get(self.candidates.trailing_zeros() as usize)
            .copied()
            .unwrap_or(Kind::String)
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
        assert_eq!(infer(&["1", "true"]), Kind::String);
        assert_eq!(infer(&["1", "1.5"]), Kind::Number);
        assert_eq!(infer(&["0x10", "1.5"]), Kind::String);
        assert_eq!(infer(&["2020-01-01", "2020-01-01 10:00:00"]), Kind::DateTime);
        assert_eq!(infer(&["2020-01-01 10:00:00", "2020-01-01T10:00:00Z"]), Kind::DateTime);
        assert_eq!(infer(&["TRUE", "false"]), Kind::Boolean);
        assert_eq!(infer(&[]), Kind::Null);
    }

    #[test]
    fn long_integers_beside_decimals_stay_text() {
        assert_eq!(infer(&["1234567890123456789", "1"]), Kind::Integer);
        assert_eq!(infer(&["1234567890123456789", "1.5"]), Kind::String);
        assert_eq!(infer(&["1.5", "-1234567890123456"]), Kind::String);
        assert_eq!(infer(&["99999999999999999999"]), Kind::String);
        assert_eq!(infer(&["123456789012345", "1.5"]), Kind::Number);
    }

    #[test]
    fn shares_observed_apart_merge_into_the_kind_of_the_whole() {
        let fields = ["1", "2.5", "", "7", "2020-01-01", "true", "x"];
        for split in 0..=fields.len() {
            for end in split..=fields.len() {
                let whole = &fields[..end];
                let (mut first, mut second) = (KindInference::default(), KindInference::default());
                whole[..split].iter().filter(|f| !f.is_empty()).for_each(|f| first.observe(f.as_bytes()));
                whole[split..].iter().filter(|f| !f.is_empty()).for_each(|f| second.observe(f.as_bytes()));
                first.merge(&second);
                let nonempty: Vec<&str> = whole.iter().copied().filter(|f| !f.is_empty()).collect();
                assert_eq!(first.kind(), infer(&nonempty), "{whole:?} split at {split}");
            }
        }
    }
}
