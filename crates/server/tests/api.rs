//! The data API over HTTP: a real server on a real port, on SQLite and PostgreSQL, with
//! the tour builder app's schema.

mod common;

use common::{project, send, TestServer, KEY};
use serde_json::{json, Value};
use tessera_testkit::{engine_tests, Database};

/// Amounts with thirty digits.
const LEDGER: &str =
    "model ledger {\n  code text @unique\n  amount decimal(30, 10)\n  price decimal(10, 2)?\n}\n";

fn codes(body: &Value) -> (&str, &str) {
    (
        body["code"].as_str().unwrap_or(""),
        body["message"].as_str().unwrap_or(""),
    )
}

engine_tests! {
    /// Health, readiness, metrics, OpenAPI and the docs page need no key.
    async fn operational_endpoints_answer(db: Database) {
        let server = TestServer::start(&db).await;
        let (status, _, body) = send(server.client.get(server.url("/health"))).await;
        assert_eq!((status, body["status"].as_str()), (200, Some("ok")));
        let (status, _, body) = send(server.client.get(server.url("/ready"))).await;
        assert_eq!((status, body["status"].as_str()), (200, Some("ready")));
        let (status, _, body) = send(server.client.get(server.url("/openapi.json"))).await;
        assert_eq!(status, 200);
        assert!(body["openapi"].as_str().unwrap_or("").starts_with("3.1"), "{body}");
        assert!(body["paths"].as_object().is_some_and(|p| !p.is_empty()));
        let page = server.client.get(server.url("/docs")).send().await.expect("docs");
        assert_eq!(page.status(), 200);
        assert!(page.text().await.expect("html").contains("/openapi.json"));
        // A request, then its count and latency show up by route template.
        let _ = send(server.get("/rest/v1/projects")).await;
        let (status, headers, body) = send(server.client.get(server.url("/metrics"))).await;
        assert_eq!(status, 200);
        assert!(headers["content-type"].to_str().unwrap_or("").starts_with("text/plain"));
        let text = body.as_str().unwrap_or("");
        assert!(text.contains("http_requests_total"), "{text}");
        assert!(text.contains("route=\"/rest/v1/{model}\""), "{text}");
        assert!(text.contains("http_request_duration_seconds_bucket"), "{text}");
        assert!(text.contains("tessera_db_pool_connections"), "{text}");
    }

    /// Every response carries a request id; a client's own id is echoed back.
    async fn responses_carry_a_request_id(db: Database) {
        let server = TestServer::start(&db).await;
        let (_, headers, _) = send(server.client.get(server.url("/health"))).await;
        assert!(headers.contains_key("x-request-id"));
        let (_, headers, _) = send(server.client.get(server.url("/health")).header("x-request-id", "abc-123")).await;
        assert_eq!(headers["x-request-id"], "abc-123");
    }

    /// Anonymous requests get 401 on models no rule opens to them; the key is accepted as
    /// Bearer or apikey; a wrong key is 401.
    async fn the_api_is_closed_without_the_key(db: Database) {
        let server = TestServer::start(&db).await;
        // Roles are for signed-in users (public presentations are the projects anyone reads).
        let (status, headers, body) = send(server.client.get(server.url("/rest/v1/roles"))).await;
        assert_eq!(status, 401);
        assert_eq!(codes(&body).0, "42501");
        assert_eq!(body["message"], "permission denied: anonymous callers may not read roles");
        assert!(headers.contains_key("www-authenticate"));
        let (status, _, body) = send(server.client.get(server.url("/rest/v1/projects")).bearer_auth("wrong")).await;
        assert_eq!((status, codes(&body).0), (401, "PGRST301"));
        let (status, _, _) = send(server.client.get(server.url("/rest/v1/projects")).header("apikey", "wrong")).await;
        assert_eq!(status, 401);
        let (status, _, body) = send(server.client.get(server.url("/rest/v1/projects")).bearer_auth(KEY)).await;
        assert_eq!((status, body), (200, json!([])));
        let (status, _, _) = send(server.client.get(server.url("/rest/v1/projects")).header("apikey", KEY)).await;
        assert_eq!(status, 200);
        let (status, _, _) = send(
            server.client.get(server.url("/rest/v1/projects")).header("apikey", KEY).bearer_auth(KEY),
        )
        .await;
        assert_eq!(status, 200);
        // Writes are closed too.
        let (status, _, _) = send(server.client.post(server.url("/rest/v1/projects")).json(&json!({"name": "x", "slug": "x"}))).await;
        assert_eq!(status, 401);
    }

    /// POST answers 201: no body by default, the rows with return=representation, a
    /// Location with return=headers-only.
    async fn inserts_follow_prefer_return(db: Database) {
        let server = TestServer::start(&db).await;
        let (status, _, body) = send(server.post("/rest/v1/projects").json(&json!({"name": "A", "slug": "a"}))).await;
        assert_eq!((status, body), (201, Value::Null));
        let (status, headers, body) = send(
            server.post("/rest/v1/projects").header("prefer", "return=representation").json(&json!({"name": "B", "slug": "b"})),
        )
        .await;
        assert_eq!(status, 201);
        assert_eq!(body[0]["slug"], "b");
        assert!(body[0]["id"].is_string());
        assert!(headers["content-type"].to_str().unwrap_or("").starts_with("application/json"));
        let (status, headers, body) = send(
            server.post("/rest/v1/projects").header("prefer", "return=headers-only").json(&json!({"name": "C", "slug": "c"})),
        )
        .await;
        assert_eq!((status, body), (201, Value::Null));
        let location = headers["location"].to_str().unwrap_or("").to_owned();
        assert!(location.starts_with("/rest/v1/projects?id=eq."), "{location}");
        let (status, _, body) = send(server.get(&location)).await;
        assert_eq!((status, body[0]["slug"].as_str()), (200, Some("c")));
        // An array inserts every row; columns= takes only the listed keys.
        let (status, _, body) = send(
            server
                .post("/rest/v1/projects?columns=%22name%22,%22slug%22&select=slug")
                .header("prefer", "return=representation")
                .json(&json!([{"name": "D", "slug": "d", "description": "ignored"}, {"name": "E", "slug": "e"}])),
        )
        .await;
        assert_eq!((status, body), (201, json!([{"slug": "d"}, {"slug": "e"}])));
    }

    /// Range headers and count=exact give Content-Range and 206 for partial results.
    async fn reads_honour_range_and_count(db: Database) {
        let server = TestServer::start(&db).await;
        for i in 0..5 {
            project(&server, &format!("P{i}"), &format!("p{i}")).await;
        }
        let (status, headers, body) = send(server.get("/rest/v1/projects?select=slug&order=slug.asc")).await;
        assert_eq!(status, 200);
        assert_eq!(headers["content-range"], "0-4/*");
        assert_eq!(body.as_array().map(Vec::len), Some(5));
        let (status, headers, body) = send(
            server
                .get("/rest/v1/projects?select=slug&order=slug.asc")
                .header("range-unit", "items")
                .header("range", "1-2")
                .header("prefer", "count=exact"),
        )
        .await;
        assert_eq!(status, 206);
        assert_eq!(headers["content-range"], "1-2/5");
        assert_eq!(body, json!([{"slug": "p1"}, {"slug": "p2"}]));
        assert_eq!(headers["preference-applied"], "count=exact");
        let (status, headers, _) = send(
            server.get("/rest/v1/projects?select=slug&limit=2&offset=0").header("prefer", "count=exact"),
        )
        .await;
        assert_eq!((status, headers["content-range"].to_str().ok()), (206, Some("0-1/5")));
        let (status, headers, _) = send(server.get("/rest/v1/projects").header("prefer", "count=exact")).await;
        assert_eq!((status, headers["content-range"].to_str().ok()), (200, Some("0-4/5")));
        let (status, _, body) = send(
            server.get("/rest/v1/projects").header("range", "10-20").header("prefer", "count=exact"),
        )
        .await;
        assert_eq!((status, codes(&body).0), (416, "PGRST103"));
        // HEAD: the same headers, no body.
        let response = server
            .req(reqwest::Method::HEAD, "/rest/v1/projects")
            .header("prefer", "count=exact")
            .send()
            .await
            .expect("head");
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-range"], "0-4/5");
        assert!(response.text().await.expect("body").is_empty());
    }

    /// Filters, order and embedded relations in PostgREST's grammar.
    async fn reads_filter_order_and_embed(db: Database) {
        let server = TestServer::start(&db).await;
        let p = project(&server, "Tour", "tour").await;
        let id = p["id"].as_str().unwrap_or_default().to_owned();
        for (i, slug) in ["intro", "hall", "garden"].iter().enumerate() {
            let (status, _, body) = send(server.post("/rest/v1/tour_pages").json(&json!({
                "projectId": id, "name": slug, "slug": slug, "sort_order": i
            })))
            .await;
            assert_eq!(status, 201, "{body}");
        }
        let (status, _, body) = send(
            server.get("/rest/v1/tour_pages?select=slug&sort_order=gte.1&order=sort_order.desc"),
        )
        .await;
        assert_eq!((status, body), (200, json!([{"slug": "garden"}, {"slug": "hall"}])));
        let (status, _, body) = send(server.get(
            "/rest/v1/projects?select=slug,pages:tour_pages_project(slug)&pages.order=sort_order.asc",
        ))
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body, json!([{"slug": "tour", "pages": [{"slug": "intro"}, {"slug": "hall"}, {"slug": "garden"}]}]));
    }

    /// Accept: application/vnd.pgrst.object+json answers one object, or 406 PGRST116.
    async fn single_object_responses(db: Database) {
        let server = TestServer::start(&db).await;
        project(&server, "One", "one").await;
        project(&server, "Two", "two").await;
        let object = "application/vnd.pgrst.object+json";
        let (status, headers, body) = send(server.get("/rest/v1/projects?slug=eq.one&select=name").header("accept", object)).await;
        assert_eq!((status, body), (200, json!({"name": "One"})));
        assert!(headers["content-type"].to_str().unwrap_or("").starts_with(object));
        let (status, _, body) = send(server.get("/rest/v1/projects").header("accept", object)).await;
        assert_eq!((status, codes(&body).0), (406, "PGRST116"));
        assert_eq!(body["details"], "The result contains 2 rows");
        let (status, _, body) = send(server.get("/rest/v1/projects?slug=eq.none").header("accept", object)).await;
        assert_eq!((status, codes(&body).0), (406, "PGRST116"));
        let (status, _, body) = send(server.get("/rest/v1/projects").header("accept", "text/csv")).await;
        assert_eq!((status, codes(&body).0), (406, "PGRST107"));
    }

    /// A single-object POST, PATCH or DELETE of another number of rows answers 406
    /// and changes nothing.
    async fn single_object_writes_of_several_rows_change_nothing(db: Database) {
        let server = TestServer::start(&db).await;
        project(&server, "One", "one").await;
        project(&server, "Two", "two").await;
        let object = "application/vnd.pgrst.object+json";
        let (status, _, body) = send(server.patch("/rest/v1/projects?slug=like.*").header("accept", object).json(&json!({"name": "Same"}))).await;
        assert_eq!((status, codes(&body).0), (406, "PGRST116"), "{body}");
        let (status, _, body) = send(server.delete("/rest/v1/projects?slug=like.*").header("accept", object)).await;
        assert_eq!((status, codes(&body).0), (406, "PGRST116"), "{body}");
        let (status, _, body) = send(server.post("/rest/v1/projects").header("accept", object).header("prefer", "return=representation").json(&json!([{"name": "Three", "slug": "three"}, {"name": "Four", "slug": "four"}]))).await;
        assert_eq!((status, codes(&body).0), (406, "PGRST116"), "{body}");
        let (_, _, body) = send(server.get("/rest/v1/projects?select=name&order=slug")).await;
        assert_eq!(body, json!([{"name": "One"}, {"name": "Two"}]), "nothing was changed");
        let (status, _, body) = send(server.patch("/rest/v1/projects?slug=eq.one&select=name").header("accept", object).header("prefer", "return=representation").json(&json!({"name": "Uno"}))).await;
        assert_eq!((status, body), (200, json!({"name": "Uno"})));
    }

    /// PATCH and DELETE need a filter; they answer 204, or 200 with the rows.
    async fn updates_and_deletes(db: Database) {
        let server = TestServer::start(&db).await;
        project(&server, "Old", "old").await;
        let (status, _, body) = send(server.patch("/rest/v1/projects").json(&json!({"name": "x"}))).await;
        assert_eq!((status, codes(&body).0), (400, "21000"), "{body}");
        let (status, _, body) = send(server.delete("/rest/v1/projects")).await;
        assert_eq!((status, codes(&body).0), (400, "21000"));
        let (status, _, body) = send(server.patch("/rest/v1/projects?slug=eq.old").json(&json!({"name": "New"}))).await;
        assert_eq!((status, body), (204, Value::Null));
        let (status, _, body) = send(
            server
                .patch("/rest/v1/projects?slug=eq.old&select=name")
                .header("prefer", "return=representation")
                .json(&json!({"description": "d"})),
        )
        .await;
        assert_eq!((status, body), (200, json!([{"name": "New"}])));
        let (status, _, body) = send(server.delete("/rest/v1/projects?slug=eq.old&select=slug").header("prefer", "return=representation")).await;
        assert_eq!((status, body), (200, json!([{"slug": "old"}])));
    }

    /// DELETE soft-deletes; `_deleted=` lists deleted rows; restore brings them back;
    /// hard delete is refused where the schema does not allow it.
    async fn soft_delete_and_restore(db: Database) {
        let server = TestServer::start(&db).await;
        project(&server, "Keep", "keep").await;
        project(&server, "Gone", "gone").await;
        let (status, _, _) = send(server.delete("/rest/v1/projects?slug=eq.gone")).await;
        assert_eq!(status, 204);
        let (_, _, body) = send(server.get("/rest/v1/projects?select=slug")).await;
        assert_eq!(body, json!([{"slug": "keep"}]));
        let (_, _, body) = send(server.get("/rest/v1/projects?select=slug&_deleted=only")).await;
        assert_eq!(body, json!([{"slug": "gone"}]));
        let (_, _, body) = send(server.get("/rest/v1/projects?select=slug&_deleted=include&order=slug")).await;
        assert_eq!(body, json!([{"slug": "gone"}, {"slug": "keep"}]));
        let (status, _, body) = send(server.post("/rest/v1/projects/restore")).await;
        assert_eq!((status, codes(&body).0), (400, "21000"));
        let (status, _, body) = send(server.post("/rest/v1/projects/restore?slug=eq.gone&select=slug")).await;
        assert_eq!((status, body), (200, json!([{"slug": "gone"}])));
        let (_, _, body) = send(server.get("/rest/v1/projects?select=slug&order=slug")).await;
        assert_eq!(body, json!([{"slug": "gone"}, {"slug": "keep"}]));
        let (status, _, body) = send(server.delete("/rest/v1/projects?slug=eq.gone&_hard=true")).await;
        assert_eq!(status, 403, "{body}");
    }

    /// Upsert with on_conflict and resolution=merge-duplicates / ignore-duplicates.
    async fn upserts(db: Database) {
        let server = TestServer::start(&db).await;
        project(&server, "First", "same").await;
        let (status, _, body) = send(
            server
                .post("/rest/v1/projects?on_conflict=slug&select=name,slug")
                .header("prefer", "return=representation,resolution=merge-duplicates")
                .json(&json!({"name": "Second", "slug": "same"})),
        )
        .await;
        assert_eq!((status, body), (201, json!([{"name": "Second", "slug": "same"}])));
        let (status, _, _) = send(
            server
                .post("/rest/v1/projects?on_conflict=slug")
                .header("prefer", "resolution=ignore-duplicates")
                .json(&json!({"name": "Third", "slug": "same"})),
        )
        .await;
        assert_eq!(status, 201);
        let (_, _, body) = send(server.get("/rest/v1/projects?select=name")).await;
        assert_eq!(body, json!([{"name": "Second"}]));
    }

    /// Errors: the right status and PostgREST's body, naming what is wrong.
    async fn errors_have_status_and_body(db: Database) {
        let server = TestServer::start(&db).await;
        project(&server, "Taken", "taken").await;
        // 400: malformed query, naming the parameter.
        let (status, _, body) = send(server.get("/rest/v1/projects?name=zz.x")).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(codes(&body).0, "PGRST100");
        for key in ["code", "message", "details", "hint"] {
            assert!(body.get(key).is_some(), "{key} missing from {body}");
        }
        let (status, _, body) = send(server.get("/rest/v1/projects?select=name,(")).await;
        assert_eq!(status, 400, "{body}");
        assert!(body.to_string().contains("select"), "{body}");
        // 404: unknown model or column.
        let (status, _, body) = send(server.get("/rest/v1/nope")).await;
        assert_eq!((status, codes(&body).0), (404, "PGRST205"));
        let (status, _, body) = send(server.get("/rest/v1/projects?select=nope")).await;
        assert_eq!(status, 404, "{body}");
        assert!(body.to_string().contains("nope"));
        let (status, _, _) = send(server.get("/nowhere")).await;
        assert_eq!(status, 404);
        // 409: unique conflict, naming the fields.
        let (status, _, body) = send(server.post("/rest/v1/projects").json(&json!({"name": "Again", "slug": "taken"}))).await;
        assert_eq!((status, codes(&body).0), (409, "23505"), "{body}");
        assert!(body.to_string().contains("slug"), "{body}");
        // 409: foreign key.
        let (status, _, body) = send(server.post("/rest/v1/tour_pages").json(&json!({
            "projectId": "00000000-0000-4000-8000-000000000000", "name": "n", "slug": "s"
        })))
        .await;
        assert_eq!((status, codes(&body).0), (409, "23503"), "{body}");
        // 422: every failing field with its rule and message.
        let (status, _, body) = send(server.post("/rest/v1/projects").json(&json!({"name": "", "slug": "no spaces!"}))).await;
        assert_eq!(status, 422, "{body}");
        let text = body.to_string();
        assert!(text.contains("name") && text.contains("slug"), "{body}");
        assert!(text.contains("Name must be between 1 and 255 characters"), "{body}");
        // 400: malformed JSON, a body that is not JSON.
        let (status, _, body) = send(server.post("/rest/v1/projects").header("content-type", "application/json").body("{\"name\":")).await;
        assert_eq!((status, codes(&body).0), (400, "PGRST102"));
        // 415: wrong content type.
        let (status, _, body) = send(server.post("/rest/v1/projects").header("content-type", "text/csv").body("name,slug\nx,y")).await;
        assert_eq!((status, codes(&body).0), (415, "PGRST107"));
        // Garbage headers never give a 500.
        let (status, _, _) = send(server.get("/rest/v1/projects").header("range", "zzz").header("prefer", "???")).await;
        assert_eq!(status, 200);
    }

    /// Decimals of thirty digits go in as JSON numbers and come out as JSON numbers with
    /// every digit, at the field's scale, through inserts, filters, ordering and updates.
    async fn decimals_with_30_digits_round_trip_over_http(db: Database) {
        let server = TestServer::start_source(&db, LEDGER, tessera_server::ServerConfig::default()).await;
        let raw = |request: reqwest::RequestBuilder| async move {
            let response = request.send().await.expect("answered");
            (response.status().as_u16(), response.text().await.expect("body"))
        };
        let (status, text) = raw(
            server
                .post("/rest/v1/ledger?select=code,amount,price")
                .header("prefer", "return=representation")
                .header("content-type", "application/json")
                .body(r#"[{"code":"a","amount":12345678901234567890.1234567890,"price":1.5},{"code":"b","amount":-0.0000000001,"price":10}]"#),
        )
        .await;
        assert_eq!(status, 201, "{text}");
        assert_eq!(
            text,
            r#"[{"code":"a","amount":12345678901234567890.1234567890,"price":1.50},{"code":"b","amount":-0.0000000001,"price":10.00}]"#
        );
        let (status, text) = raw(server.get("/rest/v1/ledger?amount=gt.12345678901234567890.123456788&select=code,amount")).await;
        assert_eq!((status, text.as_str()), (200, r#"[{"code":"a","amount":12345678901234567890.1234567890}]"#));
        let (status, text) = raw(
            server
                .patch("/rest/v1/ledger?code=eq.b&select=amount")
                .header("prefer", "return=representation")
                .header("content-type", "application/json")
                .body(r#"{"amount":99999999999999999999.9999999999}"#),
        )
        .await;
        assert_eq!((status, text.as_str()), (200, r#"[{"amount":99999999999999999999.9999999999}]"#));
        let (_, text) = raw(server.get("/rest/v1/ledger?select=code&order=amount.desc")).await;
        assert_eq!(text, r#"[{"code":"b"},{"code":"a"}]"#);
        // One digit too many before the point: 422, naming the field and its limits.
        let (status, _, body) = send(
            server
                .post("/rest/v1/ledger")
                .header("content-type", "application/json")
                .body(r#"{"code":"c","amount":123456789012345678901}"#),
        )
        .await;
        assert_eq!((status, codes(&body).0), (422, "23514"), "{body}");
        assert_eq!(body["errors"][0]["field"], "amount", "{body}");
        let details = body["details"].as_str().unwrap_or("");
        assert!(details.contains("decimal(30, 10)") && details.contains("at most 20"), "{body}");
        let (status, _, body) = send(server.get("/rest/v1/ledger?amount=lt.many")).await;
        assert_eq!((status, codes(&body).0), (400, "22P02"), "{body}");
    }

    /// Bodies over the limit get 413 in the error shape.
    async fn bodies_over_the_limit_get_413(db: Database) {
        let config = tessera_server::ServerConfig { body_limit: 1024, ..Default::default() };
        let server = TestServer::start_with(&db, config).await;
        let big = json!({"name": "x".repeat(4096), "slug": "big"});
        let (status, _, body) = send(server.post("/rest/v1/projects").json(&big)).await;
        assert_eq!((status, codes(&body).0), (413, "PGRST413"), "{body}");
        let (status, _, _) = send(server.post("/rest/v1/projects").json(&json!({"name": "ok", "slug": "ok"}))).await;
        assert_eq!(status, 201);
    }
}

/// A panic in a handler becomes a 500 with a generic body (and the server goes on).
#[tokio::test]
async fn panics_become_a_generic_500() {
    use axum::routing::get;
    let app = tessera_server::with_layers(
        axum::Router::new().route(
            "/boom",
            get(|| async {
                if std::hint::black_box(true) {
                    panic!("secret detail");
                }
                "unreachable"
            }),
        ),
        &tessera_server::ServerConfig::default(),
    );
    let (addr, _stop) = tessera_server::testing::spawn(app).await.expect("serve");
    let response = reqwest::get(format!("http://{addr}/boom"))
        .await
        .expect("answer");
    assert_eq!(response.status(), 500);
    assert!(response.headers().contains_key("x-request-id"));
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["message"], "Internal server error");
    assert!(!body.to_string().contains("secret detail"));
}

/// CORS: any origin by default, with the headers clients send.
#[tokio::test]
async fn cors_preflight_is_answered() {
    let app = tessera_server::with_layers(
        axum::Router::new(),
        &tessera_server::ServerConfig::default(),
    );
    let (addr, _stop) = tessera_server::testing::spawn(app).await.expect("serve");
    let response = reqwest::Client::new()
        .request(
            reqwest::Method::OPTIONS,
            format!("http://{addr}/rest/v1/projects"),
        )
        .header("origin", "http://example.test")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "apikey,prefer,content-type",
        )
        .send()
        .await
        .expect("preflight");
    assert!(response.status().is_success());
    assert_eq!(response.headers()["access-control-allow-origin"], "*");
}
