//! The URL grammar never panics, whatever the query string.

use proptest::prelude::*;

proptest! {
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
}
