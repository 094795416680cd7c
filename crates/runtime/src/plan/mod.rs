//! The planner: one pure step from a request and its caller to something executable.
//!
//! [`Planner`] resolves every name of a request once, into references to the schema's
//! models and fields; converts every value to its field's type; and folds the caller's
//! access rules into every level (reads, embeds, counts, writes, restores, publishing).
//! A plan is the only way to reach rows: the executor runs plans and nothing else, so an
//! operation cannot forget to ask who is calling. Planning touches no database.

pub(crate) mod access;
mod names;
pub(crate) mod predicate;
pub(crate) mod publish;
pub(crate) mod read;
mod rules;
pub(crate) mod values;
pub(crate) mod write;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::Value as Json;
use tessera_schema::ir::{Field, Model};
use tessera_schema::Schema;

use crate::error::RuntimeError;
use crate::request::{
    DeleteRequest, InsertRequest, PublishRequest, ReadRequest, RestoreRequest, UpdateRequest,
};
pub(crate) use access::Principal;
pub(crate) use names::{find_model, Link};
pub(crate) use predicate::{Comparison, Predicate};
pub(crate) use publish::{Content, PublishPlan};
pub(crate) use read::{EmbedPlan, Level, Out, ReadPlan};
pub(crate) use write::{DeletePlan, InsertPlan, Output, RestorePlan, Row, UpdatePlan};

/// Plans requests against one schema; holds what planning derives from it once.
#[derive(Debug)]
pub(crate) struct Planner {
    schema: Arc<Schema>,
    patterns: rules::Patterns,
    /// The account fields the schema's rules compare, read for each signed-in request.
    account_fields: Vec<String>,
}

impl Planner {
    pub(crate) fn new(schema: Schema) -> Planner {
        Planner {
            patterns: rules::Patterns::of(&schema),
            account_fields: access::account_fields(&schema),
            schema: Arc::new(schema),
        }
    }

    pub(crate) fn schema(&self) -> &Schema {
        &self.schema
    }

    /// The schema, for units of work that outlive a borrow (their errors name its models).
    pub(crate) fn schema_arc(&self) -> Arc<Schema> {
        self.schema.clone()
    }

    pub(crate) fn account_fields(&self) -> &[String] {
        &self.account_fields
    }

    pub(crate) fn model(&self, name: &str) -> Result<&Model, RuntimeError> {
        find_model(&self.schema, name)
    }

    pub(crate) fn read(
        &self,
        principal: &Principal,
        req: &ReadRequest,
    ) -> Result<ReadPlan<'_>, RuntimeError> {
        let model = self.model(&req.model)?;
        read::read(
            &self.schema,
            principal,
            model,
            &req.select,
            &req.filter,
            &req.order,
            (req.limit, req.offset),
            req.deleted,
            req.count,
        )
    }

    pub(crate) fn insert(
        &self,
        principal: &Principal,
        req: &InsertRequest,
        at: DateTime<Utc>,
    ) -> Result<InsertPlan<'_>, RuntimeError> {
        let model = self.model(&req.model)?;
        write::insert(&self.schema, &self.patterns, principal, model, req, at)
    }

    pub(crate) fn update(
        &self,
        principal: &Principal,
        req: &UpdateRequest,
        at: DateTime<Utc>,
    ) -> Result<UpdatePlan<'_>, RuntimeError> {
        let model = self.model(&req.model)?;
        write::update(&self.schema, &self.patterns, principal, model, req, at)
    }

    /// A signed-in user's change to their own account row (`key` is the account model's
    /// key field).
    pub(crate) fn update_own_account<'s>(
        &'s self,
        principal: &Principal,
        model: &'s Model,
        key: &'s Field,
        body: &Json,
        at: DateTime<Utc>,
    ) -> Result<UpdatePlan<'s>, RuntimeError> {
        write::update_own_account(
            &self.schema,
            &self.patterns,
            principal,
            model,
            key,
            body,
            at,
        )
    }

    pub(crate) fn delete(
        &self,
        principal: &Principal,
        req: &DeleteRequest,
    ) -> Result<DeletePlan<'_>, RuntimeError> {
        let model = self.model(&req.model)?;
        write::delete(&self.schema, principal, model, req)
    }

    pub(crate) fn restore(
        &self,
        principal: &Principal,
        req: &RestoreRequest,
    ) -> Result<RestorePlan<'_>, RuntimeError> {
        let model = self.model(&req.model)?;
        write::restore(&self.schema, principal, model, req)
    }

    pub(crate) fn publish(
        &self,
        principal: &Principal,
        req: &PublishRequest,
    ) -> Result<PublishPlan<'_>, RuntimeError> {
        publish::publish(&self.schema, principal, req)
    }
}
