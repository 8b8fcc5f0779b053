//! Reading the next batch on a second thread while the caller consumes the current one.
//!
//! `export_reader!(ReadAhead<MyReader>)` overlaps the source's reading (and, for RECORD lines,
//! their encoding) with the consumer's work (Arrow import, writing to stdout). At most three
//! batches exist at once: one being read, one waiting, one with the caller.
//!
//! The thread starts at the first `next_batch` or `next_records` call and keeps reading that
//! way, so a handle is read with one of the two throughout; the other one is then an error.

use std::sync::mpsc::{sync_channel, Receiver};
use std::thread::JoinHandle;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;

use crate::BatchReader;

#[derive(Clone, PartialEq, Eq)]
enum Mode {
    Batches,
    Records(String),
}

impl Mode {
    fn describe(&self) -> String {
        match self {
            Mode::Batches => "as Arrow batches (dativo_next_batch)".into(),
            Mode::Records(stream) => format!("as RECORD lines of stream '{stream}' (dativo_next_records)"),
        }
    }
}

enum Ahead {
    Batch(RecordBatch),
    Records(Vec<u8>, usize),
}

type Item = Result<Option<Ahead>, String>;

fn read_one<R: BatchReader>(reader: &mut R, mode: &Mode, capacity: usize) -> Item {
    match mode {
        Mode::Batches => Ok(reader.next_batch()?.map(Ahead::Batch)),
        Mode::Records(stream) => {
            let mut lines = Vec::with_capacity(capacity);
            Ok(reader.next_records(stream, &mut lines)?.map(|rows| Ahead::Records(lines, rows)))
        }
    }
}

pub struct ReadAhead<R> {
    schema: SchemaRef,
    /// The reader until the first call hands it to the thread.
    reader: Option<R>,
    mode: Option<Mode>,
    batches: Option<Receiver<Item>>,
    worker: Option<JoinHandle<()>>,
    finished: bool,
}

impl<R: BatchReader + Send + 'static> ReadAhead<R> {
    fn start(&mut self, mode: Mode) -> Result<(), String> {
        let mut reader = self.reader.take().ok_or("the read-ahead thread is already running")?;
        let (sender, batches) = sync_channel::<Item>(1);
        let thread_mode = mode.clone();
        let worker = std::thread::Builder::new()
            .name("dativo-read-ahead".into())
            .spawn(move || {
                let mut capacity = 0;
                loop {
                    let item = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        read_one(&mut reader, &thread_mode, capacity)
                    }))
                    .unwrap_or_else(|payload| Err(crate::panic_message(payload)));
                    if let Ok(Some(Ahead::Records(lines, _))) = &item {
                        capacity = lines.len() + lines.len() / 8;
                    }
                    let more = matches!(item, Ok(Some(_)));
                    // A failed send means the consumer is gone: stop reading.
                    if sender.send(item).is_err() || !more {
                        break;
                    }
                }
            })
            .map_err(|e| format!("cannot start the read-ahead thread: {e}"))?;
        self.mode = Some(mode);
        self.batches = Some(batches);
        self.worker = Some(worker);
        Ok(())
    }

    fn next(&mut self, mode: Mode) -> Result<Option<Ahead>, String> {
        if self.finished {
            return Ok(None);
        }
        match &self.mode {
            None => self.start(mode)?,
            Some(current) if *current != mode => {
                return Err(format!(
                    "this reader reads ahead {} and cannot also be read {}; read a handle one way throughout",
                    current.describe(),
                    mode.describe()
                ))
            }
            Some(_) => {}
        }
        let received = self.batches.as_ref().map(Receiver::recv);
        match received {
            Some(Ok(Ok(Some(ahead)))) => Ok(Some(ahead)),
            Some(Ok(other)) => {
                self.finished = true;
                other
            }
            Some(Err(_)) | None => {
                self.finished = true;
                Err("the read-ahead thread stopped before the end of data".into())
            }
        }
    }
}

impl<R: BatchReader + Send + 'static> BatchReader for ReadAhead<R> {
    fn create(config: &serde_json::Value) -> Result<Self, String> {
        let reader = R::create(config)?;
        Ok(ReadAhead {
            schema: reader.schema(),
            reader: Some(reader),
            mode: None,
            batches: None,
            worker: None,
            finished: false,
        })
    }

    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn next_batch(&mut self) -> Result<Option<RecordBatch>, String> {
        match self.next(Mode::Batches)? {
            Some(Ahead::Batch(batch)) => Ok(Some(batch)),
            Some(Ahead::Records(..)) => unreachable!("a batch-mode thread sends batches"),
            None => Ok(None),
        }
    }

    fn next_records(&mut self, stream: &str, out: &mut Vec<u8>) -> Result<Option<usize>, String> {
        match self.next(Mode::Records(stream.to_string()))? {
            Some(Ahead::Records(lines, rows)) => {
                if out.is_empty() {
                    *out = lines;
                } else {
                    out.extend_from_slice(&lines);
                }
                Ok(Some(rows))
            }
            Some(Ahead::Batch(_)) => unreachable!("a records-mode thread sends RECORD lines"),
            None => Ok(None),
        }
    }
}

impl<R> Drop for ReadAhead<R> {
    fn drop(&mut self) {
        // Closing the channel first lets a worker blocked on `send` return, then wait for it.
        self.batches.take();
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}
