//! The draft every importer fills: tables, columns, keys, foreign keys and indexes as the
//! source states them, by column name. [`lower`] turns a draft into the validated IR:
//! it names relations after their foreign keys, recognises behaviours, chooses the naming
//! convention, prints the schema and checks the printed text.

use std::collections::{HashMap, HashSet};

use tessera_schema::ir::{
    Behaviours, DefaultValue, Enum, EnumValue, Field, FieldType, Index, IndexField, Managed, Model,
    ModelKind, Naming, OnDelete, Relation, RelationKind, ScalarType, Schema, Validation,
};

use super::{Construct, Import, Location, Note, Warning, WarningKind};
use crate::InteropError;

#[derive(Debug, Clone, Default)]
pub struct Draft {
    pub enums: Vec<DraftEnum>,
    pub tables: Vec<DraftTable>,
    pub warnings: Vec<Warning>,
    pub notes: Vec<Note>,
}

#[derive(Debug, Clone)]
pub struct DraftEnum {
    pub name: String,
    pub values: Vec<String>,
    pub doc: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct DraftTable {
    pub name: String,
    pub doc: Option<String>,
    pub columns: Vec<DraftColumn>,
    /// Column names.
    pub primary_key: Vec<String>,
    pub foreign_keys: Vec<DraftForeignKey>,
    pub indexes: Vec<DraftIndex>,
    pub location: Option<Location>,
}

#[derive(Debug, Clone)]
pub struct DraftColumn {
    pub name: String,
    pub ty: FieldType,
    pub nullable: bool,
    pub default: Option<DefaultValue>,
    pub doc: Option<String>,
    pub validations: Vec<Validation>,
}

#[derive(Debug, Clone)]
pub struct DraftForeignKey {
    pub columns: Vec<String>,
    pub target: String,
    /// Empty: the target's primary key.
    pub target_columns: Vec<String>,
    pub on_delete: Option<OnDelete>,
    /// A relation name the source suggests (a Mermaid relationship label).
    pub name: Option<String>,
    /// At most one row per target (a one-to-one relationship).
    pub unique: bool,
    pub location: Option<Location>,
}

#[derive(Debug, Clone)]
pub struct DraftIndex {
    pub name: Option<String>,
    /// Column names with `descending`.
    pub columns: Vec<(String, bool)>,
    pub unique: bool,
    /// The partial index's condition, as SQL text.
    pub predicate: Option<String>,
    pub location: Option<Location>,
}

impl Draft {
    pub fn warn(
        &mut self,
        location: Option<Location>,
        kind: WarningKind,
        message: impl Into<String>,
    ) {
        self.warnings.push(Warning {
            location,
            kind,
            message: message.into(),
        });
    }

    /// Reports `construct`, which has no Tessera equivalent.
    pub fn no_equivalent(
        &mut self,
        location: Option<Location>,
        construct: Construct,
        message: impl Into<String>,
    ) {
        self.warn(location, WarningKind::NoEquivalent { construct }, message);
    }

    pub fn note(&mut self, message: impl Into<String>) {
        self.notes.push(Note {
            message: message.into(),
        });
    }

    pub fn table_mut(&mut self, name: &str) -> Option<&mut DraftTable> {
        self.tables
            .iter_mut()
            .find(|t| t.name.eq_ignore_ascii_case(name))
    }

    pub fn table(&self, name: &str) -> Option<&DraftTable> {
        self.tables
            .iter()
            .find(|t| t.name.eq_ignore_ascii_case(name))
    }

    pub fn enum_named(&self, name: &str) -> Option<&DraftEnum> {
        self.enums
            .iter()
            .find(|e| e.name.eq_ignore_ascii_case(name))
    }
}

impl DraftTable {
    pub fn column_mut(&mut self, name: &str) -> Option<&mut DraftColumn> {
        self.columns
            .iter_mut()
            .find(|c| c.name.eq_ignore_ascii_case(name))
    }

    pub fn column(&self, name: &str) -> Option<&DraftColumn> {
        self.columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
    }
}

fn scalar(scalar: ScalarType) -> FieldType {
    FieldType {
        scalar,
        array: false,
    }
}

/// Maps a type name as PostgreSQL, SQLite, MySQL or a Mermaid diagram spells it
/// (`character varying(255)`, `timestamp_with_time_zone`, `text[]`, `int4`) to a Tessera
/// type. `Err` carries a type name with no equivalent (the caller imports it as text and
/// warns); `Ok(None)` means the name is not a built-in type (perhaps an enum).
pub fn map_type(name: &str) -> Result<Option<FieldType>, String> {
    let mut text = name.trim().to_ascii_lowercase().replace('"', "");
    let mut array = false;
    while let Some(stripped) = text.strip_suffix("[]") {
        array = true;
        text = stripped.trim().to_string();
    }
    if let Some(inner) = text
        .strip_prefix("array<")
        .and_then(|t| t.strip_suffix('>'))
    {
        array = true;
        text = inner.to_string();
    }
    if let Some(stripped) = text.strip_prefix('_') {
        // PostgreSQL's internal array type names: _text, _int4.
        if map_type(stripped).ok().flatten().is_some() {
            array = true;
            text = stripped.to_string();
        }
    }
    let text = text.replace('_', " ");
    let (base, args) = match text.find('(') {
        Some(open) => {
            let close = text.rfind(')').unwrap_or(text.len());
            let args: Vec<u32> = text[open + 1..close.max(open + 1)]
                .split(',')
                .filter_map(|a| a.trim().parse().ok())
                .collect();
            let rest = text[close.min(text.len())..].trim_start_matches(')').trim();
            (
                format!("{} {rest}", text[..open].trim()).trim().to_string(),
                args,
            )
        }
        None => (text.trim().to_string(), Vec::new()),
    };
    let base = base.split_whitespace().collect::<Vec<_>>().join(" ");
    let scalar = match base.as_str() {
        "uuid" | "uniqueidentifier" => ScalarType::Uuid,
        "text" | "citext" | "clob" | "string" | "tinytext" | "mediumtext" | "longtext"
        | "ntext" => ScalarType::Text,
        "varchar" | "character varying" | "nvarchar" | "varchar2" | "nvarchar2" | "char"
        | "character" | "nchar" | "bpchar" | "native character" | "varying character" => {
            match args.first() {
                Some(n) if *n > 0 => ScalarType::Varchar(*n),
                _ => ScalarType::Text,
            }
        }
        "smallint" | "int2" => ScalarType::SmallInt,
        "tinyint" if args.first() == Some(&1) => ScalarType::Bool,
        "tinyint" => ScalarType::SmallInt,
        "integer" | "int" | "int4" | "mediumint" | "int unsigned" | "integer unsigned" => {
            ScalarType::Int
        }
        "bigint" | "int8" | "bigint unsigned" | "unsigned big int" => ScalarType::BigInt,
        "serial" | "serial4" | "smallserial" | "serial2" => ScalarType::Serial,
        "bigserial" | "serial8" => ScalarType::BigSerial,
        "boolean" | "bool" => ScalarType::Bool,
        "bit" if args.first().is_none_or(|n| *n == 1) => ScalarType::Bool,
        // `decimal text`: Tessera's SQLite storage of decimals (`DECIMAL_TEXT(p, s)`).
        "numeric" | "decimal" | "number" | "money" | "decimal text" => match args.as_slice() {
            [p, s] => ScalarType::Decimal(Some((*p, *s))),
            [p] => ScalarType::Decimal(Some((*p, 0))),
            _ => ScalarType::Decimal(None),
        },
        "real" | "float4" | "double precision" | "float8" | "float" | "double" => ScalarType::Float,
        "date" => ScalarType::Date,
        "time" | "time without time zone" | "timetz" | "time with time zone" => ScalarType::Time,
        "timestamp"
        | "timestamp without time zone"
        | "datetime"
        | "datetime2"
        | "smalldatetime" => ScalarType::Timestamp,
        "timestamptz" | "timestamp with time zone" | "datetimeoffset" => ScalarType::Timestamptz,
        "json" => ScalarType::Json,
        "jsonb" => ScalarType::Jsonb,
        "bytea" | "blob" | "binary" | "varbinary" | "longblob" | "mediumblob" | "tinyblob"
        | "image" => ScalarType::Bytes,
        "inet" | "cidr" | "macaddr" | "macaddr8" | "interval" | "tsvector" | "tsquery" | "xml"
        | "point" | "line" | "lseg" | "box" | "path" | "polygon" | "circle" | "int4range"
        | "int8range" | "numrange" | "tsrange" | "tstzrange" | "daterange" | "oid" | "year"
        | "set" | "geometry" | "geography" | "hstore" | "ltree" | "name" | "regclass"
        | "vector" | "halfvec" | "sparsevec" => return Err(base),
        _ => return Ok(None),
    };
    Ok(Some(FieldType { scalar, array }))
}

/// A valid schema identifier for `name`.
pub fn identifier(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

/// Splits `createdAt`, `created_at` and `CreatedAt` into lowercase words.
pub fn words(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let chars: Vec<char> = name.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        if *c == '_' || *c == '-' || *c == ' ' {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            continue;
        }
        let boundary = c.is_uppercase()
            && i > 0
            && (chars[i - 1].is_lowercase()
                || chars[i - 1].is_ascii_digit()
                || chars.get(i + 1).is_some_and(|n| n.is_lowercase())
                    && chars[i - 1].is_uppercase());
        if boundary && !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
        current.extend(c.to_lowercase());
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// The relation name a foreign-key column suggests: the column without `Id`/`_id`.
pub fn relation_name(column: &str) -> String {
    for suffix in ["_id", "Id", "ID", "_ID"] {
        if let Some(base) = column.strip_suffix(suffix) {
            if !base.is_empty() && !base.ends_with('_') {
                return base.to_string();
            }
        }
    }
    column.to_string()
}

fn choose_naming(draft: &Draft) -> Naming {
    let (mut snake, mut camel) = (0, 0);
    for column in draft.tables.iter().flat_map(|t| &t.columns) {
        let name = &column.name;
        if name.contains('_') && !name.chars().any(|c| c.is_uppercase()) {
            snake += 1;
        } else if name.chars().skip(1).any(|c| c.is_uppercase())
            && name.starts_with(|c: char| c.is_lowercase())
        {
            camel += 1;
        }
    }
    if snake > camel {
        Naming::SnakeCase
    } else {
        Naming::CamelCase
    }
}

fn new_field(column: &DraftColumn, name: String) -> Field {
    Field {
        column: column.name.clone(),
        doc: column.doc.clone(),
        default: column.default.clone(),
        validations: column.validations.clone(),
        ..Field::new(name, column.ty.clone(), column.nullable)
    }
}

/// Fits a default to the field's type, or drops it with a reason.
fn fit_default(
    default: DefaultValue,
    ty: &FieldType,
    enums: &[Enum],
) -> Result<DefaultValue, String> {
    let s = &ty.scalar;
    if ty.array {
        return match default {
            DefaultValue::Json(serde_json::Value::Array(items)) => {
                Ok(DefaultValue::Json(serde_json::Value::Array(items)))
            }
            // An array stored as JSON text (SQLite): `DEFAULT '[]'`.
            DefaultValue::String(text) => match serde_json::from_str(&text) {
                Ok(serde_json::Value::Array(items)) => {
                    Ok(DefaultValue::Json(serde_json::Value::Array(items)))
                }
                _ => Err(format!("default '{text}' is not a list")),
            },
            other => Err(format!("default {other:?} is not a list")),
        };
    }
    match default {
        DefaultValue::Now if s.is_temporal() => Ok(DefaultValue::Now),
        DefaultValue::GeneratedUuid if *s == ScalarType::Uuid => Ok(DefaultValue::GeneratedUuid),
        DefaultValue::String(text) => match s {
            ScalarType::Enum(name) => {
                let value = identifier(&text);
                let known = enums
                    .iter()
                    .find(|e| e.name == *name)
                    .is_some_and(|e| e.values.iter().any(|v| v.name == value));
                if known {
                    Ok(DefaultValue::EnumValue(value))
                } else {
                    Err(format!("default '{text}' is not a value of enum {name}"))
                }
            }
            _ if s.is_json() => serde_json::from_str(&text)
                .map(DefaultValue::Json)
                .map_err(|e| format!("default is not JSON ({e})")),
            _ if s.is_numeric() => text
                .trim()
                .parse::<f64>()
                .map(|_| DefaultValue::Number(text.trim().to_string()))
                .map_err(|_| format!("default '{text}' is not a number")),
            ScalarType::Bool => match text.to_ascii_lowercase().as_str() {
                "true" | "t" | "1" | "yes" | "on" => Ok(DefaultValue::Bool(true)),
                "false" | "f" | "0" | "no" | "off" => Ok(DefaultValue::Bool(false)),
                _ => Err(format!("default '{text}' is not a boolean")),
            },
            _ if s.is_textual() => Ok(DefaultValue::String(text)),
            _ => Err(format!("default '{text}' does not fit type {s}")),
        },
        DefaultValue::Number(n) if s.is_numeric() => Ok(DefaultValue::Number(n)),
        DefaultValue::Number(n) if *s == ScalarType::Bool => Ok(DefaultValue::Bool(n != "0")),
        DefaultValue::Number(n) if s.is_textual() => Ok(DefaultValue::String(n)),
        DefaultValue::Bool(b) if *s == ScalarType::Bool => Ok(DefaultValue::Bool(b)),
        DefaultValue::Bool(b) if s.is_json() => Ok(DefaultValue::Json(serde_json::Value::Bool(b))),
        DefaultValue::Json(j) if s.is_json() => Ok(DefaultValue::Json(j)),
        DefaultValue::EnumValue(v) if matches!(s, ScalarType::Enum(_)) => {
            fit_default(DefaultValue::String(v), ty, enums)
        }
        other => Err(format!("default {other:?} does not fit type {s}")),
    }
}

struct Resolved {
    /// Column → (relation name, target model, referenced field).
    foreign: HashMap<String, (String, String, String, Option<OnDelete>, bool)>,
}

/// Lowers the draft into a checked schema.
pub fn lower(mut draft: Draft, file: &str) -> Result<Import, InteropError> {
    let naming = choose_naming(&draft);
    draft.note(format!(
        "naming: {} (from the spelling of the columns)",
        match naming {
            Naming::CamelCase => "camelCase",
            Naming::SnakeCase => "snake_case",
        }
    ));
    let model_names: HashMap<String, String> = draft
        .tables
        .iter()
        .map(|t| (t.name.to_ascii_lowercase(), identifier(&t.name)))
        .collect();
    let mut enums = Vec::new();
    let mut seen_enums = HashSet::new();
    for e in &draft.enums {
        let name = identifier(&e.name);
        if !seen_enums.insert(name.clone()) {
            continue;
        }
        let mut values = Vec::new();
        let mut seen = HashSet::new();
        for v in &e.values {
            let value = identifier(v);
            if value != *v {
                draft.warnings.push(Warning {
                    location: None,
                    kind: WarningKind::NoEquivalent {
                        construct: Construct::EnumLabel,
                    },
                    message: format!(
                        "enum `{}`: value `{v}` is not an identifier; imported as `{value}`",
                        e.name
                    ),
                });
            }
            if seen.insert(value.clone()) {
                values.push(EnumValue {
                    name: value,
                    doc: None,
                });
            }
        }
        if values.is_empty() {
            continue;
        }
        enums.push(Enum {
            name: name.clone(),
            db_name: e.name.clone(),
            doc: e.doc.clone(),
            values,
        });
    }
    let enum_names: HashSet<String> = enums.iter().map(|e| e.name.clone()).collect();

    // Key field of each table: (field name, type), for single-column keys.
    let mut models = Vec::new();
    let mut warnings = Vec::new();
    let mut notes = Vec::new();
    for table in &draft.tables {
        let model_name = identifier(&table.name);
        let mut resolved = Resolved {
            foreign: HashMap::new(),
        };
        let mut used_names: HashSet<String> =
            table.columns.iter().map(|c| identifier(&c.name)).collect();
        for fk in &table.foreign_keys {
            let Some(target) = draft.table(&fk.target) else {
                warnings.push(Warning {
                    location: fk.location.clone(),
                    kind: WarningKind::Unsupported,
                    message: format!(
                        "{}: foreign key ({}) references unknown table `{}`; kept as plain columns",
                        table.name,
                        fk.columns.join(", "),
                        fk.target
                    ),
                });
                continue;
            };
            if fk.columns.len() != 1 {
                warnings.push(Warning {
                    location: fk.location.clone(),
                    kind: WarningKind::NoEquivalent { construct: Construct::CompositeForeignKey },
                    message: format!(
                        "{}: composite foreign key ({}) → {} has no Tessera equivalent (relations have one column); kept as plain columns",
                        table.name,
                        fk.columns.join(", "),
                        fk.target
                    ),
                });
                continue;
            }
            let column = &fk.columns[0];
            let referenced = match fk.target_columns.as_slice() {
                [] | [_]
                    if target.primary_key.len() == 1
                        && fk
                            .target_columns
                            .first()
                            .is_none_or(|c| c.eq_ignore_ascii_case(&target.primary_key[0])) =>
                {
                    target.primary_key[0].clone()
                }
                [c] if target.indexes.iter().any(|i| {
                    i.unique
                        && i.predicate.is_none()
                        && i.columns.len() == 1
                        && i.columns[0].0.eq_ignore_ascii_case(c)
                }) =>
                {
                    c.clone()
                }
                _ => {
                    warnings.push(Warning {
                        location: fk.location.clone(),
                        kind: WarningKind::NoEquivalent { construct: Construct::ForeignKeyTarget },
                        message: format!(
                            "{}.{column}: references {}({}), which is not a single-column key or unique column; kept as a plain column",
                            table.name,
                            fk.target,
                            fk.target_columns.join(", ")
                        ),
                    });
                    continue;
                }
            };
            if table.column(column).is_none() || resolved.foreign.contains_key(column) {
                continue;
            }
            let mut name = identifier(&fk.name.clone().unwrap_or_else(|| relation_name(column)));
            if name != identifier(column) && used_names.contains(&name) {
                name = format!("{name}_rel");
            }
            used_names.insert(name.clone());
            let target_model = model_names
                .get(&target.name.to_ascii_lowercase())
                .cloned()
                .unwrap_or_else(|| identifier(&target.name));
            let key_field = identifier(&referenced);
            resolved.foreign.insert(
                column.clone(),
                (name, target_model, key_field, fk.on_delete, fk.unique),
            );
        }

        let mut fields = Vec::new();
        let mut relations = Vec::new();
        let mut behaviours = Behaviours::default();
        let single_key = table.primary_key.len() == 1;
        for column in &table.columns {
            let name = identifier(&column.name);
            let mut field = new_field(column, name.clone());
            if let ScalarType::Enum(e) = &field.ty.scalar {
                if !enum_names.contains(e) {
                    warnings.push(Warning {
                        location: table.location.clone(),
                        kind: WarningKind::Unsupported,
                        message: format!(
                            "{model_name}.{}: type `{e}` is an enum whose values are unknown; imported as text",
                            column.name
                        ),
                    });
                    field.ty.scalar = ScalarType::Text;
                }
            }
            if let Some(default) = field.default.take() {
                match fit_default(default, &field.ty, &enums) {
                    Ok(d) => field.default = Some(d),
                    Err(reason) => warnings.push(Warning {
                        location: table.location.clone(),
                        kind: WarningKind::Unsupported,
                        message: format!("{model_name}.{}: {reason}; dropped", column.name),
                    }),
                }
            }
            if let Some((relation, target, key, on_delete, unique)) =
                resolved.foreign.get(&column.name)
            {
                field.implicit = true;
                field.relation = Some(relation.clone());
                field.default = None;
                if field.ty.scalar.is_auto_increment() {
                    field.ty.scalar = match field.ty.scalar {
                        ScalarType::BigSerial => ScalarType::BigInt,
                        _ => ScalarType::Int,
                    };
                }
                let default_action = if column.nullable {
                    OnDelete::SetNull
                } else {
                    OnDelete::Restrict
                };
                let unique_index = table.indexes.iter().any(|i| {
                    i.unique
                        && i.predicate.is_none()
                        && i.columns.len() == 1
                        && i.columns[0].0.eq_ignore_ascii_case(&column.name)
                });
                relations.push(Relation {
                    name: relation.clone(),
                    doc: None,
                    kind: RelationKind::ToOne {
                        target: target.clone(),
                        field: name.clone(),
                        references: key.clone(),
                        on_delete: on_delete.unwrap_or(default_action),
                        unique: *unique || unique_index,
                        enforced: true,
                        inverse: None,
                    },
                });
            } else if single_key
                && table.primary_key[0].eq_ignore_ascii_case(&column.name)
                && name == "id"
                && column.ty == scalar(ScalarType::Uuid)
                && column.default == Some(DefaultValue::GeneratedUuid)
            {
                // The implicit key: `id uuid = uuid()`.
                field.implicit = true;
                field.readonly = true;
                field.doc = field
                    .doc
                    .or_else(|| Some("Primary key, generated when not given.".into()));
            }
            fields.push(field);
        }
        // Behaviours.
        let column_is = |field: &Field, words_: &[&str]| {
            words(&field.column) == words_ && field.relation.is_none()
        };
        let timestamp_like = |f: &Field| {
            matches!(f.ty.scalar, ScalarType::Timestamp | ScalarType::Timestamptz) && !f.ty.array
        };
        let created = fields
            .iter()
            .position(|f| column_is(f, &["created", "at"]) && timestamp_like(f));
        let updated = fields
            .iter()
            .position(|f| column_is(f, &["updated", "at"]) && timestamp_like(f));
        if let (Some(c), Some(u)) = (created, updated) {
            let standard = |f: &Field, words_: &[&str]| {
                f.column == naming.join(words_)
                    && f.ty.scalar == ScalarType::Timestamptz
                    && !f.nullable
                    && f.default == Some(DefaultValue::Now)
                    && f.doc.is_none()
            };
            let implicit = standard(&fields[c], &["created", "at"])
                && standard(&fields[u], &["updated", "at"]);
            for (i, managed) in [(c, Managed::CreatedAt), (u, Managed::UpdatedAt)] {
                fields[i].managed = Some(managed);
                fields[i].implicit = implicit;
            }
            behaviours.created_at = Some(fields[c].name.clone());
            behaviours.updated_at = Some(fields[u].name.clone());
            notes.push(Note {
                message: format!(
                    "{model_name}: `{}` and `{}` are maintained by the engine (timestamps)",
                    fields[c].column, fields[u].column
                ),
            });
        }
        if let Some(d) = fields.iter().position(|f| {
            column_is(f, &["deleted", "at"])
                && timestamp_like(f)
                && f.nullable
                && f.default.is_none()
        }) {
            if fields[d].column == naming.join(&["deleted", "at"]) {
                fields[d].managed = Some(Managed::DeletedAt);
                behaviours.soft_delete = Some(fields[d].name.clone());
                notes.push(Note {
                    message: format!(
                        "{model_name}: nullable `{}` makes the model soft-delete (@@soft_delete)",
                        fields[d].column
                    ),
                });
            } else {
                warnings.push(Warning {
                    location: table.location.clone(),
                    kind: WarningKind::Unsupported,
                    message: format!(
                        "{model_name}: `{}` looks like a soft-delete column but is not spelled per the schema's naming; imported as a plain field",
                        fields[d].column
                    ),
                });
            }
        }
        let field_of = |column: &str| {
            fields
                .iter()
                .find(|f| f.column.eq_ignore_ascii_case(column))
                .map(|f| f.name.clone())
        };
        let mut primary_key: Vec<String> = table
            .primary_key
            .iter()
            .filter_map(|c| field_of(c))
            .collect();
        if primary_key.is_empty() {
            if fields.iter().any(|f| f.name == "id") {
                warnings.push(Warning {
                    location: table.location.clone(),
                    kind: WarningKind::NoEquivalent { construct: Construct::MissingPrimaryKey },
                    message: format!(
                        "{model_name}: no primary key and a column named `id` that is not one; `id` becomes the key"
                    ),
                });
                primary_key = vec!["id".into()];
            } else {
                warnings.push(Warning {
                    location: table.location.clone(),
                    kind: WarningKind::NoEquivalent {
                        construct: Construct::MissingPrimaryKey,
                    },
                    message: format!(
                        "{model_name}: no primary key; Tessera adds `id uuid` (a new column)"
                    ),
                });
                fields.insert(0, Field::implicit_id());
                primary_key = vec!["id".into()];
            }
        }
        for key in &primary_key {
            if let Some(f) = fields.iter_mut().find(|f| f.name == *key) {
                f.nullable = false;
            }
        }
        // Indexes.
        let mut indexes: Vec<Index> = Vec::new();
        for index in &table.indexes {
            let mut columns = Vec::new();
            let mut index_fields = Vec::new();
            for (column, descending) in &index.columns {
                match fields
                    .iter()
                    .find(|f| f.column.eq_ignore_ascii_case(column))
                {
                    Some(f) => {
                        columns.push(f.column.clone());
                        index_fields.push(IndexField {
                            field: f.name.clone(),
                            descending: *descending,
                        });
                    }
                    None => break,
                }
            }
            if index_fields.len() != index.columns.len() || index_fields.is_empty() {
                warnings.push(Warning {
                    location: index.location.clone(),
                    kind: WarningKind::Unsupported,
                    message: format!(
                        "{model_name}: index {} is on unknown columns or expressions; skipped",
                        index.name.as_deref().unwrap_or("(unnamed)")
                    ),
                });
                continue;
            }
            let mut unique = index.unique;
            let mut where_not_deleted = false;
            if let Some(predicate) = &index.predicate {
                let normal = predicate.to_ascii_lowercase().replace(['"', '(', ')'], "");
                let soft = behaviours
                    .soft_delete
                    .as_ref()
                    .and_then(|f| fields.iter().find(|x| x.name == *f))
                    .map(|f| format!("{} is null", f.column.to_ascii_lowercase()));
                if soft.as_deref() == Some(normal.trim()) {
                    where_not_deleted = true;
                } else {
                    warnings.push(Warning {
                        location: index.location.clone(),
                        kind: WarningKind::NoEquivalent { construct: Construct::IndexCondition },
                        message: format!(
                            "{model_name}: partial index {} has condition `{predicate}`, which Tessera cannot express; {}",
                            index.name.as_deref().unwrap_or("(unnamed)"),
                            if unique { "imported as a plain (non-unique) index" } else { "imported without the condition" }
                        ),
                    });
                    unique = false;
                }
            }
            // A primary key is not an index.
            if unique
                && !where_not_deleted
                && index_fields.iter().map(|f| &f.field).eq(primary_key.iter())
            {
                continue;
            }
            let name = index
                .name
                .clone()
                .unwrap_or_else(|| tessera_schema::index_name(&table.name, &columns, unique));
            if indexes.iter().any(|i| {
                i.fields == index_fields
                    && i.unique == unique
                    && i.where_not_deleted == where_not_deleted
            }) {
                continue;
            }
            if indexes.iter().any(|i| i.name == name) {
                continue;
            }
            indexes.push(Index {
                name,
                fields: index_fields,
                unique,
                where_not_deleted,
            });
        }
        let _ = &resolved;
        models.push(Model {
            name: model_name.clone(),
            table: table.name.clone(),
            doc: table.doc.clone(),
            kind: ModelKind::Declared,
            fields,
            primary_key,
            relations,
            indexes,
            behaviours,
            renamed_from: None,
            access: Vec::new(),
        });
    }
    // Types of foreign keys follow the referenced key; enum columns of unknown enums are text.
    for model in &mut models {
        for field in &mut model.fields {
            if let ScalarType::Enum(name) = &field.ty.scalar {
                if !enum_names.contains(name) {
                    field.ty.scalar = ScalarType::Text;
                }
            }
        }
    }
    let schema = Schema {
        naming,
        enums,
        models,
    };
    let text = tessera_schema::print_schema(&schema);
    let checked = tessera_schema::check_source(file, &text)
        .map_err(|d| InteropError::Invalid(format!("{}\n{text}", d.render(false))))?;
    warnings.extend(draft.warnings);
    let mut all_notes = draft.notes;
    all_notes.extend(notes);
    Ok(Import {
        text,
        schema: checked.schema,
        warnings,
        notes: all_notes,
    })
}
