//! The printer: checking the printed IR gives back the same IR, and the text reads as if
//! written by hand.

fn check(source: &str) -> tessera_schema::Schema {
    match tessera_schema::check_source("schema.tsr", source) {
        Ok(checked) => checked.schema,
        Err(d) => panic!("{}", d.render(false)),
    }
}

/// Prints the IR of `source`, checks that the text gives back the same IR, returns the text.
fn round_trip(source: &str) -> String {
    let schema = check(source);
    let printed = tessera_schema::print_schema(&schema);
    let again = match tessera_schema::check_source("printed.tsr", &printed) {
        Ok(checked) => checked.schema,
        Err(d) => panic!(
            "printed schema does not check:\n{printed}\n{}",
            d.render(false)
        ),
    };
    assert_eq!(again, schema, "printed:\n{printed}");
    let formatted = tessera_schema::format_source("printed.tsr", &printed).expect("parses");
    assert_eq!(formatted, printed, "printed text is formatted");
    printed
}

#[test]
fn conditional_defaults_and_random_secrets_round_trip() {
    let printed = round_trip("enum Role { admin editor viewer }\nmodel users {\n  password       text  @hash(bcrypt) @default_if(provider != \"local\", random_secret())\n  emailVerified  bool  = false       @default_if(provider != \"local\", true)\n  provider       text  = \"local\"\n  role           Role  = viewer      @default_if(provider == \"staff\", editor) @default_if(emailVerified == true, admin)\n  token          varchar(64) = random_secret()\n}\n");
    for expected in [
        "@default_if(provider != \"local\", random_secret())",
        "@default_if(provider != \"local\", true)",
        "@default_if(provider == \"staff\", editor) @default_if(emailVerified == true, admin)",
        "= random_secret()",
    ] {
        assert!(printed.contains(expected), "no `{expected}` in:\n{printed}");
    }
}

#[test]
fn auth_is_printed_with_the_arguments_that_are_set() {
    let printed = round_trip("model users {\n  @@auth(email: email, password: password)\n  email text @unique\n  password text @hash\n}\n");
    assert!(
        printed.contains("@@auth(email: email, password: password)\n"),
        "{printed}"
    );
    let printed = round_trip("model users {\n  @@auth(email: email, password: password, disabled: off, signup: [name, team])\n  email text @unique\n  password text @hash\n  off bool = false\n  name text?\n  team -> teams?\n}\nmodel teams {\n  name text\n}\n");
    assert!(
        printed.contains(
            "@@auth(email: email, password: password, disabled: off, signup: [name, teamId])"
        ),
        "{printed}"
    );
}

#[test]
fn allow_rules_are_printed_one_per_rule_in_order() {
    let printed = round_trip("model users {\n  @@auth(email: email, password: password)\n  @@allow([update, read], id == auth)\n  email text @unique\n  password text @hash\n}\nmodel posts {\n  @@actors(users)\n  @@allow(read, public)\n  @@allow(create, authenticated)\n  @@allow([delete, create, update, read], createdBy == auth)\n  @@allow(all, auth == editor)\n  @@allow(read, reviewerId == auth)\n  title text\n  editor -> users?\n  reviewerId uuid?\n  reviewer -> users? @map(\"reviewerId\")\n}\n");
    let rules = allow_lines(&printed);
    assert_eq!(
        rules,
        [
            "@@allow([read, update], id == auth)",
            "@@allow(read, public)",
            "@@allow(create, authenticated)",
            "@@allow(all, createdBy == auth)",
            "@@allow(all, editor == auth)",
            "@@allow(read, reviewerId == auth)",
        ]
    );
}

#[test]
fn account_conditions_are_printed_with_auth_paths() {
    let printed = round_trip("enum Kind { staff customer }\nmodel tenants {\n  name text\n}\nmodel users {\n  @@auth(email: email, password: password)\n  @@allow(read, auth.tenant == tenant)\n  email text @unique\n  password text @hash\n  role text = \"member\"\n  kind Kind = customer\n  level int = 0\n  region text?\n  tenant -> tenants?\n}\nmodel projects {\n  @@allow(all, tenant == auth.tenant)\n  @@allow(delete, \"admin\" == auth.role)\n  @@allow(update, auth.kind == staff)\n  @@allow(read, auth.level == 3)\n  @@allow(read, region == auth.region)\n  @@allow(read, auth.tenantId == \"00000000-0000-0000-0000-000000000001\")\n  name text\n  region text?\n  tenant -> tenants\n}\n");
    let rules = allow_lines(&printed);
    assert_eq!(
        rules,
        [
            "@@allow(read, tenant == auth.tenant)",
            "@@allow(all, tenant == auth.tenant)",
            "@@allow(delete, auth.role == \"admin\")",
            "@@allow(update, auth.kind == staff)",
            "@@allow(read, auth.level == 3)",
            "@@allow(read, region == auth.region)",
            "@@allow(read, auth.tenant == \"00000000-0000-0000-0000-000000000001\")",
        ]
    );
}

#[test]
fn explicit_foreign_keys_are_printed_by_name_in_account_conditions() {
    let printed = round_trip("model tenants {\n  name text\n}\nmodel users {\n  @@auth(email: email, password: password)\n  email text @unique\n  password text @hash\n  orgId uuid?\n  org -> tenants? @map(\"orgId\")\n}\nmodel projects {\n  @@allow(all, owningTenant == auth.orgId)\n  owningTenant uuid\n  owner -> tenants @map(\"owningTenant\")\n}\n");
    assert!(
        printed.contains("@@allow(all, owningTenant == auth.orgId)"),
        "{printed}"
    );
}

/// The `@@allow` lines of a printed schema, trimmed, in order.
fn allow_lines(printed: &str) -> Vec<&str> {
    printed
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("@@allow"))
        .collect()
}

#[test]
fn access_conditions_over_related_rows_and_the_account_round_trip() {
    let printed = round_trip("enum Level { owner editor viewer }\nmodel permissions {\n  name text @unique\n}\nmodel roles {\n  name text\n  permissions permissions[] @join_table(\"rolePermissions\")\n}\nmodel users {\n  @@auth(email: email, password: password)\n  email text @unique\n  password text @hash\n  isAdmin bool = false\n  role -> roles?\n}\nmodel projects {\n  @@allow(read, public && !private || members.some(user == auth))\n  @@allow(update, members.some(user == auth && level in [owner, editor]) || auth.isAdmin)\n  @@allow(delete, owner == auth && members.every(level != viewer))\n  @@allow(create, auth.role.permissions.some(name == \"CREATE_PROJECTS\"))\n  @@allow(read, auth.role.name == \"auditor\" && rank >= 2)\n  name text\n  rank int = 0\n  private bool = false\n  owner -> users\n  members members[]\n}\nmodel members {\n  @@allow(read, !project.members.none(user == auth))\n  project -> projects\n  user -> users\n  level Level\n}\n");
    for expected in [
        "members.some(user == auth && level in [owner, editor]) || auth.isAdmin == true",
        "auth.role.permissions.some(name == \"CREATE_PROJECTS\")",
        "auth.role.name == \"auditor\" && rank >= 2",
        "members.every(level != viewer)",
    ] {
        assert!(printed.contains(expected), "no `{expected}` in:\n{printed}");
    }
}

#[test]
fn field_rules_and_internal_fields_round_trip() {
    let printed = round_trip(
        r#"model users {
  @@auth(email: email, password: password)
  @@allow(read, authenticated)
  email     text  @unique @allow(read, id == auth || auth.role == "admin")
  password  text  @hash
  role      text  = "member" @allow(all, auth.role == "admin")
  apiToken  text? @internal
}

model pages {
  @@allow(all, authenticated)
  title   text @allow([create, update], author == auth)
  author  -> users @allow(update, auth.role == "admin")
}
"#,
    );
    for expected in [
        "@allow(read, id == auth || auth.role == \"admin\")",
        "@allow(all, auth.role == \"admin\")",
        "@internal",
        "@allow([create, update], author == auth)",
        "author  -> users  @allow(update, auth.role == \"admin\")",
    ] {
        assert!(printed.contains(expected), "no `{expected}` in:\n{printed}");
    }
}

#[test]
fn registration_policies_round_trip() {
    let invited = round_trip(
        "model users {\n  @@auth(email: email, password: password, registration: invited(invitations.email))\n  email     text  @unique\n  password  text  @hash\n}\n\nmodel invitations {\n  email  text\n}\n",
    );
    assert!(
        invited.contains("registration: invited(invitations.email)"),
        "{invited}"
    );
    let closed = round_trip(
        "model users {\n  @@auth(email: email, password: password, registration: closed)\n  email     text  @unique\n  password  text  @hash\n}\n",
    );
    assert!(closed.contains("registration: closed"), "{closed}");
}
