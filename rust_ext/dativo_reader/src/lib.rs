//! Implement the Dativo reader C ABI (`include/dativo_reader.h`) for your own source.
//!
//! A reader is a type implementing [`BatchReader`]; `export_reader!(MyReader)` then defines
//! every `extern "C"` function of the header for it, so the crate built as a `cdylib` is a
//! library that Dativo's Python loader (`dativo_core.native`) can open.
//!
//! The exported functions never unwind into C: errors and panics become an error status with a
//! message readable through `dativo_last_error`.

use std::any::Any;
use std::ffi::{c_char, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

use arrow_array::{Array, RecordBatch, StructArray};
use arrow_data::ffi::FFI_ArrowArray;
use arrow_schema::ffi::FFI_ArrowSchema;
use arrow_schema::SchemaRef;

pub use serde_json;

mod read_ahead;
mod records;
pub use read_ahead::ReadAhead;
pub use records::{encode_records, RecordLineWriter};

/// Version of the C ABI this crate implements; the loader refuses any other.
pub const ABI_VERSION: u32 = 1;

/// `dativo_next_batch` handed over a batch.
pub const STATUS_BATCH: i32 = 1;
/// The source has no more data; nothing was handed over.
pub const STATUS_END: i32 = 0;
/// The call failed; `dativo_last_error` says why. Never a silent end of data.
pub const STATUS_ERROR: i32 = -1;

/// A source of Arrow record batches.
pub trait BatchReader: Sized {
    /// Build the reader from its configuration (the JSON object given to `dativo_create_reader`).
    fn create(config: &serde_json::Value) -> Result<Self, String>;

    /// The schema of every batch this reader yields.
    fn schema(&self) -> SchemaRef;

    /// The next batch, `Ok(None)` at the end of data. An error must say where it happened
    /// (file, line, column) so the user can fix the input.
    fn next_batch(&mut self) -> Result<Option<RecordBatch>, String>;

    /// The next batch as Singer RECORD lines of `stream`, appended to `out`, and its row count;
    /// `Ok(None)` at the end of data. The default encodes `next_batch`; a reader that can write
    /// JSON straight from its source's values (with [`RecordLineWriter`]) skips building Arrow.
    fn next_records(&mut self, stream: &str, out: &mut Vec<u8>) -> Result<Option<usize>, String> {
        match self.next_batch()? {
            Some(batch) => {
                encode_records(&batch, stream, out)?;
                Ok(Some(batch.num_rows()))
            }
            None => Ok(None),
        }
    }
}

/// What a `dativo_create_reader` pointer points to.
pub struct Handle<R> {
    reader: R,
    last_error: CString,
}

/// The message of a caught panic, as an error a reader reports.
pub fn panic_message(payload: Box<dyn Any + Send>) -> String {
    let text = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string());
    format!("reader panicked: {text}")
}

/// A C string the caller frees with `dativo_free_string`; interior NULs are replaced.
fn to_c_string(text: &str) -> *mut c_char {
    CString::new(text.replace('\0', "\\0"))
        .expect("NULs were replaced")
        .into_raw()
}

fn set_error<R>(handle: &mut Handle<R>, message: String) -> i32 {
    handle.last_error = CString::new(message.replace('\0', "\\0")).expect("NULs were replaced");
    STATUS_ERROR
}

/// Body of `dativo_create_reader`.
///
/// # Safety
/// `config_json` must be NULL or a NUL-terminated string; `error_out` NULL or writable.
pub unsafe fn create<R: BatchReader>(
    config_json: *const c_char,
    error_out: *mut *mut c_char,
) -> *mut Handle<R> {
    if !error_out.is_null() {
        *error_out = ptr::null_mut();
    }
    let result = catch_unwind(|| -> Result<R, String> {
        if config_json.is_null() {
            return Err("config_json is NULL; pass a JSON object (\"{}\" for none)".into());
        }
        let text = CStr::from_ptr(config_json)
            .to_str()
            .map_err(|e| format!("config is not valid UTF-8: {e}"))?;
        let config: serde_json::Value = serde_json::from_str(text).map_err(|e| {
            format!("config is not valid JSON (line {}, column {}): {e}", e.line(), e.column())
        })?;
        if !config.is_object() {
            return Err("config must be a JSON object".into());
        }
        R::create(&config)
    })
    .unwrap_or_else(|payload| Err(panic_message(payload)));
    match result {
        Ok(reader) => Box::into_raw(Box::new(Handle {
            reader,
            last_error: CString::default(),
        })),
        Err(message) => {
            if !error_out.is_null() {
                *error_out = to_c_string(&message);
            }
            ptr::null_mut()
        }
    }
}

/// Body of `dativo_reader_schema`.
///
/// # Safety
/// `handle` must come from [`create`] for the same `R`; `out` must be writable.
pub unsafe fn schema<R: BatchReader>(handle: *mut Handle<R>, out: *mut FFI_ArrowSchema) -> i32 {
    let Some(handle) = handle.as_mut() else {
        return STATUS_ERROR;
    };
    if out.is_null() {
        return set_error(handle, "schema output pointer is NULL".into());
    }
    let result = catch_unwind(AssertUnwindSafe(|| {
        FFI_ArrowSchema::try_from(handle.reader.schema().as_ref()).map_err(|e| e.to_string())
    }))
    .unwrap_or_else(|payload| Err(panic_message(payload)));
    match result {
        Ok(schema) => {
            ptr::write(out, schema);
            STATUS_BATCH
        }
        Err(message) => set_error(handle, format!("cannot export the schema: {message}")),
    }
}

fn export_batch(batch: RecordBatch) -> Result<(FFI_ArrowArray, FFI_ArrowSchema), String> {
    let schema = FFI_ArrowSchema::try_from(batch.schema().as_ref()).map_err(|e| e.to_string())?;
    let data = StructArray::from(batch).into_data();
    Ok((FFI_ArrowArray::new(&data), schema))
}

/// Body of `dativo_next_batch`.
///
/// # Safety
/// `handle` must come from [`create`] for the same `R`; the outputs must be writable.
pub unsafe fn next_batch<R: BatchReader>(
    handle: *mut Handle<R>,
    out_array: *mut FFI_ArrowArray,
    out_schema: *mut FFI_ArrowSchema,
) -> i32 {
    let Some(handle) = handle.as_mut() else {
        return STATUS_ERROR;
    };
    if out_array.is_null() || out_schema.is_null() {
        return set_error(handle, "batch output pointers must not be NULL".into());
    }
    let reader = &mut handle.reader;
    let result = catch_unwind(AssertUnwindSafe(|| match reader.next_batch()? {
        Some(batch) => export_batch(batch).map(Some),
        None => Ok(None),
    }))
    .unwrap_or_else(|payload| Err(panic_message(payload)));
    match result {
        Ok(Some((array, schema))) => {
            ptr::write(out_array, array);
            ptr::write(out_schema, schema);
            STATUS_BATCH
        }
        Ok(None) => STATUS_END,
        Err(message) => set_error(handle, message),
    }
}

/// What `dativo_next_records` hands over: a byte buffer freed by `dativo_free_bytes`.
#[repr(C)]
pub struct Bytes {
    pub data: *mut u8,
    pub len: usize,
    pub capacity: usize,
}

/// Body of `dativo_next_records`.
///
/// # Safety
/// `handle` must come from [`create`] for the same `R`; `stream` a NUL-terminated string;
/// `out` and `rows` writable.
pub unsafe fn next_records<R: BatchReader>(
    handle: *mut Handle<R>,
    stream: *const c_char,
    out: *mut Bytes,
    rows: *mut i64,
) -> i32 {
    let Some(handle) = handle.as_mut() else {
        return STATUS_ERROR;
    };
    if stream.is_null() || out.is_null() || rows.is_null() {
        return set_error(handle, "stream, output and row count pointers must not be NULL".into());
    }
    let Ok(stream) = CStr::from_ptr(stream).to_str() else {
        return set_error(handle, "the stream name is not valid UTF-8".into());
    };
    let reader = &mut handle.reader;
    let result = catch_unwind(AssertUnwindSafe(|| {
        let mut lines = Vec::new();
        Ok(reader.next_records(stream, &mut lines)?.map(|count| (lines, count)))
    }))
    .unwrap_or_else(|payload| Err(panic_message(payload)));
    match result {
        Ok(Some((lines, count))) => {
            let mut lines = std::mem::ManuallyDrop::new(lines);
            ptr::write(out, Bytes { data: lines.as_mut_ptr(), len: lines.len(), capacity: lines.capacity() });
            ptr::write(rows, count as i64);
            STATUS_BATCH
        }
        Ok(None) => STATUS_END,
        Err(message) => set_error(handle, message),
    }
}

/// Body of `dativo_free_bytes`.
///
/// # Safety
/// `bytes` must be NULL or filled by [`next_records`], and not be freed twice.
pub unsafe fn free_bytes(bytes: *mut Bytes) {
    if let Some(bytes) = bytes.as_mut() {
        if !bytes.data.is_null() {
            drop(Vec::from_raw_parts(bytes.data, bytes.len, bytes.capacity));
            bytes.data = ptr::null_mut();
            bytes.len = 0;
            bytes.capacity = 0;
        }
    }
}

/// Body of `dativo_last_error`: borrowed, valid until the next call on the handle.
///
/// # Safety
/// `handle` must be NULL or come from [`create`] for the same `R`.
pub unsafe fn last_error<R>(handle: *const Handle<R>) -> *const c_char {
    match handle.as_ref() {
        Some(handle) => handle.last_error.as_ptr(),
        None => c"reader handle is NULL".as_ptr(),
    }
}

/// Body of `dativo_free_reader`.
///
/// # Safety
/// `handle` must be NULL or come from [`create`] for the same `R`, and not be used again.
pub unsafe fn free_reader<R>(handle: *mut Handle<R>) {
    if !handle.is_null() {
        drop(Box::from_raw(handle));
    }
}

/// Body of `dativo_free_string`.
///
/// # Safety
/// `text` must be NULL or a string this library returned, and not be used again.
pub unsafe fn free_string(text: *mut c_char) {
    if !text.is_null() {
        drop(CString::from_raw(text));
    }
}

/// Define the C ABI of `include/dativo_reader.h` for a [`BatchReader`] type.
///
/// Use it once per `cdylib` crate: `dativo_reader::export_reader!(MyReader);`
#[macro_export]
macro_rules! export_reader {
    ($reader:ty) => {
        #[no_mangle]
        pub extern "C" fn dativo_abi_version() -> u32 {
            $crate::ABI_VERSION
        }

        /// # Safety
        /// See `dativo_reader::create`.
        #[no_mangle]
        pub unsafe extern "C" fn dativo_create_reader(
            config_json: *const ::std::ffi::c_char,
            error_out: *mut *mut ::std::ffi::c_char,
        ) -> *mut ::std::ffi::c_void {
            $crate::create::<$reader>(config_json, error_out).cast()
        }

        /// # Safety
        /// See `dativo_reader::schema`.
        #[no_mangle]
        pub unsafe extern "C" fn dativo_reader_schema(
            handle: *mut ::std::ffi::c_void,
            out: *mut ::std::ffi::c_void,
        ) -> i32 {
            $crate::schema::<$reader>(handle.cast(), out.cast())
        }

        /// # Safety
        /// See `dativo_reader::next_batch`.
        #[no_mangle]
        pub unsafe extern "C" fn dativo_next_batch(
            handle: *mut ::std::ffi::c_void,
            out_array: *mut ::std::ffi::c_void,
            out_schema: *mut ::std::ffi::c_void,
        ) -> i32 {
            $crate::next_batch::<$reader>(handle.cast(), out_array.cast(), out_schema.cast())
        }

        /// # Safety
        /// See `dativo_reader::next_records`.
        #[no_mangle]
        pub unsafe extern "C" fn dativo_next_records(
            handle: *mut ::std::ffi::c_void,
            stream: *const ::std::ffi::c_char,
            out: *mut $crate::Bytes,
            rows: *mut i64,
        ) -> i32 {
            $crate::next_records::<$reader>(handle.cast(), stream, out, rows)
        }

        /// # Safety
        /// See `dativo_reader::free_bytes`.
        #[no_mangle]
        pub unsafe extern "C" fn dativo_free_bytes(bytes: *mut $crate::Bytes) {
            $crate::free_bytes(bytes)
        }

        /// # Safety
        /// See `dativo_reader::last_error`.
        #[no_mangle]
        pub unsafe extern "C" fn dativo_last_error(
            handle: *const ::std::ffi::c_void,
        ) -> *const ::std::ffi::c_char {
            $crate::last_error::<$reader>(handle.cast())
        }

        /// # Safety
        /// See `dativo_reader::free_reader`.
        #[no_mangle]
        pub unsafe extern "C" fn dativo_free_reader(handle: *mut ::std::ffi::c_void) {
            $crate::free_reader::<$reader>(handle.cast())
        }

        /// # Safety
        /// See `dativo_reader::free_string`.
        #[no_mangle]
        pub unsafe extern "C" fn dativo_free_string(text: *mut ::std::ffi::c_char) {
            $crate::free_string(text)
        }
    };
}
