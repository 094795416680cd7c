//! A real Tessera server for any bundled app: the app's schema migrated onto a fresh
//! database, the HTTP router on a free port of 127.0.0.1, and a client that sends the
//! service key.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};

use reqwest::Method;
use serde_json::Value;
use tessera_schema::ir::Schema;
use tessera_server::{Keys, ServerConfig, ServiceKey, TokenSigner};
use tessera_testkit::Database;

/// The key the test servers accept.
pub const KEY: &str = "apps-test-service-key-0123456789";
/// The secret signing the test servers' access tokens.
pub const TOKEN_SECRET: &[u8] = b"apps-test-token-signing-secret-0123456789";

/// The checked schema of the bundled app `name`, checked once per test process.
pub fn schema(name: &str) -> Arc<Schema> {
    static SCHEMAS: OnceLock<Mutex<HashMap<String, Arc<Schema>>>> = OnceLock::new();
    let cache = SCHEMAS.get_or_init(Default::default);
    let mut cache = cache
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    cache
        .entry(name.to_string())
        .or_insert_with(|| {
            let app = tessera_apps::find(name).unwrap_or_else(|| panic!("no bundled app {name}"));
            let checked = app
                .checked()
                .unwrap_or_else(|d| panic!("{name} does not check:\n{}", d.render(false)));
            Arc::new(checked.schema)
        })
        .clone()
}

/// Status and JSON body (`Null` when the body is empty) of one response.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub body: Value,
}

impl Response {
    /// The first row of an array body (a write with `return=representation`).
    pub fn row(&self) -> &Value {
        match &self.body {
            Value::Array(rows) => rows.first().unwrap_or(&Value::Null),
            other => other,
        }
    }

    /// The rows of an array body.
    pub fn rows(&self) -> &[Value] {
        self.body.as_array().map(Vec::as_slice).unwrap_or(&[])
    }

    /// Panics with `what` and the body unless the status is `status`.
    #[track_caller]
    pub fn expect(self, status: u16, what: &str) -> Response {
        assert_eq!(self.status, status, "{what}: {}", self.body);
        self
    }

    /// The validation error entries of a 4xx body: `(field, rule, message)`.
    pub fn errors(&self) -> Vec<(String, String, String)> {
        self.body["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .map(|e| {
                        let text = |k: &str| e[k].as_str().unwrap_or_default().to_string();
                        (text("field"), text("rule"), text("message"))
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// A running server for one app; stops when dropped (the database is dropped by its owner).
pub struct AppServer {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    pub schema: Arc<Schema>,
    /// Stops the server when dropped.
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl AppServer {
    /// Migrates `db` to the app's schema, as `tessera serve` does at startup, and serves it.
    pub async fn start(app: &str, db: &Database) -> AppServer {
        let _ = tracing_subscriber::fmt()
            .with_env_filter("warn")
            .with_test_writer()
            .try_init();
        let schema = schema(app);
        tessera_server::migrate::migrate_for_serve(&schema, db.url())
            .await
            .unwrap_or_else(|e| panic!("migrate a fresh database to {app}: {e}"));
        let engine = tessera_runtime::Engine::connect((*schema).clone(), db.url())
            .await
            .expect("engine connects");
        let keys = Keys {
            service: ServiceKey::new(KEY),
            tokens: TokenSigner::new(TOKEN_SECRET).expect("a long enough secret"),
        };
        let state = tessera_server::state(engine, keys, ServerConfig::default());
        let (addr, stop) = tessera_server::testing::spawn(tessera_server::router(state))
            .await
            .expect("serve on a free port");
        AppServer {
            addr,
            client: reqwest::Client::new(),
            schema,
            _stop: stop,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// A request with the service key, for headers the shortcuts below do not send.
    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.client.request(method, self.url(path)).bearer_auth(KEY)
    }

    /// `POST` answering the written rows (`Prefer: return=representation`).
    pub async fn post(&self, path: &str, body: impl Into<Value>) -> Response {
        send(
            self.request(Method::POST, path)
                .header("prefer", "return=representation")
                .json(&body.into()),
        )
        .await
    }

    pub async fn get(&self, path: &str) -> Response {
        send(self.request(Method::GET, path)).await
    }

    /// `PATCH` answering the updated rows.
    pub async fn patch(&self, path: &str, body: impl Into<Value>) -> Response {
        send(
            self.request(Method::PATCH, path)
                .header("prefer", "return=representation")
                .json(&body.into()),
        )
        .await
    }

    /// `DELETE` answering the deleted rows.
    pub async fn delete(&self, path: &str) -> Response {
        send(
            self.request(Method::DELETE, path)
                .header("prefer", "return=representation"),
        )
        .await
    }

    /// Signs up at `/auth/v1/signup` with `body`; answers the session (or the error).
    pub async fn sign_up(&self, body: Value) -> Response {
        send(self.client.post(self.url("/auth/v1/signup")).json(&body)).await
    }

    /// Signs up `email` with a password; answers the access token and the account row.
    pub async fn signed_up(&self, email: &str) -> (String, Value) {
        let session = self
            .sign_up(serde_json::json!({ "email": email, "password": "s3cret-pass" }))
            .await
            .expect(200, "sign up");
        let token = session.body["access_token"]
            .as_str()
            .expect("an access token")
            .to_owned();
        (token, session.body["user"].clone())
    }

    /// An access token for the account `id` (as `/auth/v1/token` would issue it), without
    /// signing in: accounts made with the service key need no password check to be used.
    pub fn token_for(&self, id: &str, email: &str) -> String {
        let signer = TokenSigner::new(TOKEN_SECRET).expect("a long enough secret");
        let account = tessera_runtime::Account {
            id: id.to_owned(),
            email: email.to_owned(),
        };
        signer.issue(&account, 3600).expect("a token").0
    }

    /// Signs up `email` with a password and the sign-up fields `data`; answers the access
    /// token and the account row.
    pub async fn signed_up_with(&self, email: &str, data: Value) -> (String, Value) {
        let session = self
            .sign_up(serde_json::json!({ "email": email, "password": "s3cret-pass", "data": data }))
            .await
            .expect(200, "sign up");
        let token = session.body["access_token"]
            .as_str()
            .expect("an access token")
            .to_owned();
        (token, session.body["user"].clone())
    }

    /// A request carrying a user's access token (or no credential with `None`) instead of
    /// the service key.
    pub fn request_as(
        &self,
        token: Option<&str>,
        method: Method,
        path: &str,
    ) -> reqwest::RequestBuilder {
        let request = self
            .client
            .request(method, self.url(path))
            .header("prefer", "return=representation");
        match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    /// Creates one row of `model` and returns it; panics naming the model otherwise.
    pub async fn create(&self, model: &str, body: Value) -> Value {
        let response = self.post(&format!("/rest/v1/{model}"), body.clone()).await;
        assert_eq!(
            response.status, 201,
            "create {model} {body}: {}",
            response.body
        );
        response.row().clone()
    }
}

/// Sends `request` and reads the status and the JSON body.
pub async fn send(request: reqwest::RequestBuilder) -> Response {
    let response = request.send().await.expect("the server answers");
    let status = response.status().as_u16();
    let text = response.text().await.expect("a body");
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    Response { status, body }
}

/// A URL-safe filter value (`eq.` values with spaces, colons or plus signs).
pub fn enc(value: &str) -> String {
    value
        .chars()
        .map(|c| match c {
            'A'..='Z' | 'a'..='z' | '0'..='9' | '-' | '_' | '.' | '~' => c.to_string(),
            other => {
                let mut buf = [0u8; 4];
                other
                    .encode_utf8(&mut buf)
                    .bytes()
                    .map(|b| format!("%{b:02X}"))
                    .collect()
            }
        })
        .collect()
}
