//! Polymorphic relations: the type column names a listed model, the id a live row of it;
//! the owner embeds from the owned side whatever its model; deleting an owner cascades.

#![allow(clippy::result_large_err)]

use serde_json::{json, Value};
use tessera_runtime::{
    parse_read, parse_write_query, Caller, DeleteRequest, Engine, ErrorKind, RestoreRequest,
    UpdateRequest,
};
use tessera_testkit::{engine_tests, Database};

mod common;
use common::{get, insert, pairs, try_insert};

const SCHEMA: &str = r#"
model users {
  @@soft_delete
  email   text
  avatar  file[]  @relation(owner, role: "avatar")
}

model projects {
  @@soft_delete
  title  text
  files  file[]  @relation(owner)
}

model file {
  @@soft_delete
  owner  -> users | projects ?  @polymorphic(type: "belongsTo", id: "belongsToId", role: "belongsToColumn")
  name   text
}

model notes {
  text   text
  about  -> users | projects ?
}
"#;

async fn engine(db: &Database) -> Engine {
    common::engine_with(db, common::checked("poly.tsr", SCHEMA)).await
}

fn filter(query: &str) -> Vec<tessera_runtime::Condition> {
    parse_write_query(&pairs(query)).expect("filter").filter
}

/// A user, a project, and files owned by each (and one owned by nobody).
async fn seed(engine: &Engine) -> (Value, Value) {
    let user = insert(engine, "users", json!({"email": "ann@example.com"})).await;
    let project = insert(engine, "projects", json!({"title": "Tour"})).await;
    let (u, p) = (user[0]["id"].clone(), project[0]["id"].clone());
    insert(
        engine,
        "file",
        json!([
            {"name": "a-avatar.png", "belongsTo": "users", "belongsToId": u, "belongsToColumn": "avatar"},
            {"name": "b-plan.pdf", "belongsTo": "projects", "belongsToId": p},
            {"name": "c-loose.txt"}
        ]),
    )
    .await;
    (u, p)
}

engine_tests! {
    /// The type column only accepts the listed models' names, on insert and update.
    async fn polymorphic_type_names_a_listed_model(db: Database) {
        let engine = engine(&db).await;
        let (u, _) = seed(&engine).await;
        let err = try_insert(&engine, "file", json!({"name": "x", "belongsTo": "assets", "belongsToId": u})).await.expect_err("unknown type");
        assert_eq!(err.kind, ErrorKind::Validation);
        assert_eq!((err.errors[0].field.as_str(), err.errors[0].rule.as_str()), ("belongsTo", "enum"));
        assert!(err.errors[0].message.contains("users, projects"), "{err:?}");
        let err = engine.update(&Caller::service(), &UpdateRequest {
            model: "file".into(),
            filter: filter("name=eq.a-avatar.png"),
            body: json!({"belongsTo": "Users"}),
            ..UpdateRequest::default()
        }).await.expect_err("unknown type");
        assert_eq!(err.kind, ErrorKind::Validation);
        // Without @polymorphic(...) the columns are named after the relation.
        let err = try_insert(&engine, "notes", json!({"text": "x", "aboutType": "file", "aboutId": u})).await.expect_err("unknown type");
        assert_eq!(err.errors[0].field, "aboutType");
    }

    /// The id must name a live row of the type's model: no database foreign key does it.
    async fn polymorphic_id_references_a_live_row(db: Database) {
        let engine = engine(&db).await;
        let (u, p) = seed(&engine).await;
        let missing = uuid::Uuid::new_v4().to_string();
        let err = try_insert(&engine, "file", json!({"name": "x", "belongsTo": "users", "belongsToId": missing})).await.expect_err("dangling");
        assert_eq!((err.kind, err.code.as_str()), (ErrorKind::Conflict, "23503"));
        assert!(err.message.contains("file.owner references users") && err.message.contains(&missing), "{err:?}");
        // A project's id is not a user's.
        let err = try_insert(&engine, "file", json!({"name": "x", "belongsTo": "users", "belongsToId": p})).await.expect_err("wrong model");
        assert_eq!(err.kind, ErrorKind::Conflict);
        // Half a reference is refused.
        let err = try_insert(&engine, "file", json!({"name": "x", "belongsTo": "users"})).await.expect_err("no id");
        assert_eq!((err.kind, err.errors[0].field.as_str()), (ErrorKind::Validation, "owner"));
        // Moving a file to a missing owner changes nothing.
        let err = engine.update(&Caller::service(), &UpdateRequest {
            model: "file".into(),
            filter: filter("name=eq.b-plan.pdf"),
            body: json!({"belongsToId": missing}),
            ..UpdateRequest::default()
        }).await.expect_err("dangling");
        assert_eq!(err.kind, ErrorKind::Conflict);
        assert_eq!(get(&engine, "file", "name=eq.b-plan.pdf").await[0]["belongsToId"], p);
        // Moving it to a user works.
        engine.update(&Caller::service(), &UpdateRequest {
            model: "file".into(),
            filter: filter("name=eq.b-plan.pdf"),
            body: json!({"belongsTo": "users", "belongsToId": u}),
            ..UpdateRequest::default()
        }).await.expect("move");
        // A soft-deleted owner is not a live row.
        engine.delete(&Caller::service(), &DeleteRequest {
            model: "projects".into(),
            filter: filter(&format!("id=eq.{}", p.as_str().unwrap_or(""))),
            ..DeleteRequest::default()
        }).await.expect("delete project");
        let err = try_insert(&engine, "file", json!({"name": "x", "belongsTo": "projects", "belongsToId": p})).await.expect_err("deleted owner");
        assert_eq!(err.kind, ErrorKind::Conflict);
    }

    /// `file?select=*,owner(*)` embeds the owner, whatever its model, as an object.
    async fn polymorphic_owner_embeds_from_the_owned_side(db: Database) {
        let engine = engine(&db).await;
        let (u, p) = seed(&engine).await;
        let rows = get(&engine, "file", "select=name,owner(*)&order=name").await;
        assert_eq!(rows, vec![
            json!({"name": "a-avatar.png", "owner": {"id": u, "email": "ann@example.com", "deletedAt": null}}),
            json!({"name": "b-plan.pdf", "owner": {"id": p, "title": "Tour", "deletedAt": null}}),
            json!({"name": "c-loose.txt", "owner": null}),
        ]);
        // Aliases, nested embeds and !inner.
        let rows = get(&engine, "file", "select=name,by:owner!inner(id,avatar(name))&order=name").await;
        assert_eq!(rows.len(), 2, "{rows:?}");
        assert_eq!(rows[0]["by"], json!({"id": u, "avatar": [{"name": "a-avatar.png"}]}));
        // The inverse side still works from both owners.
        let rows = get(&engine, "projects", "select=title,files(name)").await;
        assert_eq!(rows, vec![json!({"title": "Tour", "files": [{"name": "b-plan.pdf"}]})]);
        // Each owner model reads the fields it has; one with none of them shows its key.
        let rows = get(&engine, "file", "select=name,owner(email,title)&order=name").await;
        assert_eq!(rows[0]["owner"], json!({"email": "ann@example.com"}));
        assert_eq!(rows[1]["owner"], json!({"title": "Tour"}));
        let rows = get(&engine, "file", "select=name,owner(title)&order=name").await;
        assert_eq!(rows[0]["owner"], json!({"id": u}));
        // A field no owner model has is reported.
        let err = match parse_read("file", &pairs("select=owner(nope)")) {
            Err(e) => e,
            Ok(req) => engine.read(&Caller::service(), &req).await.expect_err("unknown field"),
        };
        assert_eq!(err.kind, ErrorKind::NotFound);
    }

    /// Deleting an owner deletes what points at it (as on_delete(cascade)); restore brings it back.
    async fn deleting_an_owner_cascades_to_its_files(db: Database) {
        let engine = engine(&db).await;
        let (u, _) = seed(&engine).await;
        let by_id = filter(&format!("id=eq.{}", u.as_str().unwrap_or("")));
        engine.delete(&Caller::service(), &DeleteRequest {
            model: "users".into(),
            filter: by_id.clone(),
            ..DeleteRequest::default()
        }).await.expect("delete user");
        let names: Vec<Value> = get(&engine, "file", "select=name&order=name").await.into_iter().map(|r| r["name"].clone()).collect();
        assert_eq!(names, vec![json!("b-plan.pdf"), json!("c-loose.txt")]);
        engine.restore(&Caller::service(), &RestoreRequest {
            model: "users".into(),
            filter: by_id,
            ..RestoreRequest::default()
        }).await.expect("restore user");
        assert_eq!(get(&engine, "file", "").await.len(), 3);
    }
}
