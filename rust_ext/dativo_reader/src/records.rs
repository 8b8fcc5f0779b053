//! Singer RECORD lines in native code, so a tap can write a reader's output to stdout as bytes
//! with no per-record work in Python: from Arrow batches (`encode_records`), or value by value
//! (`RecordLineWriter`) for a reader that converts its source's values straight to JSON.
//!
//! Values are written as Dativo's Python encoder (polars' NDJSON writer) writes them: keys in
//! column order, NaN and infinities as null, dates as `YYYY-MM-DD`, timestamps as ISO 8601 with
//! the fraction trimmed to milli-, micro- or nanoseconds and `+00:00` when the zone is UTC.

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type,
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType, UInt16Type, UInt32Type, UInt64Type, UInt8Type,
};
use arrow_array::{Array, ArrayRef, ArrowPrimitiveType, RecordBatch};
use arrow_schema::{DataType, TimeUnit};

enum Column<'a> {
    Null,
    Boolean(&'a arrow_array::BooleanArray),
    /// Int64 and Float64 (the common types) are read directly, without a boxed accessor.
    Int64(&'a arrow_array::PrimitiveArray<Int64Type>),
    Int(Box<dyn Fn(usize) -> i64 + 'a>),
    Float64(&'a arrow_array::PrimitiveArray<Float64Type>),
    UInt(&'a arrow_array::PrimitiveArray<UInt64Type>),
    Float(Box<dyn Fn(usize) -> f64 + 'a>),
    Utf8(&'a arrow_array::StringArray),
    LargeUtf8(&'a arrow_array::LargeStringArray),
    Date(&'a arrow_array::PrimitiveArray<Date32Type>),
    /// Nanoseconds since the epoch, and whether to write `+00:00`.
    Timestamp(Box<dyn Fn(usize) -> i128 + 'a>, bool),
}

/// Append `bytes` to `out`. A RECORD line is built from many short pieces (keys, values,
/// quotes); copying one of up to 16 bytes with two overlapping word moves, inline, costs less
/// than a call to memcpy, which took ~14% of the CSV reader's encoding time.
#[inline(always)]
fn put(out: &mut Vec<u8>, bytes: &[u8]) {
    let len = bytes.len();
    if len > 16 {
        out.extend_from_slice(bytes);
        return;
    }
    out.reserve(len);
    // SAFETY: `reserve` made room for `len` more bytes after `out.len()`; every read stays
    // inside `bytes` and every write inside that room (the overlapping moves write the same
    // bytes twice); `set_len` then covers exactly the bytes written.
    unsafe {
        let (src, dst) = (bytes.as_ptr(), out.as_mut_ptr().add(out.len()));
        if len >= 8 {
            let (head, tail) = (src.cast::<u64>().read_unaligned(), src.add(len - 8).cast::<u64>().read_unaligned());
            dst.cast::<u64>().write_unaligned(head);
            dst.add(len - 8).cast::<u64>().write_unaligned(tail);
        } else if len >= 4 {
            let (head, tail) = (src.cast::<u32>().read_unaligned(), src.add(len - 4).cast::<u32>().read_unaligned());
            dst.cast::<u32>().write_unaligned(head);
            dst.add(len - 4).cast::<u32>().write_unaligned(tail);
        } else {
            for i in 0..len {
                *dst.add(i) = *src.add(i);
            }
        }
        out.set_len(out.len() + len);
    }
}

/// NaN and infinities are null, as polars writes them.
fn write_float(out: &mut Vec<u8>, floats: &mut ryu::Buffer, value: f64) {
    if value.is_finite() {
        put(out, floats.format_finite(value).as_bytes());
    } else {
        out.extend_from_slice(b"null");
    }
}

fn needs_escape(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

#[inline]
fn write_string(out: &mut Vec<u8>, text: &str) {
    out.push(b'"');
    let bytes = text.as_bytes();
    // Most text needs no escape: copy it whole.
    if !bytes.iter().any(|&b| needs_escape(b)) {
        put(out, bytes);
        out.push(b'"');
        return;
    }
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        if escape.is_empty() {
            out.extend_from_slice(format!("\\u{:04x}", b).as_bytes());
        } else {
            out.extend_from_slice(escape);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// Year, month, day of a count of days since 1970-01-01 (Hinnant's civil-from-days).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `value` in decimal, zero-padded to `width` digits (no allocation: this runs per cell).
fn push_padded(out: &mut Vec<u8>, value: u64, width: usize) {
    let mut digits = [b'0'; 20];
    let mut rest = value;
    let mut used = 0;
    while rest > 0 || used < width {
        digits[19 - used] = b'0' + (rest % 10) as u8;
        rest /= 10;
        used += 1;
    }
    put(out, &digits[20 - used..]);
}

fn write_date(out: &mut Vec<u8>, days: i64) {
    let (year, month, day) = civil_from_days(days);
    if year < 0 {
        out.push(b'-');
    }
    push_padded(out, year.unsigned_abs(), 4);
    out.push(b'-');
    push_padded(out, u64::from(month), 2);
    out.push(b'-');
    push_padded(out, u64::from(day), 2);
}

fn write_timestamp(out: &mut Vec<u8>, nanos: i128, utc: bool) {
    // 128-bit division is slow: most timestamps fit in 64 bits of nanoseconds (1677 to 2262).
    let (seconds, fraction) = match i64::try_from(nanos) {
        Ok(nanos) => (nanos.div_euclid(1_000_000_000), nanos.rem_euclid(1_000_000_000) as u32),
        Err(_) => (nanos.div_euclid(1_000_000_000) as i64, nanos.rem_euclid(1_000_000_000) as u32),
    };
    let days = seconds.div_euclid(86_400);
    let of_day = seconds.rem_euclid(86_400);
    out.push(b'"');
    write_date(out, days);
    out.push(if utc { b'T' } else { b' ' });
    let of_day = of_day as u64;
    push_padded(out, of_day / 3600, 2);
    out.push(b':');
    push_padded(out, of_day / 60 % 60, 2);
    out.push(b':');
    push_padded(out, of_day % 60, 2);
    if fraction != 0 {
        out.push(b'.');
        let fraction = u64::from(fraction);
        if fraction % 1_000_000 == 0 {
            push_padded(out, fraction / 1_000_000, 3);
        } else if fraction % 1_000 == 0 {
            push_padded(out, fraction / 1_000, 6);
        } else {
            push_padded(out, fraction, 9);
        }
    }
    if utc {
        out.extend_from_slice(b"+00:00");
    }
    out.push(b'"');
}

fn integers<'a, T: ArrowPrimitiveType>(array: &'a ArrayRef) -> Column<'a>
where
    T::Native: Into<i64>,
{
    let values = array.as_primitive::<T>();
    Column::Int(Box::new(move |i| values.value(i).into()))
}

fn floats<'a, T: ArrowPrimitiveType>(array: &'a ArrayRef) -> Column<'a>
where
    T::Native: Into<f64>,
{
    let values = array.as_primitive::<T>();
    Column::Float(Box::new(move |i| values.value(i).into()))
}

fn timestamps<'a, T: ArrowPrimitiveType<Native = i64>>(array: &'a ArrayRef, utc: bool) -> Column<'a> {
    let values = array.as_primitive::<T>();
    let scale: i128 = match T::DATA_TYPE {
        DataType::Timestamp(TimeUnit::Second, _) => 1_000_000_000,
        DataType::Timestamp(TimeUnit::Millisecond, _) => 1_000_000,
        DataType::Timestamp(TimeUnit::Microsecond, _) => 1_000,
        _ => 1,
    };
    Column::Timestamp(Box::new(move |i| i128::from(values.value(i)) * scale), utc)
}

fn column<'a>(name: &str, array: &'a ArrayRef) -> Result<Column<'a>, String> {
    Ok(match array.data_type() {
        DataType::Null => Column::Null,
        DataType::Boolean => Column::Boolean(array.as_boolean()),
        DataType::Int8 => integers::<Int8Type>(array),
        DataType::Int16 => integers::<Int16Type>(array),
        DataType::Int32 => integers::<Int32Type>(array),
        DataType::Int64 => Column::Int64(array.as_primitive::<Int64Type>()),
        DataType::UInt8 => integers::<UInt8Type>(array),
        DataType::UInt16 => integers::<UInt16Type>(array),
        DataType::UInt32 => integers::<UInt32Type>(array),
        DataType::UInt64 => Column::UInt(array.as_primitive::<UInt64Type>()),
        DataType::Float32 => floats::<Float32Type>(array),
        DataType::Float64 => Column::Float64(array.as_primitive::<Float64Type>()),
        DataType::Utf8 => Column::Utf8(array.as_string::<i32>()),
        DataType::LargeUtf8 => Column::LargeUtf8(array.as_string::<i64>()),
        DataType::Date32 => Column::Date(array.as_primitive::<Date32Type>()),
        DataType::Timestamp(unit, zone) => {
            let utc = match zone.as_deref() {
                None => false,
                Some("UTC" | "+00:00" | "Z" | "Etc/UTC") => true,
                Some(other) => {
                    return Err(format!(
                        "column '{name}': timestamps in time zone {other} cannot be written as RECORDs natively; convert them to UTC"
                    ))
                }
            };
            match unit {
                TimeUnit::Second => timestamps::<TimestampSecondType>(array, utc),
                TimeUnit::Millisecond => timestamps::<TimestampMillisecondType>(array, utc),
                TimeUnit::Microsecond => timestamps::<TimestampMicrosecondType>(array, utc),
                TimeUnit::Nanosecond => timestamps::<TimestampNanosecondType>(array, utc),
            }
        }
        other => {
            return Err(format!(
                "column '{name}': Arrow type {other} cannot be written as RECORDs natively; read Arrow batches instead"
            ))
        }
    })
}

/// Writes RECORD lines of one stream whose records have known keys, value by value, so any
/// reader (an Arrow batch here, CSV fields in `dativo_csv_reader`) produces the same JSON.
///
/// A line is `begin_record`, then per column its `key` and one value call, then `end_record`.
pub struct RecordLineWriter {
    prefix: Vec<u8>,
    /// `"name":` of each column, with the comma before every key but the first.
    keys: Vec<Vec<u8>>,
    integers: itoa::Buffer,
    floats: ryu::Buffer,
}

impl RecordLineWriter {
    pub fn new<'a>(stream: &str, columns: impl IntoIterator<Item = &'a str>) -> Self {
        let keys = columns
            .into_iter()
            .enumerate()
            .map(|(i, name)| {
                let mut key = if i == 0 { Vec::new() } else { vec![b','] };
                write_string(&mut key, name);
                key.push(b':');
                key
            })
            .collect();
        let mut prefix = b"{\"type\":\"RECORD\",\"stream\":".to_vec();
        write_string(&mut prefix, stream);
        prefix.extend_from_slice(b",\"record\":{");
        RecordLineWriter { prefix, keys, integers: itoa::Buffer::new(), floats: ryu::Buffer::new() }
    }

    /// Bytes of a line without its values: what to reserve per row, besides the values.
    pub fn envelope_len(&self) -> usize {
        self.prefix.len() + self.keys.iter().map(Vec::len).sum::<usize>() + 3
    }

    #[inline]
    pub fn begin_record(&self, out: &mut Vec<u8>) {
        put(out, &self.prefix);
    }

    #[inline]
    pub fn key(&self, out: &mut Vec<u8>, column: usize) {
        put(out, &self.keys[column]);
    }

    #[inline]
    pub fn end_record(&self, out: &mut Vec<u8>) {
        put(out, b"}}\n");
    }

    #[inline]
    pub fn null(&self, out: &mut Vec<u8>) {
        put(out, b"null");
    }

    #[inline]
    pub fn boolean(&self, out: &mut Vec<u8>, value: bool) {
        put(out, if value { b"true" } else { b"false" });
    }

    #[inline]
    pub fn integer(&mut self, out: &mut Vec<u8>, value: i64) {
        put(out, self.integers.format(value).as_bytes());
    }

    #[inline]
    pub fn unsigned(&mut self, out: &mut Vec<u8>, value: u64) {
        put(out, self.integers.format(value).as_bytes());
    }

    /// NaN and infinities are null, as polars writes them.
    #[inline]
    pub fn float(&mut self, out: &mut Vec<u8>, value: f64) {
        write_float(out, &mut self.floats, value);
    }

    /// A value that is already JSON text (a number read from the source as its encoding).
    #[inline]
    pub fn json(&self, out: &mut Vec<u8>, value: &[u8]) {
        put(out, value);
    }

    #[inline]
    pub fn string(&self, out: &mut Vec<u8>, text: &str) {
        write_string(out, text);
    }

    /// Text read as bytes, written as a JSON string; an error if it is not UTF-8. Printable
    /// ASCII (most text) is checked and copied in one pass, without a separate UTF-8 check.
    #[inline]
    pub fn utf8_string(&self, out: &mut Vec<u8>, text: &[u8]) -> Result<(), std::str::Utf8Error> {
        if text.iter().all(|&b| (0x20..0x80).contains(&b) && b != b'"' && b != b'\\') {
            out.push(b'"');
            put(out, text);
            out.push(b'"');
            return Ok(());
        }
        write_string(out, std::str::from_utf8(text)?);
        Ok(())
    }

    /// A date given as days since 1970-01-01, as `"YYYY-MM-DD"`.
    #[inline]
    pub fn date(&self, out: &mut Vec<u8>, days: i64) {
        out.push(b'"');
        write_date(out, days);
        out.push(b'"');
    }

    /// A timestamp given as nanoseconds since the epoch; `utc` writes `T` and `+00:00`.
    #[inline]
    pub fn timestamp(&self, out: &mut Vec<u8>, nanos: i128, utc: bool) {
        write_timestamp(out, nanos, utc);
    }
}

/// Append one RECORD line per row of `batch` for `stream` to `out`.
pub fn encode_records(batch: &RecordBatch, stream: &str, out: &mut Vec<u8>) -> Result<(), String> {
    let schema = batch.schema();
    let columns = schema
        .fields()
        .iter()
        .zip(batch.columns())
        .map(|(field, array)| column(field.name(), array))
        .collect::<Result<Vec<_>, _>>()?;
    let mut writer = RecordLineWriter::new(stream, schema.fields().iter().map(|f| f.name().as_str()));
    let nulls: Vec<_> = batch.columns().iter().map(|array| array.logical_nulls()).collect();
    // One allocation per batch: the envelope and keys of every row, the text, and a guess for
    // the other values, so the buffer rarely grows (and copies) while rows are written.
    let text_bytes: usize = batch
        .columns()
        .iter()
        .map(|array| match array.data_type() {
            DataType::Utf8 => array.as_string::<i32>().values().len(),
            DataType::LargeUtf8 => array.as_string::<i64>().values().len(),
            _ => 0,
        })
        .sum();
    let per_row = writer.envelope_len() + 24 * columns.len();
    out.reserve(batch.num_rows() * per_row + text_bytes * 11 / 10);
    for row in 0..batch.num_rows() {
        writer.begin_record(out);
        for (i, (column, nulls)) in columns.iter().zip(&nulls).enumerate() {
            writer.key(out, i);
            if nulls.as_ref().is_some_and(|n| n.is_null(row)) {
                writer.null(out);
                continue;
            }
            match column {
                Column::Null => writer.null(out),
                Column::Boolean(values) => writer.boolean(out, values.value(row)),
                Column::Int64(values) => writer.integer(out, values.value(row)),
                Column::Int(value) => writer.integer(out, value(row)),
                Column::Float64(values) => writer.float(out, values.value(row)),
                Column::UInt(values) => writer.unsigned(out, values.value(row)),
                Column::Float(value) => writer.float(out, value(row)),
                Column::Utf8(values) => writer.string(out, values.value(row)),
                Column::LargeUtf8(values) => writer.string(out, values.value(row)),
                Column::Date(values) => writer.date(out, i64::from(values.value(row))),
                Column::Timestamp(value, utc) => writer.timestamp(out, value(row), *utc),
            }
        }
        writer.end_record(out);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip_the_calendar() {
        let mut out = Vec::new();
        write_date(&mut out, 0);
        write_date(&mut out, -1);
        write_date(&mut out, 19_753);
        assert_eq!(out, b"1970-01-011969-12-312024-01-31");
    }

    #[test]
    fn timestamps_trim_their_fraction() {
        let mut out = Vec::new();
        write_timestamp(&mut out, 1_706_695_200_500_000_000, true);
        write_timestamp(&mut out, -1_000, false);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\"2024-01-31T10:00:00.500+00:00\"\"1969-12-31 23:59:59.999999\""
        );
    }

    #[test]
    fn utf8_strings_are_checked_and_escaped() {
        let writer = RecordLineWriter::new("s", ["x"]);
        let mut out = Vec::new();
        writer.utf8_string(&mut out, b"plain text").unwrap();
        writer.utf8_string(&mut out, "q\"\\\t\u{7f}é".as_bytes()).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "\"plain text\"\"q\\\"\\\\\\t\u{7f}é\"");
        assert!(writer.utf8_string(&mut Vec::new(), b"Jos\xe9").is_err());
    }

    #[test]
    fn strings_escape_quotes_and_controls() {
        let mut out = Vec::new();
        write_string(&mut out, "a\"\\\n\u{1}é");
        assert_eq!(String::from_utf8(out).unwrap(), "\"a\\\"\\\\\\n\\u0001é\"");
    }
}

#[cfg(test)]
mod put_tests {
    use super::put;

    #[test]
    fn put_appends_pieces_of_every_length() {
        let source: Vec<u8> = (0..40u8).collect();
        for start in 0..3 {
            let mut out = vec![9u8; start];
            let mut expected = out.clone();
            for len in 0..=33 {
                put(&mut out, &source[..len]);
                expected.extend_from_slice(&source[..len]);
            }
            assert_eq!(out, expected);
        }
    }
}
