//! `POST /rest/v1/{model}/publish` over HTTP, on SQLite and PostgreSQL, with the tour
//! builder app's schema.

mod common;

use common::{project, send, TestServer};
use serde_json::{json, Value};
use tessera_testkit::{engine_tests, Database};

async fn page(server: &TestServer, project: &Value, slug: &str, env: &str) {
    let (status, _, body) = send(server.post("/rest/v1/tour_pages").json(&json!({
        "projectId": project, "name": slug, "slug": slug, "environment": env
    })))
    .await;
    assert_eq!(status, 201, "create page: {body}");
}

engine_tests! {
    /// A run answers the log row; the copies are readable in the next environment.
    async fn publish_answers_the_log_row(db: Database) {
        let server = TestServer::start(&db).await;
        let p = project(&server, "Tour", "tour").await;
        page(&server, &p["id"], "home", "dev").await;
        page(&server, &p["id"], "about", "dev").await;
        let path = format!("/rest/v1/projects/publish?id=eq.{}", p["id"].as_str().unwrap_or(""));
        let (status, headers, log) = send(server.post(&path).json(&json!({"from": "dev", "to": "stage"}))).await;
        assert_eq!(status, 200, "{log}");
        assert!(headers["content-type"].to_str().unwrap_or("").starts_with("application/json"));
        assert_eq!((&log["status"], &log["pages_copied"]), (&json!("success"), &json!(2)), "{log}");
        assert_eq!(log["projectId"], p["id"]);
        let (_, _, stage) = send(server.get("/rest/v1/tour_pages?environment=eq.stage&select=slug,source_key&order=slug")).await;
        assert_eq!(stage.as_array().map(Vec::len), Some(2), "{stage}");
        // Filters other than the key work too, as long as they select one row.
        let (status, _, log) = send(server.post("/rest/v1/projects/publish?slug=eq.tour").json(&json!({"from": "stage", "to": "production"}))).await;
        assert_eq!((status, &log["status"]), (200, &json!("success")), "{log}");
        let (_, _, logs) = send(server.get("/rest/v1/publish_events?select=from_environment,to_environment,status&order=started_at")).await;
        assert_eq!(logs, json!([
            {"from_environment": "dev", "to_environment": "stage", "status": "success"},
            {"from_environment": "stage", "to_environment": "production", "status": "success"}
        ]));
    }

    /// Bad requests: no key, no filter, bad body, a skipped environment, no such project.
    async fn publish_refuses_bad_requests(db: Database) {
        let server = TestServer::start(&db).await;
        let p = project(&server, "Tour", "tour").await;
        let path = format!("/rest/v1/projects/publish?id=eq.{}", p["id"].as_str().unwrap_or(""));
        let body = json!({"from": "dev", "to": "stage"});
        let (status, _, _) = send(server.client.post(server.url(&path)).json(&body)).await;
        assert_eq!(status, 401);
        let (status, _, err) = send(server.post("/rest/v1/projects/publish").json(&body)).await;
        assert_eq!((status, err["code"].as_str()), (400, Some("21000")), "{err}");
        let (status, _, err) = send(server.post(&path).json(&json!({"from": "dev"}))).await;
        assert_eq!((status, err["code"].as_str()), (400, Some("PGRST102")), "{err}");
        let (status, _, err) = send(server.post(&path).body("not json").header("content-type", "application/json")).await;
        assert_eq!(status, 400, "{err}");
        let (status, _, err) = send(server.post(&path).json(&json!({"from": "dev", "to": "production"}))).await;
        assert_eq!(status, 400, "{err}");
        assert!(err["message"].as_str().unwrap_or("").contains("stage"), "{err}");
        let missing = format!("/rest/v1/projects/publish?id=eq.{}", uuid::Uuid::new_v4());
        let (status, _, err) = send(server.post(&missing).json(&body)).await;
        assert_eq!(status, 404, "{err}");
        let (status, _, err) = send(server.post("/rest/v1/projects/publish?id=eq.nope").json(&body)).await;
        assert_eq!(status, 400, "{err}");
        let (status, _, err) = send(server.post("/rest/v1/nothing/publish?id=eq.1").json(&body)).await;
        assert_eq!(status, 404, "{err}");
        let (status, _, err) = send(server.post("/rest/v1/users/publish?id=eq.1").json(&body)).await;
        assert_eq!(status, 400, "{err}");
        project(&server, "Other", "other").await;
        let (status, _, err) = send(server.post("/rest/v1/projects/publish?id=not.is.null").json(&body)).await;
        assert_eq!(status, 400, "several rows: {err}");
        let (_, _, logs) = send(server.get("/rest/v1/publish_events")).await;
        assert_eq!(logs, json!([]));
    }

    /// A failing run answers 409 and is recorded as failed; no content changed.
    async fn failed_publish_is_a_conflict_and_is_logged(db: Database) {
        let server = TestServer::start(&db).await;
        let p = project(&server, "Tour", "tour").await;
        page(&server, &p["id"], "home", "dev").await;
        page(&server, &p["id"], "home", "stage").await;
        let path = format!("/rest/v1/projects/publish?id=eq.{}", p["id"].as_str().unwrap_or(""));
        let (status, _, err) = send(server.post(&path).json(&json!({"from": "dev", "to": "stage"}))).await;
        assert_eq!((status, err["code"].as_str()), (409, Some("23505")), "{err}");
        let (_, _, logs) = send(server.get("/rest/v1/publish_events?select=status,error_message")).await;
        assert_eq!(logs, json!([{"status": "failed", "error_message": err["message"]}]));
        let (_, _, stage) = send(server.get("/rest/v1/tour_pages?environment=eq.stage&select=source_key")).await;
        assert_eq!(stage, json!([{"source_key": null}]));
    }

    /// What publish answers a caller without rights depends on nothing stored: probing
    /// a filter (does some account's email start with "a"?) learns nothing.
    async fn publish_answers_without_rights_do_not_depend_on_the_data(db: Database) {
        let server = TestServer::start(&db).await;
        let body = json!({"from": "dev", "to": "stage"});
        let probes = ["/rest/v1/users/publish?email=like.a*", "/rest/v1/projects/publish?slug=like.a*"];
        let anonymous = |path: &str| server.client.post(server.url(path)).json(&body);
        let (_, _, session) = send(server.client.post(server.url("/auth/v1/signup"))
            .json(&json!({"email": "zed@example.com", "password": "correct horse"}))).await;
        let token = session["access_token"].as_str().unwrap_or_default().to_owned();
        let user = |path: &str| server.client.post(server.url(path)).bearer_auth(&token).json(&body);
        // The user may update their own account only (`@@allow(update, id == auth)`).
        let mut before = Vec::new();
        for path in probes {
            before.push(send(anonymous(path)).await);
        }
        before.push(send(user(probes[0])).await);
        let (status, _, _) = send(server.post("/rest/v1/users").json(&json!({"email": "ann@example.com", "password": "correct horse"}))).await;
        assert_eq!(status, 201);
        project(&server, "Alpha", "alpha").await;
        let mut after = Vec::new();
        for path in probes {
            after.push(send(anonymous(path)).await);
        }
        after.push(send(user(probes[0])).await);
        let answers = |list: &[(u16, reqwest::header::HeaderMap, Value)]| {
            list.iter().map(|(status, _, body)| (*status, body.clone())).collect::<Vec<_>>()
        };
        assert_eq!(answers(&before), answers(&after));
        assert_eq!(before[1].0, 401, "anonymous callers are refused first: {:?}", answers(&before));
    }
}
