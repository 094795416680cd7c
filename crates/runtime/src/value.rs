//! Conversions between JSON values and database values, one canonical JSON form per type
//! on both engines:
//!
//! | type | JSON |
//! |---|---|
//! | integers | numbers |
//! | `decimal`, `float` | numbers (integral values without a fraction: `10`, `0.5`) |
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

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, SecondsFormat, Utc};
use sea_query::{Expr, SimpleExpr, Value};
use serde_json::{Number, Value as Json};
use sqlx::{Row, ValueRef};
use tessera_schema::ir::{Field, ScalarType};
use tessera_schema::Schema;

use crate::engine::DialectKind;
use crate::error::RuntimeError;

/// A number as JSON: integral values as integers.
pub(crate) fn number(f: f64) -> Json {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 9.0e15 {
        Json::Number(Number::from(f as i64))
    } else {
        Number::from_f64(f).map(Json::Number).unwrap_or(Json::Null)
    }
}

pub(crate) fn fmt_tstz(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub(crate) fn fmt_ts(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3f").to_string()
}

fn fmt_time(t: NaiveTime) -> String {
    t.format("%H:%M:%S%.3f").to_string()
}

/// The current instant, truncated to milliseconds.
pub(crate) fn now() -> DateTime<Utc> {
    let now = Utc::now();
    DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now)
}

fn truncate_ms(t: NaiveDateTime) -> NaiveDateTime {
    let ms = t.and_utc().timestamp_millis();
    DateTime::from_timestamp_millis(ms)
        .map(|d| d.naive_utc())
        .unwrap_or(t)
}

pub(crate) fn parse_tstz(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(truncate_ms(t.with_timezone(&Utc).naive_utc()).and_utc());
    }
    for fmt in ["%Y-%m-%d %H:%M:%S%.f%#z", "%Y-%m-%dT%H:%M:%S%.f%#z"] {
        if let Ok(t) = DateTime::parse_from_str(s, fmt) {
            return Some(truncate_ms(t.with_timezone(&Utc).naive_utc()).and_utc());
        }
    }
    parse_ts(s.trim_end_matches('Z')).map(|t| t.and_utc())
}

pub(crate) fn parse_ts(s: &str) -> Option<NaiveDateTime> {
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

fn parse_time(s: &str) -> Option<NaiveTime> {
    for fmt in ["%H:%M:%S%.f", "%H:%M"] {
        if let Ok(t) = NaiveTime::parse_from_str(s.trim(), fmt) {
            return Some(t);
        }
    }
    None
}

fn parse_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .ok()
        .or_else(|| parse_ts(s).map(|t| t.date()))
}

fn type_name(json: &Json) -> &'static str {
    match json {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

/// Checks a JSON input value against a field's type and returns its canonical form.
/// Errors are messages for the `type` (or `enum`) rule.
pub(crate) fn coerce(
    schema: &Schema,
    field: &Field,
    json: &Json,
) -> Result<Json, (String, String)> {
    if json.is_null() {
        return Ok(Json::Null);
    }
    if field.ty.array {
        let Json::Array(items) = json else {
            return Err((
                "type".into(),
                format!("expected an array, got {}", type_name(json)),
            ));
        };
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            out.push(coerce_scalar(schema, &field.ty.scalar, item)?);
        }
        return Ok(Json::Array(out));
    }
    coerce_scalar(schema, &field.ty.scalar, json)
}

fn coerce_scalar(
    schema: &Schema,
    scalar: &ScalarType,
    json: &Json,
) -> Result<Json, (String, String)> {
    let type_error = |what: &str| {
        (
            "type".to_owned(),
            format!("expected {what}, got {}", type_name(json)),
        )
    };
    if json.is_null() {
        return Ok(Json::Null);
    }
    match scalar {
        ScalarType::Uuid => {
            let s = json.as_str().ok_or_else(|| type_error("a uuid string"))?;
            uuid::Uuid::parse_str(s)
                .map(|u| Json::String(u.hyphenated().to_string()))
                .map_err(|_| ("type".into(), format!("\"{s}\" is not a valid uuid")))
        }
        ScalarType::Text | ScalarType::Varchar(_) => match json {
            Json::String(_) => Ok(json.clone()),
            Json::Number(n) => Ok(Json::String(n.to_string())),
            Json::Bool(b) => Ok(Json::String(b.to_string())),
            _ => Err(type_error("a string")),
        },
        ScalarType::SmallInt
        | ScalarType::Int
        | ScalarType::BigInt
        | ScalarType::Serial
        | ScalarType::BigSerial => {
            let n = match json {
                Json::Number(n) => n
                    .as_i64()
                    .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)),
                Json::String(s) => s.trim().parse::<i64>().ok(),
                _ => None,
            }
            .ok_or_else(|| type_error("an integer"))?;
            let (min, max) = match scalar {
                ScalarType::SmallInt => (i16::MIN as i64, i16::MAX as i64),
                ScalarType::Int | ScalarType::Serial => (i32::MIN as i64, i32::MAX as i64),
                _ => (i64::MIN, i64::MAX),
            };
            if n < min || n > max {
                return Err((
                    "type".into(),
                    format!("{n} is out of range for type {scalar}"),
                ));
            }
            Ok(Json::Number(n.into()))
        }
        ScalarType::Decimal(_) | ScalarType::Float => {
            let f = match json {
                Json::Number(n) => n.as_f64(),
                Json::String(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
                _ => None,
            }
            .ok_or_else(|| type_error("a number"))?;
            Ok(number(f))
        }
        ScalarType::Bool => match json {
            Json::Bool(_) => Ok(json.clone()),
            Json::String(s) if s == "true" || s == "false" => Ok(Json::Bool(s == "true")),
            _ => Err(type_error("true or false")),
        },
        ScalarType::Date => json
            .as_str()
            .and_then(parse_date)
            .map(|d| Json::String(d.format("%Y-%m-%d").to_string()))
            .ok_or_else(|| type_error("a date (YYYY-MM-DD)")),
        ScalarType::Time => json
            .as_str()
            .and_then(parse_time)
            .map(|t| Json::String(fmt_time(t)))
            .ok_or_else(|| type_error("a time (HH:MM:SS)")),
        ScalarType::Timestamp => json
            .as_str()
            .and_then(parse_ts)
            .map(|t| Json::String(fmt_ts(t)))
            .ok_or_else(|| type_error("an ISO-8601 timestamp")),
        ScalarType::Timestamptz => json
            .as_str()
            .and_then(parse_tstz)
            .map(|t| Json::String(fmt_tstz(t)))
            .ok_or_else(|| type_error("an ISO-8601 timestamp")),
        ScalarType::Json | ScalarType::Jsonb => Ok(json.clone()),
        ScalarType::Bytes => {
            let s = json
                .as_str()
                .ok_or_else(|| type_error("a hex string (\\x...)"))?;
            decode_hex(s)
                .map(|_| Json::String(s.to_ascii_lowercase()))
                .ok_or_else(|| type_error("a hex string (\\x...)"))
        }
        ScalarType::Enum(name) => {
            let s = json.as_str().ok_or_else(|| type_error("a string"))?;
            let Some(e) = schema.enum_by_name(name) else {
                return Ok(json.clone());
            };
            if e.values.iter().any(|v| v.name == s) {
                Ok(json.clone())
            } else {
                let allowed: Vec<&str> = e.values.iter().map(|v| v.name.as_str()).collect();
                Err((
                    "enum".into(),
                    format!(
                        "\"{s}\" is not one of the allowed values: {}",
                        allowed.join(", ")
                    ),
                ))
            }
        }
    }
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
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

fn encode_hex(bytes: &[u8]) -> String {
    let mut s = String::from("\\x");
    for b in bytes {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// The text of a URL filter operand as the JSON input of the field's scalar type.
pub(crate) fn from_text(scalar: &ScalarType, text: &str) -> Json {
    match scalar {
        ScalarType::SmallInt
        | ScalarType::Int
        | ScalarType::BigInt
        | ScalarType::Serial
        | ScalarType::BigSerial
        | ScalarType::Decimal(_)
        | ScalarType::Float => serde_json::from_str::<Number>(text.trim())
            .map(Json::Number)
            .unwrap_or_else(|_| Json::String(text.to_owned())),
        ScalarType::Bool => match text {
            "true" => Json::Bool(true),
            "false" => Json::Bool(false),
            _ => Json::String(text.to_owned()),
        },
        ScalarType::Json | ScalarType::Jsonb => {
            serde_json::from_str(text).unwrap_or_else(|_| Json::String(text.to_owned()))
        }
        _ => Json::String(text.to_owned()),
    }
}

/// A canonical JSON value of `scalar` as a value to bind.
pub(crate) fn bind_scalar(scalar: &ScalarType, json: &Json, dialect: DialectKind) -> Value {
    let pg = dialect == DialectKind::Postgres;
    if json.is_null() {
        return null_of(scalar, dialect);
    }
    match scalar {
        ScalarType::Uuid if pg => Value::Uuid(
            json.as_str()
                .and_then(|s| uuid::Uuid::parse_str(s).ok())
                .map(Box::new),
        ),
        ScalarType::SmallInt
        | ScalarType::Int
        | ScalarType::BigInt
        | ScalarType::Serial
        | ScalarType::BigSerial => Value::BigInt(json.as_i64()),
        ScalarType::Decimal(_) if pg => Value::Decimal(
            json.as_number()
                .and_then(|n| {
                    n.to_string()
                        .parse::<rust_decimal::Decimal>()
                        .ok()
                        .or_else(|| {
                            n.as_f64()
                                .and_then(|f| rust_decimal::Decimal::try_from(f).ok())
                        })
                })
                .map(Box::new),
        ),
        ScalarType::Decimal(_) | ScalarType::Float => Value::Double(json.as_f64()),
        ScalarType::Bool => Value::Bool(json.as_bool()),
        ScalarType::Date if pg => {
            Value::ChronoDate(json.as_str().and_then(parse_date).map(Box::new))
        }
        ScalarType::Time if pg => {
            Value::ChronoTime(json.as_str().and_then(parse_time).map(Box::new))
        }
        ScalarType::Timestamp if pg => {
            Value::ChronoDateTime(json.as_str().and_then(parse_ts).map(Box::new))
        }
        ScalarType::Timestamptz if pg => {
            Value::ChronoDateTimeUtc(json.as_str().and_then(parse_tstz).map(Box::new))
        }
        ScalarType::Json | ScalarType::Jsonb => Value::String(Some(Box::new(json.to_string()))),
        ScalarType::Bytes => Value::Bytes(json.as_str().and_then(decode_hex).map(Box::new)),
        _ => Value::String(Some(Box::new(match json {
            Json::String(s) => s.clone(),
            other => other.to_string(),
        }))),
    }
}

fn null_of(scalar: &ScalarType, dialect: DialectKind) -> Value {
    let pg = dialect == DialectKind::Postgres;
    match scalar {
        ScalarType::Uuid if pg => Value::Uuid(None),
        ScalarType::SmallInt
        | ScalarType::Int
        | ScalarType::BigInt
        | ScalarType::Serial
        | ScalarType::BigSerial => Value::BigInt(None),
        ScalarType::Decimal(_) if pg => Value::Decimal(None),
        ScalarType::Decimal(_) | ScalarType::Float => Value::Double(None),
        ScalarType::Bool => Value::Bool(None),
        ScalarType::Date if pg => Value::ChronoDate(None),
        ScalarType::Time if pg => Value::ChronoTime(None),
        ScalarType::Timestamp if pg => Value::ChronoDateTime(None),
        ScalarType::Timestamptz if pg => Value::ChronoDateTimeUtc(None),
        ScalarType::Bytes => Value::Bytes(None),
        _ => Value::String(None),
    }
}

/// The PostgreSQL type of a field's column (for casts).
pub(crate) fn pg_type(schema: &Schema, scalar: &ScalarType) -> String {
    use tessera_sql::Dialect as _;
    let enum_type = match scalar {
        ScalarType::Enum(name) => schema.enum_by_name(name).map(|e| e.db_name.as_str()),
        _ => None,
    };
    tessera_sql::dialect::Postgres.scalar_type(scalar, enum_type)
}

/// The expression that writes a canonical JSON value into a field's column.
pub(crate) fn write_expr(
    schema: &Schema,
    field: &Field,
    json: &Json,
    dialect: DialectKind,
) -> SimpleExpr {
    let scalar = &field.ty.scalar;
    match dialect {
        DialectKind::Sqlite => {
            if field.ty.array {
                if json.is_null() {
                    Expr::val(Value::String(None)).into()
                } else {
                    Expr::val(json.to_string()).into()
                }
            } else {
                Expr::val(bind_scalar(scalar, json, dialect)).into()
            }
        }
        DialectKind::Postgres => {
            if field.ty.array {
                let text = if json.is_null() {
                    Value::String(None)
                } else {
                    Value::String(Some(Box::new(json.to_string())))
                };
                let ty = pg_type(schema, scalar);
                return custom(
                    dialect,
                    &format!(
                        "CASE WHEN ? IS NULL THEN NULL ELSE CAST(ARRAY(SELECT jsonb_array_elements_text(CAST(? AS jsonb))) AS {ty}[]) END"
                    ),
                    vec![Expr::val(text.clone()).into(), Expr::val(text).into()],
                );
            }
            let value = bind_scalar(scalar, json, dialect);
            match scalar {
                ScalarType::Enum(_) | ScalarType::Json | ScalarType::Jsonb => {
                    let ty = pg_type(schema, scalar);
                    custom(
                        dialect,
                        &format!("CAST(? AS {ty})"),
                        vec![Expr::val(value).into()],
                    )
                }
                _ => Expr::val(value).into(),
            }
        }
    }
}

/// A custom SQL fragment with `?` placeholders standing for `exprs`, in order.
pub(crate) fn custom(dialect: DialectKind, template: &str, exprs: Vec<SimpleExpr>) -> SimpleExpr {
    match dialect {
        DialectKind::Sqlite => Expr::cust_with_exprs(template, exprs),
        DialectKind::Postgres => {
            let mut out = String::with_capacity(template.len() + 8);
            let mut n = 0;
            for c in template.chars() {
                if c == '?' {
                    n += 1;
                    out.push_str(&format!("${n}"));
                } else {
                    out.push(c);
                }
            }
            Expr::cust_with_exprs(out, exprs)
        }
    }
}

/// Decodes column `idx` of a SQLite row as a field's canonical JSON.
pub(crate) fn decode_sqlite(
    row: &sqlx::sqlite::SqliteRow,
    idx: usize,
    array: bool,
    scalar: &ScalarType,
) -> Result<Json, RuntimeError> {
    let raw = row.try_get_raw(idx).map_err(decode_error)?;
    if raw.is_null() {
        return Ok(Json::Null);
    }
    let storage = raw.type_info().to_string();
    let text = || {
        row.try_get_unchecked::<String, _>(idx)
            .map_err(decode_error)
    };
    if array || scalar.is_json() {
        let s = text()?;
        return Ok(serde_json::from_str(&s).unwrap_or(Json::String(s)));
    }
    Ok(match storage.as_str() {
        "INTEGER" => {
            let n: i64 = row.try_get_unchecked(idx).map_err(decode_error)?;
            match scalar {
                ScalarType::Bool => Json::Bool(n != 0),
                ScalarType::Text | ScalarType::Varchar(_) | ScalarType::Enum(_) => {
                    Json::String(n.to_string())
                }
                _ => Json::Number(n.into()),
            }
        }
        "REAL" => {
            let f: f64 = row.try_get_unchecked(idx).map_err(decode_error)?;
            match scalar {
                ScalarType::Text | ScalarType::Varchar(_) => Json::String(f.to_string()),
                _ => number(f),
            }
        }
        "BLOB" => {
            let b: Vec<u8> = row.try_get_unchecked(idx).map_err(decode_error)?;
            Json::String(encode_hex(&b))
        }
        _ => {
            let s = text()?;
            match scalar {
                ScalarType::Uuid => Json::String(s.to_ascii_lowercase()),
                ScalarType::Timestamptz => Json::String(parse_tstz(&s).map(fmt_tstz).unwrap_or(s)),
                ScalarType::Timestamp => Json::String(parse_ts(&s).map(fmt_ts).unwrap_or(s)),
                ScalarType::Time => Json::String(parse_time(&s).map(fmt_time).unwrap_or(s)),
                ScalarType::Bool => Json::Bool(s == "1" || s == "true"),
                s2 if s2.is_numeric() => s.parse::<f64>().map(number).unwrap_or(Json::String(s)),
                _ => Json::String(s),
            }
        }
    })
}

/// Decodes column `idx` of a PostgreSQL row as a field's canonical JSON. Array columns are
/// selected as `to_jsonb(column)`.
pub(crate) fn decode_pg(
    row: &sqlx::postgres::PgRow,
    idx: usize,
    array: bool,
    _scalar: &ScalarType,
) -> Result<Json, RuntimeError> {
    let raw = row.try_get_raw(idx).map_err(decode_error)?;
    if raw.is_null() {
        return Ok(Json::Null);
    }
    let ty = raw.type_info().to_string();
    if array || ty == "JSON" || ty == "JSONB" {
        let v: Json = row.try_get_unchecked(idx).map_err(decode_error)?;
        return Ok(v);
    }
    Ok(match ty.as_str() {
        "UUID" => {
            let u: uuid::Uuid = row.try_get(idx).map_err(decode_error)?;
            Json::String(u.hyphenated().to_string())
        }
        "INT2" => Json::Number(row.try_get::<i16, _>(idx).map_err(decode_error)?.into()),
        "INT4" => Json::Number(row.try_get::<i32, _>(idx).map_err(decode_error)?.into()),
        "INT8" => Json::Number(row.try_get::<i64, _>(idx).map_err(decode_error)?.into()),
        "FLOAT4" => number(f64::from(row.try_get::<f32, _>(idx).map_err(decode_error)?)),
        "FLOAT8" => number(row.try_get::<f64, _>(idx).map_err(decode_error)?),
        "NUMERIC" => {
            let d: rust_decimal::Decimal = row.try_get(idx).map_err(decode_error)?;
            d.to_string()
                .parse::<f64>()
                .map(number)
                .unwrap_or(Json::Null)
        }
        "BOOL" => Json::Bool(row.try_get(idx).map_err(decode_error)?),
        "DATE" => {
            let d: NaiveDate = row.try_get(idx).map_err(decode_error)?;
            Json::String(d.format("%Y-%m-%d").to_string())
        }
        "TIME" => Json::String(fmt_time(row.try_get(idx).map_err(decode_error)?)),
        "TIMESTAMP" => Json::String(fmt_ts(truncate_ms(row.try_get(idx).map_err(decode_error)?))),
        "TIMESTAMPTZ" => {
            let t: DateTime<Utc> = row.try_get(idx).map_err(decode_error)?;
            Json::String(fmt_tstz(truncate_ms(t.naive_utc()).and_utc()))
        }
        "BYTEA" => Json::String(encode_hex(
            &row.try_get::<Vec<u8>, _>(idx).map_err(decode_error)?,
        )),
        _ => Json::String(
            row.try_get_unchecked::<String, _>(idx)
                .map_err(decode_error)?,
        ),
    })
}

fn decode_error(error: sqlx::Error) -> RuntimeError {
    tracing::error!(%error, "decoding a column failed");
    RuntimeError::internal("could not decode a value read from the database")
}
