//! The formatter: canonical style, comments kept, idempotent.

use std::path::Path;

fn format(source: &str) -> String {
    tessera_schema::format_source("a.tsr", source)
        .unwrap_or_else(|d| panic!("does not parse:\n{}", d.render(false)))
}

#[test]
fn canonical_style() {
    let source = "enum   Status {active   inactive}\nmodel users{\nemail text @unique\n  @@soft_delete\n      sort_order   int=0\n  project -> projects?   @on_delete(cascade)\n}\nmodel projects {\n name text\n}\n";
    insta::assert_snapshot!(format(source), @r"
    enum Status { active inactive }

    model users {
      @@soft_delete

      email       text               @unique
      sort_order  int           = 0
      project     -> projects?       @on_delete(cascade)
    }

    model projects {
      name  text
    }
    ");
}

#[test]
fn every_kind_of_comment_is_kept() {
    let source = "// file header\n\n/// Users of the app.\nmodel users { // trailing on the opening line is dropped\n  // above an attribute\n  @@timestamps // after an attribute\n  // above a field\n  /// doc of a field\n  email text // trailing\n\n  // before the closing brace\n}\n\nenum E {\n  // above a value\n  a // after a value\n  b\n  // before close\n}\n// end of file\n";
    let formatted = format(source);
    for comment in [
        "// file header",
        "/// Users of the app.",
        "// above an attribute",
        "// after an attribute",
        "// above a field",
        "/// doc of a field",
        "// trailing",
        "// before the closing brace",
        "// above a value",
        "// after a value",
        "// before close",
        "// end of file",
    ] {
        assert!(
            formatted.contains(comment),
            "lost `{comment}`:\n{formatted}"
        );
    }
    assert_eq!(format(&formatted), formatted);
}

#[test]
fn comment_on_the_line_of_an_opening_brace_is_kept() {
    let formatted = format("model users { // the users\n  email text\n}\n");
    assert!(formatted.contains("// the users"), "{formatted}");
}

#[test]
fn long_json_defaults_break_over_lines_and_stay_stable() {
    let source = "model m {\n  profile jsonb = { \"timezone\": \"UTC\", \"language\": \"en\", \"skills\": [], \"theme\": \"dark\", \"x\": 1 }\n  other text @len(1, 2)\n}\n";
    let formatted = format(source);
    assert!(formatted.lines().count() > 4, "{formatted}");
    assert_eq!(format(&formatted), formatted);
}

#[test]
fn a_file_with_syntax_errors_is_not_formatted() {
    let result = tessera_schema::format_source("a.tsr", "model users {\n  email\n}\n");
    assert!(result.is_err());
}

#[test]
fn formatting_is_idempotent_on_every_fixture() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/diagnostics");
    let mut count = 0;
    for entry in std::fs::read_dir(dir).expect("fixtures") {
        let path = entry.expect("entry").path();
        let source = std::fs::read_to_string(&path).expect("readable");
        if let Ok(once) = tessera_schema::format_source("a.tsr", &source) {
            let twice =
                tessera_schema::format_source("a.tsr", &once).expect("formatted text parses");
            assert_eq!(once, twice, "{}", path.display());
            count += 1;
        }
    }
    assert!(count > 40, "only {count} fixtures parse");
}

#[test]
fn formatting_keeps_the_meaning() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../apps");
    for entry in std::fs::read_dir(dir).expect("apps") {
        let path = entry.expect("entry").path().join("schema.tsr");
        let Ok(source) = std::fs::read_to_string(&path) else {
            continue;
        };
        // Strip the alignment: formatting must restore it without changing the schema.
        let squashed: String = source
            .lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect::<Vec<_>>()
            .join("\n");
        let formatted = format(&squashed);
        let a = tessera_schema::check_source("a", &source)
            .expect("valid")
            .schema;
        let b = tessera_schema::check_source("b", &formatted)
            .expect("valid")
            .schema;
        assert_eq!(a, b, "{}", path.display());
    }
}

#[test]
fn comparisons_are_written_with_single_spaces() {
    let source = "model users {\n  @@allow( [read,update] ,createdBy==auth )\n  @@allow(all,auth   ==   owner)\n  verified bool = false @default_if(provider!=\"local\",true)\n  provider text\n}\n";
    insta::assert_snapshot!(format(source), @r#"
    model users {
      @@allow([read, update], createdBy == auth)
      @@allow(all, auth == owner)

      verified  bool  = false  @default_if(provider != "local", true)
      provider  text
    }
    "#);
}

#[test]
fn formatting_comparisons_is_idempotent() {
    let source = "model users {\n  @@auth(email: email, password: password, signup: [name])\n  @@allow(read, id == auth)\n  password text @hash @default_if(provider != \"local\", random_secret())\n  token text = random_secret()\n  role Role = viewer @default_if(provider == \"staff\", editor) @default_if(verified == true, admin)\n}\n";
    let once = format(source);
    assert_eq!(format(&once), once);
}

#[test]
fn dotted_names_are_written_without_spaces() {
    let source = "model projects {\n  @@allow(all,tenant==auth . tenant)\n  @@allow(delete,\"admin\"==auth.role)\n  name text\n}\n";
    insta::assert_snapshot!(format(source), @r#"
    model projects {
      @@allow(all, tenant == auth.tenant)
      @@allow(delete, "admin" == auth.role)

      name  text
    }
    "#);
}
