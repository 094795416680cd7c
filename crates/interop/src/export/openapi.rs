//! OpenAPI 3.1 description of the REST API: PostgREST's URL grammar under
//! `/rest/v1/{model}`, one path per model with GET (read with `select`, `order`, `limit`,
//! `offset` and column filters), POST (insert), PATCH (update rows matching the filters) and
//! DELETE (delete rows matching the filters; soft delete where the model has it). Each
//! operation says who may run it (the model's `@@allow` rules). With an `@@auth` model, the
//! account routes under `/auth/v1` (sign-up, sign-in and renewal, the user, sign-out).

use serde_json::{json, Map, Value};
use tessera_schema::ir::{Condition, Field, Identity, Model, Operand, Operation, Schema};

use super::json_schema::{enum_schema, field_schema, row_schema, RowShape};
use super::{callers, code_list, Callers, Grant};

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
        schemas.insert(
            model.name.clone(),
            row_schema(schema, model, RowShape::Read, REFS),
        );
        schemas.insert(
            format!("{}Insert", model.name),
            row_schema(schema, model, RowShape::Insert, REFS),
        );
        schemas.insert(
            format!("{}Update", model.name),
            row_schema(schema, model, RowShape::Update, REFS),
        );
        let mut tag = Map::new();
        tag.insert("name".into(), json!(model.name));
        if let Some(doc) = &model.doc {
            tag.insert("description".into(), json!(doc));
        }
        tags.push(Value::Object(tag));
        paths.insert(
            format!("/rest/v1/{}", model.name),
            model_path(schema, model),
        );
        if model.behaviours.soft_delete.is_some() {
            paths.insert(
                format!("/rest/v1/{}/restore", model.name),
                restore_path(schema, model),
            );
        }
        if publishes(schema, model) {
            paths.insert(
                format!("/rest/v1/{}/publish", model.name),
                publish_path(schema, model),
            );
        }
    }
    if let Some((model, identity)) = schema.identity_model() {
        tags.push(json!({
            "name": AUTH_TAG,
            "description": format!("Accounts (rows of `{}`) and their sessions.", model.name)
        }));
        let names = AuthSchemas::name(&schemas);
        schemas.insert(names.session.clone(), session_schema(model));
        schemas.insert(names.signup.clone(), signup_schema(model, identity));
        schemas.insert(names.password.clone(), password_grant_schema());
        schemas.insert(names.refresh.clone(), refresh_grant_schema());
        paths.insert("/auth/v1/signup".into(), signup_path(&names));
        paths.insert("/auth/v1/token".into(), token_path(&names));
        paths.insert("/auth/v1/user".into(), user_path(model, identity));
        paths.insert("/auth/v1/logout".into(), logout_path());
    }
    schemas.insert("Error".into(), error_schema());
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Tessera REST API",
            "version": "1.0.0",
            "description": "PostgREST-compatible REST API generated from the schema. Filters use PostgREST's grammar: `?column=operator.value` with eq, neq, gt, gte, lt, lte, like, ilike, in, is, cs, cd; `or=(...)` and `and=(...)` combine them.\n\nCallers: the service key may run every operation. The schema's `@@allow` rules open operations to signed-in users (sending their access token) and to anonymous callers (sending the anonymous key, or nothing); each operation's description says who may run it. A caller no rule admits is answered 401 when anonymous and 403 when signed in (code `42501`)."
        },
        "servers": [{"url": "/"}],
        "security": [{"bearerAuth": []}, {"apikey": []}],
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
                    "description": bearer_description(schema)
                },
                "apikey": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "apikey",
                    "description": "The same credentials in the `apikey` header, as the Supabase clients send them; when both headers are sent, `Authorization` decides who calls."
                }
            }
        }
    })
}

/// What `Authorization: Bearer` carries: a user's access token only where the schema has
/// accounts.
fn bearer_description(schema: &Schema) -> &'static str {
    if schema.identity_model().is_some() {
        "`Authorization: Bearer <credential>`: the service key (every operation, on every row), a signed-in user's access token (a JWT from `/auth/v1/token` or `/auth/v1/signup`: what the `@@allow` rules grant to signed-in users), or the anonymous key (what they grant to anyone)."
    } else {
        "`Authorization: Bearer <credential>`: the service key (every operation, on every row) or the anonymous key (what the `@@allow` rules grant to anyone). The schema has no `@@auth` model, so no user signs in."
    }
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
            "The request is malformed: a query parameter that does not parse or is over the server's limits (`PGRST100`), a body that is not JSON, nested too deep or not of the model's shape (`PGRST102`, `PGRST204`), a filter value of the wrong type (`22P02`).",
        ),
        (
            "Unauthorized",
            "The credential is not valid (`PGRST301`), or the caller is anonymous and the access rules do not admit them (`42501`).",
        ),
        (
            "Forbidden",
            "The signed-in user may not run this operation, or no one may (a hard delete without `@@hard_delete`); code `42501`.",
        ),
        (
            "NotFound",
            "A name the schema does not have: model (`PGRST205`), field (`42703`) or relationship (`PGRST200`).",
        ),
        (
            "NotAcceptable",
            "The `Accept` header names no media type the server produces, or asks for one object (`application/vnd.pgrst.object+json`) and not exactly one row matched (`PGRST116`).",
        ),
        (
            "PayloadTooLarge",
            "The body is larger than the server's limit in bytes, or has more rows than its limit (`PGRST413`).",
        ),
        (
            "UnsupportedMediaType",
            "The body's `Content-Type` is not JSON (`PGRST107`).",
        ),
        (
            "RangeNotSatisfiable",
            "The requested offset is past the last row (`PGRST103`).",
        ),
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
        "tenant": {
            "name": "X-Tenant", "in": "header", "required": false,
            "description": "The tenant the request is for (an id or a name, as the schema's tenant field holds it), for a user who belongs to several. The access rules decide what it grants: without it, rows kept to a tenant are not reached.",
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

fn model_path(schema: &Schema, model: &Model) -> Value {
    let name = &model.name;
    let tag = json!([name]);
    let filters = filters(model);
    // Rules naming `request.tenant` read the tenant from a header.
    let tenant = names_request_tenant(model).then(|| param_ref("tenant"));
    let with = |mut params: Vec<Value>| {
        params.extend(tenant.iter().cloned());
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
            ("404", "NotFound"),
            ("406", "NotAcceptable"),
            ("416", "RangeNotSatisfiable"),
        ],
    );

    let insert = json!({"$ref": format!("{REFS}{name}Insert")});
    let mut post_responses = Map::new();
    // As PostgREST answers it: an empty body unless `Prefer: return=representation`
    // asks for the rows, so the response documents no content of its own.
    post_responses.insert(
        "201".into(),
        json!({"description": format!("Created. The body is empty, unless `Prefer: return=representation` asks for the rows: then it is an array of `{name}` rows, as `GET` answers them.")}),
    );
    errors(
        &mut post_responses,
        &[
            ("400", "BadRequest"),
            ("401", "Unauthorized"),
            ("403", "Forbidden"),
            ("404", "NotFound"),
            ("406", "NotAcceptable"),
            ("409", "Conflict"),
            ("413", "PayloadTooLarge"),
            ("415", "UnsupportedMediaType"),
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
            ("404", "NotFound"),
            ("406", "NotAcceptable"),
            ("409", "Conflict"),
            ("413", "PayloadTooLarge"),
            ("415", "UnsupportedMediaType"),
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
            ("404", "NotFound"),
            ("406", "NotAcceptable"),
            ("409", "Conflict"),
        ],
    );
    let delete_summary = if model.behaviours.soft_delete.is_some() {
        format!("Soft-delete `{name}` rows matching the filters (they disappear from reads).")
    } else {
        format!("Delete `{name}` rows matching the filters.")
    };

    let create = callers(schema, model, Operation::Create);
    let mut create_text = allowed(&create);
    if create != Callers::ServiceKeyOnly {
        // An upsert creates rows and may update any existing one: it needs both, the update
        // on every row.
        let update = callers(schema, model, Operation::Update).on_every_row();
        create_text.push_str(&format!(
            " Upserts (`Prefer: resolution=merge-duplicates`): {} (they also update, on every row).",
            upserters(&create, &update)
        ));
    }

    let mut insert_params = vec![
        param_ref("select"),
        param_ref("prefer"),
        param_ref("on_conflict"),
    ];
    insert_params.extend(tenant.clone());

    json!({
        "get": access(json!({
            "tags": tag,
            "operationId": format!("list_{name}"),
            "summary": format!("Read `{name}` rows."),
            "description": allowed(&callers(schema, model, Operation::Read)),
            "parameters": with(vec![param_ref("select"), param_ref("order"), param_ref("limit"), param_ref("offset"), param_ref("range"), param_ref("prefer")]),
            "responses": get_responses,
        }), &callers(schema, model, Operation::Read)),
        "post": access(json!({
            "tags": tag,
            "operationId": format!("insert_{name}"),
            "summary": format!("Insert `{name}` rows (one object or an array; upsert with `Prefer: resolution=merge-duplicates`)."),
            "description": create_text,
            "parameters": insert_params,
            "requestBody": {
                "required": true,
                "content": {"application/json": {"schema": {"oneOf": [insert.clone(), {"type": "array", "items": insert}]}}}
            },
            "responses": post_responses,
        }), &create),
        "patch": access(json!({
            "tags": tag,
            "operationId": format!("update_{name}"),
            "summary": format!("Update `{name}` rows matching the filters."),
            "description": allowed(&callers(schema, model, Operation::Update)),
            "parameters": with(vec![param_ref("select"), param_ref("prefer")]),
            "requestBody": {
                "required": true,
                "content": {"application/json": {"schema": {"$ref": format!("{REFS}{name}Update")}}}
            },
            "responses": patch_responses,
        }), &callers(schema, model, Operation::Update)),
        "delete": access(json!({
            "tags": tag,
            "operationId": format!("delete_{name}"),
            "summary": delete_summary,
            "description": allowed(&callers(schema, model, Operation::Delete)),
            "parameters": with(vec![param_ref("select"), param_ref("prefer")]),
            "responses": delete_responses,
        }), &callers(schema, model, Operation::Delete)),
    })
}

/// Who may upsert: callers allowed to create (`create`) who may also update every row
/// (`update`).
fn upserters(create: &Callers, update: &Callers) -> String {
    let subset = |a: &[Grant], b: &[Grant]| a.iter().all(|g| b.contains(g));
    match (create, update) {
        (_, Callers::ServiceKeyOnly) => update.describe(),
        (Callers::Anyone | Callers::SignedIn, _) => update.describe(),
        (_, Callers::Anyone | Callers::SignedIn) => create.describe(),
        (Callers::Grants(c), Callers::Grants(u)) if subset(c, u) => create.describe(),
        (Callers::Grants(c), Callers::Grants(u))
            if subset(u, c) && c.iter().all(|g| matches!(g, Grant::AccountIs { .. })) =>
        {
            update.describe()
        }
        _ => format!(
            "{}, if they are also {}",
            create.describe(),
            update.describe()
        ),
    }
}

/// The sentence naming who may run an operation.
fn allowed(callers: &Callers) -> String {
    format!("Allowed: {}.", callers.describe())
}

/// An operation anyone may run needs no credential: its security requirements list the
/// empty one besides the schemes.
fn access(mut operation: Value, callers: &Callers) -> Value {
    if *callers == Callers::Anyone {
        if let Value::Object(map) = &mut operation {
            map.insert(
                "security".into(),
                json!([{}, {"bearerAuth": []}, {"apikey": []}]),
            );
        }
    }
    operation
}

/// Whether a rule of the model or of one of its fields names `request.tenant`.
fn names_request_tenant(model: &Model) -> bool {
    let field_rules = model.fields.iter().flat_map(|f| &f.access);
    model.access.iter().chain(field_rules).any(|rule| {
        let mut named = false;
        rule.condition.walk(&mut |c| {
            let operands: Vec<&Operand> = match c {
                Condition::Compare { left, right, .. } => vec![left, right],
                Condition::In { operand, .. } => vec![operand],
                _ => Vec::new(),
            };
            named |= operands.contains(&&Operand::RequestTenant);
        });
        named
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

fn restore_path(schema: &Schema, model: &Model) -> Value {
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
            ("403", "Forbidden"),
            ("404", "NotFound"),
            ("406", "NotAcceptable"),
            ("409", "Conflict"),
        ],
    );
    let update = callers(schema, model, Operation::Update);
    json!({
        "post": access(json!({
            "tags": [name],
            "operationId": format!("restore_{name}"),
            "summary": format!("Restore soft-deleted `{name}` rows matching the filters."),
            "description": format!("{} Restoring is an update.", allowed(&update)),
            "parameters": params,
            "responses": responses,
        }), &update)
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
            ("403", "Forbidden"),
            ("404", "NotFound"),
            ("409", "Conflict"),
            ("413", "PayloadTooLarge"),
            ("415", "UnsupportedMediaType"),
            ("422", "Unprocessable"),
        ],
    );
    let update = callers(schema, scope, Operation::Update);
    json!({
        "post": access(json!({
            "tags": [name],
            "operationId": format!("publish_{name}"),
            "summary": format!("Copy the environment content of one `{name}` row to the next environment, in one transaction."),
            "description": format!("{} Publishing updates the `{name}` row.", allowed(&update)),
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
        }), &update)
    })
}

/// The tag of the account routes.
const AUTH_TAG: &str = "auth";

/// Component names of the account routes' schemas; a name a model already has gets an
/// `Auth` prefix.
struct AuthSchemas {
    session: String,
    signup: String,
    password: String,
    refresh: String,
}

impl AuthSchemas {
    fn name(taken: &Map<String, Value>) -> AuthSchemas {
        let free = |base: &str| {
            let mut name = base.to_owned();
            while taken.contains_key(&name) || name == "Error" {
                name = format!("Auth{name}");
            }
            name
        };
        AuthSchemas {
            session: free("Session"),
            signup: free("SignUp"),
            password: free("PasswordGrant"),
            refresh: free("RefreshTokenGrant"),
        }
    }
}

fn schema_ref(name: &str) -> Value {
    json!({"$ref": format!("{REFS}{name}")})
}

/// A response carrying the PostgREST error body.
fn error_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": schema_ref("Error")}}
    })
}

/// The answers to a body the server does not read: too large, or not JSON.
fn body_errors(responses: &mut Map<String, Value>) {
    errors(
        responses,
        &[("413", "PayloadTooLarge"), ("415", "UnsupportedMediaType")],
    );
}

fn session_response(names: &AuthSchemas, description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": schema_ref(&names.session)}}
    })
}

fn session_schema(account: &Model) -> Value {
    json!({
        "type": "object",
        "description": "A session: send `access_token` as `Authorization: Bearer` to the data API; renew it before `expires_at` with `refresh_token` (`/auth/v1/token?grant_type=refresh_token`).",
        "properties": {
            "access_token": {"type": "string", "description": "The user's access token, a JWT."},
            "token_type": {"type": "string", "const": "bearer"},
            "expires_in": {"type": "integer", "description": "Seconds the access token is valid for."},
            "expires_at": {"type": "integer", "description": "When the access token expires, in seconds since the Unix epoch."},
            "refresh_token": {"type": "string", "description": "Renews the session once."},
            "user": schema_ref(&account.name)
        },
        "required": ["access_token", "token_type", "expires_in", "expires_at", "refresh_token", "user"],
        "additionalProperties": false
    })
}

/// The schema of a credential field in a request body: its values and validations, never
/// null and without defaults (a sign-up always gives it).
fn credential_schema(field: &Field) -> Value {
    let field = Field {
        nullable: false,
        default: None,
        conditional_defaults: Vec::new(),
        ..field.clone()
    };
    field_schema(&field, REFS)
}

/// ` (the field `x`)` when a sign-up member is stored under another field name.
fn field_alias(member: &str, field: &str) -> String {
    if member == field {
        String::new()
    } else {
        format!(" (the field `{field}`)")
    }
}

fn signup_schema(account: &Model, identity: &Identity) -> Value {
    let mut properties = Map::new();
    // Sign-up takes `email` and `password` under these names, as sign-in does.
    for (name, field) in [("email", &identity.email), ("password", &identity.password)] {
        if let Some(field) = account.field(field) {
            properties.insert(name.to_owned(), credential_schema(field));
        }
    }
    let mut data = Map::new();
    for field in identity
        .signup_fields
        .iter()
        .filter_map(|name| account.field(name))
    {
        let schema = field_schema(field, REFS);
        properties.insert(field.name.clone(), schema.clone());
        data.insert(field.name.clone(), schema);
    }
    let listed = if identity.signup_fields.is_empty() {
        "no other field: every other field takes its default".to_owned()
    } else {
        format!(
            "{} (each either at the top level or in `data`, not both); every other field takes its default",
            code_list(&identity.signup_fields)
        )
    };
    properties.insert(
        "data".into(),
        json!({
            "type": "object",
            "description": "Account fields a sign-up may set (Supabase's user metadata).",
            "properties": data,
            "additionalProperties": false
        }),
    );
    json!({
        "type": "object",
        "description": format!(
            "A new `{}` account: `email`{} and `password`{} (stored hashed), and {listed}.",
            account.name,
            field_alias("email", &identity.email),
            field_alias("password", &identity.password)
        ),
        "properties": properties,
        "required": ["email", "password"],
        "additionalProperties": false
    })
}

fn password_grant_schema() -> Value {
    json!({
        "type": "object",
        "description": "Sign in with an account's email and password.",
        "properties": {
            "email": {"type": "string"},
            "password": {"type": "string"}
        },
        "required": ["email", "password"]
    })
}

fn refresh_grant_schema() -> Value {
    json!({
        "type": "object",
        "description": "Renew a session with its refresh token (each is used once).",
        "properties": {"refresh_token": {"type": "string"}},
        "required": ["refresh_token"]
    })
}

fn signup_path(names: &AuthSchemas) -> Value {
    let mut responses = Map::new();
    responses.insert(
        "200".into(),
        session_response(names, "The account is created and signed in."),
    );
    responses.insert(
        "400".into(),
        error_response("The body is not an object with the email and password (`PGRST102`), or sets a field a sign-up may not set (`PGRST204`)."),
    );
    responses.insert(
        "403".into(),
        error_response("Sign-ups are disabled on this server (`signup_disabled`)."),
    );
    responses.insert(
        "409".into(),
        error_response("An account with this email exists (`23505`)."),
    );
    responses.insert(
        "422".into(),
        error_response("A value fails a validation; the field and rule are named."),
    );
    body_errors(&mut responses);
    json!({
        "post": {
            "tags": [AUTH_TAG],
            "operationId": "auth_signup",
            "summary": "Create an account and sign it in.",
            "description": "Allowed: anyone, unless the server disables sign-ups. The account's validations, trimming and hashing apply as to any insert.",
            "security": [],
            "requestBody": {
                "required": true,
                "content": {"application/json": {"schema": schema_ref(&names.signup)}}
            },
            "responses": responses,
        }
    })
}

fn token_path(names: &AuthSchemas) -> Value {
    let mut responses = Map::new();
    responses.insert(
        "200".into(),
        session_response(names, "A new session (the refresh token sent is spent)."),
    );
    responses.insert(
        "400".into(),
        error_response("Wrong email or password (`invalid_credentials`), an unknown, spent or expired refresh token (`invalid_refresh_token`), a missing or other `grant_type` (`unsupported_grant_type`), or a body without the grant's members (`PGRST102`)."),
    );
    responses.insert(
        "403".into(),
        error_response("The account is disabled (`user_disabled`)."),
    );
    responses.insert(
        "429".into(),
        error_response("Too many failed sign-ins with this email: it is locked out for a while (`too_many_attempts`)."),
    );
    body_errors(&mut responses);
    json!({
        "post": {
            "tags": [AUTH_TAG],
            "operationId": "auth_token",
            "summary": "Sign in with email and password, or renew a session with its refresh token.",
            "description": "Allowed: anyone.",
            "security": [],
            "parameters": [{
                "name": "grant_type",
                "in": "query",
                "required": true,
                "description": "`password` to sign in (body: email and password), `refresh_token` to renew a session (body: the refresh token).",
                "schema": {"type": "string", "enum": ["password", "refresh_token"]}
            }],
            "requestBody": {
                "required": true,
                "content": {"application/json": {"schema": {"oneOf": [schema_ref(&names.password), schema_ref(&names.refresh)]}}}
            },
            "responses": responses,
        }
    })
}

fn user_path(account: &Model, identity: &Identity) -> Value {
    let mut responses = Map::new();
    responses.insert(
        "200".into(),
        json!({
            "description": format!("The signed-in user's `{}` row (secret fields left out).", account.name),
            "content": {"application/json": {"schema": schema_ref(&account.name)}}
        }),
    );
    responses.insert(
        "401".into(),
        error_response(
            "No user's access token (`PGRST302`), or one that is not valid (`PGRST301`).",
        ),
    );
    let mut changes = signup_schema(account, identity);
    if let Some(schema) = changes.as_object_mut() {
        schema.remove("required");
        schema.insert(
            "description".into(),
            json!("The fields to change: `email`, `password` and the fields a sign-up may set (each at the top level or in `data`)."),
        );
    }
    let mut update_responses = responses.clone();
    update_responses.insert(
        "200".into(),
        json!({
            "description": format!("The updated `{}` row (secret fields left out).", account.name),
            "content": {"application/json": {"schema": schema_ref(&account.name)}}
        }),
    );
    update_responses.insert(
        "400".into(),
        error_response("A field the user may not write on their account (`PGRST204`), or no field (`PGRST102`)."),
    );
    update_responses.insert(
        "422".into(),
        error_response("A value breaks the account model's validations."),
    );
    body_errors(&mut update_responses);
    json!({
        "get": {
            "tags": [AUTH_TAG],
            "operationId": "auth_user",
            "summary": "The signed-in user's account.",
            "description": "Allowed: signed-in users (their access token).",
            "security": [{"bearerAuth": []}],
            "responses": responses,
        },
        "put": {
            "tags": [AUTH_TAG],
            "operationId": "auth_update_user",
            "summary": "Change the signed-in user's email, password or profile.",
            "description": "Allowed: signed-in users, on their own account, whatever the access rules say of the account model.",
            "security": [{"bearerAuth": []}],
            "requestBody": {
                "required": true,
                "content": {"application/json": {"schema": changes}}
            },
            "responses": update_responses,
        }
    })
}

fn logout_path() -> Value {
    let mut responses = Map::new();
    responses.insert(
        "204".into(),
        json!({"description": "Signed out: the user's refresh tokens stop working; access tokens already issued run until they expire."}),
    );
    responses.insert(
        "401".into(),
        error_response(
            "No user's access token (`PGRST302`), or one that is not valid (`PGRST301`).",
        ),
    );
    json!({
        "post": {
            "tags": [AUTH_TAG],
            "operationId": "auth_logout",
            "summary": "End every session of the signed-in user.",
            "description": "Allowed: signed-in users (their access token).",
            "security": [{"bearerAuth": []}],
            "responses": responses,
        }
    })
}
