//! The executor: runs plans on the database, one unit of work each, and answers rows as
//! JSON. It runs nothing but plans, so every row it reads or writes is one the caller's
//! rules let the plan reach.

pub(crate) mod passwords;
mod publish;
pub(crate) mod read;
pub(crate) mod write;

use serde_json::Value as Json;
use tessera_schema::ir::{Field, Model};
use tessera_schema::Schema;
use tessera_sql::value::now;
use tessera_sql::Database;

use crate::db::Tx;
use crate::error::RuntimeError;
use crate::plan::{Planner, Principal};
use crate::request::{
    DeleteRequest, InsertRequest, PublishRequest, ReadRequest, ReadResult, RestoreRequest,
    UpdateRequest,
};

/// Ends a unit of work: commits when the work succeeded, rolls back (at once, releasing
/// its locks) when it failed.
pub(crate) async fn finish<T>(tx: Tx, result: Result<T, RuntimeError>) -> Result<T, RuntimeError> {
    match result {
        Ok(value) => {
            tx.commit().await?;
            Ok(value)
        }
        Err(error) => {
            if let Err(rollback) = tx.rollback().await {
                tracing::error!(error = %rollback, "rolling back a failed unit of work failed");
            }
            Err(error)
        }
    }
}

/// A planner and the database its plans run on: plans a request for a caller, then runs
/// it in one unit of work.
#[derive(Debug)]
pub(crate) struct Runner {
    pub(crate) planner: Planner,
    pub(crate) db: Database,
}

impl Runner {
    pub(crate) fn schema(&self) -> &Schema {
        self.planner.schema()
    }

    pub(crate) async fn write_tx(&self) -> Result<Tx, RuntimeError> {
        Tx::write(&self.db, self.planner.schema_arc()).await
    }

    pub(crate) async fn read(
        &self,
        principal: &Principal,
        req: &ReadRequest,
    ) -> Result<ReadResult, RuntimeError> {
        let plan = self.planner.read(principal, req)?;
        // Embeds and counts take several statements, which must see one snapshot.
        let mut tx = if plan.root.embeds.is_empty() && !plan.count {
            Tx::read_single(&self.db, self.planner.schema_arc()).await?
        } else {
            Tx::read(&self.db, self.planner.schema_arc()).await?
        };
        let result = read::read(&mut tx, self.schema(), &plan).await;
        finish(tx, result).await
    }

    pub(crate) async fn insert(
        &self,
        principal: &Principal,
        req: &InsertRequest,
    ) -> Result<Vec<Json>, RuntimeError> {
        let plan = self.planner.insert(principal, req, now())?;
        let mut tx = self.write_tx().await?;
        let result = write::insert(&mut tx, self.schema(), plan).await;
        finish(tx, result).await
    }

    pub(crate) async fn update(
        &self,
        principal: &Principal,
        req: &UpdateRequest,
    ) -> Result<Vec<Json>, RuntimeError> {
        let plan = self.planner.update(principal, req, now())?;
        let mut tx = self.write_tx().await?;
        let result = write::update(&mut tx, self.schema(), plan).await;
        finish(tx, result).await
    }

    /// A signed-in user's change to their own account row.
    pub(crate) async fn update_own_account(
        &self,
        principal: &Principal,
        model: &Model,
        key: &Field,
        body: &Json,
    ) -> Result<Vec<Json>, RuntimeError> {
        let plan = self
            .planner
            .update_own_account(principal, model, key, body, now())?;
        let mut tx = self.write_tx().await?;
        let result = write::update(&mut tx, self.schema(), plan).await;
        finish(tx, result).await
    }

    pub(crate) async fn delete(
        &self,
        principal: &Principal,
        req: &DeleteRequest,
    ) -> Result<Vec<Json>, RuntimeError> {
        let plan = self.planner.delete(principal, req)?;
        let mut tx = self.write_tx().await?;
        let result = write::delete(&mut tx, self.schema(), plan).await;
        finish(tx, result).await
    }

    pub(crate) async fn restore(
        &self,
        principal: &Principal,
        req: &RestoreRequest,
    ) -> Result<Vec<Json>, RuntimeError> {
        let plan = self.planner.restore(principal, req)?;
        let mut tx = self.write_tx().await?;
        let result = write::restore(&mut tx, self.schema(), plan).await;
        finish(tx, result).await
    }

    pub(crate) async fn publish(
        &self,
        principal: &Principal,
        req: &PublishRequest,
    ) -> Result<Json, RuntimeError> {
        let plan = self.planner.publish(principal, req)?;
        publish::publish(&self.db, &self.planner, principal, &plan).await
    }
}
