//! The reader's configuration, read from the JSON object given to `dativo_create_reader`.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use crate::kinds::Kind;

pub const DEFAULT_BATCH_SIZE: usize = 16_384;

#[derive(Debug)]
pub struct CsvOptions {
    pub path: String,
    pub delimiter: u8,
    /// `None` turns quoting off.
    pub quote: Option<u8>,
    pub escape: Option<u8>,
    pub has_header: bool,
    /// Names for a file without a header row (default `f0`, `f1`, ... as pyarrow does).
    pub column_names: Option<Vec<String>>,
    /// The columns to read, in this order (default: all, in file order); the others are
    /// neither parsed nor inferred.
    pub columns: Option<Vec<String>>,
    /// Column name -> kind, skipping inference for that column.
    pub column_types: HashMap<String, Kind>,
    /// Infer the other columns' types (true) or read them as strings.
    pub infer_types: bool,
    /// Infer from the first this many rows; `None` reads the whole file first.
    pub infer_max_rows: Option<u64>,
    /// Fields read as null (default: the empty field only, as tap-csv does).
    pub null_values: HashSet<Vec<u8>>,
    /// Whether a null value in a string column is null (default) or kept as text.
    pub strings_can_be_null: bool,
    pub batch_size: usize,
}

fn single_byte(config: &Map<String, Value>, key: &str, default: Option<u8>) -> Result<Option<u8>, String> {
    match config.get(key) {
        None => Ok(default),
        Some(Value::Null) | Some(Value::Bool(false)) => Ok(None),
        Some(Value::String(text)) if text.len() == 1 => Ok(Some(text.as_bytes()[0])),
        Some(other) => Err(format!(
            "config '{key}' must be a single ASCII character (or null/false for none), got {other}"
        )),
    }
}

fn boolean(config: &Map<String, Value>, key: &str, default: bool) -> Result<bool, String> {
    match config.get(key) {
        None => Ok(default),
        Some(Value::Bool(value)) => Ok(*value),
        Some(other) => Err(format!("config '{key}' must be true or false, got {other}")),
    }
}

fn string_list(config: &Map<String, Value>, key: &str) -> Result<Option<Vec<String>>, String> {
    match config.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                item.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| format!("config '{key}' must be a list of strings, found {item}"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(other) => Err(format!("config '{key}' must be a list of strings, got {other}")),
    }
}

fn column_types(config: &Map<String, Value>) -> Result<HashMap<String, Kind>, String> {
    let Some(value) = config.get("column_types") else {
        return Ok(HashMap::new());
    };
    let Value::Object(types) = value else {
        return Err(format!("config 'column_types' must map column names to type names, got {value}"));
    };
    types
        .iter()
        .map(|(column, name)| {
            let kind = name.as_str().and_then(Kind::from_name).ok_or_else(|| {
                format!(
                    "config 'column_types' for column '{column}': unknown type {name}; use one of {}",
                    Kind::NAMES.join(", ")
                )
            })?;
            Ok((column.clone(), kind))
        })
        .collect()
}

impl CsvOptions {
    pub fn from_json(config: &Value) -> Result<Self, String> {
        let config = config.as_object().ok_or("config must be a JSON object")?;
        let known = [
            "path", "delimiter", "quote_char", "escape_char", "has_header", "column_names", "columns",
            "column_types", "infer_types", "infer_max_rows", "null_values", "strings_can_be_null", "batch_size",
        ];
        if let Some(unknown) = config.keys().find(|k| !known.contains(&k.as_str())) {
            return Err(format!("unknown config key '{unknown}'; known keys: {}", known.join(", ")));
        }
        let path = config
            .get("path")
            .and_then(Value::as_str)
            .ok_or("config 'path' (the CSV file to read) is required and must be a string")?
            .to_string();
        let delimiter = single_byte(config, "delimiter", Some(b','))?
            .ok_or("config 'delimiter' cannot be empty")?;
        let null_values = match string_list(config, "null_values")? {
            Some(values) => values.into_iter().map(String::into_bytes).collect(),
            None => HashSet::from([Vec::new()]),
        };
        let infer_max_rows = match config.get("infer_max_rows") {
            None | Some(Value::Null) => None,
            Some(value) => Some(value.as_u64().ok_or_else(|| {
                format!("config 'infer_max_rows' must be a non-negative integer or null, got {value}")
            })?),
        };
        let batch_size = match config.get("batch_size") {
            None => DEFAULT_BATCH_SIZE,
            Some(value) => value
                .as_u64()
                .filter(|n| *n > 0)
                .ok_or_else(|| format!("config 'batch_size' must be a positive integer, got {value}"))?
                as usize,
        };
        Ok(CsvOptions {
            path,
            delimiter,
            quote: single_byte(config, "quote_char", Some(b'"'))?,
            escape: single_byte(config, "escape_char", None)?,
            has_header: boolean(config, "has_header", true)?,
            column_names: string_list(config, "column_names")?,
            columns: string_list(config, "columns")?,
            column_types: column_types(config)?,
            infer_types: boolean(config, "infer_types", true)?,
            infer_max_rows,
            null_values,
            strings_can_be_null: boolean(config, "strings_can_be_null", true)?,
            batch_size,
        })
    }
}
