//! Importers.
use std::fmt;

/// Where a construct was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: String,
    pub line: u64,
    pub column: u64,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// Something the importer could not carry over exactly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub location: Option<Location>,
    pub kind: WarningKind,
    pub message: String,
}

impl Warning {
    /// Whether the warning is about a construct Tessera has no equivalent for (and not
    /// about something the importer failed to understand).
    pub fn is_no_equivalent(&self) -> bool {
        matches!(self.kind, WarningKind::NoEquivalent { .. })
    }
}

/// Why a warning was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WarningKind {
    /// The source holds a construct Tessera has no equivalent for: it is not imported, or
    /// imported approximately (the message says how).
    NoEquivalent { construct: Construct },
    /// The source does not say and the importer assumed (Mermaid diagrams: nullability,
    /// the target of a foreign key).
    Assumed,
    /// The importer read the statement but could not apply it (a reference to an unknown
    /// table, a type it does not know, an option it does not handle).
    Unsupported,
    /// The importer could not read the statement at all.
    Unparsed,
}

/// The constructs without a Tessera equivalent that importers report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Construct {
    Function,
    Procedure,
    Aggregate,
    Trigger,
    View,
    MaterializedView,
    Policy,
    RowLevelSecurity,
    Rule,
    Extension,
    Schema,
    Database,
    Grant,
    /// `DO` blocks.
    ProceduralCode,
    /// `INSERT`, `UPDATE`, `DELETE`, `COPY`, `SELECT`.
    Data,
    /// A partition of a partitioned table (its rows are rows of the parent).
    Partition,
    /// A column type without an equivalent (`tsvector`, `inet`, ranges, extension types).
    Type,
    CompositeType,
    /// An enum label that is not an identifier.
    EnumLabel,
    /// A CHECK (on a table, a column or a domain) other than the ranges Tessera reads.
    Check,
    GeneratedColumn,
    /// A default Tessera cannot evaluate.
    Default,
    /// `ON UPDATE` (MySQL).
    OnUpdate,
    ExpressionIndex,
    /// An index's operator class (`text_pattern_ops`): the index is imported without it.
    OperatorClass,
    /// A partial index's condition other than `deleted_at IS NULL` on a soft-delete model.
    IndexCondition,
    CompositeForeignKey,
    /// A foreign key to columns that are not a single-column key or unique column.
    ForeignKeyTarget,
    /// A table without a primary key (Tessera adds one).
    MissingPrimaryKey,
    /// A comment on something that cannot carry a doc comment (an index, a constraint).
    Comment,
    /// A many-to-many relationship line of a diagram (Tessera needs a join model).
    ManyToMany,
}

impl fmt::Display for Construct {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Construct::Function => "function",
            Construct::Procedure => "procedure",
            Construct::Aggregate => "aggregate",
            Construct::Trigger => "trigger",
            Construct::View => "view",
            Construct::MaterializedView => "materialized view",
            Construct::Policy => "row-level security policy",
            Construct::RowLevelSecurity => "row-level security",
            Construct::Rule => "rule",
            Construct::Extension => "extension",
            Construct::Schema => "schema",
            Construct::Database => "database",
            Construct::Grant => "privilege grant",
            Construct::ProceduralCode => "procedural code",
            Construct::Data => "data statement",
            Construct::Partition => "partition",
            Construct::Type => "type",
            Construct::CompositeType => "composite type",
            Construct::EnumLabel => "enum label",
            Construct::Check => "CHECK constraint",
            Construct::GeneratedColumn => "generated column",
            Construct::Default => "default",
            Construct::OnUpdate => "ON UPDATE",
            Construct::ExpressionIndex => "index on an expression",
            Construct::OperatorClass => "operator class",
            Construct::IndexCondition => "partial index condition",
            Construct::CompositeForeignKey => "composite foreign key",
            Construct::ForeignKeyTarget => "foreign key to a non-unique column",
            Construct::MissingPrimaryKey => "table without a primary key",
            Construct::Comment => "comment",
            Construct::ManyToMany => "many-to-many relationship",
        })
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Some(location) => write!(f, "warning: {location}: {}", self.message),
            None => write!(f, "warning: {}", self.message),
        }
    }
}

/// A pattern the importer recognised and turned into a Tessera feature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub message: String,
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "note: {}", self.message)
    }
}

/// The result of an import: the checked schema, its text, and the report.
#[derive(Debug, Clone)]
pub struct Import {
    pub text: String,
    pub schema: tessera_schema::Schema,
    pub warnings: Vec<Warning>,
    pub notes: Vec<Note>,
}

pub mod db;
pub mod draft;
pub mod mermaid;
pub mod source;
pub mod sql;
