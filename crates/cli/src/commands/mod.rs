//! One module per subcommand.

pub mod apps;
pub mod check;
pub mod docs;
pub mod export;
pub mod fmt;
pub mod import;
pub mod migrate;
pub mod plan;
pub mod serve;

use std::io::IsTerminal;
use std::path::Path;

/// Exit code for schemas with errors or files needing formatting.
pub const EXIT_FINDINGS: u8 = 1;
/// Exit code for files that cannot be read or written.
pub const EXIT_IO: u8 = 2;

pub fn stderr_color() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// Reads a schema file, reporting an unreadable one on stderr.
pub fn read_schema(path: &Path) -> Option<String> {
    match std::fs::read_to_string(path) {
        Ok(text) => Some(text),
        Err(error) => {
            eprintln!("error: cannot read {}: {error}", path.display());
            None
        }
    }
}
