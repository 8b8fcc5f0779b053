//! Where the fields of the rows read go: Arrow column builders (`columns.rs`) or RECORD lines
//! (`json.rs`). One row loop in `lib.rs` feeds either, so both check fields alike.

/// Why a field could not be added, for the caller to place in the file.
pub enum FieldError {
    NotOfKind,
    InvalidUtf8,
}

pub trait RowSink {
    fn begin_row(&mut self) {}

    /// Column `column` of this row is null.
    fn null(&mut self, column: usize);

    /// Column `column` of this row holds `field`, a value that is not a null value.
    fn value(&mut self, column: usize, field: &[u8]) -> Result<(), FieldError>;

    fn end_row(&mut self) {}
}
