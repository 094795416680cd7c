//! `tessera serve`: migrate the database to the schema, then serve the REST API.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use tessera_server::{
    Keys, ServerConfig, ServiceKey, TokenSigner, SERVICE_KEY_ENV, TOKEN_SECRET_ENV,
};

use super::{read_schema, stderr_color, EXIT_FINDINGS, EXIT_IO};

/// Serve the REST API of a schema.
///
/// Migrates the database to the schema first (an empty database, or one whose pending
/// steps are all safe); refuses to start, naming the steps, when destructive steps are
/// pending (run `tessera migrate` to review and apply them). Requests need the service
/// key: `TESSERA_SERVICE_KEY`, or a key generated at the first start, stored in the
/// database and printed once.
///
/// Examples:
///   tessera serve apps/tour-builder/schema.tsr --listen 127.0.0.1:8080
///   tessera serve --app securecam
#[derive(clap::Args)]
pub struct Args {
    /// The schema file.
    #[arg(required_unless_present = "app")]
    schema: Option<PathBuf>,
    /// Serve a bundled application instead of a schema file (see `tessera apps`).
    #[arg(long, conflicts_with = "schema")]
    app: Option<String>,
    /// Database URL (sqlite://PATH or postgres://...). Default: the SQLite file
    /// `tessera.db` beside the schema, or `<app>.db` in the current directory with --app.
    #[arg(long, env = "DATABASE_URL")]
    database_url: Option<String>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", env = "TESSERA_LISTEN")]
    listen: SocketAddr,
    /// Log line format.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// Largest request body accepted, in bytes.
    #[arg(long, default_value_t = 1024 * 1024)]
    body_limit: usize,
    /// Longest URL (path and query string) accepted, in bytes (answered 414 beyond).
    #[arg(long, default_value_t = 32 * 1024)]
    max_url_length: usize,
    /// Most header fields in a request (answered 431 beyond).
    #[arg(long, default_value_t = 100)]
    max_header_count: usize,
    /// Largest total size of a request's headers, in bytes (answered 431 beyond).
    #[arg(long, default_value_t = 32 * 1024)]
    max_header_bytes: usize,
    /// Deepest nesting of arrays and objects in a JSON body (answered 400 beyond).
    #[arg(long, default_value_t = 64)]
    max_json_depth: usize,
    /// Most rows in one JSON array body (answered 413 beyond).
    #[arg(long, default_value_t = 10_000)]
    max_body_rows: usize,
    /// Most values in one `in.(...)` list of a query string (answered 400 beyond).
    #[arg(long, default_value_t = 1000)]
    max_in_items: usize,
    /// Deepest nesting of `or(...)`/`and(...)` in a query string (answered 400 beyond).
    #[arg(long, default_value_t = 16)]
    max_logic_depth: usize,
    /// Deepest nesting of embedded resources in `select=` (answered 400 beyond).
    #[arg(long, default_value_t = 8)]
    max_embed_depth: usize,
    /// Longest time a request may take, in seconds (answered 504 after it).
    #[arg(long, default_value_t = 30)]
    request_timeout: u64,
    /// Longest time a client may take to send a request's headers, in seconds (the
    /// connection is closed after it); also how long an idle connection stays open.
    #[arg(long, default_value_t = 10)]
    header_read_timeout: u64,
    /// Longest time a client may take to send a request's body, in seconds (answered 408
    /// after it).
    #[arg(long, default_value_t = 10)]
    body_read_timeout: u64,
    /// Most requests served at once; beyond it a request waits up to --queue-timeout-ms
    /// for a free slot, then is answered 503 with Retry-After.
    #[arg(long, default_value_t = 256)]
    max_concurrent_requests: usize,
    /// How long a request may wait for a free slot when the server is at its limit, in
    /// milliseconds.
    #[arg(long, default_value_t = 1000)]
    queue_timeout_ms: u64,
    /// Origins allowed by CORS (repeatable). Default: any origin.
    #[arg(long = "cors-origin")]
    cors_origins: Vec<String>,
    /// Refuse self-service sign-ups at /auth/v1/signup (accounts are then created with
    /// the service key).
    #[arg(long)]
    disable_signup: bool,
    /// How long an access token is valid, in seconds.
    #[arg(long, default_value_t = 3600)]
    access_token_lifetime: u64,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

/// The default database of a schema file: `tessera.db` in its directory.
pub fn default_database_url(schema: &Path) -> String {
    let dir = schema
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    format!("sqlite://{}?mode=rwc", dir.join("tessera.db").display())
}

fn init_logging(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        LogFormat::Text => builder.with_target(false).init(),
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .init(),
    }
}

/// Where the schema of a `serve` run comes from.
struct Source {
    /// How diagnostics name the schema.
    name: String,
    text: String,
    default_database_url: String,
    /// The project's migrations folder, honoured as by `tessera migrate`.
    migrations: Option<PathBuf>,
}

fn source(args: &Args) -> Result<Source, ExitCode> {
    if let Some(name) = &args.app {
        let Some(app) = tessera_apps::find(name) else {
            eprintln!(
                "error: no bundled app `{name}`; the apps are: {}",
                tessera_apps::names().join(", ")
            );
            return Err(ExitCode::from(EXIT_FINDINGS));
        };
        return Ok(Source {
            name: app.schema_path(),
            text: app.schema.to_string(),
            default_database_url: format!("sqlite://{}.db?mode=rwc", app.name),
            migrations: None,
        });
    }
    let Some(path) = &args.schema else {
        eprintln!("error: give a schema file or --app NAME");
        return Err(ExitCode::from(EXIT_FINDINGS));
    };
    let Some(text) = read_schema(path) else {
        return Err(ExitCode::from(EXIT_IO));
    };
    let migrations = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .join("migrations");
    Ok(Source {
        name: path.display().to_string(),
        text,
        default_database_url: default_database_url(path),
        migrations: migrations.is_dir().then_some(migrations),
    })
}

pub fn run(args: Args) -> ExitCode {
    init_logging(args.log_format);
    let source = match source(&args) {
        Ok(source) => source,
        Err(exit) => return exit,
    };
    let name = source.name.clone();
    let schema = match tessera_schema::check_source(&name, &source.text) {
        Ok(checked) => {
            eprint!("{}", checked.warnings.render(stderr_color()));
            checked.schema
        }
        Err(diagnostics) => {
            eprint!("{}", diagnostics.render(stderr_color()));
            let count = diagnostics.error_count();
            eprintln!(
                "{name}: {count} {}",
                if count == 1 { "error" } else { "errors" }
            );
            return ExitCode::from(EXIT_FINDINGS);
        }
    };
    let database_url = args
        .database_url
        .clone()
        .unwrap_or_else(|| source.default_database_url.clone());
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::from(EXIT_IO);
        }
    };
    match runtime.block_on(serve(args, schema, database_url, source.migrations)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(EXIT_FINDINGS)
        }
    }
}

async fn serve(
    args: Args,
    schema: tessera_schema::Schema,
    database_url: String,
    migrations: Option<PathBuf>,
) -> anyhow::Result<()> {
    use anyhow::Context as _;

    migrate(&schema, migrations, &database_url).await?;
    let has_accounts = schema.identity_model().is_some();
    let engine = tessera_runtime::Engine::connect(schema, &database_url)
        .await
        .map_err(|e| anyhow::anyhow!("cannot connect to the database: {}", e.message))?;

    let service_key = match std::env::var(SERVICE_KEY_ENV) {
        Ok(key) if !key.trim().is_empty() => ServiceKey::new(key.trim()),
        _ => {
            let (key, created) =
                tessera_server::settings::load_or_create_service_key(engine.database())
                    .await
                    .context("cannot read or store the service key")?;
            if created {
                // Shown once: later starts read the stored key and do not print it.
                eprintln!(
                    "\nA service key was generated and stored in the database. It grants full access; keep it secret.\n\n    {}\n\nSend it as 'Authorization: Bearer KEY' or in the 'apikey' header. It is not shown again.\n",
                    key.expose()
                );
            }
            key
        }
    };

    let token_secret = match std::env::var(TOKEN_SECRET_ENV) {
        Ok(secret) if !secret.trim().is_empty() => secret.trim().to_owned(),
        _ => tessera_server::settings::load_or_create_token_secret(engine.database())
            .await
            .context("cannot read or store the token signing secret")?,
    };
    let tokens = TokenSigner::new(token_secret.as_bytes())
        .with_context(|| format!("{TOKEN_SECRET_ENV} is not usable"))?;
    if has_accounts {
        let anon_key = tokens.anon_key().context("cannot sign the anonymous key")?;
        tracing::info!(%anon_key, "accounts are served under /auth/v1; clients that always send a key (such as supabase-js) may send this anonymous key");
    }
    let config = ServerConfig {
        body_limit: args.body_limit,
        request_timeout: Duration::from_secs(args.request_timeout.max(1)),
        header_read_timeout: Duration::from_secs(args.header_read_timeout.max(1)),
        body_read_timeout: Duration::from_secs(args.body_read_timeout.max(1)),
        max_concurrent_requests: args.max_concurrent_requests.max(1),
        queue_timeout: Duration::from_millis(args.queue_timeout_ms),
        cors_origins: (!args.cors_origins.is_empty()).then_some(args.cors_origins),
        access_token_lifetime: Duration::from_secs(args.access_token_lifetime.max(1)),
        signup: !args.disable_signup,
        max_url_length: args.max_url_length.max(1024),
        max_header_count: args.max_header_count.max(16),
        max_header_bytes: args.max_header_bytes.max(1024),
        max_json_depth: args.max_json_depth.max(2),
        max_body_rows: args.max_body_rows.max(1),
        query_limits: tessera_runtime::QueryLimits {
            max_in_items: args.max_in_items.max(1),
            max_logic_depth: args.max_logic_depth.max(1),
            max_embed_depth: args.max_embed_depth.max(1),
            ..tessera_runtime::QueryLimits::default()
        },
        ..ServerConfig::default()
    };
    let keys = Keys {
        service: service_key,
        tokens,
    };
    let connections = config.clone();
    let state = tessera_server::state(engine, keys, config);
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let local = listener.local_addr().context("listener address")?;
    tracing::info!(address = %local, "serving the REST API on http://{local}/rest/v1 (docs: http://{local}/docs)");
    tessera_server::serve(
        listener,
        tessera_server::router(state),
        &connections,
        tessera_server::shutdown_signal(),
    )
    .await
    .context("server failed")?;
    tracing::info!("stopped");
    Ok(())
}

/// Brings the database to the schema when that is safe, honouring the project's migrations
/// folder when there is one.
async fn migrate(
    schema: &tessera_schema::Schema,
    dir: Option<PathBuf>,
    database_url: &str,
) -> anyhow::Result<()> {
    let done = tessera_server::migrate::migrate_for_serve_in(schema, database_url, dir).await?;
    if done.applied.is_empty() {
        tracing::info!("database is up to date with the schema");
    } else {
        tracing::info!(
            migrations = %done.applied.join(", "),
            steps = done.steps,
            "database migrated to the schema"
        );
    }
    Ok(())
}
