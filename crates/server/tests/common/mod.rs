//! A real server on a real port over a fresh database with the tour builder schema.

#![allow(dead_code)]

pub mod reliability;

use std::net::SocketAddr;
use std::path::PathBuf;

use tessera_server::{Keys, ServerConfig, ServiceKey, TokenSigner};
use tessera_testkit::Database;

/// The key the test servers accept.
pub const KEY: &str = "test-service-key-0123456789";
/// The secret signing the test server's access tokens.
pub const TOKEN_SECRET: &[u8] = b"test-token-signing-secret-0123456789";

pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .and_then(|p| p.parent())
        .map(PathBuf::from)
        .expect("workspace root")
}

pub fn tour_builder_schema() -> tessera_schema::Schema {
    let path = workspace_root().join("apps/tour-builder/schema.tsr");
    let source = std::fs::read_to_string(&path).expect("tour builder schema");
    tessera_schema::check_source("schema.tsr", &source)
        .expect("tour builder schema checks")
        .schema
}

/// Brings the test database to the schema, as `tessera serve` does at startup.
pub async fn migrate(schema: &tessera_schema::Schema, url: &str) {
    tessera_server::migrate::migrate_for_serve(schema, url)
        .await
        .expect("migrate the test database");
}

/// A running server; stops when dropped.
pub struct TestServer {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    /// Stops the server when dropped.
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl TestServer {
    pub async fn start(db: &Database) -> TestServer {
        TestServer::start_with(db, ServerConfig::default()).await
    }

    pub async fn start_with(db: &Database, config: ServerConfig) -> TestServer {
        TestServer::start_schema(db, tour_builder_schema(), config).await
    }

    /// A server over the schema written in `source` (which must check).
    pub async fn start_source(db: &Database, source: &str, config: ServerConfig) -> TestServer {
        let schema = tessera_schema::check_source("schema.tsr", source)
            .unwrap_or_else(|d| panic!("the test schema checks:\n{}", d.render(false)))
            .schema;
        TestServer::start_schema(db, schema, config).await
    }

    /// A server over `schema`, the database migrated to it first.
    pub async fn start_schema(
        db: &Database,
        schema: tessera_schema::Schema,
        config: ServerConfig,
    ) -> TestServer {
        TestServer::start_url(db.url(), schema, config).await
    }

    /// A server over the database at `url`, migrated to `schema` first.
    pub async fn start_url(
        url: &str,
        schema: tessera_schema::Schema,
        config: ServerConfig,
    ) -> TestServer {
        migrate(&schema, url).await;
        TestServer::serve_url(url, schema, config).await
    }

    /// A server over the database at `url`, which is already migrated to `schema`.
    pub async fn serve_url(
        url: &str,
        schema: tessera_schema::Schema,
        config: ServerConfig,
    ) -> TestServer {
        let _ = tracing_subscriber::fmt()
            .with_env_filter("warn,tessera_server=debug")
            .with_test_writer()
            .try_init();
        let engine = tessera_runtime::Engine::connect(schema, url)
            .await
            .expect("engine connects");
        let keys = Keys {
            service: ServiceKey::new(KEY),
            tokens: TokenSigner::new(TOKEN_SECRET).expect("a long enough secret"),
        };
        let connections = config.clone();
        let state = tessera_server::state(engine, keys, config);
        let (addr, stop) =
            tessera_server::testing::spawn_with(tessera_server::router(state), &connections)
                .await
                .expect("serve on a free port");
        TestServer {
            addr,
            client: reqwest::Client::new(),
            _stop: stop,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// A request with the service key.
    pub fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client.request(method, self.url(path)).bearer_auth(KEY)
    }

    pub fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.req(reqwest::Method::GET, path)
    }

    pub fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.req(reqwest::Method::POST, path)
    }

    pub fn patch(&self, path: &str) -> reqwest::RequestBuilder {
        self.req(reqwest::Method::PATCH, path)
    }

    pub fn delete(&self, path: &str) -> reqwest::RequestBuilder {
        self.req(reqwest::Method::DELETE, path)
    }
}

/// Status and JSON body (Null when empty).
pub async fn send(
    request: reqwest::RequestBuilder,
) -> (u16, reqwest::header::HeaderMap, serde_json::Value) {
    let response = request.send().await.expect("request is answered");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body");
    let body = if text.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text))
    };
    (status, headers, body)
}

/// Creates a project and returns its row.
pub async fn project(server: &TestServer, name: &str, slug: &str) -> serde_json::Value {
    let (status, _, body) = send(
        server
            .post("/rest/v1/projects")
            .header("prefer", "return=representation")
            .json(&serde_json::json!({ "name": name, "slug": slug })),
    )
    .await;
    assert_eq!(status, 201, "create project: {body}");
    body[0].clone()
}
