//! `tessera check` and `tessera fmt` as a user runs them: exit codes, output, files.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const VALID: &str = "model projects {\n  name  text\n}\n";
const UNFORMATTED: &str = "model projects {\nname text\n}\n";
const INVALID: &str = "model projects {\n  name  strin\n}\n";
const SYNTAX_ERROR: &str = "model projects {\nname\n}\n";

fn tessera(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("tessera runs")
}

/// A fresh directory under the target dir holding one schema file.
fn schema_file(test: &str, text: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("check_fmt")
        .join(test);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("schema.tsr");
    std::fs::write(&path, text).expect("write schema");
    path
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn check_a_valid_file_exits_0_with_a_one_line_summary() {
    let path = schema_file("check_valid", VALID);
    let out = tessera(&["check", path.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(
        stdout.contains(": ok: 1 models, 0 enums, 2 fields, 0 relations, 0 indexes"),
        "{stdout}"
    );
}

#[test]
fn check_an_invalid_file_exits_1_with_diagnostics() {
    let path = schema_file("check_invalid", INVALID);
    let out = tessera(&["check", path.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("E0111"), "{stderr}");
    assert!(stderr.contains("unknown type `strin`"), "{stderr}");
    assert!(stderr.contains("schema.tsr:2:9"), "{stderr}");
    assert!(stderr.contains(": 1 error\n"), "{stderr}");
    assert!(out.stdout.is_empty());
}

#[test]
fn check_an_unreadable_file_exits_2() {
    let out = tessera(&["check", "/nonexistent/schema.tsr"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("cannot read /nonexistent/schema.tsr"));
}

#[test]
fn check_the_bundled_apps() {
    let apps = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../apps");
    for entry in std::fs::read_dir(apps).expect("apps") {
        let path = entry.expect("entry").path().join("schema.tsr");
        if path.is_file() {
            let out = tessera(&["check", path.to_str().expect("utf-8")]);
            assert_eq!(
                out.status.code(),
                Some(0),
                "{}: {}",
                path.display(),
                text(&out.stderr)
            );
        }
    }
}

#[test]
fn fmt_rewrites_an_unformatted_file() {
    let path = schema_file("fmt_rewrites", UNFORMATTED);
    let out = tessera(&["fmt", path.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(std::fs::read_to_string(&path).expect("read"), VALID);
    assert!(text(&out.stdout).contains("formatted"));
    let again = tessera(&["fmt", path.to_str().expect("utf-8")]);
    assert_eq!(again.status.code(), Some(0));
    assert!(again.stdout.is_empty(), "a formatted file is left alone");
}

#[test]
fn fmt_check_exits_1_on_an_unformatted_file_and_leaves_it() {
    let path = schema_file("fmt_check_unformatted", UNFORMATTED);
    let out = tessera(&["fmt", "--check", path.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("not formatted"));
    assert_eq!(std::fs::read_to_string(&path).expect("read"), UNFORMATTED);
}

#[test]
fn fmt_check_exits_0_on_a_formatted_file() {
    let path = schema_file("fmt_check_formatted", VALID);
    let out = tessera(&["fmt", "--check", path.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
}

#[test]
fn fmt_never_rewrites_a_file_with_syntax_errors() {
    let path = schema_file("fmt_syntax_error", SYNTAX_ERROR);
    for args in [&["fmt"][..], &["fmt", "--check"][..]] {
        let mut args = args.to_vec();
        args.push(path.to_str().expect("utf-8"));
        let out = tessera(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(text(&out.stderr).contains("E0010"), "{}", text(&out.stderr));
        assert_eq!(std::fs::read_to_string(&path).expect("read"), SYNTAX_ERROR);
    }
}

#[test]
fn fmt_an_unreadable_file_exits_2() {
    let out = tessera(&["fmt", "/nonexistent/schema.tsr"]);
    assert_eq!(out.status.code(), Some(2));
}
