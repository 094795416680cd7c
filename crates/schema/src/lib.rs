//! The Tessera schema language: parse, check, format and print.
//!
//! ```
//! let source = "model projects {\n  name text @not_empty\n}\n";
//! let schema = tessera_schema::check_source("schema.tsr", source).expect("valid schema");
//! assert_eq!(schema.models[0].fields[1].name, "name");
//! ```

pub mod ast;
mod checker;
pub mod diagnostic;
mod format;
pub mod ir;
mod lexer;
mod parser;
mod print;
pub mod span;

pub use checker::index_name;
pub use diagnostic::{Diagnostic, Diagnostics, Severity};
pub use format::format_file;
pub use ir::{is_reserved_name, Schema, RESERVED_PREFIX};
pub use parser::parse;
pub use print::{print_condition, print_schema};

/// Parses and checks schema text. Returns the schema (with any warnings) when there are no
/// errors, and every diagnostic of the file otherwise.
pub fn check_source(file_name: &str, source: &str) -> Result<Checked, Diagnostics> {
    let (file, mut diagnostics) = parse(source);
    let (schema, mut checked) = checker::check(&file);
    diagnostics.append(&mut checked);
    let diagnostics = Diagnostics::new(file_name, source, diagnostics);
    if diagnostics.has_errors() {
        Err(diagnostics)
    } else {
        Ok(Checked {
            schema,
            warnings: diagnostics,
        })
    }
}

/// A schema that checked without errors, with the warnings found on the way.
#[derive(Debug, Clone)]
pub struct Checked {
    pub schema: Schema,
    pub warnings: Diagnostics,
}

impl std::ops::Deref for Checked {
    type Target = Schema;

    fn deref(&self) -> &Schema {
        &self.schema
    }
}

/// Formats schema text in canonical style; fails with the syntax errors when it cannot be
/// parsed (a file that does not parse is never rewritten).
pub fn format_source(file_name: &str, source: &str) -> Result<String, Diagnostics> {
    let (file, diagnostics) = parse(source);
    if diagnostics.iter().any(Diagnostic::is_error) {
        return Err(Diagnostics::new(file_name, source, diagnostics));
    }
    Ok(format_file(&file))
}
