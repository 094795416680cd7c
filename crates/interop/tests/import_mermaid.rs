//! `import mermaid`: erDiagram blocks in, a checked schema out.

use std::path::Path;

use tessera_interop::import::mermaid::{import_path, import_str};
use tessera_schema::ir::RelationKind;

fn seed(name: &str) -> Option<tessera_interop::Import> {
    let path = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/seeds"
    ))
    .join(name);
    path.exists().then(|| import_path(&path).expect("imports"))
}

#[test]
fn seed_002_securecam_imports_with_roles_to_the_same_table() {
    let Some(import) = seed("002_42519b8c0fd813ec.txt") else {
        return;
    };
    let links = import.schema.model("device_links").expect("device_links");
    let targets: Vec<(&str, &str)> = links
        .relations
        .iter()
        .filter_map(|r| match &r.kind {
            RelationKind::ToOne { target, .. } => Some((r.name.as_str(), target.as_str())),
            _ => None,
        })
        .collect();
    assert_eq!(
        targets,
        [
            ("owner_user", "users"),
            ("camera_device", "devices"),
            ("client_device", "devices")
        ]
    );
    insta::assert_snapshot!(import.text);
}

#[test]
fn seed_003_opentalk_imports_composite_keys_and_unknown_enum_types_as_text() {
    let Some(import) = seed("003_87ea2d73044c6fcf.txt") else {
        return;
    };
    let favorites = import
        .schema
        .model("event_favorites")
        .expect("event_favorites");
    assert_eq!(favorites.primary_key.len(), 2);
    assert!(import
        .warnings
        .iter()
        .any(|w| w.message.contains("email_invite_role")));
    insta::assert_snapshot!(import.text);
}

#[test]
fn seed_000_one_line_diagram_imports_relations_from_lines() {
    let Some(import) = seed("000_00deaa0716ea245e.txt") else {
        return;
    };
    let flow = import.schema.model("Flow").expect("Flow");
    assert!(flow
        .relations
        .iter()
        .any(|r| matches!(&r.kind, RelationKind::ToOne { target, .. } if target == "Flow")));
    insta::assert_snapshot!(import.text);
}

#[test]
fn cardinality_decides_which_side_holds_the_key_and_whether_it_is_optional() {
    let import = import_str(
        "d.mmd",
        "erDiagram\n  Author ||--o{ Book : has\n  Note }o--o| Author : about\n  Profile |o--|| Author : extends\n",
    )
    .expect("imports");
    let text = &import.text;
    assert!(text.contains("author  -> Author"), "{text}");
    let d = import.schema.model("Profile").expect("Profile");
    assert!(d
        .relations
        .iter()
        .any(|r| matches!(&r.kind, RelationKind::ToOne { unique: true, .. })));
    let c = import.schema.model("Note").expect("Note");
    let fk = c.fields.iter().find(|f| f.relation.is_some()).expect("fk");
    assert!(fk.nullable);
}
