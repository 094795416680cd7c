//! Reads through PostgREST's grammar, on SQLite and PostgreSQL.

mod common;

use common::*;
use serde_json::json;
use tessera_runtime::ErrorKind;
use tessera_testkit::{engine_tests, Database};

fn names(rows: &[serde_json::Value], key: &str) -> Vec<String> {
    rows.iter()
        .map(|r| r[key].as_str().unwrap_or_default().to_owned())
        .collect()
}

engine_tests! {
    /// Enum values compare in declaration order, as PostgreSQL's enums do, for filters and
    /// ordering alike and on both engines.
    async fn enum_comparisons_follow_declaration_order(db: Database) {
        let schema = checked("levels.tsr", "enum Level { low medium high }\n\nmodel alerts {\n  name   text\n  level  Level\n}\n");
        let engine = engine_with(&db, schema).await;
        let body = json!([{"name": "a", "level": "high"}, {"name": "b", "level": "low"}, {"name": "c", "level": "medium"}]);
        insert(&engine, "alerts", body).await;
        let q = |query: &'static str| {
            let engine = engine.clone();
            async move { names(&get(&engine, "alerts", query).await, "name") }
        };
        assert_eq!(q("select=name&order=level").await, ["b", "c", "a"]);
        assert_eq!(q("select=name&level=gt.low&order=level").await, ["c", "a"]);
        assert_eq!(q("select=name&level=lte.medium&order=level").await, ["b", "c"]);
        assert_eq!(q("select=name&level=gte.high").await, ["a"]);
        assert_eq!(q("select=name&level=lt.low").await, Vec::<String>::new());
    }

    /// Values come back in one JSON form on both engines; secrets never come back.
    async fn values_have_one_json_form(db: Database) {
        let engine = engine(&db).await;
        seed(&engine).await;
        let rows = get(&engine, "users", "email=eq.ann@example.com").await;
        let ann = &rows[0];
        assert_eq!(ann["age"], json!(30));
        assert_eq!(ann["tags"], json!(["a", "b"]));
        assert_eq!(ann["profile"], json!({"timezone": "CET", "skills": ["rust"]}));
        assert_eq!(ann["status"], json!("active"));
        assert_eq!(ann["is_person"], json!(true));
        assert!(ann.get("password").is_none());
        let id = ann["id"].as_str().expect("uuid");
        assert_eq!(id, id.to_lowercase());
        let created = ann["createdAt"].as_str().expect("timestamp");
        assert_eq!(created.len(), "2024-01-01T00:00:00.000Z".len(), "{created}");
        assert!(created.ends_with('Z'));
    }

    /// Each filter operator selects the rows it names.
    async fn filter_operators(db: Database) {
        let engine = engine(&db).await;
        seed(&engine).await;
        let q = |query: &'static str| {
            let engine = engine.clone();
            async move { names(&get(&engine, "users", &format!("select=name&{query}")).await, "name") }
        };
        assert_eq!(q("age=eq.30").await, ["Ann"]);
        assert_eq!(q("age=neq.30").await, ["Bob"]);
        assert_eq!(q("age=gt.20").await, ["Ann"]);
        assert_eq!(q("age=gte.20&order=name").await, ["Ann", "Bob"]);
        assert_eq!(q("age=lt.30").await, ["Bob"]);
        assert_eq!(q("age=lte.30&order=age.desc").await, ["Ann", "Bob"]);
        assert_eq!(q("name=like.A*").await, ["Ann"]);
        assert!(q("name=like.a*").await.is_empty(), "like is case-sensitive");
        assert_eq!(q("name=ilike.a*").await, ["Ann"]);
        assert_eq!(q("name=in.(Bob,Zed)").await, ["Bob"]);
        assert_eq!(q("status=eq.archived").await, ["Bob"]);
        assert_eq!(q("status=in.(active)").await, ["Ann"]);
        assert_eq!(q("age=is.null").await, Vec::<String>::new());
        assert_eq!(q("age=not.is.null&order=name").await, ["Ann", "Bob"]);
        assert_eq!(q("tags=cs.{a}").await, ["Ann"]);
        assert_eq!(q("tags=cd.{a,b,c}&order=name").await, ["Ann", "Bob"]);
        assert_eq!(q("profile=cs.{\"skills\":[\"rust\"]}").await, ["Ann"]);
        assert_eq!(q("profile=cs.{\"timezone\":\"UTC\"}").await, ["Bob"]);
        assert_eq!(q("profile=cd.{\"timezone\":\"UTC\",\"skills\":[],\"x\":1}").await, ["Bob"]);
        assert_eq!(q("name=not.eq.Ann").await, ["Bob"]);
        assert_eq!(q("or=(age.gt.25,name.eq.Bob)&order=name").await, ["Ann", "Bob"]);
        assert_eq!(q("or=(age.gt.25,and(name.eq.Bob,age.lt.10))").await, ["Ann"]);
        assert_eq!(q("not.or=(age.gt.25,name.eq.Zed)").await, ["Bob"]);
        assert_eq!(q("and=(age.gte.20,or(name.eq.Bob,name.eq.Ann))&order=name.desc").await, ["Bob", "Ann"]);
    }

    /// Ordering, limit, offset and exact counts.
    async fn pagination_and_counts(db: Database) {
        let engine = engine(&db).await;
        seed(&engine).await;
        let req = parse("pages", "select=title&order=sort.desc,title&limit=2&offset=1&count=exact").expect("parses");
        let result = engine.read(&ctx(), &req).await.expect("reads");
        assert_eq!(names(&result.rows, "title"), ["about", "home"]);
        assert_eq!(result.total, Some(4));
        let rows = get(&engine, "pages", "select=title&order=parentId.nullsfirst,title&limit=2").await;
        assert_eq!(names(&rows, "title"), ["about", "home"]);
    }

    /// To-one, to-many and nested embeds, by relation and by model name.
    async fn embeds_to_one_and_to_many_nested(db: Database) {
        let engine = engine(&db).await;
        seed(&engine).await;
        let rows = get(&engine, "users", "select=name,projects(name,pages(title,children(title)))&order=name&projects.pages.order=sort").await;
        assert_eq!(rows[0]["projects"][0]["name"], json!("Alpha"));
        let pages = &rows[0]["projects"][0]["pages"];
        assert_eq!(names(pages.as_array().expect("array"), "title"), ["home", "about", "team"]);
        assert_eq!(pages[1]["children"], json!([{"title": "team"}]));
        let rows = get(&engine, "pages", "select=title,project(name,owner:users(name))&title=eq.intro").await;
        assert_eq!(rows, vec![json!({"title": "intro", "project": {"name": "Beta", "owner": {"name": "Bob"}}})]);
    }

    /// Filters, order and limit apply inside an embed; !inner filters the parents.
    async fn embed_filters_and_inner(db: Database) {
        let engine = engine(&db).await;
        seed(&engine).await;
        let rows = get(&engine, "projects", "select=name,pages(title)&pages.sort=gte.2&pages.order=sort.desc&pages.limit=1&order=name").await;
        assert_eq!(rows[0]["pages"], json!([{"title": "team"}]));
        assert_eq!(rows[1]["pages"], json!([]));
        let rows = get(&engine, "projects", "select=name,pages!inner(title)&pages.title=eq.intro").await;
        assert_eq!(rows, vec![json!({"name": "Beta", "pages": [{"title": "intro"}]})]);
        let req = parse("projects", "select=name,pages!inner(title)&pages.title=eq.intro&count=exact").expect("parses");
        assert_eq!(engine.read(&ctx(), &req).await.expect("reads").total, Some(1));
    }

    /// Several relations to the same model are told apart by relation name or hint.
    async fn disambiguated_embeds(db: Database) {
        let engine = engine(&db).await;
        let ids = seed(&engine).await;
        let rows = get(&engine, "links", "select=label,cam:devices!cameraId(name),client:devices!client(name)").await;
        assert_eq!(rows, vec![json!({"label": "main", "cam": {"name": "cam"}, "client": {"name": "phone"}})]);
        let rows = get(&engine, "devices", &format!("select=name,camera_links(label),client_links(label)&id=eq.{}", ids["cam"].as_str().expect("id"))).await;
        assert_eq!(rows[0]["camera_links"], json!([{"label": "main"}]));
        assert_eq!(rows[0]["client_links"], json!([]));
        let err = read(&engine, "links", "select=devices(name)").await.expect_err("ambiguous");
        assert_eq!(err.code, "PGRST201");
        assert_eq!(err.kind, ErrorKind::BadRequest);
    }

    /// Many-to-many through the join table, and the polymorphic inverse with a role.
    async fn many_to_many_and_polymorphic(db: Database) {
        let engine = engine(&db).await;
        let ids = seed(&engine).await;
        let roles = insert(&engine, "roles", json!([{"name": "admin"}, {"name": "guest"}])).await;
        let perms = insert(&engine, "permissions", json!([{"name": "READ"}, {"name": "WRITE"}])).await;
        insert(&engine, "rolesPermissions", json!([
            {"roleId": roles[0]["id"], "permissionId": perms[0]["id"]},
            {"roleId": roles[0]["id"], "permissionId": perms[1]["id"]},
        ])).await;
        let rows = get(&engine, "roles", "select=name,permissions(name)&order=name&permissions.order=name.desc").await;
        assert_eq!(rows, vec![
            json!({"name": "admin", "permissions": [{"name": "WRITE"}, {"name": "READ"}]}),
            json!({"name": "guest", "permissions": []}),
        ]);
        let rows = get(&engine, "permissions", "select=name,roles(name)&name=eq.READ").await;
        assert_eq!(rows[0]["roles"], json!([{"name": "admin"}]));
        insert(&engine, "file", json!([
            {"name": "a.png", "belongsTo": "users", "belongsToId": ids["ann"], "belongsToColumn": "avatar"},
            {"name": "cv.pdf", "belongsTo": "users", "belongsToId": ids["ann"], "belongsToColumn": "docs"},
        ])).await;
        let rows = get(&engine, "users", "select=name,avatar(name)&name=eq.Ann").await;
        assert_eq!(rows[0]["avatar"], json!([{"name": "a.png"}]));
    }

    /// Unknown names are NotFound; malformed parameters are BadRequest naming the place.
    async fn read_errors(db: Database) {
        let engine = engine(&db).await;
        let err = read(&engine, "nope", "").await.expect_err("unknown model");
        assert_eq!(err.kind, ErrorKind::NotFound);
        let err = read(&engine, "users", "select=nope").await.expect_err("unknown column");
        assert_eq!((err.kind, err.code.as_str()), (ErrorKind::NotFound, "42703"));
        assert!(err.message.contains("nope"));
        let err = read(&engine, "users", "nope=eq.1").await.expect_err("unknown filter column");
        assert_eq!(err.kind, ErrorKind::NotFound);
        let err = read(&engine, "users", "select=name,projects(name").await.expect_err("syntax");
        assert_eq!((err.kind, err.code.as_str()), (ErrorKind::BadRequest, "PGRST100"));
        assert!(err.details.unwrap_or_default().contains("position"));
        let err = read(&engine, "users", "age=between.1").await.expect_err("operator");
        assert!(err.details.unwrap_or_default().contains("between"));
        let err = read(&engine, "users", "password=eq.x").await.expect_err("secret");
        assert_eq!(err.kind, ErrorKind::BadRequest);
        let err = read(&engine, "users", "order=password").await.expect_err("secret order");
        assert_eq!(err.kind, ErrorKind::BadRequest);
        let err = read(&engine, "users", "select=password").await.expect_err("secret select");
        assert_eq!(err.kind, ErrorKind::BadRequest);
        let err = read(&engine, "users", "age=eq.abc").await.expect_err("bad value");
        assert_eq!((err.kind, err.code.as_str()), (ErrorKind::BadRequest, "22P02"));
        let err = read(&engine, "users", "projects.name=eq.x").await.expect_err("not embedded");
        assert_eq!(err.code, "PGRST108");
        let err = read(&engine, "users", "select=*,nothing(*)").await.expect_err("no relation");
        assert_eq!((err.kind, err.code.as_str()), (ErrorKind::NotFound, "PGRST200"));
        let err = read(&engine, "users", "limit=-1").await.expect_err("limit");
        assert_eq!(err.kind, ErrorKind::BadRequest);
    }

    /// A join table whose two sides are both declared is one relationship: each side embeds
    /// the other by its relation name and by the other model's name.
    async fn both_declared_sides_of_a_join_table_embed_by_model_name(db: Database) {
        let schema = checked("tags.tsr", r#"
model posts {
  title   text
  labels  tags[]  @join_table("postTags")
}

model tags {
  name      text
  articles  posts[]  @join_table("postTags")
}
"#);
        let engine = engine_with(&db, schema).await;
        let posts = insert(&engine, "posts", json!([{"title": "Hello"}])).await;
        let tags = insert(&engine, "tags", json!([{"name": "news"}])).await;
        insert(&engine, "postTags", json!([{"postId": posts[0]["id"], "tagId": tags[0]["id"]}])).await;
        assert_eq!(get(&engine, "posts", "select=title,tags(name)").await, vec![json!({"title": "Hello", "tags": [{"name": "news"}]})]);
        assert_eq!(get(&engine, "tags", "select=name,posts(title)").await, vec![json!({"name": "news", "posts": [{"title": "Hello"}]})]);
        assert_eq!(get(&engine, "tags", "select=name,articles(title)").await, vec![json!({"name": "news", "articles": [{"title": "Hello"}]})]);
    }
}
