//! How much one query string may ask for. The grammar is recursive (logic trees, embeds
//! inside embeds) and its lists are open-ended; without bounds a URL of a few kilobytes
//! could ask for thousands of nested conditions or SQL queries. Every bound is checked
//! while parsing, before anything is planned or sent to a database, and a request over
//! one is refused with [`Code::QueryLimit`] naming the parameter, the limit and the
//! position where it was passed.

use crate::error::{Code, RuntimeError};

/// The bounds on one request's query string. [`QueryLimits::default`] is generous for
/// any request a client writes by hand or a PostgREST client builds, and small enough
/// that parsing and planning stay cheap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueryLimits {
    /// Deepest nesting of `or(...)`/`and(...)` in one logic parameter, the parameter's
    /// own list counting as the first level (default 16).
    pub max_logic_depth: usize,
    /// Most conditions in one request: each filter parameter, and each condition inside
    /// a logic tree, `or(...)`/`and(...)` included (default 256).
    pub max_conditions: usize,
    /// Deepest nesting of embedded resources in `select=`, the embeds of the top level
    /// being at depth 1 (default 8). Each level is one more query.
    pub max_embed_depth: usize,
    /// Most embedded resources in one `select=`, at every level (default 32).
    pub max_embeds: usize,
    /// Most items in one `select=`, at every level (default 512).
    pub max_select_items: usize,
    /// Most values in one `in.(...)` list (default 1000).
    pub max_in_items: usize,
    /// Most terms in one `order=` (default 64).
    pub max_order_terms: usize,
}

impl Default for QueryLimits {
    fn default() -> Self {
        QueryLimits {
            max_logic_depth: 16,
            max_conditions: 256,
            max_embed_depth: 8,
            max_embeds: 32,
            max_select_items: 512,
            max_in_items: 1000,
            max_order_terms: 64,
        }
    }
}

/// What one request has used of its limits so far, while it is parsed.
#[derive(Debug)]
pub(crate) struct Budget {
    pub(crate) limits: QueryLimits,
    conditions: usize,
    embeds: usize,
    select_items: usize,
}

impl Budget {
    pub(crate) fn new(limits: &QueryLimits) -> Budget {
        Budget {
            limits: *limits,
            conditions: 0,
            embeds: 0,
            select_items: 0,
        }
    }

    /// Counts one more condition.
    pub(crate) fn condition(&mut self, param: &str, pos: usize) -> Result<(), RuntimeError> {
        self.conditions += 1;
        let max = self.limits.max_conditions;
        if self.conditions > max {
            return Err(over_limit(
                param,
                format!("more than {max} conditions in the request (at position {pos})"),
                "Ask for fewer conditions at once; an in.(...) list tests many values in one condition",
            ));
        }
        Ok(())
    }

    /// Counts one more `select` item, at any level.
    pub(crate) fn select_item(&mut self, pos: usize) -> Result<(), RuntimeError> {
        self.select_items += 1;
        let max = self.limits.max_select_items;
        if self.select_items > max {
            return Err(over_limit(
                "select",
                format!("more than {max} items in the select list (at position {pos})"),
                "Select '*' or fewer fields",
            ));
        }
        Ok(())
    }

    /// Counts one more embedded resource, opened at embed depth `depth` (1: an embed of
    /// the top level).
    pub(crate) fn embed(&mut self, depth: usize, pos: usize) -> Result<(), RuntimeError> {
        let max_depth = self.limits.max_embed_depth;
        if depth > max_depth {
            return Err(over_limit(
                "select",
                format!(
                    "embedded resources nested deeper than {max_depth} levels (at position {pos})"
                ),
                "Embed fewer levels at once; read deeper levels with a request of their own",
            ));
        }
        self.embeds += 1;
        let max = self.limits.max_embeds;
        if self.embeds > max {
            return Err(over_limit(
                "select",
                format!("more than {max} embedded resources (at position {pos})"),
                "Embed fewer resources at once",
            ));
        }
        Ok(())
    }

    /// Checks the nesting of a logic list opened at `depth` (1: the parameter's own list).
    pub(crate) fn logic_depth(
        &self,
        param: &str,
        depth: usize,
        pos: usize,
    ) -> Result<(), RuntimeError> {
        let max = self.limits.max_logic_depth;
        if depth > max {
            return Err(over_limit(
                param,
                format!("and(...)/or(...) nested deeper than {max} levels (at position {pos})"),
                "Flatten the condition: and(...) inside and(...) is the same as one and(...)",
            ));
        }
        Ok(())
    }

    /// Checks the length of an `in.(...)` list that has `items` values so far.
    pub(crate) fn in_items(
        &self,
        param: &str,
        items: usize,
        pos: usize,
    ) -> Result<(), RuntimeError> {
        let max = self.limits.max_in_items;
        if items > max {
            return Err(over_limit(
                param,
                format!("more than {max} values in the in.(...) list (at position {pos})"),
                "Split the list over several requests",
            ));
        }
        Ok(())
    }

    /// Checks the number of terms of an `order=`.
    pub(crate) fn order_terms(&self, param: &str, terms: usize) -> Result<(), RuntimeError> {
        let max = self.limits.max_order_terms;
        if terms > max {
            return Err(over_limit(
                param,
                format!("more than {max} terms in the order"),
                "Order by fewer fields",
            ));
        }
        Ok(())
    }
}

/// A query parameter over one of the limits (400, `PGRST100` as for any parameter the
/// server will not parse, typed as [`Code::QueryLimit`]).
fn over_limit(param: &str, details: String, hint: &str) -> RuntimeError {
    RuntimeError::bad_request(
        Code::QueryLimit,
        format!("the {param} parameter is over the server's limits"),
    )
    .with_details(details)
    .with_hint(hint)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::{parse_read, parse_read_within, parse_write_query, ReadRequest};

    fn read(params: &[(&str, String)]) -> Result<ReadRequest, RuntimeError> {
        let pairs: Vec<(String, String)> = params
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect();
        parse_read("items", &pairs)
    }

    /// Asserts the request is refused as over a limit, naming the limit's figure.
    fn refused(result: Result<ReadRequest, RuntimeError>, figure: usize) {
        let error = result.expect_err("over the limit");
        assert_eq!(error.code, Code::QueryLimit, "{error:?}");
        assert_eq!(error.code, "PGRST100");
        assert_eq!(error.kind.http_status(), 400);
        let details = error.details.unwrap_or_default();
        assert!(details.contains(&figure.to_string()), "{details}");
        assert!(error.hint.is_some());
    }

    /// `or=` nested `depth` levels deep (its own list is the first).
    fn nested_or(depth: usize) -> String {
        format!(
            "({}a.eq.1{})",
            "or(".repeat(depth - 1),
            ")".repeat(depth - 1)
        )
    }

    fn nested_embed(depth: usize) -> String {
        format!("id,{}id{}", "e(".repeat(depth), ")".repeat(depth))
    }

    fn list(n: usize, item: impl Fn(usize) -> String) -> String {
        (0..n).map(item).collect::<Vec<_>>().join(",")
    }

    #[test]
    fn logic_nesting_is_accepted_to_its_limit_and_refused_beyond() {
        assert!(read(&[("or", nested_or(16))]).is_ok());
        refused(read(&[("or", nested_or(17))]), 16);
        refused(read(&[("not.and", nested_or(17))]), 16);
    }

    #[test]
    fn a_thousand_nested_ors_are_refused_without_recursing_through_them() {
        refused(read(&[("or", nested_or(1000))]), 16);
        refused(read(&[("or", nested_or(100_000))]), 16);
    }

    #[test]
    fn conditions_are_counted_over_the_whole_request() {
        // The `or` parameter is one condition and each of its items another.
        assert!(read(&[("or", format!("({})", list(255, |i| format!("f{i}.eq.1"))))]).is_ok());
        refused(
            read(&[("or", format!("({})", list(256, |i| format!("f{i}.eq.1"))))]),
            256,
        );
        let filters: Vec<(&str, String)> = (0..256).map(|_| ("a", "eq.1".to_owned())).collect();
        assert!(read(&filters).is_ok());
        let mut over = filters.clone();
        over.push(("b", "eq.1".to_owned()));
        refused(read(&over), 256);
    }

    #[test]
    fn embed_nesting_is_accepted_to_its_limit_and_refused_beyond() {
        assert!(read(&[("select", nested_embed(8))]).is_ok());
        refused(read(&[("select", nested_embed(9))]), 8);
        refused(read(&[("select", nested_embed(100))]), 8);
    }

    #[test]
    fn embeds_are_counted_at_every_level() {
        assert!(read(&[("select", list(32, |i| format!("e{i}(id)")))]).is_ok());
        refused(read(&[("select", list(33, |i| format!("e{i}(id)")))]), 32);
        let nested = format!(
            "a({}),{}",
            list(16, |i| format!("b{i}(id)")),
            list(15, |i| format!("c{i}(id)"))
        );
        assert!(read(&[("select", nested.clone())]).is_ok());
        refused(read(&[("select", format!("{nested},d(id)"))]), 32);
    }

    #[test]
    fn select_items_are_accepted_to_their_limit_and_refused_beyond() {
        assert!(read(&[("select", list(512, |i| format!("f{i}")))]).is_ok());
        refused(read(&[("select", list(513, |i| format!("f{i}")))]), 512);
    }

    #[test]
    fn in_lists_are_accepted_to_their_limit_and_refused_beyond() {
        assert!(read(&[("id", format!("in.({})", list(1000, |i| i.to_string())))]).is_ok());
        refused(
            read(&[("id", format!("in.({})", list(1001, |i| i.to_string())))]),
            1000,
        );
        refused(
            read(&[("id", format!("in.({})", list(100_000, |i| i.to_string())))]),
            1000,
        );
        // Inside a logic tree too, and quoted commas are not separators.
        refused(
            read(&[("or", format!("(id.in.({}))", list(1001, |i| i.to_string())))]),
            1000,
        );
        assert!(read(&[(
            "id",
            format!("in.({})", list(1000, |_| "\"a,b\"".to_owned()))
        )])
        .is_ok());
    }

    #[test]
    fn order_terms_are_accepted_to_their_limit_and_refused_beyond() {
        assert!(read(&[("order", list(64, |i| format!("f{i}.desc")))]).is_ok());
        refused(read(&[("order", list(65, |i| format!("f{i}.desc")))]), 64);
    }

    #[test]
    fn writes_are_bounded_as_reads_are() {
        let pairs = vec![("or".to_owned(), nested_or(17))];
        let error = parse_write_query(&pairs).expect_err("over the limit");
        assert_eq!(error.code, Code::QueryLimit);
    }

    #[test]
    fn limits_can_be_set() {
        let limits = QueryLimits {
            max_logic_depth: 2,
            max_in_items: 3,
            ..QueryLimits::default()
        };
        let pairs = |k: &str, v: &str| vec![(k.to_owned(), v.to_owned())];
        assert!(parse_read_within("items", &pairs("or", &nested_or(2)), &limits).is_ok());
        assert!(parse_read_within("items", &pairs("or", &nested_or(3)), &limits).is_err());
        assert!(parse_read_within("items", &pairs("id", "in.(1,2,3)"), &limits).is_ok());
        assert!(parse_read_within("items", &pairs("id", "in.(1,2,3,4)"), &limits).is_err());
    }
}
