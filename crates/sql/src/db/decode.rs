//! Rows of either driver as the canonical JSON of their columns' types.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value as Json;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, TypeInfo, ValueRef};
use tessera_schema::ir::{FieldType, ScalarType};

use super::{DbError, Violation};
use crate::decimal::{self, BigDecimal};
use crate::value::{
    encode_hex, format_date, format_time, format_timestamp, format_timestamptz, number, parse_time,
    parse_timestamp, parse_timestamptz, truncate_ms,
};

pub(super) fn sqlite_rows(
    rows: &[SqliteRow],
    types: &[FieldType],
) -> Result<Vec<Vec<Json>>, DbError> {
    rows.iter()
        .map(|row| {
            types
                .iter()
                .enumerate()
                .map(|(i, ty)| sqlite_value(row, i, ty))
                .collect()
        })
        .collect()
}

pub(super) fn postgres_rows(
    rows: &[PgRow],
    types: &[FieldType],
) -> Result<Vec<Vec<Json>>, DbError> {
    rows.iter()
        .map(|row| {
            types
                .iter()
                .enumerate()
                .map(|(i, ty)| postgres_value(row, i, ty))
                .collect()
        })
        .collect()
}

fn decode_error(error: sqlx::Error) -> DbError {
    DbError::Decode(error.to_string())
}

/// Column `idx` of a SQLite row. SQLite stores by value, not by column type: the storage
/// class read decides how, the field's type what it becomes.
fn sqlite_value(row: &SqliteRow, idx: usize, ty: &FieldType) -> Result<Json, DbError> {
    let raw = row.try_get_raw(idx).map_err(decode_error)?;
    if raw.is_null() {
        return Ok(Json::Null);
    }
    let storage = raw.type_info().name().to_owned();
    let scalar = &ty.scalar;
    let text = || {
        row.try_get_unchecked::<String, _>(idx)
            .map_err(decode_error)
    };
    if ty.array || scalar.is_json() {
        let s = text()?;
        return Ok(serde_json::from_str(&s).unwrap_or(Json::String(s)));
    }
    Ok(match storage.as_str() {
        "INTEGER" => {
            let n: i64 = row.try_get_unchecked(idx).map_err(decode_error)?;
            match scalar {
                ScalarType::Bool => Json::Bool(n != 0),
                ScalarType::Decimal(limits) => stored_decimal(&n.to_string(), *limits),
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
                // A float left by an older version's NUMERIC column.
                ScalarType::Decimal(limits) if f.is_finite() => {
                    stored_decimal(&f.to_string(), *limits)
                }
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
                ScalarType::Timestamptz => {
                    Json::String(parse_timestamptz(&s).map(format_timestamptz).unwrap_or(s))
                }
                ScalarType::Timestamp => {
                    Json::String(parse_timestamp(&s).map(format_timestamp).unwrap_or(s))
                }
                ScalarType::Time => Json::String(parse_time(&s).map(format_time).unwrap_or(s)),
                ScalarType::Bool => Json::Bool(s == "1" || s == "true"),
                ScalarType::Decimal(limits) => match decimal::from_storage(&s, *limits) {
                    Some(text) => decimal::to_json(&text),
                    None => Json::String(s),
                },
                numeric if numeric.is_numeric() => {
                    s.parse::<f64>().map(number).unwrap_or(Json::String(s))
                }
                _ => Json::String(s),
            }
        }
    })
}

/// Column `idx` of a PostgreSQL row. Array columns are selected as `to_jsonb(column)`.
fn postgres_value(row: &PgRow, idx: usize, ty: &FieldType) -> Result<Json, DbError> {
    let raw = row.try_get_raw(idx).map_err(decode_error)?;
    if raw.is_null() {
        return Ok(Json::Null);
    }
    let type_name = raw.type_info().name().to_owned();
    if ty.array || type_name == "JSON" || type_name == "JSONB" {
        return row.try_get_unchecked::<Json, _>(idx).map_err(decode_error);
    }
    Ok(match type_name.as_str() {
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
            // Decoded with trailing zeros of the driver's own (it keeps scales in groups
            // of four digits): the field's scale is the one PostgreSQL prints.
            let d: BigDecimal = row.try_get(idx).map_err(decode_error)?;
            let d = match &ty.scalar {
                ScalarType::Decimal(Some((_, scale))) => d.with_scale(i64::from(*scale)),
                _ => d.normalized(),
            };
            decimal::to_json(&decimal::to_text(&d))
        }
        "BOOL" => Json::Bool(row.try_get(idx).map_err(decode_error)?),
        "DATE" => Json::String(format_date(
            row.try_get::<NaiveDate, _>(idx).map_err(decode_error)?,
        )),
        "TIME" => Json::String(format_time(row.try_get(idx).map_err(decode_error)?)),
        "TIMESTAMP" => Json::String(format_timestamp(truncate_ms(
            row.try_get(idx).map_err(decode_error)?,
        ))),
        "TIMESTAMPTZ" => {
            let t: DateTime<Utc> = row.try_get(idx).map_err(decode_error)?;
            Json::String(format_timestamptz(truncate_ms(t.naive_utc()).and_utc()))
        }
        "BYTEA" => Json::String(encode_hex(
            &row.try_get::<Vec<u8>, _>(idx).map_err(decode_error)?,
        )),
        _ => {
            let s = row
                .try_get_unchecked::<String, _>(idx)
                .map_err(decode_error)?;
            match &ty.scalar {
                // An unconstrained numeric, selected as text to keep its scale.
                ScalarType::Decimal(limits) => match decimal::from_storage(&s, *limits) {
                    Some(text) => decimal::to_json(&text),
                    None => Json::String(s),
                },
                _ => Json::String(s),
            }
        }
    })
}

/// A decimal SQLite stored as a number (a column of an older version's NUMERIC type).
fn stored_decimal(text: &str, limits: Option<(u32, u32)>) -> Json {
    match decimal::from_storage(text, limits) {
        Some(text) => decimal::to_json(&text),
        None => Json::Null,
    }
}

/// The first foreign key a SQLite transaction left violated: its table, columns and
/// parent table.
pub(super) async fn sqlite_foreign_key_violation(
    conn: &mut sqlx::SqliteConnection,
) -> Result<Option<Violation>, DbError> {
    let Some(row) = sqlx::query("PRAGMA foreign_key_check")
        .fetch_optional(&mut *conn)
        .await?
    else {
        return Ok(None);
    };
    let table: String = row.try_get("table")?;
    let parent: String = row.try_get("parent")?;
    let fkid: i64 = row.try_get("fkid")?;
    let columns =
        sqlx::query("SELECT \"from\" FROM pragma_foreign_key_list(?) WHERE id = ? ORDER BY seq")
            .bind(&table)
            .bind(fkid)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| r.try_get::<String, _>("from"))
            .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(Violation {
        message: format!("FOREIGN KEY constraint failed: {table} references {parent}"),
        constraint: None,
        table: Some(table),
        columns,
        parent: Some(parent),
    }))
}
