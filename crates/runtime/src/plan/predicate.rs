//! Conditions on rows, resolved: fields are references into the schema and values are
//! canonical values of the field's type. Filters, access rules, soft delete and `!inner`
//! embeds all become predicates; the renderer turns them into SQL for either engine.

use serde_json::Value as Json;
use tessera_schema::ir::{Field, Model, ScalarType};
use tessera_schema::Schema;

use super::names::{filterable_field, Link};
use super::values::{coerce, from_text, like_pattern, operand};
use crate::error::{Code, RuntimeError};
use crate::request::{split_array_literal, Condition, Deleted, FilterValue, Operator};

/// A comparison of a field with a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Comparison {
    Eq,
    Neq,
    Gt,
    Gte,
    Lt,
    Lte,
}

impl Comparison {
    /// Whether the comparison orders values (rather than testing equality).
    pub(crate) fn orders(self) -> bool {
        !matches!(self, Comparison::Eq | Comparison::Neq)
    }
}

#[derive(Debug, Clone)]
pub(crate) enum Predicate<'s> {
    Const(bool),
    /// SQL's unknown (`NULL`): a rule's comparison with an anonymous caller's id, which
    /// holds for no row, even negated.
    Unknown,
    Compare(&'s Field, Comparison, Json),
    In(&'s Field, Vec<Json>),
    IsNull(&'s Field),
    /// `IS TRUE` / `IS FALSE` (null is neither).
    Is(&'s Field, bool),
    /// An SQL LIKE pattern (`%`, `_`, backslash escapes).
    Like {
        field: &'s Field,
        pattern: String,
        case_insensitive: bool,
    },
    /// PostgreSQL's `@>` on a JSON or array field.
    Contains(&'s Field, Json),
    /// PostgreSQL's `<@` on a JSON or array field.
    ContainedIn(&'s Field, Json),
    /// Some row related through `link` matches `predicates` (an `!inner` embed).
    Related(Box<Related<'s>>),
    /// Some row of a model, unrelated to the outer row, matches the predicates (the
    /// caller's own account, for a rule over it).
    Exists(&'s Model, Vec<Predicate<'s>>),
    And(Vec<Predicate<'s>>),
    Or(Vec<Predicate<'s>>),
    Not(Box<Predicate<'s>>),
    /// The predicate does not hold: it is false or unknown (`IS NOT TRUE`), where `Not`
    /// keeps an unknown unknown.
    NotTrue(Box<Predicate<'s>>),
}

/// Rows of `model` attached to the outer row through `link`.
#[derive(Debug, Clone)]
pub(crate) struct Related<'s> {
    pub(crate) model: &'s Model,
    pub(crate) link: Link<'s>,
    pub(crate) predicates: Vec<Predicate<'s>>,
    /// Polymorphic targets: the outer row's type column must name `model`.
    pub(crate) parent_type: Option<(&'s Field, String)>,
}

impl<'s> Predicate<'s> {
    /// Which rows a read sees of a model with respect to soft delete; `None` for all.
    pub(crate) fn live(model: &'s Model, deleted: Deleted) -> Option<Predicate<'s>> {
        let field = model.field(model.behaviours.soft_delete.as_deref()?)?;
        match deleted {
            Deleted::Exclude => Some(Predicate::IsNull(field)),
            Deleted::Include => None,
            Deleted::Only => Some(Predicate::Not(Box::new(Predicate::IsNull(field)))),
        }
    }

    /// The rows whose primary key is one of `keys` (canonical values, in key order).
    pub(crate) fn keys(model: &'s Model, keys: &[Vec<Json>]) -> Predicate<'s> {
        let pk: Vec<&Field> = model.primary_key_fields().collect();
        if keys.is_empty() {
            return Predicate::Const(false);
        }
        if let [single] = pk.as_slice() {
            return Predicate::In(
                single,
                keys.iter().filter_map(|k| k.first().cloned()).collect(),
            );
        }
        Predicate::Or(
            keys.iter()
                .map(|key| {
                    Predicate::And(
                        pk.iter()
                            .zip(key)
                            .map(|(field, value)| {
                                Predicate::Compare(field, Comparison::Eq, value.clone())
                            })
                            .collect(),
                    )
                })
                .collect(),
        )
    }

    /// Whether a row given as (field, value) pairs satisfies the predicate, when that can
    /// be told from the row alone; `None` when it needs the database (related rows, JSON
    /// containment, patterns). The row is judged as the database judges it: a comparison
    /// with a null is unknown, `!` keeps it unknown, text compares exactly, and only a true
    /// predicate holds.
    pub(crate) fn holds_for(&self, row: &[(&Field, Json)]) -> Option<bool> {
        self.truth_for(row).map(|truth| truth == Some(true))
    }

    /// SQL's truth value of the predicate for the row (`Some(None)`: unknown); `None` when
    /// it needs the database.
    fn truth_for(&self, row: &[(&Field, Json)]) -> Option<Option<bool>> {
        let value = |field: &Field| {
            row.iter()
                .find(|(f, _)| f.name == field.name)
                .map_or(&Json::Null, |(_, v)| v)
        };
        Some(match self {
            Predicate::Const(b) => Some(*b),
            Predicate::Unknown => None,
            Predicate::Compare(field, Comparison::Eq, expected) => {
                let v = value(field);
                (!v.is_null()).then(|| same_value(field, v, expected))
            }
            Predicate::In(field, values) => {
                let v = value(field);
                (!v.is_null()).then(|| values.iter().any(|e| same_value(field, v, e)))
            }
            Predicate::IsNull(field) => Some(value(field).is_null()),
            Predicate::And(list) => {
                let mut all = Some(true);
                for p in list {
                    all = match (all, p.truth_for(row)?) {
                        (Some(false), _) | (_, Some(false)) => Some(false),
                        (Some(true), Some(true)) => Some(true),
                        _ => None,
                    };
                }
                all
            }
            Predicate::Or(list) => {
                let mut any = Some(false);
                for p in list {
                    any = match (any, p.truth_for(row)?) {
                        (Some(true), _) | (_, Some(true)) => Some(true),
                        (Some(false), Some(false)) => Some(false),
                        _ => None,
                    };
                }
                any
            }
            Predicate::Not(p) => p.truth_for(row)?.map(|b| !b),
            Predicate::NotTrue(p) => Some(p.truth_for(row)? != Some(true)),
            _ => return None,
        })
    }
}

impl<'s> Predicate<'s> {
    /// The predicate over rows whose fields read as null wherever the caller may not read
    /// them (`guard` gives, for a field with rules of its own, the rows where its value
    /// shows): a filter or an order on a hidden value judges the null the caller sees,
    /// never the value.
    pub(crate) fn guarded(
        self,
        guard: &impl Fn(&'s Field) -> Option<Predicate<'s>>,
    ) -> Predicate<'s> {
        let leaf = match self {
            Predicate::And(list) => {
                return Predicate::And(list.into_iter().map(|p| p.guarded(guard)).collect())
            }
            Predicate::Or(list) => {
                return Predicate::Or(list.into_iter().map(|p| p.guarded(guard)).collect())
            }
            Predicate::Not(p) => return Predicate::Not(Box::new(p.guarded(guard))),
            Predicate::NotTrue(p) => return Predicate::NotTrue(Box::new(p.guarded(guard))),
            leaf => leaf,
        };
        // What the leaf is on a null value.
        let (field, if_null) = match &leaf {
            Predicate::Compare(field, ..)
            | Predicate::In(field, _)
            | Predicate::Like { field, .. }
            | Predicate::Contains(field, _)
            | Predicate::ContainedIn(field, _) => (*field, Predicate::Unknown),
            Predicate::IsNull(field) => (*field, Predicate::Const(true)),
            Predicate::Is(field, _) => (*field, Predicate::Const(false)),
            _ => return leaf,
        };
        let Some(shown) = guard(field) else {
            return leaf;
        };
        match (shown, if_null) {
            (Predicate::Const(false), if_null) => if_null,
            (shown, Predicate::Const(false)) => Predicate::And(vec![shown, leaf]),
            (shown, if_null) => Predicate::Or(vec![
                Predicate::And(vec![shown.clone(), leaf]),
                Predicate::And(vec![Predicate::NotTrue(Box::new(shown)), if_null]),
            ]),
        }
    }
}

/// Canonical values of `field` compare as the database compares them: uuids without
/// regard to case, text exactly.
fn same_value(field: &Field, a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::String(x), Json::String(y)) if field.ty.scalar == ScalarType::Uuid => {
            x.eq_ignore_ascii_case(y)
        }
        _ => a == b,
    }
}

/// A request's condition on `model`, resolved.
pub(crate) fn condition<'s>(
    schema: &'s Schema,
    model: &'s Model,
    cond: &Condition,
) -> Result<Predicate<'s>, RuntimeError> {
    Ok(match cond {
        Condition::Filter(f) => {
            let field = filterable_field(model, &f.field)?;
            filter(schema, field, f.op, &f.value)?
        }
        Condition::And(list) => Predicate::And(
            list.iter()
                .map(|c| condition(schema, model, c))
                .collect::<Result<_, _>>()?,
        ),
        // No alternative holds: an empty disjunction is false.
        Condition::Or(list) => Predicate::Or(
            list.iter()
                .map(|c| condition(schema, model, c))
                .collect::<Result<_, _>>()?,
        ),
        Condition::Not(c) => Predicate::Not(Box::new(condition(schema, model, c)?)),
    })
}

/// `field=op.value`, with the operand converted to the field's type.
fn filter<'s>(
    schema: &'s Schema,
    field: &'s Field,
    op: Operator,
    value: &FilterValue,
) -> Result<Predicate<'s>, RuntimeError> {
    let text = || match value {
        FilterValue::Text(t) => Ok(t.as_str()),
        _ => Err(RuntimeError::parse(
            &field.name,
            format!("operator {} expects a value", op.name()),
        )),
    };
    let invalid = |message: String| {
        RuntimeError::bad_request(
            Code::InvalidText,
            format!("invalid value for {}: {message}", field.name),
        )
    };
    if op == Operator::Is {
        return Ok(match value {
            FilterValue::Null => Predicate::IsNull(field),
            FilterValue::True => Predicate::Is(field, true),
            FilterValue::False => Predicate::Is(field, false),
            _ => {
                return Err(RuntimeError::parse(
                    &field.name,
                    "is expects null, true or false",
                ))
            }
        });
    }
    let structured = field.ty.array || field.ty.scalar.is_json();
    if matches!(op, Operator::Cs | Operator::Cd) {
        if !structured {
            return Err(RuntimeError::bad_request(
                Code::OperatorMismatch,
                format!(
                    "operator {} applies to array and json fields; {} is {}",
                    op.name(),
                    field.name,
                    field.ty
                ),
            ));
        }
        let doc = structured_operand(schema, field, text()?).map_err(invalid)?;
        return Ok(if op == Operator::Cs {
            Predicate::Contains(field, doc)
        } else {
            Predicate::ContainedIn(field, doc)
        });
    }
    if structured {
        return Err(RuntimeError::bad_request(
            Code::OperatorMismatch,
            format!(
                "operator {} does not apply to {} ({}); use cs, cd or is",
                op.name(),
                field.name,
                field.ty
            ),
        ));
    }
    let comparison = match op {
        Operator::Eq => Some(Comparison::Eq),
        Operator::Neq => Some(Comparison::Neq),
        Operator::Gt => Some(Comparison::Gt),
        Operator::Gte => Some(Comparison::Gte),
        Operator::Lt => Some(Comparison::Lt),
        Operator::Lte => Some(Comparison::Lte),
        _ => None,
    };
    if let Some(comparison) = comparison {
        let v = operand(schema, field, text()?).map_err(invalid)?;
        return Ok(Predicate::Compare(field, comparison, v));
    }
    Ok(match op {
        Operator::In => {
            let FilterValue::List(items) = value else {
                return Err(RuntimeError::parse(
                    &field.name,
                    "in expects a list: in.(a,b)",
                ));
            };
            let values = items
                .iter()
                .map(|t| operand(schema, field, t).map_err(invalid))
                .collect::<Result<Vec<_>, _>>()?;
            Predicate::In(field, values)
        }
        Operator::Like | Operator::Ilike => Predicate::Like {
            field,
            pattern: like_pattern(text()?),
            case_insensitive: op == Operator::Ilike,
        },
        _ => {
            return Err(RuntimeError::internal(format!(
                "operator {} is handled above",
                op.name()
            )))
        }
    })
}

/// The JSON operand of cs/cd: JSON text, or a PostgreSQL array literal `{a,b}`.
fn structured_operand(schema: &Schema, field: &Field, text: &str) -> Result<Json, String> {
    let trimmed = text.trim();
    let json = if field.ty.array && trimmed.starts_with('{') {
        let inner = trimmed
            .strip_prefix('{')
            .and_then(|s| s.strip_suffix('}'))
            .ok_or_else(|| "unterminated array literal".to_owned())?;
        let items = split_array_literal(inner).map_err(|e| e.details.unwrap_or(e.message))?;
        Json::Array(
            items
                .iter()
                .map(|item| from_text(&field.ty.scalar, item))
                .collect(),
        )
    } else {
        serde_json::from_str(trimmed).map_err(|e| format!("not JSON: {e}"))?
    };
    if field.ty.array {
        coerce(schema, field, &json).map_err(|(_, m)| m)
    } else {
        Ok(json)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Schema {
        tessera_schema::check_source(
            "t.tsr",
            "model t {\n  n int\n  name text?\n  tags text[]\n}\n",
        )
        .expect("checks")
        .schema
    }

    fn parse<'s>(
        schema: &'s Schema,
        field: &str,
        op: Operator,
        value: FilterValue,
    ) -> Result<Predicate<'s>, RuntimeError> {
        let model = &schema.models[0];
        condition(
            schema,
            model,
            &Condition::Filter(crate::request::Filter {
                field: field.into(),
                op,
                value,
            }),
        )
    }

    #[test]
    fn operands_take_the_field_type() {
        let schema = schema();
        let p = parse(&schema, "n", Operator::Gt, FilterValue::Text("7".into())).expect("plans");
        assert!(
            matches!(p, Predicate::Compare(f, Comparison::Gt, ref v) if f.name == "n" && *v == json!(7))
        );
    }

    #[test]
    fn a_malformed_operand_is_22p02() {
        let schema = schema();
        let e = parse(
            &schema,
            "n",
            Operator::Eq,
            FilterValue::Text("seven".into()),
        )
        .expect_err("refused");
        assert_eq!(e.code, "22P02");
    }

    #[test]
    fn ordering_operators_do_not_apply_to_arrays() {
        let schema = schema();
        let e = parse(&schema, "tags", Operator::Gt, FilterValue::Text("a".into()))
            .expect_err("refused");
        assert_eq!(e.code, "42883");
    }

    #[test]
    fn array_literals_are_containment_operands() {
        let schema = schema();
        let p = parse(
            &schema,
            "tags",
            Operator::Cs,
            FilterValue::Text("{a,\"b,c\"}".into()),
        )
        .expect("plans");
        assert!(matches!(p, Predicate::Contains(_, ref doc) if *doc == json!(["a", "b,c"])));
    }

    #[test]
    fn rows_are_checked_in_memory_where_they_can_be() {
        let schema = schema();
        let n = schema.models[0].field("n").expect("n");
        let p = Predicate::Or(vec![Predicate::Compare(n, Comparison::Eq, json!(1))]);
        assert_eq!(p.holds_for(&[(n, json!(1))]), Some(true));
        assert_eq!(p.holds_for(&[(n, json!(2))]), Some(false));
        assert_eq!(Predicate::Or(vec![]).holds_for(&[]), Some(false));
        let like = Predicate::Like {
            field: n,
            pattern: "%".into(),
            case_insensitive: false,
        };
        assert_eq!(like.holds_for(&[(n, json!(1))]), None);
    }

    /// A create's row is judged in memory as the database would judge it: a comparison
    /// with a null is unknown under `!` too, and text compares exactly.
    #[test]
    fn rows_are_judged_in_memory_as_the_database_judges_them() {
        let schema = schema();
        let name = schema.models[0].field("name").expect("name");
        let not_billing = Predicate::Not(Box::new(Predicate::Compare(
            name,
            Comparison::Eq,
            json!("billing"),
        )));
        assert_eq!(not_billing.holds_for(&[(name, Json::Null)]), Some(false));
        assert_eq!(not_billing.holds_for(&[(name, json!("ui"))]), Some(true));
        let either = Predicate::Or(vec![not_billing, Predicate::Const(true)]);
        assert_eq!(either.holds_for(&[(name, Json::Null)]), Some(true));
        let open = Predicate::In(name, vec![json!("public")]);
        assert_eq!(open.holds_for(&[(name, json!("Public"))]), Some(false));
        assert_eq!(open.holds_for(&[(name, json!("public"))]), Some(true));
        let exact = Predicate::Compare(name, Comparison::Eq, json!("public"));
        assert_eq!(exact.holds_for(&[(name, json!("PUBLIC"))]), Some(false));
    }
}
