//! PostgREST's URL grammar.

use tessera_schema::Schema;

use crate::error::RuntimeError;
use crate::request::*;

/// Parses the query string of `GET /rest/v1/{model}` into a validated [`ReadRequest`].
pub fn parse_read(
    schema: &Schema,
    model: &str,
    query: &[(String, String)],
) -> Result<ReadRequest, RuntimeError> {
    let _ = (schema, model, query);
    Err(RuntimeError::internal("not implemented yet"))
}

/// Parses the query string of a write (`PATCH`, `DELETE`, `POST`, restore): filters,
/// `select=`, `on_conflict=` and `_hard=`.
pub fn parse_filter(
    schema: &Schema,
    model: &str,
    query: &[(String, String)],
) -> Result<WriteQuery, RuntimeError> {
    let _ = (schema, model, query);
    Err(RuntimeError::internal("not implemented yet"))
}

/// Parses a `select=` value.
pub fn parse_select(value: &str) -> Result<Vec<SelectItem>, RuntimeError> {
    let _ = value;
    Err(RuntimeError::internal("not implemented yet"))
}
