//! The validated schema: every name resolved, every implicit column added, every relation
//! known from both sides. Every later stage (SQL, migrations, runtime, exports) reads this and
//! nothing else. It is serializable so migrations can store a snapshot of it.

use serde::{Deserialize, Serialize};

/// The prefix of the names Tessera keeps for its own tables (`_tessera_sessions`,
/// `_tessera_migrations`, …). No model, table or index of a schema may start with it.
pub const RESERVED_PREFIX: &str = "_tessera_";

/// Whether `name` starts with [`RESERVED_PREFIX`], in any case (SQLite does not tell
/// `_TESSERA_X` from `_tessera_x`).
pub fn is_reserved_name(name: &str) -> bool {
    name.get(..RESERVED_PREFIX.len())
        .is_some_and(|start| start.eq_ignore_ascii_case(RESERVED_PREFIX))
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Schema {
    pub naming: Naming,
    pub enums: Vec<Enum>,
    pub models: Vec<Model>,
}

/// How Tessera spells the columns it adds or derives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Naming {
    #[default]
    CamelCase,
    SnakeCase,
}

impl Naming {
    /// Joins words (`["created", "at"]`) per the convention.
    pub fn join(self, words: &[&str]) -> String {
        match self {
            Naming::SnakeCase => words.join("_"),
            Naming::CamelCase => {
                let mut out = String::new();
                for (i, word) in words.iter().enumerate() {
                    if i == 0 {
                        out.push_str(word);
                    } else {
                        let mut chars = word.chars();
                        if let Some(first) = chars.next() {
                            out.extend(first.to_uppercase());
                            out.push_str(chars.as_str());
                        }
                    }
                }
                out
            }
        }
    }

    /// The foreign-key column of relation `relation`: `projectId` / `project_id`.
    pub fn foreign_key(self, relation: &str) -> String {
        self.join(&[relation, "id"])
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Enum {
    pub name: String,
    /// The PostgreSQL type name.
    pub db_name: String,
    pub doc: Option<String>,
    pub values: Vec<EnumValue>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnumValue {
    pub name: String,
    pub doc: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    pub name: String,
    pub table: String,
    pub doc: Option<String>,
    pub kind: ModelKind,
    /// Stored and virtual fields in declaration order, implicit ones included.
    pub fields: Vec<Field>,
    /// Names of the fields forming the primary key.
    pub primary_key: Vec<String>,
    pub relations: Vec<Relation>,
    /// Indexes and unique constraints.
    pub indexes: Vec<Index>,
    pub behaviours: Behaviours,
    /// The model's previous name, when it was renamed (a migration hint).
    pub renamed_from: Option<String>,
    /// Who may do what through the API besides the service key (`@@allow`); a model
    /// without rules is closed to everyone else.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub access: Vec<AccessRule>,
}

/// One `@@allow(operations, condition)`: callers for whom `condition` holds may run
/// `operations`, on the rows where it holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessRule {
    pub operations: Vec<Operation>,
    pub condition: Condition,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    Read,
    Create,
    Update,
    Delete,
}

impl Operation {
    pub const ALL: [Operation; 4] = [
        Operation::Read,
        Operation::Create,
        Operation::Update,
        Operation::Delete,
    ];

    /// The operations a rule of a single field may name (`@allow` on a field): a field is
    /// read and written, a row is deleted.
    pub const OF_FIELDS: [Operation; 3] = [Operation::Read, Operation::Create, Operation::Update];

    /// The operation's name as written in the schema.
    pub fn keyword(self) -> &'static str {
        match self {
            Operation::Read => "read",
            Operation::Create => "create",
            Operation::Update => "update",
            Operation::Delete => "delete",
        }
    }
}

/// The condition of an access rule, over the row it is about (its fields, and rows related
/// to it), the caller, and the caller's account. Names of fields and relations are those of
/// the model the condition is about at that point: the rule's model, or the target of the
/// enclosing [`Condition::Related`] or [`Condition::Account`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", from = "StoredCondition")]
pub enum Condition {
    /// Anyone, signed in or not (`public`).
    Public,
    /// Any signed-in user (`authenticated`).
    Authenticated,
    /// Every condition holds (`a && b`).
    All { conditions: Vec<Condition> },
    /// At least one holds (`a || b`).
    Any { conditions: Vec<Condition> },
    /// `!condition`.
    Not { condition: Box<Condition> },
    /// `left op right`; one side at least reads the row or the caller. A comparison with
    /// a null on either side holds only as `== null` or `!= null`.
    Compare {
        left: Operand,
        op: RuleOp,
        right: Operand,
    },
    /// `operand in [values]`.
    In {
        operand: Operand,
        values: Vec<DefaultValue>,
    },
    /// The rows reached through `relation` (to-one, to-many or many-to-many): some of them
    /// meet `condition`, or every one does (`members.some(user == auth)`).
    Related {
        relation: String,
        quantifier: Quantifier,
        condition: Box<Condition>,
    },
    /// The signed-in user's own account row meets `condition`
    /// (`auth.role.permissions.some(name == "READ_USERS")`); never for anonymous callers.
    Account { condition: Box<Condition> },
}

/// One side of a [`Condition::Compare`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "operand")]
pub enum Operand {
    /// A stored field of the row the condition is about.
    Field {
        name: String,
    },
    /// The signed-in user's id (`auth`).
    Auth,
    /// A stored field of the signed-in user's account (`auth.tenant`).
    AccountField {
        name: String,
    },
    /// The tenant the caller chose for the request (`request.tenant`, the `X-Tenant`
    /// header); a request without one matches no row.
    RequestTenant,
    /// A literal, typed like the field it is compared with.
    Value {
        value: DefaultValue,
    },
    Null,
}

/// The operator of a [`Condition::Compare`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleOp {
    Equal,
    NotEqual,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
}

impl RuleOp {
    pub fn symbol(self) -> &'static str {
        match self {
            RuleOp::Equal => "==",
            RuleOp::NotEqual => "!=",
            RuleOp::Less => "<",
            RuleOp::LessOrEqual => "<=",
            RuleOp::Greater => ">",
            RuleOp::GreaterOrEqual => ">=",
        }
    }

    /// The operator with its sides swapped: `a < b` is `b > a`.
    pub fn flipped(self) -> RuleOp {
        match self {
            RuleOp::Less => RuleOp::Greater,
            RuleOp::LessOrEqual => RuleOp::GreaterOrEqual,
            RuleOp::Greater => RuleOp::Less,
            RuleOp::GreaterOrEqual => RuleOp::LessOrEqual,
            other => other,
        }
    }

    /// Whether the operator orders values (rather than testing equality).
    pub fn orders(self) -> bool {
        !matches!(self, RuleOp::Equal | RuleOp::NotEqual)
    }
}

/// How the rows a relation reaches must meet a [`Condition::Related`]'s condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Quantifier {
    /// At least one row (none reached: false).
    Some,
    /// Every row (none reached: true).
    Every,
}

/// A condition as stored in migration snapshots: today's forms, and the three forms of
/// earlier versions (read into their equivalent comparisons).
#[derive(Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
enum StoredCondition {
    Public,
    Authenticated,
    All {
        conditions: Vec<Condition>,
    },
    Any {
        conditions: Vec<Condition>,
    },
    Not {
        condition: Box<Condition>,
    },
    Compare {
        left: Operand,
        op: RuleOp,
        right: Operand,
    },
    In {
        operand: Operand,
        values: Vec<DefaultValue>,
    },
    Related {
        relation: String,
        quantifier: Quantifier,
        condition: Box<Condition>,
    },
    Account {
        condition: Box<Condition>,
    },
    Owner {
        field: String,
    },
    AccountIs {
        account_field: String,
        value: DefaultValue,
    },
    SameAsAccount {
        field: String,
        account_field: String,
    },
}

impl From<StoredCondition> for Condition {
    fn from(stored: StoredCondition) -> Condition {
        let equal = |left, right| Condition::Compare {
            left,
            op: RuleOp::Equal,
            right,
        };
        match stored {
            StoredCondition::Public => Condition::Public,
            StoredCondition::Authenticated => Condition::Authenticated,
            StoredCondition::All { conditions } => Condition::All { conditions },
            StoredCondition::Any { conditions } => Condition::Any { conditions },
            StoredCondition::Not { condition } => Condition::Not { condition },
            StoredCondition::Compare { left, op, right } => Condition::Compare { left, op, right },
            StoredCondition::In { operand, values } => Condition::In { operand, values },
            StoredCondition::Related {
                relation,
                quantifier,
                condition,
            } => Condition::Related {
                relation,
                quantifier,
                condition,
            },
            StoredCondition::Account { condition } => Condition::Account { condition },
            StoredCondition::Owner { field } => {
                equal(Operand::Field { name: field }, Operand::Auth)
            }
            StoredCondition::AccountIs {
                account_field,
                value,
            } => equal(
                Operand::AccountField {
                    name: account_field,
                },
                Operand::Value { value },
            ),
            StoredCondition::SameAsAccount {
                field,
                account_field,
            } => equal(
                Operand::Field { name: field },
                Operand::AccountField {
                    name: account_field,
                },
            ),
        }
    }
}

impl Condition {
    /// Calls `visit` on this condition and every condition inside it.
    pub fn walk<'c>(&'c self, visit: &mut impl FnMut(&'c Condition)) {
        visit(self);
        match self {
            Condition::All { conditions } | Condition::Any { conditions } => {
                for c in conditions {
                    c.walk(visit);
                }
            }
            Condition::Not { condition }
            | Condition::Related { condition, .. }
            | Condition::Account { condition } => condition.walk(visit),
            Condition::Public
            | Condition::Authenticated
            | Condition::Compare { .. }
            | Condition::In { .. } => {}
        }
    }

    /// The fields of the caller's account the condition compares (`auth.tenant`), which
    /// a request reads before its rules can be applied.
    pub fn account_fields(&self) -> Vec<&str> {
        let mut fields = Vec::new();
        self.walk(&mut |c| {
            let operands: Vec<&Operand> = match c {
                Condition::Compare { left, right, .. } => vec![left, right],
                Condition::In { operand, .. } => vec![operand],
                _ => Vec::new(),
            };
            for operand in operands {
                if let Operand::AccountField { name } = operand {
                    if !fields.contains(&name.as_str()) {
                        fields.push(name.as_str());
                    }
                }
            }
        });
        fields
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    Declared,
    /// The join table of an implicit many-to-many relation.
    JoinTable,
}

/// Model-level behaviours; each names the field or relation that carries it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Behaviours {
    /// The soft-delete timestamp field.
    pub soft_delete: Option<String>,
    /// Whether permanent deletion is allowed besides soft delete.
    pub hard_delete: bool,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
    /// The relation set to the creating user.
    pub created_by: Option<String>,
    /// The relation set to the last updating user.
    pub updated_by: Option<String>,
    pub import_hash: Option<String>,
    /// The model holds content kept once per environment and copied forward by publishing.
    #[serde(default)]
    pub environment: Option<EnvironmentScope>,
    /// The model records publish runs of its scope.
    #[serde(default)]
    pub publish_log: Option<PublishLog>,
    /// The model holds the accounts users sign in with (`@@auth`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<Identity>,
}

/// The identity model's fields: users sign up and sign in with `email` and `password`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Identity {
    /// A unique text field users sign in with.
    pub email: String,
    /// A hashed text field.
    pub password: String,
    /// A bool field; accounts where it is true cannot sign in.
    pub disabled: Option<String>,
    /// Fields besides email and password that a self-service sign-up may set; every
    /// other field takes its default.
    pub signup_fields: Vec<String>,
    /// Who may create an account through sign-up.
    #[serde(default, skip_serializing_if = "Registration::is_open")]
    pub registration: Registration,
}

/// Who may create an account through a self-service sign-up (`@@auth(registration: ...)`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Registration {
    /// Anyone.
    #[default]
    Open,
    /// No one: accounts are created with the service key.
    Closed,
    /// Only someone whose email a live row of `model` holds in `field`: an invitation.
    Invited { model: String, field: String },
}

impl Registration {
    pub fn is_open(&self) -> bool {
        *self == Registration::Open
    }
}

/// Content scoped by an environment enum (`dev`, `stage`, `production`, in the enum's order)
/// within a scope row (such as a project).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnvironmentScope {
    /// The enum field holding the row's environment.
    pub field: String,
    /// The enum whose declaration order is the publishing order.
    pub environments: String,
    /// The to-one relation to the scope row.
    pub scope: String,
    /// The field keeping the id of the row a copy descends from.
    pub lineage: Option<String>,
}

/// A model recording publish runs: which scope, from and to which environment, status,
/// timing, error and the number of rows copied per content model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublishLog {
    /// The to-one relation to the scope row being published.
    pub scope: String,
    /// The to-one relation set to the user who published, when there is one.
    pub actor: Option<String>,
    pub from_field: String,
    pub to_field: String,
    /// An enum field with at least the values `running`, `success` and `failed`.
    pub status_field: String,
    pub started_field: String,
    pub finished_field: String,
    pub error_field: String,
    pub counts: Vec<PublishCount>,
}

/// A field of the publish log counting the rows of `model` copied by a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublishCount {
    pub model: String,
    pub field: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Field {
    pub name: String,
    pub column: String,
    pub doc: Option<String>,
    pub ty: FieldType,
    pub nullable: bool,
    pub default: Option<DefaultValue>,
    pub validations: Vec<Validation>,
    /// Applied in order before validation.
    pub transforms: Vec<Transform>,
    pub hash: Option<HashAlgorithm>,
    /// Never returned by the API and not filterable.
    pub secret: bool,
    /// Set on insert only.
    pub readonly: bool,
    /// Computed on read, not stored.
    pub computed: Option<Computed>,
    /// Maintained by the engine rather than by clients.
    pub managed: Option<Managed>,
    /// The relation whose foreign key this field is.
    pub relation: Option<String>,
    pub renamed_from: Option<String>,
    /// Added by a behaviour or a relation rather than declared.
    pub implicit: bool,
    /// Defaults that apply on insert when the row meets a condition (`@default_if`); the
    /// first whose condition holds wins over `default`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditional_defaults: Vec<ConditionalDefault>,
    /// Who besides the service key may read, create or update the field (`@allow` on the
    /// field), within what the model's rules allow; an operation no rule of the field
    /// names is decided by the model's rules alone.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub access: Vec<AccessRule>,
    /// Read and written with the service key only (`@internal`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub internal: bool,
}

/// `@default_if(field != "local", value)`: on insert, when the field was not given and
/// the condition holds on the row (after plain defaults), the field takes `value`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConditionalDefault {
    pub when: FieldCondition,
    pub value: DefaultValue,
}

/// A comparison of one stored field with a literal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldCondition {
    pub field: String,
    pub comparison: Comparison,
    pub value: DefaultValue,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Comparison {
    Equal,
    NotEqual,
}

impl Comparison {
    pub fn symbol(self) -> &'static str {
        match self {
            Comparison::Equal => "==",
            Comparison::NotEqual => "!=",
        }
    }
}

impl Field {
    /// A plain stored field: `name` in the column of the same name, with no default, rule
    /// or behaviour; callers set what differs.
    pub fn new(name: impl Into<String>, ty: FieldType, nullable: bool) -> Field {
        let name = name.into();
        Field {
            column: name.clone(),
            name,
            doc: None,
            ty,
            nullable,
            default: None,
            validations: Vec::new(),
            transforms: Vec::new(),
            hash: None,
            secret: false,
            readonly: false,
            computed: None,
            managed: None,
            relation: None,
            renamed_from: None,
            implicit: false,
            conditional_defaults: Vec::new(),
            access: Vec::new(),
            internal: false,
        }
    }

    /// The key of a model that declares none: `id uuid`, generated when not given.
    pub fn implicit_id() -> Field {
        let ty = FieldType {
            scalar: ScalarType::Uuid,
            array: false,
        };
        Field {
            doc: Some("Primary key, generated when not given.".into()),
            default: Some(DefaultValue::GeneratedUuid),
            readonly: true,
            implicit: true,
            ..Field::new("id", ty, false)
        }
    }

    pub fn is_stored(&self) -> bool {
        self.computed.is_none()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldType {
    pub scalar: ScalarType,
    pub array: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type", content = "arg")]
pub enum ScalarType {
    Uuid,
    Text,
    Varchar(u32),
    SmallInt,
    Int,
    BigInt,
    Serial,
    BigSerial,
    Bool,
    Decimal(Option<(u32, u32)>),
    Float,
    Date,
    Time,
    Timestamp,
    Timestamptz,
    Json,
    Jsonb,
    Bytes,
    Enum(String),
}

impl ScalarType {
    pub fn is_integer(&self) -> bool {
        matches!(
            self,
            ScalarType::SmallInt
                | ScalarType::Int
                | ScalarType::BigInt
                | ScalarType::Serial
                | ScalarType::BigSerial
        )
    }

    pub fn is_numeric(&self) -> bool {
        self.is_integer() || matches!(self, ScalarType::Decimal(_) | ScalarType::Float)
    }

    pub fn is_textual(&self) -> bool {
        matches!(self, ScalarType::Text | ScalarType::Varchar(_))
    }

    pub fn is_temporal(&self) -> bool {
        matches!(
            self,
            ScalarType::Date | ScalarType::Time | ScalarType::Timestamp | ScalarType::Timestamptz
        )
    }

    pub fn is_json(&self) -> bool {
        matches!(self, ScalarType::Json | ScalarType::Jsonb)
    }

    /// Filled from a sequence when not given.
    pub fn is_auto_increment(&self) -> bool {
        matches!(self, ScalarType::Serial | ScalarType::BigSerial)
    }
}

impl std::fmt::Display for ScalarType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ScalarType::Uuid => f.write_str("uuid"),
            ScalarType::Text => f.write_str("text"),
            ScalarType::Varchar(n) => write!(f, "varchar({n})"),
            ScalarType::SmallInt => f.write_str("smallint"),
            ScalarType::Int => f.write_str("int"),
            ScalarType::BigInt => f.write_str("bigint"),
            ScalarType::Serial => f.write_str("serial"),
            ScalarType::BigSerial => f.write_str("bigserial"),
            ScalarType::Bool => f.write_str("bool"),
            ScalarType::Decimal(None) => f.write_str("decimal"),
            ScalarType::Decimal(Some((p, s))) => write!(f, "decimal({p}, {s})"),
            ScalarType::Float => f.write_str("float"),
            ScalarType::Date => f.write_str("date"),
            ScalarType::Time => f.write_str("time"),
            ScalarType::Timestamp => f.write_str("timestamp"),
            ScalarType::Timestamptz => f.write_str("timestamptz"),
            ScalarType::Json => f.write_str("json"),
            ScalarType::Jsonb => f.write_str("jsonb"),
            ScalarType::Bytes => f.write_str("bytes"),
            ScalarType::Enum(name) => f.write_str(name),
        }
    }
}

impl std::fmt::Display for FieldType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{}", self.scalar, if self.array { "[]" } else { "" })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum DefaultValue {
    String(String),
    /// The number exactly as written.
    Number(String),
    Bool(bool),
    EnumValue(String),
    /// A JSON document or a list (for `json`/`jsonb` and array fields).
    Json(serde_json::Value),
    Now,
    GeneratedUuid,
    /// 32 random bytes, base64url (`random_secret()`); generated by the engine, never by
    /// the database.
    RandomSecret,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Validation {
    pub rule: Rule,
    /// The schema's own message; when absent the engine writes one naming field and rule.
    pub message: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "rule")]
pub enum Rule {
    NotEmpty,
    Length {
        #[serde(default, deserialize_with = "buffered_number::optional_u64")]
        min: Option<u64>,
        #[serde(default, deserialize_with = "buffered_number::optional_u64")]
        max: Option<u64>,
    },
    Email,
    Url,
    Pattern {
        regex: String,
    },
    Min {
        #[serde(deserialize_with = "buffered_number::f64")]
        value: f64,
    },
    Max {
        #[serde(deserialize_with = "buffered_number::f64")]
        value: f64,
    },
    OneOf {
        values: Vec<String>,
    },
}

/// Numbers in the variants of an internally tagged enum ([`Rule`]) reach serde through
/// a buffer, which holds them as a map when serde_json keeps numbers exactly
/// (`arbitrary_precision`, on in this workspace): these read both forms, so that schema
/// snapshots stay readable.
mod buffered_number {
    use serde::de::{Deserialize, Deserializer, Error};
    use serde_json::Value;

    pub(super) fn f64<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Value::deserialize(d)?
            .as_f64()
            .ok_or_else(|| D::Error::custom("expected a number"))
    }

    pub(super) fn optional_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        match Value::deserialize(d)? {
            Value::Null => Ok(None),
            value => value
                .as_u64()
                .map(Some)
                .ok_or_else(|| D::Error::custom("expected a whole number")),
        }
    }
}

impl Rule {
    /// The rule's name as written in the schema and reported by the API.
    pub fn name(&self) -> &'static str {
        match self {
            Rule::NotEmpty => "not_empty",
            Rule::Length { .. } => "len",
            Rule::Email => "email",
            Rule::Url => "url",
            Rule::Pattern { .. } => "pattern",
            Rule::Min { .. } => "min",
            Rule::Max { .. } => "max",
            Rule::OneOf { .. } => "one_of",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transform {
    Trim,
    Lowercase,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HashAlgorithm {
    /// argon2id for new values.
    Argon2id,
    /// argon2id for new values; existing bcrypt hashes are accepted as they are.
    Bcrypt,
}

/// A value computed on read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum Computed {
    Constant(serde_json::Value),
    /// The parts concatenated as text; `None` parts are skipped.
    Concat(Vec<ComputedPart>),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum ComputedPart {
    Text(String),
    Field(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Managed {
    CreatedAt,
    UpdatedAt,
    DeletedAt,
    CreatedBy,
    UpdatedBy,
    ImportHash,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Relation {
    pub name: String,
    pub doc: Option<String>,
    pub kind: RelationKind,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum RelationKind {
    /// This model holds the foreign key.
    ToOne {
        target: String,
        /// The foreign-key field in this model.
        field: String,
        /// The referenced field in the target.
        references: String,
        on_delete: OnDelete,
        /// At most one row of this model per target row.
        unique: bool,
        /// Whether the database enforces the reference with a foreign-key constraint.
        enforced: bool,
        /// The declared to-many field on the target that is this relation's other side.
        inverse: Option<String>,
    },
    /// The inverse of a to-one (or polymorphic) relation of `target`.
    ToMany {
        target: String,
        /// The relation in `target` that points here.
        via: String,
        /// For a polymorphic `via`: only rows whose role column holds this value.
        role: Option<String>,
    },
    ManyToMany {
        target: String,
        join_model: String,
        /// The to-one relation in the join model pointing at this model.
        from: String,
        /// The to-one relation in the join model pointing at the target.
        to: String,
    },
    /// Points at a row of one of several models.
    Polymorphic {
        targets: Vec<String>,
        type_field: String,
        id_field: String,
        role_field: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnDelete {
    Cascade,
    SetNull,
    Restrict,
    NoAction,
}

impl OnDelete {
    pub fn keyword(self) -> &'static str {
        match self {
            OnDelete::Cascade => "cascade",
            OnDelete::SetNull => "set_null",
            OnDelete::Restrict => "restrict",
            OnDelete::NoAction => "no_action",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Index {
    /// Deterministic and at most 63 bytes (PostgreSQL's identifier limit).
    pub name: String,
    pub fields: Vec<IndexField>,
    pub unique: bool,
    /// Only rows that are not soft-deleted take part.
    pub where_not_deleted: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexField {
    pub field: String,
    pub descending: bool,
}

impl Schema {
    pub fn model(&self, name: &str) -> Option<&Model> {
        self.models.iter().find(|m| m.name == name)
    }

    /// The model users sign in with, when the schema has one.
    pub fn identity_model(&self) -> Option<(&Model, &Identity)> {
        self.models
            .iter()
            .find_map(|m| m.behaviours.identity.as_ref().map(|identity| (m, identity)))
    }

    pub fn enum_by_name(&self, name: &str) -> Option<&Enum> {
        self.enums.iter().find(|e| e.name == name)
    }

    pub fn relation_count(&self) -> usize {
        self.models
            .iter()
            .flat_map(|m| &m.relations)
            .filter(|r| !matches!(r.kind, RelationKind::ToMany { .. }))
            .count()
    }
}

impl Model {
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    pub fn field_by_column(&self, column: &str) -> Option<&Field> {
        self.fields
            .iter()
            .find(|f| f.column == column && f.is_stored())
    }

    pub fn relation(&self, name: &str) -> Option<&Relation> {
        self.relations.iter().find(|r| r.name == name)
    }

    /// The fields stored in the table, in order.
    pub fn stored_fields(&self) -> impl Iterator<Item = &Field> {
        self.fields.iter().filter(|f| f.is_stored())
    }

    pub fn primary_key_fields(&self) -> impl Iterator<Item = &Field> {
        self.primary_key.iter().filter_map(|name| self.field(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_with_numbers_read_back_from_their_json() {
        let rules = vec![
            Rule::Min { value: 0.5 },
            Rule::Max { value: -3.0 },
            Rule::Length {
                min: Some(1),
                max: None,
            },
        ];
        let json = serde_json::to_string(&rules).expect("serializes");
        assert_eq!(
            json,
            r#"[{"rule":"min","value":0.5},{"rule":"max","value":-3.0},{"rule":"length","min":1,"max":null}]"#
        );
        let back: Vec<Rule> = serde_json::from_str(&json).expect("reads back");
        assert_eq!(back, rules);
        let without_max: Rule =
            serde_json::from_str(r#"{"rule":"length","min":2}"#).expect("reads");
        assert_eq!(
            without_max,
            Rule::Length {
                min: Some(2),
                max: None
            }
        );
    }
}
