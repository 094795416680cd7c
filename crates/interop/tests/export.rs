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

/// Accounts, access rules of every kind, conditional defaults and `random_secret()`.
const BLOG: &str = r#"
/// Accounts of the blog.
model users {
  @@auth(email: email, password: password, disabled: disabled, signup: [name, newsletter])
  @@allow(read, authenticated)
  @@allow(update, id == auth)

  email       text     @unique @email @lowercase
  password    text     @hash @len(8, 72) @default_if(provider != "local", random_secret())
  provider    text     = "local"
  verified    bool     = false  @default_if(provider != "local", true)
  disabled    bool     = false
  name        text?
  newsletter  bool     = false
  apiKey      text     = random_secret()  @secret
}

model posts {
  @@actors(users)
  @@soft_delete
  @@allow(read, public)
  @@allow(create, authenticated)
  @@allow([update, delete], createdBy == auth)

  title  text
}

model drafts {
  body  text
}
"#;

fn blog() -> Schema {
    tessera_schema::check_source("blog.tsr", BLOG)
        .expect("the blog schema checks")
        .schema
}

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

/// A JSON document as a snapshot, printed by serde_json: insta's own serializer sees the
/// exact numbers of serde_json (`arbitrary_precision`) as maps.
macro_rules! assert_json {
    ($value:expr) => {
        insta::assert_snapshot!(serde_json::to_string_pretty(&$value).expect("JSON"))
    };
}

#[test]
fn mermaid_lists_columns_with_keys_and_one_line_per_relation() {
    insta::assert_snapshot!(mermaid(&shop()));
}

#[test]
fn openapi_describes_postgrest_routes_rows_errors_and_security() {
    assert_json!(openapi(&shop()));
}

#[test]
fn json_schema_turns_validations_into_constraints_and_hides_secrets() {
    assert_json!(json_schema(&shop()));
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
fn openapi_lists_the_account_routes_only_for_a_schema_with_accounts() {
    let doc = openapi(&blog());
    let auth: serde_json::Map<String, serde_json::Value> = doc["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .filter(|(path, _)| path.starts_with("/auth/v1/"))
        .map(|(path, item)| (path.clone(), item.clone()))
        .collect();
    let schemas = &doc["components"]["schemas"];
    assert_json!(serde_json::json!({
        "paths": auth,
        "Session": schemas["Session"],
        "SignUp": schemas["SignUp"],
        "PasswordGrant": schemas["PasswordGrant"],
        "RefreshTokenGrant": schemas["RefreshTokenGrant"],
        "tag": doc["tags"].as_array().expect("tags").last(),
        "bearerAuth": doc["components"]["securitySchemes"]["bearerAuth"],
    }));

    let plain = openapi(&shop());
    assert!(plain["paths"]
        .as_object()
        .expect("paths")
        .keys()
        .all(|p| !p.starts_with("/auth/")));
    assert!(plain["components"]["schemas"].get("Session").is_none());
    assert!(plain["tags"]
        .as_array()
        .expect("tags")
        .iter()
        .all(|t| t["name"] != "auth"));
}

/// Tenants kept apart by their accounts' tenant, admins and owners by their account's role.
const TENANCY: &str = r#"
model tenants {
  name  text
}

model users {
  @@auth(email: email, password: password)
  @@allow(read, tenant == auth.tenant)

  email     text  @unique
  password  text  @hash
  role      text  = "member"
  tenant    -> tenants?
}

model projects {
  @@allow(all, tenant == auth.tenant)
  @@allow(delete, auth.role == "admin")
  @@allow(delete, auth.role == "owner")

  name    text
  tenant  -> tenants
}

model invoices {
  @@actors(users)
  @@allow([read, create], tenant == auth.tenant)
  @@allow(update, auth.role == "admin")
  @@allow(update, createdBy == auth)

  number  text
  tenant  -> tenants
}
"#;

/// The description (and security, when it differs) of every data operation of `doc`.
fn who_may_run(doc: &serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
    let mut access = serde_json::Map::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        if !path.starts_with("/rest/v1/") {
            continue;
        }
        for (method, operation) in item.as_object().expect("path item") {
            let mut entry = serde_json::Map::new();
            entry.insert("description".into(), operation["description"].clone());
            if let Some(security) = operation.get("security") {
                entry.insert("security".into(), security.clone());
            }
            access.insert(format!("{} {path}", method.to_uppercase()), entry.into());
        }
    }
    access
}

#[test]
fn openapi_says_who_may_run_each_data_operation() {
    assert_json!(who_may_run(&openapi(&blog())));
}

#[test]
fn openapi_describes_conditions_over_the_callers_account() {
    let schema = tessera_schema::check_source("tenancy.tsr", TENANCY)
        .expect("the tenancy schema checks")
        .schema;
    assert_json!(who_may_run(&openapi(&schema)));
}

#[test]
fn conditional_and_generated_defaults_are_no_fixed_json_schema_default() {
    let schema = blog();
    let rows = json_schema(&schema);
    let users = &rows["$defs"]["users"]["properties"];
    assert_eq!(users["provider"]["default"], "local");
    assert_eq!(users["disabled"]["default"], false);
    assert!(users["verified"].get("default").is_none(), "{users}");
    assert!(users.get("apiKey").is_none(), "secret: {users}");

    let doc = openapi(&schema);
    let insert = &doc["components"]["schemas"]["usersInsert"];
    let properties = &insert["properties"];
    assert!(properties["apiKey"].get("default").is_none(), "{insert}");
    assert!(properties["password"].get("default").is_none(), "{insert}");
    assert!(properties["verified"].get("default").is_none(), "{insert}");
    let required: Vec<&str> = insert["required"]
        .as_array()
        .expect("required")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert_eq!(
        required,
        ["email"],
        "the password is generated for other providers"
    );
}

#[test]
fn docs_reference_shows_accounts_access_and_conditional_defaults() {
    let files = docs(&blog(), "Blog");
    let readme = files
        .iter()
        .find(|f| f.path == "README.md")
        .expect("a README");
    let models = readme
        .contents
        .split("## Models\n\n")
        .nth(1)
        .expect("a models section");
    insta::assert_snapshot!(models);
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

const FIELD_RULES: &str = r#"
model tenants {
  @@allow(read, authenticated)
  name         text
  databaseUrl  text  @internal
}

model users {
  @@auth(email: email, password: password)
  @@allow(read, authenticated)
  email     text  @unique @allow(read, id == auth)
  password  text  @hash
}

model invoices {
  @@allow(all, tenant == request.tenant)
  number  text  @allow(update, auth.email == "billing@example.com")
  tenant  -> tenants
}
"#;

fn field_rules() -> Schema {
    tessera_schema::check_source("fields.tsr", FIELD_RULES)
        .expect("the example schema checks")
        .schema
}

#[test]
fn openapi_describes_the_rules_of_single_fields() {
    let doc = openapi(&field_rules());
    let property = |model: &str, field: &str| {
        doc["components"]["schemas"][model]["properties"][field]["description"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(
        property("tenants", "databaseUrl"),
        "Service key only: other callers read it as null and may not set it."
    );
    assert!(
        property("users", "email")
            .contains("read by signed-in users, on rows where `id` is theirs (null elsewhere)"),
        "{}",
        property("users", "email")
    );
    assert!(
        property("invoices", "number").contains("changed by"),
        "{}",
        property("invoices", "number")
    );
}

#[test]
fn openapi_names_the_tenant_header_where_rules_read_it() {
    let doc = openapi(&field_rules());
    let names_tenant = |path: &str, method: &str| {
        doc["paths"][path][method]["parameters"]
            .as_array()
            .is_some_and(|params| {
                params
                    .iter()
                    .any(|p| p["$ref"] == "#/components/parameters/tenant")
            })
    };
    for method in ["get", "post", "patch", "delete"] {
        assert!(
            names_tenant("/rest/v1/invoices", method),
            "{method} invoices"
        );
        assert!(
            !names_tenant("/rest/v1/tenants", method),
            "{method} tenants"
        );
    }
    assert_eq!(
        doc["components"]["parameters"]["tenant"]["name"],
        "X-Tenant"
    );
}

#[test]
fn docs_reference_notes_the_rules_of_single_fields() {
    let files = docs(&field_rules(), "Fields");
    let text: String = files.iter().map(|f| f.contents.as_str()).collect();
    assert!(
        text.contains("Service key only: other callers read it as null"),
        "{text}"
    );
    assert!(
        text.contains("Within the model's access: changed by"),
        "{text}"
    );
}
