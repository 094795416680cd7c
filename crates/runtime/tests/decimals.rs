//! Decimals are exact: every digit a client sends is stored and returned, at the field's
//! scale, on both engines; filters and ordering compare them by value.

mod common;

use common::*;
use serde_json::{json, Value};
use tessera_runtime::{parse_write_query, ErrorKind, InsertRequest, Resolution, UpdateRequest};
use tessera_testkit::{engine_tests, Database, Pool};

const SCHEMA: &str = r#"
model ledger {
  code     text             @unique
  amount   decimal(30, 10)
  price    decimal(10, 2)?  @min(0)
  ratio    decimal?
  history  decimal(30, 10)[] = []
}
"#;

/// A JSON document read exactly (numbers keep their digits).
fn exact(text: &str) -> Value {
    serde_json::from_str(text).expect("JSON")
}

async fn ledger(db: &Database) -> tessera_runtime::Engine {
    engine_with(db, checked("ledger.tsr", SCHEMA)).await
}

/// The digits of a returned number, as the client reads them.
fn digits(row: &Value, field: &str) -> String {
    row[field].to_string()
}

fn codes(rows: &[Value]) -> Vec<&str> {
    rows.iter()
        .map(|r| r["code"].as_str().unwrap_or("?"))
        .collect()
}

/// The codes of the rows a filter selects, in code order.
async fn filtered(engine: &tessera_runtime::Engine, query: String) -> Vec<String> {
    let rows = get(engine, "ledger", &format!("{query}&order=code")).await;
    codes(&rows).into_iter().map(str::to_owned).collect()
}

fn update(filter: &str, body: Value) -> UpdateRequest {
    UpdateRequest {
        model: "ledger".into(),
        filter: parse_write_query(&pairs(filter)).expect("filter").filter,
        body,
        ..UpdateRequest::default()
    }
}

engine_tests! {
    /// Thirty significant digits survive an insert and a read, as numbers.
    async fn thirty_digit_decimals_round_trip_exactly(db: Database) {
        let engine = ledger(&db).await;
        let rows = insert(&engine, "ledger", exact(r#"[
            {"code": "big", "amount": 12345678901234567890.1234567890},
            {"code": "negative", "amount": -99999999999999999999.9999999999},
            {"code": "tiny", "amount": 0.0000000001},
            {"code": "text", "amount": "98765432109876543210.0123456789"}
        ]"#)).await;
        let returned: Vec<String> = rows.iter().map(|r| digits(r, "amount")).collect();
        let expected = [
            "12345678901234567890.1234567890",
            "-99999999999999999999.9999999999",
            "0.0000000001",
            "98765432109876543210.0123456789",
        ];
        assert_eq!(returned, expected);
        assert!(rows[0]["amount"].is_number());
        let read = get(&engine, "ledger", "order=code").await;
        let stored: Vec<(String, String)> = read.iter().map(|r| (r["code"].as_str().unwrap_or("?").to_owned(), digits(r, "amount"))).collect();
        assert_eq!(stored, [
            ("big".to_owned(), expected[0].to_owned()),
            ("negative".to_owned(), expected[1].to_owned()),
            ("text".to_owned(), expected[3].to_owned()),
            ("tiny".to_owned(), expected[2].to_owned()),
        ]);
    }

    /// Updates and upserts keep every digit too.
    async fn updates_and_upserts_keep_every_digit(db: Database) {
        let engine = ledger(&db).await;
        insert(&engine, "ledger", exact(r#"{"code": "a", "amount": 1}"#)).await;
        let rows = engine.update(&ctx(), &update("code=eq.a", exact(r#"{"amount": 11111111111111111111.1111111111}"#))).await.expect("update");
        assert_eq!(digits(&rows[0], "amount"), "11111111111111111111.1111111111");
        let upsert = InsertRequest {
            model: "ledger".into(),
            body: exact(r#"[{"code": "a", "amount": 22222222222222222222.2222222222}, {"code": "b", "amount": 3.3}]"#),
            resolution: Some(Resolution::MergeDuplicates),
            on_conflict: Some(vec!["code".into()]),
            ..InsertRequest::default()
        };
        engine.insert(&ctx(), &upsert).await.expect("upsert");
        let rows = get(&engine, "ledger", "order=code").await;
        assert_eq!(digits(&rows[0], "amount"), "22222222222222222222.2222222222");
        assert_eq!(digits(&rows[1], "amount"), "3.3000000000");
    }

    /// A `decimal(p, s)` answers with `s` decimal places, as PostgreSQL prints numeric;
    /// an unconstrained decimal keeps the scale it was given.
    async fn decimals_answer_at_their_scale(db: Database) {
        let engine = ledger(&db).await;
        let rows = insert(&engine, "ledger", exact(r#"[
            {"code": "a", "amount": 0, "price": 1.5, "ratio": 1.50},
            {"code": "b", "amount": 0, "price": 10, "ratio": 7},
            {"code": "c", "amount": 0, "price": "2.50", "ratio": "0.000"}
        ]"#)).await;
        let prices: Vec<String> = rows.iter().map(|r| digits(r, "price")).collect();
        assert_eq!(prices, ["1.50", "10.00", "2.50"]);
        let rows = get(&engine, "ledger", "order=code").await;
        let read: Vec<(String, String, String)> = rows.iter().map(|r| (digits(r, "amount"), digits(r, "price"), digits(r, "ratio"))).collect();
        assert_eq!(read, [
            ("0.0000000000".to_owned(), "1.50".to_owned(), "1.50".to_owned()),
            ("0.0000000000".to_owned(), "10.00".to_owned(), "7".to_owned()),
            ("0.0000000000".to_owned(), "2.50".to_owned(), "0.000".to_owned()),
        ]);
    }

    /// Comparisons and ordering go by value, not by the text of the value: 10.5 is
    /// greater than 9.75, negatives come first.
    async fn filters_and_ordering_compare_decimals_by_value(db: Database) {
        let engine = ledger(&db).await;
        insert(&engine, "ledger", exact(r#"[
            {"code": "ten-and-a-half", "amount": 10.5, "ratio": 10.5},
            {"code": "nine", "amount": 9.75, "ratio": 9.75},
            {"code": "hundred", "amount": 100, "ratio": 100},
            {"code": "minus-three", "amount": -3.25, "ratio": -3.25},
            {"code": "minus-ten", "amount": -10, "ratio": -10},
            {"code": "zero", "amount": 0, "ratio": 0.00}
        ]"#)).await;
        for field in ["amount", "ratio"] {
            let ascending = get(&engine, "ledger", &format!("order={field}")).await;
            assert_eq!(codes(&ascending), ["minus-ten", "minus-three", "zero", "nine", "ten-and-a-half", "hundred"], "{field}");
            let descending = get(&engine, "ledger", &format!("order={field}.desc")).await;
            assert_eq!(codes(&descending), ["hundred", "ten-and-a-half", "nine", "zero", "minus-three", "minus-ten"], "{field}");
            let q = |query: String| filtered(&engine, query);
            assert_eq!(q(format!("{field}=gt.9.8")).await, ["hundred", "ten-and-a-half"], "{field}");
            assert_eq!(q(format!("{field}=gte.9.75")).await, ["hundred", "nine", "ten-and-a-half"], "{field}");
            assert_eq!(q(format!("{field}=lt.-3")).await, ["minus-ten", "minus-three"], "{field}");
            assert_eq!(q(format!("{field}=lte.0")).await, ["minus-ten", "minus-three", "zero"], "{field}");
            assert_eq!(q(format!("{field}=eq.10.50")).await, ["ten-and-a-half"], "{field}");
            assert_eq!(q(format!("{field}=eq.-0")).await, ["zero"], "{field}");
            assert_eq!(q(format!("{field}=in.(100,9.750,-10.0)")).await, ["hundred", "minus-ten", "nine"], "{field}");
            assert_eq!(q(format!("{field}=neq.0&{field}=gt.-4&{field}=lt.10")).await, ["minus-three", "nine"], "{field}");
        }
    }

    /// Values that differ only beyond the fifteenth significant digit are told apart.
    async fn comparisons_see_every_digit(db: Database) {
        let engine = ledger(&db).await;
        insert(&engine, "ledger", exact(r#"[
            {"code": "low", "amount": 12345678901234567890.1234567890},
            {"code": "high", "amount": 12345678901234567890.1234567891}
        ]"#)).await;
        let rows = get(&engine, "ledger", "amount=gt.12345678901234567890.123456789").await;
        assert_eq!(codes(&rows), ["high"]);
        let rows = get(&engine, "ledger", "amount=eq.12345678901234567890.123456789").await;
        assert_eq!(codes(&rows), ["low"]);
        let rows = get(&engine, "ledger", "order=amount.desc").await;
        assert_eq!(codes(&rows), ["high", "low"]);
    }

    /// A value with more digits than the field holds is a validation error naming the
    /// field and its limits; nothing is rounded away silently.
    async fn precision_and_scale_violations_are_validation_errors(db: Database) {
        let engine = ledger(&db).await;
        let error = try_insert(&engine, "ledger", exact(r#"{"code": "a", "amount": 123456789012345678901.5}"#)).await.expect_err("too many digits");
        assert_eq!(error.kind, ErrorKind::Validation);
        assert_eq!((error.errors[0].field.as_str(), error.errors[0].rule.as_str()), ("amount", "type"));
        assert_eq!(
            error.errors[0].message,
            "amount: 123456789012345678901.5000000000 is out of range for type decimal(30, 10): it has 21 digits before the decimal point, at most 20 fit"
        );
        let error = try_insert(&engine, "ledger", exact(r#"{"code": "a", "amount": 1, "price": 1.005}"#)).await.expect_err("too many decimal places");
        assert_eq!((error.errors[0].field.as_str(), error.errors[0].rule.as_str()), ("price", "type"));
        assert!(error.errors[0].message.contains("decimal(10, 2)") && error.errors[0].message.contains("at most 2"), "{}", error.errors[0].message);
        let error = try_insert(&engine, "ledger", json!({"code": "a", "amount": "lots"})).await.expect_err("not a number");
        assert_eq!(error.errors[0].message, "amount: \"lots\" is not a decimal number");
        let error = try_insert(&engine, "ledger", json!({"code": "a", "amount": 1, "price": -0.01})).await.expect_err("below min");
        assert_eq!((error.errors[0].field.as_str(), error.errors[0].rule.as_str()), ("price", "min"));
        let error = read(&engine, "ledger", "amount=gt.ten").await.expect_err("not a number");
        assert_eq!((error.kind, error.code.as_str()), (ErrorKind::BadRequest, "22P02"));
        assert!(get(&engine, "ledger", "").await.is_empty());
    }

    /// Arrays of decimals keep every digit at the element's scale.
    async fn decimal_arrays_keep_their_digits(db: Database) {
        let engine = ledger(&db).await;
        let rows = insert(&engine, "ledger", exact(r#"{"code": "a", "amount": 0, "history": [12345678901234567890.1234567890, -1.5, 7]}"#)).await;
        assert_eq!(rows[0]["history"].to_string(), "[12345678901234567890.1234567890,-1.5000000000,7.0000000000]");
        let rows = get(&engine, "ledger", "select=history").await;
        assert_eq!(rows[0]["history"].to_string(), "[12345678901234567890.1234567890,-1.5000000000,7.0000000000]");
    }

    /// The database's own CHECK bounds decimal columns too (SQLite compares their text
    /// as a float there), and SQLite keeps the canonical text itself.
    async fn the_database_stores_canonical_decimals_and_checks_their_range(db: Database) {
        let engine = ledger(&db).await;
        insert(&engine, "ledger", exact(r#"{"code": "a", "amount": 12345678901234567890.1234567890, "price": 1.5}"#)).await;
        match db.pool().await.expect("pool") {
            Pool::Sqlite(pool) => {
                let stored: (String, String, String) = sqlx::query_as("SELECT typeof(amount), amount, price FROM ledger").fetch_one(&pool).await.expect("row");
                assert_eq!(stored, ("text".to_owned(), "12345678901234567890.1234567890".to_owned(), "1.50".to_owned()));
                let refused = sqlx::query("UPDATE ledger SET price = '-1.00'").execute(&pool).await;
                assert!(refused.is_err(), "the CHECK refuses a negative price");
                sqlx::query("UPDATE ledger SET price = '100.00'").execute(&pool).await.expect("in range");
            }
            Pool::Postgres(pool) => {
                let stored: String = sqlx::query_scalar("SELECT amount::text FROM ledger").fetch_one(&pool).await.expect("row");
                assert_eq!(stored, "12345678901234567890.1234567890");
                let refused = sqlx::query("UPDATE ledger SET price = -1").execute(&pool).await;
                assert!(refused.is_err(), "the CHECK refuses a negative price");
            }
        }
    }
}
