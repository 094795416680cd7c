//! The facekom-vuer app through the HTTP API, on SQLite and PostgreSQL: every model
//! round-trips, and the rules of the vuer_oss document (seed 000) hold.

mod support;

#[macro_use]
#[path = "access/staff.rs"]
mod access_world;

use access_world::{Kind, Row, StaffWorld};
use support::access::{
    assert_none, assert_readme_shows, check_creates, check_deletes, check_reads, check_updates,
    Matrix,
};

/// The access table of the README: every model by what it is.
fn matrix() -> Matrix<Row> {
    access_world::matrix(vec![
        (
            &[
                "Customer",
                "Room",
                "SelfServiceRoom",
                "Flow",
                "Task",
                "FlowScope",
                "FlowResult",
                "FlowActivity",
                "Document",
                "DocumentVersion",
                "Attachment",
                "MediaFile",
                "Encryption",
                "FaceRecognition",
                "FaceComparison",
                "EmrtdInfo",
                "Feedback",
                "CallbackRequest",
                "CallbackRequestActivity",
                "CustomerHistory",
                "CustomerValidation",
                "CustomerDataChange",
                "Download",
                "PartnerServiceRequest",
            ],
            Kind::Operational,
        ),
        (
            &[
                "FlowProto",
                "TaskProto",
                "FlowTranslation",
                "SystemDocument",
                "OpenHourStandard",
                "OpenHourException",
                "Partner",
                "PartnerService",
            ],
            Kind::Reference,
        ),
        (
            &[
                "Setting",
                "Cert",
                "Shortener",
                "TimestampToken",
                "Storage",
                "Job",
                "BackgroundProcess",
                "ImportedCustomer",
                "ImportedRoom",
                "ImportedFlow",
                "ImportedFlowTranslation",
            ],
            Kind::Admin,
        ),
        (
            &[
                "AuditLog",
                "Activity",
                "UserActivity",
                "IntegrationLog",
                "JanusEvent",
                "CommunicationLog",
                "ClientErrorLog",
                "EmailLog",
                "SmsLog",
                "BackgroundProcessLog",
                "RecognitionAttempt",
            ],
            Kind::Log,
        ),
        (&["User"], Kind::Accounts),
        (&["WebAuthnCredential", "TotpKey"], Kind::Credentials),
        (
            &["PasswordHistory", "OneTimeLogin", "Session"],
            Kind::Service,
        ),
    ])
}

fn readme() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../apps/facekom-vuer/README.md"
    ))
    .expect("the app's README")
}

use serde_json::{json, Value};
use support::walk::assert_every_model_round_trips;
use support::AppServer;
use tessera_testkit::{engine_tests, Database};

const APP: &str = "facekom-vuer";

fn id(row: &Value) -> &str {
    row["id"].as_str().expect("an id")
}

async fn flow_proto(server: &AppServer, key: &str, version: i64) -> Value {
    server
        .create(
            "FlowProto",
            json!({ "key": key, "name": key, "version": version }),
        )
        .await
}

async fn flow(server: &AppServer, proto: &Value) -> Value {
    server
        .create("Flow", json!({ "flowProtoId": id(proto) }))
        .await
}

engine_tests! {
    /// Every model can be created, read back with all its relations embedded, updated and
    /// deleted.
    async fn every_model_round_trips_through_the_api(db: Database) {
        assert_every_model_round_trips(APP, &db).await;
    }

    async fn user_username_is_unique_after_trimming(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let first = server.create("User", json!({ "username": "  operator1 " })).await;
        assert_eq!(first["username"], "operator1");
        let again = server.post("/rest/v1/User", json!({ "username": "operator1\t" })).await;
        assert_eq!(again.status, 409, "{}", again.body);
    }

    async fn user_email_is_lowercased_and_must_be_valid(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let row = server.create("User", json!({ "username": "op", "email": " Op@Example.COM " })).await;
        assert_eq!(row["email"], "op@example.com");
        let bad = server.post("/rest/v1/User", json!({ "username": "op2", "email": "nope" })).await;
        assert_eq!(bad.status, 422, "{}", bad.body);
        assert!(bad.errors().iter().any(|(f, r, _)| f == "email" && r == "email"), "{}", bad.body);
    }

    async fn user_password_is_hashed_and_never_returned(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let row = server.create("User", json!({ "username": "op", "password": "hunter2" })).await;
        assert!(row.get("password").is_none(), "{row}");
        let pool = db.pool().await.expect("connect");
        let hashed = pool
            .fetch_i64("SELECT count(*) FROM \"User\" WHERE password LIKE '$argon2id$%'")
            .await
            .expect("count");
        assert_eq!(hashed, 1);
    }

    async fn failed_login_attempts_start_at_zero_and_cannot_be_negative(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let row = server.create("User", json!({ "username": "op" })).await;
        assert_eq!(row["failedLoginAttempts"], 0);
        let bad = server.patch(&format!("/rest/v1/User?id=eq.{}", id(&row)), json!({ "failedLoginAttempts": -1 })).await;
        assert_eq!(bad.status, 422, "{}", bad.body);
    }

    async fn totp_secrets_and_one_time_login_tokens_are_never_returned(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let user = server.create("User", json!({ "username": "op" })).await;
        let totp = server.create("TotpKey", json!({ "userId": id(&user), "secret": "JBSWY3DPEHPK3PXP" })).await;
        assert!(totp.get("secret").is_none(), "{totp}");
        let login = server
            .create("OneTimeLogin", json!({ "userId": id(&user), "token": "tok", "expiresAt": "2030-01-01T00:00:00.000Z" }))
            .await;
        assert!(login.get("token").is_none(), "{login}");
    }

    async fn deleting_a_user_deletes_their_password_history_and_keys(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let user = server.create("User", json!({ "username": "op" })).await;
        server.create("PasswordHistory", json!({ "userId": id(&user), "password": "old" })).await;
        server.create("TotpKey", json!({ "userId": id(&user), "secret": "s" })).await;
        server.delete(&format!("/rest/v1/User?id=eq.{}", id(&user))).await.expect(200, "delete user");
        assert!(server.get("/rest/v1/PasswordHistory").await.rows().is_empty());
        assert!(server.get("/rest/v1/TotpKey").await.rows().is_empty());
    }

    async fn flow_proto_key_and_version_are_unique_together(db: Database) {
        let server = AppServer::start(APP, &db).await;
        flow_proto(&server, "kyc", 1).await;
        flow_proto(&server, "kyc", 2).await;
        let again = server.post("/rest/v1/FlowProto", json!({ "key": "kyc", "name": "KYC", "version": 1 })).await;
        assert_eq!(again.status, 409, "{}", again.body);
    }

    async fn flow_proto_defaults_to_active_version_1_with_an_empty_definition(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let row = server.create("FlowProto", json!({ "key": "kyc", "name": "KYC" })).await;
        assert_eq!((&row["version"], &row["active"], &row["definition"]), (&json!(1), &json!(true), &json!({})));
        let flow = flow(&server, &row).await;
        assert_eq!(flow["status"], "created");
    }

    async fn a_flow_proto_with_flows_cannot_be_deleted(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let proto = flow_proto(&server, "kyc", 1).await;
        flow(&server, &proto).await;
        let refused = server.delete(&format!("/rest/v1/FlowProto?id=eq.{}", id(&proto))).await;
        assert_eq!(refused.status, 409, "{}", refused.body);
        assert_eq!(refused.body["code"], "23503");
    }

    async fn deleting_a_flow_deletes_its_tasks_activities_scopes_and_results(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let proto = flow_proto(&server, "kyc", 1).await;
        let f = flow(&server, &proto).await;
        let task_proto = server.create("TaskProto", json!({ "key": "selfie", "name": "Selfie", "type": "capture" })).await;
        server.create("Task", json!({ "flowId": id(&f), "taskProtoId": id(&task_proto) })).await;
        server.create("FlowActivity", json!({ "flowId": id(&f), "type": "started" })).await;
        server.create("FlowScope", json!({ "flowId": id(&f), "name": "main" })).await;
        server.create("FlowResult", json!({ "flowId": id(&f), "key": "verdict" })).await;
        server.delete(&format!("/rest/v1/Flow?id=eq.{}", id(&f))).await.expect(200, "delete flow");
        for model in ["Task", "FlowActivity", "FlowScope", "FlowResult"] {
            let left = server.get(&format!("/rest/v1/{model}")).await;
            assert!(left.rows().is_empty(), "{model} kept: {}", left.body);
        }
    }

    async fn flow_scope_name_is_unique_per_flow(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let proto = flow_proto(&server, "kyc", 1).await;
        let (a, b) = (flow(&server, &proto).await, flow(&server, &proto).await);
        server.create("FlowScope", json!({ "flowId": id(&a), "name": "main" })).await;
        server.create("FlowScope", json!({ "flowId": id(&b), "name": "main" })).await;
        let again = server.post("/rest/v1/FlowScope", json!({ "flowId": id(&a), "name": "main" })).await;
        assert_eq!(again.status, 409, "{}", again.body);
    }

    async fn a_flow_embeds_its_sub_flows_and_its_parent(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let proto = flow_proto(&server, "kyc", 1).await;
        let parent = flow(&server, &proto).await;
        let child = server.create("Flow", json!({ "flowProtoId": id(&proto), "parentFlowId": id(&parent) })).await;
        let read = server
            .get(&format!("/rest/v1/Flow?id=eq.{}&select=id,childFlows(id),parentFlow(id)", id(&parent)))
            .await
            .expect(200, "embed");
        assert_eq!(read.row()["childFlows"], json!([{ "id": id(&child) }]));
        assert_eq!(read.row()["parentFlow"], Value::Null);
        let up = server.get(&format!("/rest/v1/Flow?id=eq.{}&select=id,parentFlow(id)", id(&child))).await;
        assert_eq!(up.row()["parentFlow"]["id"], id(&parent), "{}", up.body);
    }

    async fn deleting_a_parent_flow_detaches_its_sub_flows(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let proto = flow_proto(&server, "kyc", 1).await;
        let parent = flow(&server, &proto).await;
        let child = server.create("Flow", json!({ "flowProtoId": id(&proto), "parentFlowId": id(&parent) })).await;
        server.delete(&format!("/rest/v1/Flow?id=eq.{}", id(&parent))).await.expect(200, "delete parent");
        let read = server.get(&format!("/rest/v1/Flow?id=eq.{}", id(&child))).await;
        assert_eq!(read.row()["parentFlowId"], Value::Null, "{}", read.body);
    }

    async fn feedback_rating_is_between_1_and_5(db: Database) {
        let server = AppServer::start(APP, &db).await;
        for rating in [0, 6] {
            let bad = server.post("/rest/v1/Feedback", json!({ "source": "customer", "rating": rating })).await;
            assert_eq!(bad.status, 422, "rating {rating}: {}", bad.body);
        }
        server.create("Feedback", json!({ "source": "customer", "rating": 5 })).await;
    }

    async fn feedback_source_is_customer_or_operator(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let bad = server.post("/rest/v1/Feedback", json!({ "source": "robot" })).await;
        assert_eq!(bad.status, 422, "{}", bad.body);
        assert!(bad.errors().iter().any(|(f, r, _)| f == "source" && r == "one_of"), "{}", bad.body);
        server.create("Feedback", json!({ "source": "operator" })).await;
    }

    async fn open_hours_day_of_week_is_0_to_6(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let bad = server
            .post("/rest/v1/OpenHourStandard", json!({ "dayOfWeek": 7, "openTime": "08:00:00", "closeTime": "16:00:00" }))
            .await;
        assert_eq!(bad.status, 422, "{}", bad.body);
        server
            .create("OpenHourStandard", json!({ "dayOfWeek": 6, "openTime": "08:00:00", "closeTime": "16:00:00" }))
            .await;
    }

    async fn shortener_code_is_unique_and_its_target_is_a_url(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let bad = server.post("/rest/v1/Shortener", json!({ "code": "abc", "url": "not a url" })).await;
        assert_eq!(bad.status, 422, "{}", bad.body);
        server.create("Shortener", json!({ "code": "abc", "url": "https://example.com/x" })).await;
        let again = server.post("/rest/v1/Shortener", json!({ "code": "abc", "url": "https://example.com/y" })).await;
        assert_eq!(again.status, 409, "{}", again.body);
    }

    async fn background_process_starts_queued_at_zero_progress_up_to_100(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let row = server.create("BackgroundProcess", json!({ "type": "export" })).await;
        assert_eq!((&row["status"], &row["progress"]), (&json!("queued"), &json!(0)));
        let bad = server.patch(&format!("/rest/v1/BackgroundProcess?id=eq.{}", id(&row)), json!({ "progress": 101 })).await;
        assert_eq!(bad.status, 422, "{}", bad.body);
    }

    async fn deleting_a_background_process_deletes_its_logs(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let process = server.create("BackgroundProcess", json!({ "type": "export" })).await;
        let log = server.create("BackgroundProcessLog", json!({ "backgroundProcessId": id(&process), "message": "go" })).await;
        assert_eq!(log["level"], "info");
        server.delete(&format!("/rest/v1/BackgroundProcess?id=eq.{}", id(&process))).await.expect(200, "delete");
        assert!(server.get("/rest/v1/BackgroundProcessLog").await.rows().is_empty());
    }

    async fn background_processes_embed_from_their_owner(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let proto = flow_proto(&server, "kyc", 1).await;
        let f = flow(&server, &proto).await;
        let customer = server.create("Customer", json!({ "name": "Ada" })).await;
        server.create("BackgroundProcess", json!({ "type": "render", "ownerType": "Flow", "ownerId": id(&f) })).await;
        server
            .create("BackgroundProcess", json!({ "type": "export", "ownerType": "Customer", "ownerId": id(&customer) }))
            .await;
        let read = server
            .get(&format!("/rest/v1/Flow?id=eq.{}&select=id,backgroundProcesses(type)", id(&f)))
            .await
            .expect(200, "embed");
        assert_eq!(read.row()["backgroundProcesses"], json!([{ "type": "render" }]), "{}", read.body);
    }

    async fn background_process_owner_type_must_be_one_of_its_owner_models(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let setting = server.create("Setting", json!({ "key": "theme" })).await;
        let bad = server
            .post("/rest/v1/BackgroundProcess", json!({ "type": "export", "ownerType": "Setting", "ownerId": id(&setting) }))
            .await;
        assert_eq!(bad.status, 422, "{}", bad.body);
        assert!(bad.errors().iter().any(|(f, _, _)| f == "ownerType"), "{}", bad.body);
    }
}

staff_access_tests!();
