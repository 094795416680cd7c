//! The canonical JSON form of each type, the same on both engines:
//!
//! | type | JSON |
//! |---|---|
//! | integers | numbers |
//! | `float` | numbers (integral values without a fraction: `10`, `0.5`) |
//! | `decimal` | numbers with every digit, at the field's scale (`1.50`; see [`crate::decimal`]) |
//! | `bool` | `true` / `false` |
//! | `uuid` | lowercase string |
//! | `timestamptz` | `"2024-05-01T12:30:00.000Z"` (UTC, milliseconds) |
//! | `timestamp` | `"2024-05-01T12:30:00.000"` |
//! | `date`, `time` | `"2024-05-01"`, `"12:30:00.000"` |
//! | `json`, `jsonb` | the document |
//! | arrays | arrays |
//! | `bytes` | `"\\x0a1b"` (hex, as PostgreSQL prints it) |
//!
//! Time values are kept to millisecond precision on both engines (JavaScript's precision).
//! Each dialect binds these values (`Dialect::bind`) and the database layer decodes what
//! it reads back into them.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, SecondsFormat, Utc};
use serde_json::{Number, Value as Json};

/// A number as JSON: integral values as integers.
pub fn number(f: f64) -> Json {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 9.0e15 {
        Json::Number(Number::from(f as i64))
    } else {
        Number::from_f64(f).map(Json::Number).unwrap_or(Json::Null)
    }
}

pub fn format_timestamptz(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub fn format_timestamp(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3f").to_string()
}

pub fn format_time(t: NaiveTime) -> String {
    t.format("%H:%M:%S%.3f").to_string()
}

pub fn format_date(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// The current instant, truncated to milliseconds.
pub fn now() -> DateTime<Utc> {
    let now = Utc::now();
    DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now)
}

pub fn truncate_ms(t: NaiveDateTime) -> NaiveDateTime {
    let ms = t.and_utc().timestamp_millis();
    DateTime::from_timestamp_millis(ms)
        .map(|d| d.naive_utc())
        .unwrap_or(t)
}

pub fn parse_timestamptz(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(truncate_ms(t.with_timezone(&Utc).naive_utc()).and_utc());
    }
    for fmt in ["%Y-%m-%d %H:%M:%S%.f%#z", "%Y-%m-%dT%H:%M:%S%.f%#z"] {
        if let Ok(t) = DateTime::parse_from_str(s, fmt) {
            return Some(truncate_ms(t.with_timezone(&Utc).naive_utc()).and_utc());
        }
    }
    parse_timestamp(s.trim_end_matches('Z')).map(|t| t.and_utc())
}

pub fn parse_timestamp(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim();
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(truncate_ms(t));
        }
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(truncate_ms(t.with_timezone(&Utc).naive_utc()));
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
}

pub fn parse_time(s: &str) -> Option<NaiveTime> {
    for fmt in ["%H:%M:%S%.f", "%H:%M"] {
        if let Ok(t) = NaiveTime::parse_from_str(s.trim(), fmt) {
            return Some(t);
        }
    }
    None
}

pub fn parse_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .ok()
        .or_else(|| parse_timestamp(s).map(|t| t.date()))
}

/// The bytes of `\x0a1b`.
pub fn decode_hex(s: &str) -> Option<Vec<u8>> {
    let hex = s.strip_prefix("\\x")?;
    if hex.len() % 2 != 0 {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| {
            hex.get(i..i + 2)
                .and_then(|b| u8::from_str_radix(b, 16).ok())
        })
        .collect()
}

/// `\x0a1b` for the bytes.
pub fn encode_hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(2 + bytes.len() * 2);
    s.push_str("\\x");
    s.push_str(&hex::encode(bytes));
    s
}

/// A canonical value as the text SQL compares it by (ids, enum values).
pub fn text_of(value: &Json) -> String {
    match value {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integral_numbers_have_no_fraction() {
        assert_eq!(number(10.0), serde_json::json!(10));
        assert_eq!(number(0.5), serde_json::json!(0.5));
        assert_eq!(number(f64::NAN), Json::Null);
    }

    #[test]
    fn timestamps_keep_milliseconds_in_utc() {
        let t = parse_timestamptz("2024-05-01T14:30:00.123456+02:00").expect("parses");
        assert_eq!(format_timestamptz(t), "2024-05-01T12:30:00.123Z");
    }

    #[test]
    fn hex_round_trips() {
        assert_eq!(decode_hex("\\x0a1b"), Some(vec![10, 27]));
        assert_eq!(encode_hex(&[10, 27]), "\\x0a1b");
        assert_eq!(decode_hex("0a1b"), None);
        assert_eq!(decode_hex("\\x0a1"), None);
    }
}
