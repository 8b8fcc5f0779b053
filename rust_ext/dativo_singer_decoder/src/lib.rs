//! Singer RECORD lines of one stream -> one Arrow record batch, exposed as a C ABI
//! (rust_ext/include/dativo_singer_decoder.h) for target-iceberg.
//!
//! The lines are parsed by arrow-json's `Decoder` against the envelope schema the target
//! derives from the stream's SCHEMA message, so values go straight into Arrow buffers. When a
//! block fails, it is decoded again line by line to find the line at fault.

use std::ffi::{c_char, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;
use std::sync::Arc;

use arrow_array::ffi::{to_ffi, FFI_ArrowArray, FFI_ArrowSchema};
use arrow_array::{Array, RecordBatch, StructArray};
use arrow_json::reader::{Decoder, ReaderBuilder};
use arrow_schema::{ArrowError, Schema, SchemaRef};

mod numbers;
use numbers::StrictNumbers;

const ABI_VERSION: u32 = 1;
const STATUS_ERROR: i32 = -1;
const STATUS_BATCH: i32 = 1;

/// One stream's decoder: its envelope schema and its latest error.
pub struct DativoDecoder {
    schema: SchemaRef,
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

    fn decode(&self, data: &[u8]) -> Result<RecordBatch, LineError> {
        let rows = data.iter().filter(|&&b| b == b'\n').count() + 1;
        self.decode_block(data, rows).map_err(|error| self.locate(data, error))
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
    let decoder = &mut *decoder;
    let bytes = if len == 0 { &[][..] } else { std::slice::from_raw_parts(data, len) };
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let batch = decoder.decode(bytes)?;
        let array = StructArray::from(batch).into_data();
        to_ffi(&array).map_err(|error| LineError { line: None, message: error.to_string() })
    }));
    let result = outcome.unwrap_or_else(|_| Err(LineError { line: None, message: "the decoder panicked".into() }));
    match result {
        Ok((array, schema)) => {
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

