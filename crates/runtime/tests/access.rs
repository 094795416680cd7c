//! Access rules (`@@allow`): what anonymous callers and signed-in users may do, and on
//! which rows; the service bypasses them.

mod common;

use common::{checked, delete_as, engine_with, id, insert_as, pairs, read_as, update_as};
use serde_json::{json, Value};
use tessera_runtime::{
    parse_read, parse_write_query, Caller, Deleted, Engine, ErrorKind, InsertRequest, Resolution,
    RestoreRequest, RuntimeError,
};
use tessera_testkit::{engine_tests, Database};

const SCHEMA: &str = r#"
model users {
  @@auth(email: email, password: password, signup: [name])
  @@allow(read, authenticated)
  @@allow(update, id == auth)
  email     text  @unique
  password  text  @hash
  name      text?
  role      text  = "member"
  notes     notes[]  @relation(createdBy)
}

/// Anyone reads; signed-in users write; only the author changes or deletes.
model notes {
  @@soft_delete
  @@actors(users)
  @@allow(read, public)
  @@allow(create, authenticated)
  @@allow([update, delete], createdBy == auth)
  body      text
  comments  comments[]
}

/// Private to their author, for every operation.
model comments {
  @@actors(users)
  @@allow(all, createdBy == auth)
  body  text
  note  -> notes  @on_delete(cascade)
}

/// No rules: the service key only.
model secrets {
  value  text
}
"#;

async fn engine(db: &Database) -> Engine {
    engine_with(db, checked("access.tsr", SCHEMA)).await
}

/// Two users; Ann wrote a note with a comment.
struct World {
    ann: Caller,
    bob: Caller,
    ann_id: String,
    bob_id: String,
    note: String,
    comment: String,
}

async fn world(engine: &Engine) -> World {
    let users = insert_as(
        engine,
        &Caller::service(),
        "users",
        json!([
            {"email": "ann@example.com", "password": "ann-password"},
            {"email": "bob@example.com", "password": "bob-password"}
        ]),
    )
    .await
    .expect("users");
    let (ann_id, bob_id) = (id(&users[0]), id(&users[1]));
    let ann = Caller::user(&ann_id);
    let note = insert_as(engine, &ann, "notes", json!({"body": "hello"}))
        .await
        .expect("Ann writes a note");
    let note = id(&note[0]);
    let comment = insert_as(
        engine,
        &ann,
        "comments",
        json!({"body": "mine", "noteId": note}),
    )
    .await
    .expect("Ann comments");
    World {
        bob: Caller::user(&bob_id),
        ann,
        comment: id(&comment[0]),
        ann_id,
        bob_id,
        note,
    }
}

fn kind(result: Result<Vec<Value>, RuntimeError>) -> (ErrorKind, String) {
    match result {
        Ok(rows) => panic!("expected a refusal, got {rows:?}"),
        Err(e) => (e.kind, e.code.to_string()),
    }
}

engine_tests! {
    /// Reading a model without soft delete needs the read grant alone: Ann, who may
    /// update only her own account, still reads every account.
    async fn reads_of_a_model_without_soft_delete_need_only_the_read_grant(db: Database) {
        let engine = engine(&db).await;
        let w = world(&engine).await;
        let rows = read_as(&engine, &w.ann, "users", "select=email&order=email").await.expect("read");
        assert_eq!(rows, [json!({"email": "ann@example.com"}), json!({"email": "bob@example.com"})]);
    }

    /// A model without rules refuses anonymous callers (401) and users (403), not the service.
    async fn a_model_without_rules_is_closed_to_everyone_but_the_service(db: Database) {
        let engine = engine(&db).await;
        let w = world(&engine).await;
        let anonymous = read_as(&engine, &Caller::anonymous(), "secrets", "").await;
        assert_eq!(kind(anonymous), (ErrorKind::Unauthorized, "42501".into()));
        let user = insert_as(&engine, &w.ann, "secrets", json!({"value": "x"})).await;
        assert_eq!(kind(user), (ErrorKind::Forbidden, "42501".into()));
        assert!(read_as(&engine, &Caller::service(), "secrets", "").await.is_ok());
    }

    /// `public` lets anonymous callers read; `authenticated` rules do not cover them.
    async fn public_rules_admit_anonymous_callers_and_authenticated_ones_do_not(db: Database) {
        let engine = engine(&db).await;
        let w = world(&engine).await;
        let notes = read_as(&engine, &Caller::anonymous(), "notes", "select=id,body").await.expect("public read");
        assert_eq!(notes, vec![json!({"id": w.note, "body": "hello"})]);
        let write = insert_as(&engine, &Caller::anonymous(), "notes", json!({"body": "spam"})).await;
        assert_eq!(kind(write).0, ErrorKind::Unauthorized);
        let users = read_as(&engine, &Caller::anonymous(), "users", "").await;
        assert_eq!(kind(users).0, ErrorKind::Unauthorized);
    }

    /// Creates by a user fill the actor columns with the user's id.
    async fn a_users_create_records_them_as_its_author(db: Database) {
        let engine = engine(&db).await;
        let w = world(&engine).await;
        let rows = insert_as(&engine, &w.bob, "notes", json!({"body": "bob's"})).await.expect("create");
        assert_eq!(rows[0]["createdById"], json!(w.bob_id));
        assert_eq!(rows[0]["updatedById"], json!(w.bob_id));
    }

    /// Row rules filter reads: a user sees only their own comments, others see none.
    async fn row_rules_hide_other_users_rows_from_reads(db: Database) {
        let engine = engine(&db).await;
        let w = world(&engine).await;
        let mine = read_as(&engine, &w.ann, "comments", "select=id").await.expect("read");
        assert_eq!(mine, vec![json!({"id": w.comment})]);
        let theirs = read_as(&engine, &w.bob, "comments", "select=id").await.expect("read");
        assert_eq!(theirs, Vec::<Value>::new());
        let anonymous = read_as(&engine, &Caller::anonymous(), "comments", "").await;
        assert_eq!(kind(anonymous).0, ErrorKind::Unauthorized);
    }

    /// Counts (`Prefer: count=exact`) count only the rows the caller may see.
    async fn counts_include_only_visible_rows(db: Database) {
        let engine = engine(&db).await;
        let w = world(&engine).await;
        insert_as(&engine, &w.ann, "comments", json!({"body": "second", "noteId": w.note})).await.expect("comment");
        let mut req = parse_read("comments", &pairs("select=id&limit=1")).expect("parse");
        req.count = true;
        assert_eq!(engine.read(&w.ann, &req).await.expect("read").total, Some(2));
        assert_eq!(engine.read(&w.bob, &req).await.expect("read").total, Some(0));
    }

    /// Embedded rows obey their own model's rules: Bob embeds a public note but not Ann's
    /// comments on it; embedding a model the caller may not read at all is refused.
    async fn embeds_apply_the_embedded_models_rules(db: Database) {
        let engine = engine(&db).await;
        let w = world(&engine).await;
        let bob_view = read_as(&engine, &w.bob, "notes", "select=id,comments(id)").await.expect("read");
        assert_eq!(bob_view, vec![json!({"id": w.note, "comments": []})]);
        let ann_view = read_as(&engine, &w.ann, "notes", "select=id,comments(id)").await.expect("read");
        assert_eq!(ann_view, vec![json!({"id": w.note, "comments": [{"id": w.comment}]})]);
        let anonymous = read_as(&engine, &Caller::anonymous(), "notes", "select=id,createdBy(email)").await;
        assert_eq!(kind(anonymous).0, ErrorKind::Unauthorized);
    }

    /// `!inner` embeds count only rows the caller may see.
    async fn inner_embeds_only_match_visible_rows(db: Database) {
        let engine = engine(&db).await;
        let w = world(&engine).await;
        let bob_view = read_as(&engine, &w.bob, "notes", "select=id,comments!inner(id)").await.expect("read");
        assert_eq!(bob_view, Vec::<Value>::new());
        let ann_view = read_as(&engine, &w.ann, "notes", "select=id,comments!inner(id)").await.expect("read");
        assert_eq!(ann_view.len(), 1);
    }

    /// Updates and deletes touch only the caller's own rows; others' rows are left as they are.
    async fn row_rules_limit_updates_and_deletes_to_own_rows(db: Database) {
        let engine = engine(&db).await;
        let w = world(&engine).await;
        let filter = format!("id=eq.{}", w.note);
        let by_bob = update_as(&engine, &w.bob, "notes", &filter, json!({"body": "defaced"})).await.expect("update");
        assert!(by_bob.is_empty());
        let deleted = delete_as(&engine, &w.bob, "notes", &filter).await.expect("delete");
        assert!(deleted.is_empty());
        let stored = read_as(&engine, &Caller::service(), "notes", "select=body").await.expect("read");
        assert_eq!(stored, vec![json!({"body": "hello"})]);
        let by_ann = update_as(&engine, &w.ann, "notes", &filter, json!({"body": "edited"})).await.expect("update");
        assert_eq!(by_ann[0]["body"], json!("edited"));
        assert_eq!(delete_as(&engine, &w.ann, "notes", &filter).await.expect("delete").len(), 1);
    }

    /// A create under a row rule must produce a row of the caller's; an update may not
    /// hand a row to someone else.
    async fn row_rules_check_written_rows(db: Database) {
        let engine = engine(&db).await;
        let w = world(&engine).await;
        // Ann's own account: she may update it, but not another's.
        let own = update_as(&engine, &w.ann, "users", &format!("id=eq.{}", w.ann_id), json!({"name": "Ann"})).await.expect("own");
        assert_eq!(own.len(), 1);
        let other = update_as(&engine, &w.ann, "users", &format!("id=eq.{}", w.bob_id), json!({"name": "Mallory"})).await.expect("other");
        assert!(other.is_empty());
        // A comment's author column is engine-managed: it cannot name someone else.
        let forged = insert_as(&engine, &w.bob, "comments", json!({"body": "x", "noteId": w.note, "createdById": w.ann_id})).await;
        assert_eq!(kind(forged).0, ErrorKind::Validation);
    }

    /// On their own account a user edits the profile (sign-up fields, email, password), not
    /// the fields that grant rights.
    async fn users_cannot_change_the_rights_of_their_own_account(db: Database) {
        let engine = engine(&db).await;
        let w = world(&engine).await;
        let own = format!("id=eq.{}", w.ann_id);
        let promoted = update_as(&engine, &w.ann, "users", &own, json!({"role": "admin"})).await;
        let error = match promoted {
            Ok(rows) => panic!("a user promoted themselves: {rows:?}"),
            Err(error) => error,
        };
        assert_eq!((error.kind, error.errors[0].field.as_str()), (ErrorKind::Validation, "role"));
        let renamed = update_as(&engine, &w.ann, "users", &own, json!({"name": "Ann", "password": "new-password"})).await.expect("profile");
        assert_eq!(renamed[0]["role"], json!("member"));
        let by_service = update_as(&engine, &Caller::service(), "users", &own, json!({"role": "admin"})).await.expect("service");
        assert_eq!(by_service[0]["role"], json!("admin"));
    }

    /// Without any user, a create under a row rule is refused: the row would be no one's.
    async fn row_rule_creates_need_a_signed_in_user(db: Database) {
        let engine = engine(&db).await;
        let w = world(&engine).await;
        let result = insert_as(&engine, &Caller::anonymous(), "comments", json!({"body": "x", "noteId": w.note})).await;
        assert_eq!(kind(result).0, ErrorKind::Unauthorized);
    }

    /// Soft-deleted rows (the trash) are listed and restored only with the update right,
    /// and only the caller's own.
    async fn the_trash_needs_the_update_right(db: Database) {
        let engine = engine(&db).await;
        let w = world(&engine).await;
        delete_as(&engine, &w.ann, "notes", &format!("id=eq.{}", w.note)).await.expect("delete");
        let anonymous = read_as(&engine, &Caller::anonymous(), "notes", "_deleted=only").await;
        assert_eq!(kind(anonymous).0, ErrorKind::Unauthorized);
        let mut req = parse_read("notes", &pairs("select=id")).expect("parse");
        req.deleted = Deleted::Only;
        let bob_trash = engine.read(&w.bob, &req).await.expect("read").rows;
        assert!(bob_trash.is_empty());
        let ann_trash = engine.read(&w.ann, &req).await.expect("read").rows;
        assert_eq!(ann_trash, vec![json!({"id": w.note})]);
        let restore = |ctx: Caller| {
            let engine = engine.clone();
            let filter = parse_write_query(&pairs(&format!("id=eq.{}", w.note))).expect("filter").filter;
            async move {
                engine.restore(&ctx, &RestoreRequest { model: "notes".into(), filter, ..RestoreRequest::default() }).await
            }
        };
        assert!(restore(w.bob.clone()).await.expect("restore").is_empty());
        assert_eq!(restore(w.ann.clone()).await.expect("restore").len(), 1);
    }

    /// Merging duplicates could overwrite another's row: it needs the right to update every row.
    async fn upserts_with_merge_need_unrestricted_update(db: Database) {
        let engine = engine(&db).await;
        let w = world(&engine).await;
        let result = engine
            .insert(
                &w.bob,
                &InsertRequest {
                    model: "notes".into(),
                    body: json!({"id": w.note, "body": "taken over"}),
                    resolution: Some(Resolution::MergeDuplicates),
                    ..InsertRequest::default()
                },
            )
            .await;
        assert_eq!(kind(result).0, ErrorKind::Forbidden);
        let stored = read_as(&engine, &Caller::service(), "notes", "select=body").await.expect("read");
        assert_eq!(stored, vec![json!({"body": "hello"})]);
    }
}
