//! Valid sample rows for any model, derived from the schema alone: required fields filled
//! with values that pass the field's type and validations, foreign keys pointing at rows
//! created before. Lets one test create, read, update and delete every model of an app.

use std::collections::HashMap;

use serde_json::{json, Map, Value};
use tessera_schema::ir::{Field, Model, RelationKind, Rule, ScalarType, Schema};

/// Models in an order where every required to-one relation points at an earlier model.
/// Models caught in a cycle of required relations come last, in schema order.
pub fn creation_order(schema: &Schema) -> Vec<&Model> {
    let mut done: Vec<&Model> = Vec::new();
    let mut remaining: Vec<&Model> = schema.models.iter().collect();
    while !remaining.is_empty() {
        let before = remaining.len();
        remaining.retain(|model| {
            let ready = required_targets(model)
                .iter()
                .all(|target| target == &model.name || done.iter().any(|m| &m.name == target));
            if ready {
                done.push(model);
            }
            !ready
        });
        if remaining.len() == before {
            done.append(&mut remaining);
        }
    }
    done
}

fn required_targets(model: &Model) -> Vec<String> {
    model
        .relations
        .iter()
        .filter_map(|r| match &r.kind {
            RelationKind::ToOne { target, field, .. } => {
                let required = model.field(field).is_some_and(|f| !f.nullable);
                required.then(|| target.clone())
            }
            RelationKind::Polymorphic {
                targets, id_field, ..
            } => {
                let required = model.field(id_field).is_some_and(|f| !f.nullable);
                required.then(|| targets[0].clone())
            }
            _ => None,
        })
        .collect()
}

/// Whether a client supplies this field when creating a row.
fn client_writes(model: &Model, field: &Field) -> bool {
    field.is_stored()
        && field.managed.is_none()
        && field.default.is_none()
        && !field.ty.scalar.is_auto_increment()
        && !(field.implicit && field.relation.is_none() && model.primary_key.contains(&field.name))
}

/// A row of `model` with every required field set. `n` makes unique values unique;
/// `created` maps model names to the key of a row created earlier.
pub fn sample_row(
    schema: &Schema,
    model: &Model,
    n: usize,
    created: &HashMap<String, Value>,
) -> Map<String, Value> {
    let mut row = Map::new();
    for relation in &model.relations {
        match &relation.kind {
            RelationKind::ToOne {
                target,
                field,
                references,
                ..
            } => {
                let Some(fk) = model.field(field) else {
                    continue;
                };
                if fk.nullable && !model.primary_key.contains(field) {
                    continue;
                }
                if let Some(parent) = created.get(target) {
                    let value = parent.get(references).cloned().unwrap_or(Value::Null);
                    row.insert(fk.column.clone(), value);
                }
            }
            RelationKind::Polymorphic {
                targets,
                type_field,
                id_field,
                ..
            } => {
                let Some(id) = model.field(id_field) else {
                    continue;
                };
                if id.nullable {
                    continue;
                }
                if let (Some(parent), Some(type_field)) =
                    (created.get(&targets[0]), model.field(type_field))
                {
                    let key = schema
                        .model(&targets[0])
                        .and_then(|t| t.primary_key.first().cloned())
                        .unwrap_or_default();
                    row.insert(type_field.column.clone(), json!(targets[0]));
                    row.insert(
                        id.column.clone(),
                        parent.get(&key).cloned().unwrap_or(Value::Null),
                    );
                }
            }
            _ => {}
        }
    }
    for field in &model.fields {
        if row.contains_key(&field.column) || !client_writes(model, field) {
            continue;
        }
        if field.nullable && !model.primary_key.contains(&field.name) {
            continue;
        }
        if field.relation.is_some() {
            continue;
        }
        row.insert(field.column.clone(), sample_value(schema, field, n));
    }
    row
}

/// A value for `field` that passes its type and validations.
pub fn sample_value(schema: &Schema, field: &Field, n: usize) -> Value {
    let element = scalar_value(schema, field, n);
    if field.ty.array {
        Value::Array(vec![element])
    } else {
        element
    }
}

fn scalar_value(schema: &Schema, field: &Field, n: usize) -> Value {
    let rules: Vec<&Rule> = field.validations.iter().map(|v| &v.rule).collect();
    match &field.ty.scalar {
        ScalarType::Uuid => json!(format!("00000000-0000-4000-8000-{n:012}")),
        ScalarType::Text | ScalarType::Varchar(_) => json!(text_value(field, &rules, n)),
        s if s.is_integer() => {
            // Different for each `n` (unique keys such as `(document, version)`), within
            // the field's range.
            let min = rules.iter().find_map(|r| match r {
                Rule::Min { value } => Some(value.ceil() as i64),
                _ => None,
            });
            let max = rules.iter().find_map(|r| match r {
                Rule::Max { value } => Some(value.floor() as i64),
                _ => None,
            });
            let n = n as i64;
            json!(match (min, max) {
                (Some(lo), Some(hi)) => lo + n % (hi - lo + 1),
                (Some(lo), None) => lo + n % 1000,
                (None, Some(hi)) => hi - n % 1000,
                (None, None) => 1 + n % 1000,
            })
        }
        ScalarType::Decimal(_) | ScalarType::Float => {
            let min = rules.iter().find_map(|r| match r {
                Rule::Min { value } => Some(*value),
                _ => None,
            });
            let max = rules.iter().find_map(|r| match r {
                Rule::Max { value } => Some(*value),
                _ => None,
            });
            json!(match (min, max) {
                (Some(lo), Some(hi)) => (lo + hi) / 2.0,
                (Some(lo), None) => lo + 0.5,
                (None, Some(hi)) => hi - 0.5,
                (None, None) => 0.5,
            })
        }
        ScalarType::Bool => json!(true),
        ScalarType::Date => json!(format!(
            "{:04}-{:02}-{:02}",
            2024 + n / 336,
            1 + (n / 28) % 12,
            1 + n % 28
        )),
        ScalarType::Time => json!("03:04:05.000"),
        ScalarType::Timestamp => json!(format!("2024-01-02T03:04:{:02}.000", n % 60)),
        ScalarType::Timestamptz => json!(format!("2024-01-02T03:04:{:02}.000Z", n % 60)),
        ScalarType::Json | ScalarType::Jsonb => json!({ "sample": n }),
        ScalarType::Bytes => json!(format!("\\x01{n:08x}")),
        ScalarType::Enum(name) => schema
            .enum_by_name(name)
            .and_then(|e| e.values.first())
            .map_or(Value::Null, |v| json!(v.name)),
        _ => Value::Null,
    }
}

fn text_value(field: &Field, rules: &[&Rule], n: usize) -> String {
    if rules.iter().any(|r| matches!(r, Rule::Email)) {
        return format!("user{n}@example.com");
    }
    if rules.iter().any(|r| matches!(r, Rule::Url)) {
        return format!("https://example.com/{n}");
    }
    if let Some(values) = rules.iter().find_map(|r| match r {
        Rule::OneOf { values } => Some(values),
        _ => None,
    }) {
        return values.first().cloned().unwrap_or_default();
    }
    let candidates = [
        format!("{}-{n}", field.name.replace('_', "-")),
        format!("value{n}"),
        format!("https://example.com/{n}"),
        format!("{n}"),
        "A".repeat(1 + n % 5),
    ];
    let pattern = rules.iter().find_map(|r| match r {
        Rule::Pattern { regex } => regex::Regex::new(regex).ok(),
        _ => None,
    });
    let (min, max) = rules
        .iter()
        .find_map(|r| match r {
            Rule::Length { min, max } => Some((min.unwrap_or(0), max.unwrap_or(u64::MAX))),
            _ => None,
        })
        .unwrap_or((0, u64::MAX));
    let max_len = match field.ty.scalar {
        ScalarType::Varchar(n) => max.min(n as u64),
        _ => max,
    };
    candidates
        .into_iter()
        .map(|c| {
            let mut c = c;
            while (c.chars().count() as u64) < min.max(1) {
                c.push('x');
            }
            c.chars().take(max_len as usize).collect::<String>()
        })
        .find(|c| pattern.as_ref().is_none_or(|p| p.is_match(c)))
        .unwrap_or_else(|| format!("value{n}"))
}

/// [`sample_row`] with every optional to-one relation also pointing at the row created
/// earlier for its target (when there is one), so that reads can embed it.
pub fn linked_row(
    schema: &Schema,
    model: &Model,
    n: usize,
    created: &HashMap<String, Value>,
) -> Map<String, Value> {
    let mut row = sample_row(schema, model, n, created);
    for relation in &model.relations {
        match &relation.kind {
            RelationKind::ToOne {
                target,
                field,
                references,
                ..
            } => {
                let Some(fk) = model.field(field) else {
                    continue;
                };
                if row.contains_key(&fk.column) || fk.managed.is_some() {
                    continue;
                }
                if let Some(value) = created
                    .get(target)
                    .and_then(|parent| parent.get(references))
                {
                    row.insert(fk.column.clone(), value.clone());
                }
            }
            RelationKind::Polymorphic {
                targets,
                type_field,
                id_field,
                ..
            } => {
                let (Some(type_field), Some(id)) = (model.field(type_field), model.field(id_field))
                else {
                    continue;
                };
                if row.contains_key(&id.column) {
                    continue;
                }
                let Some((target, parent)) =
                    targets.iter().find_map(|t| created.get(t).map(|p| (t, p)))
                else {
                    continue;
                };
                let key = schema
                    .model(target)
                    .and_then(|t| t.primary_key.first().cloned())
                    .unwrap_or_default();
                if let Some(value) = parent.get(&key) {
                    row.insert(type_field.column.clone(), json!(target));
                    row.insert(id.column.clone(), value.clone());
                }
            }
            _ => {}
        }
    }
    row
}

/// A field a client may change with `PATCH` and a valid new value for it, differing from
/// `current`: plain fields first (text, numbers, booleans, then the rest), never keys,
/// foreign keys, managed, computed, read-only or hashed fields.
pub fn patchable(
    schema: &Schema,
    model: &Model,
    current: &Value,
    n: usize,
) -> Option<(String, Value)> {
    let rank = |field: &Field| match &field.ty.scalar {
        _ if field.ty.array => 5,
        ScalarType::Text | ScalarType::Varchar(_) => 0,
        s if s.is_integer() => 1,
        ScalarType::Bool => 2,
        ScalarType::Decimal(_) | ScalarType::Float => 3,
        _ => 4,
    };
    let mut fields: Vec<&Field> = model
        .fields
        .iter()
        .filter(|f| {
            f.is_stored()
                && f.managed.is_none()
                && f.computed.is_none()
                && !f.readonly
                && f.hash.is_none()
                && !f.secret
                && f.relation.is_none()
                && !f.ty.scalar.is_auto_increment()
                && !model.primary_key.contains(&f.name)
                && !model.relations.iter().any(|r| match &r.kind {
                    RelationKind::ToOne { field, .. } => field == &f.name,
                    RelationKind::Polymorphic {
                        type_field,
                        id_field,
                        role_field,
                        ..
                    } => {
                        type_field == &f.name
                            || id_field == &f.name
                            || role_field.as_ref() == Some(&f.name)
                    }
                    _ => false,
                })
                && model
                    .behaviours
                    .environment
                    .as_ref()
                    .is_none_or(|e| e.field != f.name)
        })
        .collect();
    fields.sort_by_key(|f| rank(f));
    for field in fields {
        let old = current.get(&field.column).cloned().unwrap_or(Value::Null);
        let mut candidates = vec![
            sample_value(schema, field, n + 1000),
            sample_value(schema, field, n + 2000),
        ];
        match &field.ty.scalar {
            ScalarType::Bool if !field.ty.array => {
                candidates.push(json!(!old.as_bool().unwrap_or(false)))
            }
            ScalarType::Enum(name) if !field.ty.array => {
                if let Some(e) = schema.enum_by_name(name) {
                    candidates.extend(e.values.iter().map(|v| json!(v.name)));
                }
            }
            _ => {}
        }
        for rule in &field.validations {
            if let Rule::OneOf { values } = &rule.rule {
                candidates.extend(values.iter().map(|v| json!(v)));
            }
        }
        if let Some(value) = candidates.into_iter().find(|c| c != &old && !c.is_null()) {
            return Some((field.column.clone(), value));
        }
    }
    None
}
