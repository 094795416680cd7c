//! Every diagnostic of the schema language, as a user sees it.
//!
//! Each file in `tests/diagnostics/` is named `<code>_<what>.tsr`; it must produce the
//! diagnostic `<code>`, and its rendered diagnostics are an insta snapshot. A new diagnostic
//! code in the sources without such a file fails `every_code_has_a_fixture`.

use std::collections::BTreeSet;
use std::path::Path;

use tessera_schema::Diagnostics;

/// Every diagnostic (errors and warnings) of a source file.
fn diagnostics_of(file_name: &str, source: &str) -> Diagnostics {
    match tessera_schema::check_source(file_name, source) {
        Ok(checked) => checked.warnings,
        Err(diagnostics) => diagnostics,
    }
}

fn code_of(path: &Path) -> String {
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .expect("fixture names are UTF-8");
    stem.split('_').next().unwrap_or_default().to_string()
}

#[test]
fn each_fixture_reports_its_code() {
    insta::glob!("diagnostics/*.tsr", |path| {
        let source = std::fs::read_to_string(path).expect("fixture is readable");
        let file_name = path
            .file_name()
            .and_then(|s| s.to_str())
            .expect("fixture names are UTF-8");
        let diagnostics = diagnostics_of(file_name, &source);
        let code = code_of(path);
        let codes: Vec<&str> = diagnostics.items.iter().map(|d| d.code).collect();
        assert!(
            codes.contains(&code.as_str()),
            "{file_name} should report {code}, reported {codes:?}"
        );
        insta::assert_snapshot!(diagnostics.render(false));
    });
}

/// The codes written in the crate's sources (`"E0123"`, `"W0160"`).
fn codes_in_sources() -> BTreeSet<String> {
    let mut codes = BTreeSet::new();
    let mut dirs = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("src")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("src is readable") {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("source is readable");
            let bytes = text.as_bytes();
            for (i, window) in bytes.windows(7).enumerate() {
                let quoted = window[0] == b'"' && window[6] == b'"';
                let letter = window[1] == b'E' || window[1] == b'W';
                if quoted && letter && window[2..6].iter().all(u8::is_ascii_digit) {
                    codes.insert(text[i + 1..i + 6].to_string());
                }
            }
        }
    }
    codes
}

fn codes_with_fixtures() -> BTreeSet<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/diagnostics");
    std::fs::read_dir(dir)
        .expect("fixtures are readable")
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "tsr"))
        .map(|p| code_of(&p))
        .collect()
}

#[test]
fn every_code_has_a_fixture() {
    let in_sources = codes_in_sources();
    assert!(in_sources.len() > 50, "found only {in_sources:?}");
    let fixtures = codes_with_fixtures();
    let missing: Vec<&String> = in_sources.difference(&fixtures).collect();
    assert!(
        missing.is_empty(),
        "add tests/diagnostics/<code>_<what>.tsr for {missing:?}"
    );
}

#[test]
fn every_fixture_names_a_code_of_the_sources() {
    let in_sources = codes_in_sources();
    let unknown: Vec<String> = codes_with_fixtures()
        .difference(&in_sources)
        .cloned()
        .collect();
    assert!(
        unknown.is_empty(),
        "fixtures for unknown codes: {unknown:?}"
    );
}

#[test]
fn every_code_is_documented() {
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/diagnostics.md");
    let text = std::fs::read_to_string(docs).expect("docs/diagnostics.md exists");
    let missing: Vec<String> = codes_in_sources()
        .into_iter()
        .filter(|code| !text.contains(&format!("### {code}")))
        .collect();
    assert!(
        missing.is_empty(),
        "document {missing:?} in docs/diagnostics.md"
    );
}

#[test]
fn all_errors_of_a_file_are_reported_in_one_run() {
    let source = "\
model users {
  email   strin
  age     int = \"old\"
  @@index([emial])
}

model pages {
  owner   -> user
  status  Status
}
";
    let diagnostics = diagnostics_of("schema.tsr", source);
    let codes: Vec<&str> = diagnostics.items.iter().map(|d| d.code).collect();
    assert_eq!(codes, ["E0111", "E0115", "E0170", "E0140", "E0111"]);
    assert_eq!(diagnostics.error_count(), 5);
}

#[test]
fn syntax_and_semantic_errors_are_reported_together() {
    let source = "\
model users {
  email  text  $
  name   strin
}
";
    let diagnostics = diagnostics_of("schema.tsr", source);
    let codes: Vec<&str> = diagnostics.items.iter().map(|d| d.code).collect();
    assert!(codes.contains(&"E0001"), "{codes:?}");
    assert!(codes.contains(&"E0111"), "{codes:?}");
}

#[test]
fn every_diagnostic_has_a_label_and_a_hint() {
    insta::glob!("diagnostics/*.tsr", |path| {
        let source = std::fs::read_to_string(path).expect("fixture is readable");
        for diagnostic in diagnostics_of("schema.tsr", &source).items {
            assert!(diagnostic.label.is_some(), "{diagnostic:?} has no label");
            assert!(diagnostic.help.is_some(), "{diagnostic:?} has no help");
            assert!(diagnostic.span.end <= source.len(), "{diagnostic:?}");
        }
    });
}
