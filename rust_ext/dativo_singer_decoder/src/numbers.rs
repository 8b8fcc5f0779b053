//! Number columns as strict as JSON Schema: arrow-json would truncate 1.5 to 1 in an integer
//! column and parse the string "1.5" into a number column, while a Singer record holding either
//! is bad input the user must hear about. An integral float such as 1.0 is a valid integer.

use std::marker::PhantomData;
use std::sync::Arc;

use arrow_array::builder::PrimitiveBuilder;
use arrow_array::types::{Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type};
use arrow_array::{ArrayRef, ArrowPrimitiveType};
use arrow_json::reader::{ArrayDecoder, DecoderContext, DecoderFactory, Tape, TapeElement};
use arrow_schema::{ArrowError, DataType, FieldRef};

/// Makes a strict decoder for every signed integer and float field, the reader's own for the rest.
#[derive(Debug)]
pub struct StrictNumbers;

impl DecoderFactory for StrictNumbers {
    fn make_default_decoder(
        &self,
        _ctx: &DecoderContext,
        field: &FieldRef,
        _is_nullable: bool,
    ) -> Result<Option<Box<dyn ArrayDecoder>>, ArrowError> {
        Ok(match field.data_type() {
            DataType::Int64 => Some(Box::new(IntegerDecoder::<Int64Type>(PhantomData))),
            DataType::Int32 => Some(Box::new(IntegerDecoder::<Int32Type>(PhantomData))),
            DataType::Int16 => Some(Box::new(IntegerDecoder::<Int16Type>(PhantomData))),
            DataType::Int8 => Some(Box::new(IntegerDecoder::<Int8Type>(PhantomData))),
            DataType::Float64 => Some(Box::new(FloatDecoder::<Float64Type>(PhantomData))),
            DataType::Float32 => Some(Box::new(FloatDecoder::<Float32Type>(PhantomData))),
            _ => None,
        })
    }
}

struct IntegerDecoder<T>(PhantomData<fn() -> T>);

/// A JSON number's text as an i64 when it is a whole number in range.
pub(crate) fn whole_number(text: &str) -> Option<i64> {
    if let Ok(value) = text.parse::<i64>() {
        return Some(value);
    }
    let value = text.parse::<f64>().ok()?;
    // i64::MAX is not exactly representable; 2^63 itself is out of range.
    let in_range = (-9.223_372_036_854_775_808e18..9.223_372_036_854_775_808e18).contains(&value);
    (value.fract() == 0.0 && in_range).then_some(value as i64)
}

impl<T> ArrayDecoder for IntegerDecoder<T>
where
    T: ArrowPrimitiveType,
    T::Native: TryFrom<i64>,
{
    fn decode(&mut self, tape: &Tape<'_>, pos: &[u32]) -> Result<ArrayRef, ArrowError> {
        let mut builder = PrimitiveBuilder::<T>::with_capacity(pos.len());
        for &p in pos {
            let whole = match tape.get(p) {
                TapeElement::Null => {
                    builder.append_null();
                    continue;
                }
                TapeElement::Number(idx) => {
                    let text = tape.get_string(idx);
                    whole_number(text).ok_or_else(|| format!("{text} is not a whole number"))
                }
                TapeElement::I32(value) => Ok(i64::from(value)),
                _ => return Err(tape.error(p, "an integer")),
            };
            let native = whole
                .and_then(|value| T::Native::try_from(value).map_err(|_| format!("{value} is out of range")))
                .map_err(|why| ArrowError::JsonError(format!("failed to parse as {}: {why}", T::DATA_TYPE)))?;
            builder.append_value(native);
        }
        Ok(Arc::new(builder.finish()))
    }
}

struct FloatDecoder<T>(PhantomData<fn() -> T>);

impl<T> ArrayDecoder for FloatDecoder<T>
where
    T: ArrowPrimitiveType,
    T::Native: std::str::FromStr,
{
    fn decode(&mut self, tape: &Tape<'_>, pos: &[u32]) -> Result<ArrayRef, ArrowError> {
        let mut builder = PrimitiveBuilder::<T>::with_capacity(pos.len());
        for &p in pos {
            match tape.get(p) {
                TapeElement::Null => builder.append_null(),
                TapeElement::Number(idx) => {
                    let text = tape.get_string(idx);
                    let value = text.parse::<T::Native>().map_err(|_| {
                        ArrowError::JsonError(format!("failed to parse {text} as {}", T::DATA_TYPE))
                    })?;
                    builder.append_value(value);
                }
                _ => return Err(tape.error(p, "a number")),
            }
        }
        Ok(Arc::new(builder.finish()))
    }
}
