//! Server configuration.

use std::time::Duration;

/// How the server behaves, independent of where it listens.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Largest request body accepted, in bytes (default 1 MiB); larger ones get 413.
    pub body_limit: usize,
    /// Longest request target (path and query string) accepted, in bytes (default
    /// 32 KiB); longer ones get 414.
    pub max_url_length: usize,
    /// Most header fields in a request (default 100); more get 431. Beyond twice this
    /// number the HTTP parser itself refuses the request, with 431 and no body.
    pub max_header_count: usize,
    /// Largest total size of a request's header names and values, in bytes (default
    /// 32 KiB); larger get 431. A request head (target and headers) beyond twice the URL
    /// and header limits together is refused by the HTTP parser itself (431 or 414, no
    /// body): that bounds what one connection can make the server hold.
    pub max_header_bytes: usize,
    /// Deepest nesting of arrays and objects in a JSON body (default 64); deeper bodies
    /// get 400 before they are parsed.
    pub max_json_depth: usize,
    /// Most rows in one JSON array body (default 10,000); more get 413.
    pub max_body_rows: usize,
    /// Most members in one row object of a JSON body (default 1,000); more get 400.
    pub max_body_keys: usize,
    /// The bounds on a query string's grammar (nesting, list lengths), checked while it
    /// is parsed: a request over one gets 400 before anything is planned.
    pub query_limits: tessera_runtime::QueryLimits,
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

impl ServerConfig {
    /// The largest request head (request line and headers) the HTTP parser buffers:
    /// twice the URL and header limits together, so that every request within them
    /// reaches the server's own checks (which answer in PostgREST's body shape).
    pub fn head_buffer_limit(&self) -> usize {
        self.max_url_length
            .saturating_add(self.max_header_bytes)
            .saturating_mul(2)
            .max(16 * 1024)
    }

    /// The most header fields the HTTP parser accepts: twice `max_header_count`.
    pub fn header_count_parser_limit(&self) -> usize {
        self.max_header_count.saturating_mul(2).max(16)
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            body_limit: 1024 * 1024,
            max_url_length: 32 * 1024,
            max_header_count: 100,
            max_header_bytes: 32 * 1024,
            max_json_depth: 64,
            max_body_rows: 10_000,
            max_body_keys: 1_000,
            query_limits: tessera_runtime::QueryLimits::default(),
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
