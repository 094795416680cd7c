//! Reads: requests validated against the schema, turned into SQL, rows into JSON.

use crate::engine::Engine;
use crate::error::RuntimeError;
use crate::request::*;

pub(crate) async fn read(
    _engine: &Engine,
    _ctx: &Context,
    _req: &ReadRequest,
) -> Result<ReadResult, RuntimeError> {
    Err(RuntimeError::internal("not implemented yet"))
}
