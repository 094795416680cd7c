//! What a database holds after a migration: the tables of a schema, and the engine's
//! system tables of a version ([`tessera_sql::system`]).
//!
//! Stored as JSON in the history table and as a folder's `schema.json`: the schema IR's
//! members, plus `tessera_system_tables`, the version of the system tables included.
//! Snapshots written before the system tables were migrations have no such member: they
//! read as version 0 (none), and the next migration creates the system tables, `IF NOT
//! EXISTS`, since the Tessera that wrote them created those tables on first use.

use serde::{Deserialize, Serialize};
use tessera_schema::Schema;
use tessera_sql::{system, Catalog, DialectKind, SqlError};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// The version of the system tables the database holds (0: none).
    #[serde(rename = "tessera_system_tables", default)]
    pub system_tables: u32,
    #[serde(flatten)]
    pub schema: Schema,
}

impl Snapshot {
    /// `schema` with the system tables of this Tessera: what a migration made now leaves.
    pub fn current(schema: Schema) -> Snapshot {
        Snapshot {
            system_tables: system::VERSION,
            schema,
        }
    }

    /// What the database should contain on `dialect`: the schema's tables, then the
    /// system tables.
    pub fn catalog(&self, dialect: DialectKind) -> Result<Catalog, SqlError> {
        let mut catalog = Catalog::from_schema(&self.schema, dialect)?;
        catalog
            .tables
            .extend(system::tables(dialect, self.system_tables)?);
        Ok(catalog)
    }

    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(self)
    }

    pub fn to_json_pretty(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string_pretty(self)
    }

    pub fn from_json(text: &str) -> Result<Snapshot, serde_json::Error> {
        serde_json::from_str(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> Schema {
        let source = "enum Status { draft live }\nmodel pages {\n  title text @len(1, 80)\n  status Status = draft\n  data json = {\"a\": [1, 2.5, null]}\n  views int = 0 @min(0)\n}\n";
        match tessera_schema::check_source("schema.tsr", source) {
            Ok(checked) => checked.schema,
            Err(diagnostics) => panic!("{}", diagnostics.render(false)),
        }
    }

    #[test]
    fn a_snapshot_reads_back_as_written() {
        let snapshot = Snapshot::current(schema());
        let text = snapshot.to_json().expect("written");
        assert!(text.starts_with("{\"tessera_system_tables\":1,"), "{text}");
        assert_eq!(Snapshot::from_json(&text).expect("read"), snapshot);
    }

    #[test]
    fn a_snapshot_of_an_older_tessera_has_no_system_tables() {
        let old = serde_json::to_string(&schema()).expect("the IR alone");
        let snapshot = Snapshot::from_json(&old).expect("read");
        assert_eq!(snapshot.system_tables, 0);
        assert_eq!(snapshot.schema, schema());
        let catalog = snapshot.catalog(DialectKind::Sqlite).expect("catalog");
        assert!(catalog
            .tables
            .iter()
            .all(|t| !system::is_system_table(&t.name)));
    }

    #[test]
    fn an_older_tessera_reads_the_schema_of_a_new_snapshot() {
        let text = Snapshot::current(schema()).to_json().expect("written");
        let schema_only: Schema = serde_json::from_str(&text).expect("the IR reads");
        assert_eq!(schema_only, schema());
    }
}
