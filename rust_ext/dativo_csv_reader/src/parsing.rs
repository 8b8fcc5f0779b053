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

const READ_BYTES: usize = 1 << 20;
const STOPPED: &str = "the CSV parsing threads stopped before the end of the file";

/// Read one record into `record` with the `csv` crate (the header); false at the end.
pub fn read_record(records: &mut Records, record: &mut ByteRecord, path: &str) -> Result<bool, String> {
    records.read_byte_record(record).map_err(|error| match error.kind() {
        ErrorKind::UnequalLengths { pos, expected_len, len } => {
            width_error(path, pos.as_ref().map_or(0, |p| p.line()), *expected_len as usize, *len as usize, b"")
        }
        _ => format!("file '{path}': cannot read the CSV file: {error}"),
    })
}

fn unclosed_quote_error(path: &str, line: u64) -> String {
    format!(
        "file '{path}', line {line}: a quoted field of the record on this line is not closed by the end \
         of the file, so the rest of the file would be one value; close the quote, or set `quotechar` \
         if this file quotes with another character"
    )
}

/// Check a record's field count against the first row's (`width`, set by the first record);
/// `text` makes the record's text for the error.
fn check_width(
    width: &mut Option<usize>,
    path: &str,
    fields: usize,
    line: u64,
    text: impl FnOnce() -> Vec<u8>,
) -> Result<(), String> {
    match *width {
        None => *width = Some(fields),
        Some(expected) if expected != fields => return Err(width_error(path, line, expected, fields, &text())),
        Some(_) => {}
    }
    Ok(())
}

/// The error of a record with another field count than the first row's; `text` is the record
/// as read (its first 200 characters are shown), empty when not at hand.
fn width_error(path: &str, line: u64, expected: usize, got: usize, text: &[u8]) -> String {
    let message = format!("file '{path}', line {line}: expected {expected} fields as in the first row, got {got}");
    if text.is_empty() {
        return message;
    }
    let shown: String = String::from_utf8_lossy(text).chars().take(200).collect();
    format!("{message}: {shown:?}")
}

/// Go through the plain lines of `bytes` (no quote, no carriage return: fields end at
/// delimiters, records at newlines, each line ending in one), calling `record` with each
/// record's field ends, its start and its line, as long as it returns true; blank lines are
/// skipped (and counted), as csv_core skips them. `line` is the first line's number, and
/// after the walk the number of the line after the last one walked; returns that line's
/// position in `bytes`, and the error `record` gave, if it gave one.
fn walk_plain_lines(
    bytes: &[u8],
    delimiter: u8,
    line: &mut u64,
    ends: &mut Vec<usize>,
    mut record: impl FnMut(&[usize], usize, u64) -> Result<bool, String>,
) -> (usize, Option<String>) {
    let (mut start, mut failure) = (0, None);
    ends.clear();
    crate::scan::each_of_two(bytes, delimiter, b'\n', |position| {
        if bytes[position] != b'\n' {
            ends.push(position);
            return true;
        }
        if position == start {
            *line += 1;
            start = position + 1;
            return true;
        }
        ends.push(position);
        let go_on = match record(ends, start, *line) {
            Ok(go_on) => go_on,
            Err(message) => {
                failure = Some(message);
                return false;
            }
        };
        ends.clear();
        *line += 1;
        start = position + 1;
        go_on
    });
    (start, failure)
}

/// Records, their fields stored one after another with one separator byte between fields; or,
/// for a pass that splits on the threads taking the blocks, whole plain lines (no quote, no
/// carriage return) that the taker splits itself while it goes through them.
#[derive(Default)]
pub struct Block {
    bytes: Vec<u8>,
    /// End offset in `bytes` of every field of every record.
    ends: Vec<usize>,
    /// Per record: index of its first field in `ends`, offset of its first byte, its line.
    records: Vec<(usize, usize, u64)>,
    /// For plain lines: the physical line of the first.
    plain_from_line: Option<u64>,
}

impl Block {
    fn clear(&mut self) {
        self.bytes.clear();
        self.ends.clear();
        self.records.clear();
        self.plain_from_line = None;
    }

    fn is_empty(&self) -> bool {
        self.records.is_empty() && self.plain_from_line.is_none()
    }

    /// The records of a block of split records, in file order.
    fn records(&self) -> impl Iterator<Item = RecordRef<'_>> {
        self.records.iter().map(move |&(first, start, line)| RecordRef {
            bytes: &self.bytes,
            ends: &self.ends[first..],
            start,
            line,
        })
    }

    /// Call `each` with every record, in file order; plain lines are split here, each record
    /// checked to have `width` fields (the error names its line, `path` the file).
    pub fn for_each_record(
        &self,
        delimiter: u8,
        width: usize,
        path: &str,
        mut each: impl FnMut(&RecordRef<'_>) -> Result<(), String>,
    ) -> Result<(), String> {
        let Some(mut line) = self.plain_from_line else {
            return self.records().try_for_each(|record| each(&record));
        };
        let bytes = &self.bytes;
        let mut ends: Vec<usize> = Vec::with_capacity(width + 1);
        walk_plain_lines(bytes, delimiter, &mut line, &mut ends, |ends, start, line| {
            if ends.len() != width {
                return Err(width_error(path, line, width, ends.len(), &bytes[start..ends[ends.len() - 1]]));
            }
            each(&RecordRef { bytes, ends, start, line })?;
            Ok(true)
        })
        .1
        .map_or(Ok(()), Err)
    }

    /// Bytes of the fields, a guide to the size of what they become.
    pub fn byte_len(&self) -> usize {
        self.bytes.len()
    }
}

/// One record: its fields (`ends` from its first field on) and the physical line it starts on.
pub struct RecordRef<'a> {
    bytes: &'a [u8],
    ends: &'a [usize],
    start: usize,
    pub line: u64,
}

impl<'a> RecordRef<'a> {
    pub fn field(&self, index: usize) -> &'a [u8] {
        let end = self.ends[index];
        let start = if index == 0 { self.start } else { self.ends[index - 1] + 1 };
        &self.bytes[start..end]
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
    /// Where in `buffer` the next quote or carriage return is (`filled` if none), when known:
    /// the lines before it are split in one pass.
    special: Option<usize>,
}

impl Splitter {
    /// Read more of the file, keeping the unsplit bytes; false at the end of the file.
    fn refill(&mut self) -> Result<bool, String> {
        if self.eof {
            return Ok(false);
        }
        self.special = None;
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

    /// Hand over the plain lines ahead, whole, up to `max_lines` of them (blank lines count), as
    /// a block its taker splits; false when the next line is not plain (or the file ended).
    fn take_plain(&mut self, block: &mut Block, max_lines: usize) -> Result<bool, String> {
        if !self.eof && self.filled - self.at < READ_BYTES / 2 {
            self.refill()?;
        }
        let end = self.special_position();
        let region = &self.buffer[self.at..end];
        let Some(last) = memchr::memrchr(b'\n', region) else {
            return Ok(false);
        };
        let (mut lines, mut cut) = (0u64, last);
        for newline in memchr::memchr_iter(b'\n', &region[..=last]) {
            lines += 1;
            if lines as usize == max_lines {
                cut = newline;
                break;
            }
        }
        block.bytes.extend_from_slice(&region[..=cut]);
        block.plain_from_line = Some(self.line);
        self.line += lines;
        self.at += cut + 1;
        Ok(true)
    }

    /// Split up to `max` records into `block`; how many (0 at the end of the file).
    fn split_into(&mut self, block: &mut Block, max: usize) -> Result<usize, String> {
        let plain = self.split_plain(block, max)?;
        if plain > 0 {
            return Ok(plain);
        }
        Ok(usize::from(self.next_into(block)?))
    }

    /// Where the next quote or carriage return is in the buffer, or `filled`.
    fn special_position(&mut self) -> usize {
        if let Some(position) = self.special.filter(|&p| p >= self.at) {
            return position;
        }
        let rest = &self.buffer[self.at..self.filled];
        let found = match self.quote {
            Some(quote) => memchr::memchr2(quote, b'\r', rest),
            None => memchr::memchr(b'\r', rest),
        };
        let position = found.map_or(self.filled, |i| self.at + i);
        self.special = Some(position);
        position
    }

    /// Split the complete lines before the next quote or carriage return (lines that need no
    /// parser: fields end at delimiters, records at newlines), up to `max` records, in one
    /// pass over their bytes, copied whole into `block`; how many records.
    fn split_plain(&mut self, block: &mut Block, max: usize) -> Result<usize, String> {
        let end = self.special_position();
        let Some(last_newline) = memchr::memrchr(b'\n', &self.buffer[self.at..end]) else {
            return Ok(0);
        };
        let region = &self.buffer[self.at..self.at + last_newline + 1];
        let base = block.bytes.len();
        let mut count = 0;
        let mut ends = Vec::new();
        let (path, width) = (&self.path, &mut self.width);
        let (walked, failure) = walk_plain_lines(region, self.delimiter, &mut self.line, &mut ends, |ends, start, line| {
            match *width {
                None => *width = Some(ends.len()),
                Some(expected) if expected != ends.len() => {
                    return Err(width_error(path, line, expected, ends.len(), &region[start..ends[ends.len() - 1]]));
                }
                Some(_) => {}
            }
            block.records.push((block.ends.len(), base + start, line));
            block.ends.extend(ends.iter().map(|end| base + end));
            count += 1;
            Ok(count < max)
        });
        block.bytes.extend_from_slice(&region[..walked]);
        self.at += walked;
        failure.map_or(Ok(count), Err)
    }

    /// Split the next record into `block`; false at the end of the file.
    fn next_into(&mut self, block: &mut Block) -> Result<bool, String> {
        loop {
            let Some(newline) = memchr::memchr(b'\n', &self.buffer[self.at..self.filled]) else {
                if self.refill()? {
                    continue;
                }
                if self.buffer[self.at..self.filled].iter().all(|&b| b == b'\r') {
                    // Nothing left but carriage returns ending the line before: blank.
                    self.at = self.filled;
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
        check_width(&mut self.width, &self.path, block.ends.len() - first, line, || text.to_vec())?;
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
        // Whether the record has begun: blank lines before it are skipped, not part of it.
        let mut begun = false;
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
            begun = begun || input[..read].iter().any(|&b| b != b'\n' && b != b'\r');
            self.at += read;
            // csv_core's ends count from the start of the record's output, across calls.
            written += wrote;
            ended += ends;
            match result {
                ReadRecordResult::InputEmpty => {
                    if !self.refill()? && self.at == self.filled {
                        if !begun {
                            return Ok(false);
                        }
                        // The file ends inside the record. A line end finishes it, unless
                        // csv_core is inside a quoted field, which would take the line end as
                        // its own and wait for more: then the rest of the file went into one
                        // field, rows and all.
                        let (result, _, _, ends) = self.core.read_record(
                            b"\n",
                            &mut self.core_fields[written..],
                            &mut self.core_ends[ended..],
                        );
                        if !matches!(result, ReadRecordResult::Record) {
                            return Err(unclosed_quote_error(&self.path, line));
                        }
                        ended += ends;
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
        let delimiter = self.delimiter;
        check_width(&mut self.width, &self.path, ended, line, || {
            // The fields as parsed (quotes undone), each followed by a 0 byte: joined by the delimiter.
            let fields = &block.bytes[start..block.bytes.len().saturating_sub(1)];
            fields.iter().map(|&b| if b == 0 { delimiter } else { b }).collect()
        })?;
        block.records.push((first, start, line));
        Ok(true)
    }
}

/// A block of records, the end of the records (`None`), or the error that stopped splitting.
type Sent = Result<Option<Block>, String>;

/// Split blocks of `block_records` records and send them to `consumers` in turn (block `k` to
/// consumer `k % n`), then the end or the error to the next one in turn, so that a consumer
/// taking from each in the same turn gets everything in file order.
///
/// Without a record limit, plain lines go whole, for the taker to split.
fn split_blocks(
    mut splitter: Splitter,
    max_records: u64,
    block_records: usize,
    consumers: Vec<SyncSender<Sent>>,
    spare: Receiver<Block>,
) {
    let plain_blocks = max_records == u64::MAX;
    let mut left = max_records;
    for turn in 0.. {
        let consumer = &consumers[turn % consumers.len()];
        let mut block = spare.try_recv().unwrap_or_default();
        block.clear();
        let mut failure = None;
        if plain_blocks {
            match splitter.take_plain(&mut block, block_records) {
                Ok(true) => {
                    if consumer.send(Ok(Some(block))).is_err() {
                        return;
                    }
                    continue;
                }
                Ok(false) => {}
                Err(message) => failure = Some(message),
            }
        }
        while failure.is_none() && block.records.len() < block_records && left > 0 {
            let max = (block_records - block.records.len()).min(usize::try_from(left).unwrap_or(usize::MAX));
            match splitter.split_into(&mut block, max) {
                Ok(0) => left = 0,
                Ok(split) => left -= split as u64,
                Err(message) => {
                    failure = Some(message);
                    break;
                }
            }
        }
        let last = if let Some(message) = failure {
            Err(message)
        } else if left == 0 {
            Ok(None)
        } else {
            // A failed send means the reader is gone: stop splitting.
            if consumer.send(Ok(Some(block))).is_err() {
                return;
            }
            continue;
        };
        if !block.is_empty() {
            if consumer.send(Ok(Some(block))).is_err() {
                return;
            }
            let _ = consumers[(turn + 1) % consumers.len()].send(last);
        } else {
            let _ = consumer.send(last);
        }
        return;
    }
}

/// A splitter positioned at byte `offset` of the file (the start of a record, on physical
/// line `line`). `width` is the first row's field count when that row was read already.
fn open_splitter(options: &CsvOptions, offset: u64, line: u64, width: Option<usize>) -> Result<Splitter, String> {
    let path = options.path.clone();
    let mut file = File::open(&path).map_err(|e| format!("file '{path}': cannot open the CSV file: {e}"))?;
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
    Ok(Splitter {
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
        special: None,
    })
}

fn spawn_splitter(
    splitter: Splitter,
    max_records: Option<u64>,
    block_records: usize,
    consumers: Vec<SyncSender<Sent>>,
    spare: Receiver<Block>,
) -> Result<JoinHandle<()>, String> {
    let max_records = max_records.unwrap_or(u64::MAX);
    std::thread::Builder::new()
        .name("dativo-csv-parse".into())
        .spawn(move || split_blocks(splitter, max_records, block_records, consumers, spare))
        .map_err(|e| format!("cannot start the CSV parsing thread: {e}"))
}

/// What a worker sends back for one block: its result, the end of the records, or an error.
type Done<T> = Result<Option<T>, String>;

/// The records of a file split into blocks by one thread and turned into results by
/// `workers` threads at once, each with a state of its own; the results come back in file
/// order, and a parse error (or a worker's error) after the results of the blocks before it,
/// never as an early end.
pub struct ParallelBlocks<S, T> {
    results: Vec<Receiver<Done<T>>>,
    turn: usize,
    splitter: Option<JoinHandle<()>>,
    workers: Vec<JoinHandle<S>>,
    finished: bool,
    failure: Option<String>,
}

/// How many threads a pass over the file gives work to: every core, up to 4.
pub fn worker_count() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 4)
}

fn work_on_blocks<S, T>(
    mut state: S,
    blocks: Receiver<Sent>,
    results: SyncSender<Done<T>>,
    spare: Sender<Block>,
    work: &(dyn Fn(&mut S, &Block) -> Result<T, String> + Sync),
) -> S {
    while let Ok(sent) = blocks.recv() {
        let done = match sent {
            Ok(Some(block)) => {
                let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(&mut state, &block)))
                    .unwrap_or_else(|payload| Err(dativo_reader::panic_message(payload)));
                let _ = spare.send(block);
                result.map(Some)
            }
            Ok(None) => Ok(None),
            Err(message) => Err(message),
        };
        let more = matches!(done, Ok(Some(_)));
        // A failed send means the consumer is gone: stop.
        if results.send(done).is_err() || !more {
            break;
        }
    }
    state
}

impl<S: Send + 'static, T: Send + 'static> ParallelBlocks<S, T> {
    /// Split the records from byte `offset` (on physical line `line`, each of `width` fields),
    /// at most `max_records`, in blocks of `block_records`, and have `work` turn each block
    /// into a `T` (going through it with `Block::for_each_record`), one thread per state in
    /// `states`.
    #[allow(clippy::too_many_arguments)]
    pub fn start<F>(
        options: &CsvOptions,
        offset: u64,
        line: u64,
        width: usize,
        max_records: Option<u64>,
        block_records: usize,
        states: Vec<S>,
        work: F,
    ) -> Result<Self, String>
    where
        F: Fn(&mut S, &Block) -> Result<T, String> + Send + Sync + 'static,
    {
        let splitter = open_splitter(options, offset, line, Some(width))?;
        let work = std::sync::Arc::new(work);
        let (spare, spare_receiver) = channel();
        let mut consumers = Vec::new();
        let mut results = Vec::new();
        let mut workers = Vec::new();
        for state in states {
            let (block_sender, blocks) = sync_channel(1);
            let (result_sender, result_receiver) = sync_channel(1);
            let (spare, work) = (spare.clone(), work.clone());
            let worker = std::thread::Builder::new()
                .name("dativo-csv-work".into())
                .spawn(move || work_on_blocks(state, blocks, result_sender, spare, &*work))
                .map_err(|e| format!("cannot start a CSV worker thread: {e}"))?;
            consumers.push(block_sender);
            results.push(result_receiver);
            workers.push(worker);
        }
        // Without a record limit, plain lines are split by the workers, as they go through them.
        let splitter = spawn_splitter(splitter, max_records, block_records, consumers, spare_receiver)?;
        Ok(ParallelBlocks { results, turn: 0, splitter: Some(splitter), workers, finished: false, failure: None })
    }

    /// The next block's result, `None` after the last one.
    pub fn next(&mut self) -> Result<Option<T>, String> {
        if let Some(message) = &self.failure {
            return Err(message.clone());
        }
        if self.finished {
            return Ok(None);
        }
        let turn = self.turn % self.results.len();
        self.turn += 1;
        match self.results[turn].recv() {
            Ok(Ok(Some(result))) => Ok(Some(result)),
            Ok(Ok(None)) => {
                self.finished = true;
                Ok(None)
            }
            Ok(Err(message)) => {
                self.failure = Some(message.clone());
                Err(message)
            }
            Err(_) => {
                self.failure = Some(STOPPED.to_string());
                Err(STOPPED.to_string())
            }
        }
    }

    /// The workers' states, once `next` returned `None`.
    pub fn finish(mut self) -> Result<Vec<S>, String> {
        self.results.clear();
        let workers = std::mem::take(&mut self.workers);
        workers
            .into_iter()
            .map(|worker| worker.join().map_err(|_| STOPPED.to_string()))
            .collect()
    }
}

impl<S, T> Drop for ParallelBlocks<S, T> {
    fn drop(&mut self) {
        // Dropping the result channels lets workers blocked on `send` return, which lets the
        // splitter's sends fail; then wait for all of them.
        self.results.clear();
        for worker in self.workers.drain(..) {
            let _ = worker.join();
        }
        if let Some(splitter) = self.splitter.take() {
            let _ = splitter.join();
        }
    }
}
