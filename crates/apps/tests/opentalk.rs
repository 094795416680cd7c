//! The opentalk app through the HTTP API, on SQLite and PostgreSQL: every model
//! round-trips, and the rules of the OpenTalk controller document (seed 003) hold.

mod support;

#[path = "access/opentalk.rs"]
mod access_world;

use access_world::TalkWorld;
use support::access::{
    assert_none, assert_readme_shows, check_creates, check_deletes, check_reads, check_updates,
};
use support::send;

use serde_json::{json, Value};
use support::walk::assert_every_model_round_trips;
use support::AppServer;
use tessera_testkit::{engine_tests, Database};

const APP: &str = "opentalk";

fn readme() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../apps/opentalk/README.md"
    ))
    .expect("the app's README")
}

fn id(row: &Value) -> &str {
    row["id"].as_str().expect("an id")
}

struct Org {
    tenant: Value,
    tariff: Value,
}

async fn org(server: &AppServer) -> Org {
    let tenant = server
        .create("tenants", json!({ "oidc_tenant_id": "acme" }))
        .await;
    let tariff = server.create("tariffs", json!({ "name": "basic" })).await;
    Org { tenant, tariff }
}

fn user_row(o: &Org, sub: &str) -> Value {
    json!({
        "tenant_id": id(&o.tenant), "tariff_id": id(&o.tariff), "oidc_sub": sub,
        "display_name": sub, "email": format!("{sub}@example.com"), "firstname": "A", "lastname": "B",
        "title": "", "id_token_exp": 0,
    })
}

async fn user(server: &AppServer, o: &Org, sub: &str) -> Value {
    server.create("users", user_row(o, sub)).await
}

async fn event(server: &AppServer, o: &Org, owner: &Value) -> Value {
    let room = server
        .create(
            "rooms",
            json!({ "created_by": id(owner), "tenant_id": id(&o.tenant) }),
        )
        .await;
    server
        .create(
            "events",
            json!({ "created_by": id(owner), "updated_by": id(owner), "room": id(&room), "tenant_id": id(&o.tenant),
                    "title": "Standup", "description": "", "is_time_independent": true }),
        )
        .await
}

engine_tests! {
    /// Every model can be created, read back with all its relations embedded, updated and
    /// deleted.
    async fn every_model_round_trips_through_the_api(db: Database) {
        assert_every_model_round_trips(APP, &db).await;
    }

    async fn tenant_oidc_id_is_unique(db: Database) {
        let server = AppServer::start(APP, &db).await;
        server.create("tenants", json!({ "oidc_tenant_id": "acme" })).await;
        let again = server.post("/rest/v1/tenants", json!({ "oidc_tenant_id": "acme" })).await;
        assert_eq!(again.status, 409, "{}", again.body);
    }

    async fn user_oidc_subject_is_unique_per_tenant(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let o = org(&server).await;
        user(&server, &o, "sub-1").await;
        let again = server.post("/rest/v1/users", user_row(&o, "sub-1")).await;
        assert_eq!(again.status, 409, "{}", again.body);
        let other = server.create("tenants", json!({ "oidc_tenant_id": "other" })).await;
        let mut elsewhere = user_row(&o, "sub-1");
        elsewhere["tenant_id"] = json!(id(&other));
        elsewhere["email"] = json!("sub-1@other.example.com");
        server.create("users", elsewhere).await;
    }

    async fn users_get_a_serial_number_beside_their_uuid(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let o = org(&server).await;
        let a = user(&server, &o, "a").await;
        let b = user(&server, &o, "b").await;
        assert_eq!(id(&a).len(), 36, "{a}");
        let (sa, sb) = (a["id_serial"].as_i64().expect("serial"), b["id_serial"].as_i64().expect("serial"));
        assert!(sb > sa, "{sa} then {sb}");
        let read = server.get(&format!("/rest/v1/users?id_serial=eq.{sb}&select=oidc_sub")).await;
        assert_eq!(read.row()["oidc_sub"], "b", "{}", read.body);
    }

    async fn user_tariff_status_defaults_to_default_and_rejects_unknown_values(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let o = org(&server).await;
        let u = user(&server, &o, "a").await;
        assert_eq!(u["tariff_status"], "default");
        let bad = server.patch(&format!("/rest/v1/users?id=eq.{}", id(&u)), json!({ "tariff_status": "free" })).await;
        assert_eq!(bad.status, 422, "{}", bad.body);
        assert!(bad.errors().iter().any(|(f, r, _)| f == "tariff_status" && r == "enum"), "{}", bad.body);
    }

    async fn tariff_starts_with_no_disabled_features_and_empty_quotas(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let t = server.create("tariffs", json!({ "name": "basic" })).await;
        assert_eq!((&t["disabled_features"], &t["disabled_modules"], &t["quotas"]), (&json!([]), &json!([]), &json!({})));
        server
            .create("tariffs", json!({ "name": "lite", "disabled_features": ["recording", "chat"], "quotas": { "rooms": 3 } }))
            .await;
        let read = server.get("/rest/v1/tariffs?disabled_features=cs.{recording}&select=name").await;
        assert_eq!(read.body, json!([{ "name": "lite" }]));
        let quota = server.get("/rest/v1/tariffs?quotas=cs.{\"rooms\":3}&select=name").await;
        assert_eq!(quota.body, json!([{ "name": "lite" }]));
    }

    async fn group_membership_is_keyed_by_user_and_group(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let o = org(&server).await;
        let u = user(&server, &o, "a").await;
        let g = server.create("groups", json!({ "tenant_id": id(&o.tenant), "name": "staff" })).await;
        let row = json!({ "user_id": id(&u), "group_id": id(&g) });
        server.create("user_groups", row.clone()).await;
        let again = server.post("/rest/v1/user_groups", row).await;
        assert_eq!(again.status, 409, "{}", again.body);
        let read = server.get("/rest/v1/users?select=oidc_sub,groups(name)").await.expect(200, "embed");
        assert_eq!(read.row()["groups"], json!([{ "name": "staff" }]), "{}", read.body);
    }

    async fn group_name_is_unique_per_tenant(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let o = org(&server).await;
        server.create("groups", json!({ "tenant_id": id(&o.tenant), "name": "staff" })).await;
        let again = server.post("/rest/v1/groups", json!({ "tenant_id": id(&o.tenant), "name": "staff" })).await;
        assert_eq!(again.status, 409, "{}", again.body);
    }

    async fn an_event_has_one_shared_folder_keyed_by_the_event(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let o = org(&server).await;
        let u = user(&server, &o, "a").await;
        let e = event(&server, &o, &u).await;
        let folder = json!({ "event_id": id(&e), "path": "/e", "read_password": "r", "read_share_id": "rs", "read_url": "https://s/r",
                             "write_password": "w", "write_share_id": "ws", "write_url": "https://s/w" });
        let row = server.create("event_shared_folders", folder.clone()).await;
        assert!(row.get("read_password").is_none() && row.get("write_password").is_none(), "{row}");
        let again = server.post("/rest/v1/event_shared_folders", folder).await;
        assert_eq!(again.status, 409, "{}", again.body);
        let read = server.get("/rest/v1/events?select=title,event_shared_folders(path)").await.expect(200, "embed");
        assert_eq!(read.row()["event_shared_folders"], json!({ "path": "/e" }), "{}", read.body);
        let by_key = server.get(&format!("/rest/v1/event_shared_folders?event_id=eq.{}&select=path,event(title)", id(&e))).await;
        assert_eq!(by_key.row()["event"]["title"], "Standup", "{}", by_key.body);
    }

    async fn deleting_an_event_deletes_its_folder_invites_and_exceptions(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let o = org(&server).await;
        let u = user(&server, &o, "a").await;
        let e = event(&server, &o, &u).await;
        server
            .create(
                "event_training_participation_report_parameter_sets",
                json!({ "event_id": id(&e), "checkpoint_interval_after": 1, "checkpoint_interval_within": 1,
                        "initial_checkpoint_delay_after": 1, "initial_checkpoint_delay_within": 1 }),
            )
            .await;
        server.create("event_invites", json!({ "event_id": id(&e), "invitee": id(&u), "created_by": id(&u) })).await;
        server
            .create(
                "event_exceptions",
                json!({ "event_id": id(&e), "created_by": id(&u), "exception_date": "2024-05-01T10:00:00.000Z",
                        "exception_date_tz": "Europe/Berlin", "kind": "cancelled" }),
            )
            .await;
        server.delete(&format!("/rest/v1/events?id=eq.{}", id(&e))).await.expect(200, "delete");
        for model in ["event_training_participation_report_parameter_sets", "event_invites", "event_exceptions"] {
            assert!(server.get(&format!("/rest/v1/{model}")).await.rows().is_empty(), "{model} kept");
        }
    }

    async fn an_event_invite_is_unique_per_invitee_and_starts_pending(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let o = org(&server).await;
        let u = user(&server, &o, "a").await;
        let e = event(&server, &o, &u).await;
        let row = json!({ "event_id": id(&e), "invitee": id(&u), "created_by": id(&u) });
        let invite = server.create("event_invites", row.clone()).await;
        assert_eq!((&invite["role"], &invite["status"]), (&json!("user"), &json!("pending")));
        let again = server.post("/rest/v1/event_invites", row).await;
        assert_eq!(again.status, 409, "{}", again.body);
        let bad = server.patch(&format!("/rest/v1/event_invites?id=eq.{}", id(&invite)), json!({ "status": "maybe" })).await;
        assert_eq!(bad.status, 422, "{}", bad.body);
    }

    async fn an_email_invite_is_keyed_by_event_and_a_valid_address(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let o = org(&server).await;
        let u = user(&server, &o, "a").await;
        let e = event(&server, &o, &u).await;
        let row = json!({ "event_id": id(&e), "email": "guest@example.com", "created_by": id(&u) });
        let invite = server.create("event_email_invites", row.clone()).await;
        assert_eq!(invite["role"], "guest");
        let again = server.post("/rest/v1/event_email_invites", row).await;
        assert_eq!(again.status, 409, "{}", again.body);
        let bad = server.post("/rest/v1/event_email_invites", json!({ "event_id": id(&e), "email": "guest", "created_by": id(&u) })).await;
        assert_eq!(bad.status, 422, "{}", bad.body);
    }

    async fn an_event_exception_is_unique_per_date_and_time_zone(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let o = org(&server).await;
        let u = user(&server, &o, "a").await;
        let e = event(&server, &o, &u).await;
        let row = json!({ "event_id": id(&e), "created_by": id(&u), "exception_date": "2024-05-01T10:00:00.000Z",
                          "exception_date_tz": "Europe/Berlin", "kind": "modified" });
        server.create("event_exceptions", row.clone()).await;
        let again = server.post("/rest/v1/event_exceptions", row).await;
        assert_eq!(again.status, 409, "{}", again.body);
    }

    async fn favorite_events_embed_through_event_favorites(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let o = org(&server).await;
        let u = user(&server, &o, "a").await;
        let e = event(&server, &o, &u).await;
        server.create("event_favorites", json!({ "user_id": id(&u), "event_id": id(&e) })).await;
        let again = server.post("/rest/v1/event_favorites", json!({ "user_id": id(&u), "event_id": id(&e) })).await;
        assert_eq!(again.status, 409, "{}", again.body);
        let read = server.get("/rest/v1/users?select=oidc_sub,favorite_events(title)").await.expect(200, "embed");
        assert_eq!(read.row()["favorite_events"], json!([{ "title": "Standup" }]), "{}", read.body);
    }

    async fn jobs_have_bigint_serial_ids_and_deleting_one_deletes_its_executions_and_logs(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let job = server
            .create("jobs", json!({ "kind": "room_cleanup", "name": "cleanup", "recurrence": "0 3 * * *", "timeout_secs": 60 }))
            .await;
        let job_id = job["id"].as_i64().expect("a bigint id");
        assert_eq!(job["parameters"], json!({}));
        let run = server.create("job_executions", json!({ "job_id": job_id })).await;
        assert_eq!(run["job_status"], "started");
        let log = server.create("job_execution_logs", json!({ "execution_id": run["id"], "log_message": "ok" })).await;
        assert_eq!(log["log_level"], "info");
        server.delete(&format!("/rest/v1/jobs?id=eq.{job_id}")).await.expect(200, "delete");
        assert!(server.get("/rest/v1/job_executions").await.rows().is_empty());
        assert!(server.get("/rest/v1/job_execution_logs").await.rows().is_empty());
    }

    async fn job_timeout_is_at_least_one_second_and_kind_is_a_known_job(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let zero = server
            .post("/rest/v1/jobs", json!({ "kind": "room_cleanup", "name": "c", "recurrence": "-", "timeout_secs": 0 }))
            .await;
        assert_eq!(zero.status, 422, "{}", zero.body);
        let unknown = server
            .post("/rest/v1/jobs", json!({ "kind": "coffee", "name": "c", "recurrence": "-", "timeout_secs": 5 }))
            .await;
        assert_eq!(unknown.status, 422, "{}", unknown.body);
    }

    async fn casbin_rules_are_unique_and_unused_values_are_empty(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let rule = server.create("casbin_rule", json!({ "ptype": "p", "v0": "role:admin", "v1": "/rooms", "v2": "GET" })).await;
        assert!(rule["id"].is_i64(), "{rule}");
        assert_eq!((&rule["v3"], &rule["v5"]), (&json!(""), &json!("")));
        let again = server.post("/rest/v1/casbin_rule", json!({ "ptype": "p", "v0": "role:admin", "v1": "/rooms", "v2": "GET" })).await;
        assert_eq!(again.status, 409, "{}", again.body);
    }

    async fn sip_id_is_unique(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let o = org(&server).await;
        let u = user(&server, &o, "a").await;
        let room = server.create("rooms", json!({ "created_by": id(&u), "tenant_id": id(&o.tenant) })).await;
        let sip = server.create("sip_configs", json!({ "room": id(&room), "sip_id": "0123456789", "password": "1234" })).await;
        assert!(sip["id"].is_i64(), "{sip}");
        let again = server.post("/rest/v1/sip_configs", json!({ "room": id(&room), "sip_id": "0123456789", "password": "9" })).await;
        assert_eq!(again.status, 409, "{}", again.body);
    }

    async fn an_asset_belongs_to_at_most_one_room(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let o = org(&server).await;
        let u = user(&server, &o, "a").await;
        let a = server.create("rooms", json!({ "created_by": id(&u), "tenant_id": id(&o.tenant) })).await;
        let b = server.create("rooms", json!({ "created_by": id(&u), "tenant_id": id(&o.tenant) })).await;
        let asset = server.create("assets", json!({ "tenant_id": id(&o.tenant), "filename": "w.png", "kind": "whiteboard" })).await;
        server.create("room_assets", json!({ "room_id": id(&a), "asset_id": id(&asset) })).await;
        let again = server.post("/rest/v1/room_assets", json!({ "room_id": id(&b), "asset_id": id(&asset) })).await;
        assert_eq!(again.status, 409, "{}", again.body);
        let read = server.get(&format!("/rest/v1/rooms?id=eq.{}&select=id,assets(filename)", id(&a))).await;
        assert_eq!(read.row()["assets"], json!([{ "filename": "w.png" }]), "{}", read.body);
    }

    async fn streaming_keys_are_never_returned(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let o = org(&server).await;
        let u = user(&server, &o, "a").await;
        let room = server.create("rooms", json!({ "created_by": id(&u), "tenant_id": id(&o.tenant) })).await;
        let target = server
            .create(
                "room_streaming_targets",
                json!({ "room_id": id(&room), "name": "yt", "public_url": "https://y", "streaming_endpoint": "rtmp://y", "streaming_key": "k" }),
            )
            .await;
        assert!(target.get("streaming_key").is_none(), "{target}");
        assert_eq!(target["kind"], "custom");
    }

    /// Each caller reads exactly the rows the README's access table gives them: rooms and
    /// events of their own, of events they are invited to, and of their groups' members;
    /// the table covers every model.
    async fn every_read_cell_of_the_access_table_holds(db: Database) {
        let world = TalkWorld::build(AppServer::start(APP, &db).await).await;
        let matrix = access_world::matrix();
        matrix.assert_complete(&world.server);
        assert_none(check_reads(&world, &matrix).await);
        assert_readme_shows(&readme(), &matrix);
    }

    /// Rows are created by the users they name, in their tenant, where they moderate.
    async fn every_create_cell_of_the_access_table_holds(db: Database) {
        let world = TalkWorld::build(AppServer::start(APP, &db).await).await;
        assert_none(check_creates(&world, &access_world::matrix()).await);
    }

    /// Only creators and moderators change rooms and events and what belongs to them.
    async fn every_update_cell_of_the_access_table_holds(db: Database) {
        let world = TalkWorld::build(AppServer::start(APP, &db).await).await;
        assert_none(check_updates(&world, &access_world::matrix()).await);
    }

    /// A delete of fresh rows removes exactly those the access table gives the caller.
    async fn every_delete_cell_of_the_access_table_holds(db: Database) {
        let world = TalkWorld::build(AppServer::start(APP, &db).await).await;
        assert_none(check_deletes(&world, &access_world::matrix()).await);
    }

    /// Accounts are provisioned with the service key (a sign-up cannot choose a tenant or a
    /// tariff) and sign in with their email and password.
    async fn accounts_are_provisioned_and_sign_in_with_a_password(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let o = org(&server).await;
        let refused = server.sign_up(json!({ "email": "ada@example.com", "password": "s3cret-pass" })).await;
        assert_eq!(refused.status, 422, "{}", refused.body);
        let mut row = user_row(&o, "ada");
        row["password"] = json!("s3cret-pass");
        server.create("users", row).await;
        let signed_in = send(
            server
                .client
                .post(server.url("/auth/v1/token?grant_type=password"))
                .json(&json!({ "email": "ada@example.com", "password": "s3cret-pass" })),
        )
        .await
        .expect(200, "sign in");
        let token = signed_in.body["access_token"].as_str().expect("a token");
        let me = send(server.request_as(Some(token), reqwest::Method::GET, "/rest/v1/users?select=email")).await;
        assert_eq!(me.body, json!([{ "email": "ada@example.com" }]));
    }
}
