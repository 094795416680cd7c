//! `tessera export`: generate other descriptions of a schema.

use std::path::PathBuf;
use std::process::ExitCode;

use super::{read_schema, stderr_color, EXIT_FINDINGS, EXIT_IO};

/// Export a schema as a Mermaid ER diagram, an OpenAPI 3.1 document of its REST API, a
/// JSON Schema of its rows, or the SQL DDL that creates its tables. The result goes to
/// standard output or to `-o FILE`.
///
/// Examples:
///   tessera export openapi apps/tour-builder/schema.tsr -o openapi.json
///   tessera export sql apps/tour-builder/schema.tsr --dialect sqlite
#[derive(clap::Args)]
pub struct Args {
    /// What to generate.
    #[arg(value_enum)]
    format: Format,
    /// The schema file.
    schema: PathBuf,
    /// Write here instead of standard output.
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// The SQL dialect of `sql`: postgres or sqlite.
    #[arg(long, default_value = "postgres")]
    dialect: String,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Format {
    /// Mermaid `erDiagram`.
    Mermaid,
    /// OpenAPI 3.1 (JSON) of the REST API under /rest/v1.
    Openapi,
    /// JSON Schema (draft 2020-12) of the models' rows.
    JsonSchema,
    /// SQL DDL creating the schema's tables in an empty database (see --dialect).
    Sql,
}

/// Checks a schema file, printing diagnostics; `Err` holds the exit code.
pub fn load(path: &std::path::Path) -> Result<tessera_schema::Schema, u8> {
    let Some(source) = read_schema(path) else {
        return Err(EXIT_IO);
    };
    match tessera_schema::check_source(&path.display().to_string(), &source) {
        Ok(checked) => {
            eprint!("{}", checked.warnings.render(stderr_color()));
            Ok(checked.schema)
        }
        Err(diagnostics) => {
            eprint!("{}", diagnostics.render(stderr_color()));
            Err(EXIT_FINDINGS)
        }
    }
}

/// Writes `text` to `output` or standard output.
pub fn emit(output: Option<&std::path::Path>, text: &str) -> ExitCode {
    match output {
        Some(path) => match std::fs::write(path, text) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("error: cannot write {}: {error}", path.display());
                ExitCode::from(EXIT_IO)
            }
        },
        None => {
            print!("{text}");
            ExitCode::SUCCESS
        }
    }
}

pub fn run(args: Args) -> ExitCode {
    let dialect: tessera_migrate::DialectKind = match args.dialect.parse() {
        Ok(dialect) => dialect,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(EXIT_FINDINGS);
        }
    };
    let schema = match load(&args.schema) {
        Ok(schema) => schema,
        Err(code) => return ExitCode::from(code),
    };
    let text = match args.format {
        Format::Mermaid => tessera_interop::mermaid(&schema),
        Format::Openapi => pretty(&tessera_interop::openapi(&schema)),
        Format::JsonSchema => pretty(&tessera_interop::json_schema(&schema)),
        Format::Sql => match tessera_interop::sql(&schema, dialect) {
            Ok(ddl) => ddl,
            Err(error) => {
                eprintln!("error: {error}");
                return ExitCode::from(EXIT_FINDINGS);
            }
        },
    };
    emit(args.output.as_deref(), &text)
}

fn pretty(value: &serde_json::Value) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}
