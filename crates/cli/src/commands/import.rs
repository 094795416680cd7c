//! `tessera import`: turn existing schemas into a Tessera schema.

use std::path::PathBuf;
use std::process::ExitCode;

use super::{EXIT_FINDINGS, EXIT_IO};

/// Import a schema from SQL DDL, a Mermaid ER diagram or a live database and print it as a
/// Tessera schema.
/// Recognised patterns (timestamps, soft delete) are reported as notes; constructs with no
/// Tessera equivalent (triggers, functions, views, policies, unsupported checks) are
/// reported as warnings with their file:line:col.
///
/// Examples:
///   tessera import sql db/schema.sql -o schema.tsr
///   tessera import sql migrations/ --dialect postgres
///   tessera import sql docs/database.md        (reads its ```sql blocks)
///   tessera import mermaid docs/er-diagram.md
///   tessera import db --database-url postgres://localhost/app -o schema.tsr
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    source: Source,
}

#[derive(clap::Subcommand)]
enum Source {
    /// SQL DDL: a file, a Markdown document's sql blocks, or a folder of migrations
    /// applied in file-name order.
    Sql {
        /// File or folder.
        path: PathBuf,
        /// The DDL's dialect: postgres, sqlite or mysql.
        #[arg(long, default_value = "postgres")]
        dialect: String,
        /// Write the schema here instead of standard output.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// The tables, types and constraints of a live PostgreSQL or SQLite database
    /// (Tessera's own `_tessera_*` tables left out).
    Db {
        /// `postgres://USER@HOST/DB` or `sqlite://PATH`.
        #[arg(long, env = "DATABASE_URL")]
        database_url: String,
        /// Write the schema here instead of standard output.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Every erDiagram of a Markdown or Mermaid file.
    Mermaid {
        /// The file.
        path: PathBuf,
        /// Write the schema here instead of standard output.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
}

pub fn run(args: Args) -> ExitCode {
    let (result, output) = match args.source {
        Source::Sql {
            path,
            dialect,
            output,
        } => (
            dialect
                .parse()
                .and_then(|d| tessera_interop::import::sql::import_path(&path, d)),
            output,
        ),
        Source::Mermaid { path, output } => {
            (tessera_interop::import::mermaid::import_path(&path), output)
        }
        Source::Db {
            database_url,
            output,
        } => {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(error) => {
                    eprintln!("error: cannot start the async runtime: {error}");
                    return ExitCode::from(EXIT_IO);
                }
            };
            (
                runtime.block_on(tessera_interop::import::db::import_database(&database_url)),
                output,
            )
        }
    };
    match result {
        Ok(import) => {
            for note in &import.notes {
                eprintln!("{note}");
            }
            for warning in &import.warnings {
                eprintln!("{warning}");
            }
            eprintln!(
                "imported {}, {} ({})",
                plural(import.schema.models.len(), "model"),
                plural(import.schema.enums.len(), "enum"),
                warning_summary(&import.warnings)
            );
            super::export::emit(output.as_deref(), &import.text)
        }
        Err(tessera_interop::InteropError::Read { path, source }) => {
            eprintln!("error: cannot read {}: {source}", path.display());
            ExitCode::from(EXIT_IO)
        }
        Err(error @ tessera_interop::InteropError::Database(_)) => {
            eprintln!("error: {error}");
            ExitCode::from(EXIT_IO)
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(EXIT_FINDINGS)
        }
    }
}

/// "3 warnings: 2 without a Tessera equivalent, 1 not understood", so a reader can tell
/// what the source has that Tessera lacks from what the importer could not read.
fn warning_summary(warnings: &[tessera_interop::Warning]) -> String {
    use tessera_interop::WarningKind;
    if warnings.is_empty() {
        return "no warnings".into();
    }
    let count =
        |wanted: fn(&WarningKind) -> bool| warnings.iter().filter(|w| wanted(&w.kind)).count();
    let parts: Vec<String> = [
        (
            count(|k| matches!(k, WarningKind::NoEquivalent { .. })),
            "without a Tessera equivalent",
        ),
        (count(|k| matches!(k, WarningKind::Assumed)), "assumed"),
        (
            count(|k| matches!(k, WarningKind::Unsupported)),
            "not supported",
        ),
        (
            count(|k| matches!(k, WarningKind::Unparsed)),
            "not understood",
        ),
    ]
    .into_iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| format!("{n} {what}"))
    .collect();
    format!(
        "{}: {}",
        plural(warnings.len(), "warning"),
        parts.join(", ")
    )
}

fn plural(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}
