//! The facekom-esign app through the HTTP API, on SQLite and PostgreSQL: every model
//! round-trips, and the rules of the esign_oss document (seed 000) hold.

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
                "Contract",
                "Document",
                "Offer",
                "Signature",
                "SignatureData",
                "SignatureValidation",
                "CustomerData",
                "Attachment",
                "App",
                "Device",
            ],
            Kind::Operational,
        ),
        (
            &[
                "Setting",
                "Shortener",
                "Cert",
                "TimestampToken",
                "BackgroundProcess",
                "FcmInfo",
            ],
            Kind::Admin,
        ),
        (
            &[
                "AuditLog",
                "EmailLog",
                "SmsLog",
                "Activity",
                "ClientErrorLog",
                "BackgroundProcessLog",
            ],
            Kind::Log,
        ),
        (&["User"], Kind::Accounts),
        (&["VerificationToken", "Session"], Kind::Service),
    ])
}

fn readme() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../apps/facekom-esign/README.md"
    ))
    .expect("the app's README")
}

use serde_json::{json, Value};
use support::walk::assert_every_model_round_trips;
use support::AppServer;
use tessera_testkit::{engine_tests, Database};

const APP: &str = "facekom-esign";

fn id(row: &Value) -> &str {
    row["id"].as_str().expect("an id")
}

async fn customer(server: &AppServer) -> Value {
    server.create("Customer", json!({ "name": "Ada" })).await
}

async fn offer(server: &AppServer) -> Value {
    let c = customer(server).await;
    server
        .create("Offer", json!({ "customerId": id(&c), "title": "Loan" }))
        .await
}

engine_tests! {
    /// Every model can be created, read back with all its relations embedded, updated and
    /// deleted.
    async fn every_model_round_trips_through_the_api(db: Database) {
        assert_every_model_round_trips(APP, &db).await;
    }

    async fn sms_log_embeds_the_customer_data_of_its_customer_id(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let c = customer(&server).await;
        server.create("CustomerData", json!({ "customerId": id(&c), "firstName": "Ada" })).await;
        server.create("SmsLog", json!({ "customerId": id(&c), "to": "+3612345678", "message": "Your code: 1234" })).await;
        let read = server
            .get("/rest/v1/SmsLog?select=message,customer(name),customerData(firstName)")
            .await
            .expect(200, "embed");
        assert_eq!(read.row()["customerData"]["firstName"], "Ada", "{}", read.body);
        assert_eq!(read.row()["customer"]["name"], "Ada", "{}", read.body);
    }

    async fn customer_data_embeds_the_sms_logs_sharing_its_customer_id(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let c = customer(&server).await;
        server.create("CustomerData", json!({ "customerId": id(&c) })).await;
        server.create("SmsLog", json!({ "customerId": id(&c), "to": "+36", "message": "hello" })).await;
        let read = server.get("/rest/v1/CustomerData?select=id,SmsLog(message)").await.expect(200, "embed");
        assert_eq!(read.row()["SmsLog"], json!([{ "message": "hello" }]), "{}", read.body);
    }

    async fn sms_log_needs_no_customer_data_row(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let c = customer(&server).await;
        server.create("SmsLog", json!({ "customerId": id(&c), "to": "+36", "message": "hello" })).await;
        let read = server.get("/rest/v1/SmsLog?select=message,customerData(*)").await.expect(200, "embed");
        assert_eq!(read.row()["customerData"], Value::Null, "{}", read.body);
    }

    async fn deleting_customer_data_keeps_the_customer_id_of_sms_logs(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let c = customer(&server).await;
        let data = server.create("CustomerData", json!({ "customerId": id(&c) })).await;
        server.create("SmsLog", json!({ "customerId": id(&c), "to": "+36", "message": "hello" })).await;
        server.delete(&format!("/rest/v1/CustomerData?id=eq.{}", id(&data))).await.expect(200, "delete");
        let read = server.get("/rest/v1/SmsLog").await;
        assert_eq!(read.row()["customerId"], id(&c), "{}", read.body);
    }

    async fn sms_log_status_starts_queued(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let row = server.create("SmsLog", json!({ "to": "+36", "message": "hello" })).await;
        assert_eq!(row["status"], "queued");
    }

    async fn contract_number_is_unique(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let c = customer(&server).await;
        server.create("Contract", json!({ "customerId": id(&c), "title": "A", "number": "K-1" })).await;
        let again = server.post("/rest/v1/Contract", json!({ "customerId": id(&c), "title": "B", "number": "K-1" })).await;
        assert_eq!(again.status, 409, "{}", again.body);
    }

    async fn contract_starts_as_a_draft_and_has_a_documented_status(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let c = customer(&server).await;
        let row = server.create("Contract", json!({ "customerId": id(&c), "title": "A" })).await;
        assert_eq!(row["status"], "draft");
        let bad = server.patch(&format!("/rest/v1/Contract?id=eq.{}", id(&row)), json!({ "status": "archived" })).await;
        assert_eq!(bad.status, 422, "{}", bad.body);
        assert!(bad.errors().iter().any(|(f, r, _)| f == "status" && r == "one_of"), "{}", bad.body);
    }

    async fn deleting_a_contract_deletes_its_documents(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let c = customer(&server).await;
        let contract = server.create("Contract", json!({ "customerId": id(&c), "title": "A" })).await;
        server.create("Document", json!({ "contractId": id(&contract), "name": "contract.pdf" })).await;
        server.delete(&format!("/rest/v1/Contract?id=eq.{}", id(&contract))).await.expect(200, "delete");
        assert!(server.get("/rest/v1/Document").await.rows().is_empty());
    }

    async fn deleting_an_offer_deletes_its_signatures_and_their_data(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let o = offer(&server).await;
        let sig = server.create("Signature", json!({ "offerId": id(&o) })).await;
        assert_eq!(sig["status"], "pending");
        server.create("SignatureData", json!({ "signatureId": id(&sig), "type": "png", "data": "\\x0102" })).await;
        server.create("SignatureValidation", json!({ "signatureId": id(&sig), "valid": true })).await;
        server.delete(&format!("/rest/v1/Offer?id=eq.{}", id(&o))).await.expect(200, "delete");
        for model in ["Signature", "SignatureData", "SignatureValidation"] {
            assert!(server.get(&format!("/rest/v1/{model}")).await.rows().is_empty(), "{model} kept");
        }
    }

    async fn a_signature_has_at_most_one_validation(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let o = offer(&server).await;
        let sig = server.create("Signature", json!({ "offerId": id(&o) })).await;
        let validation = server.create("SignatureValidation", json!({ "signatureId": id(&sig), "valid": true })).await;
        assert!(validation["validatedAt"].is_string(), "{validation}");
        let again = server.post("/rest/v1/SignatureValidation", json!({ "signatureId": id(&sig), "valid": false })).await;
        assert_eq!(again.status, 409, "{}", again.body);
        let read = server
            .get("/rest/v1/Signature?select=id,SignatureValidation(valid)")
            .await
            .expect(200, "embed");
        assert_eq!(read.row()["SignatureValidation"], json!({ "valid": true }), "{}", read.body);
    }

    async fn verification_token_is_never_returned_and_is_sent_by_sms_or_email(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let c = customer(&server).await;
        let token = json!({ "customerId": id(&c), "token": "123456", "type": "sms", "expiresAt": "2030-01-01T00:00:00.000Z" });
        let row = server.create("VerificationToken", token.clone()).await;
        assert!(row.get("token").is_none(), "{row}");
        assert_eq!(row["attempts"], 0);
        let mut bad = token;
        bad["type"] = json!("pigeon");
        let refused = server.post("/rest/v1/VerificationToken", bad).await;
        assert_eq!(refused.status, 422, "{}", refused.body);
    }

    async fn app_installation_id_is_unique_and_platform_is_android_or_ios(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let c = customer(&server).await;
        let bad = server.post("/rest/v1/App", json!({ "customerId": id(&c), "installationId": "i1", "platform": "symbian" })).await;
        assert_eq!(bad.status, 422, "{}", bad.body);
        let app = server.create("App", json!({ "customerId": id(&c), "installationId": "i1", "platform": "ios" })).await;
        assert_eq!(app["active"], true);
        let again = server.post("/rest/v1/App", json!({ "customerId": id(&c), "installationId": "i1", "platform": "android" })).await;
        assert_eq!(again.status, 409, "{}", again.body);
    }

    async fn an_app_has_at_most_one_device_and_one_fcm_token(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let c = customer(&server).await;
        let app = server.create("App", json!({ "customerId": id(&c), "installationId": "i1", "platform": "ios" })).await;
        server.create("Device", json!({ "appId": id(&app), "os": "iOS" })).await;
        let again = server.post("/rest/v1/Device", json!({ "appId": id(&app), "os": "iOS" })).await;
        assert_eq!(again.status, 409, "{}", again.body);
        let fcm = server.create("FcmInfo", json!({ "appId": id(&app), "token": "fcm-token" })).await;
        assert!(fcm.get("token").is_none(), "{fcm}");
    }

    async fn deleting_a_customer_deletes_their_apps_and_devices(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let c = customer(&server).await;
        let app = server.create("App", json!({ "customerId": id(&c), "installationId": "i1", "platform": "ios" })).await;
        server.create("Device", json!({ "appId": id(&app) })).await;
        server.delete(&format!("/rest/v1/Customer?id=eq.{}", id(&c))).await.expect(200, "delete");
        assert!(server.get("/rest/v1/App").await.rows().is_empty());
        assert!(server.get("/rest/v1/Device").await.rows().is_empty());
    }

    async fn user_password_is_hashed_and_never_returned(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let row = server.create("User", json!({ "username": " signer ", "password": "hunter2" })).await;
        assert!(row.get("password").is_none(), "{row}");
        assert_eq!(row["username"], "signer");
        let pool = db.pool().await.expect("connect");
        let hashed = pool
            .fetch_i64("SELECT count(*) FROM \"User\" WHERE password LIKE '$argon2id$%'")
            .await
            .expect("count");
        assert_eq!(hashed, 1);
    }

    async fn customer_email_is_lowercased_and_must_be_valid(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let row = server.create("Customer", json!({ "email": " Ada@Example.COM" })).await;
        assert_eq!(row["email"], "ada@example.com");
        let bad = server.post("/rest/v1/Customer", json!({ "email": "ada" })).await;
        assert_eq!(bad.status, 422, "{}", bad.body);
    }
}

staff_access_tests!();
