//! Exporters: every generator's output for a small schema that uses each feature is a
//! snapshot; the bundled apps export without panicking and the Tour Builder docs committed
//! in the repository match what `tessera docs` generates.

use tessera_interop::{docs, json_schema, mermaid, openapi, svg};
use tessera_schema::Schema;

const SHOP: &str = r#"
/// Order state.
enum Status { open paid shipped }

/// Customers of the shop.
model customers {
  @@timestamps
  @@soft_delete
  email     varchar(255)  @unique @email("Must be a valid email")
  name      text          @trim @len(1, 100)
  password  text          @hash
  website   text?         @url
  tags      text[]        = []
  /// Free-form settings.
  settings  jsonb         = { "theme": "dark" }
}

/// Orders placed by customers.
model orders {
  @@index([customer, placed_at(desc)])
  number      bigserial  @id
  customer    -> customers  @on_delete(cascade)
  referrer    -> customers?
  status      Status     = open
  total       decimal(10, 2)  @min(0) @max(100000)
  code        text       @pattern("^[A-Z]{3}[0-9]+$")
  placed_at   timestamptz = now()
  parent      -> orders?
}

model notes {
  subject  -> customers | orders  @polymorphic(type: "subject_type", id: "subject_id")
  body     text  @not_empty
}
"#;

fn shop() -> Schema {
    tessera_schema::check_source("shop.tsr", SHOP)
        .expect("the example schema checks")
        .schema
}

fn app(name: &str) -> Schema {
    let path = format!(
        "{}/../../apps/{name}/schema.tsr",
        env!("CARGO_MANIFEST_DIR")
    );
    let source = std::fs::read_to_string(&path).expect("app schema is readable");
    tessera_schema::check_source(&path, &source)
        .expect("app schema checks")
        .schema
}

const APPS: &[&str] = &[
    "facekom-esign",
    "facekom-vuer",
    "multitenant",
    "opentalk",
    "securecam",
    "tour-builder",
];

#[test]
fn mermaid_lists_columns_with_keys_and_one_line_per_relation() {
    insta::assert_snapshot!(mermaid(&shop()));
}

#[test]
fn openapi_describes_postgrest_routes_rows_errors_and_security() {
    insta::assert_json_snapshot!(openapi(&shop()));
}

#[test]
fn json_schema_turns_validations_into_constraints_and_hides_secrets() {
    insta::assert_json_snapshot!(json_schema(&shop()));
}

#[test]
fn svg_layout_is_a_deterministic_grid() {
    insta::assert_snapshot!(svg(&shop()));
}

#[test]
fn docs_reference_lists_fields_relations_and_indexes() {
    let files = docs(&shop(), "Shop");
    let readme = files
        .iter()
        .find(|f| f.path == "README.md")
        .expect("a README");
    insta::assert_snapshot!(readme.contents);
}

#[test]
fn openapi_never_exposes_secret_fields_in_responses() {
    let doc = openapi(&shop());
    let row = &doc["components"]["schemas"]["customers"]["properties"];
    assert!(row.get("password").is_none());
    assert!(
        doc["components"]["schemas"]["customersInsert"]["properties"]
            .get("password")
            .is_some()
    );
}

#[test]
fn openapi_lists_restore_for_soft_deleted_models_and_publish_for_content_scopes() {
    let doc = openapi(&app("tour-builder"));
    let paths = &doc["paths"];
    assert!(paths.get("/rest/v1/tour_pages/restore").is_some());
    let publish = &paths["/rest/v1/projects/publish"]["post"];
    assert_eq!(
        publish["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/publish_events"
    );
    assert!(paths.get("/rest/v1/tour_pages/publish").is_none());
    let plain = openapi(&shop());
    assert!(plain["paths"]
        .as_object()
        .expect("paths")
        .keys()
        .all(|p| !p.ends_with("/publish")));
}

#[test]
fn every_app_exports_to_every_format() {
    for name in APPS {
        let schema = app(name);
        assert!(mermaid(&schema).starts_with("erDiagram\n"), "{name}");
        let doc = openapi(&schema);
        assert_eq!(doc["openapi"], "3.1.0", "{name}");
        for model in &schema.models {
            let path = format!("/rest/v1/{}", model.name);
            assert!(doc["paths"].get(&path).is_some(), "{name}: {path}");
        }
        assert!(json_schema(&schema)["$defs"].is_object(), "{name}");
        assert!(svg(&schema).ends_with("</svg>\n"), "{name}");
    }
}

/// Regenerate with `tessera docs apps/tour-builder/schema.tsr -o apps/tour-builder/docs
/// --title "Tour Builder schema"`.
#[test]
fn committed_tour_builder_docs_match_the_generator() {
    let dir = format!(
        "{}/../../apps/tour-builder/docs",
        env!("CARGO_MANIFEST_DIR")
    );
    for file in docs(&app("tour-builder"), "Tour Builder schema") {
        let path = format!("{dir}/{}", file.path);
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == file.contents,
            "{path} is out of date; regenerate it with `tessera docs`"
        );
    }
}
