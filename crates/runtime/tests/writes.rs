//! Writes: defaults, validation, hashing, managed fields, upserts, JSON merge.

mod common;

use common::*;
use serde_json::json;
use tessera_runtime::{
    parse_write_query, Caller, ErrorKind, InsertRequest, Resolution, UpdateRequest,
};
use tessera_testkit::{engine_tests, Database};

fn update(model: &str, filter: &str, body: serde_json::Value) -> UpdateRequest {
    UpdateRequest {
        model: model.into(),
        filter: parse_write_query(&pairs(filter)).expect("filter").filter,
        body,
        ..UpdateRequest::default()
    }
}

engine_tests! {
    /// Defaults (generated uuid, now(), enum, JSON, arrays), trim and lowercase.
    async fn insert_fills_defaults_and_transforms(db: Database) {
        let engine = engine(&db).await;
        let rows = insert(&engine, "users", json!({"email": "  Ann@Example.COM ", "password": "pw", "name": " Ann "})).await;
        let ann = &rows[0];
        assert_eq!(ann["email"], json!("ann@example.com"));
        assert_eq!(ann["name"], json!("Ann"));
        assert_eq!(ann["status"], json!("active"));
        assert_eq!(ann["profile"], json!({"timezone": "UTC", "skills": []}));
        assert_eq!(ann["tags"], json!([]));
        assert!(uuid::Uuid::parse_str(ann["id"].as_str().expect("id")).is_ok());
        assert_eq!(ann["createdAt"], ann["updatedAt"]);
        assert_eq!(ann["deletedAt"], json!(null));
    }

    /// Every failing field is reported at once, with the schema's messages.
    async fn validation_reports_every_field(db: Database) {
        let engine = engine(&db).await;
        let err = engine.insert(&ctx(), &InsertRequest {
            model: "users".into(),
            body: json!({"email": "nope", "name": "far too long a name", "age": -1, "status": "gone"}),
            ..InsertRequest::default()
        }).await.expect_err("invalid");
        assert_eq!(err.kind, ErrorKind::Validation);
        let got: Vec<(String, String, String)> = err.errors.iter().map(|e| (e.field.clone(), e.rule.clone(), e.message.clone())).collect();
        assert!(got.contains(&("email".into(), "email".into(), "Must be a valid email address".into())), "{got:?}");
        assert!(got.contains(&("name".into(), "len".into(), "Name must be between 1 and 10 characters".into())), "{got:?}");
        assert!(got.contains(&("age".into(), "min".into(), "Age must be at least 0".into())), "{got:?}");
        assert!(got.iter().any(|(f, r, m)| f == "status" && r == "enum" && m.contains("active, archived")), "{got:?}");
        assert!(got.iter().any(|(f, r, _)| f == "password" && r == "required"), "{got:?}");
    }

    /// A field that is present but invalid is reported for its rule, not also as missing.
    async fn an_invalid_field_is_not_also_reported_as_missing(db: Database) {
        let engine = engine(&db).await;
        let err = engine.insert(&ctx(), &InsertRequest {
            model: "users".into(),
            body: json!({"email": "nope", "password": "pw", "name": "far too long a name"}),
            ..InsertRequest::default()
        }).await.expect_err("invalid");
        let rules: Vec<(String, String)> = err.errors.iter().map(|e| (e.field.clone(), e.rule.clone())).collect();
        assert!(rules.contains(&("email".into(), "email".into())), "{rules:?}");
        assert!(!rules.iter().any(|(_, rule)| rule == "required"), "{rules:?}");
    }

    /// Passwords are stored as argon2id hashes (bcrypt hashes kept), never returned.
    async fn passwords_are_hashed_and_secret(db: Database) {
        let engine = engine(&db).await;
        let bcrypt = "$2b$10$abcdefghijklmnopqrstuuJ0bq9Nq2b6zKcJ4bP7j0QxVwzGQ7a1e";
        insert(&engine, "users", json!([
            {"email": "a@example.com", "password": "plain-secret", "name": "A"},
            {"email": "b@example.com", "password": bcrypt, "name": "B"}
        ])).await;
        let pool = db.pool().await.expect("pool");
        let stored: Vec<String> = match &pool {
            tessera_testkit::Pool::Sqlite(p) => sqlx::query_scalar("SELECT password FROM users ORDER BY email").fetch_all(p).await.expect("rows"),
            tessera_testkit::Pool::Postgres(p) => sqlx::query_scalar("SELECT password FROM users ORDER BY email").fetch_all(p).await.expect("rows"),
        };
        assert!(stored[0].starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{}", stored[0]);
        assert!(tessera_runtime::verify_password(&stored[0], "plain-secret").await.expect("verify"));
        assert!(!tessera_runtime::verify_password(&stored[0], "wrong").await.expect("verify"));
        assert_eq!(stored[1], bcrypt);
        let rows = get(&engine, "users", "").await;
        assert!(rows.iter().all(|r| r.get("password").is_none()));
    }

    /// Imported bcrypt hashes ($2a$, $2b$, $2y$) are kept and verify; malformed hashes never match.
    async fn imported_bcrypt_hashes_verify(db: Database) {
        let engine = engine(&db).await;
        let b = bcrypt::hash("imported-pw", 4).expect("bcrypt");
        let a = b.replacen("$2b$", "$2a$", 1);
        let y = b.replacen("$2b$", "$2y$", 1);
        insert(&engine, "users", json!([
            {"email": "b@example.com", "password": b, "name": "B"},
            {"email": "a@example.com", "password": a, "name": "A"},
            {"email": "y@example.com", "password": y, "name": "Y"}
        ])).await;
        let pool = db.pool().await.expect("pool");
        let stored: Vec<String> = match &pool {
            tessera_testkit::Pool::Sqlite(p) => sqlx::query_scalar("SELECT password FROM users ORDER BY email").fetch_all(p).await.expect("rows"),
            tessera_testkit::Pool::Postgres(p) => sqlx::query_scalar("SELECT password FROM users ORDER BY email").fetch_all(p).await.expect("rows"),
        };
        assert_eq!(stored, vec![a, b, y]);
        for hash in &stored {
            assert!(tessera_runtime::verify_password(hash, "imported-pw").await.expect("verify"), "{hash}");
            assert!(!tessera_runtime::verify_password(hash, "imported-pw ").await.expect("verify"), "{hash}");
        }
        for malformed in ["", "plain", "$2b$10$short", "$2b$10$abcdefghijklmnopqrstuuJ0bq9Nq2b6zKcJ4bP7j0QxVwzGQ7a1e", "$argon2id$v=19$broken"] {
            assert!(!tessera_runtime::verify_password_blocking(malformed, "imported-pw"), "{malformed}");
        }
        // A password changed through an update is hashed with argon2id too.
        engine.update(&ctx(), &update("users", "email=eq.b@example.com", json!({"password": "new-pw"}))).await.expect("update");
        let stored: String = match &pool {
            tessera_testkit::Pool::Sqlite(p) => sqlx::query_scalar("SELECT password FROM users WHERE email = 'b@example.com'").fetch_one(p).await.expect("row"),
            tessera_testkit::Pool::Postgres(p) => sqlx::query_scalar("SELECT password FROM users WHERE email = 'b@example.com'").fetch_one(p).await.expect("row"),
        };
        assert!(stored.starts_with("$argon2id$"), "{stored}");
        assert!(tessera_runtime::verify_password(&stored, "new-pw").await.expect("verify"));
    }

    /// Clients cannot write managed, virtual or readonly fields; actors come from the context.
    async fn managed_fields_are_unforgeable(db: Database) {
        let engine = engine(&db).await;
        let err = engine.insert(&ctx(), &InsertRequest {
            model: "users".into(),
            body: json!({"email": "a@example.com", "password": "x", "name": "A", "createdAt": "2000-01-01T00:00:00Z", "createdById": uuid::Uuid::new_v4(), "is_person": false}),
            ..InsertRequest::default()
        }).await.expect_err("forged");
        assert_eq!(err.kind, ErrorKind::Validation);
        let rules: Vec<&str> = err.errors.iter().map(|e| e.rule.as_str()).collect();
        assert_eq!(rules, ["managed", "managed", "virtual"]);
        let admin = insert(&engine, "users", json!({"email": "root@example.com", "password": "x", "name": "Root"})).await;
        let admin_id = admin[0]["id"].as_str().expect("id").to_owned();
        let as_admin = Caller::user(admin_id.clone());
        let rows = engine.insert(&as_admin, &InsertRequest {
            model: "users".into(),
            body: json!({"email": "b@example.com", "password": "x", "name": "B"}),
            ..InsertRequest::default()
        }).await.expect("insert");
        assert_eq!(rows[0]["createdById"], json!(admin_id));
        assert_eq!(rows[0]["updatedById"], json!(admin_id));
        let err = engine.update(&ctx(), &update("users", "email=eq.b@example.com", json!({"updatedAt": "2000-01-01T00:00:00Z"}))).await.expect_err("forged");
        assert_eq!(err.errors[0].rule, "managed");
    }

    /// Unique and foreign-key violations are conflicts naming the fields.
    async fn constraint_violations_are_conflicts(db: Database) {
        let engine = engine(&db).await;
        insert(&engine, "users", json!({"email": "a@example.com", "password": "x", "name": "A"})).await;
        let err = engine.insert(&ctx(), &InsertRequest {
            model: "users".into(),
            body: json!({"email": "a@example.com", "password": "x", "name": "A"}),
            ..InsertRequest::default()
        }).await.expect_err("duplicate");
        assert_eq!((err.kind, err.code.as_str()), (ErrorKind::Conflict, "23505"));
        assert!(err.message.contains("email"), "{err:?}");
        let err = engine.insert(&ctx(), &InsertRequest {
            model: "pages".into(),
            body: json!({"title": "x", "projectId": uuid::Uuid::new_v4()}),
            ..InsertRequest::default()
        }).await.expect_err("dangling");
        assert_eq!((err.kind, err.code.as_str()), (ErrorKind::Conflict, "23503"));
        let details = err.details.clone().unwrap_or_default();
        assert!(details.contains("fields: projectId"), "the foreign key is named: {err:?}");
        assert!(!details.contains("constraint foreign key;"), "the constraint is named: {err:?}");
        assert_eq!(get(&engine, "pages", "").await.len(), 0, "nothing is half-written");
    }

    /// An import hash already present is a conflict; ignore-duplicates skips it.
    async fn import_hash_dedup(db: Database) {
        let engine = engine(&db).await;
        let row = json!({"email": "a@example.com", "password": "x", "name": "A", "importHash": "h1"});
        insert(&engine, "users", row.clone()).await;
        let err = engine.insert(&ctx(), &InsertRequest { model: "users".into(), body: row.clone(), ..InsertRequest::default() }).await.expect_err("dup");
        assert_eq!(err.kind, ErrorKind::Conflict);
        assert!(err.message.contains("importHash"));
        let rows = engine.insert(&ctx(), &InsertRequest {
            model: "users".into(),
            body: row,
            resolution: Some(Resolution::IgnoreDuplicates),
            on_conflict: Some(vec!["importHash".into()]),
            ..InsertRequest::default()
        }).await.expect("skipped");
        assert!(rows.is_empty());
    }

    /// Upserts: merge-duplicates updates the existing row, ignore-duplicates keeps it.
    async fn upsert_resolutions(db: Database) {
        let engine = engine(&db).await;
        insert(&engine, "permissions", json!({"name": "READ"})).await;
        let upsert = |resolution, name: &str| InsertRequest {
            model: "permissions".into(),
            body: json!([{"name": name}, {"name": "WRITE"}]),
            resolution: Some(resolution),
            on_conflict: Some(vec!["name".into()]),
            ..InsertRequest::default()
        };
        let rows = engine.insert(&ctx(), &upsert(Resolution::IgnoreDuplicates, "READ")).await.expect("upsert");
        assert_eq!(rows.len(), 1, "the existing row is skipped");
        let before = get(&engine, "permissions", "name=eq.READ").await;
        let rows = engine.insert(&ctx(), &upsert(Resolution::MergeDuplicates, "READ")).await.expect("upsert");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0]["id"], before[0]["id"], "the existing row is updated in place");
        assert_eq!(get(&engine, "permissions", "").await.len(), 2);
    }

    /// PATCH replaces a JSON field; with json_merge it merges (RFC 7386).
    async fn json_partial_update(db: Database) {
        let engine = engine(&db).await;
        insert(&engine, "users", json!({"email": "a@example.com", "password": "x", "name": "A"})).await;
        let mut req = update("users", "email=eq.a@example.com", json!({"profile": {"language": "hu", "skills": null}}));
        req.json_merge = true;
        let rows = engine.update(&ctx(), &req).await.expect("merge");
        assert_eq!(rows[0]["profile"], json!({"timezone": "UTC", "language": "hu"}));
        let rows = engine.update(&ctx(), &update("users", "email=eq.a@example.com", json!({"profile": {"x": 1}}))).await.expect("replace");
        assert_eq!(rows[0]["profile"], json!({"x": 1}));
    }

    /// Updates and deletes without a filter are refused.
    async fn writes_need_a_filter(db: Database) {
        let engine = engine(&db).await;
        let err = engine.update(&ctx(), &UpdateRequest { model: "users".into(), body: json!({"name": "x"}), ..UpdateRequest::default() }).await.expect_err("no filter");
        assert_eq!((err.kind, err.code.as_str()), (ErrorKind::BadRequest, "21000"));
        let err = engine.delete(&ctx(), &tessera_runtime::DeleteRequest { model: "users".into(), ..Default::default() }).await.expect_err("no filter");
        assert_eq!(err.kind, ErrorKind::BadRequest);
    }

    /// An update that sets nothing (`{}` on a model with no update time to maintain) does
    /// not touch the database, as in PostgREST: it changes no row and answers none.
    async fn an_update_setting_nothing_changes_nothing(db: Database) {
        let engine = engine(&db).await;
        insert(&engine, "permissions", json!({"name": "READ"})).await;
        let rows = engine.update(&ctx(), &update("permissions", "name=eq.READ", json!({}))).await.expect("no change");
        assert!(rows.is_empty(), "{rows:?}");
        assert_eq!(get(&engine, "permissions", "name=eq.READ").await.len(), 1);
    }
}
