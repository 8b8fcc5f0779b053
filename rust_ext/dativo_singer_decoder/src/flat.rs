//! The fast path for the usual stream: records whose fields are all numbers, booleans or
//! strings (date-times arrive as strings). Such lines are scanned once, straight into column
//! builders, instead of through arrow-json's tape, which costs several times more per byte.
//!
//! The fast path only accepts what the general path accepts, and gives the same values: on
//! anything else (nested values, escapes in keys, duplicate keys, a bad value, a missing
//! record) it gives up, and the general path decodes the block and words the error.

use std::sync::Arc;

use arrow_array::builder::{BooleanBuilder, Float32Builder, Float64Builder, Int64Builder, StringBuilder};
use arrow_array::{ArrayRef, Int16Array, Int32Array, Int8Array, RecordBatch, StructArray};
use arrow_schema::{DataType, Fields, SchemaRef};

use crate::numbers::whole_number;

/// A record field's type as the fast path reads it.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Int8,
    Int16,
    Int32,
    Int64,
    Float32,
    Float64,
    Boolean,
    Utf8,
}

impl Kind {
    fn of(data_type: &DataType) -> Option<Kind> {
        Some(match data_type {
            DataType::Int8 => Kind::Int8,
            DataType::Int16 => Kind::Int16,
            DataType::Int32 => Kind::Int32,
            DataType::Int64 => Kind::Int64,
            DataType::Float32 => Kind::Float32,
            DataType::Float64 => Kind::Float64,
            DataType::Boolean => Kind::Boolean,
            DataType::Utf8 => Kind::Utf8,
            _ => return None,
        })
    }

    fn range(self) -> (i64, i64) {
        match self {
            Kind::Int8 => (i8::MIN.into(), i8::MAX.into()),
            Kind::Int16 => (i16::MIN.into(), i16::MAX.into()),
            Kind::Int32 => (i32::MIN.into(), i32::MAX.into()),
            _ => (i64::MIN, i64::MAX),
        }
    }
}

/// Why the fast path did not decode a block.
#[derive(Debug, PartialEq)]
pub enum Declined {
    /// A line does not start with the prefix every line was to start with, or (with a prefix)
    /// has a version the envelope has no column for.
    OtherLines,
    /// The fast path does not handle something in the block: the general path decides.
    General,
}

/// The layout of an envelope schema the fast path can decode.
pub struct FlatLayout {
    schema: SchemaRef,
    record_fields: Fields,
    names: Vec<Vec<u8>>,
    /// Each name between quotes, for names that need no escape in JSON: the key as it is
    /// usually written, compared in place before any scanning.
    quoted: Vec<Option<Vec<u8>>>,
    kinds: Vec<Kind>,
    /// Position of `version` in the envelope schema, if it has one.
    version: Option<usize>,
    record: usize,
}

impl FlatLayout {
    /// The layout when the envelope is `record` (a struct of flat fields) and maybe `version`.
    pub fn of(schema: &SchemaRef) -> Option<FlatLayout> {
        let mut record = None;
        let mut version = None;
        for (index, field) in schema.fields().iter().enumerate() {
            match (field.name().as_str(), field.data_type()) {
                ("record", DataType::Struct(_)) => record = Some(index),
                ("version", DataType::Int64) => version = Some(index),
                _ => return None,
            }
        }
        let record = record?;
        let DataType::Struct(record_fields) = schema.field(record).data_type() else { return None };
        let kinds = record_fields.iter().map(|f| Kind::of(f.data_type())).collect::<Option<Vec<_>>>()?;
        Some(FlatLayout {
            schema: schema.clone(),
            record_fields: record_fields.clone(),
            names: record_fields.iter().map(|f| f.name().as_bytes().to_vec()).collect(),
            quoted: record_fields
                .iter()
                .map(|f| {
                    let name = f.name().as_bytes();
                    special_byte(name).is_none().then(|| [&b"\""[..], name, &b"\""[..]].concat())
                })
                .collect(),
            kinds,
            version,
            record,
        })
    }

    /// One row per line of `data`, when every line starts with `prefix` and, with a prefix,
    /// carries no table version the envelope has no column for.
    pub fn decode(&self, data: &[u8], prefix: &[u8]) -> Result<RecordBatch, Declined> {
        std::str::from_utf8(data).map_err(|_| Declined::General)?;
        let rows = memchr::memchr_iter(b'\n', data).count() + 1;
        let mut columns: Vec<Column> = self.kinds.iter().map(|&kind| Column::new(kind, rows)).collect();
        let mut versions = Int64Builder::with_capacity(rows);
        let mut seen = vec![usize::MAX; self.kinds.len()];
        let mut text = String::new();
        let resume = envelope_start(prefix);
        let mut start = 0;
        for row in 0..rows {
            let end = memchr::memchr(b'\n', &data[start..]).map_or(data.len(), |at| start + at);
            let line = &data[start..end];
            start = end + 1;
            if !line.starts_with(prefix) {
                return Err(Declined::OtherLines);
            }
            let mut scan = Scanner { data: line, pos: resume.unwrap_or(0) };
            let mut line_state =
                LineState { row, seen: &mut seen, text: &mut text, record_seen: false, version: None, unread_version: false };
            self.envelope(&mut scan, &mut columns, &mut line_state, resume.is_some()).ok_or(Declined::General)?;
            if line_state.unread_version && !prefix.is_empty() {
                return Err(Declined::OtherLines);
            }
            if self.version.is_some() {
                versions.append_option(line_state.version.flatten());
            }
        }
        let arrays: Vec<ArrayRef> = columns.into_iter().map(Column::finish).collect();
        let record: ArrayRef =
            Arc::new(StructArray::try_new(self.record_fields.clone(), arrays, None).map_err(|_| Declined::General)?);
        let version: ArrayRef = Arc::new(versions.finish());
        let envelope = (0..self.schema.fields().len())
            .map(|index| if index == self.record { record.clone() } else { version.clone() })
            .collect();
        RecordBatch::try_new(self.schema.clone(), envelope).map_err(|_| Declined::General)
    }

    /// The envelope object of a line; `resumed` when the scan starts after the members of a
    /// prefix the line was checked to start with (see `envelope_start`).
    fn envelope(&self, scan: &mut Scanner, columns: &mut [Column], state: &mut LineState, resumed: bool) -> Option<()> {
        if resumed {
            if !scan.another_member()? {
                return None; // no record
            }
        } else {
            scan.skip_whitespace();
            scan.expect(b'{')?;
        }
        loop {
            let key = scan.member_key()?;
            match key {
                b"record" if !state.record_seen => {
                    self.record(scan, columns, state)?;
                    state.record_seen = true;
                }
                b"record" => return None,
                b"version" if self.version.is_some() => {
                    if state.version.is_some() {
                        return None;
                    }
                    state.version = Some(if scan.literal(b"null") { None } else { Some(scan.integer(Kind::Int64)?) });
                }
                b"version" => {
                    state.unread_version = true;
                    scan.skip_value(0)?;
                }
                _ => scan.skip_value(0)?,
            }
            if !scan.another_member()? {
                break;
            }
        }
        scan.skip_whitespace();
        (scan.at_end() && state.record_seen).then_some(())
    }

    fn record(&self, scan: &mut Scanner, columns: &mut [Column], state: &mut LineState) -> Option<()> {
        scan.expect(b'{')?;
        scan.skip_whitespace();
        let mut expected = 0;
        if scan.peek() == Some(b'}') {
            scan.pos += 1;
        } else {
            loop {
                // Keys usually come in schema order: try the next field, as written, in place.
                scan.skip_whitespace();
                let field = if self.quoted.get(expected).is_some_and(|quoted| scan.quoted_key(quoted.as_deref())) {
                    scan.colon()?;
                    Some(expected)
                } else {
                    let key = scan.member_key()?;
                    if self.names.get(expected).is_some_and(|name| name == key) {
                        Some(expected)
                    } else {
                        self.names.iter().position(|name| name == key)
                    }
                };
                match field {
                    Some(index) => {
                        if state.seen[index] == state.row {
                            return None; // a duplicate key: the general path decides which wins
                        }
                        state.seen[index] = state.row;
                        columns[index].push(scan, state.text)?;
                        expected = index + 1;
                    }
                    None => scan.skip_value(0)?,
                }
                if !scan.another_member()? {
                    break;
                }
            }
        }
        for (index, column) in columns.iter_mut().enumerate() {
            if state.seen[index] != state.row {
                column.push_null();
            }
        }
        Some(())
    }
}

struct LineState<'a> {
    row: usize,
    seen: &'a mut [usize],
    text: &'a mut String,
    record_seen: bool,
    /// The envelope's version once read (None inside for null).
    version: Option<Option<i64>>,
    /// Whether the line has a version the envelope has no column for.
    unread_version: bool,
}

/// One column being built.
enum Column {
    Integer(Kind, Int64Builder),
    Float32(Float32Builder),
    Float64(Float64Builder),
    Boolean(BooleanBuilder),
    Utf8(StringBuilder),
}

impl Column {
    fn new(kind: Kind, rows: usize) -> Column {
        match kind {
            Kind::Float32 => Column::Float32(Float32Builder::with_capacity(rows)),
            Kind::Float64 => Column::Float64(Float64Builder::with_capacity(rows)),
            Kind::Boolean => Column::Boolean(BooleanBuilder::with_capacity(rows)),
            Kind::Utf8 => Column::Utf8(StringBuilder::with_capacity(rows, rows * 16)),
            integer => Column::Integer(integer, Int64Builder::with_capacity(rows)),
        }
    }

    fn push_null(&mut self) {
        match self {
            Column::Integer(_, b) => b.append_null(),
            Column::Float32(b) => b.append_null(),
            Column::Float64(b) => b.append_null(),
            Column::Boolean(b) => b.append_null(),
            Column::Utf8(b) => b.append_null(),
        }
    }

    fn push(&mut self, scan: &mut Scanner, text: &mut String) -> Option<()> {
        if scan.literal(b"null") {
            self.push_null();
            return Some(());
        }
        match self {
            Column::Integer(kind, b) => b.append_value(scan.integer(*kind)?),
            Column::Float32(b) => b.append_value(scan.number()?.parse().ok()?),
            Column::Float64(b) => b.append_value(scan.number()?.parse().ok()?),
            Column::Boolean(b) => b.append_value(scan.boolean()?),
            Column::Utf8(b) => b.append_value(scan.string(text)?),
        }
        Some(())
    }

    fn finish(self) -> ArrayRef {
        match self {
            Column::Integer(kind, mut b) => {
                let values = b.finish();
                // Values were range-checked when read, so the narrowing casts are exact.
                match kind {
                    Kind::Int8 => Arc::new(values.iter().map(|v| v.map(|v| v as i8)).collect::<Int8Array>()),
                    Kind::Int16 => Arc::new(values.iter().map(|v| v.map(|v| v as i16)).collect::<Int16Array>()),
                    Kind::Int32 => Arc::new(values.iter().map(|v| v.map(|v| v as i32)).collect::<Int32Array>()),
                    _ => Arc::new(values),
                }
            }
            Column::Float32(mut b) => Arc::new(b.finish()),
            Column::Float64(mut b) => Arc::new(b.finish()),
            Column::Boolean(mut b) => Arc::new(b.finish()),
            Column::Utf8(mut b) => Arc::new(b.finish()),
        }
    }
}

/// Where the scan of a line may start when the line begins with `prefix`: after the prefix,
/// when it is the opening of an envelope whose members (other than `record` and `version`)
/// are complete, as `{"type":"RECORD","stream":"s"` is. Every line was checked to start
/// with it, so its members need no second reading.
fn envelope_start(prefix: &[u8]) -> Option<usize> {
    if prefix.is_empty() || std::str::from_utf8(prefix).is_err() {
        return None;
    }
    let mut scan = Scanner { data: prefix, pos: 0 };
    scan.skip_whitespace();
    scan.expect(b'{')?;
    loop {
        let key = scan.member_key()?;
        if key == b"record" || key == b"version" {
            return None;
        }
        scan.skip_value(0)?;
        if scan.at_end() {
            return Some(prefix.len());
        }
        if !scan.another_member()? {
            return None;
        }
    }
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Marks (high bit) the bytes of `word` below `limit` (at most 128); the lowest mark is exact.
fn bytes_below(word: u64, limit: u8) -> u64 {
    word.wrapping_sub(ONES * u64::from(limit)) & !word & HIGHS
}

/// Where a string's text stops: its closing quote, an escape, or a control character (which
/// JSON forbids unescaped). Eight bytes are tested at a time, then the rest one by one.
fn special_byte(text: &[u8]) -> Option<usize> {
    let mut at = 0;
    while let Some(chunk) = text.get(at..at + 8) {
        let word = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        let marks =
            bytes_below(word ^ (ONES * u64::from(b'"')), 1) | bytes_below(word ^ (ONES * u64::from(b'\\')), 1) | bytes_below(word, 0x20);
        if marks != 0 {
            return Some(at + (marks.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    text[at..].iter().position(|&b| SPECIAL[usize::from(b)]).map(|found| at + found)
}

/// Whether `data` starts with `word`, for the short words of keys: compared as one or two
/// machine words rather than through a memcmp call.
fn starts_with_short(data: &[u8], word: &[u8]) -> bool {
    let n = word.len();
    if data.len() < n {
        return false;
    }
    let load8 = |bytes: &[u8], at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().expect("eight bytes"));
    let load4 = |bytes: &[u8], at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().expect("four bytes"));
    match n {
        8..=16 => load8(data, 0) == load8(word, 0) && load8(data, n - 8) == load8(word, n - 8),
        4..=7 => load4(data, 0) == load4(word, 0) && load4(data, n - 4) == load4(word, n - 4),
        _ => &data[..n] == word,
    }
}

/// The bytes `special_byte` stops at, as a table: one lookup per byte instead of three tests.
static SPECIAL: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 256 {
        table[byte] = byte == b'"' as usize || byte == b'\\' as usize || byte < 0x20;
        byte += 1;
    }
    table
};

/// A cursor over one line of JSON text, checked to be valid UTF-8 before scanning.
struct Scanner<'a> {
    data: &'a [u8],
    pos: usize,
}

const MAX_DEPTH: usize = 128;

impl<'a> Scanner<'a> {
    /// The text between two positions, each at the start of the line or next to an ASCII
    /// byte (a quote, a backslash, a digit, ...), so on character boundaries of valid UTF-8.
    fn text(&self, start: usize, end: usize) -> &'a str {
        let bytes: &'a [u8] = &self.data[start..end];
        debug_assert!(std::str::from_utf8(bytes).is_ok());
        // SAFETY: `decode` checked the whole block is UTF-8, and the cut is on boundaries (above).
        unsafe { std::str::from_utf8_unchecked(bytes) }
    }

    fn peek(&self) -> Option<u8> {
        self.data.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let byte = self.peek()?;
        self.pos += 1;
        Some(byte)
    }

    fn at_end(&self) -> bool {
        self.pos == self.data.len()
    }

    fn expect(&mut self, byte: u8) -> Option<()> {
        (self.next()? == byte).then_some(())
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\r' | b'\n')) {
            self.pos += 1;
        }
    }

    fn literal(&mut self, word: &[u8]) -> bool {
        let found = self.data[self.pos..].starts_with(word);
        if found {
            self.pos += word.len();
        }
        found
    }

    fn boolean(&mut self) -> Option<bool> {
        if self.literal(b"true") {
            Some(true)
        } else if self.literal(b"false") {
            Some(false)
        } else {
            None
        }
    }

    /// Whether the key at the cursor is `quoted` (a name between quotes); if so the cursor moves past it.
    fn quoted_key(&mut self, quoted: Option<&[u8]>) -> bool {
        let found = quoted.is_some_and(|quoted| starts_with_short(&self.data[self.pos..], quoted));
        if found {
            self.pos += quoted.map_or(0, <[u8]>::len);
        }
        found
    }

    /// An object member's key (without escapes) and the colon after it.
    fn member_key(&mut self) -> Option<&'a [u8]> {
        self.skip_whitespace();
        let key = self.plain_key()?;
        self.colon()?;
        Some(key)
    }

    fn colon(&mut self) -> Option<()> {
        self.skip_whitespace();
        self.expect(b':')?;
        self.skip_whitespace();
        Some(())
    }

    /// After an object member: true at a comma, false at the closing brace.
    fn another_member(&mut self) -> Option<bool> {
        self.skip_whitespace();
        match self.next()? {
            b',' => Some(true),
            b'}' => Some(false),
            _ => None,
        }
    }

    /// The raw text of a string without escapes (keys); None for any escape.
    fn plain_key(&mut self) -> Option<&'a [u8]> {
        self.expect(b'"')?;
        let start = self.pos;
        let end = start + special_byte(&self.data[start..])?;
        if self.data[end] != b'"' {
            return None;
        }
        self.pos = end + 1;
        Some(&self.data[start..end])
    }

    /// A string value, unescaped into `text` when it holds escapes.
    fn string<'t>(&mut self, text: &'t mut String) -> Option<&'t str>
    where
        'a: 't,
    {
        self.expect(b'"')?;
        let start = self.pos;
        text.clear();
        let mut from = start;
        loop {
            let at = from + special_byte(&self.data[from..])?;
            if self.data[at] < 0x20 {
                return None;
            }
            let run = self.text(from, at);
            if self.data[at] == b'"' {
                self.pos = at + 1;
                if from == start {
                    return Some(run); // no escapes: the input's own bytes
                }
                text.push_str(run);
                return Some(text.as_str());
            }
            text.push_str(run);
            self.pos = at + 1;
            self.escape(text)?;
            from = self.pos;
        }
    }

    fn escape(&mut self, text: &mut String) -> Option<()> {
        let decoded = match self.next()? {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let high = self.hex4()?;
                let code = if (0xD800..0xDC00).contains(&high) {
                    if !self.literal(b"\\u") {
                        return None;
                    }
                    let low = self.hex4()?;
                    if !(0xDC00..0xE000).contains(&low) {
                        return None;
                    }
                    0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
                } else {
                    high
                };
                char::from_u32(code)?
            }
            _ => return None,
        };
        text.push(decoded);
        Some(())
    }

    fn hex4(&mut self) -> Option<u32> {
        let digits = self.data.get(self.pos..self.pos + 4)?;
        self.pos += 4;
        u32::from_str_radix(std::str::from_utf8(digits).ok()?, 16).ok().filter(|_| digits.iter().all(u8::is_ascii_hexdigit))
    }

    /// A JSON number's text, checked against JSON's number grammar.
    fn number(&mut self) -> Option<&'a str> {
        let start = self.pos;
        self.literal(b"-");
        match self.next()? {
            b'0' => {}
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            self.some_digits()?;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            self.some_digits()?;
        }
        Some(self.text(start, self.pos))
    }

    fn digits(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
    }

    fn some_digits(&mut self) -> Option<()> {
        let start = self.pos;
        self.digits();
        (self.pos > start).then_some(())
    }

    /// A whole number in `kind`'s range, as the general path's strict integers read it.
    fn integer(&mut self, kind: Kind) -> Option<i64> {
        let value = whole_number(self.number()?)?;
        let (low, high) = kind.range();
        (low..=high).contains(&value).then_some(value)
    }

    /// Skips any JSON value, checking its syntax as the general path would.
    fn skip_value(&mut self, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        match self.peek()? {
            b'"' => {
                let mut scratch = String::new();
                self.string(&mut scratch).map(|_| ())
            }
            b'{' => self.skip_container(b'}', depth, true),
            b'[' => self.skip_container(b']', depth, false),
            b't' | b'f' => self.boolean().map(|_| ()),
            b'n' => self.literal(b"null").then_some(()),
            _ => self.number().map(|_| ()),
        }
    }

    fn skip_container(&mut self, close: u8, depth: usize, keyed: bool) -> Option<()> {
        self.pos += 1;
        self.skip_whitespace();
        if self.peek() == Some(close) {
            self.pos += 1;
            return Some(());
        }
        loop {
            self.skip_whitespace();
            if keyed {
                let mut scratch = String::new();
                self.string(&mut scratch)?;
                self.colon()?;
            }
            self.skip_value(depth + 1)?;
            self.skip_whitespace();
            match self.next()? {
                b',' => continue,
                byte if byte == close => return Some(()),
                _ => return None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_byte_finds_what_a_byte_by_byte_scan_finds() {
        let plain = [b'a', b' ', 0x7f, 0x80, 0xc3, 0xff, b'/', b'!', b'#', b']'];
        for special in [b'"', b'\\', 0x00, 0x0a, 0x1f] {
            for length in 0..40 {
                for at in 0..=length {
                    let mut text: Vec<u8> = (0..length).map(|i| plain[i % plain.len()]).collect();
                    if at < length {
                        text[at] = special;
                    }
                    let expected = text.iter().position(|&b| SPECIAL[usize::from(b)]);
                    assert_eq!(special_byte(&text), expected, "{text:?}");
                }
            }
        }
    }

    #[test]
    fn short_words_compare_as_slices_do() {
        let data = br#""created_at":"2024","id":1,"a":2"#;
        for end in 0..=data.len() {
            for start in 0..end {
                let word = &data[start..end];
                for from in 0..data.len() {
                    assert_eq!(starts_with_short(&data[from..], word), data[from..].starts_with(word));
                }
            }
        }
    }

    #[test]
    fn a_scan_resumes_after_a_prefix_only_of_whole_envelope_members() {
        let canonical = br#"{"type":"RECORD","stream":"s""#;
        assert_eq!(envelope_start(canonical), Some(canonical.len()));
        let spaced = br#"{"type": "RECORD", "stream": "public.users""#;
        assert_eq!(envelope_start(spaced), Some(spaced.len()));
        for partial in [&br#"{"type":"RECORD","stream":"#[..], br#"{"type":"REC"#, br#"{"record":{"#, br#"{"version":1"#, b"", b"{"] {
            assert_eq!(envelope_start(partial), None, "{}", String::from_utf8_lossy(partial));
        }
    }
}
