//! Soft delete with cascades, listing deleted rows, restore, hard delete.

mod common;

use common::*;
use serde_json::json;
use tessera_runtime::{parse_write_query, DeleteRequest, ErrorKind, RestoreRequest};
use tessera_testkit::{engine_tests, Database};

fn delete(model: &str, filter: &str, hard: bool) -> DeleteRequest {
    DeleteRequest {
        model: model.into(),
        filter: parse_write_query(&pairs(filter)).expect("filter").filter,
        hard,
        ..DeleteRequest::default()
    }
}

fn restore(model: &str, filter: &str) -> RestoreRequest {
    RestoreRequest {
        model: model.into(),
        filter: parse_write_query(&pairs(filter)).expect("filter").filter,
        ..RestoreRequest::default()
    }
}

engine_tests! {
    /// Deleting a project soft-deletes it and its pages (nested too); reads and embeds
    /// hide them; restore brings back exactly what the delete took.
    async fn soft_delete_cascades_and_restores(db: Database) {
        let engine = engine(&db).await;
        let ids = seed(&engine).await;
        let alpha = ids["alpha"].as_str().expect("id");
        // A page deleted earlier on its own stays deleted after the restore.
        engine.delete(&ctx(), &delete("pages", "title=eq.home", false)).await.expect("delete page");
        let deleted = engine.delete(&ctx(), &delete("projects", &format!("id=eq.{alpha}"), false)).await.expect("delete");
        assert!(deleted[0]["deletedAt"].is_string());
        assert_eq!(get(&engine, "projects", "select=name").await, vec![json!({"name": "Beta"})]);
        assert_eq!(get(&engine, "pages", "select=title&order=title").await, vec![json!({"title": "intro"})]);
        let rows = get(&engine, "users", "select=name,projects(name)&name=eq.Ann").await;
        assert_eq!(rows[0]["projects"], json!([]));
        let listed = get(&engine, "projects", "select=name&_deleted=only").await;
        assert_eq!(listed, vec![json!({"name": "Alpha"})]);
        assert_eq!(get(&engine, "projects", "_deleted=include").await.len(), 2);
        let restored = engine.restore(&ctx(), &restore("projects", &format!("id=eq.{alpha}"))).await.expect("restore");
        assert_eq!(restored[0]["deletedAt"], json!(null));
        let pages = get(&engine, "pages", &format!("select=title&projectId=eq.{alpha}")).await;
        let mut titles: Vec<&str> = pages.iter().filter_map(|p| p["title"].as_str()).collect();
        titles.sort();
        assert_eq!(titles, ["about", "team"]);
    }

    /// Deleting a user sets the owner of their projects to null (set_null).
    async fn soft_delete_applies_set_null(db: Database) {
        let engine = engine(&db).await;
        let ids = seed(&engine).await;
        engine.delete(&ctx(), &delete("users", "name=eq.Ann", false)).await.expect("delete");
        let rows = get(&engine, "projects", &format!("select=ownerId&id=eq.{}", ids["alpha"].as_str().expect("id"))).await;
        assert_eq!(rows[0]["ownerId"], json!(null));
    }

    /// A restrict relation with live rows refuses the delete, naming the relation.
    async fn restrict_refuses(db: Database) {
        let engine = engine(&db).await;
        let ids = seed(&engine).await;
        insert(&engine, "blocker", json!({"name": "b", "projectId": ids["beta"]})).await;
        let err = engine.delete(&ctx(), &delete("projects", "name=eq.Beta", false)).await.expect_err("restricted");
        assert_eq!((err.kind, err.code.as_str()), (ErrorKind::Conflict, "23503"));
        assert!(err.message.contains("blocker.project"), "{}", err.message);
        assert_eq!(get(&engine, "projects", "name=eq.Beta").await.len(), 1);
    }

    /// Hard delete only where the schema allows it.
    async fn hard_delete_needs_permission(db: Database) {
        let engine = engine(&db).await;
        seed(&engine).await;
        let err = engine.delete(&ctx(), &delete("projects", "name=eq.Beta", true)).await.expect_err("forbidden");
        assert_eq!(err.kind, ErrorKind::Forbidden);
        insert(&engine, "guarded", json!({"name": "g"})).await;
        engine.delete(&ctx(), &delete("guarded", "name=eq.g", false)).await.expect("soft");
        engine.delete(&ctx(), &delete("guarded", "name=eq.g", true)).await.expect("hard");
        assert!(get(&engine, "guarded", "_deleted=include").await.is_empty());
        // Models without soft delete are deleted for good.
        engine.delete(&ctx(), &delete("links", "label=eq.main", false)).await.expect("delete");
        assert!(get(&engine, "links", "").await.is_empty());
    }
}
