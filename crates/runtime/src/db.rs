//! One unit of work on the engine's database, with database failures told in the
//! schema's terms (models and fields rather than tables and columns).

use std::sync::Arc;

use serde_json::Value as Json;
use tessera_schema::ir::{FieldType, Model};
use tessera_schema::Schema;
use tessera_sql::db::Statement;
use tessera_sql::{Database, Dialect};

use crate::dberror::map_db_error;
use crate::error::RuntimeError;

pub(crate) struct Tx {
    inner: tessera_sql::Tx,
    schema: Arc<Schema>,
}

impl Tx {
    /// A read transaction (one snapshot for a request's queries).
    pub(crate) async fn read(db: &Database, schema: Arc<Schema>) -> Result<Tx, RuntimeError> {
        let inner = db
            .read()
            .await
            .map_err(|e| map_db_error(&schema, None, e))?;
        Ok(Tx { inner, schema })
    }

    /// A connection for a read that is one statement: no transaction needed.
    pub(crate) async fn read_single(
        db: &Database,
        schema: Arc<Schema>,
    ) -> Result<Tx, RuntimeError> {
        let inner = db
            .read_one()
            .await
            .map_err(|e| map_db_error(&schema, None, e))?;
        Ok(Tx { inner, schema })
    }

    /// A write transaction.
    pub(crate) async fn write(db: &Database, schema: Arc<Schema>) -> Result<Tx, RuntimeError> {
        let inner = db
            .write()
            .await
            .map_err(|e| map_db_error(&schema, None, e))?;
        Ok(Tx { inner, schema })
    }

    pub(crate) fn dialect(&self) -> &'static dyn Dialect {
        self.inner.dialect()
    }

    pub(crate) async fn commit(self) -> Result<(), RuntimeError> {
        let schema = self.schema;
        self.inner
            .commit()
            .await
            .map_err(|e| map_db_error(&schema, None, e))
    }

    /// Rolls the transaction back now, so its locks are released before the caller's
    /// next statement.
    pub(crate) async fn rollback(self) -> Result<(), RuntimeError> {
        let schema = self.schema;
        self.inner
            .rollback()
            .await
            .map_err(|e| map_db_error(&schema, None, e))
    }

    /// Runs a query and decodes each row's columns with the given types.
    pub(crate) async fn fetch<S: Statement>(
        &mut self,
        model: Option<&Model>,
        stmt: &S,
        types: &[FieldType],
    ) -> Result<Vec<Vec<Json>>, RuntimeError> {
        self.inner
            .fetch(stmt, types)
            .await
            .map_err(|e| map_db_error(&self.schema, model, e))
    }

    /// Runs a statement; returns the number of rows it affected.
    pub(crate) async fn execute<S: Statement>(
        &mut self,
        model: Option<&Model>,
        stmt: &S,
    ) -> Result<u64, RuntimeError> {
        self.inner
            .execute(stmt)
            .await
            .map_err(|e| map_db_error(&self.schema, model, e))
    }
}
