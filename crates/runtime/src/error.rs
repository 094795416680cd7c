//! Typed errors of the data layer, shaped like PostgREST's error body.

use std::fmt;

use serde::{Serialize, Serializer};

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
    /// 503: the database cannot serve the request now (down, restarting, its connections
    /// cut, no connection free in time, read-only); the request changed nothing and may be
    /// retried later.
    Unavailable,
    /// 504: the database cancelled the statement because it ran past its time limit; the
    /// transaction was rolled back.
    Timeout,
    /// 507: the database's disk is full; the write was not stored.
    InsufficientStorage,
    /// 500: a failure that is not the client's fault.
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
            ErrorKind::Unavailable => 503,
            ErrorKind::Timeout => 504,
            ErrorKind::InsufficientStorage => 507,
            ErrorKind::Internal => 500,
        }
    }
}

/// The code of an error, rendered as PostgREST (or PostgreSQL, or Supabase Auth) spells it
/// in the error body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Code {
    /// `PGRST100`: a malformed query parameter.
    QueryGrammar,
    /// `PGRST100`: a query parameter over one of the server's limits (nesting, list
    /// lengths; see [`crate::QueryLimits`]), refused before anything is planned.
    QueryLimit,
    /// `PGRST102`: a malformed or unusable request body.
    InvalidBody,
    /// `PGRST108`: a parameter names an embedded resource the `select` does not have.
    NotAnEmbed,
    /// `PGRST116`: not exactly the one row a request needs.
    NotOneRow,
    /// `PGRST200`: no relationship between the model and the embedded resource.
    UnknownRelationship,
    /// `PGRST201`: more than one relationship could be meant.
    AmbiguousRelationship,
    /// `PGRST204`: a body member names no field of the model.
    UnknownBodyField,
    /// `PGRST205`: no such model.
    UnknownModel,
    /// `PGRST301`: the token's account no longer exists.
    StaleToken,
    /// `PGRST404`: the schema has no account model.
    NoAccounts,
    /// `PGRST000`: the database cannot be reached.
    Unavailable,
    /// `PGRST001`: the connection to the database was lost, or it restarts.
    ConnectionLost,
    /// `PGRST003`: no database connection came free in time.
    PoolTimedOut,
    /// `53100`: the database's disk is full.
    DiskFull,
    /// `25006`: the database accepts no writes.
    ReadOnly,
    /// `58030`: the database file cannot be read or written.
    FileInaccessible,
    /// `57014`: the statement ran past the database's time limit.
    StatementTimeout,
    /// `21000`: a write that must be filtered has no filter.
    FilterRequired,
    /// `22023`: a parameter of an operation is not valid for it.
    InvalidParameter,
    /// `22P02`: a value of the wrong type.
    InvalidText,
    /// `23503`: a foreign key (or restrict) conflict.
    ForeignKeyViolation,
    /// `23505`: a unique conflict.
    UniqueViolation,
    /// `23514`: a value breaks the schema's validations.
    ValidationFailed,
    /// `42501`: the caller may not do this.
    PermissionDenied,
    /// `42703`: no such field.
    UnknownColumn,
    /// `42P01`: a table the engine needs is missing: the database is not migrated.
    NotMigrated,
    /// `42883`: an operator that does not apply to the field's type.
    OperatorMismatch,
    /// `428C9`: a field the engine maintains (or that cannot change) was written.
    ReadonlyField,
    /// `40001`: the transaction conflicted with a concurrent one.
    SerializationFailure,
    /// `40P01`: a deadlock with a concurrent transaction.
    Deadlock,
    /// `XX000`: an internal failure.
    Internal,
    /// `invalid_credentials`: an unknown email or a wrong password.
    InvalidCredentials,
    /// `invalid_refresh_token`: an unknown, spent or expired refresh token.
    InvalidRefreshToken,
    /// `too_many_attempts`: an email locked out after failed sign-ins.
    TooManyAttempts,
    /// `user_disabled`: a disabled account.
    UserDisabled,
    /// `signup_disabled`: the schema's registration policy refuses the sign-up.
    SignupDisabled,
    /// A SQLSTATE the database answered with (a value it refused, class 22).
    Sqlstate(String),
}

impl Code {
    pub fn as_str(&self) -> &str {
        match self {
            Code::QueryGrammar | Code::QueryLimit => "PGRST100",
            Code::InvalidBody => "PGRST102",
            Code::NotAnEmbed => "PGRST108",
            Code::NotOneRow => "PGRST116",
            Code::UnknownRelationship => "PGRST200",
            Code::AmbiguousRelationship => "PGRST201",
            Code::UnknownBodyField => "PGRST204",
            Code::UnknownModel => "PGRST205",
            Code::StaleToken => "PGRST301",
            Code::NoAccounts => "PGRST404",
            Code::Unavailable => "PGRST000",
            Code::ConnectionLost => "PGRST001",
            Code::PoolTimedOut => "PGRST003",
            Code::DiskFull => "53100",
            Code::ReadOnly => "25006",
            Code::FileInaccessible => "58030",
            Code::StatementTimeout => "57014",
            Code::FilterRequired => "21000",
            Code::InvalidParameter => "22023",
            Code::InvalidText => "22P02",
            Code::ForeignKeyViolation => "23503",
            Code::UniqueViolation => "23505",
            Code::ValidationFailed => "23514",
            Code::PermissionDenied => "42501",
            Code::UnknownColumn => "42703",
            Code::NotMigrated => "42P01",
            Code::OperatorMismatch => "42883",
            Code::ReadonlyField => "428C9",
            Code::SerializationFailure => "40001",
            Code::Deadlock => "40P01",
            Code::Internal => "XX000",
            Code::InvalidCredentials => "invalid_credentials",
            Code::InvalidRefreshToken => "invalid_refresh_token",
            Code::TooManyAttempts => "too_many_attempts",
            Code::UserDisabled => "user_disabled",
            Code::SignupDisabled => "signup_disabled",
            Code::Sqlstate(code) => code,
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl PartialEq<str> for Code {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Code {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
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

/// An error of the data layer: a kind (the HTTP status), a code, a message, and optional
/// details and hint; validation errors also list every failing field.
#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize)]
#[error("{message}")]
pub struct RuntimeError {
    #[serde(skip)]
    pub kind: ErrorKind,
    pub code: Code,
    pub message: String,
    pub details: Option<String>,
    pub hint: Option<String>,
    /// Every failing field, for validation errors.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

impl RuntimeError {
    pub fn new(kind: ErrorKind, code: Code, message: impl Into<String>) -> Self {
        RuntimeError {
            kind,
            code,
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
        RuntimeError::bad_request(
            Code::QueryGrammar,
            format!("failed to parse {param} parameter"),
        )
        .with_details(message)
    }

    pub fn bad_request(code: Code, message: impl Into<String>) -> Self {
        RuntimeError::new(ErrorKind::BadRequest, code, message)
    }

    pub fn unknown_model(model: &str) -> Self {
        RuntimeError::new(
            ErrorKind::NotFound,
            Code::UnknownModel,
            format!("Could not find the table '{model}' in the schema"),
        )
    }

    pub fn unknown_column(model: &str, column: &str) -> Self {
        RuntimeError::new(
            ErrorKind::NotFound,
            Code::UnknownColumn,
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
            (Code::ReadonlyField, "Some fields cannot be written")
        } else {
            (Code::ValidationFailed, "Validation failed")
        };
        RuntimeError {
            kind: ErrorKind::Validation,
            code,
            message: message.into(),
            details: Some(details),
            hint: None,
            errors,
        }
    }

    /// A write needing exactly one row that has another number of them (`PGRST116`, as
    /// PostgREST answers a single-object request).
    pub fn not_one_row(rows: usize) -> Self {
        RuntimeError::new(
            ErrorKind::NotAcceptable,
            Code::NotOneRow,
            "JSON object requested, multiple (or no) rows returned",
        )
        .with_details(format!("The result contains {rows} rows"))
    }

    pub fn internal(message: impl Into<String>) -> Self {
        RuntimeError::new(ErrorKind::Internal, Code::Internal, message)
    }

    /// The PostgREST error body: `{code, message, details, hint}` plus `errors` (the
    /// failing fields) for validation errors.
    pub fn to_body(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_else(|_| serde_json::json!({"message": self.message}))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_render_as_postgrest_spells_them() {
        let error = RuntimeError::unknown_column("users", "nope");
        assert_eq!(error.code, "42703");
        assert_eq!(error.to_body()["code"], "42703");
        assert_eq!(Code::Sqlstate("22001".into()).as_str(), "22001");
    }

    #[test]
    fn writes_of_managed_fields_only_are_428c9() {
        let error = RuntimeError::validation(vec![FieldError {
            field: "createdAt".into(),
            rule: "managed".into(),
            message: "maintained by the engine".into(),
            row: None,
        }]);
        assert_eq!(
            (error.kind, error.code),
            (ErrorKind::Validation, Code::ReadonlyField)
        );
    }
}
