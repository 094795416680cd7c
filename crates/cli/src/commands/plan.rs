//! `tessera plan`: show the migration a schema needs, without changing anything.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use tessera_migrate::{DialectKind, MigrateOptions, Plan};

use super::{read_schema, stderr_color, EXIT_FINDINGS, EXIT_IO};

/// Show the steps and the SQL that would bring a database to the schema, without touching it.
///
/// Without a database the starting point is the last migration in `migrations/` beside the
/// schema (or an empty database). With `--database-url` (or DATABASE_URL) the database is
/// read (never written) and migrations it has not applied yet are listed too. Steps that can
/// lose data are marked `!`.
///
/// Example: tessera plan apps/tour-builder/schema.tsr --dialect postgres
#[derive(clap::Args)]
pub struct Args {
    /// The schema file.
    schema: PathBuf,
    /// The SQL dialect to show (default: the database's, else sqlite).
    #[arg(long, value_parser = parse_dialect)]
    dialect: Option<DialectKind>,
    /// Read this database (sqlite://PATH or postgres://…) to plan from what it has applied.
    #[arg(long, env = "DATABASE_URL")]
    database_url: Option<String>,
}

fn parse_dialect(text: &str) -> Result<DialectKind, String> {
    text.parse()
}

/// `migrations/` beside the schema file.
pub fn migrations_dir(schema: &Path) -> PathBuf {
    schema
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .join("migrations")
}

/// Parses and checks the schema file, reporting problems on stderr.
pub fn load_schema(path: &Path) -> Result<tessera_schema::Schema, ExitCode> {
    let Some(source) = read_schema(path) else {
        return Err(ExitCode::from(EXIT_IO));
    };
    match tessera_schema::check_source(&path.display().to_string(), &source) {
        Ok(checked) => {
            eprint!("{}", checked.warnings.render(stderr_color()));
            Ok(checked.schema)
        }
        Err(diagnostics) => {
            eprint!("{}", diagnostics.render(stderr_color()));
            Err(ExitCode::from(EXIT_FINDINGS))
        }
    }
}

pub fn run(args: Args) -> ExitCode {
    let schema = match load_schema(&args.schema) {
        Ok(schema) => schema,
        Err(code) => return code,
    };
    let dir = migrations_dir(&args.schema);
    let plan = match &args.database_url {
        Some(url) => {
            let actual = match DialectKind::from_url(url) {
                Ok(actual) => actual,
                Err(error) => {
                    eprintln!("error: {error}");
                    return ExitCode::from(EXIT_FINDINGS);
                }
            };
            if let Some(asked) = args.dialect {
                if asked != actual {
                    eprintln!("error: --dialect {asked} does not match the {actual} database");
                    return ExitCode::from(EXIT_FINDINGS);
                }
            }
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
            let options = MigrateOptions {
                migrations_dir: Some(dir),
                ..MigrateOptions::default()
            };
            runtime.block_on(tessera_migrate::pending_steps(&schema, url, &options))
        }
        None => tessera_migrate::plan_offline(
            &schema,
            args.dialect.unwrap_or(DialectKind::Sqlite),
            Some(&dir),
            None,
        ),
    };
    match plan {
        Ok(plan) => {
            print!("{}", describe(&plan));
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(EXIT_FINDINGS)
        }
    }
}

/// The plan as text: per migration its steps, then its SQL.
pub fn describe(plan: &Plan) -> String {
    if plan.is_empty() {
        return format!(
            "The {} database is up to date with the schema.\n",
            plan.dialect
        );
    }
    let mut out = String::new();
    for migration in &plan.migrations {
        let state = if migration.is_new {
            "new"
        } else {
            "in migrations/, not applied"
        };
        out.push_str(&format!(
            "Migration {} ({state}), {} step(s) on {}:\n",
            migration.name,
            migration.steps.len(),
            plan.dialect
        ));
        for (i, step) in migration.steps.iter().enumerate() {
            let text = step.to_string();
            let danger = migration.destructive.iter().find(|d| d.step == text);
            match danger {
                Some(d) => out.push_str(&format!("  ! {}. {text}  [{}]\n", i + 1, d.reason)),
                None => out.push_str(&format!("    {}. {text}\n", i + 1)),
            }
        }
        out.push('\n');
        out.push_str(&migration.sql);
    }
    if !plan.destructive().is_empty() {
        out.push_str("Steps marked ! can lose data: `tessera migrate` applies them only with --allow-destructive.\n");
    }
    out
}
