//! PostgreSQL 13+: the production engine, with native uuid, JSON, array, enum and boolean
//! types.

use sea_query::{Alias, Expr, Func, PostgresQueryBuilder, QueryBuilder, SimpleExpr, Value};
use serde_json::Value as Json;
use tessera_schema::ir::{FieldType, ScalarType};

use super::{Dialect, DialectKind};
use crate::decimal;
use crate::quote::ident;
use crate::value::{decode_hex, parse_date, parse_time, parse_timestamp, parse_timestamptz};

/// PostgreSQL 13+: the production engine.
#[derive(Debug, Clone, Copy)]
pub struct Postgres;

impl Dialect for Postgres {
    fn kind(&self) -> DialectKind {
        DialectKind::Postgres
    }
    fn supports_enum_types(&self) -> bool {
        true
    }
    fn supports_arrays(&self) -> bool {
        true
    }
    fn supports_native_uuid(&self) -> bool {
        true
    }
    fn supports_native_json(&self) -> bool {
        true
    }
    fn supports_native_bool(&self) -> bool {
        true
    }
    fn supports_native_decimal(&self) -> bool {
        true
    }
    fn supports_varchar_length(&self) -> bool {
        true
    }
    fn supports_identity_columns(&self) -> bool {
        true
    }
    fn supports_alter_table(&self) -> bool {
        true
    }
    fn supports_forward_references(&self) -> bool {
        false
    }

    fn scalar_type(&self, scalar: &ScalarType, enum_type: Option<&str>) -> String {
        match scalar {
            ScalarType::Uuid => "uuid".to_owned(),
            ScalarType::Text => "text".to_owned(),
            ScalarType::Varchar(n) => format!("varchar({n})"),
            ScalarType::SmallInt => "smallint".to_owned(),
            ScalarType::Int | ScalarType::Serial => "integer".to_owned(),
            ScalarType::BigInt | ScalarType::BigSerial => "bigint".to_owned(),
            ScalarType::Bool => "boolean".to_owned(),
            ScalarType::Decimal(None) => "numeric".to_owned(),
            ScalarType::Decimal(Some((p, s))) => format!("numeric({p}, {s})"),
            ScalarType::Float => "double precision".to_owned(),
            ScalarType::Date => "date".to_owned(),
            ScalarType::Time => "time".to_owned(),
            ScalarType::Timestamp => "timestamp".to_owned(),
            ScalarType::Timestamptz => "timestamptz".to_owned(),
            ScalarType::Json => "json".to_owned(),
            ScalarType::Jsonb => "jsonb".to_owned(),
            ScalarType::Bytes => "bytea".to_owned(),
            ScalarType::Enum(name) => ident(enum_type.unwrap_or(name)),
        }
    }

    fn now_expr(&self, scalar: &ScalarType) -> String {
        match scalar {
            ScalarType::Date => "CURRENT_DATE".to_owned(),
            ScalarType::Time => "LOCALTIME".to_owned(),
            ScalarType::Timestamp => "LOCALTIMESTAMP".to_owned(),
            _ => "now()".to_owned(),
        }
    }

    fn uuid_expr(&self) -> String {
        "gen_random_uuid()".to_owned()
    }

    fn bool_literal(&self, value: bool) -> String {
        if value { "true" } else { "false" }.to_owned()
    }

    fn query_builder(&self) -> &'static dyn QueryBuilder {
        &PostgresQueryBuilder
    }

    fn supports_row_locks(&self) -> bool {
        true
    }

    fn requires_limit_with_offset(&self) -> bool {
        false
    }

    fn bind(&self, scalar: &ScalarType, value: &Json) -> Value {
        let text = || value.as_str();
        match scalar {
            ScalarType::Uuid => Value::Uuid(
                text()
                    .and_then(|s| uuid::Uuid::parse_str(s).ok())
                    .map(Box::new),
            ),
            ScalarType::SmallInt
            | ScalarType::Int
            | ScalarType::BigInt
            | ScalarType::Serial
            | ScalarType::BigSerial => Value::BigInt(value.as_i64()),
            ScalarType::Decimal(_) => Value::BigDecimal(
                decimal::json_text(value)
                    .and_then(|text| decimal::parse(&text).ok())
                    .map(Box::new),
            ),
            ScalarType::Float => Value::Double(value.as_f64()),
            ScalarType::Bool => Value::Bool(value.as_bool()),
            ScalarType::Date => Value::ChronoDate(text().and_then(parse_date).map(Box::new)),
            ScalarType::Time => Value::ChronoTime(text().and_then(parse_time).map(Box::new)),
            ScalarType::Timestamp => {
                Value::ChronoDateTime(text().and_then(parse_timestamp).map(Box::new))
            }
            ScalarType::Timestamptz => {
                Value::ChronoDateTimeUtc(text().and_then(parse_timestamptz).map(Box::new))
            }
            ScalarType::Json | ScalarType::Jsonb => match value {
                Json::Null => Value::String(None),
                _ => Value::String(Some(Box::new(value.to_string()))),
            },
            ScalarType::Bytes => Value::Bytes(text().and_then(decode_hex).map(Box::new)),
            ScalarType::Text | ScalarType::Varchar(_) | ScalarType::Enum(_) => match value {
                Json::Null => Value::String(None),
                _ => Value::String(Some(Box::new(crate::value::text_of(value)))),
            },
        }
    }

    fn value(&self, ty: &FieldType, type_name: Option<&str>, value: &Json) -> SimpleExpr {
        let column_type = self.scalar_type(&ty.scalar, type_name);
        if ty.array {
            // The array travels as JSON text and is unpacked into the column's type.
            let text = match value {
                Json::Null => Value::String(None),
                _ => Value::String(Some(Box::new(value.to_string()))),
            };
            return template(
                &format!(
                    "CASE WHEN $1 IS NULL THEN NULL ELSE CAST(ARRAY(SELECT jsonb_array_elements_text(CAST($1 AS jsonb))) AS {column_type}[]) END"
                ),
                vec![Expr::val(text).into()],
            );
        }
        let bound: SimpleExpr = Expr::val(self.bind(&ty.scalar, value)).into();
        match ty.scalar {
            // Text parameters become the column's own type.
            ScalarType::Enum(_) | ScalarType::Json | ScalarType::Jsonb => {
                template(&format!("CAST($1 AS {column_type})"), vec![bound])
            }
            _ => bound,
        }
    }

    fn read_column(&self, column: SimpleExpr, ty: &FieldType) -> SimpleExpr {
        if ty.array {
            // Arrays of every element type decode alike as JSON.
            Func::cust(Alias::new("to_jsonb")).arg(column).into()
        } else if ty.scalar == ScalarType::Decimal(None) {
            // The driver's numeric decodes without the value's own scale, which an
            // unconstrained numeric keeps (`1.50`); its text has it.
            Func::cast_as(column, Alias::new("text")).into()
        } else {
            column
        }
    }

    fn sort_key(&self, expr: SimpleExpr, scalar: &ScalarType) -> SimpleExpr {
        if scalar.is_textual() {
            // Byte order, as SQLite compares, whatever the database's collation.
            template("$1 COLLATE \"C\"", vec![expr])
        } else {
            expr
        }
    }

    fn as_text(&self, column: SimpleExpr, scalar: &ScalarType) -> SimpleExpr {
        if scalar.is_textual() {
            column
        } else {
            Func::cast_as(column, Alias::new("text")).into()
        }
    }

    fn like(&self, text: SimpleExpr, pattern: &str, case_insensitive: bool) -> SimpleExpr {
        let operator = if case_insensitive { "ILIKE" } else { "LIKE" };
        template(
            &format!("$1 {operator} $2"),
            vec![text, Expr::val(pattern.to_owned()).into()],
        )
    }

    fn json_contains(&self, column: SimpleExpr, _ty: &FieldType, doc: &Json) -> SimpleExpr {
        template(
            "to_jsonb($1) @> CAST($2 AS jsonb)",
            vec![column, Expr::val(doc.to_string()).into()],
        )
    }

    fn json_contained(&self, column: SimpleExpr, _ty: &FieldType, doc: &Json) -> SimpleExpr {
        template(
            "to_jsonb($1) <@ CAST($2 AS jsonb)",
            vec![column, Expr::val(doc.to_string()).into()],
        )
    }
}

/// A SQL fragment with `$1`, `$2`, … standing for `exprs`.
fn template(sql: &str, exprs: Vec<SimpleExpr>) -> SimpleExpr {
    Expr::cust_with_exprs(sql, exprs)
}
