//! `tessera apps`: list the bundled applications.

use std::process::ExitCode;

/// List the bundled applications, which `tessera serve --app NAME` runs with no files on disk.
///
/// Example: tessera apps
#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> ExitCode {
    let width = tessera_apps::APPS
        .iter()
        .map(|a| a.name.len())
        .max()
        .unwrap_or(0);
    for app in tessera_apps::APPS {
        let models = app
            .checked()
            .map(|checked| format!("{} models", checked.schema.models.len()))
            .unwrap_or_else(|_| "does not check".into());
        println!("{:width$}  {:>10}  {}", app.name, models, app.summary);
    }
    ExitCode::SUCCESS
}
