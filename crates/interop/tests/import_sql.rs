//! `import sql`: DDL in, a checked schema out, with every unmapped construct reported.

use std::path::Path;

use tessera_interop::import::sql::{import_path, import_str, Dialect};
use tessera_schema::ir::{DefaultValue, RelationKind, Rule, ScalarType};

fn import(sql: &str) -> tessera_interop::Import {
    import_str("test.sql", sql, Dialect::Postgres).expect("imports")
}

#[test]
fn seed_004_markdown_sql_blocks_import_and_check() {
    let path = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/seeds/004_146118f93b17e25a.txt"
    ));
    if !path.exists() {
        return;
    }
    let import = import_path(path, Dialect::Postgres).expect("imports");
    let users = import.schema.model("Users").expect("Users model");
    assert!(matches!(
        users.field("status").map(|f| &f.ty.scalar),
        Some(ScalarType::Enum(_))
    ));
    assert_eq!(users.behaviours.soft_delete.as_deref(), Some("deletedAt"));
    let profile = users.field("profile").expect("profile");
    assert!(matches!(profile.default, Some(DefaultValue::Json(_))));
    insta::assert_snapshot!(import.text);
}

#[test]
fn foreign_keys_become_relations_named_after_the_column() {
    let import = import(
        "CREATE TABLE users (id uuid PRIMARY KEY DEFAULT gen_random_uuid());
         CREATE TABLE devices (id uuid PRIMARY KEY DEFAULT gen_random_uuid());
         CREATE TABLE links (
           id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
           owner_user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
           camera_device_id uuid NOT NULL REFERENCES devices(id),
           client_device_id uuid REFERENCES devices(id)
         );",
    );
    let links = import.schema.model("links").expect("links");
    let names: Vec<&str> = links.relations.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["owner_user", "camera_device", "client_device"]);
    assert!(matches!(
        &links.relation("owner_user").expect("owner").kind,
        RelationKind::ToOne {
            on_delete: tessera_schema::ir::OnDelete::Cascade,
            ..
        }
    ));
}

#[test]
fn timestamps_and_soft_delete_are_recognised_and_reported() {
    let import = import(
        "CREATE TABLE posts (
           id bigserial PRIMARY KEY,
           title text NOT NULL,
           created_at timestamptz NOT NULL DEFAULT now(),
           updated_at timestamptz NOT NULL DEFAULT now(),
           deleted_at timestamptz
         );
         CREATE UNIQUE INDEX posts_title ON posts (title) WHERE deleted_at IS NULL;",
    );
    assert!(import.text.contains("@@timestamps"), "{}", import.text);
    assert!(import.text.contains("@@soft_delete"), "{}", import.text);
    assert!(
        import.text.contains("where: not_deleted"),
        "{}",
        import.text
    );
    assert!(import
        .notes
        .iter()
        .any(|n| n.message.contains("soft-delete")));
}

#[test]
fn range_checks_become_min_and_max_and_others_warn_with_their_position() {
    let import = import(
        "CREATE TABLE t (
           id serial PRIMARY KEY,
           volume numeric CHECK (volume >= 0 AND volume <= 1),
           code text CHECK (code <> lower(code))
         );",
    );
    let t = import.schema.model("t").expect("t");
    let rules: Vec<&Rule> = t
        .field("volume")
        .expect("volume")
        .validations
        .iter()
        .map(|v| &v.rule)
        .collect();
    assert_eq!(
        rules,
        [&Rule::Min { value: 0.0 }, &Rule::Max { value: 1.0 }]
    );
    let warning = import
        .warnings
        .iter()
        .find(|w| w.message.contains("CHECK"))
        .expect("a warning");
    let location = warning.location.as_ref().expect("a location");
    assert_eq!((location.line, location.column), (4, 12));
}

#[test]
fn triggers_functions_and_views_are_reported_not_dropped() {
    let import = import(
        "CREATE TABLE t (id serial PRIMARY KEY);
         CREATE FUNCTION f() RETURNS trigger AS $$ BEGIN RETURN NEW; END; $$ LANGUAGE plpgsql;
         CREATE TRIGGER tr BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION f();
         CREATE VIEW v AS SELECT * FROM t;",
    );
    let kinds: Vec<&str> = import
        .warnings
        .iter()
        .map(|w| w.message.split(' ').next().unwrap_or(""))
        .collect();
    assert_eq!(kinds, ["function", "trigger", "view"]);
}

#[test]
fn migrations_apply_in_order() {
    let import = import(
        "CREATE TABLE a (id serial PRIMARY KEY, old text, gone text);
         ALTER TABLE a RENAME COLUMN old TO new;
         ALTER TABLE a DROP COLUMN gone;
         ALTER TABLE a ADD COLUMN tags varchar(20)[] NOT NULL DEFAULT '{}';
         CREATE TABLE b (id serial PRIMARY KEY);
         DROP TABLE b;",
    );
    let a = import.schema.model("a").expect("a");
    let columns: Vec<&str> = a.fields.iter().map(|f| f.column.as_str()).collect();
    assert_eq!(columns, ["id", "new", "tags"]);
    assert!(import.schema.model("b").is_none());
}

#[test]
fn regex_checks_become_patterns_and_unreadable_regexes_warn() {
    let import = import(
        "CREATE TABLE pages (
           id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
           slug text NOT NULL CHECK (slug ~ '^[a-z0-9-]+$'),
           code text,
           CONSTRAINT pages_code_check CHECK (code ~ '^[A-Z]{3}$'),
           odd text CHECK (odd ~ '(?<=x)y')
         );",
    );
    let pages = import.schema.model("pages").expect("pages");
    let pattern = |field: &str| {
        pages
            .field(field)
            .expect("field")
            .validations
            .iter()
            .find_map(|v| match &v.rule {
                Rule::Pattern { regex } => Some(regex.clone()),
                _ => None,
            })
    };
    assert_eq!(pattern("slug").as_deref(), Some("^[a-z0-9-]+$"));
    assert_eq!(pattern("code").as_deref(), Some("^[A-Z]{3}$"));
    assert_eq!(pattern("odd"), None);
    assert!(import
        .warnings
        .iter()
        .any(|w| w.message.contains("pages.odd: CHECK") && w.location.is_some()));
}

#[test]
fn domains_resolve_in_type_position_only_not_in_column_names() {
    let import = import(
        "CREATE DOMAIN public.year AS integer CONSTRAINT year_check CHECK (VALUE >= 1901);
         CREATE DOMAIN short_code AS varchar(8);
         CREATE TABLE film (
           film_id serial PRIMARY KEY,
           year text NOT NULL DEFAULT 'unknown',
           release_year public.year,
           codes short_code[],
           code short_code NOT NULL,
           CHECK (char_length(year) <= 20)
         );
         ALTER TABLE film ALTER COLUMN year SET DEFAULT 'n/a';",
    );
    let film = import.schema.model("film").expect("film");
    let year = film.field("year").expect("a column named like the domain");
    assert_eq!(year.ty.scalar, ScalarType::Text, "{}", import.text);
    assert_eq!(year.default, Some(DefaultValue::String("n/a".into())));
    assert!(year
        .validations
        .iter()
        .any(|v| matches!(v.rule, Rule::Length { max: Some(20), .. })));
    let release = film.field("release_year").expect("release_year");
    assert_eq!(release.ty.scalar, ScalarType::Int);
    let codes = film.field("codes").expect("codes");
    assert_eq!(codes.ty.scalar, ScalarType::Varchar(8));
    assert!(codes.ty.array);
    assert_eq!(
        film.field("code").map(|f| &f.ty.scalar),
        Some(&ScalarType::Varchar(8))
    );
    assert!(
        import.warnings.iter().all(|w| w.is_no_equivalent()),
        "only the domain's CHECK is reported: {:?}",
        import.warnings
    );
}
