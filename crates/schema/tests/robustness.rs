//! Hostile and unusual input: never a panic, never a hang, and formatting stays stable.

use proptest::prelude::*;

/// Parses, checks, renders and formats; panics only on a bug.
fn run_everything(source: &str) {
    let (file, _) = tessera_schema::parse(source);
    let _ = tessera_schema::format_file(&file);
    match tessera_schema::check_source("fuzz.tsr", source) {
        Ok(checked) => {
            let _ = checked.warnings.render(false);
            let formatted =
                tessera_schema::format_source("a.tsr", source).expect("checked text parses");
            let reformatted = tessera_schema::check_source("formatted.tsr", &formatted)
                .unwrap_or_else(|d| {
                    panic!(
                        "formatted schema does not check:\n{formatted}\n{}",
                        d.render(false)
                    )
                });
            assert_eq!(
                reformatted.schema, checked.schema,
                "formatting changed the meaning of:\n{source}"
            );
            let printed = tessera_schema::print_schema(&checked.schema);
            let again = tessera_schema::check_source("printed.tsr", &printed)
                .unwrap_or_else(|_| panic!("printed schema does not check:\n{printed}"));
            assert_eq!(
                again.schema, checked.schema,
                "printing changed the meaning of:\n{source}\nprinted:\n{printed}"
            );
        }
        Err(diagnostics) => {
            let _ = diagnostics.render(false);
            for d in &diagnostics.items {
                assert!(
                    d.span.start <= d.span.end && d.span.end <= source.len(),
                    "{d:?}"
                );
            }
        }
    }
}

/// When the text parses, formatting it twice gives the same text as once.
fn assert_format_idempotent(source: &str) {
    if let Ok(once) = tessera_schema::format_source("a.tsr", source) {
        let twice = tessera_schema::format_source("a.tsr", &once).unwrap_or_else(|d| {
            panic!(
                "formatted text does not parse:\n{once}\n{}",
                d.render(false)
            )
        });
        assert_eq!(once, twice, "formatting is not idempotent for:\n{source}");
    }
}

#[test]
fn empty_and_blank_files() {
    for source in [
        "",
        "\n",
        "   ",
        "\r\n",
        "\t\t\n",
        "// only a comment",
        "/// a doc comment\n",
    ] {
        run_everything(source);
        assert_format_idempotent(source);
    }
    let checked = tessera_schema::check_source("empty.tsr", "").expect("an empty schema is valid");
    assert!(checked.models.is_empty());
}

#[test]
fn errors_at_the_end_of_the_file() {
    for source in [
        "model",
        "model users",
        "model users {",
        "model users {\n  email",
        "model users {\n  email text = ",
        "model users {\n  email text @",
        "model users {\n  email text @len(",
        "model users {\n  email text = \"",
        "model users {\n  email text = \"abc\\",
        "enum E {",
        "enum E { a",
        "settings {",
        "settings { naming =",
        "model users {\n  tags text[",
        "model users {\n  o -> ",
        "model users {\n  o -> a |",
    ] {
        run_everything(source);
        let diagnostics = tessera_schema::check_source("eof.tsr", source).expect_err(source);
        assert!(diagnostics.has_errors(), "{source}");
    }
}

#[test]
fn crlf_line_endings_mean_the_same_as_lf() {
    let lf = "/// Users.\nmodel users {\n  @@timestamps\n\n  email  text  @unique // login\n  name   text? = \"x\"\n}\n\nenum E {\n  a\n  b\n}\n";
    let crlf = lf.replace('\n', "\r\n");
    let a = tessera_schema::check_source("lf.tsr", lf).expect("valid");
    let b = tessera_schema::check_source("crlf.tsr", &crlf).expect("valid with CRLF");
    assert_eq!(a.schema, b.schema);
    let formatted = tessera_schema::format_source("crlf.tsr", &crlf).expect("parses");
    assert_eq!(
        formatted,
        tessera_schema::format_source("lf.tsr", lf).expect("parses")
    );
    assert!(
        !formatted.contains('\r'),
        "the formatter writes LF line endings"
    );
}

#[test]
fn crlf_positions_point_at_the_right_line() {
    let source = "model users {\r\n  email  strin\r\n}\r\n";
    let diagnostics = tessera_schema::check_source("crlf.tsr", source).expect_err("unknown type");
    let d = &diagnostics.items[0];
    assert_eq!(&source[d.span.start..d.span.end], "strin");
    assert_eq!(
        tessera_schema::diagnostic::line_col(source, d.span.start),
        (2, 10)
    );
    assert!(diagnostics.render(false).contains("crlf.tsr:2:10"));
}

#[test]
fn unterminated_string_with_crlf_does_not_swallow_the_line_break() {
    let source = "model users {\r\n  name  text = \"abc\r\n  email text\r\n}\r\n";
    let diagnostics = tessera_schema::check_source("crlf.tsr", source).expect_err("unterminated");
    let codes: Vec<&str> = diagnostics.items.iter().map(|d| d.code).collect();
    assert_eq!(codes, ["E0003"]);
}

#[test]
fn tabs_and_unicode_identifiers() {
    let source = "model café {\n\tnöm\ttext\t@len(1, 10)\n\t名前\ttext?\n}\n";
    let checked = tessera_schema::check_source("unicode.tsr", source).expect("valid");
    let model = checked.model("café").expect("model");
    assert!(model.field("nöm").is_some());
    assert!(model.field("名前").is_some());
    assert_format_idempotent(source);
    let bad = "model café {\n\tnöm\tstrïng\n}\n";
    let rendered = tessera_schema::check_source("unicode.tsr", bad)
        .expect_err("unknown type")
        .render(false);
    assert!(rendered.contains("unknown type `strïng`"), "{rendered}");
}

#[test]
fn deeply_nested_values_are_refused_not_overflowed() {
    let depth = 10_000;
    let source = format!(
        "model users {{\n  settings  jsonb = {}{}\n}}\n",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let diagnostics = tessera_schema::check_source("deep.tsr", &source).expect_err("too deep");
    let codes: Vec<&str> = diagnostics.items.iter().map(|d| d.code).collect();
    assert_eq!(codes, ["E0016"]);
    let objects = format!(
        "model users {{\n  settings  jsonb = {}\n}}\n",
        "{\"a\": ".repeat(depth)
    );
    run_everything(&objects);
    let calls = format!(
        "model users {{\n  v  text @virtual({})\n}}\n",
        "f(".repeat(depth)
    );
    run_everything(&calls);
}

#[test]
fn a_megabyte_of_braces_finishes() {
    let source = "{".repeat(1 << 20);
    run_everything(&source);
    let inside = format!("model users {{\n  x json = {}\n}}\n", "{".repeat(1 << 20));
    run_everything(&inside);
    let brackets = format!("model users {{\n  @@index({})\n}}\n", "[".repeat(1 << 20));
    run_everything(&brackets);
}

#[test]
fn many_bad_lines_report_one_error_each() {
    let source = format!("model users {{\n{}}}\n", "  $$$ ###\n".repeat(1000));
    let diagnostics = tessera_schema::check_source("bad.tsr", &source).expect_err("bad");
    assert!(diagnostics.items.len() <= 6000);
    let garbage_enum = format!("enum E {{ {} }}\n", ", ".repeat(10_000));
    let diagnostics = tessera_schema::check_source("bad.tsr", &garbage_enum).expect_err("bad");
    let syntax = diagnostics
        .items
        .iter()
        .filter(|d| d.code == "E0010")
        .count();
    assert_eq!(syntax, 1, "one syntax error for one bad line");
}

/// Words and punctuation of the language, for near-valid random schemas.
const VOCABULARY: &[&str] = &[
    "model",
    "enum",
    "settings",
    "users",
    "projects",
    "pages",
    "Status",
    "id",
    "email",
    "name",
    "project",
    "owner",
    "text",
    "int",
    "uuid",
    "bool",
    "jsonb",
    "timestamptz",
    "varchar",
    "decimal",
    "serial",
    "bytes",
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    ",",
    ":",
    "=",
    "?",
    "|",
    "->",
    "@",
    "@@",
    "\n",
    "\n",
    "\n",
    " ",
    "  ",
    "@id",
    "@unique",
    "@index",
    "@map",
    "@default",
    "@len",
    "@email",
    "@pattern",
    "@min",
    "@max",
    "@one_of",
    "@virtual",
    "@hash",
    "@trim",
    "@on_delete",
    "@references",
    "@relation",
    "@through",
    "@join_table",
    "@polymorphic",
    "@@id",
    "@@unique",
    "@@index",
    "@@soft_delete",
    "@@timestamps",
    "@@actors",
    "@@map",
    "@@import_hash",
    "@@hard_delete",
    "cascade",
    "set_null",
    "now()",
    "uuid()",
    "true",
    "false",
    "null",
    "0",
    "-1",
    "1.5",
    "255",
    "\"x\"",
    "\"^a$\"",
    "\"unterminated",
    "// c",
    "/// d",
    "not_deleted",
    "where:",
    "name:",
    "role:",
    "desc",
    "concat",
    "\r\n",
    "\t",
    "$",
    "\\",
    "==",
    "!=",
    "!",
    "@default_if",
    "random_secret()",
    "@@auth",
    "@@allow",
    "email:",
    "password:",
    "signup:",
    "auth",
    "public",
    "authenticated",
    "all",
    "read",
    ".",
    "auth.",
    "auth.role",
    "auth.tenant",
    "auth.id",
    "tenant",
    "\"admin\"",
];

fn near_valid_schema() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(VOCABULARY), 0..120).prop_map(|words| {
        let mut out = String::new();
        for word in words {
            out.push_str(word);
            if !word.starts_with('@') && !word.ends_with('\n') {
                out.push(' ');
            }
        }
        out
    })
}

/// Random valid-looking model lines, more likely to parse than random tokens.
fn model_like_schema() -> impl Strategy<Value = String> {
    let field = (
        prop::sample::select(&["email", "name", "age", "project", "tags", "data"][..]),
        prop::sample::select(
            &[
                "text",
                "int",
                "text[]",
                "jsonb",
                "-> projects",
                "-> projects?",
                "bool",
                "Status",
            ][..],
        ),
        prop::sample::select(
            &[
                "",
                "= 0",
                "= \"a\"",
                "= []",
                "= {}",
                "= now()",
                "= true",
                "= active",
                "= random_secret()",
            ][..],
        ),
        prop::sample::select(
            &[
                "",
                "@unique",
                "@index",
                "@len(1, 2)",
                "@on_delete(cascade)",
                "@map(\"c\")",
                "@trim // t",
                "@hash",
                "@default_if(name != \"a\", \"b\")",
                "@default_if(age == 0, true)",
                "@default_if(data == 1, random_secret())",
            ][..],
        ),
    )
        .prop_map(|(n, t, d, a)| format!("  {n}  {t}  {d}  {a}\n"));
    // Each model attribute at most once: a repeated `@@actors` is not what this checks.
    let attributes = prop::sample::subsequence(
        vec![
            "  @@soft_delete\n",
            "  @@timestamps\n",
            "  @@unique([email, name])\n",
            "  @@index([age(desc)])\n",
            "  @@actors(projects)\n",
            "  @@auth(email: email, password: name)\n",
            "  @@auth(email: email, password: name, signup: [age])\n",
            "  @@allow(read, public)\n",
            "  @@allow([read, update], id == auth)\n",
            "  @@allow(all, authenticated)\n",
            "  @@allow(read, project == auth.project)\n",
            "  @@allow(delete, auth.name == \"a\")\n",
            "  // comment\n",
            "\n",
        ],
        0..4,
    )
    .prop_shuffle();
    (
        attributes,
        prop::collection::vec(field, 0..6),
    )
        .prop_map(|(attributes, fields)| {
            format!(
                "enum Status {{ active inactive }}\n\nmodel projects {{\n  title text\n}}\n\nmodel users {{\n{}{}}}\n",
                attributes.concat(),
                fields.concat()
            )
        })
}

/// Accounts, access rules (account conditions included) and conditional defaults, mostly
/// valid: each part is picked from variants that check, and a few that do not.
fn identity_like_schema() -> impl Strategy<Value = String> {
    let auth = prop::sample::select(
        &[
            "",
            "  @@auth(email: email, password: password)\n",
            "  @@auth(email: email, password: password, disabled: disabled, signup: [name, role])\n",
            "  @@auth(email: name, password: password)\n",
        ][..],
    );
    let user_rules = prop::sample::subsequence(
        vec![
            "  @@allow(read, authenticated)\n",
            "  @@allow([update, read], id == auth)\n",
            "  @@allow(all, public)\n",
            "  @@allow(create, public)\n",
            "  @@allow(read, tenant == auth.tenant)\n",
            "  @@allow(update, auth.role == admin)\n",
        ],
        0..3,
    )
    .prop_shuffle();
    let post_rules = prop::sample::subsequence(
        vec![
            "  @@allow(read, public)\n",
            "  @@allow(all, author == auth)\n",
            "  @@allow([update, delete], createdBy == auth)\n",
            "  @@allow(create, authenticated)\n",
            "  @@allow(read, auth == editorId)\n",
            "  @@allow([delete, read], author == auth)\n",
            "  @@allow(all, tenant == auth.tenant)\n",
            "  @@allow(all, auth.tenant == tenantId)\n",
            "  @@allow(delete, auth.role == admin)\n",
            "  @@allow(read, \"staff\" == auth.provider)\n",
            "  @@allow(update, auth.verified == true)\n",
            "  @@allow(read, title == auth.name)\n",
            "  @@allow(read, auth.tenant == \"00000000-0000-0000-0000-00000000000A\")\n",
            "  @@allow(read, auth.role != admin)\n",
            "  @@allow(read, editor == auth.tenant)\n",
            "  @@allow(read, auth.role == auth.name)\n",
        ],
        0..4,
    )
    .prop_shuffle();
    let password = prop::sample::select(
        &[
            "@hash",
            "@hash(bcrypt) @default_if(provider != \"local\", random_secret())",
            "@hash @default_if(provider == \"google\", random_secret()) @default_if(verified == true, \"x\")",
        ][..],
    );
    let verified = prop::sample::select(
        &[
            "bool = false",
            "bool = false @default_if(provider != \"local\", true)",
            "bool? @default_if(role == admin, true)",
        ][..],
    );
    let role = prop::sample::select(
        &[
            "Role = viewer",
            "Role = viewer @default_if(provider == \"staff\", editor)",
            "Role? @default_if(verified == false, viewer) @default_if(name != \"\", admin)",
        ][..],
    );
    let token = prop::sample::select(
        &[
            "text = random_secret()",
            "varchar(64)? @default_if(provider == \"local\", random_secret())",
            "text?",
        ][..],
    );
    (auth, user_rules, post_rules, password, verified, role, token).prop_map(
        |(auth, user_rules, post_rules, password, verified, role, token)| {
            format!(
                "enum Role {{ admin editor viewer }}\n\nmodel tenants {{\n  name text\n}}\n\nmodel users {{\n{auth}{}  email text @unique\n  password text? {password}\n  provider text = \"local\"\n  verified {verified}\n  disabled bool = false\n  name text?\n  role {role}\n  token {token}\n  tenant -> tenants?\n}}\n\nmodel posts {{\n  @@actors(users)\n{}  title text\n  author -> users?\n  editor -> users?\n  tenant -> tenants?\n}}\n",
                user_rules.concat(),
                post_rules.concat()
            )
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn arbitrary_text_never_panics(source in any::<String>()) {
        run_everything(&source);
        assert_format_idempotent(&source);
    }

    #[test]
    fn near_valid_text_never_panics(source in near_valid_schema()) {
        run_everything(&source);
        assert_format_idempotent(&source);
    }

    #[test]
    fn model_like_text_never_panics(source in model_like_schema()) {
        run_everything(&source);
        assert_format_idempotent(&source);
    }

    #[test]
    fn identity_like_text_keeps_its_meaning(source in identity_like_schema()) {
        run_everything(&source);
        assert_format_idempotent(&source);
    }
}
