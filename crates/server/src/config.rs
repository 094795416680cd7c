//! Server configuration.

use std::time::Duration;

/// How the server behaves, independent of where it listens.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Largest request body accepted, in bytes (default 1 MiB); larger ones get 413.
    pub body_limit: usize,
    /// Longest time a request may take, from its headers to its answer, before it is
    /// answered with 504 (default 30 s). A write cut off this way still ends as one whole
    /// (committed or rolled back, never half-written).
    pub request_timeout: Duration,
    /// Longest time a client may take to send a request's headers (default 10 s); the
    /// connection is closed after it. It is also how long an idle keep-alive connection
    /// stays open.
    pub header_read_timeout: Duration,
    /// Longest time a client may take to send a request's body once its headers have
    /// arrived (default 10 s); it is answered 408 after it.
    pub body_read_timeout: Duration,
    /// Most requests served at once (default 256). A request beyond it waits up to
    /// `queue_timeout` for a free slot, and is answered 503 with `Retry-After` when none
    /// frees in time, or at once when as many requests already wait as are served.
    /// `/health`, `/ready` and `/metrics` are never held back.
    pub max_concurrent_requests: usize,
    /// How long a request may wait for a slot when the server is at its limit (default
    /// 1 s).
    pub queue_timeout: Duration,
    /// Origins allowed by CORS. `None` (the default) allows every origin, as the REST API
    /// is meant for browsers of any site holding a key; `Some(list)` allows only those.
    pub cors_origins: Option<Vec<String>>,
    /// How long an access token is valid (default 1 hour).
    pub access_token_lifetime: Duration,
    /// How long a refresh token is valid (default 30 days); each use replaces it.
    pub refresh_token_lifetime: Duration,
    /// Whether anyone may create an account at `/auth/v1/signup` (default true).
    pub signup: bool,
    /// How failed sign-ins lock an email out (default: 5 failures in 15 minutes lock it
    /// for 15 minutes).
    pub sign_in_lockout: tessera_runtime::Lockout,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            body_limit: 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(10),
            max_concurrent_requests: 256,
            queue_timeout: Duration::from_secs(1),
            cors_origins: None,
            access_token_lifetime: Duration::from_secs(3600),
            refresh_token_lifetime: Duration::from_secs(30 * 24 * 3600),
            signup: true,
            sign_in_lockout: tessera_runtime::Lockout::default(),
        }
    }
}
