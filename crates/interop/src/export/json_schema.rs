//! JSON Schema (draft 2020-12) of a schema's rows. The same field schemas describe rows in
//! the OpenAPI document, which uses JSON Schema 2020-12 since OpenAPI 3.1.

use serde_json::{json, Map, Value};
use tessera_schema::ir::{Field, Model, Rule, ScalarType, Schema};

/// Which columns a row schema lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RowShape {
    /// A row as read: every field but secret ones, computed fields read-only.
    Read,
    /// A row as inserted: stored fields a client may write; required when not nullable and
    /// without a default, plain or conditional.
    Insert,
    /// A row as updated: the insert fields, none required, read-only fields excluded.
    Update,
}

/// The JSON Schema document: one `$defs` entry per model (rows as read) and per enum.
pub fn json_schema(schema: &Schema) -> Value {
    let mut defs = Map::new();
    for e in &schema.enums {
        defs.insert(e.name.clone(), enum_schema(e));
    }
    for model in &schema.models {
        defs.insert(
            model.name.clone(),
            row_schema(schema, model, RowShape::Read, "#/$defs/"),
        );
    }
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://tessera.dev/schema.json",
        "title": "Rows of the schema's models",
        "$defs": defs,
    })
}

pub(crate) fn enum_schema(e: &tessera_schema::ir::Enum) -> Value {
    let mut out = Map::new();
    out.insert("type".into(), json!("string"));
    out.insert(
        "enum".into(),
        Value::Array(e.values.iter().map(|v| json!(v.name)).collect()),
    );
    if let Some(doc) = &e.doc {
        out.insert("description".into(), json!(doc));
    }
    Value::Object(out)
}

/// Whether a client may send the field on insert.
pub(crate) fn writable(field: &Field) -> bool {
    field.is_stored() && field.managed.is_none() && !field.ty.scalar.is_auto_increment()
}

pub(crate) fn row_schema(schema: &Schema, model: &Model, shape: RowShape, refs: &str) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for field in &model.fields {
        let include = match shape {
            RowShape::Read => !field.secret,
            RowShape::Insert => writable(field),
            RowShape::Update => writable(field) && !field.readonly,
        };
        if !include {
            continue;
        }
        let mut value = field_schema(field, refs);
        if let Value::Object(map) = &mut value {
            if shape == RowShape::Read && (field.computed.is_some() || field.managed.is_some()) {
                map.insert("readOnly".into(), json!(true));
            }
            if let Some(access) = super::field_access(schema, model, field) {
                let description = match map.get("description").and_then(Value::as_str) {
                    Some(doc) => format!("{doc} {access}"),
                    None => access,
                };
                map.insert("description".into(), json!(description));
            }
        }
        let needed = match shape {
            RowShape::Read => field.is_stored() && !field.nullable,
            RowShape::Insert => {
                !field.nullable && field.default.is_none() && field.conditional_defaults.is_empty()
            }
            RowShape::Update => false,
        };
        if needed {
            required.push(json!(field.name));
        }
        properties.insert(field.name.clone(), value);
    }
    let mut out = Map::new();
    out.insert("type".into(), json!("object"));
    if let Some(doc) = &model.doc {
        out.insert("description".into(), json!(doc));
    }
    out.insert("properties".into(), Value::Object(properties));
    if !required.is_empty() {
        out.insert("required".into(), Value::Array(required));
    }
    out.insert("additionalProperties".into(), json!(false));
    Value::Object(out)
}

/// The JSON Schema of one field's values, validations included.
pub(crate) fn field_schema(field: &Field, refs: &str) -> Value {
    let mut item = scalar_schema(&field.ty.scalar, refs);
    if let Value::Object(map) = &mut item {
        for validation in &field.validations {
            match &validation.rule {
                Rule::NotEmpty => {
                    map.insert("minLength".into(), json!(1));
                }
                Rule::Length { min, max } => {
                    if let Some(min) = min {
                        map.insert("minLength".into(), json!(min));
                    }
                    if let Some(max) = max {
                        map.insert("maxLength".into(), json!(max));
                    }
                }
                Rule::Email => {
                    map.insert("format".into(), json!("email"));
                }
                Rule::Url => {
                    map.insert("format".into(), json!("uri"));
                }
                Rule::Pattern { regex } => {
                    map.insert("pattern".into(), json!(regex));
                }
                Rule::Min { value } => {
                    map.insert("minimum".into(), number(*value));
                }
                Rule::Max { value } => {
                    map.insert("maximum".into(), number(*value));
                }
                Rule::OneOf { values } => {
                    map.insert("enum".into(), json!(values));
                }
            }
        }
    }
    let mut schema = if field.ty.array {
        json!({"type": "array", "items": item})
    } else {
        item
    };
    if field.nullable {
        schema = nullable(schema);
    }
    if let Value::Object(map) = &mut schema {
        if let Some(doc) = &field.doc {
            map.insert("description".into(), json!(doc));
        }
        if let Some(default) = fixed_default(field) {
            map.insert("default".into(), default);
        }
        if field.ty.scalar.is_auto_increment() || field.computed.is_some() {
            map.insert("readOnly".into(), json!(true));
        }
    }
    schema
}

fn number(value: f64) -> Value {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        json!(value as i64)
    } else {
        json!(value)
    }
}

/// The value a field takes when an insert leaves it out, when that is one constant: not
/// for values generated per row (`now()`, `uuid()`, `random_secret()`) nor for fields whose
/// `@default_if` makes the value depend on the rest of the row.
fn fixed_default(field: &Field) -> Option<Value> {
    if !field.conditional_defaults.is_empty() {
        return None;
    }
    field.default.as_ref().and_then(default_json)
}

fn default_json(default: &tessera_schema::ir::DefaultValue) -> Option<Value> {
    use tessera_schema::ir::DefaultValue;
    match default {
        DefaultValue::String(s) | DefaultValue::EnumValue(s) => Some(json!(s)),
        DefaultValue::Number(n) => serde_json::from_str(n).ok(),
        DefaultValue::Bool(b) => Some(json!(b)),
        DefaultValue::Json(j) => Some(j.clone()),
        DefaultValue::Now | DefaultValue::GeneratedUuid | DefaultValue::RandomSecret => None,
    }
}

/// Allows `null` besides the schema's values.
fn nullable(schema: Value) -> Value {
    match schema {
        Value::Object(map) if map.is_empty() => Value::Object(map),
        Value::Object(mut map) => match map.get("type").cloned() {
            Some(Value::String(ty)) if !map.contains_key("enum") => {
                map.insert("type".into(), json!([ty, "null"]));
                Value::Object(map)
            }
            _ => json!({"anyOf": [Value::Object(map), {"type": "null"}]}),
        },
        other => other,
    }
}

/// A time of day without a time zone, as written and as answered.
const TIME_PATTERN: &str = "^[0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]+)?)?$";

/// A date and time without a time zone (an offset, when written, is converted to UTC).
const TIMESTAMP_PATTERN: &str =
    "^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]+)?)?(Z|[+-][0-9]{2}:?[0-9]{2})?$";

fn scalar_schema(scalar: &ScalarType, refs: &str) -> Value {
    match scalar {
        ScalarType::Uuid => json!({"type": "string", "format": "uuid"}),
        ScalarType::Text => json!({"type": "string"}),
        ScalarType::Varchar(n) => json!({"type": "string", "maxLength": n}),
        ScalarType::SmallInt => {
            json!({"type": "integer", "minimum": i16::MIN, "maximum": i16::MAX})
        }
        ScalarType::Int | ScalarType::Serial => json!({"type": "integer", "format": "int32"}),
        ScalarType::BigInt | ScalarType::BigSerial => {
            json!({"type": "integer", "format": "int64"})
        }
        ScalarType::Bool => json!({"type": "boolean"}),
        ScalarType::Decimal(_) => json!({"type": "number"}),
        ScalarType::Float => json!({"type": "number", "format": "double"}),
        ScalarType::Date => json!({"type": "string", "format": "date"}),
        // JSON Schema's `time` and `date-time` formats require a UTC offset; values of
        // `time` and `timestamp` have none (`08:30:00.000`, `2026-01-31T08:30:00.000`),
        // so their shape is a pattern. A timestamp written with an offset is converted to
        // UTC.
        ScalarType::Time => json!({"type": "string", "pattern": TIME_PATTERN}),
        ScalarType::Timestamp => json!({"type": "string", "pattern": TIMESTAMP_PATTERN}),
        ScalarType::Timestamptz => json!({"type": "string", "format": "date-time"}),
        ScalarType::Json | ScalarType::Jsonb => json!({}),
        ScalarType::Bytes => json!({"type": "string", "contentEncoding": "base64"}),
        ScalarType::Enum(name) => json!({"$ref": format!("{refs}{name}")}),
    }
}
