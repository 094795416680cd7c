//! Publishing environment content (dev -> stage -> production) with the tour builder
//! schema: lineage, in-place updates, deletions, the publish log, failures.

#![allow(clippy::result_large_err)]

use serde_json::{json, Value};
use tessera_runtime::{
    parse_write_query, Caller, Engine, ErrorKind, PublishRequest, RuntimeError, ScopeRow,
    UpdateRequest,
};
use tessera_testkit::{engine_tests, Database};

mod common;
use common::{get, insert, pairs};

fn tour_builder() -> tessera_schema::Schema {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../apps/tour-builder/schema.tsr"
    );
    let source = std::fs::read_to_string(path).expect("tour builder schema");
    common::checked("schema.tsr", &source)
}

async fn engine(db: &Database) -> Engine {
    common::engine_with(db, tour_builder()).await
}

async fn publish(
    engine: &Engine,
    ctx: &Caller,
    project: &Value,
    from: &str,
    to: &str,
) -> Result<Value, RuntimeError> {
    engine
        .publish(
            ctx,
            &PublishRequest {
                scope_model: "projects".into(),
                scope: ScopeRow::Key(project.clone()),
                from: from.into(),
                to: to.into(),
            },
        )
        .await
}

/// A project with two dev pages, a dev transition setting and a dev audio track.
async fn seed(engine: &Engine) -> (Value, Vec<Value>) {
    let project = insert(engine, "projects", json!({"name": "Tour", "slug": "tour"})).await;
    let id = project[0]["id"].clone();
    let pages = insert(
        engine,
        "tour_pages",
        json!([
            {"projectId": id, "name": "Home", "slug": "home", "sort_order": 1, "ui_schema_json": {"buttons": [1, 2]}},
            {"projectId": id, "name": "About", "slug": "about", "sort_order": 2}
        ]),
    )
    .await;
    insert(
        engine,
        "project_transition_settings",
        json!({"projectId": id, "environment": "dev", "duration_ms": 300}),
    )
    .await;
    insert(
        engine,
        "project_audio_tracks",
        json!({"projectId": id, "environment": "dev", "name": "Theme", "volume": 0.5}),
    )
    .await;
    (id, pages)
}

fn by_slug<'a>(rows: &'a [Value], slug: &str) -> &'a Value {
    rows.iter()
        .find(|r| r["slug"] == json!(slug))
        .unwrap_or_else(|| panic!("no row with slug {slug} in {rows:?}"))
}

engine_tests! {
    /// dev -> stage copies every content model with lineage and records a successful run.
    async fn publish_copies_content_with_lineage(db: Database) {
        let engine = engine(&db).await;
        let user = insert(&engine, "users", json!({"email": "ed@example.com", "password": "editor-pw"})).await;
        let user_id = user[0]["id"].as_str().expect("user id").to_owned();
        let (project, pages) = seed(&engine).await;
        insert(
            &engine,
            "project_memberships",
            json!({"projectId": project, "userId": user_id, "access_level": "editor", "is_active": true}),
        )
        .await;
        let log = publish(&engine, &Caller::user(user_id.clone()), &project, "dev", "stage").await.expect("an editor publishes");
        assert_eq!(log["status"], json!("success"), "{log}");
        assert_eq!(log["from_environment"], json!("dev"));
        assert_eq!(log["to_environment"], json!("stage"));
        assert_eq!(log["pages_copied"], json!(2));
        assert_eq!(log["transitions_copied"], json!(1));
        assert_eq!(log["audios_copied"], json!(1));
        assert_eq!(log["projectId"], project);
        assert_eq!(log["userId"], json!(user_id));
        assert_eq!(log["error_message"], json!(null));
        assert!(log["started_at"].is_string() && log["finished_at"].is_string(), "{log}");

        let stage = get(&engine, "tour_pages", "environment=eq.stage&order=sort_order").await;
        assert_eq!(stage.len(), 2);
        for (copy, source) in stage.iter().zip(&pages) {
            assert_ne!(copy["id"], source["id"]);
            assert_eq!(copy["source_key"], source["id"]);
            assert_eq!(copy["projectId"], project);
            for field in ["name", "slug", "sort_order", "ui_schema_json", "requires_auth"] {
                assert_eq!(copy[field], source[field], "{field}");
            }
            assert_eq!(copy["importHash"], json!(null));
            assert_eq!(copy["createdById"], json!(user_id));
        }
        // The dev rows are untouched.
        let dev = get(&engine, "tour_pages", "environment=eq.dev").await;
        assert_eq!(dev.len(), 2);
        assert!(dev.iter().all(|r| r["source_key"].is_null()));
        let transitions = get(&engine, "project_transition_settings", "environment=eq.stage").await;
        assert_eq!(transitions.len(), 1);
        assert_eq!(transitions[0]["duration_ms"], json!(300));
        let tracks = get(&engine, "project_audio_tracks", "environment=eq.stage").await;
        assert_eq!(tracks.len(), 1);
        assert_eq!((&tracks[0]["name"], &tracks[0]["volume"]), (&json!("Theme"), &json!(0.5)));
        let logs = get(&engine, "publish_events", "").await;
        assert_eq!(logs, vec![log]);
    }

    /// A second run updates the copies in place and deletes copies whose source is gone.
    async fn republish_updates_in_place_and_removes_orphans(db: Database) {
        let engine = engine(&db).await;
        let (project, pages) = seed(&engine).await;
        publish(&engine, &Caller::service(), &project, "dev", "stage").await.expect("first");
        let before = get(&engine, "tour_pages", "environment=eq.stage").await;
        let home_copy = by_slug(&before, "home")["id"].clone();
        let about_copy = by_slug(&before, "about")["id"].clone();

        let home = pages[0]["id"].as_str().expect("id");
        let about = pages[1]["id"].as_str().expect("id");
        let filter = |q: &str| parse_write_query(&pairs(q)).expect("filter").filter;
        engine.update(&Caller::service(), &UpdateRequest {
            model: "tour_pages".into(),
            filter: filter(&format!("id=eq.{home}")),
            body: json!({"name": "Welcome", "ui_schema_json": {"buttons": []}}),
            ..UpdateRequest::default()
        }).await.expect("edit");
        engine.delete(&Caller::service(), &tessera_runtime::DeleteRequest {
            model: "tour_pages".into(),
            filter: filter(&format!("id=eq.{about}")),
            ..Default::default()
        }).await.expect("delete");
        insert(&engine, "tour_pages", json!({"projectId": project, "name": "Map", "slug": "map"})).await;

        let log = publish(&engine, &Caller::service(), &project, "dev", "stage").await.expect("second");
        assert_eq!((&log["status"], &log["pages_copied"]), (&json!("success"), &json!(2)), "{log}");
        let after = get(&engine, "tour_pages", "environment=eq.stage").await;
        assert_eq!(after.len(), 2, "{after:?}");
        let welcome = by_slug(&after, "home");
        assert_eq!(welcome["id"], home_copy, "updated in place");
        assert_eq!(welcome["name"], json!("Welcome"));
        assert_eq!(welcome["ui_schema_json"], json!({"buttons": []}));
        assert_eq!(by_slug(&after, "map")["source_key"].as_str().map(str::len), Some(36));
        let deleted = get(&engine, "tour_pages", "environment=eq.stage&_deleted=only").await;
        assert_eq!(deleted.len(), 1);
        assert_eq!(deleted[0]["id"], about_copy);
        // Still one transition setting and one track in stage (updated, not duplicated).
        assert_eq!(get(&engine, "project_transition_settings", "environment=eq.stage").await.len(), 1);
        assert_eq!(get(&engine, "project_audio_tracks", "environment=eq.stage").await.len(), 1);
    }

    /// stage -> production follows; lineage points at the original dev row.
    async fn stage_publishes_to_production(db: Database) {
        let engine = engine(&db).await;
        let (project, pages) = seed(&engine).await;
        publish(&engine, &Caller::service(), &project, "dev", "stage").await.expect("stage");
        let log = publish(&engine, &Caller::service(), &project, "stage", "production").await.expect("production");
        assert_eq!((&log["status"], &log["pages_copied"]), (&json!("success"), &json!(2)), "{log}");
        let prod = get(&engine, "tour_pages", "environment=eq.production").await;
        assert_eq!(prod.len(), 2);
        assert_eq!(by_slug(&prod, "home")["source_key"], pages[0]["id"]);
        // Publishing again updates the production copies instead of duplicating them.
        publish(&engine, &Caller::service(), &project, "stage", "production").await.expect("again");
        assert_eq!(get(&engine, "tour_pages", "environment=eq.production").await.len(), 2);
        assert_eq!(get(&engine, "tour_pages", "environment=eq.production&_deleted=only").await.len(), 0);
    }

    /// Skipping an environment, going backwards or past the last one is refused.
    async fn publish_only_to_the_next_environment(db: Database) {
        let engine = engine(&db).await;
        let (project, _) = seed(&engine).await;
        let err = publish(&engine, &Caller::service(), &project, "dev", "production").await.expect_err("skip");
        assert_eq!(err.kind, ErrorKind::BadRequest);
        assert!(err.message.contains("stage"), "{err:?}");
        let err = publish(&engine, &Caller::service(), &project, "stage", "dev").await.expect_err("back");
        assert_eq!(err.kind, ErrorKind::BadRequest);
        let err = publish(&engine, &Caller::service(), &project, "production", "dev").await.expect_err("last");
        assert!(err.message.contains("last environment"), "{err:?}");
        let err = publish(&engine, &Caller::service(), &project, "draft", "stage").await.expect_err("unknown");
        assert_eq!(err.kind, ErrorKind::BadRequest);
        assert!(get(&engine, "publish_events", "").await.is_empty());
        assert!(get(&engine, "tour_pages", "environment=eq.production").await.is_empty());
    }

    /// A failing copy changes no content and leaves a failed log row with the error.
    async fn failed_publish_changes_nothing_and_is_logged(db: Database) {
        let engine = engine(&db).await;
        let (project, _) = seed(&engine).await;
        // A stage page with the slug of a dev page but no lineage to it: the copy of
        // "about" violates @@unique([project, environment, slug]).
        insert(&engine, "tour_pages", json!({"projectId": project, "environment": "stage", "name": "Old", "slug": "about", "source_key": "elsewhere"})).await;
        // A stage page whose source is gone: deleted first by the run, then rolled back.
        insert(&engine, "tour_pages", json!({"projectId": project, "environment": "stage", "name": "Legacy", "slug": "legacy", "source_key": "gone"})).await;
        let err = publish(&engine, &Caller::service(), &project, "dev", "stage").await.expect_err("conflict");
        assert_eq!((err.kind, err.code.as_str()), (ErrorKind::Conflict, "23505"), "{err:?}");
        let stage = get(&engine, "tour_pages", "environment=eq.stage&_deleted=include").await;
        assert_eq!(stage.len(), 2, "nothing copied: {stage:?}");
        assert!(stage.iter().all(|r| r["deletedAt"].is_null()), "nothing deleted: {stage:?}");
        assert_eq!(by_slug(&stage, "about")["name"], json!("Old"));
        assert!(get(&engine, "project_transition_settings", "environment=eq.stage").await.is_empty());
        assert!(get(&engine, "project_audio_tracks", "environment=eq.stage").await.is_empty());
        let logs = get(&engine, "publish_events", "").await;
        assert_eq!(logs.len(), 1);
        assert_eq!(logs[0]["status"], json!("failed"));
        assert_eq!(logs[0]["error_message"], json!(err.message));
        assert!(logs[0]["finished_at"].is_string());
        assert_eq!(logs[0]["pages_copied"], json!(null));
    }

    /// Publishing a project that does not exist (or is deleted) is 404 and logs nothing.
    async fn publishing_a_missing_scope_is_not_found(db: Database) {
        let engine = engine(&db).await;
        let missing = json!(uuid::Uuid::new_v4().to_string());
        let err = publish(&engine, &Caller::service(), &missing, "dev", "stage").await.expect_err("missing");
        assert_eq!(err.kind, ErrorKind::NotFound);
        let err = publish(&engine, &Caller::service(), &json!("not-a-uuid"), "dev", "stage").await.expect_err("bad key");
        assert_eq!(err.kind, ErrorKind::BadRequest);
        let (project, _) = seed(&engine).await;
        let id = project.as_str().expect("id");
        engine.delete(&Caller::service(), &tessera_runtime::DeleteRequest {
            model: "projects".into(),
            filter: parse_write_query(&pairs(&format!("id=eq.{id}"))).expect("filter").filter,
            ..Default::default()
        }).await.expect("delete project");
        let err = publish(&engine, &Caller::service(), &project, "dev", "stage").await.expect_err("deleted");
        assert_eq!(err.kind, ErrorKind::NotFound);
        assert!(get(&engine, "publish_events", "").await.is_empty());
        let err = engine.publish(&Caller::service(), &PublishRequest {
            scope_model: "users".into(),
            scope: ScopeRow::Key(missing),
            from: "dev".into(),
            to: "stage".into(),
        }).await.expect_err("no content");
        assert_eq!(err.kind, ErrorKind::BadRequest);
    }
}

/// A project's owner may publish it; the publish log is the engine's record, which no
/// client may write.
const OWNED_CONTENT: &str = r#"
enum Environment { dev stage production }
enum PublishStatus { queued running success failed }

model users {
  @@auth(email: email, password: password)
  email     text  @unique
  password  text  @hash
}

model projects {
  @@allow(read, public)
  @@allow(update, owner == auth)
  name   text
  owner  -> users
}

model pages {
  @@environment(environment, scope: project, lineage: source_key)
  @@allow(read, public)
  environment  Environment  = dev
  source_key   text?
  slug         text
  project      -> projects
}

model publish_events {
  @@publish_log(scope: project, actor: user)
  @@actors(users)
  @@allow(read, public)
  from_environment  Environment
  to_environment    Environment
  status            PublishStatus  = queued
  started_at        timestamptz?
  finished_at       timestamptz?
  error_message     text?
  pages_copied      int?           @copied(pages)
  project           -> projects?
  user              -> users?
}
"#;

engine_tests! {
    /// Publishing takes the right to update the scope row, not to write the log: the log
    /// row of a run is written by the engine and records the caller as its actor, while
    /// clients still cannot write log rows themselves.
    async fn publishing_needs_the_scope_and_writes_a_log_clients_cannot_write(db: Database) {
        let engine = common::engine_with(&db, common::checked("owned.tsr", OWNED_CONTENT)).await;
        let users = insert(
            &engine,
            "users",
            json!([
                {"email": "ann@example.com", "password": "ann-password"},
                {"email": "bob@example.com", "password": "bob-password"}
            ]),
        )
        .await;
        let (ann, bob) = (users[0]["id"].clone(), users[1]["id"].clone());
        let project = insert(&engine, "projects", json!({"name": "Tour", "ownerId": ann})).await;
        let id = project[0]["id"].clone();
        insert(&engine, "pages", json!({"projectId": id, "slug": "home"})).await;
        let as_ann = Caller::user(ann.as_str().expect("id"));
        let as_bob = Caller::user(bob.as_str().expect("id"));

        let err = publish(&engine, &as_bob, &id, "dev", "stage").await.expect_err("not Bob's");
        assert_eq!(err.kind, ErrorKind::NotFound);
        let run = publish(&engine, &as_ann, &id, "dev", "stage").await.expect("Ann publishes");
        assert_eq!(run["status"], "success", "{run}");
        assert_eq!(run["pages_copied"], 1, "{run}");
        assert_eq!((&run["userId"], &run["createdById"], &run["updatedById"]), (&ann, &ann, &ann), "{run}");

        let forged = common::insert_as(
            &engine,
            &as_ann,
            "publish_events",
            json!({"projectId": id, "from_environment": "dev", "to_environment": "stage", "status": "success"}),
        )
        .await
        .expect_err("no client writes the log");
        assert_eq!(forged.kind, ErrorKind::Forbidden);
        assert_eq!(get(&engine, "publish_events", "").await.len(), 1);
    }
}
