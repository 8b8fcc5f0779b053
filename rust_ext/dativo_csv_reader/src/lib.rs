//! A CSV reader behind the Dativo reader C ABI.
//!
//! Types are inferred with tap-csv's rules from the whole file (or its first `infer_max_rows`
//! rows) in a first pass that only parses CSV, then the file is read again in batches of
//! `batch_size` rows, so memory stays bounded by the batch whatever the file size. Only the
//! `columns` asked for are inferred and parsed; with every column's type in `column_types`
//! there is no inference pass at all.
//! Config keys: see `options.rs` and docs/rust-readers.md.

mod columns;
mod json;
mod kinds;
mod options;
mod parsing;
mod rows;
mod scan;
mod values;

use std::collections::HashSet;
use std::fs::File;
use std::io::BufReader;
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::{Field, Schema, SchemaRef};
use csv::ByteRecord;
use dativo_reader::{export_reader, BatchReader, ReadAhead, RecordLineWriter};

use crate::columns::ColumnBuilder;
use crate::json::JsonRows;
use crate::rows::{FieldError, RowSink};
use crate::kinds::{Kind, KindInference};
use crate::options::CsvOptions;
use crate::parsing::{read_record, Block, ParallelBlocks, RecordRef, Records};

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";
const READ_BUFFER_BYTES: usize = 1 << 20;
/// Records per block of the inference pass: small, as a block costs little to observe.
const INFER_BLOCK_RECORDS: usize = 4096;

pub struct CsvReader {
    rows: Arc<RowFields>,
    schema: SchemaRef,
    data: DataStart,
    /// Read one way throughout: as Arrow batches or as RECORD lines of one stream, each block
    /// of records made by one of several threads at once. Started at the first call.
    reading: Reading,
}

enum Reading {
    NotStarted,
    Batches(ParallelBlocks<(), RecordBatch>),
    Records(String, ParallelBlocks<RecordLineWriter, (Vec<u8>, usize)>),
}

/// What turns a record's fields into a row: the columns read and their kinds, and the null
/// values. Shared by the threads that encode blocks at once.
struct RowFields {
    options: CsvOptions,
    names: Vec<String>,
    /// Per column read: its field index in the file and its kind.
    positions: Vec<usize>,
    kinds: Vec<Kind>,
    max_null_len: usize,
    /// Fields in every record of the file.
    width: usize,
}

/// Where a field is, as a user finds it in the file.
fn locate(path: &str, line: u64, name: &str, index: usize) -> String {
    format!("file '{path}', line {line}, column '{name}' (field {})", index + 1)
}

fn open_records(options: &CsvOptions) -> Result<Records, String> {
    let file = File::open(&options.path)
        .map_err(|e| format!("file '{}': cannot open the CSV file: {e}", options.path))?;
    let mut builder = csv::ReaderBuilder::new();
    builder
        .has_headers(false)
        .flexible(false)
        .delimiter(options.delimiter)
        .quoting(options.quote.is_some())
        .quote(options.quote.unwrap_or(b'"'))
        .escape(options.escape)
        .double_quote(true);
    Ok(builder.from_reader(BufReader::with_capacity(READ_BUFFER_BYTES, file)))
}

fn strip_bom(field: &[u8]) -> &[u8] {
    field.strip_prefix(UTF8_BOM).unwrap_or(field)
}

/// A record's field at `position`, without the byte-order mark a file without a header starts
/// its first field with.
fn data_field<'a>(record: &RecordRef<'a>, position: usize) -> &'a [u8] {
    let field = record.field(position);
    if record.line == 1 && position == 0 { strip_bom(field) } else { field }
}

fn column_names(options: &CsvOptions, records: &mut Records) -> Result<Vec<String>, String> {
    let path = &options.path;
    let mut header = ByteRecord::new();
    let has_row = read_record(records, &mut header, path)?;
    if !has_row {
        return Err(format!("file '{path}' is empty: a CSV file needs at least a header row"));
    }
    let width = header.len();
    if !options.has_header {
        // Read again from the top: that row was data.
        *records = open_records(options)?;
        return match &options.column_names {
            Some(names) if names.len() == width => Ok(names.clone()),
            Some(names) => Err(format!(
                "file '{path}': config 'column_names' has {} names but the first row has {width} fields",
                names.len()
            )),
            None => Ok((0..width).map(|i| format!("f{i}")).collect()),
        };
    }
    header
        .iter()
        .enumerate()
        .map(|(i, raw)| {
            let raw = if i == 0 { strip_bom(raw) } else { raw };
            String::from_utf8(raw.to_vec()).map_err(|_| {
                format!("file '{path}', line 1: the name of field {} is not valid UTF-8", i + 1)
            })
        })
        .collect()
}

fn is_null(options: &CsvOptions, max_null_len: usize, field: &[u8], kind: Kind) -> bool {
    if kind == Kind::String && !options.strings_can_be_null {
        return false;
    }
    field.len() <= max_null_len && options.null_values.contains(field)
}

impl RowFields {
    /// One record's fields into `rows`, field by field.
    fn write_row(&self, record: &RecordRef<'_>, rows: &mut impl RowSink) -> Result<(), String> {
        let RowFields { options, names, positions, kinds, max_null_len, .. } = self;
        rows.begin_row();
        for (i, &position) in positions.iter().enumerate() {
            let field = data_field(record, position);
            let kind = kinds[i];
            if is_null(options, *max_null_len, field, kind) {
                rows.null(i);
                continue;
            }
            rows.value(i, field).map_err(|error| {
                let place = locate(&options.path, record.line, &names[i], position);
                let text = String::from_utf8_lossy(field);
                match error {
                    FieldError::InvalidUtf8 => format!("{place}: the text is not valid UTF-8: {text:?}"),
                    FieldError::NotOfKind => format!(
                        "{place}: value {text:?} is not a valid {}; declare the column as string in 'column_types' to keep such values",
                        kind.name()
                    ),
                }
            })?;
        }
        rows.end_row();
        Ok(())
    }

    /// A block's records as an Arrow batch of `schema`.
    fn build_batch(&self, schema: &SchemaRef, block: &Block) -> Result<RecordBatch, String> {
        // A block holds at most `batch_size` records.
        let mut builders: Vec<ColumnBuilder> =
            self.kinds.iter().map(|kind| ColumnBuilder::new(*kind, self.options.batch_size)).collect();
        block.for_each_record(self.options.delimiter, self.width, &self.options.path, |record| {
            self.write_row(record, &mut builders)
        })?;
        let columns = builders.iter_mut().map(ColumnBuilder::finish).collect();
        RecordBatch::try_new(schema.clone(), columns)
            .map_err(|e| format!("file '{}': cannot assemble a batch: {e}", self.options.path))
    }

    /// A block's records as RECORD lines, and how many.
    fn encode_block(&self, writer: &mut RecordLineWriter, block: &Block) -> Result<(Vec<u8>, usize), String> {
        // RECORD lines take about twice the CSV's bytes, plus the envelope and keys.
        let mut out = Vec::with_capacity(block.byte_len() * 3);
        let mut count = 0;
        let mut rows = JsonRows::new(writer, &self.kinds, &mut out);
        block.for_each_record(self.options.delimiter, self.width, &self.options.path, |record| {
            count += 1;
            self.write_row(record, &mut rows)
        })?;
        Ok((out, count))
    }
}

impl CsvReader {
    /// Kind of every read column (`positions` in the file): configured, inferred from a pass
    /// over the file (by every core, each observing its share of the blocks), or string.
    fn decide_kinds(
        options: &CsvOptions,
        names: &[String],
        positions: &[usize],
        max_null_len: usize,
        data: DataStart,
    ) -> Result<Vec<Kind>, String> {
        let mut kinds: Vec<Option<Kind>> = positions
            .iter()
            .map(|&p| options.column_types.get(&names[p]).copied())
            .collect();
        if let Some(missing) = options.column_types.keys().find(|k| !names.contains(k)) {
            return Err(format!(
                "file '{}': config 'column_types' names column '{missing}' which the file does not have; its columns are: {}",
                options.path,
                names.join(", ")
            ));
        }
        if !options.infer_types || kinds.iter().all(Option::is_some) {
            return Ok(kinds.into_iter().map(|k| k.unwrap_or(Kind::String)).collect());
        }
        // Only the columns without a configured kind, as (index among those read, field index).
        let inferred: Vec<(usize, usize)> =
            positions.iter().enumerate().filter(|(i, _)| kinds[*i].is_none()).map(|(i, &p)| (i, p)).collect();
        let nulls = options.null_values.clone();
        let (delimiter, path, names) = (options.delimiter, options.path.clone(), names.to_vec());
        // Per worker: what it observed of each column, and the columns still worth observing
        // (a column that is text is text whatever comes after, so it is dropped).
        let states =
            vec![(vec![KindInference::default(); positions.len()], inferred); parsing::worker_count()];
        let mut pass = ParallelBlocks::start(
            options,
            data.offset,
            data.line,
            names.len(),
            options.infer_max_rows,
            INFER_BLOCK_RECORDS,
            states,
            move |(inference, observed): &mut (Vec<KindInference>, Vec<(usize, usize)>), block: &Block| {
                block.for_each_record(delimiter, names.len(), &path, |record| {
                    for &(i, position) in observed.iter() {
                        let field = data_field(record, position);
                        if !(field.len() <= max_null_len && nulls.contains(field)) {
                            inference[i].observe(field);
                        }
                    }
                    Ok(())
                })?;
                observed.retain(|&(i, _)| !inference[i].is_settled());
                Ok(())
            },
        )?;
        while pass.next()?.is_some() {}
        let shares = pass.finish()?;
        for (i, kind) in kinds.iter_mut().enumerate() {
            let mut merged = KindInference::default();
            shares.iter().for_each(|(inference, _)| merged.merge(&inference[i]));
            kind.get_or_insert(merged.kind());
        }
        Ok(kinds.into_iter().map(|k| k.unwrap_or(Kind::String)).collect())
    }

    /// A pass over every data row in blocks of `batch_size` records, `work` turning each block
    /// into a `T` on one thread per state in `states`.
    fn data_pass<S, T, F>(&self, states: Vec<S>, work: F) -> Result<ParallelBlocks<S, T>, String>
    where
        S: Send + 'static,
        T: Send + 'static,
        F: Fn(&mut S, &Block) -> Result<T, String> + Send + Sync + 'static,
    {
        let rows = &self.rows;
        let (offset, line) = (self.data.offset, self.data.line);
        ParallelBlocks::start(&rows.options, offset, line, rows.width, None, rows.options.batch_size, states, work)
    }

    /// The pass that builds Arrow batches, every core building blocks of `batch_size` records.
    fn batches(&mut self) -> Result<&mut ParallelBlocks<(), RecordBatch>, String> {
        if let Reading::NotStarted = self.reading {
            let (builder, schema) = (self.rows.clone(), self.schema.clone());
            let building = self.data_pass(vec![(); parsing::worker_count()], move |_: &mut (), block: &Block| {
                builder.build_batch(&schema, block)
            })?;
            self.reading = Reading::Batches(building);
        }
        match &mut self.reading {
            Reading::Batches(building) => Ok(building),
            _ => Err("this reader is read as RECORD lines and cannot also give Arrow batches".into()),
        }
    }
}

/// Where the data rows begin: the byte offset and physical line after the header (if any).
#[derive(Clone, Copy)]
struct DataStart {
    offset: u64,
    line: u64,
}

impl DataStart {
    /// `records` has read the header row, if the file has one.
    fn after_header(options: &CsvOptions, records: &Records) -> Self {
        if !options.has_header {
            return DataStart { offset: 0, line: 1 };
        }
        let position = records.position();
        DataStart { offset: position.byte(), line: position.line() }
    }
}

/// Records are JSON objects keyed by column name, so a name may appear once only.
fn refuse_duplicates(path: &str, names: &[String]) -> Result<(), String> {
    let mut seen = HashSet::new();
    let mut duplicates: Vec<&str> = names
        .iter()
        .filter(|name| !seen.insert(name.as_str()))
        .map(String::as_str)
        .collect();
    if duplicates.is_empty() {
        return Ok(());
    }
    duplicates.sort_unstable();
    duplicates.dedup();
    Err(format!("file '{path}': duplicate column names in the header: {duplicates:?}"))
}

/// Field index in the file of each column to read: the `columns` config, or all of them.
fn column_positions(options: &CsvOptions, names: &[String]) -> Result<Vec<usize>, String> {
    let Some(columns) = &options.columns else {
        return Ok((0..names.len()).collect());
    };
    refuse_duplicates(&options.path, columns).map_err(|_| {
        format!("file '{}': config 'columns' names a column twice: {columns:?}", options.path)
    })?;
    columns
        .iter()
        .map(|column| {
            names.iter().position(|name| name == column).ok_or_else(|| {
                format!(
                    "file '{}': config 'columns' names column '{column}' which the file does not have; its columns are: {}",
                    options.path,
                    names.join(", ")
                )
            })
        })
        .collect()
}

impl BatchReader for CsvReader {
    fn create(config: &serde_json::Value) -> Result<Self, String> {
        let options = CsvOptions::from_json(config)?;
        let mut records = open_records(&options)?;
        let names = column_names(&options, &mut records)?;
        refuse_duplicates(&options.path, &names)?;
        let max_null_len = options.null_values.iter().map(Vec::len).max().unwrap_or(0);
        let positions = column_positions(&options, &names)?;
        let data = DataStart::after_header(&options, &records);
        let kinds = Self::decide_kinds(&options, &names, &positions, max_null_len, data)?;
        let fields: Vec<Field> = positions
            .iter()
            .zip(&kinds)
            .map(|(&p, kind)| Field::new(&names[p], kind.data_type(), true))
            .collect();
        let width = names.len();
        let names = positions.iter().map(|&p| names[p].clone()).collect();
        Ok(CsvReader {
            rows: Arc::new(RowFields { options, names, positions, kinds, max_null_len, width }),
            schema: Arc::new(Schema::new(fields)),
            data,
            reading: Reading::NotStarted,
        })
    }

    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn next_batch(&mut self) -> Result<Option<RecordBatch>, String> {
        self.batches()?.next()
    }

    /// RECORD lines straight from the CSV fields, with no Arrow batch in between: blocks of
    /// `batch_size` records encoded by every core at once, handed out in file order.
    fn next_records(&mut self, stream: &str, out: &mut Vec<u8>) -> Result<Option<usize>, String> {
        if let Reading::NotStarted = self.reading {
            let rows = self.rows.clone();
            let writers = (0..parsing::worker_count())
                .map(|_| RecordLineWriter::new(stream, rows.names.iter().map(String::as_str)))
                .collect();
            let encoding = self.data_pass(writers, move |writer: &mut RecordLineWriter, block: &Block| {
                rows.encode_block(writer, block)
            })?;
            self.reading = Reading::Records(stream.to_string(), encoding);
        }
        let Reading::Records(encoded_stream, encoding) = &mut self.reading else {
            return Err("this reader is read as Arrow batches and cannot also give RECORD lines".into());
        };
        if encoded_stream != stream {
            return Err(format!("this reader writes RECORD lines of stream '{encoded_stream}', not '{stream}'"));
        }
        let Some((lines, rows)) = encoding.next()? else {
            return Ok(None);
        };
        if out.is_empty() {
            *out = lines;
        } else {
            out.extend_from_slice(&lines);
        }
        Ok(Some(rows))
    }
}

// Reading (and encoding) the next batch overlaps with the consumer's work on the current one.
export_reader!(ReadAhead<CsvReader>);
