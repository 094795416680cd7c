//! Typed errors of the data layer, shaped like PostgREST's error body.

use serde::Serialize;

/// What kind of failure an error is; the HTTP layer maps each to one status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// 400: the request is malformed (query grammar, body shape, unsupported operation).
    BadRequest,
    /// 404: an unknown model, column or relation.
    NotFound,
    /// 409: a unique, foreign-key or restrict conflict.
    Conflict,
    /// 422: the values break the schema's rules (validations, enums, not-null).
    Validation,
    /// 406: the requested representation cannot be produced.
    NotAcceptable,
    /// 401: the operation needs a signed-in caller (or the service key).
    Unauthorized,
    /// 403: the operation is not allowed (e.g. hard delete where the schema forbids it).
    Forbidden,
    /// 429: too many attempts (failed sign-ins); try again later.
    TooManyRequests,
    /// 500: a failure that is not the client's fault (database unreachable, ...).
    Internal,
}

impl ErrorKind {
    /// The HTTP status code PostgREST clients expect for this kind.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorKind::BadRequest => 400,
            ErrorKind::NotFound => 404,
            ErrorKind::Conflict => 409,
            ErrorKind::Validation => 422,
            ErrorKind::NotAcceptable => 406,
            ErrorKind::Unauthorized => 401,
            ErrorKind::Forbidden => 403,
            ErrorKind::TooManyRequests => 429,
            ErrorKind::Internal => 500,
        }
    }
}

/// One failing field of a write: which field, which rule, and the message to show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// The field's name in the schema.
    pub field: String,
    /// The rule: a schema rule name (`len`, `email`, `pattern`, ...) or one of
    /// `required`, `not_null`, `type`, `enum`, `managed`, `readonly`, `virtual`, `unknown`.
    pub rule: String,
    pub message: String,
    /// For writes of several rows: the index of the row in the request body.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row: Option<usize>,
}

/// An error of the data layer: a kind (the HTTP status), a PostgreSQL/PostgREST-style
/// code, a message, and optional details and hint; validation errors also list every
/// failing field.
#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize)]
#[error("{message}")]
pub struct RuntimeError {
    #[serde(skip)]
    pub kind: ErrorKind,
    /// PostgREST-style code: `PGRST100` (query grammar), `42703` (unknown column), `23505`
    /// (unique), `23503` (foreign key / restrict), `23502` (not null), `23514` (validation),
    /// `22P02` (value of the wrong type), `428C9` (engine-managed field), `21000` (write
    /// without filter), `42501` (forbidden), ...
    pub code: String,
    pub message: String,
    pub details: Option<String>,
    pub hint: Option<String>,
    /// Every failing field, for validation errors.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

impl RuntimeError {
    pub fn new(kind: ErrorKind, code: impl Into<String>, message: impl Into<String>) -> Self {
        RuntimeError {
            kind,
            code: code.into(),
            message: message.into(),
            details: None,
            hint: None,
            errors: Vec::new(),
        }
    }

    pub fn with_details(mut self, details: impl Into<String>) -> Self {
        self.details = Some(details.into());
        self
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// A malformed query parameter (`PGRST100`).
    pub fn parse(param: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        RuntimeError::new(
            ErrorKind::BadRequest,
            "PGRST100",
            format!("failed to parse {param} parameter"),
        )
        .with_details(message)
    }

    pub fn bad_request(code: &str, message: impl Into<String>) -> Self {
        RuntimeError::new(ErrorKind::BadRequest, code, message)
    }

    pub fn unknown_model(model: &str) -> Self {
        RuntimeError::new(
            ErrorKind::NotFound,
            "PGRST205",
            format!("Could not find the table '{model}' in the schema"),
        )
    }

    pub fn unknown_column(model: &str, column: &str) -> Self {
        RuntimeError::new(
            ErrorKind::NotFound,
            "42703",
            format!("column {model}.{column} does not exist"),
        )
    }

    /// Validation failure listing every failing field.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        let details = errors
            .iter()
            .map(|e| match e.row {
                Some(row) => format!("row {row}: {}: {}", e.field, e.message),
                None => format!("{}: {}", e.field, e.message),
            })
            .collect::<Vec<_>>()
            .join("; ");
        let (code, message) = if errors
            .iter()
            .all(|e| e.rule == "managed" || e.rule == "readonly" || e.rule == "virtual")
        {
            ("428C9", "Some fields cannot be written")
        } else {
            ("23514", "Validation failed")
        };
        RuntimeError {
            kind: ErrorKind::Validation,
            code: code.into(),
            message: message.into(),
            details: Some(details),
            hint: None,
            errors,
        }
    }

    pub fn internal(message: impl Into<String>) -> Self {
        RuntimeError::new(ErrorKind::Internal, "XX000", message)
    }

    /// The PostgREST error body: `{code, message, details, hint}` plus `errors` (the
    /// failing fields) for validation errors.
    pub fn to_body(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_else(|_| serde_json::json!({"message": self.message}))
    }
}

impl From<sqlx::Error> for RuntimeError {
    fn from(error: sqlx::Error) -> Self {
        crate::dberror::map_sqlx_error(None, None, error)
    }
}
