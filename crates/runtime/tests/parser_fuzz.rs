//! The URL grammar never panics, whatever the query string: every input is either a
//! request within the limits or a typed client error (400 with a PostgREST code). The
//! short form of the fuzz targets under `fuzz/` (`cargo +nightly fuzz run query_string`),
//! run by the default test suite with a bounded number of cases.

#[path = "fuzz_checks/query_string.rs"]
mod fuzz_checks;

use fuzz_checks::{assert_within, check};
use proptest::prelude::*;
use tessera_runtime::{parse_read, QueryLimits};

/// Grammar-shaped text: nested logic, embeds, lists, quotes and escapes.
fn grammar_text() -> impl Strategy<Value = String> {
    let atom = prop_oneof![
        Just("a.eq.1".to_owned()),
        Just("b.in.(1,\"2,3\",\\\")".to_owned()),
        Just("not.c.is.null".to_owned()),
        Just("d.like.*x*".to_owned()),
        "[a-z]{1,3}\\.[a-z]{1,4}\\.[ -~]{0,6}",
        Just(String::new()),
    ];
    atom.prop_recursive(24, 256, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5)
                .prop_map(|items| format!("or({})", items.join(","))),
            proptest::collection::vec(inner.clone(), 0..5)
                .prop_map(|items| format!("not.and({})", items.join(","))),
            proptest::collection::vec(inner.clone(), 0..5)
                .prop_map(|items| format!("e:rel!hint!inner({})", items.join(","))),
            inner.prop_map(|s| format!("({s}")),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn parse_read_never_panics(
        pairs in proptest::collection::vec(
            (prop_oneof![
                Just("select".to_owned()), Just("order".to_owned()), Just("or".to_owned()),
                Just("and".to_owned()), Just("limit".to_owned()), Just("name".to_owned()),
                Just("pages.title".to_owned()), Just("pages.order".to_owned()), "[a-z.!]{0,12}",
            ], "[ -~]{0,40}"),
            0..6,
        )
    ) {
        let _ = tessera_runtime::parse_read("projects", &pairs);
        let _ = tessera_runtime::parse_write_query(&pairs);
    }

    #[test]
    fn parse_select_never_panics(s in "[a-z*(),:!\" .]{0,60}") {
        let _ = tessera_runtime::parse_select(&s);
    }

    /// Arbitrary bytes as a query string, decoded as the server decodes it.
    #[test]
    fn arbitrary_query_strings_parse_or_are_typed_errors(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let pairs: Vec<(String, String)> = form_urlencoded::parse(&bytes).into_owned().collect();
        check(&pairs, &QueryLimits::default());
    }

    /// Grammar-shaped values in every parameter, under small limits so that the limits
    /// are met often.
    #[test]
    fn generated_grammar_parses_within_the_limits_or_is_refused(
        key in prop_oneof![Just("or"), Just("and"), Just("not.or"), Just("select"), Just("order"), Just("a"), Just("e.or")],
        value in grammar_text(),
        select in grammar_text(),
    ) {
        let limits = QueryLimits {
            max_logic_depth: 3,
            max_conditions: 12,
            max_embed_depth: 2,
            max_embeds: 4,
            max_select_items: 10,
            max_in_items: 2,
            max_order_terms: 2,
        };
        let pairs = vec![
            ("select".to_owned(), select.replace("not.", "")),
            (key.to_owned(), value.clone()),
        ];
        check(&pairs, &limits);
        let value = format!("({value})");
        check(&[(key.to_owned(), value)], &limits);
    }
}

#[test]
fn default_limits_accept_what_postgrest_js_sends() {
    let pairs = |q: &str| -> Vec<(String, String)> {
        form_urlencoded::parse(q.as_bytes()).into_owned().collect()
    };
    let request = parse_read(
        "projects",
        &pairs("select=id,name,pages:tour_pages!inner(id,title,assets(id))&or=(name.ilike.*a*,and(slug.eq.x,id.in.(1,2,3)))&order=name.desc.nullslast&limit=10"),
    );
    assert!(request.is_ok(), "{request:?}");
    assert_within(&request.expect("parses"), &QueryLimits::default());
}
