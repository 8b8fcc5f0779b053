//! Parsing one CSV field as each column kind, with the rules of Arrow's string casts that
//! Dativo's tap-csv infers and converts with (`pyarrow.compute.cast`): no whitespace trimming,
//! ISO 8601 dates and timestamps, at most microsecond precision.

fn digits(text: &[u8]) -> Option<u32> {
    if text.is_empty() || text.len() > 9 || !text.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(text.iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0')))
}

pub fn parse_int(field: &[u8]) -> Option<i64> {
    let (negative, body) = match field.first() {
        Some(b'-') => (true, &field[1..]),
        _ => (false, field),
    };
    if body.is_empty() {
        return None;
    }
    if !negative && body.len() > 2 && body[0] == b'0' && (body[1] | 0x20) == b'x' {
        let hex = std::str::from_utf8(&body[2..]).ok()?;
        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        return u64::from_str_radix(hex, 16).ok().and_then(|v| i64::try_from(v).ok());
    }
    if !body.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut value: i64 = 0;
    for digit in body {
        let d = i64::from(digit - b'0');
        value = value.checked_mul(10)?;
        value = if negative { value.checked_sub(d)? } else { value.checked_add(d)? };
    }
    Some(value)
}

pub fn parse_bool(field: &[u8]) -> Option<bool> {
    match field {
        b"True" | b"TRUE" | b"true" => Some(true),
        b"False" | b"FALSE" | b"false" => Some(false),
        _ => None,
    }
}

/// An integer of 16 digits or more (`[+-]?D{16,}`): a float64 may not hold it exactly, so, as
/// in tap-csv, inference does not take it for a number (read as one it would lose digits): a
/// column mixing such integers with decimals is text. A column declared a number reads it.
pub fn is_long_integer(field: &[u8]) -> bool {
    let body = match field.first() {
        Some(b'+' | b'-') => &field[1..],
        _ => field,
    };
    body.len() >= 16 && body.iter().all(u8::is_ascii_digit)
}

pub fn parse_float(field: &[u8]) -> Option<f64> {
    std::str::from_utf8(field).ok()?.parse::<f64>().ok()
}

/// Whether inference takes `field` for a number (a long integer it does not), without parsing
/// most: a plain decimal (`-?D+(.D+)?`) always is one, anything else is left to `parse_float`.
pub fn is_float(field: &[u8]) -> bool {
    let body = field.strip_prefix(b"-").unwrap_or(field);
    let (integer, fraction) = match body.iter().position(|&b| b == b'.') {
        Some(point) => (&body[..point], Some(&body[point + 1..])),
        None => (body, None),
    };
    let digits = |part: &[u8]| !part.is_empty() && part.iter().all(u8::is_ascii_digit);
    !is_long_integer(field) && ((digits(integer) && fraction.is_none_or(digits)) || parse_float(field).is_some())
}

fn days_in_month(year: i64, month: u32) -> u32 {
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's days-from-civil).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let m = i64::from(month);
    let day_of_year = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// Days since 1970-01-01 of a strict, valid `YYYY-MM-DD`.
fn date_days(text: &[u8]) -> Option<i32> {
    if text.len() != 10 || text[4] != b'-' || text[7] != b'-' {
        return None;
    }
    let year = i64::from(digits(&text[0..4])?);
    let month = digits(&text[5..7])?;
    let day = digits(&text[8..10])?;
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    Some(days_from_civil(year, month, day) as i32)
}

pub fn parse_date(field: &[u8]) -> Option<i32> {
    date_days(field)
}

/// Seconds of `HH:MM` or `HH:MM:SS`.
fn clock_seconds(text: &[u8]) -> Option<i64> {
    let (hours, minutes, seconds) = match text.len() {
        5 if text[2] == b':' => (digits(&text[0..2])?, digits(&text[3..5])?, 0),
        8 if text[2] == b':' && text[5] == b':' => (
            digits(&text[0..2])?,
            digits(&text[3..5])?,
            digits(&text[6..8])?,
        ),
        _ => return None,
    };
    if hours > 23 || minutes > 59 || seconds > 59 {
        return None;
    }
    Some(i64::from(hours * 3600 + minutes * 60 + seconds))
}

/// Microseconds since the epoch of an ISO 8601 date or timestamp; one without a zone is UTC.
fn zone_offset_seconds(zone: &[u8]) -> Option<i64> {
    if zone == b"Z" {
        return Some(0);
    }
    let sign = match zone.first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let (hours, minutes) = match &zone[1..] {
        [h1, h2] => (digits(&[*h1, *h2])?, 0),
        [h1, h2, m1, m2] => (digits(&[*h1, *h2])?, digits(&[*m1, *m2])?),
        [h1, h2, b':', m1, m2] => (digits(&[*h1, *h2])?, digits(&[*m1, *m2])?),
        _ => return None,
    };
    if hours > 23 || minutes > 59 {
        return None;
    }
    Some(sign * i64::from(hours * 3600 + minutes * 60))
}

/// `HH`, `HH:MM`, `HH:MM:SS` or `HH:MM:SS.ffffff`: microseconds into the day.
fn time_of_day(text: &[u8]) -> Option<i64> {
    if text.len() == 2 {
        let hours = digits(text)?;
        return (hours <= 23).then_some(i64::from(hours) * 3_600_000_000);
    }
    if text.len() > 8 && text[8] == b'.' {
        let fraction = &text[9..];
        if fraction.is_empty() || fraction.len() > 6 {
            return None;
        }
        let micros = digits(fraction)? * 10u32.pow(6 - fraction.len() as u32);
        return Some(clock_seconds(&text[..8])? * 1_000_000 + i64::from(micros));
    }
    Some(clock_seconds(text)? * 1_000_000)
}

pub fn parse_timestamp(field: &[u8]) -> Option<i64> {
    if field.len() < 10 {
        return None;
    }
    let day_micros = i64::from(date_days(&field[..10])?) * 86_400_000_000;
    let rest = &field[10..];
    if rest.is_empty() {
        return Some(day_micros);
    }
    if rest[0] != b' ' && rest[0] != b'T' {
        return None;
    }
    let rest = &rest[1..];
    let zone_at = rest
        .iter()
        .position(|b| matches!(b, b'Z' | b'+' | b'-'))
        .unwrap_or(rest.len());
    let (clock, zone) = rest.split_at(zone_at);
    let mut micros = day_micros + time_of_day(clock)?;
    if !zone.is_empty() {
        micros -= zone_offset_seconds(zone)? * 1_000_000;
    }
    Some(micros)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_follow_arrow_casts() {
        assert_eq!(parse_int(b"-0"), Some(0));
        assert_eq!(parse_int(b"0x10"), Some(16));
        assert_eq!(parse_int(b" 12"), None);
        assert_eq!(parse_int(b"+1"), None);
        assert_eq!(parse_int(b"99999999999999999999"), None);
        assert_eq!(parse_int(b"-9223372036854775808"), Some(i64::MIN));
    }

    #[test]
    fn floats_are_recognised_as_parsing_does() {
        for field in ["1", "-2.5", "0.000", "1e5", "inf", "+1.5", ".5", "5.", "NaN"] {
            assert_eq!(is_float(field.as_bytes()), parse_float(field.as_bytes()).is_some(), "{field}");
            assert!(is_float(field.as_bytes()), "{field}");
        }
        for field in ["", "-", "1.2.3", "1,5", " 1", "0x10", "e5", "1-"] {
            assert!(!is_float(field.as_bytes()), "{field}");
        }
    }

    #[test]
    fn long_integers_are_not_numbers() {
        for field in ["1234567890123456", "-1234567890123456", "+12345678901234567890"] {
            assert!(is_long_integer(field.as_bytes()), "{field}");
            assert!(!is_float(field.as_bytes()), "{field}");
            assert!(parse_float(field.as_bytes()).is_some(), "a declared number reads it: {field}");
        }
        for field in ["123456789012345", "1234567890123456.5", "1e20"] {
            assert!(!is_long_integer(field.as_bytes()), "{field}");
            assert!(is_float(field.as_bytes()), "{field}");
        }
    }

    #[test]
    fn timestamps_follow_arrow_casts() {
        let day = 1_577_836_800_000_000;
        assert_eq!(parse_timestamp(b"2020-01-01T10:00:00+02:00"), Some(day + 8 * 3_600_000_000));
        assert_eq!(parse_timestamp(b"2020-01-01 10:00:00.5"), Some(day + 36_000_500_000));
        assert_eq!(parse_timestamp(b"2020-01-01"), Some(day));
        assert_eq!(parse_timestamp(b"2020-01-01T10:00:00.1234567"), None);
        assert_eq!(parse_timestamp(b"2020-01-01T10:00:60"), None);
        assert_eq!(parse_timestamp(b"2020-01-01T10:00:00z"), None);
        assert_eq!(parse_date(b"2020-02-30"), None);
        assert_eq!(parse_date(b"1970-01-02"), Some(1));
    }
}
