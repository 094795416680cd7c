//! The bundled app schemas (`apps/*/schema.tsr`): they check, they are formatted, formatting
//! is idempotent, and printing their IR gives back the same IR.

use std::path::{Path, PathBuf};

fn app_schemas() -> Vec<(String, String)> {
    let apps = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../apps");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(apps)
        .expect("apps/ is readable")
        .map(|e| e.expect("directory entry").path().join("schema.tsr"))
        .filter(|p| p.is_file())
        .collect();
    paths.sort();
    assert!(
        paths.len() >= 5,
        "expected the bundled apps, found {paths:?}"
    );
    paths
        .into_iter()
        .map(|p| {
            let name = p.display().to_string();
            let text = std::fs::read_to_string(&p).expect("schema is readable");
            (name, text)
        })
        .collect()
}

fn check(name: &str, source: &str) -> tessera_schema::Schema {
    match tessera_schema::check_source(name, source) {
        Ok(checked) => checked.schema,
        Err(diagnostics) => panic!("{name} does not check:\n{}", diagnostics.render(false)),
    }
}

#[test]
fn every_bundled_schema_checks_without_warnings() {
    for (name, source) in app_schemas() {
        let checked = tessera_schema::check_source(&name, &source)
            .unwrap_or_else(|d| panic!("{name} does not check:\n{}", d.render(false)));
        assert!(
            checked.warnings.items.is_empty(),
            "{name} has warnings:\n{}",
            checked.warnings.render(false)
        );
    }
}

/// The `tessera fmt --check` rule for the repository: committed app schemas are formatted.
#[test]
fn every_bundled_schema_is_formatted() {
    for (name, source) in app_schemas() {
        let formatted = tessera_schema::format_source(&name, &source).expect("parses");
        if formatted != source {
            let first = formatted
                .lines()
                .zip(source.lines())
                .position(|(a, b)| a != b)
                .map_or(0, |i| i + 1);
            panic!("{name} is not formatted (first difference at line {first}); run `tessera fmt {name}`");
        }
    }
}

#[test]
fn formatting_is_idempotent_on_every_bundled_schema() {
    for (name, source) in app_schemas() {
        let once = tessera_schema::format_source(&name, &source).expect("parses");
        let twice = tessera_schema::format_source(&name, &once).expect("formatted text parses");
        assert_eq!(once, twice, "{name}");
    }
}

#[test]
fn printing_the_ir_gives_back_the_same_ir() {
    for (name, source) in app_schemas() {
        let schema = check(&name, &source);
        let printed = tessera_schema::print_schema(&schema);
        let again = check(&format!("{name} (printed)"), &printed);
        let expected = serde_json::to_string_pretty(&schema).expect("serializes");
        let actual = serde_json::to_string_pretty(&again).expect("serializes");
        if expected != actual {
            let diff: Vec<String> = expected
                .lines()
                .zip(actual.lines())
                .enumerate()
                .filter(|(_, (a, b))| a != b)
                .take(10)
                .map(|(i, (a, b))| format!("line {i}: {a}  !=  {b}"))
                .collect();
            panic!(
                "{name}: printed schema checks to another IR:\n{}\n--- printed ---\n{printed}",
                diff.join("\n")
            );
        }
    }
}

#[test]
fn printed_schemas_are_formatted() {
    for (name, source) in app_schemas() {
        let printed = tessera_schema::print_schema(&check(&name, &source));
        let formatted =
            tessera_schema::format_source(&name, &printed).expect("printed text parses");
        assert_eq!(formatted, printed, "{name}");
    }
}

#[test]
fn tour_builder_ir() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../apps/tour-builder/schema.tsr");
    let source = std::fs::read_to_string(path).expect("readable");
    let schema = check("apps/tour-builder/schema.tsr", &source);
    insta::assert_json_snapshot!(schema);
}
