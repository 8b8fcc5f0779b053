//! Reading the next batch on a second thread while the caller consumes the current one.
//!
//! `export_reader!(ReadAhead<MyReader>)` overlaps the source's parsing with the consumer's work
//! (Arrow import, RECORD encoding, writing to stdout). At most three batches exist at once:
//! one being read, one waiting, one with the caller.

use std::sync::mpsc::{sync_channel, Receiver};
use std::thread::JoinHandle;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;

use crate::BatchReader;

type Item = Result<Option<RecordBatch>, String>;

pub struct ReadAhead<R> {
    schema: SchemaRef,
    batches: Option<Receiver<Item>>,
    worker: Option<JoinHandle<()>>,
    finished: bool,
    _reader: std::marker::PhantomData<R>,
}

impl<R: BatchReader + Send + 'static> BatchReader for ReadAhead<R> {
    fn create(config: &serde_json::Value) -> Result<Self, String> {
        let mut reader = R::create(config)?;
        let schema = reader.schema();
        let (sender, batches) = sync_channel::<Item>(1);
        let worker = std::thread::Builder::new()
            .name("dativo-read-ahead".into())
            .spawn(move || loop {
                let item = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| reader.next_batch()))
                    .unwrap_or_else(|payload| Err(crate::panic_message(payload)));
                let more = matches!(item, Ok(Some(_)));
                // A failed send means the consumer is gone: stop reading.
                if sender.send(item).is_err() || !more {
                    break;
                }
            })
            .map_err(|e| format!("cannot start the read-ahead thread: {e}"))?;
        Ok(ReadAhead {
            schema,
            batches: Some(batches),
            worker: Some(worker),
            finished: false,
            _reader: std::marker::PhantomData,
        })
    }

    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn next_batch(&mut self) -> Result<Option<RecordBatch>, String> {
        if self.finished {
            return Ok(None);
        }
        let received = self.batches.as_ref().map(Receiver::recv);
        match received {
            Some(Ok(Ok(Some(batch)))) => Ok(Some(batch)),
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

impl<R> Drop for ReadAhead<R> {
    fn drop(&mut self) {
        // Closing the channel first lets a worker blocked on `send` return, then wait for it.
        self.batches.take();
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}
