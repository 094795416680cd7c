//! Writes: inserts, upserts, updates, deletes and restores.

use crate::engine::Engine;
use crate::error::RuntimeError;
use crate::request::*;

pub(crate) async fn insert(
    _engine: &Engine,
    _ctx: &Context,
    _req: &InsertRequest,
) -> Result<Vec<serde_json::Value>, RuntimeError> {
    Err(RuntimeError::internal("not implemented yet"))
}

pub(crate) async fn update(
    _engine: &Engine,
    _ctx: &Context,
    _req: &UpdateRequest,
) -> Result<Vec<serde_json::Value>, RuntimeError> {
    Err(RuntimeError::internal("not implemented yet"))
}

pub(crate) async fn delete(
    _engine: &Engine,
    _ctx: &Context,
    _req: &DeleteRequest,
) -> Result<Vec<serde_json::Value>, RuntimeError> {
    Err(RuntimeError::internal("not implemented yet"))
}

pub(crate) async fn restore(
    _engine: &Engine,
    _ctx: &Context,
    _req: &RestoreRequest,
) -> Result<Vec<serde_json::Value>, RuntimeError> {
    Err(RuntimeError::internal("not implemented yet"))
}
