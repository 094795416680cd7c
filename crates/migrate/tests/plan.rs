//! Migration SQL per dialect, as reviewed snapshots, and how steps are derived.

use tessera_migrate::{plan_steps, script, DialectKind, Step};
use tessera_schema::Schema;

fn schema(source: &str) -> Schema {
    tessera_schema::check_source("schema.tsr", source)
        .expect("valid schema")
        .schema
}

const BEFORE: &str = "enum Status { draft live }\n\
model pages {\n  title text\n  body text?\n  status Status = draft\n  views int = 0\n}\n";

const AFTER: &str = "enum Status { draft live archived }\n\
model pages {\n  heading text @was(\"title\")\n  status Status = draft\n  views bigint = 0 @min(0)\n  slug text?\n  @@index([slug])\n}\n";

fn migration(dialect: DialectKind) -> String {
    let (_, rendered) = plan_steps(Some(&schema(BEFORE)), &schema(AFTER), dialect).expect("plan");
    script("0002_example", dialect, &rendered)
}

#[test]
fn an_edited_model_migrates_in_place_on_postgres() {
    insta::assert_snapshot!(migration(DialectKind::Postgres));
}

#[test]
fn an_edited_model_is_rebuilt_on_sqlite() {
    insta::assert_snapshot!(migration(DialectKind::Sqlite));
}

#[test]
fn a_field_with_was_is_renamed_not_dropped() {
    let (steps, _) =
        plan_steps(Some(&schema(BEFORE)), &schema(AFTER), DialectKind::Postgres).expect("plan");
    assert!(steps.iter().any(
        |s| matches!(s, Step::RenameColumn { from, to, .. } if from == "title" && to == "heading")
    ));
    assert!(!steps
        .iter()
        .any(|s| matches!(s, Step::DropColumn { column, .. } if column.name == "title")));
}

#[test]
fn a_field_without_was_is_dropped_and_added() {
    let renamed = AFTER.replace(" @was(\"title\")", "");
    let (steps, _) = plan_steps(
        Some(&schema(BEFORE)),
        &schema(&renamed),
        DialectKind::Postgres,
    )
    .expect("plan");
    assert!(steps
        .iter()
        .any(|s| matches!(s, Step::DropColumn { column, .. } if column.name == "title")));
    assert!(steps
        .iter()
        .any(|s| matches!(s, Step::AddColumn { column, .. } if column.name == "heading")));
}

#[test]
fn an_unchanged_schema_needs_no_steps() {
    for dialect in DialectKind::ALL {
        let (steps, _) = plan_steps(Some(&schema(AFTER)), &schema(AFTER), dialect).expect("plan");
        assert!(steps.is_empty(), "{dialect}: {steps:?}");
    }
}

#[test]
fn foreign_keys_come_after_every_table_on_postgres() {
    let source = "model a {\n  b -> b?\n}\nmodel b {\n  a -> a?\n}\n";
    let (steps, _) = plan_steps(None, &schema(source), DialectKind::Postgres).expect("plan");
    let last_table = steps
        .iter()
        .rposition(|s| matches!(s, Step::CreateTable { .. }));
    let first_fk = steps
        .iter()
        .position(|s| matches!(s, Step::AddForeignKey { .. }));
    assert!(last_table < first_fk, "{steps:?}");
}
