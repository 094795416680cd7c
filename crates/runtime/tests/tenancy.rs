//! Access rules over the caller's account: tenant isolation (`tenant == auth.tenant`) and
//! roles (`auth.role == "admin"`).

mod common;

use common::{checked, engine_with, id, insert_as, pairs};
use serde_json::{json, Value};
use tessera_runtime::{
    parse_read, parse_write_query, Caller, DeleteRequest, Engine, ErrorKind, UpdateRequest,
};
use tessera_testkit::{engine_tests, Database};

const SCHEMA: &str = r#"
model tenants {
  name  text  @unique
}

model users {
  @@soft_delete
  @@auth(email: email, password: password)
  @@allow(read, tenant == auth.tenant)
  email     text     @unique
  password  text     @hash
  role      text     = "member"
  tenant    -> tenants?
}

/// Each tenant sees and writes only its own rooms; only admins delete them.
model rooms {
  @@actors(users)
  @@allow([read, create, update], tenant == auth.tenant)
  @@allow(delete, auth.role == "admin")
  name    text
  tenant  -> tenants
}
"#;

async fn engine(db: &Database) -> Engine {
    engine_with(db, checked("tenancy.tsr", SCHEMA)).await
}

async fn read_as(engine: &Engine, ctx: &Caller, model: &str, query: &str) -> Vec<Value> {
    let req = parse_read(model, &pairs(query)).expect("query");
    engine.read(ctx, &req).await.expect("read").rows
}

fn filter(query: &str) -> Vec<tessera_runtime::Condition> {
    parse_write_query(&pairs(query)).expect("filter").filter
}

/// Two tenants: Acme with Ann (admin) and Amy (member), Globex with Gus; a room each.
struct World {
    acme: String,
    globex: String,
    ann: Caller,
    amy: Caller,
    amy_id: String,
    gus: Caller,
    acme_room: String,
    globex_room: String,
}

async fn world(engine: &Engine) -> World {
    let service = Caller::service();
    let tenants = insert_as(
        engine,
        &service,
        "tenants",
        json!([{"name": "Acme"}, {"name": "Globex"}]),
    )
    .await
    .expect("tenants");
    let (acme, globex) = (id(&tenants[0]), id(&tenants[1]));
    let users = insert_as(
        engine,
        &service,
        "users",
        json!([
            {"email": "ann@acme.test", "password": "pass-word", "role": "admin", "tenantId": acme},
            {"email": "amy@acme.test", "password": "pass-word", "tenantId": acme},
            {"email": "gus@globex.test", "password": "pass-word", "tenantId": globex}
        ]),
    )
    .await
    .expect("users");
    let rooms = insert_as(
        engine,
        &service,
        "rooms",
        json!([{"name": "Acme lobby", "tenantId": acme}, {"name": "Globex lobby", "tenantId": globex}]),
    )
    .await
    .expect("rooms");
    World {
        ann: Caller::user(id(&users[0])),
        amy: Caller::user(id(&users[1])),
        amy_id: id(&users[1]),
        gus: Caller::user(id(&users[2])),
        acme_room: id(&rooms[0]),
        globex_room: id(&rooms[1]),
        acme,
        globex,
    }
}

engine_tests! {
    /// Reads see only the caller's tenant, at the top level and in embeds.
    async fn reads_see_only_the_callers_tenant(db: Database) {
        let engine = engine(&db).await;
        let w = world(&engine).await;
        assert_eq!(read_as(&engine, &w.amy, "rooms", "select=name").await, vec![json!({"name": "Acme lobby"})]);
        assert_eq!(read_as(&engine, &w.gus, "rooms", "select=name").await, vec![json!({"name": "Globex lobby"})]);
        let colleagues = read_as(&engine, &w.amy, "users", "select=email&order=email").await;
        assert_eq!(colleagues, vec![json!({"email": "amy@acme.test"}), json!({"email": "ann@acme.test"})]);
    }

    /// A create without a tenant lands in the caller's; naming another tenant is refused.
    async fn creates_land_in_the_callers_tenant(db: Database) {
        let engine = engine(&db).await;
        let w = world(&engine).await;
        let room = insert_as(&engine, &w.amy, "rooms", json!({"name": "Acme attic"})).await.expect("create");
        assert_eq!(room[0]["tenantId"], json!(w.acme));
        let foreign = insert_as(&engine, &w.amy, "rooms", json!({"name": "Sneaky", "tenantId": w.globex})).await;
        let error = foreign.expect_err("a room in another tenant");
        assert_eq!((error.kind, error.code.as_str()), (ErrorKind::Forbidden, "42501"));
        assert_eq!(read_as(&engine, &Caller::service(), "rooms", "select=name&name=eq.Sneaky").await, Vec::<Value>::new());
    }

    /// Updates reach only the caller's tenant and cannot move a row to another.
    async fn updates_stay_inside_the_callers_tenant(db: Database) {
        let engine = engine(&db).await;
        let w = world(&engine).await;
        let update = |ctx: Caller, room: String, body: Value| {
            let engine = engine.clone();
            let filter = filter(&format!("id=eq.{room}"));
            async move { engine.update(&ctx, &UpdateRequest { model: "rooms".into(), filter, body, ..Default::default() }).await }
        };
        let across = update(w.gus.clone(), w.acme_room.clone(), json!({"name": "Taken"})).await.expect("update");
        assert!(across.is_empty());
        let moved = update(w.amy.clone(), w.acme_room.clone(), json!({"tenantId": w.globex})).await;
        assert_eq!(moved.expect_err("moved").kind, ErrorKind::Forbidden);
        let renamed = update(w.amy.clone(), w.acme_room.clone(), json!({"name": "Acme hall"})).await.expect("update");
        assert_eq!(renamed[0]["name"], json!("Acme hall"));
    }

    /// `auth.role == "admin"`: only admins delete, and (the rule has no row condition)
    /// in any tenant.
    async fn only_admins_delete(db: Database) {
        let engine = engine(&db).await;
        let w = world(&engine).await;
        let delete = |ctx: Caller, room: String| {
            let engine = engine.clone();
            let filter = filter(&format!("id=eq.{room}"));
            async move { engine.delete(&ctx, &DeleteRequest { model: "rooms".into(), filter, ..Default::default() }).await }
        };
        let by_member = delete(w.amy.clone(), w.acme_room.clone()).await;
        assert_eq!(by_member.expect_err("a member deletes").kind, ErrorKind::Forbidden);
        assert_eq!(delete(w.ann.clone(), w.globex_room.clone()).await.expect("admin deletes").len(), 1);
    }

    /// A user without a tenant matches no tenant's rows: null matches nothing.
    async fn a_user_without_a_tenant_sees_nothing(db: Database) {
        let engine = engine(&db).await;
        world(&engine).await;
        let loner = insert_as(&engine, &Caller::service(), "users", json!({"email": "lone@nowhere.test", "password": "pass-word"})).await.expect("loner");
        let loner = Caller::user(id(&loner[0]));
        assert_eq!(read_as(&engine, &loner, "rooms", "").await, Vec::<Value>::new());
        assert_eq!(read_as(&engine, &loner, "users", "").await, Vec::<Value>::new());
        let created = insert_as(&engine, &loner, "rooms", json!({"name": "Orphan"})).await;
        assert!(created.is_err(), "a room of no tenant: {created:?}");
    }

    /// Account values are read as stored when the request runs: moving a user to another
    /// tenant moves what they see at once.
    async fn account_changes_apply_to_the_next_request(db: Database) {
        let engine = engine(&db).await;
        let w = world(&engine).await;
        let filter = filter(&format!("id=eq.{}", w.amy_id));
        engine.update(&Caller::service(), &UpdateRequest { model: "users".into(), filter, body: json!({"tenantId": w.globex}), ..Default::default() }).await.expect("move");
        assert_eq!(read_as(&engine, &w.amy, "rooms", "select=name").await, vec![json!({"name": "Globex lobby"})]);
    }
}
