//! SQLite 3.37+: the embedded default. Types it lacks (uuid, arrays, JSON, booleans,
//! enums) are stored as text or integers and checked by the schema's CHECKs; the query
//! half below makes them behave as PostgreSQL's do.

use sea_query::{Cond, Expr, IntoCondition, QueryBuilder, SimpleExpr, SqliteQueryBuilder, Value};
use serde_json::Value as Json;
use tessera_schema::ir::{FieldType, ScalarType};

use super::{Dialect, DialectKind};
use crate::decimal;
use crate::quote::literal;
use crate::value::decode_hex;

/// SQLite 3.37+: the embedded default.
#[derive(Debug, Clone, Copy)]
pub struct Sqlite;

/// A random version 4 uuid in SQLite, lowercase, `xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx`.
const SQLITE_UUID_V4: &str =
    "(lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || \
substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || \
substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6))))";

impl Dialect for Sqlite {
    fn kind(&self) -> DialectKind {
        DialectKind::Sqlite
    }
    fn supports_enum_types(&self) -> bool {
        false
    }
    fn supports_arrays(&self) -> bool {
        false
    }
    fn supports_native_uuid(&self) -> bool {
        false
    }
    fn supports_native_json(&self) -> bool {
        false
    }
    fn supports_native_bool(&self) -> bool {
        false
    }
    fn supports_native_decimal(&self) -> bool {
        false
    }
    fn supports_varchar_length(&self) -> bool {
        false
    }
    fn supports_identity_columns(&self) -> bool {
        false
    }
    fn supports_alter_table(&self) -> bool {
        false
    }
    fn supports_forward_references(&self) -> bool {
        true
    }

    fn scalar_type(&self, scalar: &ScalarType, _enum_type: Option<&str>) -> String {
        match scalar {
            ScalarType::SmallInt
            | ScalarType::Int
            | ScalarType::BigInt
            | ScalarType::Serial
            | ScalarType::BigSerial
            | ScalarType::Bool => "INTEGER",
            // TEXT affinity (the name contains TEXT): the canonical text is kept as it
            // is, where NUMERIC affinity would turn it into a float.
            ScalarType::Decimal(None) => "DECIMAL_TEXT",
            ScalarType::Decimal(Some((p, s))) => return format!("DECIMAL_TEXT({p}, {s})"),
            ScalarType::Float => "REAL",
            ScalarType::Bytes => "BLOB",
            ScalarType::Uuid
            | ScalarType::Text
            | ScalarType::Varchar(_)
            | ScalarType::Date
            | ScalarType::Time
            | ScalarType::Timestamp
            | ScalarType::Timestamptz
            | ScalarType::Json
            | ScalarType::Jsonb
            | ScalarType::Enum(_) => "TEXT",
        }
        .to_owned()
    }

    fn now_expr(&self, scalar: &ScalarType) -> String {
        let format = match scalar {
            ScalarType::Date => "%Y-%m-%d",
            ScalarType::Time => "%H:%M:%f",
            ScalarType::Timestamp => "%Y-%m-%dT%H:%M:%f",
            _ => "%Y-%m-%dT%H:%M:%fZ",
        };
        format!("(strftime({}, 'now'))", literal(format))
    }

    fn uuid_expr(&self) -> String {
        SQLITE_UUID_V4.to_owned()
    }

    fn bool_literal(&self, value: bool) -> String {
        if value { "1" } else { "0" }.to_owned()
    }

    fn query_builder(&self) -> &'static dyn QueryBuilder {
        &SqliteQueryBuilder
    }

    fn supports_row_locks(&self) -> bool {
        // One writer at a time: a write transaction (BEGIN IMMEDIATE) holds the database.
        false
    }

    fn requires_limit_with_offset(&self) -> bool {
        true
    }

    fn bind(&self, scalar: &ScalarType, value: &Json) -> Value {
        if value.is_null() {
            return match scalar {
                _ if scalar.is_integer() => Value::BigInt(None),
                ScalarType::Float => Value::Double(None),
                ScalarType::Bool => Value::Bool(None),
                ScalarType::Bytes => Value::Bytes(None),
                _ => Value::String(None),
            };
        }
        match scalar {
            _ if scalar.is_integer() => Value::BigInt(value.as_i64()),
            ScalarType::Decimal(_) => Value::String(decimal::json_text(value).map(Box::new)),
            ScalarType::Float => Value::Double(value.as_f64()),
            ScalarType::Bool => Value::Bool(value.as_bool()),
            ScalarType::Json | ScalarType::Jsonb => {
                Value::String(Some(Box::new(value.to_string())))
            }
            ScalarType::Bytes => Value::Bytes(value.as_str().and_then(decode_hex).map(Box::new)),
            _ => Value::String(Some(Box::new(crate::value::text_of(value)))),
        }
    }

    fn value(&self, ty: &FieldType, _type_name: Option<&str>, value: &Json) -> SimpleExpr {
        if ty.array {
            // Arrays are stored as their JSON text.
            return match value {
                Json::Null => Expr::val(Value::String(None)).into(),
                _ => Expr::val(value.to_string()).into(),
            };
        }
        Expr::val(self.bind(&ty.scalar, value)).into()
    }

    fn read_column(&self, column: SimpleExpr, _ty: &FieldType) -> SimpleExpr {
        column
    }

    fn sort_key(&self, expr: SimpleExpr, scalar: &ScalarType) -> SimpleExpr {
        // SQLite compares text by its bytes already; decimal text by value through the
        // collation.
        self.equality_key(expr, scalar)
    }

    fn equality_key(&self, expr: SimpleExpr, scalar: &ScalarType) -> SimpleExpr {
        match scalar {
            ScalarType::Decimal(_) => template(
                &format!("? COLLATE {}", decimal::SQLITE_COLLATION),
                vec![expr],
            ),
            _ => expr,
        }
    }

    fn as_text(&self, column: SimpleExpr, _scalar: &ScalarType) -> SimpleExpr {
        column
    }

    fn like(&self, text: SimpleExpr, pattern: &str, case_insensitive: bool) -> SimpleExpr {
        if case_insensitive {
            template(
                "lower(?) LIKE lower(?) ESCAPE '\\'",
                vec![text, Expr::val(pattern.to_owned()).into()],
            )
        } else {
            // LIKE ignores case in SQLite; GLOB does not.
            Expr::expr(text).binary(
                sea_query::BinOper::Custom("GLOB"),
                Expr::val(glob_pattern(pattern)),
            )
        }
    }

    fn json_contains(&self, column: SimpleExpr, _ty: &FieldType, doc: &Json) -> SimpleExpr {
        Containment::default().contains(column, "$", doc)
    }

    fn json_contained(&self, column: SimpleExpr, _ty: &FieldType, doc: &Json) -> SimpleExpr {
        Containment::default().contained(column, doc)
    }
}

impl Sqlite {
    /// An SQL expression turning the stored value of decimal column `column` (an
    /// identifier, quoted) into the canonical text of a `decimal(p, s)` with `limits`,
    /// whatever it was stored as: an integer gets the scale's zeros, text is padded to
    /// the scale exactly, a float (what a NUMERIC column made of a decimal) is printed to
    /// the scale. Text with more decimal places than the scale (a narrowing, which the
    /// migrator applies only when allowed to lose data) and floats are rounded through
    /// `printf`, exact to about 15 significant digits. Idempotent on canonical text. The migrator copies decimal
    /// columns through it whenever it rebuilds a table.
    pub fn decimal_from_stored(column: &str, limits: Option<(u32, u32)>) -> String {
        let c = column;
        let Some((_, scale)) = limits else {
            return format!(
                "CASE typeof({c}) WHEN 'integer' THEN CAST({c} AS TEXT) WHEN 'real' THEN CAST({c} AS TEXT) ELSE {c} END"
            );
        };
        let printf = format!("printf('%.{scale}f', {c})");
        let (integer, text) = if scale == 0 {
            (
                format!("CAST({c} AS TEXT)"),
                format!("CASE WHEN instr({c}, '.') = 0 THEN {c} WHEN rtrim(rtrim({c}, '0'), '.') NOT LIKE '%.%' THEN rtrim(rtrim({c}, '0'), '.') ELSE {printf} END"),
            )
        } else {
            let zeros = "0".repeat(scale as usize);
            // The text without the zeros that end its fraction (and without a bare point).
            let t = format!(
                "(CASE WHEN instr({c}, '.') > 0 THEN rtrim(rtrim({c}, '0'), '.') ELSE {c} END)"
            );
            (
                format!("CAST({c} AS TEXT) || '.{zeros}'"),
                format!(
                    "CASE WHEN instr({t}, '.') = 0 THEN {t} || '.{zeros}' \
                     WHEN length({t}) - instr({t}, '.') <= {scale} THEN {t} || substr('{zeros}', 1, {scale} - (length({t}) - instr({t}, '.'))) \
                     ELSE {printf} END"
                ),
            )
        };
        format!(
            "CASE typeof({c}) WHEN 'integer' THEN {integer} WHEN 'real' THEN {printf} WHEN 'text' THEN {text} ELSE {c} END"
        )
    }
}

/// A LIKE pattern (`%`, `_`, backslash escapes) as a GLOB pattern (`*`, `?`, brackets).
fn glob_pattern(like: &str) -> String {
    let mut out = String::with_capacity(like.len());
    let mut chars = like.chars();
    while let Some(c) = chars.next() {
        match c {
            '%' => out.push('*'),
            '_' => out.push('?'),
            '\\' => match chars.next() {
                Some(escaped) => push_glob_literal(&mut out, escaped),
                None => push_glob_literal(&mut out, '\\'),
            },
            c => push_glob_literal(&mut out, c),
        }
    }
    out
}

fn push_glob_literal(out: &mut String, c: char) {
    match c {
        '*' | '?' | '[' => {
            out.push('[');
            out.push(c);
            out.push(']');
        }
        c => out.push(c),
    }
}

/// A SQL fragment with `?` standing for each of `exprs`, in order.
fn template(sql: &str, exprs: Vec<SimpleExpr>) -> SimpleExpr {
    Expr::cust_with_exprs(sql, exprs)
}

fn all(cond: Cond) -> SimpleExpr {
    let cond = cond.into_condition();
    if cond.is_empty() {
        return Expr::cust("1 = 1");
    }
    SimpleExpr::from(cond)
}

/// PostgreSQL's `@>` and `<@` over JSON text, with `json_each` and `json_type`; each
/// `json_each` gets an alias of its own.
#[derive(Default)]
struct Containment {
    aliases: usize,
}

/// `json_type` values and the SQL value of a JSON scalar.
fn scalar_json_type(v: &Json) -> (&'static str, Option<Value>) {
    match v {
        Json::Null => ("'null'", None),
        Json::Bool(true) => ("'true'", None),
        Json::Bool(false) => ("'false'", None),
        Json::Number(n) => (
            "'integer', 'real'",
            Some(match n.as_i64() {
                Some(i) => Value::BigInt(Some(i)),
                None => Value::Double(n.as_f64()),
            }),
        ),
        Json::String(s) => ("'text'", Some(Value::String(Some(Box::new(s.clone()))))),
        _ => ("'object', 'array'", None),
    }
}

impl Containment {
    fn alias(&mut self) -> String {
        self.aliases += 1;
        format!("je{}", self.aliases)
    }

    fn json_type_is(&self, doc: SimpleExpr, path: &str, ty: &str) -> SimpleExpr {
        template(
            &format!("json_type(?, ?) = {}", literal(ty)),
            vec![doc, Expr::val(path.to_owned()).into()],
        )
    }

    /// `doc` at `path` contains `v`.
    fn contains(&mut self, doc: SimpleExpr, path: &str, v: &Json) -> SimpleExpr {
        match v {
            Json::Object(map) => {
                let mut cond = Cond::all().add(self.json_type_is(doc.clone(), path, "object"));
                for (k, vk) in map {
                    let key = k.replace('\\', "\\\\").replace('"', "\\\"");
                    cond = cond.add(self.contains(doc.clone(), &format!("{path}.\"{key}\""), vk));
                }
                all(cond)
            }
            Json::Array(items) => {
                let mut cond = Cond::all().add(self.json_type_is(doc.clone(), path, "array"));
                for item in items {
                    let je = self.alias();
                    let matched = self.element_matches(&je, item, true);
                    cond = cond.add(template(
                        &format!("EXISTS (SELECT 1 FROM json_each(?, ?) AS {je} WHERE ?)"),
                        vec![doc.clone(), Expr::val(path.to_owned()).into(), matched],
                    ));
                }
                all(cond)
            }
            scalar => {
                let (types, value) = scalar_json_type(scalar);
                let mut cond = Cond::all().add(template(
                    &format!("json_type(?, ?) IN ({types})"),
                    vec![doc.clone(), Expr::val(path.to_owned()).into()],
                ));
                if let Some(value) = value {
                    cond = cond.add(template(
                        "json_extract(?, ?) = ?",
                        vec![
                            doc,
                            Expr::val(path.to_owned()).into(),
                            Expr::val(value).into(),
                        ],
                    ));
                }
                all(cond)
            }
        }
    }

    /// Whether the `json_each` row `je` matches `item`: containment for nested documents
    /// when `nested_contains`, equality otherwise.
    fn element_matches(&mut self, je: &str, item: &Json, nested_contains: bool) -> SimpleExpr {
        match item {
            Json::Object(_) | Json::Array(_) => {
                let ty = if item.is_object() { "object" } else { "array" };
                if nested_contains {
                    let inner = self.contains(Expr::cust(format!("{je}.value")), "$", item);
                    template(&format!("{je}.type = '{ty}' AND ?"), vec![inner])
                } else {
                    template(
                        &format!("{je}.type = '{ty}' AND json({je}.value) = json(?)"),
                        vec![Expr::val(item.to_string()).into()],
                    )
                }
            }
            scalar => {
                let (types, value) = scalar_json_type(scalar);
                match value {
                    Some(value) => template(
                        &format!("{je}.type IN ({types}) AND {je}.value = ?"),
                        vec![Expr::val(value).into()],
                    ),
                    None => Expr::cust(format!("{je}.type IN ({types})")),
                }
            }
        }
    }

    /// `doc` is contained in `v`: every element (array) or member (object) of the stored
    /// document appears in `v`; nested documents compare for equality.
    fn contained(&mut self, doc: SimpleExpr, v: &Json) -> SimpleExpr {
        let je = self.alias();
        let (shape, alternatives) = match v {
            Json::Array(items) => (
                "array",
                items
                    .iter()
                    .map(|item| self.element_matches(&je, item, false))
                    .collect::<Vec<_>>(),
            ),
            Json::Object(map) => (
                "object",
                map.iter()
                    .map(|(k, vk)| {
                        let m = self.element_matches(&je, vk, false);
                        template(
                            &format!("{je}.key = ? AND ?"),
                            vec![Expr::val(k.clone()).into(), m],
                        )
                    })
                    .collect(),
            ),
            scalar => {
                let (types, value) = scalar_json_type(scalar);
                let mut cond = Cond::all().add(template(
                    &format!("json_type(?) IN ({types})"),
                    vec![doc.clone()],
                ));
                if let Some(value) = value {
                    cond = cond.add(template(
                        "json_extract(?, '$') = ?",
                        vec![doc, Expr::val(value).into()],
                    ));
                }
                return all(cond);
            }
        };
        let matched = if alternatives.is_empty() {
            Expr::cust("1 = 0")
        } else {
            all(alternatives
                .into_iter()
                .fold(Cond::any(), |any, alternative| any.add(alternative)))
        };
        template(
            &format!(
                "json_type(?) = '{shape}' AND NOT EXISTS (SELECT 1 FROM json_each(?) AS {je} WHERE NOT (?))"
            ),
            vec![doc.clone(), doc, matched],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_become_glob_patterns() {
        assert_eq!(glob_pattern("a%b_c"), "a*b?c");
        assert_eq!(glob_pattern("[x]*?"), "[[]x][*][?]");
        assert_eq!(glob_pattern("100\\%"), "100%");
    }
}
