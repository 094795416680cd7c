//! What a request asks for, as the client wrote it: names are not resolved and values
//! are still text. Independent of HTTP, of SQL and of the schema.
//!
//! [`parse_read`] and [`parse_write_query`] build these from PostgREST's URL grammar;
//! they can also be built by hand. The engine resolves every name against the schema
//! when it plans the request, before anything runs.

mod grammar;
mod limits;

use serde::Serialize;

pub(crate) use grammar::split_array_literal;
pub use grammar::{
    parse_read, parse_read_within, parse_select, parse_write_query, parse_write_query_within,
};
pub use limits::QueryLimits;

/// Which rows a read sees with respect to soft delete (`_deleted=` in the URL).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Deleted {
    /// Live rows only (the default).
    #[default]
    Exclude,
    /// Live and soft-deleted rows.
    Include,
    /// Soft-deleted rows only.
    Only,
}

/// One item of a `select=` list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum SelectItem {
    /// `*`: every readable field (not secret), virtual fields included.
    Star,
    /// `name` or `alias:name`.
    Field { name: String, alias: Option<String> },
    /// `alias:relation!hint!inner(...)`.
    Embed(Box<Embed>),
}

/// An embedded resource and everything that applies to it.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Embed {
    /// The key in the output (defaults to `relation` as written).
    pub alias: Option<String>,
    /// A relation name of the parent model, or a model (or table) name.
    pub relation: String,
    /// `!hint`: a relation name, a foreign-key field or column, or a join model name.
    pub hint: Option<String>,
    /// `!inner`: keep only parents with at least one matching embedded row.
    pub inner: bool,
    pub select: Vec<SelectItem>,
    /// `relation.column=op.value` and `relation.or=(...)`.
    pub filter: Vec<Condition>,
    pub order: Vec<OrderTerm>,
    pub limit: Option<u64>,
    pub offset: Option<u64>,
}

impl Embed {
    /// The key under which the embed appears in each parent row.
    pub fn key(&self) -> &str {
        self.alias.as_deref().unwrap_or(&self.relation)
    }
}

/// A boolean condition over a model's fields.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Condition {
    Filter(Filter),
    And(Vec<Condition>),
    Or(Vec<Condition>),
    Not(Box<Condition>),
}

/// `field=[not.]op.value`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Filter {
    pub field: String,
    pub op: Operator,
    pub value: FilterValue,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Operator {
    Eq,
    Neq,
    Gt,
    Gte,
    Lt,
    Lte,
    Like,
    Ilike,
    In,
    Is,
    Cs,
    Cd,
}

impl Operator {
    pub fn parse(token: &str) -> Option<Operator> {
        Some(match token {
            "eq" => Operator::Eq,
            "neq" => Operator::Neq,
            "gt" => Operator::Gt,
            "gte" => Operator::Gte,
            "lt" => Operator::Lt,
            "lte" => Operator::Lte,
            "like" => Operator::Like,
            "ilike" => Operator::Ilike,
            "in" => Operator::In,
            "is" => Operator::Is,
            "cs" => Operator::Cs,
            "cd" => Operator::Cd,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Operator::Eq => "eq",
            Operator::Neq => "neq",
            Operator::Gt => "gt",
            Operator::Gte => "gte",
            Operator::Lt => "lt",
            Operator::Lte => "lte",
            Operator::Like => "like",
            Operator::Ilike => "ilike",
            Operator::In => "in",
            Operator::Is => "is",
            Operator::Cs => "cs",
            Operator::Cd => "cd",
        }
    }
}

/// The operand of a filter, still as text: it is converted to the field's type when the
/// query is planned.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum FilterValue {
    /// The text after `op.` (for `like`/`ilike`, `*` is the wildcard).
    Text(String),
    /// `in.(a,b,"c,d")`.
    List(Vec<String>),
    /// `is.null`.
    Null,
    /// `is.true`.
    True,
    /// `is.false`.
    False,
}

/// `order=field.desc.nullslast`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrderTerm {
    pub field: String,
    pub descending: bool,
    /// `None`: PostgreSQL's default (nulls last ascending, first descending).
    pub nulls_first: Option<bool>,
}

/// A read of one model.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct ReadRequest {
    pub model: String,
    /// Empty means `*`.
    pub select: Vec<SelectItem>,
    /// Conditions ANDed together.
    pub filter: Vec<Condition>,
    pub order: Vec<OrderTerm>,
    pub limit: Option<u64>,
    pub offset: Option<u64>,
    /// Count every matching row (`Prefer: count=exact`).
    pub count: bool,
    pub deleted: Deleted,
}

/// Rows read, and the total number of matching rows when it was asked for.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReadResult {
    pub rows: Vec<serde_json::Value>,
    pub total: Option<u64>,
}

/// How an insert treats rows that collide with existing ones on `on_conflict`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Resolution {
    /// `Prefer: resolution=merge-duplicates`: update the existing row.
    MergeDuplicates,
    /// `Prefer: resolution=ignore-duplicates`: keep the existing row, skip the new one.
    IgnoreDuplicates,
}

/// What a write answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Returning {
    /// The written rows, as `select` shapes them (`Prefer: return=representation`).
    #[default]
    Representation,
    /// Only each written row's primary key (for a `Location` header).
    Keys,
    /// Nothing (`Prefer: return=minimal`): no row is read back.
    Nothing,
}

/// An insert of one object or an array of objects, in one transaction.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct InsertRequest {
    pub model: String,
    /// A JSON object or an array of objects.
    pub body: serde_json::Value,
    /// Upsert: the resolution. `None` is a plain insert.
    pub resolution: Option<Resolution>,
    /// Upsert: the fields of the unique constraint (default: the primary key).
    pub on_conflict: Option<Vec<String>>,
    /// The representation returned (empty means `*`).
    pub select: Vec<SelectItem>,
    pub returning: Returning,
    /// Exactly one row must be written; otherwise nothing is (see [`UpdateRequest::single`]).
    pub single: bool,
}

/// An update of every live row matching `filter` (a filter is required).
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct UpdateRequest {
    pub model: String,
    pub filter: Vec<Condition>,
    /// A JSON object of the fields to change.
    pub body: serde_json::Value,
    /// JSON fields in `body` are merged into the stored document (RFC 7386 merge patch)
    /// instead of replacing it (`Prefer: tessera-json=merge`).
    pub json_merge: bool,
    pub select: Vec<SelectItem>,
    pub returning: Returning,
    /// Exactly one row must match; otherwise nothing is changed and the error is
    /// `NotAcceptable` (`PGRST116`), as PostgREST answers a single-object request.
    pub single: bool,
}

/// A delete of every live row matching `filter` (a filter is required).
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct DeleteRequest {
    pub model: String,
    pub filter: Vec<Condition>,
    /// Delete permanently (`_hard=true`); only where the schema allows it.
    pub hard: bool,
    pub select: Vec<SelectItem>,
    pub returning: Returning,
    /// Exactly one row must match; otherwise nothing is deleted (see [`UpdateRequest::single`]).
    pub single: bool,
}

/// Restores soft-deleted rows matching `filter`, with what their delete cascaded to.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct RestoreRequest {
    pub model: String,
    pub filter: Vec<Condition>,
    pub select: Vec<SelectItem>,
    pub returning: Returning,
}

/// Copies the environment content of one scope row (such as a project) from environment
/// `from` to the environment right after it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PublishRequest {
    /// The model owning the content (the target of the content models' `scope:` relation).
    pub scope_model: String,
    pub scope: ScopeRow,
    pub from: String,
    pub to: String,
}

/// Which row of the scope model a publish run is for.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScopeRow {
    /// The row with this primary key.
    Key(serde_json::Value),
    /// The one row matching these conditions (`POST /rest/v1/{model}/publish?filters`).
    Matching(Vec<Condition>),
}

/// The query parameters of a write (`PATCH`, `DELETE`, `POST`, restore), parsed.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct WriteQuery {
    pub filter: Vec<Condition>,
    /// `select=`: the returned representation (empty means `*`).
    pub select: Vec<SelectItem>,
    /// `on_conflict=a,b`.
    pub on_conflict: Option<Vec<String>>,
    /// `_hard=true`.
    pub hard: bool,
}
