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
    pub message: String,
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
