//! Rows written as Singer RECORD lines straight from the CSV fields: each field is parsed as its
//! column's kind, as `columns.rs` does for Arrow, and written as the Arrow encoder would write
//! that value, so both outputs are the same JSON.

use dativo_reader::RecordLineWriter;

use crate::kinds::Kind;
use crate::rows::{FieldError, RowSink};
use crate::values::{parse_bool, parse_date, parse_float, parse_int, parse_timestamp};

/// Whether `field` is an integer written as the integer encoder writes it (`0`, or an optional
/// minus and up to 18 digits without a leading zero, so well inside 64 bits): it is copied.
fn is_canonical_integer(field: &[u8]) -> bool {
    let digits = field.strip_prefix(b"-").unwrap_or(field);
    if digits == b"0" {
        return digits.len() == field.len();
    }
    (1..=18).contains(&digits.len()) && digits[0] != b'0' && digits.iter().all(u8::is_ascii_digit)
}

/// Whether the float encoder (ryu: the shortest digits that read back as the same double)
/// writes `field` back unchanged, so it is copied instead of parsed and formatted. True for
/// `-?(0|[1-9][0-9]*)\.[0-9]+` with no trailing zero in the fraction (but `X.0`), at most 15
/// significant digits, and at most four zeros after `0.`: a decimal of at most 15 significant
/// digits is the only one that short reading as its double, so it is also ryu's shortest, and
/// ryu writes that range without an exponent.
fn is_shortest_decimal(field: &[u8]) -> bool {
    let body = field.strip_prefix(b"-").unwrap_or(field);
    let Some(point) = body.iter().position(|&b| b == b'.') else {
        return false;
    };
    let (integer, fraction) = (&body[..point], &body[point + 1..]);
    let digits = |part: &[u8]| !part.is_empty() && part.iter().all(u8::is_ascii_digit);
    if !digits(integer) || !digits(fraction) {
        return false;
    }
    if integer.len() > 1 && integer[0] == b'0' {
        return false;
    }
    if fraction == b"0" {
        return integer.len() <= 15;
    }
    if fraction.ends_with(b"0") {
        return false;
    }
    if integer == b"0" {
        let zeros = fraction.iter().take_while(|&&b| b == b'0').count();
        return zeros <= 4 && fraction.len() - zeros <= 15;
    }
    integer.len() + fraction.len() <= 15
}

/// Write a valid timestamp field that is already UTC with seconds (`YYYY-MM-DD[T ]HH:MM:SS`,
/// up to six fraction digits, then `Z`, `+00:00` or nothing) as the timestamp encoder writes
/// it, by copying its parts instead of converting to a count and back; false for any other
/// form, left to the encoder. The fraction is written as the encoder trims it: none when zero,
/// milliseconds when those are exact, else microseconds.
fn copy_utc_timestamp(writer: &RecordLineWriter, out: &mut Vec<u8>, field: &[u8]) -> bool {
    if field.len() < 19 || field[13] != b':' || field[16] != b':' {
        return false;
    }
    let rest = &field[19..];
    let (fraction, zone) = match rest.first() {
        Some(b'.') => {
            let digits = rest[1..].iter().take_while(|b| b.is_ascii_digit()).count();
            (&rest[1..1 + digits], &rest[1 + digits..])
        }
        _ => (&rest[..0], rest),
    };
    if fraction.len() > 6 || !matches!(zone, b"" | b"Z" | b"+00:00") {
        return false;
    }
    let mut micros = *b"000000";
    micros[..fraction.len()].copy_from_slice(fraction);
    let kept: &[u8] = if micros == *b"000000" {
        b""
    } else if micros[3..] == *b"000" {
        &micros[..3]
    } else {
        &micros
    };
    let mut text = [0u8; 34];
    text[0] = b'"';
    text[1..11].copy_from_slice(&field[..10]);
    text[11] = b'T';
    text[12..20].copy_from_slice(&field[11..19]);
    let mut end = 20;
    if !kept.is_empty() {
        text[end] = b'.';
        text[end + 1..end + 1 + kept.len()].copy_from_slice(kept);
        end += 1 + kept.len();
    }
    text[end..end + 7].copy_from_slice(b"+00:00\"");
    writer.json(out, &text[..end + 7]);
    true
}

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
            Kind::Integer if is_canonical_integer(field) => writer.json(out, field),
            Kind::Integer => writer.integer(out, parse_int(field).ok_or(not_of_kind)?),
            Kind::Boolean => writer.boolean(out, parse_bool(field).ok_or(not_of_kind)?),
            Kind::Date => writer.date(out, i64::from(parse_date(field).ok_or(not_of_kind)?)),
            Kind::DateTime => {
                let micros = parse_timestamp(field).ok_or(not_of_kind)?;
                if !copy_utc_timestamp(writer, out, field) {
                    writer.timestamp(out, i128::from(micros) * 1_000, true)
                }
            }
            Kind::Number if is_shortest_decimal(field) => writer.json(out, field),
            Kind::Number => writer.float(out, parse_float(field).ok_or(not_of_kind)?),
            Kind::Null | Kind::String => {
                writer.utf8_string(out, field).map_err(|_| FieldError::InvalidUtf8)?
            }
        }
        Ok(())
    }

    fn end_row(&mut self) {
        self.writer.end_record(self.out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written_by_ryu(field: &str) -> String {
        let mut writer = RecordLineWriter::new("s", ["x"]);
        let mut out = Vec::new();
        writer.float(&mut out, field.parse().unwrap());
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn decimals_copied_are_those_ryu_writes_unchanged() {
        let copied = [
            "0.0", "-0.0", "1.5", "35.761", "4357.61", "100.0", "0.1", "0.00001", "-0.25",
            "123456789012345.0", "0.123456789012345", "9007199254740.99", "99999999999999.9",
        ];
        for field in copied {
            assert!(is_shortest_decimal(field.as_bytes()), "{field} should be copied");
            assert_eq!(written_by_ryu(field), field);
        }
        let converted = [
            "1", "1e5", "1.50", "01.5", "0.000001", "1234567890123456.0", "0.1234567890123456",
            ".5", "5.", "+1.5", "1.5e3", "NaN", "-", "1.2.3",
        ];
        for field in converted {
            assert!(!is_shortest_decimal(field.as_bytes()), "{field} should be converted");
        }
    }

    #[test]
    fn integers_copied_are_those_the_encoder_writes_unchanged() {
        for field in ["0", "7", "-7", "123456789012345678", "-900000000000000000"] {
            assert!(is_canonical_integer(field.as_bytes()), "{field}");
            assert_eq!(parse_int(field.as_bytes()).unwrap().to_string(), field);
        }
        for field in ["-0", "007", "0x10", "", "-", "+1", "1234567890123456789", " 1", "1.0"] {
            assert!(!is_canonical_integer(field.as_bytes()), "{field}");
        }
    }

    #[test]
    fn utc_timestamps_copied_as_the_encoder_writes_them() {
        let writer = RecordLineWriter::new("s", ["x"]);
        let fields = [
            "2020-01-01T00:00:37.000000+00:00", "2020-01-01 10:00:00", "2024-02-29T23:59:59Z",
            "2024-01-31T10:00:00.5", "2024-01-31T10:00:00.123456Z", "2024-01-31T10:00:00.1234+00:00",
            "2024-01-31T10:00:00.120", "1969-12-31T23:59:59.999999", "2024-01-31T10:00:00.000001",
        ];
        for field in fields {
            let micros = parse_timestamp(field.as_bytes()).expect(field);
            let (mut copied, mut encoded) = (Vec::new(), Vec::new());
            assert!(copy_utc_timestamp(&writer, &mut copied, field.as_bytes()), "{field}");
            writer.timestamp(&mut encoded, i128::from(micros) * 1_000, true);
            assert_eq!(String::from_utf8(copied).unwrap(), String::from_utf8(encoded).unwrap());
        }
        for other in ["2024-01-31T10:00:00+02:00", "2024-01-31T10:00", "2024-01-31", "2024-01-31T10"] {
            assert!(parse_timestamp(other.as_bytes()).is_some(), "{other}");
            assert!(!copy_utc_timestamp(&writer, &mut Vec::new(), other.as_bytes()), "{other}");
        }
    }

    #[test]
    fn random_short_decimals_match_ryu() {
        // A fixed linear congruential sequence: many shapes, the same on every run.
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut copied = 0;
        for _ in 0..200_000 {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            let integer_digits = (state >> 60) as usize;
            let fraction_digits = 1 + ((state >> 56) & 0xF) as usize;
            let number = (state >> 8) % 10u64.pow(15);
            let text = format!("{number:015}");
            let integer = text[..integer_digits.min(15)].trim_start_matches('0');
            let integer = if integer.is_empty() { "0" } else { integer };
            let fraction = &text[15 - fraction_digits.min(15)..];
            let field = format!("{integer}.{fraction}");
            if is_shortest_decimal(field.as_bytes()) {
                assert_eq!(written_by_ryu(&field), field);
                copied += 1;
            }
        }
        assert!(copied > 50_000, "only {copied} of the sample were copyable");
    }
}
