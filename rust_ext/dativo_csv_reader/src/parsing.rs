//! CSV records parsed on a thread of their own and handed over in blocks, so that splitting the
//! file into fields overlaps with what the caller does with them (inference, Arrow columns or
//! JSON): on two cores a pass over the file takes the longer of the two, not their sum.

use std::fs::File;
use std::io::BufReader;
use std::sync::mpsc::{channel, sync_channel, Receiver, Sender};
use std::thread::JoinHandle;

use csv::{ByteRecord, ErrorKind};

pub type Records = csv::Reader<BufReader<File>>;

/// Records per block: small enough that the first block comes soon, large enough that the
/// hand-over costs nothing per record.
const BLOCK_RECORDS: usize = 2048;

/// Read one record into `record`; false at the end of the file.
pub fn read_record(records: &mut Records, record: &mut ByteRecord, path: &str) -> Result<bool, String> {
    records.read_byte_record(record).map_err(|error| match error.kind() {
        ErrorKind::UnequalLengths { pos, expected_len, len } => format!(
            "file '{path}', line {}: expected {expected_len} fields as in the first row, got {len}",
            pos.as_ref().map_or(0, |p| p.line())
        ),
        _ => format!("file '{path}': cannot read the CSV file: {error}"),
    })
}

type Block = Result<Vec<ByteRecord>, String>;

/// The records of a file, parsed ahead by a thread; a parse error comes after the records
/// before it, never as an early end.
pub struct ParsedRecords {
    blocks: Option<Receiver<Block>>,
    /// Blocks sent back for the thread to reuse, so their records keep their allocations.
    spare: Sender<Vec<ByteRecord>>,
    worker: Option<JoinHandle<()>>,
    current: Vec<ByteRecord>,
    next: usize,
    /// The parse error, once met: every later call fails with it too.
    failure: Option<String>,
}

fn parse_blocks(
    mut records: Records,
    path: String,
    max_records: u64,
    blocks: std::sync::mpsc::SyncSender<Block>,
    spare: Receiver<Vec<ByteRecord>>,
) {
    let mut left = max_records;
    loop {
        let mut block = spare.try_recv().unwrap_or_default();
        let mut filled = 0;
        let mut failure = None;
        while filled < BLOCK_RECORDS && left > 0 {
            if filled == block.len() {
                block.push(ByteRecord::new());
            }
            match read_record(&mut records, &mut block[filled], &path) {
                Ok(true) => {
                    filled += 1;
                    left -= 1;
                }
                Ok(false) => {
                    left = 0;
                }
                Err(message) => {
                    failure = Some(message);
                    break;
                }
            }
        }
        block.truncate(filled);
        let more = failure.is_none() && left > 0;
        // A failed send means the reader is gone: stop parsing.
        if filled > 0 && blocks.send(Ok(block)).is_err() {
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

impl ParsedRecords {
    /// Parse at most `max_records` more records of `records` (whose header, if any, is read).
    pub fn start(records: Records, path: &str, max_records: Option<u64>) -> Result<Self, String> {
        let (block_sender, blocks) = sync_channel(2);
        let (spare, spare_receiver) = channel();
        let path = path.to_string();
        let max_records = max_records.unwrap_or(u64::MAX);
        let worker = std::thread::Builder::new()
            .name("dativo-csv-parse".into())
            .spawn(move || parse_blocks(records, path, max_records, block_sender, spare_receiver))
            .map_err(|e| format!("cannot start the CSV parsing thread: {e}"))?;
        Ok(ParsedRecords {
            blocks: Some(blocks),
            spare,
            worker: Some(worker),
            current: Vec::new(),
            next: 0,
            failure: None,
        })
    }

    /// The next record, `None` at the end of the file (or of `max_records`).
    pub fn next_record(&mut self) -> Result<Option<&ByteRecord>, String> {
        if let Some(message) = &self.failure {
            return Err(message.clone());
        }
        if self.next == self.current.len() {
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
        self.next += 1;
        Ok(Some(&self.current[self.next - 1]))
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
