//! Splitting a CSV file into records, on a thread of its own, handed over in blocks, so that it
//! overlaps with what the caller does with the fields (inference, Arrow columns or JSON).
//!
//! A line holding no quote and no carriage return (but at its end) is split at its delimiters
//! with memchr, which is several times faster than a byte-by-byte parser; any other record
//! (quoted fields, embedded newlines, lone `\r` terminators) goes through `csv_core`, the
//! parser of the `csv` crate, configured as `options.rs` says. Both skip blank lines, count
//! physical lines, and refuse a record whose field count differs from the first row's.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::sync::mpsc::{channel, sync_channel, Receiver, Sender, SyncSender};
use std::thread::JoinHandle;

use csv::{ByteRecord, ErrorKind};
use csv_core::ReadRecordResult;

use crate::options::CsvOptions;

pub type Records = csv::Reader<BufReader<File>>;

/// Records per block: small enough that the first block comes soon, large enough that the
/// hand-over costs nothing per record.
const BLOCK_RECORDS: usize = 2048;
const READ_BYTES: usize = 1 << 20;

/// Read one record into `record` with the `csv` crate (the header); false at the end.
pub fn read_record(records: &mut Records, record: &mut ByteRecord, path: &str) -> Result<bool, String> {
    records.read_byte_record(record).map_err(|error| match error.kind() {
        ErrorKind::UnequalLengths { pos, expected_len, len } => {
            width_error(path, pos.as_ref().map_or(0, |p| p.line()), *expected_len as usize, *len as usize)
        }
        _ => format!("file '{path}': cannot read the CSV file: {error}"),
    })
}

fn width_error(path: &str, line: u64, expected: usize, got: usize) -> String {
    format!("file '{path}', line {line}: expected {expected} fields as in the first row, got {got}")
}

/// Records, their fields stored one after another with one separator byte between fields.
#[derive(Default)]
struct Block {
    bytes: Vec<u8>,
    /// End offset in `bytes` of every field of every record.
    ends: Vec<usize>,
    /// Per record: index of its first field in `ends`, offset of its first byte, its line.
    records: Vec<(usize, usize, u64)>,
}

impl Block {
    fn clear(&mut self) {
        self.bytes.clear();
        self.ends.clear();
        self.records.clear();
    }
}

/// One record of a block: its fields and the physical line it starts on.
pub struct RecordRef<'a> {
    block: &'a Block,
    first: usize,
    start: usize,
    pub line: u64,
}

impl<'a> RecordRef<'a> {
    pub fn field(&self, index: usize) -> &'a [u8] {
        let end = self.block.ends[self.first + index];
        let start = if index == 0 { self.start } else { self.block.ends[self.first + index - 1] + 1 };
        &self.block.bytes[start..end]
    }
}

/// Where the splitter is in the file.
struct Splitter {
    file: File,
    path: String,
    delimiter: u8,
    quote: Option<u8>,
    core: csv_core::Reader,
    buffer: Vec<u8>,
    /// Unsplit bytes are `buffer[at..filled]`.
    at: usize,
    filled: usize,
    eof: bool,
    line: u64,
    width: Option<usize>,
    /// csv_core's output for one record: unescaped field bytes and their ends.
    core_fields: Vec<u8>,
    core_ends: Vec<usize>,
}

impl Splitter {
    /// Read more of the file, keeping the unsplit bytes; false at the end of the file.
    fn refill(&mut self) -> Result<bool, String> {
        if self.eof {
            return Ok(false);
        }
        self.buffer.copy_within(self.at..self.filled, 0);
        self.filled -= self.at;
        self.at = 0;
        if self.buffer.len() - self.filled < READ_BYTES / 2 {
            self.buffer.resize(self.buffer.len() + READ_BYTES, 0);
        }
        let read = self
            .file
            .read(&mut self.buffer[self.filled..])
            .map_err(|e| format!("file '{}': cannot read the CSV file: {e}", self.path))?;
        self.filled += read;
        self.eof = read == 0;
        Ok(read > 0)
    }

    fn check_width(&mut self, fields: usize, line: u64) -> Result<(), String> {
        match self.width {
            None => self.width = Some(fields),
            Some(width) if width != fields => return Err(width_error(&self.path, line, width, fields)),
            Some(_) => {}
        }
        Ok(())
    }

    /// Split the next record into `block`; false at the end of the file.
    fn next_into(&mut self, block: &mut Block) -> Result<bool, String> {
        loop {
            let Some(newline) = memchr::memchr(b'\n', &self.buffer[self.at..self.filled]) else {
                if self.refill()? {
                    continue;
                }
                if self.at == self.filled {
                    return Ok(false);
                }
                // The last line, without a newline.
                return self.split_line(block, self.filled, self.filled);
            };
            let end = self.at + newline;
            if end == self.at || (end == self.at + 1 && self.buffer[self.at] == b'\r') {
                // A blank line: skipped, as csv_core skips it.
                self.at = end + 1;
                self.line += 1;
                continue;
            }
            return self.split_line(block, end, end + 1);
        }
    }

    /// The record on `buffer[at..end]` (a line ending at `end`; the next starts at `next`).
    fn split_line(&mut self, block: &mut Block, end: usize, next: usize) -> Result<bool, String> {
        let line_end = if end > self.at && self.buffer[end - 1] == b'\r' { end - 1 } else { end };
        let text = &self.buffer[self.at..line_end];
        let plain = match self.quote {
            Some(quote) => memchr::memchr2(quote, b'\r', text).is_none(),
            None => memchr::memchr(b'\r', text).is_none(),
        };
        if !plain {
            return self.parse_with_core(block);
        }
        let first = block.ends.len();
        let start = block.bytes.len();
        block.bytes.extend_from_slice(text);
        for delimiter in memchr::memchr_iter(self.delimiter, text) {
            block.ends.push(start + delimiter);
        }
        block.ends.push(start + text.len());
        let line = self.line;
        self.check_width(block.ends.len() - first, line)?;
        block.records.push((first, start, line));
        self.at = next;
        self.line += 1;
        Ok(true)
    }

    /// The next record, parsed by csv_core from a record start.
    fn parse_with_core(&mut self, block: &mut Block) -> Result<bool, String> {
        // csv_core is at a record start: after its last record, and the fast path leaves
        // nothing of a record unread.
        let line = self.line;
        let (mut written, mut ended) = (0, 0);
        loop {
            if self.core_fields.len() - written < 1024 {
                self.core_fields.resize(self.core_fields.len().max(1024) * 2, 0);
            }
            if self.core_ends.len() - ended < 16 {
                self.core_ends.resize(self.core_ends.len().max(16) * 2, 0);
            }
            let input = &self.buffer[self.at..self.filled];
            let (result, read, wrote, ends) = self.core.read_record(
                input,
                &mut self.core_fields[written..],
                &mut self.core_ends[ended..],
            );
            self.line += memchr::memchr_iter(b'\n', &input[..read]).count() as u64;
            self.at += read;
            // csv_core's ends count from the start of the record's output, across calls.
            written += wrote;
            ended += ends;
            match result {
                ReadRecordResult::InputEmpty => {
                    if !self.refill()? && self.at == self.filled {
                        // Tell csv_core the input ended, so it finishes the last record.
                        let (result, _, _, ends) = self.core.read_record(
                            &[],
                            &mut self.core_fields[written..],
                            &mut self.core_ends[ended..],
                        );
                        ended += ends;
                        if matches!(result, ReadRecordResult::End) && ended == 0 {
                            return Ok(false);
                        }
                        break;
                    }
                }
                ReadRecordResult::OutputFull | ReadRecordResult::OutputEndsFull => {}
                ReadRecordResult::Record => break,
                ReadRecordResult::End => return Ok(false),
            }
        }
        let first = block.ends.len();
        let start = block.bytes.len();
        let mut from = 0;
        for &end in &self.core_ends[..ended] {
            block.bytes.extend_from_slice(&self.core_fields[from..end]);
            block.ends.push(block.bytes.len());
            block.bytes.push(0);
            from = end;
        }
        self.check_width(ended, line)?;
        block.records.push((first, start, line));
        Ok(true)
    }
}

type Sent = Result<Block, String>;

fn split_blocks(mut splitter: Splitter, max_records: u64, blocks: SyncSender<Sent>, spare: Receiver<Block>) {
    let mut left = max_records;
    loop {
        let mut block = spare.try_recv().unwrap_or_default();
        block.clear();
        let mut failure = None;
        while block.records.len() < BLOCK_RECORDS && left > 0 {
            match splitter.next_into(&mut block) {
                Ok(true) => left -= 1,
                Ok(false) => left = 0,
                Err(message) => {
                    failure = Some(message);
                    break;
                }
            }
        }
        let more = failure.is_none() && left > 0;
        // A failed send means the reader is gone: stop splitting.
        if !block.records.is_empty() && blocks.send(Ok(block)).is_err() {
            return;
        }
        if let Some(message) = failure {
            let _ = blocks.send(Err(message));
            return;
        }
        if !more {
            return;
        }
    }
}

/// The records of a file, split ahead by a thread; a parse error comes after the records
/// before it, never as an early end.
pub struct ParsedRecords {
    blocks: Option<Receiver<Sent>>,
    /// Blocks sent back for the thread to reuse, with their allocations.
    spare: Sender<Block>,
    worker: Option<JoinHandle<()>>,
    current: Block,
    next: usize,
    /// The parse error, once met: every later call fails with it too.
    failure: Option<String>,
}

impl ParsedRecords {
    /// Split at most `max_records` records of the file, from byte `offset` (the start of a
    /// record, on physical line `line`). `width` is the first row's field count when that row
    /// (the header) was read already.
    pub fn start(
        options: &CsvOptions,
        offset: u64,
        line: u64,
        width: Option<usize>,
        max_records: Option<u64>,
    ) -> Result<Self, String> {
        let path = options.path.clone();
        let mut file =
            File::open(&path).map_err(|e| format!("file '{path}': cannot open the CSV file: {e}"))?;
        file.seek(SeekFrom::Start(offset))
            .map_err(|e| format!("file '{path}': cannot read the CSV file: {e}"))?;
        let mut core = csv_core::ReaderBuilder::new()
            .delimiter(options.delimiter)
            .quoting(options.quote.is_some())
            .quote(options.quote.unwrap_or(b'"'))
            .escape(options.escape)
            .double_quote(true)
            .build();
        if offset > 0 {
            // csv_core drops a UTF-8 BOM before its first record only, as the `csv` crate that
            // read the header did: one blank line (skipped, state unchanged) marks it as started.
            let _ = core.read_record(b"\n", &mut [0u8; 1], &mut [0usize; 1]);
        }
        let splitter = Splitter {
            file,
            path,
            delimiter: options.delimiter,
            quote: options.quote,
            core,
            buffer: Vec::new(),
            at: 0,
            filled: 0,
            eof: false,
            line,
            width,
            core_fields: Vec::new(),
            core_ends: Vec::new(),
        };
        let (block_sender, blocks) = sync_channel(2);
        let (spare, spare_receiver) = channel();
        let max_records = max_records.unwrap_or(u64::MAX);
        let worker = std::thread::Builder::new()
            .name("dativo-csv-parse".into())
            .spawn(move || split_blocks(splitter, max_records, block_sender, spare_receiver))
            .map_err(|e| format!("cannot start the CSV parsing thread: {e}"))?;
        Ok(ParsedRecords {
            blocks: Some(blocks),
            spare,
            worker: Some(worker),
            current: Block::default(),
            next: 0,
            failure: None,
        })
    }

    /// The next record, `None` at the end of the file (or of `max_records`).
    pub fn next_record(&mut self) -> Result<Option<RecordRef<'_>>, String> {
        if let Some(message) = &self.failure {
            return Err(message.clone());
        }
        if self.next == self.current.records.len() {
            let used = std::mem::take(&mut self.current);
            let _ = self.spare.send(used);
            self.next = 0;
            match self.blocks.as_ref().map(Receiver::recv) {
                Some(Ok(Ok(block))) => self.current = block,
                Some(Ok(Err(message))) => {
                    self.blocks = None;
                    self.failure = Some(message.clone());
                    return Err(message);
                }
                Some(Err(_)) | None => {
                    self.blocks = None;
                    return Ok(None);
                }
            }
        }
        let (first, start, line) = self.current.records[self.next];
        self.next += 1;
        Ok(Some(RecordRef { block: &self.current, first, start, line }))
    }
}

impl Drop for ParsedRecords {
    fn drop(&mut self) {
        // Closing the channel lets a thread blocked on `send` return; then wait for it.
        self.blocks.take();
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}
