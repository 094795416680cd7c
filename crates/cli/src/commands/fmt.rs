//! `tessera fmt`: rewrite schema files in canonical style.

use std::path::PathBuf;
use std::process::ExitCode;

use super::{read_schema, stderr_color, EXIT_FINDINGS, EXIT_IO};

/// Format schema files in canonical style, keeping comments.
///
/// With --check nothing is written; the command exits 1 and names each file that is not
/// formatted. A file with syntax errors is never rewritten.
///
/// Example: tessera fmt --check apps/*/schema.tsr
#[derive(clap::Args)]
pub struct Args {
    /// Report unformatted files instead of rewriting them.
    #[arg(long)]
    check: bool,
    /// Schema files to format.
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
        let formatted = match tessera_schema::format_source(&name, &source) {
            Ok(formatted) => formatted,
            Err(diagnostics) => {
                eprint!("{}", diagnostics.render(stderr_color()));
                exit = exit.max(EXIT_FINDINGS);
                continue;
            }
        };
        if formatted == source {
            continue;
        }
        if args.check {
            println!("{name}: not formatted (run `tessera fmt {name}`)");
            exit = exit.max(EXIT_FINDINGS);
        } else if let Err(error) = std::fs::write(path, formatted) {
            eprintln!("error: cannot write {name}: {error}");
            exit = exit.max(EXIT_IO);
        } else {
            println!("{name}: formatted");
        }
    }
    ExitCode::from(exit)
}
