//! The syntax tree of each construct of docs/schema-language.md.

use tessera_schema::ast::*;

fn parse_ok(source: &str) -> SchemaFile {
    let (file, diagnostics) = tessera_schema::parse(source);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    file
}

fn model(file: &SchemaFile, index: usize) -> &ModelDecl {
    match &file.items[index] {
        Item::Model(m) => m,
        other => panic!("expected a model, found {other:?}"),
    }
}

fn only_field(source: &str) -> FieldDecl {
    let file = parse_ok(&format!("model m {{\n  {source}\n}}\n"));
    let fields: Vec<&FieldDecl> = model(&file, 0).fields().collect();
    assert_eq!(fields.len(), 1);
    fields[0].clone()
}

fn type_parts(ty: &TypeExpr) -> (String, usize, bool, bool) {
    match ty {
        TypeExpr::Named {
            name,
            args,
            list,
            optional,
            ..
        } => (name.name.clone(), args.len(), *list, *optional),
        TypeExpr::Relation { .. } => panic!("expected a named type"),
    }
}

#[test]
fn settings_block() {
    let file = parse_ok("settings {\n  naming = snake_case // columns\n}\n");
    let Item::Settings(settings) = &file.items[0] else {
        panic!()
    };
    assert_eq!(settings.entries.len(), 1);
    assert_eq!(settings.entries[0].key.name, "naming");
    assert!(matches!(&settings.entries[0].value, Value::Ident(i) if i.name == "snake_case"));
    assert_eq!(
        settings.entries[0].trivia.trailing.as_deref(),
        Some("columns")
    );
}

#[test]
fn enum_on_one_line_and_on_several_with_docs_and_map() {
    let file = parse_ok("enum Severity { low medium high }\n\n/// Who may see it.\nenum Visibility {\n  @@map(\"visibility_t\")\n  public\n  /// Only users granted access.\n  private\n}\n");
    let Item::Enum(one) = &file.items[0] else {
        panic!()
    };
    assert!(one.single_line);
    assert_eq!(
        one.values
            .iter()
            .map(|v| v.name.name.as_str())
            .collect::<Vec<_>>(),
        ["low", "medium", "high"]
    );
    let Item::Enum(several) = &file.items[1] else {
        panic!()
    };
    assert!(!several.single_line);
    assert_eq!(several.trivia.doc, ["Who may see it."]);
    assert_eq!(several.attributes[0].name.name, "map");
    assert_eq!(several.values[1].trivia.doc, ["Only users granted access."]);
}

#[test]
fn model_with_doc_attributes_and_fields() {
    let file = parse_ok(
        "/// Virtual tour projects.\nmodel projects {\n  @@map(\"Projects\")\n  name  text\n}\n",
    );
    let m = model(&file, 0);
    assert_eq!(m.name.name, "projects");
    assert_eq!(m.trivia.doc, ["Virtual tour projects."]);
    assert_eq!(
        m.attributes()
            .map(|a| a.name.name.as_str())
            .collect::<Vec<_>>(),
        ["map"]
    );
    assert_eq!(
        m.fields().map(|f| f.name.name.as_str()).collect::<Vec<_>>(),
        ["name"]
    );
}

#[test]
fn scalar_types_with_arguments_lists_and_optional() {
    assert_eq!(
        type_parts(&only_field("name text").ty),
        ("text".into(), 0, false, false)
    );
    assert_eq!(
        type_parts(&only_field("code varchar(255)").ty),
        ("varchar".into(), 1, false, false)
    );
    assert_eq!(
        type_parts(&only_field("total decimal(10, 2)?").ty),
        ("decimal".into(), 2, false, true)
    );
    assert_eq!(
        type_parts(&only_field("tags text[]").ty),
        ("text".into(), 0, true, false)
    );
    assert_eq!(
        type_parts(&only_field("roles varchar(64)[]?").ty),
        ("varchar".into(), 1, true, true)
    );
    assert_eq!(
        type_parts(&only_field("env Environment").ty),
        ("Environment".into(), 0, false, false)
    );
}

type ValueCheck = fn(&Value) -> bool;

#[test]
fn defaults_of_every_kind() {
    let cases: &[(&str, ValueCheck)] = &[
        (
            "n int = 0",
            |v| matches!(v, Value::Number(n, _) if n == "0"),
        ),
        (
            "n int = -1",
            |v| matches!(v, Value::Number(n, _) if n == "-1"),
        ),
        (
            "v decimal = 0.5",
            |v| matches!(v, Value::Number(n, _) if n == "0.5"),
        ),
        (
            "s text = \"a\\\"b\"",
            |v| matches!(v, Value::String(s, _) if s == "a\"b"),
        ),
        ("b bool = false", |v| matches!(v, Value::Bool(false, _))),
        (
            "e Environment = dev",
            |v| matches!(v, Value::Ident(i) if i.name == "dev"),
        ),
        (
            "t timestamptz = now()",
            |v| matches!(v, Value::Call { name, args, .. } if name.name == "now" && args.is_empty()),
        ),
        (
            "u uuid = uuid()",
            |v| matches!(v, Value::Call { name, .. } if name.name == "uuid"),
        ),
        (
            "r text[] = []",
            |v| matches!(v, Value::List(items, _) if items.is_empty()),
        ),
        (
            "p jsonb = {}",
            |v| matches!(v, Value::Object(entries, _) if entries.is_empty()),
        ),
        ("n text? = null", |v| matches!(v, Value::Null(_))),
        (
            "p jsonb = { \"timezone\": \"UTC\", \"skills\": [] }",
            |v| matches!(v, Value::Object(e, _) if e.len() == 2 && e[0].0 == "timezone" && matches!(e[1].2, Value::List(..))),
        ),
    ];
    for (source, expected) in cases {
        let field = only_field(source);
        let default = field.default.as_ref().expect(source);
        assert!(expected(default), "{source}: {default:?}");
    }
}

#[test]
fn field_attributes_with_positional_and_named_arguments() {
    let field = only_field(
        "name text @trim @len(1, 255, \"Name must be between 1 and 255 characters\") @unique",
    );
    let names: Vec<&str> = field
        .attributes
        .iter()
        .map(|a| a.name.name.as_str())
        .collect();
    assert_eq!(names, ["trim", "len", "unique"]);
    assert!(!field.attributes[0].parens);
    let len: Vec<&Value> = field.attributes[1].positional().collect();
    assert_eq!(len.len(), 3);
    let poly = only_field(
        "owner -> users | projects? @polymorphic(type: \"belongsTo\", id: \"belongsToId\")",
    );
    let attribute = &poly.attributes[0];
    assert!(
        matches!(&attribute.named("type").expect("type:").value, Value::String(s, _) if s == "belongsTo")
    );
    assert!(attribute.named("role").is_none());
}

#[test]
fn to_one_relation() {
    let field = only_field("project -> projects? @on_delete(cascade)");
    let TypeExpr::Relation {
        targets, optional, ..
    } = &field.ty
    else {
        panic!()
    };
    assert_eq!(
        targets.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
        ["projects"]
    );
    assert!(*optional);
    assert_eq!(field.attributes[0].name.name, "on_delete");
}

#[test]
fn polymorphic_relation() {
    let field = only_field("owner -> users | projects ?");
    let TypeExpr::Relation {
        targets, optional, ..
    } = &field.ty
    else {
        panic!()
    };
    assert_eq!(targets.len(), 2);
    assert!(*optional);
}

#[test]
fn to_many_and_many_to_many() {
    let file = parse_ok("model roles {\n  users  users[]  @relation(role)\n  permissions  permissions[]  @join_table(\"rp\")\n  tenants  Tenants[]  @through(TenantUsers, from: role, to: tenant)\n}\n");
    let fields: Vec<&FieldDecl> = model(&file, 0).fields().collect();
    assert_eq!(type_parts(&fields[0].ty), ("users".into(), 0, true, false));
    assert_eq!(fields[1].attributes[0].name.name, "join_table");
    let through = &fields[2].attributes[0];
    assert!(through.named("from").is_some() && through.named("to").is_some());
}

#[test]
fn model_attributes_keys_unique_and_indexes() {
    let file = parse_ok("model m {\n  @@id([event, user])\n  @@unique([project, environment], where: not_deleted)\n  @@index([accessed_at(desc)], name: \"m_idx\")\n  @@soft_delete\n}\n");
    let attributes: Vec<&Attribute> = model(&file, 0).attributes().collect();
    assert_eq!(attributes.len(), 4);
    let Some(Value::List(items, _)) = attributes[0].positional().next() else {
        panic!()
    };
    assert_eq!(items.len(), 2);
    assert!(
        matches!(&attributes[1].named("where").expect("where").value, Value::Ident(i) if i.name == "not_deleted")
    );
    let Some(Value::List(items, _)) = attributes[2].positional().next() else {
        panic!()
    };
    assert!(
        matches!(&items[0], Value::Call { name, args, .. } if name.name == "accessed_at" && matches!(&args[0], Value::Ident(i) if i.name == "desc"))
    );
    assert!(!attributes[3].parens);
}

#[test]
fn virtual_fields() {
    let field = only_field("full text @virtual(concat(firstName, \" \", lastName))");
    let Some(Value::Call { name, args, .. }) = field.attributes[0].positional().next() else {
        panic!()
    };
    assert_eq!(name.name, "concat");
    assert_eq!(args.len(), 3);
}

#[test]
fn comments_are_trivia() {
    let file = parse_ok("// header\n\n/// doc\nmodel m {\n  // above\n  a text // trailing\n  // before close\n}\n// end\n");
    let m = model(&file, 0);
    assert_eq!(m.trivia.comments, ["header"]);
    assert_eq!(m.trivia.doc, ["doc"]);
    let field = m.fields().next().expect("field");
    assert_eq!(field.trivia.comments, ["above"]);
    assert_eq!(field.trivia.trailing.as_deref(), Some("trailing"));
    assert_eq!(m.closing.comments, ["before close"]);
    assert_eq!(file.trailing_comments.comments, ["end"]);
}

#[test]
fn keywords_are_valid_field_names() {
    let file = parse_ok("model m {\n  model  text\n  enum   text\n  settings  jsonb\n}\n");
    let names: Vec<&str> = model(&file, 0)
        .fields()
        .map(|f| f.name.name.as_str())
        .collect();
    assert_eq!(names, ["model", "enum", "settings"]);
}

#[test]
fn values_may_span_lines_in_brackets() {
    let field = only_field("p jsonb = {\n    \"a\": 1,\n    \"b\": [1, 2],\n  }");
    assert!(matches!(field.default, Some(Value::Object(ref e, _)) if e.len() == 2));
}

#[test]
fn spans_point_into_the_source() {
    let source = "model users {\n  email  text\n}\n";
    let file = parse_ok(source);
    let field = model(&file, 0).fields().next().expect("field").clone();
    assert_eq!(&source[field.name.span.start..field.name.span.end], "email");
    assert_eq!(&source[field.ty.span().start..field.ty.span().end], "text");
}

#[test]
fn a_bad_line_does_not_hide_the_next_ones() {
    let (file, diagnostics) =
        tessera_schema::parse("model m {\n  a\n  b text\n  c = 1\n  d int\n}\n");
    assert_eq!(diagnostics.len(), 2);
    let names: Vec<&str> = model(&file, 0)
        .fields()
        .map(|f| f.name.name.as_str())
        .collect();
    assert_eq!(names, ["b", "d"]);
}

#[test]
fn comparisons_are_attribute_arguments() {
    let source = "password text @default_if(provider != \"local\", random_secret())";
    let field = only_field(source);
    let args = &field.attributes[0].args;
    let Value::Compare {
        left, op, right, ..
    } = &args[0].value
    else {
        panic!("expected a comparison, found {:?}", args[0].value)
    };
    assert!(matches!(left.as_ref(), Value::Ident(i) if i.name == "provider"));
    assert_eq!(*op, CompareOp::NotEqual);
    assert!(matches!(right.as_ref(), Value::String(s, _) if s == "local"));
    assert!(
        matches!(&args[1].value, Value::Call { name, args, .. } if name.name == "random_secret" && args.is_empty())
    );
}

#[test]
fn a_comparison_spans_both_sides() {
    let source = "model posts {\n  @@allow(all, createdBy == auth)\n}\n";
    let file = parse_ok(source);
    let attribute = model(&file, 0).attributes().next().expect("attribute");
    let value = &attribute.args[1].value;
    assert!(matches!(
        value,
        Value::Compare {
            op: CompareOp::Equal,
            ..
        }
    ));
    let span = value.span();
    assert_eq!(&source[span.start..span.end], "createdBy == auth");
}

#[test]
fn an_exclamation_mark_between_two_values_is_a_syntax_error() {
    let (_, diagnostics) =
        tessera_schema::parse("model m {\n  a text @default_if(b ! \"x\", \"y\")\n}\n");
    let codes: Vec<&str> = diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(codes, ["E0010"]);
}

#[test]
fn a_comparison_is_not_a_default() {
    let (_, diagnostics) = tessera_schema::parse("model m {\n  a text = b == \"x\"\n}\n");
    let codes: Vec<&str> = diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(codes, ["E0010"]);
    assert!(
        diagnostics[0].message.contains("`==`"),
        "{:?}",
        diagnostics[0]
    );
}

#[test]
fn a_dotted_name_is_a_path_of_names() {
    let source = "model posts {\n  @@allow(delete, auth.role == \"admin\")\n}\n";
    let file = parse_ok(source);
    let attribute = model(&file, 0).attributes().next().expect("attribute");
    let Value::Compare { left, .. } = &attribute.args[1].value else {
        panic!("expected a comparison, found {:?}", attribute.args[1].value)
    };
    let Value::Path(segments, span) = left.as_ref() else {
        panic!("expected a path, found {left:?}")
    };
    let names: Vec<&str> = segments.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["auth", "role"]);
    assert_eq!(&source[span.start..span.end], "auth.role");
    assert_eq!(
        &source[segments[1].span.start..segments[1].span.end],
        "role"
    );
}

#[test]
fn a_dot_must_be_followed_by_a_name() {
    let (_, diagnostics) = tessera_schema::parse("model m {\n  @@allow(read, auth.)\n}\n");
    let codes: Vec<&str> = diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(codes, ["E0010"]);
    assert!(
        diagnostics[0].message.contains("a name after `.`"),
        "{:?}",
        diagnostics[0]
    );
}
