//! The `tessera` command line.

mod commands;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc instead of the system allocator: a request allocates many small short-lived
/// values, and glibc's malloc showed up as a sixth of the server's time in profiles.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Tessera: a schema-first backend engine. Write a schema, check it, migrate a database to
/// it and serve a REST API over it.
#[derive(Parser)]
#[command(name = "tessera", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Apps(commands::apps::Args),
    Check(commands::check::Args),
    Docs(commands::docs::Args),
    Export(commands::export::Args),
    Import(commands::import::Args),
    Fmt(commands::fmt::Args),
    Migrate(commands::migrate::Args),
    Plan(commands::plan::Args),
    Serve(commands::serve::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Apps(args) => commands::apps::run(args),
        Command::Check(args) => commands::check::run(args),
        Command::Docs(args) => commands::docs::run(args),
        Command::Export(args) => commands::export::run(args),
        Command::Import(args) => commands::import::run(args),
        Command::Fmt(args) => commands::fmt::run(args),
        Command::Migrate(args) => commands::migrate::run(args),
        Command::Plan(args) => commands::plan::run(args),
        Command::Serve(args) => commands::serve::run(args),
    }
}
