//! Singer RECORD lines of one stream -> one Arrow record batch, exposed as a C ABI
//! (rust_ext/include/dativo_singer_decoder.h) for target-iceberg.
//!
//! The lines are parsed by arrow-json's `Decoder` against the envelope schema the target
//! derives from the stream's SCHEMA message, so values go straight into Arrow buffers. When a
//! block fails, it is decoded again line by line to find the line at fault. A block can be
//! decoded on the condition that every line starts with a given prefix (the canonical start of
//! a RECORD of the stream), which the target would otherwise check line by line in Python.

use std::ffi::{c_char, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;
use std::sync::Arc;

use arrow_array::ffi::{to_ffi, FFI_ArrowArray, FFI_ArrowSchema};
use arrow_array::{Array, RecordBatch, StructArray};
use arrow_json::reader::{Decoder, ReaderBuilder};
use arrow_schema::{ArrowError, Schema, SchemaRef};

mod flat;
mod numbers;
use flat::{Declined, FlatLayout};
use numbers::StrictNumbers;

const ABI_VERSION: u32 = 2;
const STATUS_ERROR: i32 = -1;
const STATUS_OTHER_LINES: i32 = 0;
const STATUS_BATCH: i32 = 1;
const VERSION_KEY: &[u8] = b"\"version\"";

/// One stream's decoder: its envelope schema and its latest error.
pub struct DativoDecoder {
    schema: SchemaRef,
    /// The fast path, when every record field is a number, boolean or string.
    flat: Option<FlatLayout>,
    error: CString,
    error_line: i64,
}

/// A decoding failure and the 0-based line of the block it happened on, when known.
struct LineError {
    line: Option<usize>,
    message: String,
}

impl DativoDecoder {
    fn decoder(&self, rows: usize) -> Result<Decoder, ArrowError> {
        ReaderBuilder::new(self.schema.clone())
            .with_batch_size(rows.max(1))
            .with_strict_mode(false)
            .with_decoder_factory(Arc::new(StrictNumbers))
            .build_decoder()
    }

    /// The block's batch, or None when a line does not start with `prefix` or (with a prefix)
    /// has a table version the envelope has no column for: the caller then reads it line by line.
    fn decode(&self, data: &[u8], prefix: &[u8]) -> Result<Option<RecordBatch>, LineError> {
        if let Some(flat) = &self.flat {
            match flat.decode(data, prefix) {
                Ok(batch) => return Ok(Some(batch)),
                Err(Declined::OtherLines) => return Ok(None),
                Err(Declined::General) => {}
            }
        }
        if !data.split(|&b| b == b'\n').all(|line| line.starts_with(prefix)) {
            return Ok(None);
        }
        // A rough look, on this slow path only: any "version" makes the caller look closer.
        let unread_version = self.schema.field_with_name("version").is_err()
            && data.windows(VERSION_KEY.len()).any(|window| window == VERSION_KEY);
        if !prefix.is_empty() && unread_version {
            return Ok(None);
        }
        let rows = data.iter().filter(|&&b| b == b'\n').count() + 1;
        self.decode_block(data, rows).map(Some).map_err(|error| self.locate(data, error))
    }

    fn decode_block(&self, data: &[u8], rows: usize) -> Result<RecordBatch, ArrowError> {
        // The batch size is the line count, so the decoder takes the whole block at once.
        let mut decoder = self.decoder(rows)?;
        let read = decoder.decode(data)?;
        if read < data.len() {
            return Err(ArrowError::JsonError("more JSON values than lines".into()));
        }
        Ok(decoder.flush()?.unwrap_or_else(|| RecordBatch::new_empty(self.schema.clone())))
    }

    /// The block failed as a whole: find the first line that fails on its own.
    fn locate(&self, data: &[u8], block_error: ArrowError) -> LineError {
        for (index, line) in data.split(|&b| b == b'\n').enumerate() {
            if let Err(error) = self.decode_block(line, 1) {
                return LineError { line: Some(index), message: error.to_string() };
            }
        }
        LineError { line: None, message: block_error.to_string() }
    }
}

fn set_out_string(out: *mut *mut c_char, message: &str) {
    if !out.is_null() {
        let text = CString::new(message.replace('\0', " ")).unwrap_or_default();
        unsafe { *out = text.into_raw() };
    }
}

#[no_mangle]
pub extern "C" fn dativo_decoder_abi_version() -> u32 {
    ABI_VERSION
}

/// # Safety
/// `schema` points to a valid ArrowSchema, which this call moves out of; `error_out` is
/// NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn dativo_decoder_new(schema: *mut FFI_ArrowSchema, error_out: *mut *mut c_char) -> *mut DativoDecoder {
    if schema.is_null() {
        set_out_string(error_out, "no schema given");
        return ptr::null_mut();
    }
    let owned = ptr::replace(schema, FFI_ArrowSchema::empty());
    match Schema::try_from(&owned) {
        Ok(schema) => Box::into_raw(Box::new(DativoDecoder {
            flat: FlatLayout::of(&Arc::new(schema.clone())),
            schema: Arc::new(schema),
            error: CString::default(),
            error_line: -1,
        })),
        Err(error) => {
            set_out_string(error_out, &format!("unsupported schema: {error}"));
            ptr::null_mut()
        }
    }
}

unsafe fn bytes<'a>(data: *const u8, len: usize) -> &'a [u8] {
    if len == 0 { &[][..] } else { std::slice::from_raw_parts(data, len) }
}

/// # Safety
/// `decoder` comes from dativo_decoder_new; `data` holds `len` readable bytes; the outputs
/// are writable and hold no live structures.
#[no_mangle]
pub unsafe extern "C" fn dativo_decoder_decode(
    decoder: *mut DativoDecoder,
    data: *const u8,
    len: usize,
    out_array: *mut FFI_ArrowArray,
    out_schema: *mut FFI_ArrowSchema,
) -> i32 {
    dativo_decoder_decode_prefixed(decoder, data, len, ptr::null(), 0, out_array, out_schema)
}

/// # Safety
/// As dativo_decoder_decode; `prefix` holds `prefix_len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn dativo_decoder_decode_prefixed(
    decoder: *mut DativoDecoder,
    data: *const u8,
    len: usize,
    prefix: *const u8,
    prefix_len: usize,
    out_array: *mut FFI_ArrowArray,
    out_schema: *mut FFI_ArrowSchema,
) -> i32 {
    let decoder = &mut *decoder;
    let (data, prefix) = (bytes(data, len), bytes(prefix, prefix_len));
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let Some(batch) = decoder.decode(data, prefix)? else { return Ok(None) };
        let array = StructArray::from(batch).into_data();
        to_ffi(&array).map(Some).map_err(|error| LineError { line: None, message: error.to_string() })
    }));
    let result = outcome.unwrap_or_else(|_| Err(LineError { line: None, message: "the decoder panicked".into() }));
    match result {
        Ok(None) => {
            decoder.error_line = -1;
            STATUS_OTHER_LINES
        }
        Ok(Some((array, schema))) => {
            ptr::write(out_array, array);
            ptr::write(out_schema, schema);
            decoder.error_line = -1;
            STATUS_BATCH
        }
        Err(error) => {
            decoder.error_line = error.line.map_or(-1, |line| line as i64);
            decoder.error = CString::new(error.message.replace('\0', " ")).unwrap_or_default();
            STATUS_ERROR
        }
    }
}

/// # Safety
/// `decoder` comes from dativo_decoder_new.
#[no_mangle]
pub unsafe extern "C" fn dativo_decoder_last_error(decoder: *const DativoDecoder) -> *const c_char {
    (*decoder).error.as_ptr()
}

/// # Safety
/// `decoder` comes from dativo_decoder_new.
#[no_mangle]
pub unsafe extern "C" fn dativo_decoder_error_line(decoder: *const DativoDecoder) -> i64 {
    (*decoder).error_line
}

/// # Safety
/// `decoder` comes from dativo_decoder_new and is not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn dativo_decoder_free(decoder: *mut DativoDecoder) {
    if !decoder.is_null() {
        drop(Box::from_raw(decoder));
    }
}

/// # Safety
/// `text` comes from this library and is not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn dativo_decoder_free_string(text: *mut c_char) {
    if !text.is_null() {
        drop(CString::from_raw(text));
    }
}


#[cfg(test)]
mod tests {
    use super::*;
    use arrow_schema::{DataType, Field};

    fn decoder(version: bool) -> DativoDecoder {
        let record = DataType::Struct(
            vec![
                Field::new("i", DataType::Int64, true),
                Field::new("small", DataType::Int32, true),
                Field::new("x", DataType::Float64, true),
                Field::new("b", DataType::Boolean, true),
                Field::new("s", DataType::Utf8, true),
            ]
            .into(),
        );
        let mut fields = vec![Field::new("record", record, true)];
        if version {
            fields.insert(0, Field::new("version", DataType::Int64, true));
        }
        let schema: SchemaRef = Arc::new(Schema::new(fields));
        DativoDecoder { flat: FlatLayout::of(&schema), schema, error: CString::default(), error_line: -1 }
    }

    /// The fast path's batch equals arrow-json's, or the fast path declines and arrow-json decides.
    fn agrees(decoder: &DativoDecoder, lines: &[&str]) -> bool {
        let data = lines.join("\n");
        let rows = lines.len();
        let general = decoder.decode_block(data.as_bytes(), rows);
        match decoder.flat.as_ref().unwrap().decode(data.as_bytes(), b"") {
            Ok(fast) => {
                assert_eq!(&fast, general.as_ref().expect("the fast path took what arrow-json refuses"), "{data}");
                true
            }
            Err(declined) => {
                assert_eq!(declined, flat::Declined::General);
                false
            }
        }
    }

    #[test]
    fn fast_path_reads_what_arrow_json_reads_alike() {
        let plain = decoder(false);
        let versioned = decoder(true);
        let taken = [
            r#"{"type":"RECORD","stream":"s","record":{"i":1,"small":-5,"x":1.5,"b":true,"s":"a"}}"#,
            r#"{"record":{"s":"é\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00","i":-0,"x":-1e-3,"b":false}}"#,
            r#" { "record" : { "i" : 2.0 , "x" : 3 , "small" : null , "other" : {"a":[1,"x",null,{}]} } , "t" : [] } "#,
            r#"{"record":{},"version":5}"#,
            r#"{"record":{"i":9223372036854775807,"x":12345678901234567890,"s":""}}"#,
            r#"{"record":{"i":1E2,"small":2147483647}}"#,
        ];
        for line in taken {
            assert!(agrees(&plain, &[line]), "declined: {line}");
        }
        assert!(agrees(&plain, &taken));
        assert!(agrees(&versioned, &[r#"{"version":7,"record":{"i":1}}"#, r#"{"record":{"i":2},"version":null}"#, r#"{"record":{}}"#]));
        let declined = [
            r#"{"record":{"i":1.5}}"#,
            r#"{"record":{"small":2147483648}}"#,
            r#"{"record":{"i":"1"}}"#,
            r#"{"record":{"x":"1.5"}}"#,
            r#"{"record":{"s":1}}"#,
            r#"{"record":{"b":1}}"#,
            r#"{"record":{"i":1,"i":2}}"#,
            r#"{"record":{"s":"\ud83d"}}"#,
            r#"{"record":{"s":"\q"}}"#,
            r#"{"record":{"i":01}}"#,
            r#"{"record":{"i":1}} {"record":{"i":2}}"#,
            r#"{"record":null}"#,
            r#"{"type":"RECORD"}"#,
            r#"{"record":{"i":1}"#,
            "",
        ];
        for line in declined {
            assert!(!agrees(&plain, &[line]), "taken: {line}");
        }
    }

    #[test]
    fn lines_read_after_their_prefix_decode_as_whole_lines_do() {
        let plain = decoder(false);
        let flat = plain.flat.as_ref().unwrap();
        let records = [
            r#"{"record":{"i":1,"small":-5,"x":1.5,"b":true,"s":"a"}}"#,
            r#"{"record":{"s":"a\"b","x":2,"i":3}}"#,
            r#"{"time_extracted":"2024","record" : { "i" : 4 ,"small":1, "s" : "\u00e9" } }"#,
            r#"{"record":{"is":1,"i":5,"ss":"x","s":"y"}}"#,
            r#"{"record":{}}"#,
        ];
        for prefix in [r#"{"type":"RECORD","stream":"s""#, r#"{"type": "RECORD", "stream": "s""#] {
            let with_prefix: Vec<String> = records.iter().map(|r| format!("{prefix},{}", &r[1..])).collect();
            let whole = flat.decode(with_prefix.join("\n").as_bytes(), b"").expect("taken whole");
            let resumed = flat.decode(with_prefix.join("\n").as_bytes(), prefix.as_bytes()).expect("taken after the prefix");
            assert_eq!(resumed, whole);
            for bad in [format!("{prefix}}}"), format!("{prefix},\"record\":{{}},\"record\":{{}}}}"), format!("{prefix} x")] {
                assert_eq!(flat.decode(bad.as_bytes(), prefix.as_bytes()).err(), Some(flat::Declined::General), "{bad}");
            }
        }
    }

    /// Rows of the block, None when some line lacks the prefix, or the failing line.
    fn rows_with_prefix(decoder: &DativoDecoder, lines: &[&str]) -> Result<Option<usize>, Option<usize>> {
        let prefix = br#"{"type":"RECORD","stream":"s""#;
        match decoder.decode(lines.join("\n").as_bytes(), prefix) {
            Ok(batch) => Ok(batch.map(|batch| batch.num_rows())),
            Err(error) => Err(error.line),
        }
    }

    #[test]
    fn a_block_is_decoded_only_when_every_line_starts_with_the_prefix() {
        let record = r#"{"type":"RECORD","stream":"s","record":{"i":1}}"#;
        let bad = r#"{"type":"RECORD","stream":"s","record":{"i":1.5}}"#; // the fast path declines it
        let others = [
            r#"{"type":"STATE","value":{}}"#,
            r#"{"type":"RECORD","stream":"t","record":{"i":1}}"#,
            "",
            r#"{"type":"RECORD","stream":"s","record":{"i":1},"version":3}"#,
        ];
        let nested_schema = Schema::new(vec![Field::new(
            "record",
            DataType::Struct(vec![Field::new("i", DataType::Int64, true), Field::new("o", DataType::Struct(vec![Field::new("a", DataType::Utf8, true)].into()), true)].into()),
            true,
        )]);
        let nested = DativoDecoder { flat: None, schema: Arc::new(nested_schema), error: CString::default(), error_line: -1 };
        let field_named_version = r#"{"type":"RECORD","stream":"s","record":{"version":1}}"#;
        assert_eq!(rows_with_prefix(&decoder(false), &[field_named_version]), Ok(Some(1)));
        for decoder in [&decoder(false), &nested] {
            assert_eq!(rows_with_prefix(decoder, &[record, record, record]), Ok(Some(3)));
            assert_eq!(rows_with_prefix(decoder, &[record, bad]), Err(Some(1)));
            for other in others {
                assert_eq!(rows_with_prefix(decoder, &[record, other, record]), Ok(None), "{other}");
                // A bad value before another message is the Python path's to report, in order.
                assert_eq!(rows_with_prefix(decoder, &[bad, other]), Ok(None), "{other}");
            }
        }
    }
}
