//! Example third-party reader: an integer sequence and its squares.
//!
//! It shows everything a reader crate needs: implement `dativo_reader::BatchReader`, call
//! `export_reader!` once, build as a `cdylib`. Config: `{"start": 0, "stop": 10, "step": 1,
//! "batch_size": 4}` yields rows `n` for `start <= n < stop` (or `> stop` for a negative step).
//! A square that overflows a 64-bit integer is an error naming the row, not a short read.

use std::sync::Arc;

use arrow_array::{Int64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use dativo_reader::{export_reader, serde_json::Value, BatchReader};

pub struct SequenceReader {
    schema: SchemaRef,
    next: i64,
    stop: i64,
    step: i64,
    batch_size: usize,
    row: u64,
}

fn integer(config: &Value, key: &str, default: Option<i64>) -> Result<i64, String> {
    match config.get(key) {
        None => default.ok_or_else(|| format!("config '{key}' is required")),
        Some(value) => value
            .as_i64()
            .ok_or_else(|| format!("config '{key}' must be an integer, got {value}")),
    }
}

impl SequenceReader {
    fn remaining(&self) -> bool {
        if self.step > 0 {
            self.next < self.stop
        } else {
            self.next > self.stop
        }
    }
}

impl BatchReader for SequenceReader {
    fn create(config: &Value) -> Result<Self, String> {
        let step = integer(config, "step", Some(1))?;
        if step == 0 {
            return Err("config 'step' must not be 0: the sequence would never end".into());
        }
        let batch_size = integer(config, "batch_size", Some(65_536))?;
        if batch_size <= 0 {
            return Err(format!("config 'batch_size' must be positive, got {batch_size}"));
        }
        Ok(SequenceReader {
            schema: Arc::new(Schema::new(vec![
                Field::new("n", DataType::Int64, false),
                Field::new("square", DataType::Int64, false),
            ])),
            next: integer(config, "start", Some(0))?,
            stop: integer(config, "stop", None)?,
            step,
            batch_size: batch_size as usize,
            row: 0,
        })
    }

    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn next_batch(&mut self) -> Result<Option<RecordBatch>, String> {
        let mut numbers = Vec::with_capacity(self.batch_size);
        let mut squares = Vec::with_capacity(self.batch_size);
        while numbers.len() < self.batch_size && self.remaining() {
            let n = self.next;
            self.row += 1;
            let square = n.checked_mul(n).ok_or_else(|| {
                format!("row {}: the square of {n} does not fit in a 64-bit integer", self.row)
            })?;
            numbers.push(n);
            squares.push(square);
            self.next = match n.checked_add(self.step) {
                Some(next) => next,
                None => self.stop,
            };
        }
        if numbers.is_empty() {
            return Ok(None);
        }
        let columns = vec![
            Arc::new(Int64Array::from(numbers)) as _,
            Arc::new(Int64Array::from(squares)) as _,
        ];
        RecordBatch::try_new(self.schema.clone(), columns)
            .map(Some)
            .map_err(|e| e.to_string())
    }
}

export_reader!(SequenceReader);
