//! Rules of single fields (`@allow` on a field, `@internal`): a field the caller may not
//! read reads as null on the rows where it is hidden, in every place a value is seen
//! (select, embeds, filters, orders, write filters, representations); a field the caller
//! may not write refuses the write that sets it, and nothing changes.

mod common;

use common::{checked, delete_as, engine_with, id, insert_as, read_as, update_as};
use serde_json::{json, Value};
use tessera_runtime::{Caller, Engine, ErrorKind};
use tessera_testkit::{engine_tests, Database};

const SCHEMA: &str = r#"
enum Level { editor reviewer }

model users {
  @@auth(email: email, password: password)
  @@allow(read, authenticated)
  @@allow(update, id == auth)
  email     text  @unique  @allow(read, id == auth || auth.role == "admin")
  password  text  @hash
  role      text  = "member"
  apiToken  text? @internal
  pages        pages[]    @relation(author)
  memberships  members[]
}

model members {
  @@allow(read, authenticated)
  user   -> users
  level  Level
}

/// Reviewers change a page's status; only editors its title.
model pages {
  @@allow(read, authenticated)
  @@allow(create, authenticated)
  @@allow(update, auth.memberships.some(level in [editor, reviewer]))
  title   text  @allow([create, update], auth.memberships.some(level == editor))
  status  text  = "draft"
  note    text? @allow(read, author == auth)
  author  -> users  @allow(update, auth.role == "admin")
}
"#;

fn schema() -> tessera_schema::Schema {
    checked("fields.tsr", SCHEMA)
}

struct World {
    admin: Caller,
    editor: Caller,
    reviewer: Caller,
    editor_id: String,
    reviewer_id: String,
    page: String,
}

async fn world(engine: &Engine) -> World {
    let service = Caller::service();
    let users = insert_as(
        engine,
        &service,
        "users",
        json!([
            {"email": "ada@example.com", "password": "pass-word", "role": "admin", "apiToken": "t-ada"},
            {"email": "eve@example.com", "password": "pass-word", "apiToken": "t-eve"},
            {"email": "rex@example.com", "password": "pass-word"}
        ]),
    )
    .await
    .expect("users");
    let (admin_id, editor_id, reviewer_id) = (id(&users[0]), id(&users[1]), id(&users[2]));
    insert_as(
        engine,
        &service,
        "members",
        json!([
            {"userId": editor_id, "level": "editor"},
            {"userId": reviewer_id, "level": "reviewer"}
        ]),
    )
    .await
    .expect("members");
    let pages = insert_as(
        engine,
        &service,
        "pages",
        json!({"title": "Home", "note": "draft by eve", "authorId": editor_id}),
    )
    .await
    .expect("pages");
    World {
        admin: Caller::user(admin_id),
        editor: Caller::user(editor_id.clone()),
        reviewer: Caller::user(reviewer_id.clone()),
        editor_id,
        reviewer_id,
        page: id(&pages[0]),
    }
}

async fn setup(db: &Database) -> (Engine, World) {
    let engine = engine_with(db, schema()).await;
    let world = world(&engine).await;
    (engine, world)
}

fn emails(rows: &[Value]) -> Vec<Value> {
    rows.iter().map(|r| r["email"].clone()).collect()
}

engine_tests! {
    async fn a_hidden_field_reads_as_null_where_its_rule_does_not_hold(db: Database) {
        let (engine, w) = setup(&db).await;
        let rows = read_as(&engine, &w.editor, "users", "select=id,email&order=email").await.expect("allowed");
        assert_eq!(
            emails(&rows),
            vec![json!("eve@example.com"), Value::Null, Value::Null],
            "the editor sees their own email only, the others sorting as nulls: {rows:?}"
        );
        let rows = read_as(&engine, &w.admin, "users", "select=email&order=email").await.expect("allowed");
        assert_eq!(
            emails(&rows),
            vec![json!("ada@example.com"), json!("eve@example.com"), json!("rex@example.com")],
            "the admin sees every email"
        );
    }

    async fn the_service_key_reads_every_field(db: Database) {
        let (engine, _) = setup(&db).await;
        let rows = read_as(&engine, &Caller::service(), "users", "select=email,apiToken&order=email").await.expect("allowed");
        assert_eq!(rows[0], json!({"email": "ada@example.com", "apiToken": "t-ada"}));
    }

    async fn an_internal_field_reads_as_null_for_every_user(db: Database) {
        let (engine, w) = setup(&db).await;
        for caller in [&w.admin, &w.editor] {
            let rows = read_as(&engine, caller, "users", "select=apiToken").await.expect("allowed");
            assert!(rows.iter().all(|r| r["apiToken"].is_null()), "{rows:?}");
        }
    }

    async fn a_filter_on_a_hidden_field_judges_the_null_the_caller_sees(db: Database) {
        let (engine, w) = setup(&db).await;
        let probe = read_as(&engine, &w.editor, "users", "email=eq.ada@example.com").await.expect("allowed");
        assert!(probe.is_empty(), "a hidden email must not be matched: {probe:?}");
        let probe = read_as(&engine, &w.editor, "users", "email=like.ada*").await.expect("allowed");
        assert!(probe.is_empty(), "nor matched by pattern: {probe:?}");
        let negated = read_as(&engine, &w.editor, "users", "email=not.eq.nobody@example.com").await.expect("allowed");
        assert_eq!(negated.len(), 1, "not.eq holds on the visible email only: {negated:?}");
        let nulls = read_as(&engine, &w.editor, "users", "email=is.null").await.expect("allowed");
        assert_eq!(nulls.len(), 2, "hidden emails are null to the editor: {nulls:?}");
        let token = read_as(&engine, &w.admin, "users", "apiToken=eq.t-eve").await.expect("allowed");
        assert!(token.is_empty(), "an internal field matches nothing: {token:?}");
        let either = read_as(&engine, &w.editor, "users", "or=(email.eq.ada@example.com,role.eq.admin)").await.expect("allowed");
        assert_eq!(either.len(), 1, "or= reaches the admin by role only: {either:?}");
    }

    async fn an_order_on_a_hidden_field_sorts_the_hidden_values_as_null(db: Database) {
        let (engine, w) = setup(&db).await;
        let rows = read_as(&engine, &w.editor, "users", "select=id,email&order=email.desc.nullslast,id").await.expect("allowed");
        assert_eq!(rows[0]["email"], json!("eve@example.com"));
        let mut hidden: Vec<String> = rows[1..].iter().map(|r| r["id"].as_str().expect("id").to_owned()).collect();
        let mut sorted = hidden.clone();
        sorted.sort();
        hidden.sort();
        assert_eq!(hidden, sorted, "the hidden rows tie and fall back to the key");
    }

    async fn an_embedded_field_is_hidden_as_at_the_top(db: Database) {
        let (engine, w) = setup(&db).await;
        let rows = read_as(&engine, &w.reviewer, "pages", "select=title,note,author(email)").await.expect("allowed");
        assert_eq!(rows, vec![json!({"title": "Home", "note": null, "author": {"email": null}})]);
        let query = format!("select=email,pages(note)&id=eq.{}", w.editor_id);
        let rows = read_as(&engine, &w.editor, "users", &query).await.expect("allowed");
        assert_eq!(rows, vec![json!({"email": "eve@example.com", "pages": [{"note": "draft by eve"}]})]);
    }

    async fn a_write_filter_on_a_hidden_field_reaches_no_row(db: Database) {
        let (engine, w) = setup(&db).await;
        // The reviewer may update pages, but not find one by a note they cannot read.
        let changed = update_as(&engine, &w.reviewer, "pages", "note=eq.draft by eve", json!({"status": "review"})).await.expect("allowed");
        assert!(changed.is_empty(), "{changed:?}");
        let deleted = delete_as(&engine, &w.admin, "users", "apiToken=eq.t-eve").await;
        assert!(deleted.map(|rows| rows.is_empty()).unwrap_or(true), "an internal field finds no row to delete");
    }

    async fn a_reviewer_changes_the_status_but_not_the_title(db: Database) {
        let (engine, w) = setup(&db).await;
        let filter = format!("id=eq.{}", w.page);
        let changed = update_as(&engine, &w.reviewer, "pages", &filter, json!({"status": "approved"})).await.expect("allowed");
        assert_eq!(changed[0]["status"], json!("approved"));
        let refused = update_as(&engine, &w.reviewer, "pages", &filter, json!({"title": "Mine now"})).await.expect_err("refused");
        assert_eq!(refused.kind, ErrorKind::Forbidden, "{refused:?}");
        let refused = update_as(&engine, &w.reviewer, "pages", &filter, json!({"title": "Mine now", "status": "draft"})).await.expect_err("refused");
        assert_eq!(refused.kind, ErrorKind::Forbidden, "{refused:?}");
        let page = read_as(&engine, &Caller::service(), "pages", &filter).await.expect("allowed");
        assert_eq!((&page[0]["title"], &page[0]["status"]), (&json!("Home"), &json!("approved")), "the refused writes changed nothing");
        let changed = update_as(&engine, &w.editor, "pages", &filter, json!({"title": "Welcome"})).await.expect("allowed");
        assert_eq!(changed[0]["title"], json!("Welcome"));
    }

    async fn a_create_may_set_a_guarded_field_only_where_its_rule_holds(db: Database) {
        let (engine, w) = setup(&db).await;
        let refused = insert_as(&engine, &w.reviewer, "pages", json!({"title": "By rex", "authorId": w.reviewer_id})).await.expect_err("refused");
        assert_eq!(refused.kind, ErrorKind::Forbidden, "{refused:?}");
        let created = insert_as(&engine, &w.editor, "pages", json!({"title": "By eve", "authorId": w.editor_id})).await.expect("allowed");
        assert_eq!(created[0]["title"], json!("By eve"));
        let all = read_as(&engine, &Caller::service(), "pages", "select=title&order=title").await.expect("allowed");
        assert_eq!(all, vec![json!({"title": "By eve"}), json!({"title": "Home"})], "the refused create wrote nothing");
    }

    async fn a_relation_with_a_rule_is_moved_only_by_those_it_names(db: Database) {
        let (engine, w) = setup(&db).await;
        let filter = format!("id=eq.{}", w.page);
        let refused = update_as(&engine, &w.editor, "pages", &filter, json!({"authorId": w.reviewer_id})).await.expect_err("refused");
        assert_eq!(refused.kind, ErrorKind::Forbidden, "{refused:?}");
        let refused = update_as(&engine, &w.editor, "pages", &filter, json!({"author": w.reviewer_id})).await.expect_err("refused");
        assert_eq!(refused.kind, ErrorKind::Forbidden, "the relation's name is the same field: {refused:?}");
    }

    async fn an_internal_field_is_written_with_the_service_key_only(db: Database) {
        let (engine, w) = setup(&db).await;
        let filter = format!("id=eq.{}", w.editor_id);
        let refused = update_as(&engine, &w.editor, "users", &filter, json!({"apiToken": "chosen"})).await.expect_err("refused");
        assert_eq!(refused.kind, ErrorKind::Forbidden, "{refused:?}");
        assert!(refused.to_string().contains("users.apiToken"), "the error names the field: {refused}");
        let stored = read_as(&engine, &Caller::service(), "users", &format!("{filter}&select=apiToken")).await.expect("allowed");
        assert_eq!(stored[0]["apiToken"], json!("t-eve"));
    }
}
