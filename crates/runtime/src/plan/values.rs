//! Values given by clients, checked against a field's type and brought to the canonical
//! JSON form of that type (see `tessera_sql::value`), once, when a request is planned.

use serde_json::{Number, Value as Json};
use tessera_schema::ir::{Field, ScalarType};
use tessera_schema::Schema;
use tessera_sql::decimal::{self, DecimalError};
use tessera_sql::value::{
    decode_hex, format_date, format_time, format_timestamp, format_timestamptz, number, parse_date,
    parse_time, parse_timestamp, parse_timestamptz,
};

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
        ScalarType::Decimal(limits) => decimal_value(json, *limits),
        ScalarType::Float => {
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
            .map(|d| Json::String(format_date(d)))
            .ok_or_else(|| type_error("a date (YYYY-MM-DD)")),
        ScalarType::Time => json
            .as_str()
            .and_then(parse_time)
            .map(|t| Json::String(format_time(t)))
            .ok_or_else(|| type_error("a time (HH:MM:SS)")),
        ScalarType::Timestamp => json
            .as_str()
            .and_then(parse_timestamp)
            .map(|t| Json::String(format_timestamp(t)))
            .ok_or_else(|| type_error("an ISO-8601 timestamp")),
        ScalarType::Timestamptz => json
            .as_str()
            .and_then(parse_timestamptz)
            .map(|t| Json::String(format_timestamptz(t)))
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

/// A decimal given as a JSON number or string, checked against the field's precision and
/// scale (digits are never rounded away) and written at its scale: `1.5` in a
/// `decimal(10, 2)` is `1.50`.
fn decimal_value(json: &Json, limits: Option<(u32, u32)>) -> Result<Json, (String, String)> {
    let not_a_number = || {
        (
            "type".to_owned(),
            format!("expected a number, got {}", type_name(json)),
        )
    };
    let text = match json {
        Json::Number(_) | Json::String(_) => decimal::json_text(json).ok_or_else(not_a_number)?,
        _ => return Err(not_a_number()),
    };
    match decimal::canonical(&text, limits) {
        Ok(canonical) => Ok(decimal::to_json(&canonical)),
        Err(DecimalError::NotANumber) => Err((
            "type".to_owned(),
            format!("\"{text}\" is not a decimal number"),
        )),
        Err(error) => Err(("type".to_owned(), error.to_string())),
    }
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

/// A filter operand given as text, as the canonical value of `field`'s scalar type (arrays
/// are compared element by element). The error is the `22P02` message.
pub(crate) fn operand(schema: &Schema, field: &Field, text: &str) -> Result<Json, String> {
    if let ScalarType::Decimal(_) = field.ty.scalar {
        // Compared by value, whatever its scale: `gt.1.005` on a `decimal(10, 2)` is a
        // question, not a value to store.
        return decimal_value(&Json::String(text.to_owned()), None).map_err(|(_, m)| m);
    }
    let json = from_text(&field.ty.scalar, text);
    coerce_scalar(schema, &field.ty.scalar, &json).map_err(|(_, message)| message)
}

/// PostgREST's like pattern (`*` or `%` any run, `_` one character) as an SQL LIKE pattern
/// with backslash escapes.
pub(crate) fn like_pattern(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    for c in pattern.chars() {
        match c {
            '*' | '%' => out.push('%'),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn field(ty: &str) -> Field {
        let source = format!("model t {{\n  f {ty}\n}}\n");
        let schema = tessera_schema::check_source("t.tsr", &source)
            .expect("checks")
            .schema;
        schema.models[0].field("f").expect("the field").clone()
    }

    fn schema() -> Schema {
        tessera_schema::check_source("t.tsr", "model t {\n  f text\n}\n")
            .expect("checks")
            .schema
    }

    #[test]
    fn uuids_become_lowercase() {
        let value = coerce(
            &schema(),
            &field("uuid"),
            &json!("A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11"),
        );
        assert_eq!(value, Ok(json!("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")));
    }

    #[test]
    fn integers_out_of_range_are_type_errors() {
        let error =
            coerce(&schema(), &field("int"), &json!(3_000_000_000_i64)).expect_err("too big");
        assert_eq!(error.0, "type");
    }

    #[test]
    fn timestamps_become_utc_with_milliseconds() {
        let value = coerce(
            &schema(),
            &field("timestamptz"),
            &json!("2024-05-01 14:30:00+02"),
        );
        assert_eq!(value, Ok(json!("2024-05-01T12:30:00.000Z")));
    }

    #[test]
    fn text_operands_take_the_field_type() {
        assert_eq!(operand(&schema(), &field("int"), "42"), Ok(json!(42)));
        assert_eq!(operand(&schema(), &field("bool"), "true"), Ok(json!(true)));
        assert!(operand(&schema(), &field("int"), "4x").is_err());
    }

    #[test]
    fn decimals_keep_every_digit_at_the_field_scale() {
        let wide = field("decimal(30, 10)");
        let value: Json = serde_json::from_str("12345678901234567890.123456789").expect("json");
        let coerced = coerce(&schema(), &wide, &value).expect("fits");
        assert_eq!(coerced.to_string(), "12345678901234567890.1234567890");
        let coerced = coerce(&schema(), &field("decimal(10, 2)"), &json!("7")).expect("fits");
        assert_eq!(coerced.to_string(), "7.00");
    }

    #[test]
    fn decimals_beyond_precision_or_scale_are_type_errors_naming_the_limits() {
        let error =
            coerce(&schema(), &field("decimal(5, 2)"), &json!(1234.5)).expect_err("too big");
        assert_eq!(error.0, "type");
        assert!(error.1.contains("decimal(5, 2)"), "{}", error.1);
        let error =
            coerce(&schema(), &field("decimal(5, 2)"), &json!(1.005)).expect_err("too precise");
        assert!(error.1.contains("at most 2"), "{}", error.1);
        let error = coerce(&schema(), &field("decimal"), &json!("ten")).expect_err("not a number");
        assert_eq!(error.1, "\"ten\" is not a decimal number");
    }

    #[test]
    fn decimal_operands_keep_their_own_scale() {
        let value = operand(&schema(), &field("decimal(10, 2)"), "1.005").expect("a number");
        assert_eq!(value.to_string(), "1.005");
        assert!(operand(&schema(), &field("decimal(10, 2)"), "1.0x").is_err());
    }

    #[test]
    fn like_patterns_take_star_or_percent() {
        assert_eq!(like_pattern("a*b%c_"), "a%b%c_");
        assert_eq!(like_pattern("a\\b"), "a\\\\b");
    }
}
