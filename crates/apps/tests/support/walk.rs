//! The round trip every model of an app must survive through the HTTP API: create a valid
//! row (parents first), read it back with every relation embedded, update one field, and
//! delete it by key (a soft-deleted row disappears from reads).

use std::collections::HashMap;

use serde_json::Value;
use tessera_schema::ir::{Model, RelationKind, Schema};
use tessera_testkit::Database;

use super::rows::{creation_order, linked_row, patchable};
use super::server::{enc, AppServer};

/// `col=eq.value&…` selecting `row` by its primary key.
pub fn key_filter(model: &Model, row: &Value) -> String {
    model
        .primary_key_fields()
        .map(|f| format!("{}=eq.{}", f.column, enc(&scalar_text(&row[&f.column]))))
        .collect::<Vec<_>>()
        .join("&")
}

/// A JSON scalar as it is written in a filter.
pub fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `*,rel1(*),rel2(*),…` over every embeddable relation of `model` (all but polymorphic
/// to-one relations, which the API embeds from the owning side only).
pub fn select_all_relations(model: &Model) -> String {
    let mut select = vec!["*".to_string()];
    for relation in &model.relations {
        if !matches!(relation.kind, RelationKind::Polymorphic { .. }) {
            select.push(format!("{}(*)", relation.name));
        }
    }
    select.join(",")
}

/// Serves `app` on `db` and walks every model; fails listing every failed step.
pub async fn assert_every_model_round_trips(app: &str, db: &Database) {
    let server = AppServer::start(app, db).await;
    let failures = walk_every_model(&server).await;
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Walks every model of the app served by `server`; returns one line per failure, each
/// naming the model and the step.
pub async fn walk_every_model(server: &AppServer) -> Vec<String> {
    let schema: &Schema = &server.schema;
    let order = creation_order(schema);
    let mut failures = Vec::new();
    let mut created: HashMap<String, Value> = HashMap::new();

    // Create, parents first.
    for (n, model) in order.iter().enumerate() {
        let body = Value::Object(linked_row(schema, model, n + 1, &created));
        let response = server
            .post(&format!("/rest/v1/{}", model.name), body.clone())
            .await;
        if response.status != 201 || response.rows().len() != 1 {
            failures.push(format!(
                "{}: create {body} answered {} {}",
                model.name, response.status, response.body
            ));
            continue;
        }
        created.insert(model.name.clone(), response.row().clone());
    }

    // Read back with every relation embedded.
    for model in &order {
        let Some(row) = created.get(&model.name) else {
            continue;
        };
        let path = format!(
            "/rest/v1/{}?select={}&{}",
            model.name,
            select_all_relations(model),
            key_filter(model, row)
        );
        let response = server.get(&path).await;
        if response.status != 200 || response.rows().len() != 1 {
            failures.push(format!(
                "{}: read {path} answered {} {}",
                model.name, response.status, response.body
            ));
            continue;
        }
        let read = response.row();
        for relation in &model.relations {
            let embedded = &read[&relation.name];
            let problem = match &relation.kind {
                RelationKind::ToOne {
                    field, references, ..
                } => {
                    let column = &model
                        .field(field)
                        .map(|f| f.column.clone())
                        .unwrap_or_default();
                    let fk = &row[column];
                    if fk.is_null() {
                        (!embedded.is_null()).then(|| format!("expected null, got {embedded}"))
                    } else {
                        let target_ref = embedded.get(references).or_else(|| {
                            embedded.as_object().and_then(|_| {
                                let target = match &relation.kind {
                                    RelationKind::ToOne { target, .. } => schema.model(target),
                                    _ => None,
                                };
                                target
                                    .and_then(|t| t.field(references))
                                    .and_then(|f| embedded.get(&f.column))
                            })
                        });
                        (target_ref != Some(fk)).then(|| {
                            format!("expected the row with {references} = {fk}, got {embedded}")
                        })
                    }
                }
                RelationKind::ToMany { target, via, role } => {
                    let child_points_here = child_points_at(
                        schema,
                        target,
                        via,
                        role.as_deref(),
                        created.get(target),
                        model,
                        row,
                    );
                    let ok = match embedded {
                        Value::Array(items) => !child_points_here || !items.is_empty(),
                        Value::Object(_) => true,
                        Value::Null => !child_points_here,
                        _ => false,
                    };
                    (!ok).then(|| {
                        format!("expected the {target} row created for it, got {embedded}")
                    })
                }
                RelationKind::ManyToMany { .. } => {
                    (!embedded.is_array()).then(|| format!("expected an array, got {embedded}"))
                }
                RelationKind::Polymorphic { .. } => None,
            };
            if let Some(problem) = problem {
                failures.push(format!(
                    "{}: embed {}: {problem}",
                    model.name, relation.name
                ));
            }
        }
    }

    // Update one writable field.
    for (n, model) in order.iter().enumerate() {
        let Some(row) = created.get(&model.name) else {
            continue;
        };
        let Some((column, value)) = patchable(schema, model, row, n + 1) else {
            continue;
        };
        let path = format!("/rest/v1/{}?{}", model.name, key_filter(model, row));
        let body = serde_json::json!({ column.clone(): value.clone() });
        let response = server.patch(&path, body.clone()).await;
        if response.status != 200 || response.rows().len() != 1 {
            failures.push(format!(
                "{}: update {body} answered {} {}",
                model.name, response.status, response.body
            ));
        } else if response.row()[&column] != value {
            failures.push(format!(
                "{}: update {body} stored {}",
                model.name,
                response.row()[&column]
            ));
        }
    }

    // Delete by key, children first.
    for model in order.iter().rev() {
        let Some(row) = created.get(&model.name) else {
            continue;
        };
        let filter = key_filter(model, row);
        let response = server
            .delete(&format!("/rest/v1/{}?{filter}", model.name))
            .await;
        if response.status != 200 {
            failures.push(format!(
                "{}: delete answered {} {}",
                model.name, response.status, response.body
            ));
            continue;
        }
        let after = server
            .get(&format!("/rest/v1/{}?{filter}", model.name))
            .await;
        if after.status != 200 || !after.rows().is_empty() {
            failures.push(format!(
                "{}: still read after delete: {} {}",
                model.name, after.status, after.body
            ));
        }
        if model.behaviours.soft_delete.is_some() {
            let deleted = server
                .get(&format!("/rest/v1/{}?{filter}&_deleted=only", model.name))
                .await;
            if deleted.rows().len() != 1 {
                failures.push(format!(
                    "{}: not kept as soft-deleted: {}",
                    model.name, deleted.body
                ));
            }
        }
    }
    failures
}

/// Whether the row created for `child` points at `parent_row` through relation `via`.
fn child_points_at(
    schema: &Schema,
    child: &str,
    via: &str,
    role: Option<&str>,
    child_row: Option<&Value>,
    parent: &Model,
    parent_row: &Value,
) -> bool {
    let (Some(child_model), Some(child_row)) = (schema.model(child), child_row) else {
        return false;
    };
    let Some(relation) = child_model.relation(via) else {
        return false;
    };
    let column = |name: &str| {
        child_model
            .field(name)
            .map(|f| f.column.clone())
            .unwrap_or_default()
    };
    match &relation.kind {
        RelationKind::ToOne {
            field, references, ..
        } => {
            let referenced = parent
                .field(references)
                .map(|f| f.column.clone())
                .unwrap_or_default();
            !child_row[column(field)].is_null()
                && child_row[column(field)] == parent_row[referenced]
        }
        RelationKind::Polymorphic {
            type_field,
            id_field,
            role_field,
            ..
        } => {
            let key = parent
                .primary_key_fields()
                .next()
                .map(|f| f.column.clone())
                .unwrap_or_default();
            let role_ok = match (role, role_field) {
                (Some(role), Some(rf)) => child_row[column(rf)] == Value::String(role.to_string()),
                (Some(_), None) => false,
                (None, _) => true,
            };
            child_row[column(type_field)] == Value::String(parent.name.clone())
                && child_row[column(id_field)] == parent_row[key]
                && role_ok
        }
        _ => false,
    }
}
