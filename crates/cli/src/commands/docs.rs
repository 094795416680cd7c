//! `tessera docs`: write the Markdown reference of a schema.

use std::path::PathBuf;
use std::process::ExitCode;

use super::EXIT_IO;

/// Write a Markdown reference of a schema into a directory: `README.md` (every model's
/// fields, types, defaults, validations, keys, relations and indexes, with the doc
/// comments), `schema.mmd` (the Mermaid ER diagram) and `schema.svg` (the diagram rendered).
///
/// Example: tessera docs apps/tour-builder/schema.tsr -o apps/tour-builder/docs
#[derive(clap::Args)]
pub struct Args {
    /// The schema file.
    schema: PathBuf,
    /// The output directory (created when missing).
    #[arg(short, long)]
    output: PathBuf,
    /// The document's title.
    #[arg(long, default_value = "Schema reference")]
    title: String,
}

pub fn run(args: Args) -> ExitCode {
    let schema = match super::export::load(&args.schema) {
        Ok(schema) => schema,
        Err(code) => return ExitCode::from(code),
    };
    if let Err(error) = std::fs::create_dir_all(&args.output) {
        eprintln!("error: cannot create {}: {error}", args.output.display());
        return ExitCode::from(EXIT_IO);
    }
    for file in tessera_interop::docs(&schema, &args.title) {
        let path = args.output.join(file.path);
        if let Err(error) = std::fs::write(&path, &file.contents) {
            eprintln!("error: cannot write {}: {error}", path.display());
            return ExitCode::from(EXIT_IO);
        }
        println!("wrote {}", path.display());
    }
    ExitCode::SUCCESS
}
