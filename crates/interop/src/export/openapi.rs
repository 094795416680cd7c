//! OpenAPI 3.1 description of the REST API: PostgREST's URL grammar under
//! `/rest/v1/{model}`, one path per model with GET (read with `select`, `order`, `limit`,
//! `offset` and column filters), POST (insert), PATCH (update rows matching the filters) and
//! DELETE (delete rows matching the filters; soft delete where the model has it).

use serde_json::{json, Map, Value};
use tessera_schema::ir::{Model, Schema};

use super::json_schema::{enum_schema, row_schema, RowShape};

const REFS: &str = "#/components/schemas/";

/// The OpenAPI 3.1 document served at `/openapi.json`.
pub fn openapi(schema: &Schema) -> Value {
    let mut paths = Map::new();
    let mut schemas = Map::new();
    let mut tags = Vec::new();
    for e in &schema.enums {
        schemas.insert(e.name.clone(), enum_schema(e));
    }
    for model in &schema.models {
        schemas.insert(model.name.clone(), row_schema(model, RowShape::Read, REFS));
        schemas.insert(
            format!("{}Insert", model.name),
            row_schema(model, RowShape::Insert, REFS),
        );
        schemas.insert(
            format!("{}Update", model.name),
            row_schema(model, RowShape::Update, REFS),
        );
        let mut tag = Map::new();
        tag.insert("name".into(), json!(model.name));
        if let Some(doc) = &model.doc {
            tag.insert("description".into(), json!(doc));
        }
        tags.push(Value::Object(tag));
        paths.insert(format!("/rest/v1/{}", model.name), model_path(model));
        if model.behaviours.soft_delete.is_some() {
            paths.insert(
                format!("/rest/v1/{}/restore", model.name),
                restore_path(model),
            );
        }
        if publishes(schema, model) {
            paths.insert(
                format!("/rest/v1/{}/publish", model.name),
                publish_path(schema, model),
            );
        }
    }
    schemas.insert("Error".into(), error_schema());
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Tessera REST API",
            "version": "1.0.0",
            "description": "PostgREST-compatible REST API generated from the schema. Filters use PostgREST's grammar: `?column=operator.value` with eq, neq, gt, gte, lt, lte, like, ilike, in, is, cs, cd; `or=(...)` and `and=(...)` combine them."
        },
        "servers": [{"url": "/"}],
        "security": [{"apikey": []}, {"apikey": [], "bearerAuth": []}],
        "tags": tags,
        "paths": paths,
        "components": {
            "schemas": schemas,
            "parameters": common_parameters(),
            "responses": error_responses(),
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "Access token of the signed-in user."
                },
                "apikey": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "apikey",
                    "description": "The project's API key."
                }
            }
        }
    })
}

fn error_schema() -> Value {
    json!({
        "type": "object",
        "description": "PostgREST error body.",
        "properties": {
            "code": {"type": "string", "description": "Stable error code."},
            "message": {"type": "string"},
            "details": {"type": ["string", "null"]},
            "hint": {"type": ["string", "null"]}
        },
        "required": ["code", "message", "details", "hint"]
    })
}

fn error_responses() -> Value {
    let mut out = Map::new();
    for (name, description) in [
        (
            "BadRequest",
            "The request is malformed (unknown column, bad filter).",
        ),
        ("Unauthorized", "Authentication is missing or invalid."),
        ("Forbidden", "The caller may not perform this operation."),
        ("NotFound", "No such resource."),
        (
            "Conflict",
            "A unique or foreign-key constraint would be violated.",
        ),
        (
            "Unprocessable",
            "A value fails a validation; the field and rule are named.",
        ),
    ] {
        out.insert(
            name.into(),
            json!({
                "description": description,
                "content": {"application/json": {"schema": {"$ref": format!("{REFS}Error")}}}
            }),
        );
    }
    Value::Object(out)
}

fn common_parameters() -> Value {
    json!({
        "select": {
            "name": "select", "in": "query", "required": false,
            "description": "Columns and embedded relations to return, e.g. `id,name,pages(*)`.",
            "schema": {"type": "string"}
        },
        "order": {
            "name": "order", "in": "query", "required": false,
            "description": "Ordering, e.g. `created_at.desc,name.asc.nullslast`.",
            "schema": {"type": "string"}
        },
        "limit": {
            "name": "limit", "in": "query", "required": false,
            "description": "At most this many rows.",
            "schema": {"type": "integer", "minimum": 0}
        },
        "offset": {
            "name": "offset", "in": "query", "required": false,
            "description": "Skip this many rows.",
            "schema": {"type": "integer", "minimum": 0}
        },
        "range": {
            "name": "Range", "in": "header", "required": false,
            "description": "Rows to return, e.g. `0-24`.",
            "schema": {"type": "string"}
        },
        "prefer": {
            "name": "Prefer", "in": "header", "required": false,
            "description": "`return=representation|minimal`, `count=exact`, `resolution=merge-duplicates`.",
            "schema": {"type": "string"}
        },
        "on_conflict": {
            "name": "on_conflict", "in": "query", "required": false,
            "description": "Columns of the unique constraint an upsert resolves on.",
            "schema": {"type": "string"}
        }
    })
}

fn param_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/parameters/{name}")})
}

fn response_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/responses/{name}")})
}

/// One query parameter per filterable column (stored and not secret).
fn filters(model: &Model) -> Vec<Value> {
    model
        .stored_fields()
        .filter(|f| !f.secret)
        .map(|f| {
            json!({
                "name": f.name,
                "in": "query",
                "required": false,
                "description": format!("Filter on `{}`, e.g. `eq.value`, `in.(a,b)`, `is.null`.", f.name),
                "schema": {"type": "string"}
            })
        })
        .collect()
}

fn rows(model: &Model) -> Value {
    json!({"type": "array", "items": {"$ref": format!("{REFS}{}", model.name)}})
}

fn errors(responses: &mut Map<String, Value>, names: &[(&str, &str)]) {
    for (status, name) in names {
        responses.insert((*status).into(), response_ref(name));
    }
}

fn model_path(model: &Model) -> Value {
    let name = &model.name;
    let tag = json!([name]);
    let filters = filters(model);
    let with = |mut params: Vec<Value>| {
        params.extend(filters.iter().cloned());
        Value::Array(params)
    };

    let mut get_responses = Map::new();
    get_responses.insert(
        "200".into(),
        json!({"description": format!("Rows of `{name}`."), "content": {"application/json": {"schema": rows(model)}}}),
    );
    get_responses.insert(
        "206".into(),
        json!({"description": "A range of the rows.", "content": {"application/json": {"schema": rows(model)}}}),
    );
    errors(
        &mut get_responses,
        &[
            ("400", "BadRequest"),
            ("401", "Unauthorized"),
            ("403", "Forbidden"),
        ],
    );

    let insert = json!({"$ref": format!("{REFS}{name}Insert")});
    let mut post_responses = Map::new();
    post_responses.insert(
        "201".into(),
        json!({"description": "Created; the rows when `Prefer: return=representation`.", "content": {"application/json": {"schema": rows(model)}}}),
    );
    errors(
        &mut post_responses,
        &[
            ("400", "BadRequest"),
            ("401", "Unauthorized"),
            ("403", "Forbidden"),
            ("409", "Conflict"),
            ("422", "Unprocessable"),
        ],
    );

    let mut patch_responses = Map::new();
    patch_responses.insert(
        "200".into(),
        json!({"description": "Updated rows (with `Prefer: return=representation`).", "content": {"application/json": {"schema": rows(model)}}}),
    );
    patch_responses.insert("204".into(), json!({"description": "Updated."}));
    errors(
        &mut patch_responses,
        &[
            ("400", "BadRequest"),
            ("401", "Unauthorized"),
            ("403", "Forbidden"),
            ("409", "Conflict"),
            ("422", "Unprocessable"),
        ],
    );

    let mut delete_responses = Map::new();
    delete_responses.insert(
        "200".into(),
        json!({"description": "Deleted rows (with `Prefer: return=representation`).", "content": {"application/json": {"schema": rows(model)}}}),
    );
    delete_responses.insert("204".into(), json!({"description": "Deleted."}));
    errors(
        &mut delete_responses,
        &[
            ("400", "BadRequest"),
            ("401", "Unauthorized"),
            ("403", "Forbidden"),
            ("409", "Conflict"),
        ],
    );
    let delete_summary = if model.behaviours.soft_delete.is_some() {
        format!("Soft-delete `{name}` rows matching the filters (they disappear from reads).")
    } else {
        format!("Delete `{name}` rows matching the filters.")
    };

    json!({
        "get": {
            "tags": tag,
            "operationId": format!("list_{name}"),
            "summary": format!("Read `{name}` rows."),
            "parameters": with(vec![param_ref("select"), param_ref("order"), param_ref("limit"), param_ref("offset"), param_ref("range"), param_ref("prefer")]),
            "responses": get_responses,
        },
        "post": {
            "tags": tag,
            "operationId": format!("insert_{name}"),
            "summary": format!("Insert `{name}` rows (one object or an array; upsert with `Prefer: resolution=merge-duplicates`)."),
            "parameters": [param_ref("select"), param_ref("prefer"), param_ref("on_conflict")],
            "requestBody": {
                "required": true,
                "content": {"application/json": {"schema": {"oneOf": [insert.clone(), {"type": "array", "items": insert}]}}}
            },
            "responses": post_responses,
        },
        "patch": {
            "tags": tag,
            "operationId": format!("update_{name}"),
            "summary": format!("Update `{name}` rows matching the filters."),
            "parameters": with(vec![param_ref("select"), param_ref("prefer")]),
            "requestBody": {
                "required": true,
                "content": {"application/json": {"schema": {"$ref": format!("{REFS}{name}Update")}}}
            },
            "responses": patch_responses,
        },
        "delete": {
            "tags": tag,
            "operationId": format!("delete_{name}"),
            "summary": delete_summary,
            "parameters": with(vec![param_ref("select"), param_ref("prefer")]),
            "responses": delete_responses,
        }
    })
}

/// The model a to-one relation `relation` of `model` points at.
fn relation_target<'s>(model: &'s Model, relation: &str) -> Option<&'s str> {
    model.relation(relation).and_then(|r| match &r.kind {
        tessera_schema::ir::RelationKind::ToOne { target, .. } => Some(target.as_str()),
        _ => None,
    })
}

/// Whether some environment-scoped content belongs to rows of `scope`.
fn publishes(schema: &Schema, scope: &Model) -> bool {
    schema.models.iter().any(|m| {
        m.behaviours
            .environment
            .as_ref()
            .is_some_and(|env| relation_target(m, &env.scope) == Some(scope.name.as_str()))
    })
}

fn restore_path(model: &Model) -> Value {
    let name = &model.name;
    let mut params = vec![param_ref("select"), param_ref("prefer")];
    params.extend(filters(model));
    let mut responses = Map::new();
    responses.insert(
        "200".into(),
        json!({"description": "Restored rows, with what their delete cascaded to (with `Prefer: return=representation`).", "content": {"application/json": {"schema": rows(model)}}}),
    );
    responses.insert("204".into(), json!({"description": "Restored."}));
    errors(
        &mut responses,
        &[
            ("400", "BadRequest"),
            ("401", "Unauthorized"),
            ("409", "Conflict"),
        ],
    );
    json!({
        "post": {
            "tags": [name],
            "operationId": format!("restore_{name}"),
            "summary": format!("Restore soft-deleted `{name}` rows matching the filters."),
            "parameters": params,
            "responses": responses,
        }
    })
}

fn publish_path(schema: &Schema, scope: &Model) -> Value {
    let name = &scope.name;
    let log = schema.models.iter().find(|m| {
        m.behaviours
            .publish_log
            .as_ref()
            .is_some_and(|log| relation_target(m, &log.scope) == Some(name.as_str()))
    });
    let result = match log {
        Some(log) => json!({"$ref": format!("{REFS}{}", log.name)}),
        None => json!({"type": "object"}),
    };
    let mut responses = Map::new();
    responses.insert(
        "200".into(),
        json!({"description": "The publish run, as recorded in the publish log.", "content": {"application/json": {"schema": result}}}),
    );
    errors(
        &mut responses,
        &[
            ("400", "BadRequest"),
            ("401", "Unauthorized"),
            ("404", "NotFound"),
            ("409", "Conflict"),
            ("422", "Unprocessable"),
        ],
    );
    json!({
        "post": {
            "tags": [name],
            "operationId": format!("publish_{name}"),
            "summary": format!("Copy the environment content of one `{name}` row to the next environment, in one transaction."),
            "parameters": filters(scope),
            "requestBody": {
                "required": true,
                "content": {"application/json": {"schema": {
                    "type": "object",
                    "required": ["from", "to"],
                    "properties": {"from": {"type": "string"}, "to": {"type": "string"}}
                }}}
            },
            "responses": responses,
        }
    })
}
