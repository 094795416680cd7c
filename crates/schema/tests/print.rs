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
