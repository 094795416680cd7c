//! The securecam app through the HTTP API, on SQLite and PostgreSQL: every model
//! round-trips, and the rules of the SecureCam document (seed 002) hold.

mod support;

#[path = "access/securecam.rs"]
mod access_world;

use access_world::CamWorld;
use reqwest::Method;
use serde_json::{json, Value};
use support::access::{
    assert_none, assert_readme_shows, check_creates, check_deletes, check_reads, check_updates,
};
use support::walk::assert_every_model_round_trips;
use support::{send, AppServer};
use tessera_testkit::{engine_tests, Database};

const APP: &str = "securecam";

fn readme() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../apps/securecam/README.md"
    ))
    .expect("the app's README")
}

fn id(row: &Value) -> &str {
    row["id"].as_str().expect("an id")
}

struct Home {
    user: Value,
    camera: Value,
    phone: Value,
}

async fn home(server: &AppServer) -> Home {
    let user = server
        .create(
            "users",
            json!({ "email": "owner@example.com", "name": "Owner" }),
        )
        .await;
    let camera = server
        .create("devices", json!({ "user_id": id(&user), "name": "Hall camera", "role": "camera", "is_camera": true }))
        .await;
    let phone = server
        .create(
            "devices",
            json!({ "user_id": id(&user), "name": "Phone", "role": "client" }),
        )
        .await;
    Home {
        user,
        camera,
        phone,
    }
}

async fn link(server: &AppServer, h: &Home) -> Value {
    server
        .create(
            "device_links",
            json!({ "owner_user_id": id(&h.user), "camera_device_id": id(&h.camera), "client_device_id": id(&h.phone) }),
        )
        .await
}

async fn stream(server: &AppServer, h: &Home) -> Value {
    server
        .create(
            "stream_sessions",
            json!({ "owner_user_id": id(&h.user), "camera_device_id": id(&h.camera), "requester_device_id": id(&h.phone) }),
        )
        .await
}

engine_tests! {
    /// Every model can be created, read back with all its relations embedded, updated and
    /// deleted.
    async fn every_model_round_trips_through_the_api(db: Database) {
        assert_every_model_round_trips(APP, &db).await;
    }

    async fn user_email_is_unique_after_trimming_and_lowercasing(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let first = server.create("users", json!({ "email": " Owner@Example.com ", "name": "A" })).await;
        assert_eq!(first["email"], "owner@example.com");
        let again = server.post("/rest/v1/users", json!({ "email": "OWNER@example.com", "name": "B" })).await;
        assert_eq!(again.status, 409, "{}", again.body);
    }

    async fn a_device_link_embeds_its_camera_and_client_devices_by_role(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let h = home(&server).await;
        link(&server, &h).await;
        let read = server
            .get("/rest/v1/device_links?select=id,camera:devices!camera_device_id(name),client:devices!client_device_id(name),owner(email)")
            .await
            .expect(200, "embed by role");
        assert_eq!(read.row()["camera"]["name"], "Hall camera", "{}", read.body);
        assert_eq!(read.row()["client"]["name"], "Phone", "{}", read.body);
        assert_eq!(read.row()["owner"]["email"], "owner@example.com", "{}", read.body);
    }

    async fn a_device_lists_its_links_separately_as_camera_and_as_client(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let h = home(&server).await;
        link(&server, &h).await;
        let read = server
            .get(&format!("/rest/v1/devices?id=eq.{}&select=name,camera_links(id),client_links(id)", id(&h.camera)))
            .await
            .expect(200, "embed");
        assert_eq!(read.row()["camera_links"].as_array().map(Vec::len), Some(1), "{}", read.body);
        assert_eq!(read.row()["client_links"], json!([]), "{}", read.body);
    }

    async fn embedding_devices_from_a_link_without_a_role_is_ambiguous(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let h = home(&server).await;
        link(&server, &h).await;
        let read = server.get("/rest/v1/device_links?select=id,devices(name)").await;
        assert_eq!(read.status, 400, "{}", read.body);
        assert_eq!(read.body["code"], "PGRST201");
    }

    async fn a_camera_and_client_are_linked_once(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let h = home(&server).await;
        let first = link(&server, &h).await;
        assert_eq!(first["status"], "active");
        let again = server
            .post(
                "/rest/v1/device_links",
                json!({ "owner_user_id": id(&h.user), "camera_device_id": id(&h.camera), "client_device_id": id(&h.phone) }),
            )
            .await;
        assert_eq!(again.status, 409, "{}", again.body);
        server
            .create(
                "device_links",
                json!({ "owner_user_id": id(&h.user), "camera_device_id": id(&h.phone), "client_device_id": id(&h.camera) }),
            )
            .await;
    }

    async fn commands_start_pending_and_count_retries_from_zero(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let h = home(&server).await;
        let cmd = server
            .create(
                "commands",
                json!({ "owner_user_id": id(&h.user), "source_device_id": id(&h.phone), "target_device_id": id(&h.camera), "command_type": "start_stream" }),
            )
            .await;
        assert_eq!((&cmd["status"], &cmd["retry_count"]), (&json!("pending"), &json!(0)));
        let bad = server.patch(&format!("/rest/v1/commands?id=eq.{}", id(&cmd)), json!({ "retry_count": -1 })).await;
        assert_eq!(bad.status, 422, "{}", bad.body);
        let retried = server.patch(&format!("/rest/v1/commands?id=eq.{}", id(&cmd)), json!({ "retry_count": 1 })).await;
        assert_eq!(retried.row()["retry_count"], 1, "{}", retried.body);
    }

    async fn pending_commands_of_a_device_are_found_by_target_and_status(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let h = home(&server).await;
        for (source, target) in [(&h.phone, &h.camera), (&h.camera, &h.phone)] {
            server
                .create(
                    "commands",
                    json!({ "owner_user_id": id(&h.user), "source_device_id": id(source), "target_device_id": id(target), "command_type": "ping" }),
                )
                .await;
        }
        let read = server
            .get(&format!("/rest/v1/commands?target_device_id=eq.{}&status=eq.pending&select=id,source:devices!source_device_id(name)", id(&h.camera)))
            .await
            .expect(200, "filter");
        assert_eq!(read.rows().len(), 1, "{}", read.body);
        assert_eq!(read.row()["source"]["name"], "Phone");
    }

    async fn notification_deliveries_are_retried_with_attempts_and_a_next_attempt_time(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let h = home(&server).await;
        let delivery = server
            .create("notification_deliveries", json!({ "owner_user_id": id(&h.user), "recipient_device_id": id(&h.phone), "type": "motion" }))
            .await;
        assert_eq!((&delivery["status"], &delivery["attempts"]), (&json!("pending"), &json!(0)));
        let bad = server
            .patch(&format!("/rest/v1/notification_deliveries?id=eq.{}", id(&delivery)), json!({ "attempts": -1 }))
            .await;
        assert_eq!(bad.status, 422, "{}", bad.body);
        server
            .patch(
                &format!("/rest/v1/notification_deliveries?id=eq.{}", id(&delivery)),
                json!({ "attempts": 1, "next_attempt_at": "2024-01-01T00:05:00.000" }),
            )
            .await
            .expect(200, "retry");
        let due = server
            .get("/rest/v1/notification_deliveries?status=eq.pending&next_attempt_at=lte.2024-01-01T00:10:00")
            .await;
        assert_eq!(due.rows().len(), 1, "{}", due.body);
    }

    async fn a_stream_session_embeds_its_camera_and_requester(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let h = home(&server).await;
        let s = stream(&server, &h).await;
        assert_eq!(s["status"], "requested");
        assert!(s.get("stream_key").is_none(), "{s}");
        let read = server
            .get("/rest/v1/stream_sessions?select=camera:devices!camera_device_id(name),requester:devices!requester_device_id(name)")
            .await
            .expect(200, "embed");
        assert_eq!((&read.row()["camera"]["name"], &read.row()["requester"]["name"]), (&json!("Hall camera"), &json!("Phone")));
    }

    async fn deleting_a_stream_session_deletes_its_recordings(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let h = home(&server).await;
        let s = stream(&server, &h).await;
        server
            .create(
                "recordings",
                json!({ "owner_user_id": id(&h.user), "stream_session_id": id(&s), "camera_device_id": id(&h.camera),
                        "requester_device_id": id(&h.phone), "object_key": "rec/1.mp4", "bucket": "videos" }),
            )
            .await;
        server.delete(&format!("/rest/v1/stream_sessions?id=eq.{}", id(&s))).await.expect(200, "delete");
        assert!(server.get("/rest/v1/recordings").await.rows().is_empty());
    }

    async fn deleting_an_event_detaches_its_recordings(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let h = home(&server).await;
        let s = stream(&server, &h).await;
        let event = server
            .create("events", json!({ "user_id": id(&h.user), "device_id": id(&h.camera), "title": "Motion" }))
            .await;
        let rec = server
            .create(
                "recordings",
                json!({ "owner_user_id": id(&h.user), "stream_session_id": id(&s), "camera_device_id": id(&h.camera),
                        "requester_device_id": id(&h.phone), "event_id": id(&event), "object_key": "rec/1.mp4", "bucket": "videos" }),
            )
            .await;
        server.delete(&format!("/rest/v1/events?id=eq.{}", id(&event))).await.expect(200, "delete");
        let read = server.get(&format!("/rest/v1/recordings?id=eq.{}", id(&rec))).await;
        assert_eq!(read.rows().len(), 1, "{}", read.body);
        assert_eq!(read.row()["event_id"], Value::Null);
    }

    async fn deleting_an_event_deletes_its_notifications(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let h = home(&server).await;
        let event = server
            .create("events", json!({ "user_id": id(&h.user), "device_id": id(&h.camera), "title": "Motion" }))
            .await;
        let n = server.create("notifications", json!({ "event_id": id(&event), "user_id": id(&h.user), "channel": "push" })).await;
        assert_eq!((&n["status"], &n["is_read"]), (&json!("sent"), &json!(false)));
        server.delete(&format!("/rest/v1/events?id=eq.{}", id(&event))).await.expect(200, "delete");
        assert!(server.get("/rest/v1/notifications").await.rows().is_empty());
    }

    async fn event_video_url_is_unique(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let h = home(&server).await;
        let event = json!({ "user_id": id(&h.user), "device_id": id(&h.camera), "title": "Motion", "video_url": "https://v/1" });
        let first = server.create("events", event.clone()).await;
        assert_eq!(first["status"], "open");
        let again = server.post("/rest/v1/events", event).await;
        assert_eq!(again.status, 409, "{}", again.body);
    }

    async fn deleting_a_user_deletes_their_devices_and_everything_of_them(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let h = home(&server).await;
        link(&server, &h).await;
        stream(&server, &h).await;
        server.delete(&format!("/rest/v1/users?id=eq.{}", id(&h.user))).await.expect(200, "delete");
        for model in ["devices", "device_links", "stream_sessions"] {
            assert!(server.get(&format!("/rest/v1/{model}")).await.rows().is_empty(), "{model} kept");
        }
    }

    async fn auth_tokens_and_secrets_are_never_returned(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let h = home(&server).await;
        let account = server
            .create(
                "account",
                json!({ "user_id": id(&h.user), "account_id": "a1", "provider_id": "credential", "access_token": "at", "refresh_token": "rt", "password": "pw" }),
            )
            .await;
        for secret in ["access_token", "refresh_token", "password"] {
            assert!(account.get(secret).is_none(), "{secret} returned: {account}");
        }
        let session = server
            .create("session", json!({ "user_id": id(&h.user), "token": "tok", "expires_at": "2030-01-01T00:00:00.000" }))
            .await;
        assert!(session.get("token").is_none(), "{session}");
        assert!(h.phone.get("push_token").is_none());
    }

    async fn session_token_is_unique(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let h = home(&server).await;
        let row = json!({ "user_id": id(&h.user), "token": "tok", "expires_at": "2030-01-01T00:00:00.000" });
        server.create("session", row.clone()).await;
        let again = server.post("/rest/v1/session", row).await;
        assert_eq!(again.status, 409, "{}", again.body);
    }

    async fn updating_a_device_moves_its_updated_at(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let h = home(&server).await;
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        let updated = server.patch(&format!("/rest/v1/devices?id=eq.{}", id(&h.phone)), json!({ "status": "online" })).await;
        let after = updated.row()["updated_at"].as_str().unwrap_or_default();
        assert!(after > h.phone["updated_at"].as_str().unwrap_or_default(), "{}", updated.body);
        assert_eq!(updated.row()["created_at"], h.phone["created_at"]);
    }

    /// Each user reads exactly the rows the README's access table gives them: their own,
    /// through the whole chain of devices, streams and events; the table covers every model.
    async fn every_read_cell_of_the_access_table_holds(db: Database) {
        let world = CamWorld::build(AppServer::start(APP, &db).await).await;
        let matrix = access_world::matrix();
        matrix.assert_complete(&world.server);
        assert_none(check_reads(&world, &matrix).await);
        assert_readme_shows(&readme(), &matrix);
    }

    /// Users create rows of their own that point at their own devices only.
    async fn every_create_cell_of_the_access_table_holds(db: Database) {
        let world = CamWorld::build(AppServer::start(APP, &db).await).await;
        assert_none(check_creates(&world, &access_world::matrix()).await);
    }

    /// An update of every row changes exactly the caller's own.
    async fn every_update_cell_of_the_access_table_holds(db: Database) {
        let world = CamWorld::build(AppServer::start(APP, &db).await).await;
        assert_none(check_updates(&world, &access_world::matrix()).await);
    }

    /// A delete of fresh rows removes exactly the caller's own.
    async fn every_delete_cell_of_the_access_table_holds(db: Database) {
        let world = CamWorld::build(AppServer::start(APP, &db).await).await;
        assert_none(check_deletes(&world, &access_world::matrix()).await);
    }

    /// A user signs up with their name, registers a camera without naming its owner (the
    /// rule fills it in), and nobody else sees it.
    async fn a_new_user_registers_a_camera_only_they_see(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let nameless = server.sign_up(json!({ "email": "cat@example.com", "password": "s3cret-pass" })).await;
        assert_eq!(nameless.status, 422, "{}", nameless.body);
        let session = server
            .sign_up(json!({ "email": "Cat@Example.com ", "password": "s3cret-pass", "data": { "name": "Cat" } }))
            .await
            .expect(200, "sign up");
        let token = session.body["access_token"].as_str().expect("a token").to_owned();
        let cat = session.body["user"]["id"].clone();
        let camera = send(
            server
                .request_as(Some(&token), Method::POST, "/rest/v1/devices")
                .json(&json!({ "name": "Hall", "role": "camera", "is_camera": true })),
        )
        .await
        .expect(201, "a camera of Cat's");
        assert_eq!(camera.row()["user_id"], cat);
        let (dan, _) = server.signed_up_with("dan@example.com", json!({ "name": "Dan" })).await;
        let theirs = send(server.request_as(Some(&dan), Method::GET, "/rest/v1/devices")).await.expect(200, "Dan's devices");
        assert!(theirs.rows().is_empty(), "{}", theirs.body);
        let signed_in = send(
            server
                .client
                .post(server.url("/auth/v1/token?grant_type=password"))
                .json(&json!({ "email": "cat@example.com", "password": "s3cret-pass" })),
        )
        .await;
        assert_eq!(signed_in.status, 200, "{}", signed_in.body);
    }
}
