//! Shared fixtures: a small schema with every relation kind, and an engine over a fresh
//! database migrated to it.
#![allow(dead_code, clippy::result_large_err)]

pub mod statements;

use serde_json::{json, Value};
use tessera_runtime::{
    parse_read, parse_write_query, Caller, DeleteRequest, Engine, InsertRequest, ReadRequest,
    RuntimeError, UpdateRequest,
};
use tessera_testkit::Database;

pub const SCHEMA: &str = r#"
enum Status { active archived }

model users {
  @@soft_delete
  @@timestamps
  @@actors(users)
  @@import_hash
  @@allow(create, authenticated)
  email      text    @unique @trim @lowercase @email("Must be a valid email address")
  password   text    @hash(bcrypt)
  name       text    @trim @len(1, 10, "Name must be between 1 and 10 characters")
  status     Status  = active
  profile    jsonb   = { "timezone": "UTC", "skills": [] }
  tags       text[]  = []
  age        int?    @min(0, "Age must be at least 0")
  is_person  bool    @virtual(true)
  avatar     file[]  @relation(owner, role: "avatar")
}

model projects {
  @@soft_delete
  @@timestamps
  name   text
  owner  -> users?  @on_delete(set_null)
  pages  pages[]
}

model pages {
  @@soft_delete
  title    text
  sort     int      = 0
  project  -> projects  @on_delete(cascade)
  parent   -> pages?    @on_delete(cascade)
  children pages[]      @relation(parent)
}

model devices {
  name          text
  camera_links  links[]  @relation(camera)
  client_links  links[]  @relation(client)
}

model links {
  label   text?
  camera  -> devices  @on_delete(cascade)
  client  -> devices  @on_delete(restrict)
}

model roles {
  @@soft_delete
  name         text
  permissions  permissions[]  @join_table("rolesPermissions")
}

model permissions {
  name  text  @unique
}

model file {
  @@soft_delete
  owner  -> users?  @polymorphic(type: "belongsTo", id: "belongsToId", role: "belongsToColumn")
  name   text
}

model guarded {
  @@soft_delete
  @@hard_delete
  name  text
}

model blocker {
  @@soft_delete
  name     text
  project  -> projects  @on_delete(restrict)
}
"#;

pub fn schema() -> tessera_schema::Schema {
    checked("test.tsr", SCHEMA)
}

/// `source` checked (as the file `name`); panics with the diagnostics.
pub fn checked(name: &str, source: &str) -> tessera_schema::Schema {
    match tessera_schema::check_source(name, source) {
        Ok(checked) => checked.schema,
        Err(diagnostics) => panic!("{name}: {diagnostics:?}"),
    }
}

/// An engine over `db`, migrated to [`SCHEMA`] with `tessera_migrate`.
pub async fn engine(db: &Database) -> Engine {
    engine_with(db, schema()).await
}

/// An engine over `db`, migrated to `schema` with `tessera_migrate`.
pub async fn engine_with(db: &Database, schema: tessera_schema::Schema) -> Engine {
    tessera_migrate::migrate_to(
        &schema,
        db.url(),
        &tessera_migrate::MigrateOptions::default(),
    )
    .await
    .unwrap_or_else(|e| panic!("migrate: {e}"));
    Engine::connect(schema, db.url()).await.expect("connect")
}

pub fn ctx() -> Caller {
    Caller::service()
}

pub async fn insert(engine: &Engine, model: &str, body: Value) -> Vec<Value> {
    try_insert(engine, model, body)
        .await
        .unwrap_or_else(|e| panic!("insert into {model}: {e:?}"))
}

pub async fn try_insert(
    engine: &Engine,
    model: &str,
    body: Value,
) -> Result<Vec<Value>, tessera_runtime::RuntimeError> {
    insert_as(engine, &ctx(), model, body).await
}

/// An insert of `body` into `model` by the caller `ctx`.
pub async fn insert_as(
    engine: &Engine,
    ctx: &Caller,
    model: &str,
    body: Value,
) -> Result<Vec<Value>, tessera_runtime::RuntimeError> {
    engine
        .insert(
            ctx,
            &InsertRequest {
                model: model.into(),
                body,
                ..InsertRequest::default()
            },
        )
        .await
}

pub async fn get(engine: &Engine, model: &str, query: &str) -> Vec<Value> {
    read(engine, model, query)
        .await
        .unwrap_or_else(|e| panic!("GET {model}?{query}: {e:?}"))
}

pub async fn read(
    engine: &Engine,
    model: &str,
    query: &str,
) -> Result<Vec<Value>, tessera_runtime::RuntimeError> {
    let req = parse(model, query)?;
    Ok(engine.read(&ctx(), &req).await?.rows)
}

pub fn pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (k.to_owned(), v.to_owned()),
            None => (p.to_owned(), String::new()),
        })
        .collect()
}

pub fn parse(model: &str, query: &str) -> Result<ReadRequest, tessera_runtime::RuntimeError> {
    tessera_runtime::parse_read(model, &pairs(query))
}

/// Two users, two projects with pages (a nested page too), devices with two links.
pub async fn seed(engine: &Engine) -> Value {
    let users = insert(
        engine,
        "users",
        json!([
            {"email": "ann@example.com", "password": "secret-1", "name": "Ann", "age": 30, "tags": ["a", "b"], "profile": {"timezone": "CET", "skills": ["rust"]}},
            {"email": "bob@example.com", "password": "secret-2", "name": "Bob", "age": 20, "status": "archived"}
        ]),
    )
    .await;
    let ann = users[0]["id"].clone();
    let bob = users[1]["id"].clone();
    let projects = insert(
        engine,
        "projects",
        json!([{"name": "Alpha", "ownerId": ann}, {"name": "Beta", "ownerId": bob}]),
    )
    .await;
    let alpha = projects[0]["id"].clone();
    let beta = projects[1]["id"].clone();
    let pages = insert(
        engine,
        "pages",
        json!([
            {"title": "home", "sort": 1, "projectId": alpha},
            {"title": "about", "sort": 2, "projectId": alpha},
            {"title": "intro", "sort": 1, "projectId": beta}
        ]),
    )
    .await;
    insert(
        engine,
        "pages",
        json!({"title": "team", "sort": 3, "projectId": alpha, "parentId": pages[1]["id"]}),
    )
    .await;
    let devices = insert(
        engine,
        "devices",
        json!([{"name": "cam"}, {"name": "phone"}]),
    )
    .await;
    insert(
        engine,
        "links",
        json!({"label": "main", "cameraId": devices[0]["id"], "clientId": devices[1]["id"]}),
    )
    .await;
    json!({"ann": ann, "bob": bob, "alpha": alpha, "beta": beta, "about": pages[1]["id"], "cam": devices[0]["id"], "phone": devices[1]["id"]})
}

/// The rows `caller` reads of `model` with `query` (PostgREST's grammar).
pub async fn read_as(
    engine: &Engine,
    caller: &Caller,
    model: &str,
    query: &str,
) -> Result<Vec<Value>, RuntimeError> {
    let req = parse_read(model, &pairs(query))?;
    Ok(engine.read(caller, &req).await?.rows)
}

pub async fn update_as(
    engine: &Engine,
    caller: &Caller,
    model: &str,
    filter: &str,
    body: Value,
) -> Result<Vec<Value>, RuntimeError> {
    let filter = parse_write_query(&pairs(filter))?.filter;
    engine
        .update(
            caller,
            &UpdateRequest {
                model: model.into(),
                filter,
                body,
                ..UpdateRequest::default()
            },
        )
        .await
}

pub async fn delete_as(
    engine: &Engine,
    caller: &Caller,
    model: &str,
    filter: &str,
) -> Result<Vec<Value>, RuntimeError> {
    let filter = parse_write_query(&pairs(filter))?.filter;
    engine
        .delete(
            caller,
            &DeleteRequest {
                model: model.into(),
                filter,
                ..DeleteRequest::default()
            },
        )
        .await
}

pub fn id(row: &Value) -> String {
    row["id"].as_str().expect("id").to_owned()
}
