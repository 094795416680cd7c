//! The validated IR of each construct of docs/schema-language.md.

use tessera_schema::ir::*;

fn check(source: &str) -> Schema {
    match tessera_schema::check_source("schema.tsr", source) {
        Ok(checked) => checked.schema,
        Err(d) => panic!("{}", d.render(false)),
    }
}

fn field<'a>(schema: &'a Schema, model: &str, name: &str) -> &'a Field {
    schema
        .model(model)
        .and_then(|m| m.field(name))
        .unwrap_or_else(|| panic!("no field {model}.{name}"))
}

fn relation<'a>(schema: &'a Schema, model: &str, name: &str) -> &'a RelationKind {
    &schema
        .model(model)
        .and_then(|m| m.relation(name))
        .unwrap_or_else(|| panic!("no relation {model}.{name}"))
        .kind
}

fn names(model: &Model) -> Vec<&str> {
    model.fields.iter().map(|f| f.name.as_str()).collect()
}

#[test]
fn a_model_without_a_key_gets_an_implicit_uuid_id() {
    let schema = check("model projects {\n  name text\n}\n");
    let m = schema.model("projects").expect("model");
    assert_eq!(m.primary_key, ["id"]);
    let id = field(&schema, "projects", "id");
    assert!(id.implicit && id.readonly && !id.nullable);
    assert_eq!(id.ty.scalar, ScalarType::Uuid);
    assert_eq!(id.default, Some(DefaultValue::GeneratedUuid));
    assert_eq!(names(m), ["id", "name"]);
}

#[test]
fn declared_keys_replace_the_implicit_one() {
    let schema = check("model a {\n  id bigserial @id\n}\nmodel b {\n  email text @id\n}\n");
    assert_eq!(schema.model("a").expect("a").primary_key, ["id"]);
    assert_eq!(field(&schema, "a", "id").ty.scalar, ScalarType::BigSerial);
    assert_eq!(names(schema.model("b").expect("b")), ["email"]);
}

const BEHAVIOURS: &str = "model users {\n  name text\n}\nmodel pages {\n  @@soft_delete\n  @@timestamps\n  @@actors(users)\n  @@import_hash\n  project -> projects?\n}\nmodel projects {\n  name text\n}\n";

#[test]
fn behaviour_columns_in_camel_case() {
    let schema = check(BEHAVIOURS);
    let pages = schema.model("pages").expect("pages");
    assert_eq!(
        names(pages),
        [
            "id",
            "projectId",
            "deletedAt",
            "createdAt",
            "updatedAt",
            "createdById",
            "updatedById",
            "importHash"
        ]
    );
    let b = &pages.behaviours;
    assert_eq!(b.soft_delete.as_deref(), Some("deletedAt"));
    assert_eq!(b.created_at.as_deref(), Some("createdAt"));
    assert_eq!(b.updated_at.as_deref(), Some("updatedAt"));
    assert_eq!(b.created_by.as_deref(), Some("createdBy"));
    assert_eq!(b.updated_by.as_deref(), Some("updatedBy"));
    assert_eq!(b.import_hash.as_deref(), Some("importHash"));
    assert_eq!(
        field(&schema, "pages", "deletedAt").managed,
        Some(Managed::DeletedAt)
    );
    assert!(field(&schema, "pages", "deletedAt").nullable);
    assert_eq!(
        field(&schema, "pages", "createdAt").default,
        Some(DefaultValue::Now)
    );
    assert_eq!(
        field(&schema, "pages", "importHash").ty.scalar,
        ScalarType::Varchar(255)
    );
    assert!(pages
        .indexes
        .iter()
        .any(|i| i.unique && i.fields[0].field == "importHash"));
    let RelationKind::ToOne {
        target, on_delete, ..
    } = relation(&schema, "pages", "createdBy")
    else {
        panic!()
    };
    assert_eq!((target.as_str(), *on_delete), ("users", OnDelete::SetNull));
}

#[test]
fn behaviour_columns_in_snake_case() {
    let schema = check(&format!(
        "settings {{\n  naming = snake_case\n}}\n{BEHAVIOURS}"
    ));
    assert_eq!(schema.naming, Naming::SnakeCase);
    assert_eq!(
        names(schema.model("pages").expect("pages")),
        [
            "id",
            "project_id",
            "deleted_at",
            "created_at",
            "updated_at",
            "created_by_id",
            "updated_by_id",
            "import_hash"
        ]
    );
    assert!(schema
        .model("pages")
        .expect("pages")
        .relation("created_by")
        .is_some());
}

#[test]
fn declared_fields_keep_their_names_and_map_renames_columns() {
    let schema = check("settings {\n  naming = snake_case\n}\nmodel m {\n  firstName text @map(\"first_name\")\n  lastName text\n}\n");
    let f = field(&schema, "m", "firstName");
    assert_eq!(f.column, "first_name");
    assert_eq!(field(&schema, "m", "lastName").column, "lastName");
}

#[test]
fn to_one_with_every_on_delete() {
    let schema = check("model p {\n  name text\n}\nmodel c {\n  a -> p @on_delete(cascade)\n  b -> p? @on_delete(set_null)\n  c -> p @on_delete(restrict)\n  d -> p @on_delete(no_action)\n  e -> p?\n  f -> p\n}\n");
    let expected = [
        ("a", OnDelete::Cascade, false),
        ("b", OnDelete::SetNull, true),
        ("c", OnDelete::Restrict, false),
        ("d", OnDelete::NoAction, false),
        ("e", OnDelete::SetNull, true),
        ("f", OnDelete::Restrict, false),
    ];
    for (name, action, nullable) in expected {
        let RelationKind::ToOne {
            target,
            field: fk,
            references,
            on_delete,
            enforced,
            ..
        } = relation(&schema, "c", name)
        else {
            panic!()
        };
        assert_eq!(
            (target.as_str(), references.as_str(), *on_delete, *enforced),
            ("p", "id", action, true),
            "{name}"
        );
        assert_eq!(fk, &format!("{name}Id"));
        let column = field(&schema, "c", fk);
        assert_eq!(
            (
                column.nullable,
                column.ty.scalar.clone(),
                column.relation.as_deref()
            ),
            (nullable, ScalarType::Uuid, Some(name))
        );
    }
}

#[test]
fn serial_keys_are_referenced_as_plain_integers() {
    let schema = check("model p {\n  id bigserial @id\n}\nmodel c {\n  p -> p\n}\n");
    assert_eq!(field(&schema, "c", "pId").ty.scalar, ScalarType::BigInt);
}

#[test]
fn references_another_unique_field_and_unenforced_shared_column() {
    let schema = check("model customers {\n  code text @unique\n  customerId text @unique\n}\nmodel sms {\n  customerId text\n  customer -> customers? @references(code) @map(\"code_ref\")\n  byCustomer -> customers? @references(customerId) @map(\"customerId\") @unenforced\n}\n");
    let RelationKind::ToOne {
        references,
        field: fk,
        ..
    } = relation(&schema, "sms", "customer")
    else {
        panic!()
    };
    assert_eq!((references.as_str(), fk.as_str()), ("code", "code_ref"));
    assert_eq!(
        field(&schema, "sms", "code_ref").ty.scalar,
        ScalarType::Text
    );
    let RelationKind::ToOne {
        field: fk,
        enforced,
        ..
    } = relation(&schema, "sms", "byCustomer")
    else {
        panic!()
    };
    assert_eq!((fk.as_str(), *enforced), ("customerId", false));
    let shared = field(&schema, "sms", "customerId");
    assert!(
        !shared.implicit,
        "the declared field is reused, not duplicated"
    );
    assert_eq!(
        schema
            .model("sms")
            .expect("sms")
            .fields
            .iter()
            .filter(|f| f.column == "customerId")
            .count(),
        1
    );
}

#[test]
fn references_a_field_made_unique_by_a_model_level_unique() {
    let schema = check("model customers {\n  @@unique([code])\n  code text\n}\nmodel sms {\n  customer -> customers? @references(code)\n}\n");
    let RelationKind::ToOne { references, .. } = relation(&schema, "sms", "customer") else {
        panic!("customer is a to-one relation")
    };
    assert_eq!(references, "code");
}

#[test]
fn one_to_one_keyed_by_the_parent() {
    let schema = check("model events {\n  name text\n}\nmodel event_shared_folders {\n  event -> events @id @on_delete(cascade)\n  path text\n}\n");
    let m = schema.model("event_shared_folders").expect("model");
    assert_eq!(m.primary_key, ["eventId"]);
    assert_eq!(names(m), ["eventId", "path"]);
    assert!(!field(&schema, "event_shared_folders", "eventId").nullable);
}

#[test]
fn unique_to_one_is_one_to_one() {
    let schema = check("model u {\n  name text\n}\nmodel profile {\n  user -> u @unique\n}\n");
    let RelationKind::ToOne { unique, .. } = relation(&schema, "profile", "user") else {
        panic!()
    };
    assert!(unique);
    let m = schema.model("profile").expect("profile");
    assert!(m
        .indexes
        .iter()
        .any(|i| i.unique && i.fields[0].field == "userId"));
}

#[test]
fn composite_keys_of_scalars_and_relations() {
    let schema = check("model events {\n  name text\n}\nmodel users {\n  name text\n}\nmodel invites {\n  @@id([event, user])\n  event -> events\n  user -> users\n  role text\n}\n");
    let m = schema.model("invites").expect("invites");
    assert_eq!(m.primary_key, ["eventId", "userId"]);
    assert!(m.field("id").is_none());
}

#[test]
fn to_many_pairs_with_its_to_one() {
    let schema = check("model users {\n  name text\n}\nmodel devices {\n  camera_links device_links[] @relation(camera)\n  client_links device_links[] @relation(client)\n}\nmodel device_links {\n  owner -> users @map(\"owner_user_id\")\n  camera -> devices @map(\"camera_device_id\")\n  client -> devices @map(\"client_device_id\")\n}\n");
    let RelationKind::ToMany { target, via, role } = relation(&schema, "devices", "camera_links")
    else {
        panic!()
    };
    assert_eq!(
        (target.as_str(), via.as_str(), role),
        ("device_links", "camera", &None)
    );
    let RelationKind::ToOne { inverse, .. } = relation(&schema, "device_links", "client") else {
        panic!()
    };
    assert_eq!(inverse.as_deref(), Some("client_links"));
    assert_eq!(
        field(&schema, "device_links", "owner_user_id")
            .relation
            .as_deref(),
        Some("owner")
    );
}

#[test]
fn implicit_many_to_many_creates_a_join_model() {
    let schema = check("model roles {\n  permissions permissions[] @join_table(\"rolesPermissions\")\n}\nmodel permissions {\n  roles roles[] @join_table(\"rolesPermissions\")\n}\n");
    let join = schema.model("rolesPermissions").expect("join model");
    assert_eq!(join.kind, ModelKind::JoinTable);
    assert_eq!(join.primary_key, ["roleId", "permissionId"]);
    let RelationKind::ManyToMany {
        target,
        join_model,
        from,
        to,
    } = relation(&schema, "roles", "permissions")
    else {
        panic!()
    };
    assert_eq!(
        (
            target.as_str(),
            join_model.as_str(),
            from.as_str(),
            to.as_str()
        ),
        ("permissions", "rolesPermissions", "role", "permission")
    );
    let RelationKind::ManyToMany { from, to, .. } = relation(&schema, "permissions", "roles")
    else {
        panic!()
    };
    assert_eq!(
        (from.as_str(), to.as_str()),
        ("permission", "role"),
        "the other side reuses the join model"
    );
    assert_eq!(
        schema
            .models
            .iter()
            .filter(|m| m.kind == ModelKind::JoinTable)
            .count(),
        1
    );
    let RelationKind::ToOne { on_delete, .. } = relation(&schema, "rolesPermissions", "role")
    else {
        panic!()
    };
    assert_eq!(*on_delete, OnDelete::Cascade);
}

#[test]
fn explicit_many_to_many_through_a_declared_model() {
    let schema = check("model Tenants {\n  users Users[] @through(TenantUsers)\n}\nmodel Users {\n  name text\n}\nmodel TenantUsers {\n  tenant -> Tenants\n  user -> Users\n  role text\n}\n");
    let RelationKind::ManyToMany {
        join_model,
        from,
        to,
        ..
    } = relation(&schema, "Tenants", "users")
    else {
        panic!()
    };
    assert_eq!(
        (join_model.as_str(), from.as_str(), to.as_str()),
        ("TenantUsers", "tenant", "user")
    );
    assert_eq!(
        schema.model("TenantUsers").expect("join").kind,
        ModelKind::Declared
    );
}

#[test]
fn polymorphic_relation_with_roles() {
    let schema = check("model users {\n  avatar file[] @relation(owner, role: \"avatar\")\n}\nmodel projects {\n  files file[] @relation(owner)\n}\nmodel file {\n  owner -> users | projects? @polymorphic(type: \"belongsTo\", id: \"belongsToId\", role: \"belongsToColumn\")\n  name text\n}\n");
    let RelationKind::Polymorphic {
        targets,
        type_field,
        id_field,
        role_field,
    } = relation(&schema, "file", "owner")
    else {
        panic!()
    };
    assert_eq!(targets, &["users", "projects"]);
    assert_eq!(
        (
            type_field.as_str(),
            id_field.as_str(),
            role_field.as_deref()
        ),
        ("belongsTo", "belongsToId", Some("belongsToColumn"))
    );
    assert_eq!(
        field(&schema, "file", "belongsToId").ty.scalar,
        ScalarType::Uuid
    );
    let RelationKind::ToMany { via, role, .. } = relation(&schema, "users", "avatar") else {
        panic!()
    };
    assert_eq!((via.as_str(), role.as_deref()), ("owner", Some("avatar")));
    let default_columns =
        check("model a {\n  n text\n}\nmodel b {\n  n text\n}\nmodel f {\n  owner -> a | b\n}\n");
    assert_eq!(
        names(default_columns.model("f").expect("f")),
        ["id", "ownerType", "ownerId"]
    );
}

#[test]
fn validations_and_messages() {
    let schema = check("model m {\n  email text @email(\"Must be a valid email address\") @not_empty\n  name text @len(1, 255, \"too long\") @trim @lowercase\n  slug text @pattern(\"^[a-z]+$\")\n  site text @url\n  volume decimal @min(0, \"at least 0\") @max(1)\n  kind text @one_of([\"a\", \"b\"], \"a or b\")\n}\n");
    let rules = |name: &str| -> Vec<(Rule, Option<String>)> {
        field(&schema, "m", name)
            .validations
            .iter()
            .map(|v| (v.rule.clone(), v.message.clone()))
            .collect()
    };
    assert_eq!(
        rules("email"),
        [
            (Rule::Email, Some("Must be a valid email address".into())),
            (Rule::NotEmpty, None)
        ]
    );
    assert_eq!(
        rules("name"),
        [(
            Rule::Length {
                min: Some(1),
                max: Some(255)
            },
            Some("too long".into())
        )]
    );
    assert_eq!(
        field(&schema, "m", "name").transforms,
        [Transform::Trim, Transform::Lowercase]
    );
    assert_eq!(
        rules("slug"),
        [(
            Rule::Pattern {
                regex: "^[a-z]+$".into()
            },
            None
        )]
    );
    assert_eq!(rules("site"), [(Rule::Url, None)]);
    assert_eq!(
        rules("volume"),
        [
            (Rule::Min { value: 0.0 }, Some("at least 0".into())),
            (Rule::Max { value: 1.0 }, None)
        ]
    );
    assert_eq!(
        rules("kind"),
        [(
            Rule::OneOf {
                values: vec!["a".into(), "b".into()]
            },
            Some("a or b".into())
        )]
    );
}

#[test]
fn field_behaviours() {
    let schema = check("model m {\n  password text @hash(bcrypt)\n  pin text @hash\n  token text @secret\n  code text @readonly @was(\"old_code\")\n  seen timestamptz @updated_at\n}\n");
    let password = field(&schema, "m", "password");
    assert_eq!(
        (password.hash, password.secret),
        (Some(HashAlgorithm::Bcrypt), true)
    );
    assert_eq!(
        field(&schema, "m", "pin").hash,
        Some(HashAlgorithm::Argon2id)
    );
    assert!(field(&schema, "m", "token").secret);
    let code = field(&schema, "m", "code");
    assert!(code.readonly);
    assert_eq!(code.renamed_from.as_deref(), Some("old_code"));
    assert_eq!(
        field(&schema, "m", "seen").managed,
        Some(Managed::UpdatedAt)
    );
    assert_eq!(
        schema
            .model("m")
            .expect("m")
            .behaviours
            .updated_at
            .as_deref(),
        Some("seen")
    );
}

#[test]
fn virtual_fields_are_not_stored() {
    let schema = check("model m {\n  first text\n  last text\n  full text @virtual(concat(first, \" \", last))\n  flag bool @virtual(true)\n}\n");
    let full = field(&schema, "m", "full");
    assert_eq!(
        full.computed,
        Some(Computed::Concat(vec![
            ComputedPart::Field("first".into()),
            ComputedPart::Text(" ".into()),
            ComputedPart::Field("last".into())
        ]))
    );
    assert!(!full.is_stored());
    assert_eq!(
        field(&schema, "m", "flag").computed,
        Some(Computed::Constant(serde_json::json!(true)))
    );
    assert_eq!(schema.model("m").expect("m").stored_fields().count(), 3);
}

#[test]
fn defaults_of_every_type() {
    let schema = check("enum Environment { dev stage production }\nmodel m {\n  sort_order int = 0\n  provider text = \"local\"\n  code varchar(8) = \"abc\"\n  disabled bool = false\n  volume decimal = 0.5\n  environment Environment = dev\n  accessed_at timestamptz = now()\n  day date = \"2024-01-01\"\n  token uuid = uuid()\n  fixed uuid = \"00000000-0000-0000-0000-000000000000\"\n  roles text[] = []\n  levels int[] = [1, 2]\n  preferences jsonb = {}\n  profile jsonb = { \"timezone\": \"UTC\", \"skills\": [] }\n  note text? = null\n}\n");
    let d = |name: &str| field(&schema, "m", name).default.clone();
    assert_eq!(d("sort_order"), Some(DefaultValue::Number("0".into())));
    assert_eq!(d("provider"), Some(DefaultValue::String("local".into())));
    assert_eq!(d("code"), Some(DefaultValue::String("abc".into())));
    assert_eq!(d("disabled"), Some(DefaultValue::Bool(false)));
    assert_eq!(d("volume"), Some(DefaultValue::Number("0.5".into())));
    assert_eq!(
        d("environment"),
        Some(DefaultValue::EnumValue("dev".into()))
    );
    assert_eq!(d("accessed_at"), Some(DefaultValue::Now));
    assert_eq!(d("day"), Some(DefaultValue::String("2024-01-01".into())));
    assert_eq!(d("token"), Some(DefaultValue::GeneratedUuid));
    assert_eq!(
        d("fixed"),
        Some(DefaultValue::String(
            "00000000-0000-0000-0000-000000000000".into()
        ))
    );
    assert_eq!(d("roles"), Some(DefaultValue::Json(serde_json::json!([]))));
    assert_eq!(
        d("levels"),
        Some(DefaultValue::Json(serde_json::json!([1, 2])))
    );
    assert_eq!(
        d("preferences"),
        Some(DefaultValue::Json(serde_json::json!({})))
    );
    assert_eq!(
        d("profile"),
        Some(DefaultValue::Json(
            serde_json::json!({ "timezone": "UTC", "skills": [] })
        ))
    );
    assert_eq!(d("note"), None);
}

/// Name, fields with `descending`, unique, partial.
type IndexSummary = (String, Vec<(String, bool)>, bool, bool);

#[test]
fn indexes_unique_partial_ordered_and_named() {
    let schema = check("model m {\n  @@soft_delete\n  @@unique([project, slug], where: not_deleted)\n  @@index([accessed_at(desc)])\n  @@index([slug], name: \"by_slug\")\n  slug text @unique\n  accessed_at timestamptz\n  project -> p @index\n}\nmodel p {\n  n text\n}\n");
    let m = schema.model("m").expect("m");
    let summary: Vec<IndexSummary> = m
        .indexes
        .iter()
        .map(|i| {
            (
                i.name.clone(),
                i.fields
                    .iter()
                    .map(|f| (f.field.clone(), f.descending))
                    .collect(),
                i.unique,
                i.where_not_deleted,
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                "m_slug_key".to_string(),
                vec![("slug".to_string(), false)],
                true,
                false
            ),
            (
                "m_projectId_idx".to_string(),
                vec![("projectId".to_string(), false)],
                false,
                false
            ),
            (
                "m_projectId_slug_key".to_string(),
                vec![
                    ("projectId".to_string(), false),
                    ("slug".to_string(), false)
                ],
                true,
                true
            ),
            (
                "m_accessed_at_idx".to_string(),
                vec![("accessed_at".to_string(), true)],
                false,
                false
            ),
            (
                "by_slug".to_string(),
                vec![("slug".to_string(), false)],
                false,
                false
            ),
        ]
    );
}

#[test]
fn index_names_fit_in_63_bytes() {
    let long = "a_rather_long_model_name_for_an_index_name";
    let schema = check(&format!("model {long} {{\n  @@unique([first_very_long_column_name, second_very_long_column_name])\n  first_very_long_column_name text\n  second_very_long_column_name text\n}}\n"));
    let index = &schema.model(long).expect("model").indexes[0];
    assert!(
        index.name.len() <= 63,
        "{} is {} bytes",
        index.name,
        index.name.len()
    );
    assert!(index.name.ends_with("_key"));
    let again = check(&format!("model {long} {{\n  @@unique([first_very_long_column_name, second_very_long_column_name])\n  first_very_long_column_name text\n  second_very_long_column_name text\n}}\n"));
    assert_eq!(
        again.model(long).expect("model").indexes[0].name,
        index.name,
        "names are deterministic"
    );
}

#[test]
fn enums_with_docs_and_database_names() {
    let schema = check("/// Severity.\nenum Severity {\n  @@map(\"severity_t\")\n  /// Lowest.\n  low\n  high\n}\n");
    let e = schema.enum_by_name("Severity").expect("enum");
    assert_eq!(e.db_name, "severity_t");
    assert_eq!(e.doc.as_deref(), Some("Severity."));
    assert_eq!(e.values[0].doc.as_deref(), Some("Lowest."));
}

#[test]
fn model_table_names_docs_and_renames() {
    let schema = check("/// Pages.\nmodel pages {\n  @@map(\"TourPages\")\n  @@was(\"old_pages\")\n  @@soft_delete\n  @@hard_delete\n  /// The title.\n  title text\n}\n");
    let m = schema.model("pages").expect("pages");
    assert_eq!(
        (
            m.table.as_str(),
            m.doc.as_deref(),
            m.renamed_from.as_deref()
        ),
        ("TourPages", Some("Pages."), Some("old_pages"))
    );
    assert!(m.behaviours.hard_delete);
    assert_eq!(
        field(&schema, "pages", "title").doc.as_deref(),
        Some("The title.")
    );
}

#[test]
fn random_secret_is_a_default_of_text_fields() {
    let schema = check(
        "model keys {\n  token text = random_secret()\n  short varchar(43) = random_secret()\n}\n",
    );
    assert_eq!(
        field(&schema, "keys", "token").default,
        Some(DefaultValue::RandomSecret)
    );
    assert_eq!(
        field(&schema, "keys", "short").default,
        Some(DefaultValue::RandomSecret)
    );
}

fn errors(source: &str) -> Vec<&'static str> {
    match tessera_schema::check_source("schema.tsr", source) {
        Ok(_) => Vec::new(),
        Err(d) => d.items.iter().map(|d| d.code).collect(),
    }
}

#[test]
fn random_secret_is_refused_where_it_does_not_fit() {
    assert_eq!(
        errors("model k {\n  n int = random_secret()\n}\n"),
        ["E0200"]
    );
    assert_eq!(
        errors("model k {\n  t varchar(20) = random_secret()\n}\n"),
        ["E0200"]
    );
    assert_eq!(
        errors("model k {\n  t text[] = [random_secret()]\n}\n"),
        ["E0200"]
    );
    assert_eq!(
        errors("model k {\n  t text = random_secret(16)\n}\n"),
        ["E0123"]
    );
}

const PROVIDERS: &str = "enum Role { admin editor viewer }\nmodel users {\n  password       text  @hash(bcrypt) @default_if(provider != \"local\", random_secret())\n  emailVerified  bool  = false       @default_if(provider != \"local\", true)\n  provider       text  = \"local\"\n  role           Role  = viewer      @default_if(provider == \"staff\", editor) @default_if(emailVerified == true, admin)\n}\n";

#[test]
fn default_if_compares_another_field_with_a_literal() {
    let schema = check(PROVIDERS);
    let not_local = FieldCondition {
        field: "provider".into(),
        comparison: Comparison::NotEqual,
        value: DefaultValue::String("local".into()),
    };
    assert_eq!(
        field(&schema, "users", "password").conditional_defaults,
        [ConditionalDefault {
            when: not_local.clone(),
            value: DefaultValue::RandomSecret,
        }]
    );
    let verified = field(&schema, "users", "emailVerified");
    assert_eq!(verified.default, Some(DefaultValue::Bool(false)));
    assert_eq!(
        verified.conditional_defaults,
        [ConditionalDefault {
            when: not_local,
            value: DefaultValue::Bool(true),
        }]
    );
}

#[test]
fn default_if_is_repeatable_in_declaration_order_with_typed_literals() {
    let schema = check(PROVIDERS);
    let role = field(&schema, "users", "role");
    assert_eq!(
        role.conditional_defaults,
        [
            ConditionalDefault {
                when: FieldCondition {
                    field: "provider".into(),
                    comparison: Comparison::Equal,
                    value: DefaultValue::String("staff".into()),
                },
                value: DefaultValue::EnumValue("editor".into()),
            },
            ConditionalDefault {
                when: FieldCondition {
                    field: "emailVerified".into(),
                    comparison: Comparison::Equal,
                    value: DefaultValue::Bool(true),
                },
                value: DefaultValue::EnumValue("admin".into()),
            },
        ]
    );
}

#[test]
fn default_if_compares_enum_values_numbers_and_implicit_fields() {
    let schema = check("enum Plan { free pro }\nmodel accounts {\n  plan   Plan  = free\n  seats  int   = 1  @default_if(plan == pro, 5)\n  quota  int?      @default_if(seats != 1, 100)\n  owner  -> users?\n  note   text?     @default_if(ownerId == \"00000000-0000-0000-0000-000000000000\", \"orphan\")\n}\nmodel users {\n  name text\n}\n");
    let seats = &field(&schema, "accounts", "seats").conditional_defaults[0];
    assert_eq!(seats.when.value, DefaultValue::EnumValue("pro".into()));
    assert_eq!(seats.value, DefaultValue::Number("5".into()));
    let quota = &field(&schema, "accounts", "quota").conditional_defaults[0];
    assert_eq!(
        (
            quota.when.field.as_str(),
            quota.when.comparison,
            &quota.when.value
        ),
        (
            "seats",
            Comparison::NotEqual,
            &DefaultValue::Number("1".into())
        )
    );
    let note = &field(&schema, "accounts", "note").conditional_defaults[0];
    assert_eq!(note.when.field, "ownerId");
}

#[test]
fn default_if_is_refused_on_bad_conditions_and_values() {
    let with = |line: &str| {
        errors(&format!(
            "enum Role {{ admin viewer }}\nmodel m {{\n  provider text = \"local\"\n  role Role = viewer\n  tags text[]\n  {line}\n}}\n"
        ))
    };
    assert_eq!(
        with("x text? @default_if(providr == \"a\", \"b\")"),
        ["E0201"]
    );
    assert_eq!(with("x text? @default_if(tags == \"a\", \"b\")"), ["E0202"]);
    assert_eq!(with("x text? @default_if(x == \"a\", \"b\")"), ["E0203"]);
    assert_eq!(with("x text? @default_if(provider == 1, \"b\")"), ["E0115"]);
    assert_eq!(with("x text? @default_if(role == admn, \"b\")"), ["E0117"]);
    assert_eq!(with("x int? @default_if(role == admin, \"b\")"), ["E0115"]);
    assert_eq!(
        with("x int? @default_if(role == admin, random_secret())"),
        ["E0200"]
    );
    assert_eq!(with("x text? @default_if(role == admin, null)"), ["E0122"]);
    assert_eq!(with("x text? @default_if(role, \"b\")"), ["E0122"]);
    assert_eq!(with("x text? @default_if(role == admin)"), ["E0123"]);
    assert_eq!(
        with("x text @virtual(\"v\") @default_if(role == admin, \"b\")"),
        ["E0130"]
    );
}

const ACCOUNTS: &str = "model users {\n  @@auth(email: email, password: password, disabled: disabled, signup: [name, team])\n  email     text  @unique\n  password  text  @hash\n  disabled  bool  = false\n  name      text?\n  team      -> teams?\n}\nmodel teams {\n  name text\n}\n";

#[test]
fn auth_marks_the_identity_model() {
    let schema = check(ACCOUNTS);
    let (model, identity) = schema.identity_model().expect("an identity model");
    assert_eq!(model.name, "users");
    assert_eq!(
        identity,
        &Identity {
            email: "email".into(),
            password: "password".into(),
            disabled: Some("disabled".into()),
            signup_fields: vec!["name".into(), "teamId".into()],
            registration: Registration::Open,
        }
    );
    assert_eq!(
        schema.model("teams").expect("teams").behaviours.identity,
        None
    );
}

#[test]
fn auth_needs_only_email_and_password() {
    let schema = check("model users {\n  @@auth(email: login, password: secret)\n  login   varchar(320)\n  secret  text?  @hash(bcrypt)\n  @@unique([login])\n}\n");
    let (_, identity) = schema.identity_model().expect("identity");
    assert_eq!(
        (identity.email.as_str(), identity.password.as_str()),
        ("login", "secret")
    );
    assert_eq!(identity.disabled, None);
    assert!(identity.signup_fields.is_empty());
}

#[test]
fn auth_is_refused_when_its_fields_do_not_fit() {
    let users = |auth: &str, fields: &str| {
        errors(&format!(
            "model users {{\n  {auth}\n  email text @unique\n  password text @hash\n  {fields}\n}}\n"
        ))
    };
    assert_eq!(users("@@auth(email: email)", ""), ["E0210"]);
    assert_eq!(
        users("@@auth(email: mail, password: password)", ""),
        ["E0211"]
    );
    assert_eq!(
        users(
            "@@auth(email: email, password: password, disabled: off)",
            "off text"
        ),
        ["E0212"]
    );
    assert_eq!(
        users("@@auth(email: plain, password: password)", "plain text"),
        ["E0213"]
    );
    assert_eq!(
        users("@@auth(email: email, password: pin)", "pin text"),
        ["E0214"]
    );
    assert_eq!(
        users(
            "@@auth(email: email, password: password, signup: [email])",
            ""
        ),
        ["E0217"]
    );
    assert_eq!(
        users("@@auth(email: email, password: password, signup: [id])", ""),
        ["E0217"]
    );
    assert_eq!(
        errors("model users {\n  @@id([email, password])\n  @@auth(email: email, password: password)\n  email text @unique\n  password text @hash\n}\n"),
        ["E0216"]
    );
}

#[test]
fn a_second_auth_model_is_refused() {
    let source = format!("{ACCOUNTS}model admins {{\n  @@auth(email: email, password: password)\n  email text @unique\n  password text @hash\n}}\n");
    assert_eq!(errors(&source), ["E0215"]);
}

/// `field == auth`.
fn owner(field: &str) -> Condition {
    Condition::Compare {
        left: Operand::Field { name: field.into() },
        op: RuleOp::Equal,
        right: Operand::Auth,
    }
}

/// `auth.field == value`.
fn account_is(field: &str, value: DefaultValue) -> Condition {
    Condition::Compare {
        left: Operand::AccountField { name: field.into() },
        op: RuleOp::Equal,
        right: Operand::Value { value },
    }
}

/// `field == auth.account_field`.
fn same_as_account(field: &str, account_field: &str) -> Condition {
    Condition::Compare {
        left: Operand::Field { name: field.into() },
        op: RuleOp::Equal,
        right: Operand::AccountField {
            name: account_field.into(),
        },
    }
}

const POSTS: &str = "model users {\n  @@auth(email: email, password: password)\n  @@allow([read, update], id == auth)\n  email     text  @unique\n  password  text  @hash\n}\nmodel posts {\n  @@actors(users)\n  @@allow(read, public)\n  @@allow(create, authenticated)\n  @@allow([update, delete], createdBy == auth)\n  @@allow(all, auth == editor)\n  @@allow(read, reviewerId == auth)\n  title     text\n  editor    -> users?\n  reviewer  -> users?\n}\n";

#[test]
fn allow_rules_keep_their_declaration_order() {
    let schema = check(POSTS);
    let posts = schema.model("posts").expect("posts");
    let conditions: Vec<&Condition> = posts.access.iter().map(|r| &r.condition).collect();
    assert_eq!(
        conditions,
        [
            &Condition::Public,
            &Condition::Authenticated,
            &owner("createdById"),
            &owner("editorId"),
            &owner("reviewerId"),
        ]
    );
}

#[test]
fn allow_operations_are_one_a_list_or_all_in_canonical_order() {
    let schema = check(POSTS);
    let operations: Vec<&[Operation]> = schema
        .model("posts")
        .expect("posts")
        .access
        .iter()
        .map(|r| r.operations.as_slice())
        .collect();
    assert_eq!(
        operations,
        [
            &[Operation::Read][..],
            &[Operation::Create],
            &[Operation::Update, Operation::Delete],
            &Operation::ALL,
            &[Operation::Read],
        ]
    );
    let schema = check("model m {\n  @@allow([delete, read], public)\n  n text\n}\n");
    assert_eq!(
        schema.model("m").expect("m").access[0].operations,
        [Operation::Read, Operation::Delete]
    );
}

#[test]
fn id_equals_auth_on_the_identity_model_is_its_own_key() {
    let schema = check(POSTS);
    assert_eq!(
        schema.model("users").expect("users").access,
        [AccessRule {
            operations: vec![Operation::Read, Operation::Update],
            condition: owner("id"),
        }]
    );
}

#[test]
fn a_model_without_allow_has_no_access_rules() {
    let schema = check(ACCOUNTS);
    assert!(schema.model("teams").expect("teams").access.is_empty());
}

#[test]
fn allow_is_refused_on_bad_operations_and_conditions() {
    let posts = |rule: &str| {
        errors(&format!(
            "model users {{\n  @@auth(email: email, password: password)\n  email text @unique\n  password text @hash\n}}\nmodel projects {{\n  name text\n}}\nmodel posts {{\n  {rule}\n  title text\n  author -> users\n  project -> projects\n}}\n"
        ))
    };
    assert_eq!(posts("@@allow(reed, public)"), ["E0220"]);
    assert_eq!(posts("@@allow([read, all], public)"), ["E0221"]);
    assert_eq!(posts("@@allow([read, read], public)"), ["E0221"]);
    assert_eq!(posts("@@allow([], public)"), ["E0221"]);
    assert_eq!(posts("@@allow(read, everyone)"), ["E0222"]);
    assert_eq!(posts("@@allow(read, author < auth)"), ["E0227"]);
    assert_eq!(posts("@@allow(read, autor == auth)"), ["E0224"]);
    assert_eq!(posts("@@allow(read, project == auth)"), ["E0225"]);
    assert_eq!(posts("@@allow(read, title == auth)"), ["E0225"]);
    assert_eq!(posts("@@allow(read)"), ["E0123"]);
    assert_eq!(
        errors("model users {\n  name text\n}\nmodel posts {\n  @@allow(read, author == auth)\n  author -> users\n}\n"),
        ["E0223"]
    );
}

/// Accounts with a tenant, a text role, an enum kind, a level, a flag and a team.
const TENANTS: &str = "enum Kind { staff customer }\nmodel tenants {\n  name text\n}\nmodel teams {\n  name text\n}\nmodel users {\n  @@auth(email: email, password: password)\n  email     text  @unique\n  password  text  @hash\n  role      text  = \"member\"\n  kind      Kind  = customer\n  level     int   = 0\n  verified  bool  = false\n  region    varchar(20)?\n  tenant    -> tenants?\n  team      -> teams?\n  joinedAt  timestamptz = now()\n}\n";

/// The access condition of the one rule of model `projects`, declared with `rule` next to a
/// tenant, a region and a name.
fn project_condition(rule: &str) -> Condition {
    let schema = check(&format!(
        "{TENANTS}model projects {{\n  {rule}\n  name    text\n  region  text?\n  tenant  -> tenants\n}}\n"
    ));
    let access = &schema.model("projects").expect("projects").access;
    assert_eq!(access.len(), 1, "{access:?}");
    access[0].condition.clone()
}

/// The codes of the errors of model `projects` declared with `rule`.
fn project_errors(rule: &str) -> Vec<&'static str> {
    errors(&format!(
        "{TENANTS}model projects {{\n  {rule}\n  name    text\n  region  text?\n  tenant  -> tenants\n}}\n"
    ))
}

#[test]
fn auth_field_equal_to_a_value_admits_the_accounts_holding_it() {
    assert_eq!(
        project_condition("@@allow(delete, auth.role == \"admin\")"),
        account_is("role", DefaultValue::String("admin".into()))
    );
}

#[test]
fn the_value_may_be_written_before_the_account_field() {
    assert_eq!(
        project_condition("@@allow(delete, \"admin\" == auth.role)"),
        project_condition("@@allow(delete, auth.role == \"admin\")")
    );
}

#[test]
fn the_value_is_typed_like_the_account_field() {
    assert_eq!(
        project_condition("@@allow(read, auth.kind == staff)"),
        account_is("kind", DefaultValue::EnumValue("staff".into()))
    );
    assert_eq!(
        project_condition("@@allow(read, auth.level == 3)"),
        account_is("level", DefaultValue::Number("3".into()))
    );
    assert_eq!(
        project_condition("@@allow(read, auth.verified == true)"),
        account_is("verified", DefaultValue::Bool(true))
    );
}

#[test]
fn an_account_relation_compared_with_a_value_is_its_foreign_key_in_lowercase() {
    assert_eq!(
        project_condition("@@allow(read, auth.tenant == \"0000ABCD-0000-0000-0000-000000000000\")"),
        account_is(
            "tenantId",
            DefaultValue::String("0000abcd-0000-0000-0000-000000000000".into())
        )
    );
}

#[test]
fn a_relation_equal_to_the_same_relation_of_the_account_isolates_tenants() {
    assert_eq!(
        project_condition("@@allow(all, tenant == auth.tenant)"),
        same_as_account("tenantId", "tenantId")
    );
}

#[test]
fn the_account_field_may_be_written_first() {
    assert_eq!(
        project_condition("@@allow(all, auth.tenant == tenant)"),
        project_condition("@@allow(all, tenant == auth.tenant)")
    );
}

#[test]
fn plain_fields_of_the_same_type_match_the_account() {
    assert_eq!(
        project_condition("@@allow(read, region == auth.region)"),
        same_as_account("region", "region")
    );
    assert_eq!(
        project_condition("@@allow(read, tenantId == auth.tenantId)"),
        project_condition("@@allow(read, tenant == auth.tenant)")
    );
}

#[test]
fn the_account_model_may_compare_its_own_rows_with_the_account() {
    let schema = check(&TENANTS.replace(
        "  @@auth(email: email, password: password)\n",
        "  @@auth(email: email, password: password)\n  @@allow(read, tenant == auth.tenant)\n",
    ));
    assert_eq!(
        schema.model("users").expect("users").access[0].condition,
        same_as_account("tenantId", "tenantId")
    );
}

#[test]
fn an_enum_value_named_like_a_field_is_the_value() {
    let schema = check(&format!(
        "{TENANTS}model projects {{\n  @@allow(read, auth.kind == staff)\n  staff Kind?\n}}\n"
    ));
    assert_eq!(
        schema.model("projects").expect("projects").access[0].condition,
        account_is("kind", DefaultValue::EnumValue("staff".into()))
    );
}

#[test]
fn account_conditions_of_the_wrong_shape_are_refused() {
    assert_eq!(project_errors("@@allow(read, auth.role)"), ["E0222"]);
    assert_eq!(
        project_errors("@@allow(read, auth.role == auth.kind)"),
        ["E0222"]
    );
    assert_eq!(
        project_errors("@@allow(read, auth == auth.tenant)"),
        ["E0222"]
    );
    assert_eq!(project_errors("@@allow(read, auth.role < null)"), ["E0222"]);
    assert_eq!(
        project_errors("@@allow(read, user.role == \"x\")"),
        ["E0224"]
    );
    assert_eq!(
        project_errors("@@allow(read, auth.role == now())"),
        ["E0222"]
    );
}

#[test]
fn unknown_fields_of_account_conditions_are_refused() {
    assert_eq!(
        project_errors("@@allow(read, auth.rol == \"admin\")"),
        ["E0226"]
    );
    assert_eq!(
        project_errors("@@allow(read, tenat == auth.tenant)"),
        ["E0224"]
    );
    assert_eq!(
        project_errors("@@allow(read, auth.role == admin)"),
        ["E0224"]
    );
}

#[test]
fn values_of_the_wrong_type_are_refused_like_in_default_if() {
    assert_eq!(
        project_errors("@@allow(read, auth.level == \"3\")"),
        ["E0115"]
    );
    assert_eq!(
        project_errors("@@allow(read, auth.kind == \"staff\")"),
        ["E0115"]
    );
    assert_eq!(
        project_errors("@@allow(read, auth.kind == stuff)"),
        ["E0117"]
    );
    assert_eq!(
        project_errors("@@allow(read, auth.tenant == \"t1\")"),
        ["E0115"]
    );
}

#[test]
fn fields_that_cannot_be_compared_are_refused() {
    assert_eq!(
        project_errors("@@allow(read, auth.password == \"x\")"),
        ["E0227"]
    );
    assert_eq!(
        project_errors("@@allow(read, auth.verified > false)"),
        ["E0227"]
    );
    assert_eq!(
        errors("model users {\n  @@auth(email: email, password: password)\n  email text @unique\n  password text @hash\n  posts posts[]\n}\nmodel posts {\n  @@allow(read, auth.posts == id)\n  author -> users\n}\n"),
        ["E0230"]
    );
}

#[test]
fn fields_of_different_kinds_cannot_match_the_account() {
    assert_eq!(
        project_errors("@@allow(read, name == auth.level)"),
        ["E0228"]
    );
    assert_eq!(
        project_errors("@@allow(read, tenant == auth.team)"),
        ["E0228"]
    );
}

#[test]
fn account_fields_need_a_model_with_auth() {
    assert_eq!(
        errors("model users {\n  role text\n}\nmodel posts {\n  @@allow(read, auth.role == \"admin\")\n  title text\n}\n"),
        ["E0223"]
    );
}

/// Users with a role holding permissions, projects with members at access levels, pages of a
/// project: the shapes of rules over related rows.
const MEMBERSHIPS: &str = "enum Level { owner editor reviewer viewer }\nmodel permissions {\n  name text @unique\n}\nmodel roles {\n  name text\n  permissions permissions[] @join_table(\"rolePermissions\")\n}\nmodel users {\n  @@auth(email: email, password: password)\n  email     text  @unique\n  password  text  @hash\n  isAdmin   bool  = false\n  role      -> roles?\n}\nmodel projects {\n  name     text\n  private  bool = false\n  owner    -> users\n  members  members[]\n}\nmodel members {\n  project  -> projects\n  user     -> users\n  level    Level\n}\n";

/// The condition of the one rule of model `pages` (of a project, with a status and a rank).
fn page_condition(rule: &str) -> Condition {
    let schema = check(&format!(
        "{MEMBERSHIPS}model pages {{\n  {rule}\n  title   text\n  rank    int = 0\n  status  text?\n  project -> projects\n}}\n"
    ));
    let access = &schema.model("pages").expect("pages").access;
    assert_eq!(access.len(), 1, "{access:?}");
    access[0].condition.clone()
}

fn page_errors(rule: &str) -> Vec<&'static str> {
    errors(&format!(
        "{MEMBERSHIPS}model pages {{\n  {rule}\n  title   text\n  rank    int = 0\n  status  text?\n  project -> projects\n}}\n"
    ))
}

fn compare(left: Operand, op: RuleOp, right: Operand) -> Condition {
    Condition::Compare { left, op, right }
}

fn field_operand(name: &str) -> Operand {
    Operand::Field { name: name.into() }
}

fn some(relation: &str, condition: Condition) -> Condition {
    Condition::Related {
        relation: relation.into(),
        quantifier: Quantifier::Some,
        condition: Box::new(condition),
    }
}

#[test]
fn and_or_not_and_parentheses_combine_conditions() {
    assert_eq!(
        page_condition("@@allow(read, authenticated && !(status == \"draft\") || auth.isAdmin)"),
        Condition::Any {
            conditions: vec![
                Condition::All {
                    conditions: vec![
                        Condition::Authenticated,
                        Condition::Not {
                            condition: Box::new(compare(
                                field_operand("status"),
                                RuleOp::Equal,
                                Operand::Value {
                                    value: DefaultValue::String("draft".into())
                                }
                            ))
                        },
                    ]
                },
                account_is("isAdmin", DefaultValue::Bool(true)),
            ]
        }
    );
}

#[test]
fn a_path_through_to_one_relations_compares_a_field_of_the_related_row() {
    assert_eq!(
        page_condition("@@allow(update, project.owner == auth)"),
        some("project", owner("ownerId"))
    );
}

#[test]
fn some_rows_of_a_to_many_relation_meet_a_condition() {
    assert_eq!(
        page_condition(
            "@@allow(update, project.members.some(user == auth && level in [owner, editor]))"
        ),
        some(
            "project",
            some(
                "members",
                Condition::All {
                    conditions: vec![
                        owner("userId"),
                        Condition::In {
                            operand: field_operand("level"),
                            values: vec![
                                DefaultValue::EnumValue("owner".into()),
                                DefaultValue::EnumValue("editor".into())
                            ],
                        },
                    ]
                }
            )
        )
    );
}

#[test]
fn every_and_none_quantify_the_related_rows() {
    let every = page_condition("@@allow(read, project.members.every(level != viewer))");
    let Condition::Related {
        condition: members, ..
    } = every
    else {
        panic!("{every:?}")
    };
    assert!(matches!(
        *members,
        Condition::Related {
            quantifier: Quantifier::Every,
            ..
        }
    ));
    assert_eq!(
        page_condition("@@allow(read, project.members.none(user == auth))"),
        Condition::Not {
            condition: Box::new(some("project", some("members", owner("userId"))))
        }
    );
}

#[test]
fn permissions_held_through_the_account_are_a_path_from_auth() {
    assert_eq!(
        page_condition("@@allow(read, auth.role.permissions.some(name == \"READ_PAGES\"))"),
        Condition::Account {
            condition: Box::new(some(
                "role",
                some(
                    "permissions",
                    compare(
                        field_operand("name"),
                        RuleOp::Equal,
                        Operand::Value {
                            value: DefaultValue::String("READ_PAGES".into())
                        }
                    )
                )
            ))
        }
    );
}

#[test]
fn ordering_comparisons_and_null_tests_read_the_row() {
    assert_eq!(
        page_condition("@@allow(read, 3 <= rank)"),
        compare(
            field_operand("rank"),
            RuleOp::GreaterOrEqual,
            Operand::Value {
                value: DefaultValue::Number("3".into())
            }
        )
    );
    assert_eq!(
        page_condition("@@allow(read, status != null)"),
        compare(field_operand("status"), RuleOp::NotEqual, Operand::Null)
    );
}

#[test]
fn a_bool_field_alone_is_a_condition() {
    assert_eq!(
        page_condition("@@allow(read, !project.private)"),
        Condition::Not {
            condition: Box::new(some(
                "project",
                compare(
                    field_operand("private"),
                    RuleOp::Equal,
                    Operand::Value {
                        value: DefaultValue::Bool(true)
                    }
                )
            ))
        }
    );
}

#[test]
fn mistakes_in_conditions_over_related_rows_are_refused() {
    assert_eq!(
        page_errors("@@allow(read, project.members == auth)"),
        ["E0230"]
    );
    assert_eq!(
        page_errors("@@allow(read, project.members.any(user == auth))"),
        ["E0231"]
    );
    assert_eq!(
        page_errors("@@allow(read, project.membrs.some(user == auth))"),
        ["E0224"]
    );
    assert_eq!(
        page_errors("@@allow(read, project.members.some(usr == auth))"),
        ["E0224"]
    );
    assert_eq!(
        page_errors("@@allow(read, project.members.some(level == admin))"),
        ["E0117"]
    );
    assert_eq!(page_errors("@@allow(read, rank < \"3\")"), ["E0115"]);
    assert_eq!(page_errors("@@allow(read, title == status)"), ["E0222"]);
    assert_eq!(page_errors("@@allow(read, status in \"x\")"), ["E0222"]);
    assert_eq!(
        page_errors("@@allow(read, auth.role.name == project)"),
        ["E0222"]
    );
}

#[test]
fn the_requests_tenant_is_compared_with_a_field() {
    assert_eq!(
        page_condition("@@allow(read, request.tenant == project)"),
        compare(
            field_operand("projectId"),
            RuleOp::Equal,
            Operand::RequestTenant
        )
    );
    assert_eq!(
        page_errors("@@allow(read, project < request.tenant)"),
        ["E0227"]
    );
    assert_eq!(
        page_errors("@@allow(read, title == request.user)"),
        ["E0222"]
    );
}
