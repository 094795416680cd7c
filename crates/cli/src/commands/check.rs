//! `tessera check`: validate schema files.

use std::path::PathBuf;
use std::process::ExitCode;

use super::{read_schema, stderr_color, EXIT_FINDINGS, EXIT_IO};

/// Check schema files and report every problem with its file, line and column.
///
/// Exits 0 and prints a summary when every file is valid, 1 when a file has errors, 2 when
/// a file cannot be read.
///
/// Example: tessera check apps/tour-builder/schema.tsr
#[derive(clap::Args)]
pub struct Args {
    /// Schema files to check.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

pub fn run(args: Args) -> ExitCode {
    let mut exit = 0u8;
    for path in &args.files {
        let Some(source) = read_schema(path) else {
            exit = exit.max(EXIT_IO);
            continue;
        };
        let name = path.display().to_string();
        match tessera_schema::check_source(&name, &source) {
            Ok(checked) => {
                eprint!("{}", checked.warnings.render(stderr_color()));
                let schema = &checked.schema;
                let fields: usize = schema.models.iter().map(|m| m.fields.len()).sum();
                let indexes: usize = schema.models.iter().map(|m| m.indexes.len()).sum();
                println!(
                    "{name}: ok: {} models, {} enums, {fields} fields, {} relations, {indexes} indexes",
                    schema.models.len(),
                    schema.enums.len(),
                    schema.relation_count(),
                );
            }
            Err(diagnostics) => {
                eprint!("{}", diagnostics.render(stderr_color()));
                let count = diagnostics.error_count();
                eprintln!(
                    "{name}: {count} {}",
                    if count == 1 { "error" } else { "errors" }
                );
                exit = exit.max(EXIT_FINDINGS);
            }
        }
    }
    ExitCode::from(exit)
}
