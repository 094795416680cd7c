//! Access conditions over related rows and over the caller's account: memberships with
//! access levels, permissions held through a role, `&&`, `||`, `!`, `in`, `some`, `every`
//! and `none` — all applied in the database, on both engines.

mod common;

use common::{checked, delete_as, engine_with, id, insert_as, read_as, update_as};
use serde_json::{json, Value};
use tessera_runtime::{Caller, Engine, ErrorKind, RuntimeError};
use tessera_testkit::{engine_tests, Database};

const SCHEMA: &str = r#"
enum Level { owner editor reviewer viewer }

model permissions {
  name  text  @unique
}

model roles {
  name         text
  permissions  permissions[]  @join_table("rolePermissions")
}

model users {
  @@auth(email: email, password: password)
  @@allow(read, id == auth)
  email     text  @unique
  password  text  @hash
  role      -> roles?
}

/// Public projects are open to everyone; private ones to their members and to holders of
/// the READ_ALL permission.
model projects {
  @@allow(read, !private || members.some(user == auth) || auth.role.permissions.some(name == "READ_ALL"))
  @@allow(create, authenticated)
  @@allow(update, members.some(user == auth && level in [owner, editor]))
  @@allow(delete, owner == auth && members.none(level == viewer))
  name     text
  private  bool  = true
  owner    -> users
  members  members[]
  pages    pages[]
}

/// Removed memberships are kept in the trash, and grant nothing.
model members {
  @@soft_delete
  @@allow(read, user == auth)
  project  -> projects  @on_delete(cascade)
  user     -> users
  level    Level
}

/// Pages are read by every member of their project and written by its owners and editors.
model pages {
  @@allow(read, project.members.some(user == auth))
  @@allow([create, update], project.members.some(user == auth && level in [owner, editor]))
  title    text
  project  -> projects
}
"#;

async fn engine(db: &Database) -> Engine {
    engine_with(db, checked("rules.tsr", SCHEMA)).await
}

/// Accounts named `names` (`NAME@example.com`, password `NAME-password`), made with the
/// service key; answers their ids, in order.
async fn accounts(engine: &Engine, names: &[&str]) -> Vec<String> {
    let body: Vec<Value> = names
        .iter()
        .map(|n| json!({"email": format!("{n}@example.com"), "password": format!("{n}-password")}))
        .collect();
    let rows = insert_as(engine, &Caller::service(), "users", Value::Array(body))
        .await
        .expect("accounts");
    rows.iter().map(id).collect()
}

fn names(rows: &[Value], field: &str) -> Vec<String> {
    let mut names: Vec<String> = rows
        .iter()
        .map(|r| r[field].as_str().expect("text").to_owned())
        .collect();
    names.sort();
    names
}

/// Ann owns the private project "atlas" (Bob edits it, Cat views it) with one page; Dan
/// holds an auditor role with READ_ALL; "open" is a public project of Ann's.
struct World {
    ann: Caller,
    bob: Caller,
    cat: Caller,
    dan: Caller,
    eve: Caller,
    atlas: String,
    page: String,
    cat_membership: String,
}

async fn world(engine: &Engine) -> World {
    let service = Caller::service();
    let read_all = insert_as(engine, &service, "permissions", json!({"name": "READ_ALL"}))
        .await
        .expect("permission");
    let auditor = insert_as(engine, &service, "roles", json!({"name": "auditor"}))
        .await
        .expect("role");
    insert_as(
        engine,
        &service,
        "rolePermissions",
        json!({"roleId": id(&auditor[0]), "permissionId": id(&read_all[0])}),
    )
    .await
    .expect("the auditor role holds READ_ALL");
    let users = insert_as(
        engine,
        &service,
        "users",
        json!([
            {"email": "ann@example.com", "password": "ann-password"},
            {"email": "bob@example.com", "password": "bob-password"},
            {"email": "cat@example.com", "password": "cat-password"},
            {"email": "dan@example.com", "password": "dan-password", "roleId": id(&auditor[0])},
            {"email": "eve@example.com", "password": "eve-password"}
        ]),
    )
    .await
    .expect("users");
    let ids: Vec<String> = users.iter().map(id).collect();
    let projects = insert_as(
        engine,
        &service,
        "projects",
        json!([
            {"name": "atlas", "ownerId": ids[0]},
            {"name": "open", "ownerId": ids[0], "private": false}
        ]),
    )
    .await
    .expect("projects");
    let atlas = id(&projects[0]);
    let members = insert_as(
        engine,
        &service,
        "members",
        json!([
            {"projectId": atlas, "userId": ids[0], "level": "owner"},
            {"projectId": atlas, "userId": ids[1], "level": "editor"},
            {"projectId": atlas, "userId": ids[2], "level": "viewer"}
        ]),
    )
    .await
    .expect("members");
    let page = insert_as(
        engine,
        &service,
        "pages",
        json!({"title": "intro", "projectId": atlas}),
    )
    .await
    .expect("page");
    World {
        ann: Caller::user(&ids[0]),
        bob: Caller::user(&ids[1]),
        cat: Caller::user(&ids[2]),
        dan: Caller::user(&ids[3]),
        eve: Caller::user(&ids[4]),
        atlas,
        page: id(&page[0]),
        cat_membership: id(&members[2]),
    }
}

fn refusal(result: Result<Vec<Value>, RuntimeError>) -> ErrorKind {
    match result {
        Ok(rows) => panic!("expected a refusal, got {rows:?}"),
        Err(e) => e.kind,
    }
}

engine_tests! {
    async fn members_read_their_private_projects_and_others_only_public_ones(db: Database) {
        let engine = engine(&db).await;
        let w = world(&engine).await;
        for member in [&w.ann, &w.bob, &w.cat] {
            let rows = read_as(&engine, member, "projects", "select=name").await.expect("read");
            assert_eq!(names(&rows, "name"), ["atlas", "open"]);
        }
        let rows = read_as(&engine, &w.eve, "projects", "select=name").await.expect("read");
        assert_eq!(names(&rows, "name"), ["open"]);
        let rows = read_as(&engine, &Caller::anonymous(), "projects", "select=name")
            .await
            .expect("anonymous callers read public projects");
        assert_eq!(names(&rows, "name"), ["open"]);
    }

    async fn a_permission_held_through_the_callers_role_opens_every_project(db: Database) {
        let engine = engine(&db).await;
        let w = world(&engine).await;
        let rows = read_as(&engine, &w.dan, "projects", "select=name").await.expect("read");
        assert_eq!(names(&rows, "name"), ["atlas", "open"]);
    }

    async fn rules_over_related_rows_apply_to_embeds_and_counts(db: Database) {
        let engine = engine(&db).await;
        let w = world(&engine).await;
        let rows = read_as(&engine, &w.cat, "projects", "select=name,pages(title)&name=eq.atlas")
            .await
            .expect("read");
        assert_eq!(rows[0]["pages"], json!([{"title": "intro"}]));
        // Dan reads the project through his permission, but its pages only to members.
        let rows = read_as(&engine, &w.dan, "projects", "select=name,pages(title)&name=eq.atlas")
            .await
            .expect("read");
        assert_eq!(rows[0]["pages"], json!([]));
        let rows = read_as(&engine, &w.eve, "pages", "select=title").await.expect("read");
        assert!(rows.is_empty(), "{rows:?}");
    }

    async fn editors_update_pages_and_viewers_change_nothing(db: Database) {
        let engine = engine(&db).await;
        let w = world(&engine).await;
        let filter = format!("id=eq.{}", w.page);
        let changed = update_as(&engine, &w.bob, "pages", &filter, json!({"title": "by bob"}))
            .await
            .expect("an editor updates");
        assert_eq!(changed.len(), 1);
        let changed = update_as(&engine, &w.cat, "pages", &filter, json!({"title": "by cat"}))
            .await
            .expect("a viewer's update matches no row");
        assert!(changed.is_empty(), "{changed:?}");
        let rows = read_as(&engine, &Caller::service(), "pages", &filter).await.expect("read");
        assert_eq!(rows[0]["title"], "by bob");
    }

    async fn a_page_is_created_only_in_a_project_the_caller_edits(db: Database) {
        let engine = engine(&db).await;
        let w = world(&engine).await;
        insert_as(&engine, &w.bob, "pages", json!({"title": "new", "projectId": w.atlas}))
            .await
            .expect("an editor creates a page");
        let kind = refusal(
            insert_as(&engine, &w.cat, "pages", json!({"title": "sneaky", "projectId": w.atlas}))
                .await,
        );
        assert_eq!(kind, ErrorKind::Forbidden);
        let rows = read_as(&engine, &Caller::service(), "pages", "title=eq.sneaky")
            .await
            .expect("read");
        assert!(rows.is_empty(), "a refused create stores nothing: {rows:?}");
    }

    async fn a_page_cannot_be_moved_into_a_project_the_caller_does_not_edit(db: Database) {
        let engine = engine(&db).await;
        let w = world(&engine).await;
        let rows = read_as(&engine, &Caller::service(), "users", "email=eq.eve@example.com")
            .await
            .expect("eve");
        let eve_project = insert_as(
            &engine,
            &Caller::service(),
            "projects",
            json!({"name": "eve's", "ownerId": id(&rows[0])}),
        )
        .await
        .expect("a project Bob is not a member of");
        let kind = refusal(
            update_as(
                &engine,
                &w.bob,
                "pages",
                &format!("id=eq.{}", w.page),
                json!({"projectId": id(&eve_project[0])}),
            )
            .await,
        );
        assert_eq!(kind, ErrorKind::Forbidden);
        let rows = read_as(&engine, &Caller::service(), "pages", &format!("id=eq.{}", w.page))
            .await
            .expect("read");
        assert_eq!(rows[0]["projectId"], json!(w.atlas), "the page stays where it was");
    }

    async fn a_removed_membership_grants_nothing(db: Database) {
        let engine = engine(&db).await;
        let w = world(&engine).await;
        delete_as(&engine, &Caller::service(), "members", &format!("id=eq.{}", w.cat_membership))
            .await
            .expect("Cat's membership goes to the trash");
        let rows = read_as(&engine, &w.cat, "projects", "select=name").await.expect("read");
        assert_eq!(names(&rows, "name"), ["open"]);
    }

    async fn none_and_every_quantify_all_the_related_rows(db: Database) {
        let engine = engine(&db).await;
        let w = world(&engine).await;
        let filter = format!("id=eq.{}", w.atlas);
        // Atlas has a viewer: its owner may not delete it.
        let deleted = delete_as(&engine, &w.ann, "projects", &filter).await.expect("delete");
        assert!(deleted.is_empty(), "{deleted:?}");
        delete_as(&engine, &Caller::service(), "members", &format!("id=eq.{}", w.cat_membership))
            .await
            .expect("the viewer leaves");
        delete_as(&engine, &Caller::service(), "pages", &format!("id=eq.{}", w.page))
            .await
            .expect("the page goes");
        let deleted = delete_as(&engine, &w.bob, "projects", &filter).await.expect("delete");
        assert!(deleted.is_empty(), "only the owner deletes: {deleted:?}");
        let deleted = delete_as(&engine, &w.ann, "projects", &filter).await.expect("delete");
        assert_eq!(deleted.len(), 1);
    }

    async fn anonymous_callers_are_refused_rules_that_need_a_user(db: Database) {
        let engine = engine(&db).await;
        world(&engine).await;
        let kind = refusal(read_as(&engine, &Caller::anonymous(), "pages", "select=title").await);
        assert_eq!(kind, ErrorKind::Unauthorized);
    }

    /// A rule that needs the caller's id admits no anonymous caller also when it tests more
    /// than the id: `members.some(user == auth && level in [..])` and
    /// `owner == auth && members.none(..)` refuse them (401) rather than match no row.
    async fn anonymous_callers_are_refused_rules_that_combine_the_user_with_row_tests(db: Database) {
        let engine = engine(&db).await;
        let w = world(&engine).await;
        let anonymous = Caller::anonymous();
        let kind = refusal(
            update_as(&engine, &anonymous, "pages", &format!("id=eq.{}", w.page), json!({"title": "x"})).await,
        );
        assert_eq!(kind, ErrorKind::Unauthorized);
        let kind = refusal(delete_as(&engine, &anonymous, "projects", &format!("id=eq.{}", w.atlas)).await);
        assert_eq!(kind, ErrorKind::Unauthorized);
        let kind = refusal(
            insert_as(&engine, &anonymous, "pages", json!({"title": "x", "projectId": w.atlas})).await,
        );
        assert_eq!(kind, ErrorKind::Unauthorized);
    }
}

const NEGATIONS: &str = r#"
model users {
  @@auth(email: email, password: password)
  email     text  @unique
  password  text  @hash
}

/// Everyone but its owner reads a gift; only signed-out visitors read a teaser.
model gifts {
  @@allow(read, !(owner == auth))
  @@allow(update, !authenticated)
  name   text
  owner  -> users
}
"#;

engine_tests! {
    /// A comparison with the id of an anonymous caller is unknown, and `!` keeps it so:
    /// a rule written for users never opens rows to anonymous callers by negation.
    async fn negating_a_comparison_with_auth_admits_no_anonymous_caller(db: Database) {
        let engine = engine_with(&db, checked("negations.tsr", NEGATIONS)).await;
        let users = accounts(&engine, &["ann", "bob"]).await;
        insert_as(&engine, &Caller::service(), "gifts", json!({"name": "book", "ownerId": users[0].clone()}))
            .await
            .expect("gift");
        let kind = refusal(read_as(&engine, &Caller::anonymous(), "gifts", "select=name").await);
        assert_eq!(kind, ErrorKind::Unauthorized);
        let ann = Caller::user(users[0].clone());
        let bob = Caller::user(users[1].clone());
        assert!(read_as(&engine, &ann, "gifts", "select=name").await.expect("read").is_empty());
        assert_eq!(read_as(&engine, &bob, "gifts", "select=name").await.expect("read").len(), 1);
        // `!authenticated` is about the caller alone: it admits exactly the anonymous ones.
        let changed = update_as(&engine, &Caller::anonymous(), "gifts", "name=eq.book", json!({"name": "novel"}))
            .await
            .expect("anonymous callers may update");
        assert_eq!(changed.len(), 1);
        let kind = refusal(update_as(&engine, &bob, "gifts", "name=eq.novel", json!({"name": "x"})).await);
        assert_eq!(kind, ErrorKind::Forbidden);
    }
}

const TENANTS: &str = r#"
model users {
  @@auth(email: email, password: password)
  email     text  @unique
  password  text  @hash
}

model tenants {
  name     text  @unique
  members  tenant_members[]
}

model tenant_members {
  tenant  -> tenants
  user    -> users
}

/// Rows of the tenant the request is for, to that tenant's members.
model invoices {
  @@allow(all, tenant == request.tenant && tenant.members.some(user == auth))
  number  text
  tenant  -> tenants
}
"#;

engine_tests! {
    /// A user of two tenants sees the rows of the one each request names, and nothing of
    /// a tenant they do not belong to, whatever they name.
    async fn a_request_sees_only_the_tenant_it_names_and_only_as_its_member(db: Database) {
        let engine = engine_with(&db, checked("tenants.tsr", TENANTS)).await;
        let service = Caller::service();
        let users = accounts(&engine, &["ann"]).await;
        let tenants = insert_as(
            &engine,
            &service,
            "tenants",
            json!([{"name": "acme"}, {"name": "globex"}, {"name": "initech"}]),
        )
        .await
        .expect("tenants");
        let (acme, globex, initech) = (id(&tenants[0]), id(&tenants[1]), id(&tenants[2]));
        let ann_id = users[0].clone();
        insert_as(
            &engine,
            &service,
            "tenant_members",
            json!([{"tenantId": acme, "userId": ann_id}, {"tenantId": globex, "userId": ann_id}]),
        )
        .await
        .expect("memberships");
        insert_as(
            &engine,
            &service,
            "invoices",
            json!([
                {"number": "A-1", "tenantId": acme},
                {"number": "G-1", "tenantId": globex},
                {"number": "I-1", "tenantId": initech}
            ]),
        )
        .await
        .expect("invoices");
        let ann = |tenant: &str| Caller::user(ann_id.clone()).in_tenant(tenant);
        let numbers = |rows: Vec<Value>| names(&rows, "number");
        assert_eq!(
            numbers(read_as(&engine, &ann(&acme), "invoices", "select=number").await.expect("read")),
            ["A-1"]
        );
        assert_eq!(
            numbers(read_as(&engine, &ann(&globex), "invoices", "select=number").await.expect("read")),
            ["G-1"]
        );
        let outsider = read_as(&engine, &ann(&initech), "invoices", "select=number")
            .await
            .expect("read");
        assert!(outsider.is_empty(), "not a member of initech: {outsider:?}");
        let no_tenant = read_as(&engine, &Caller::user(ann_id.clone()), "invoices", "select=number")
            .await
            .expect("read");
        assert!(no_tenant.is_empty(), "no tenant named: {no_tenant:?}");
        let kind = refusal(
            insert_as(&engine, &ann(&acme), "invoices", json!({"number": "A-2", "tenantId": globex}))
                .await,
        );
        assert_eq!(kind, ErrorKind::Forbidden, "a row of another tenant than the request's");
        insert_as(&engine, &ann(&acme), "invoices", json!({"number": "A-2"}))
            .await
            .expect("the request's tenant is filled in");
        let rows = read_as(&engine, &service, "invoices", "number=eq.A-2").await.expect("read");
        assert_eq!(rows[0]["tenantId"], json!(acme));
    }
}

const BOARDS: &str = r#"
model users {
  @@auth(email: email, password: password)
  email     text  @unique
  password  text  @hash
}

/// Anyone may post on the open boards, about anything but billing.
model posts {
  @@allow(create, board in ["public", "ideas"] && !(topic == "billing"))
  board  text
  topic  text?
}
"#;

engine_tests! {
    /// A create the row alone decides is judged as the database judges the rule: text
    /// compares exactly (a "Public" board is not the "public" one), and a comparison with a
    /// missing value is unknown, which `!` keeps unknown (a post without a topic is not
    /// known to be off billing). Each refused create stores nothing.
    async fn a_create_decided_by_the_row_alone_compares_text_exactly_and_null_as_unknown(db: Database) {
        let engine = engine_with(&db, checked("boards.tsr", BOARDS)).await;
        let anonymous = Caller::anonymous();
        for body in [
            json!({"board": "Public", "topic": "ui"}),
            json!({"board": "IDEAS", "topic": "ui"}),
            json!({"board": "public"}),
            json!({"board": "public", "topic": null}),
            json!({"board": "ideas", "topic": "billing"}),
            json!([{"board": "public", "topic": "ui"}, {"board": "public"}]),
        ] {
            let kind = refusal(insert_as(&engine, &anonymous, "posts", body.clone()).await);
            assert_eq!(kind, ErrorKind::Forbidden, "{body}");
        }
        insert_as(&engine, &anonymous, "posts", json!({"board": "public", "topic": "ui"}))
            .await
            .expect("a post on an open board");
        let rows = read_as(&engine, &Caller::service(), "posts", "select=board,topic").await.expect("read");
        assert_eq!(rows, vec![json!({"board": "public", "topic": "ui"})]);
    }
}

const SHOWCASE: &str = r#"
model users {
  @@auth(email: email, password: password)
  email     text  @unique
  password  text  @hash
}

/// A project is shown once every page is published (its authors preview their own
/// drafts), and deleted once every page is approved.
model projects {
  @@allow(read, pages.every(published || author == auth))
  @@allow(delete, authenticated && pages.every(approved))
  name   text
  pages  pages[]
}

/// `approved` is null while a page waits for review.
model pages {
  @@allow(read, public)
  title      text
  published  bool   = false
  approved   bool?
  author     -> users?
  project    -> projects  @on_delete(cascade)
}
"#;

engine_tests! {
    /// `every` holds when each related row meets the condition: a row where it is unknown
    /// (a page waiting for review, a draft with no author, a draft compared with an
    /// anonymous caller's id) does not meet it, so it is no more shown, or deleted, than a
    /// row where the condition is false.
    async fn every_needs_each_related_row_to_meet_the_condition_not_merely_to_not_fail_it(db: Database) {
        let engine = engine_with(&db, checked("showcase.tsr", SHOWCASE)).await;
        let service = Caller::service();
        let users = accounts(&engine, &["ann", "bob"]).await;
        let (ann, bob) = (Caller::user(users[0].clone()), Caller::user(users[1].clone()));
        let projects = insert_as(
            &engine,
            &service,
            "projects",
            json!([{"name": "done"}, {"name": "orphan draft"}, {"name": "ann's draft"}]),
        )
        .await
        .expect("projects");
        insert_as(
            &engine,
            &service,
            "pages",
            json!([
                {"title": "a", "published": true, "approved": true, "projectId": id(&projects[0])},
                {"title": "b", "approved": null, "projectId": id(&projects[1])},
                {"title": "c", "authorId": users[0].clone(), "projectId": id(&projects[2])}
            ]),
        )
        .await
        .expect("pages");
        let shown = |rows: Vec<Value>| names(&rows, "name");
        let rows = read_as(&engine, &Caller::anonymous(), "projects", "select=name").await.expect("read");
        assert_eq!(shown(rows), ["done"]);
        let rows = read_as(&engine, &bob, "projects", "select=name").await.expect("read");
        assert_eq!(shown(rows), ["done"]);
        let rows = read_as(&engine, &ann, "projects", "select=name").await.expect("read");
        assert_eq!(shown(rows), ["ann's draft", "done"]);

        let waiting = format!("id=eq.{}", id(&projects[1]));
        let deleted = delete_as(&engine, &ann, "projects", &waiting).await.expect("delete");
        assert!(deleted.is_empty(), "a page waits for review: {deleted:?}");
        update_as(&engine, &service, "pages", "title=eq.b", json!({"approved": true}))
            .await
            .expect("approved");
        let deleted = delete_as(&engine, &ann, "projects", &waiting).await.expect("delete");
        assert_eq!(deleted.len(), 1);
    }
}

const TEAMS: &str = r#"
enum Level { owner editor viewer }

model users {
  @@auth(email: email, password: password)
  email     text  @unique
  password  text  @hash
}

model projects {
  name     text
  members  members[]
}

/// A project's owners manage its members.
model members {
  @@allow(read, user == auth)
  @@allow([create, update], project.members.some(user == auth && level == owner))
  project  -> projects
  user     -> users
  level    Level
}
"#;

engine_tests! {
    /// A write's rows are judged by the rights the caller had before it: a membership the
    /// caller adds or moves grants nothing to that very write. An editor cannot make
    /// themself an owner, an owner cannot carry their ownership into another project; an
    /// owner may still step down, since they were an owner when they asked.
    async fn a_write_is_judged_by_the_rights_the_caller_had_before_it(db: Database) {
        let engine = engine_with(&db, checked("teams.tsr", TEAMS)).await;
        let service = Caller::service();
        let users = accounts(&engine, &["ann", "bob"]).await;
        let (ann_id, bob_id) = (users[0].clone(), users[1].clone());
        let (ann, bob) = (Caller::user(&ann_id), Caller::user(&bob_id));
        let projects = insert_as(&engine, &service, "projects", json!([{"name": "mine"}, {"name": "theirs"}]))
            .await
            .expect("projects");
        let (mine, theirs) = (id(&projects[0]), id(&projects[1]));
        let members = insert_as(
            &engine,
            &service,
            "members",
            json!([
                {"projectId": mine, "userId": ann_id, "level": "owner"},
                {"projectId": mine, "userId": bob_id, "level": "editor"}
            ]),
        )
        .await
        .expect("members");
        let kind = refusal(
            insert_as(&engine, &bob, "members", json!({"projectId": mine, "userId": bob_id, "level": "owner"})).await,
        );
        assert_eq!(kind, ErrorKind::Forbidden, "an editor makes themself an owner");
        let kind = refusal(
            insert_as(&engine, &ann, "members", json!({"projectId": theirs, "userId": ann_id, "level": "owner"})).await,
        );
        assert_eq!(kind, ErrorKind::Forbidden, "an owner of one project takes another");
        let own = format!("id=eq.{}", id(&members[0]));
        let kind = refusal(update_as(&engine, &ann, "members", &own, json!({"projectId": theirs})).await);
        assert_eq!(kind, ErrorKind::Forbidden, "an owner moves their ownership elsewhere");
        let rows = read_as(&engine, &service, "members", "select=level&order=level").await.expect("read");
        assert_eq!(rows, vec![json!({"level": "owner"}), json!({"level": "editor"})], "nothing changed");

        let changed = update_as(&engine, &ann, "members", &own, json!({"level": "editor"}))
            .await
            .expect("an owner steps down");
        assert_eq!(changed[0]["level"], "editor");
    }
}
