//! The SQL each engine receives for representative requests: filters, embeds with
//! limits, counts, access rules and writes. Each snapshot lists the statements of one
//! request in order, with their bound values and the rows they read or changed, so a
//! change to planning or rendering shows up here as a reviewable diff.

mod common;

use common::statements::{captured, Statement};
use common::{checked, engine_with, insert_as, pairs};
use serde_json::{json, Value};
use tessera_runtime::{
    parse_read, parse_write_query, Caller, DeleteRequest, Engine, InsertRequest, Resolution,
    RestoreRequest, Returning, RuntimeError, UpdateRequest,
};
use tessera_testkit::{engine_tests, Database};

const SCHEMA: &str = r#"
model users {
  @@auth(email: email, password: password)
  @@allow(read, authenticated)
  email     text  @unique
  password  text  @hash
  team      text?
}

/// Everyone reads; each user changes only what they wrote.
model projects {
  @@soft_delete
  @@actors(users)
  @@allow(read, public)
  @@allow([create, update, delete], createdBy == auth)
  name    text  @unique
  rank    int   = 0
  pages   pages[]
}

/// Private to the team of their author.
model pages {
  @@allow(all, team == auth.team)
  title    text
  sort     int   = 0
  team     text?
  project  -> projects  @on_delete(cascade)
  notes    notes[]
}

/// Read by the author of the page's project, and by the page's team unless it is hidden.
model notes {
  @@allow(read, page.project.createdBy == auth || page.team == auth.team && !hidden)
  body    text
  hidden  bool  = false
  page    -> pages  @on_delete(cascade)
}
"#;

/// Ann wrote two projects with three pages each; answers Ann as a caller.
async fn world(db: &Database) -> (Engine, Caller) {
    let engine = engine_with(db, checked("statements.tsr", SCHEMA)).await;
    let service = Caller::service();
    let ann = insert_as(
        &engine,
        &service,
        "users",
        json!({"email": "ann@example.com", "password": "ann-password", "team": "red"}),
    )
    .await
    .expect("Ann");
    let ann = Caller::user(ann[0]["id"].as_str().expect("id"));
    let projects = insert_as(
        &engine,
        &ann,
        "projects",
        json!([{"name": "Alpha", "rank": 2}, {"name": "Beta", "rank": 1}]),
    )
    .await
    .expect("projects");
    for project in &projects {
        let pages: Vec<Value> = (1..=3)
            .map(|n| json!({"title": format!("page {n}"), "sort": n, "team": "red", "projectId": project["id"]}))
            .collect();
        insert_as(&engine, &service, "pages", Value::Array(pages))
            .await
            .expect("pages");
    }
    (engine, ann)
}

async fn read(
    engine: &Engine,
    caller: &Caller,
    model: &str,
    query: &str,
) -> (Result<Vec<Value>, RuntimeError>, Vec<Statement>) {
    let request = parse_read(model, &pairs(query)).expect("a valid query");
    captured(async { engine.read(caller, &request).await.map(|r| r.rows) }).await
}

fn filter(query: &str) -> Vec<tessera_runtime::Condition> {
    parse_write_query(&pairs(query))
        .expect("a valid filter")
        .filter
}

/// The snapshot of one request's statements on `db`'s engine, with generated keys and
/// instants replaced by placeholders.
fn snapshot(name: &str, db: &Database, statements: &[Statement]) {
    insta::with_settings!({
        snapshot_suffix => db.engine().name(),
        filters => vec![
            (r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "[uuid]"),
            (r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?(Z|\+00(:00)?)?", "[instant]"),
            (r"\b1\d{12}\b", "[epoch-ms]"),
        ],
    }, {
        insta::assert_yaml_snapshot!(name, statements);
    });
}

engine_tests! {
    /// Filters, `or`, ordering and pagination become one query with bound values.
    async fn a_filtered_sorted_page_is_one_query(db: Database) {
        let (engine, ann) = world(&db).await;
        let query = "select=name,rank&name=like.*a&or=(rank.gt.1,rank.is.null)&order=rank.desc,name&limit=10&offset=0";
        let (rows, statements) = read(&engine, &ann, "projects", query).await;
        assert_eq!(rows.expect("read"), [json!({"name": "Alpha", "rank": 2}), json!({"name": "Beta", "rank": 1})][..1]);
        snapshot("a_filtered_sorted_page_is_one_query", &db, &statements);
    }

    /// An embed's limit is applied per parent in the database: with `pages.limit=2` the
    /// query of pages reads two rows for each of the two projects, not all six.
    async fn an_embed_limit_reads_at_most_that_many_children_per_parent(db: Database) {
        let (engine, ann) = world(&db).await;
        let query = "select=name,pages(title)&pages.order=sort.desc&pages.limit=2&order=name";
        let (rows, statements) = read(&engine, &ann, "projects", query).await;
        let rows = rows.expect("read");
        assert_eq!(rows[0]["pages"], json!([{"title": "page 3"}, {"title": "page 2"}]));
        assert_eq!(rows[1]["pages"], json!([{"title": "page 3"}, {"title": "page 2"}]));
        let children = statements.iter().find(|s| s.sql.contains("\"pages\"")).expect("the query of pages");
        assert_eq!(children.rows, 4, "{children:?}");
        snapshot("an_embed_limit_reads_at_most_that_many_children_per_parent", &db, &statements);
    }

    /// An inner embed filters its parents; the exact count sees the same rows.
    async fn an_inner_embed_with_a_count_filters_parents_in_sql(db: Database) {
        let (engine, ann) = world(&db).await;
        let mut request = parse_read("projects", &pairs("select=name,pages!inner(title)&pages.title=eq.page 1&name=eq.Beta")).expect("query");
        request.count = true;
        let (result, statements) = captured(engine.read(&ann, &request)).await;
        let result = result.expect("read");
        assert_eq!(result.rows, [json!({"name": "Beta", "pages": [{"title": "page 1"}]})]);
        assert_eq!(result.total, Some(1));
        snapshot("an_inner_embed_with_a_count_filters_parents_in_sql", &db, &statements);
    }

    /// A rule comparing the caller's account is folded into the query: the account value
    /// is read once, then bound like any other value.
    async fn a_rule_over_the_callers_account_is_part_of_the_query(db: Database) {
        let (engine, ann) = world(&db).await;
        let (rows, statements) = read(&engine, &ann, "pages", "select=title&sort=eq.1").await;
        assert_eq!(rows.expect("read").len(), 2);
        snapshot("a_rule_over_the_callers_account_is_part_of_the_query", &db, &statements);
    }

    /// A rule over related rows is an `EXISTS` of the query itself, never a query per row.
    async fn a_rule_over_related_rows_is_part_of_the_query(db: Database) {
        let (engine, ann) = world(&db).await;
        let (rows, statements) = read(&engine, &ann, "notes", "select=body").await;
        assert!(rows.expect("read").is_empty());
        snapshot("a_rule_over_related_rows_is_part_of_the_query", &db, &statements);
    }

    /// A bulk insert is one statement that returns the written rows.
    async fn a_bulk_insert_is_one_statement(db: Database) {
        let (engine, ann) = world(&db).await;
        let request = InsertRequest {
            model: "projects".into(),
            body: json!([{"name": "Gamma"}, {"name": "Delta", "rank": 5}]),
            ..InsertRequest::default()
        };
        let (rows, statements) = captured(engine.insert(&ann, &request)).await;
        assert_eq!(rows.expect("insert").len(), 2);
        snapshot("a_bulk_insert_is_one_statement", &db, &statements);
    }

    /// An upsert that merges duplicates is one statement over all its rows.
    async fn an_upsert_is_one_statement_for_all_rows(db: Database) {
        let (engine, _) = world(&db).await;
        let request = InsertRequest {
            model: "projects".into(),
            body: json!([{"name": "Alpha", "rank": 7}, {"name": "Omega", "rank": 8}]),
            resolution: Some(Resolution::MergeDuplicates),
            on_conflict: Some(vec!["name".into()]),
            ..InsertRequest::default()
        };
        let (rows, statements) = captured(engine.insert(&Caller::service(), &request)).await;
        assert_eq!(rows.expect("upsert").len(), 2);
        snapshot("an_upsert_is_one_statement_for_all_rows", &db, &statements);
    }

    /// An update with `return=minimal` reads nothing back.
    async fn an_update_returning_nothing_reads_nothing_back(db: Database) {
        let (engine, ann) = world(&db).await;
        let request = UpdateRequest {
            model: "projects".into(),
            filter: filter("name=eq.Beta"),
            body: json!({"rank": 3}),
            returning: Returning::Nothing,
            ..UpdateRequest::default()
        };
        let (rows, statements) = captured(engine.update(&ann, &request)).await;
        assert_eq!(rows.expect("update"), Vec::<Value>::new());
        // The rows are checked against the caller's grant before the update; nothing is
        // read after it.
        let reads_back = |s: &Statement| s.sql.starts_with("SELECT") && s.sql.contains("FROM \"projects\"");
        let update = statements.iter().position(|s| s.sql.starts_with("UPDATE")).expect("the update");
        assert!(!statements[update..].iter().any(reads_back), "{statements:#?}");
        snapshot("an_update_returning_nothing_reads_nothing_back", &db, &statements);
    }

    /// A soft delete marks the row and what its relations cascade to; a restore brings
    /// back that same group.
    async fn a_soft_delete_and_its_restore_touch_one_group(db: Database) {
        let (engine, ann) = world(&db).await;
        let delete = DeleteRequest {
            model: "projects".into(),
            filter: filter("name=eq.Alpha"),
            ..DeleteRequest::default()
        };
        let (rows, deleted) = captured(engine.delete(&ann, &delete)).await;
        assert_eq!(rows.expect("delete").len(), 1);
        let restore = RestoreRequest {
            model: "projects".into(),
            filter: filter("name=eq.Alpha"),
            ..RestoreRequest::default()
        };
        let (rows, restored) = captured(engine.restore(&ann, &restore)).await;
        assert_eq!(rows.expect("restore").len(), 1);
        snapshot("a_soft_delete_and_its_restore_touch_one_group", &db, &[deleted, restored].concat());
    }
}
