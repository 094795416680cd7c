//! Server configuration.

use std::time::Duration;

/// How the server behaves, independent of where it listens.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Largest request body accepted, in bytes (default 1 MiB); larger ones get 413.
    pub body_limit: usize,
    /// Longest time a request may take before it is answered with 408 (default 30 s).
    pub request_timeout: Duration,
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
            cors_origins: None,
            access_token_lifetime: Duration::from_secs(3600),
            refresh_token_lifetime: Duration::from_secs(30 * 24 * 3600),
            signup: true,
            sign_in_lockout: tessera_runtime::Lockout::default(),
        }
    }
}
