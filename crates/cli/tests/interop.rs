//! `tessera import`, `tessera export` and `tessera docs` as a user runs them: exit codes,
//! files written, warnings with file:line:col.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn tessera(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("DATABASE_URL")
        .output()
        .expect("tessera runs")
}

/// A fresh directory under the target dir for one test.
fn dir(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("interop")
        .join(test);
    std::fs::remove_dir_all(&dir).ok();
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn app_schema(name: &str) -> String {
    format!(
        "{}/../../apps/{name}/schema.tsr",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[test]
fn import_sql_writes_a_schema_that_checks_and_warns_with_file_line_and_column() {
    let dir = dir("import_sql");
    let sql = dir.join("db.sql");
    std::fs::write(
        &sql,
        "CREATE TABLE notes (\n  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),\n  body text NOT NULL\n);\nCREATE VIEW v AS SELECT * FROM notes;\n",
    )
    .expect("write");
    let out = dir.join("schema.tsr");
    let run = tessera(&[
        "import",
        "sql",
        sql.to_str().expect("path"),
        "-o",
        out.to_str().expect("path"),
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    let stderr = text(&run.stderr);
    assert!(
        stderr.contains(&format!(
            "warning: {}:5:1: view has no Tessera equivalent",
            sql.display()
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("imported 1 model, 0 enums (1 warning: 1 without a Tessera equivalent)"),
        "the summary says what kind the warnings are: {stderr}"
    );
    let check = tessera(&["check", out.to_str().expect("path")]);
    assert_eq!(check.status.code(), Some(0), "{}", text(&check.stderr));
}

#[test]
fn import_of_a_missing_file_exits_2_and_of_an_unknown_dialect_exits_1() {
    let missing = tessera(&["import", "sql", "/nonexistent/db.sql"]);
    assert_eq!(missing.status.code(), Some(2));
    let dir = dir("import_dialect");
    let sql = dir.join("db.sql");
    std::fs::write(&sql, "CREATE TABLE t (id int PRIMARY KEY);").expect("write");
    let dialect = tessera(&[
        "import",
        "sql",
        sql.to_str().expect("path"),
        "--dialect",
        "oracle",
    ]);
    assert_eq!(dialect.status.code(), Some(1));
    assert!(text(&dialect.stderr).contains("unsupported dialect `oracle`"));
}

#[test]
fn import_db_of_an_unreachable_database_exits_2() {
    let run = tessera(&[
        "import",
        "db",
        "--database-url",
        "sqlite:///nonexistent/dir/x.db",
    ]);
    assert_eq!(run.status.code(), Some(2));
    assert!(text(&run.stderr).starts_with("error: database:"));
}

#[test]
fn migrate_then_import_db_gives_a_schema_that_checks() {
    let dir = dir("import_db");
    let url = format!("sqlite://{}?mode=rwc", dir.join("app.db").display());
    let migrate = tessera(&["migrate", &app_schema("securecam"), "--database-url", &url]);
    assert_eq!(migrate.status.code(), Some(0), "{}", text(&migrate.stderr));
    let out = dir.join("schema.tsr");
    let run = tessera(&[
        "import",
        "db",
        "--database-url",
        &url,
        "-o",
        out.to_str().expect("path"),
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    let check = tessera(&["check", out.to_str().expect("path")]);
    assert_eq!(check.status.code(), Some(0), "{}", text(&check.stderr));
}

#[test]
fn export_sql_writes_ddl_per_dialect_and_refuses_unknown_dialects() {
    let dir = dir("export_sql");
    for dialect in ["postgres", "sqlite"] {
        let out = dir.join(format!("{dialect}.sql"));
        let run = tessera(&[
            "export",
            "sql",
            &app_schema("tour-builder"),
            "--dialect",
            dialect,
            "-o",
            out.to_str().expect("path"),
        ]);
        assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
        let ddl = std::fs::read_to_string(&out).expect("written");
        assert!(ddl.contains("CREATE TABLE \"projects\""), "{dialect}");
    }
    let bad = tessera(&[
        "export",
        "sql",
        &app_schema("tour-builder"),
        "--dialect",
        "oracle",
    ]);
    assert_eq!(bad.status.code(), Some(1));
}

#[test]
fn export_of_an_invalid_schema_exits_1_with_its_diagnostic() {
    let dir = dir("export_invalid");
    let schema = dir.join("schema.tsr");
    std::fs::write(&schema, "model t {\n  name strin\n}\n").expect("write");
    let run = tessera(&["export", "mermaid", schema.to_str().expect("path")]);
    assert_eq!(run.status.code(), Some(1));
    assert!(
        text(&run.stderr).contains("schema.tsr:2:"),
        "{}",
        text(&run.stderr)
    );
}

#[test]
fn docs_writes_the_reference_the_diagram_and_its_svg() {
    let dir = dir("docs");
    let run = tessera(&[
        "docs",
        &app_schema("securecam"),
        "-o",
        dir.to_str().expect("path"),
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    for file in ["README.md", "schema.mmd", "schema.svg"] {
        assert!(dir.join(file).exists(), "{file}");
    }
}
