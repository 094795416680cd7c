//! The one error type of the HTTP layer.
//!
//! Every failure a handler can meet becomes an [`ApiError`], answered in PostgREST's body
//! shape `{code, message, details, hint}` with the matching status. Database details
//! (SQL, driver messages) never reach a client: errors the runtime classifies as internal
//! are logged with the request's span and answered with a generic body.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use tessera_runtime::ErrorKind;

/// The seconds a client is told to wait (`Retry-After`) when the server sheds its request.
pub const OVERLOAD_RETRY_AFTER: u64 = 1;

/// A client error: status and PostgREST body.
#[derive(Debug)]
pub struct ClientError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    pub details: Option<Value>,
    pub hint: Option<String>,
}

/// An error answered to the client.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request needs a signed-in user and carried no user token.
    #[error("authentication required")]
    MissingKey,
    /// The request carried a key that is not valid.
    #[error("invalid key")]
    InvalidKey,
    /// The key is valid but does not allow this request.
    #[error("{message}")]
    Forbidden { message: String },
    /// A client error with its status and PostgREST body.
    #[error("{}", .0.message)]
    Client(Box<ClientError>),
    /// The request body is larger than the configured limit.
    #[error("request body too large")]
    PayloadTooLarge { limit: usize },
    /// The request body has more rows than the configured limit (413).
    #[error("too many rows in the request body")]
    TooManyRows { limit: usize },
    /// The request target (path and query string) is longer than the limit (414).
    #[error("request target too long")]
    UriTooLong { length: usize, limit: usize },
    /// The request has more header fields, or larger ones, than the limits (431).
    #[error("{message}")]
    HeadersTooLarge { message: String },
    /// The request body is not of a supported media type.
    #[error("unsupported content type")]
    UnsupportedMediaType { content_type: String },
    /// The requested response media type cannot be produced.
    #[error("not acceptable")]
    NotAcceptable { accept: String },
    /// The server is serving as many requests as it may at once (503, `Retry-After`).
    #[error("overloaded")]
    Overloaded { limit: usize },
    /// The request took longer than the request timeout (504).
    #[error("request timed out")]
    RequestTimeout { limit: std::time::Duration },
    /// The client did not send the request's body in time (408).
    #[error("request body timed out")]
    BodyTimeout { limit: std::time::Duration },
    /// An error of the data layer. Internal ones are answered with a generic body.
    #[error("{0}")]
    Runtime(Box<tessera_runtime::RuntimeError>),
    /// Something failed on our side; the detail is logged, never sent.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// A 400 with a PostgREST code.
    pub fn bad_request(code: &str, message: impl Into<String>) -> ApiError {
        ApiError::client(StatusCode::BAD_REQUEST, code, message)
    }

    /// A client error with any status, code and message.
    pub fn client(status: StatusCode, code: &str, message: impl Into<String>) -> ApiError {
        ApiError::Client(Box::new(ClientError {
            status,
            code: code.to_string(),
            message: message.into(),
            details: None,
            hint: None,
        }))
    }

    /// Adds details to a client error (other variants are returned unchanged).
    pub fn with_details(mut self, value: impl Into<Value>) -> ApiError {
        if let ApiError::Client(error) = &mut self {
            error.details = Some(value.into());
        }
        self
    }

    /// Adds a hint to a client error (other variants are returned unchanged).
    pub fn with_hint(mut self, text: impl Into<String>) -> ApiError {
        if let ApiError::Client(error) = &mut self {
            error.hint = Some(text.into());
        }
        self
    }

    /// An unknown model (PGRST205, 404).
    pub fn unknown_model(name: &str) -> ApiError {
        ApiError::client(
            StatusCode::NOT_FOUND,
            "PGRST205",
            format!("Could not find the table '{name}' in the schema"),
        )
        .with_hint("GET /openapi.json lists every model")
    }

    /// The status this error is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::MissingKey | ApiError::InvalidKey => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden { .. } => StatusCode::FORBIDDEN,
            ApiError::Client(error) => error.status,
            ApiError::PayloadTooLarge { .. } | ApiError::TooManyRows { .. } => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            ApiError::UriTooLong { .. } => StatusCode::URI_TOO_LONG,
            ApiError::HeadersTooLarge { .. } => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            ApiError::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::NotAcceptable { .. } => StatusCode::NOT_ACCEPTABLE,
            ApiError::Overloaded { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::RequestTimeout { .. } => StatusCode::GATEWAY_TIMEOUT,
            ApiError::BodyTimeout { .. } => StatusCode::REQUEST_TIMEOUT,
            ApiError::Runtime(error) => StatusCode::from_u16(error.kind.http_status())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The PostgREST-shaped body.
    pub fn body(&self) -> Value {
        if let ApiError::Runtime(error) = self {
            if error.kind != ErrorKind::Internal {
                return error.to_body();
            }
        }
        let (code, message, details, hint): (&str, String, Option<Value>, Option<String>) =
            match self {
                ApiError::MissingKey => (
                    "PGRST302",
                    "This request needs a signed-in user's access token".into(),
                    None,
                    Some("Sign in at /auth/v1/token and send 'Authorization: Bearer TOKEN'".into()),
                ),
                ApiError::InvalidKey => (
                    "PGRST301",
                    "The key or token sent with this request is not valid".into(),
                    None,
                    Some(
                        "Check the service key (printed at the first start, or TESSERA_SERVICE_KEY); access tokens expire: renew them with the refresh token"
                            .into(),
                    ),
                ),
                ApiError::Forbidden { message } => ("42501", message.clone(), None, None),
                ApiError::Client(error) => (
                    &error.code,
                    error.message.clone(),
                    error.details.clone(),
                    error.hint.clone(),
                ),
                ApiError::PayloadTooLarge { limit } => (
                    "PGRST413",
                    format!("The request body is larger than the limit of {limit} bytes"),
                    None,
                    Some("Send fewer rows per request".into()),
                ),
                ApiError::TooManyRows { limit } => (
                    "PGRST413",
                    format!("The request body has more rows than the limit of {limit}"),
                    None,
                    Some("Send fewer rows per request".into()),
                ),
                ApiError::UriTooLong { length, limit } => (
                    "PGRST414",
                    format!("The request's URL is {length} bytes long, over the limit of {limit} bytes"),
                    None,
                    Some("Shorten the query string: split long in.(...) lists or select lists over several requests".into()),
                ),
                ApiError::HeadersTooLarge { message } => (
                    "PGRST431",
                    message.clone(),
                    None,
                    Some("Send fewer or smaller headers".into()),
                ),
                ApiError::UnsupportedMediaType { content_type } => (
                    "PGRST107",
                    format!("Content-Type '{content_type}' is not supported"),
                    None,
                    Some("Send the body as 'Content-Type: application/json'".into()),
                ),
                ApiError::NotAcceptable { accept } => (
                    "PGRST107",
                    format!("None of these media types are available: {accept}"),
                    None,
                    Some(
                        "Accept application/json or application/vnd.pgrst.object+json".into(),
                    ),
                ),
                ApiError::Overloaded { limit } => (
                    "PGRST503",
                    format!("The server is serving as many requests as it may at once ({limit}); this one was not started"),
                    None,
                    Some(format!("Retry after {} s (the Retry-After header)", OVERLOAD_RETRY_AFTER)),
                ),
                ApiError::RequestTimeout { limit } => (
                    "PGRST504",
                    format!("The request took longer than the server's limit of {} s", limit.as_secs_f64()),
                    None,
                    Some("A write was applied in full or not at all, never in part; read it back before retrying".into()),
                ),
                ApiError::BodyTimeout { limit } => (
                    "PGRST408",
                    format!("The request body did not arrive within {} s", limit.as_secs_f64()),
                    None,
                    Some("Send the whole body at once; nothing was changed".into()),
                ),
                ApiError::Internal(_) | ApiError::Runtime(_) => (
                    "PGRST000",
                    "Internal server error".into(),
                    None,
                    Some("The server log has the details under this request's id".into()),
                ),
            };
        json!({ "code": code, "message": message, "details": details, "hint": hint })
    }
}

impl From<tessera_runtime::RuntimeError> for ApiError {
    fn from(error: tessera_runtime::RuntimeError) -> ApiError {
        ApiError::Runtime(Box::new(error))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let ApiError::Internal(detail) = &self {
            tracing::error!(error = %detail, "internal error");
        } else if let ApiError::Runtime(error) = &self {
            if error.kind == ErrorKind::Internal {
                tracing::error!(code = %error.code, error = %error.message, details = ?error.details, "internal error");
            } else {
                tracing::debug!(status = status.as_u16(), code = %error.code, error = %error.message, "client error");
            }
        } else {
            tracing::debug!(status = status.as_u16(), error = %self, "client error");
        }
        let mut response = (status, axum::Json(self.body())).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(seconds) = self.retry_after() {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// The body of a response to a panic caught in a handler.
pub fn panic_response(detail: String) -> Response {
    tracing::error!(panic = %detail, "a handler panicked");
    ApiError::Internal("handler panicked".into()).into_body_response()
}

/// The seconds a client is told to wait (`Retry-After`) when the database is unavailable.
pub const UNAVAILABLE_RETRY_AFTER: u64 = 5;

impl ApiError {
    /// The seconds to wait before retrying, for the errors that go away by themselves:
    /// an overloaded server, an unavailable database.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            ApiError::Overloaded { .. } => Some(OVERLOAD_RETRY_AFTER),
            ApiError::Runtime(error) if error.kind == ErrorKind::Unavailable => {
                Some(UNAVAILABLE_RETRY_AFTER)
            }
            _ => None,
        }
    }

    /// Like [`IntoResponse::into_response`], without logging (the caller logged).
    fn into_body_response(self) -> Response {
        (self.status(), axum::Json(self.body())).into_response()
    }
}
