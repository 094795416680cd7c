//! `tessera migrate`: bring a database to the schema.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use tessera_migrate::MigrateOptions;

use super::plan::{load_schema, migrations_dir};
use super::{EXIT_FINDINGS, EXIT_IO};

/// Bring a database to the schema: apply the migrations in `migrations/` it has not applied,
/// then, when the schema changed since the last one, write a new numbered migration
/// (`migrations/NNNN_name/{postgres.sql,sqlite.sql,schema.json}`) and apply it.
///
/// Everything runs in one transaction under a lock, so a failure changes nothing and two
/// runs never interleave. Steps that can lose data (dropping a table or column, narrowing a
/// type, NOT NULL on data that has NULLs) are refused, by name, unless --allow-destructive
/// is given. An applied migration whose file was edited is refused. A line per step is
/// printed on stderr.
///
/// Example: tessera migrate apps/tour-builder/schema.tsr --database-url postgres://localhost/tours
#[derive(clap::Args)]
pub struct Args {
    /// The schema file.
    schema: PathBuf,
    /// The database: sqlite://PATH or postgres://USER@HOST/DB (default: tessera.db beside the schema).
    #[arg(long, env = "DATABASE_URL")]
    database_url: Option<String>,
    /// Apply steps that can lose data.
    #[arg(long)]
    allow_destructive: bool,
    /// Name of a new migration (default: from its first step, `init` for the first).
    #[arg(long)]
    name: Option<String>,
}

pub fn run(args: Args) -> ExitCode {
    let schema = match load_schema(&args.schema) {
        Ok(schema) => schema,
        Err(code) => return code,
    };
    let url = args
        .database_url
        .clone()
        .unwrap_or_else(|| super::serve::default_database_url(&args.schema));
    let options = MigrateOptions {
        migrations_dir: Some(migrations_dir(&args.schema)),
        allow_destructive: args.allow_destructive,
        name: args.name.clone(),
        progress: Some(Arc::new(|line: &str| eprintln!("{line}"))),
    };
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
    match runtime.block_on(tessera_migrate::migrate_to(&schema, &url, &options)) {
        Ok(report) if report.applied.is_empty() && report.upgraded.is_empty() => {
            println!("The database is up to date with the schema.");
            ExitCode::SUCCESS
        }
        Ok(report) => {
            if !report.applied.is_empty() {
                println!(
                    "Applied {} migration(s), {} step(s): {}",
                    report.applied.len(),
                    report.steps - report.upgraded.len(),
                    report.applied.join(", ")
                );
            }
            for upgrade in &report.upgraded {
                println!("Storage: {upgrade}");
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(EXIT_FINDINGS)
        }
    }
}
