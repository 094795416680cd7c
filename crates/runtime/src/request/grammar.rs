//! PostgREST's URL grammar: `select=`, filters, `or=`/`and=`, `order=`, `limit=`,
//! `offset=`, embedded-resource parameters (`pages.order=`), and Tessera's own `_deleted=`
//! and `_hard=`.
//!
//! Parsing never panics: every malformed input is a `PGRST100` error naming the
//! parameter and the position of the offending token. Parsing is bounded: nesting and
//! list lengths are checked against [`QueryLimits`] as they are read, so a request over
//! a limit is refused before it costs more than reading its text.

use super::limits::{Budget, QueryLimits};
use super::*;
use crate::error::{Code, RuntimeError};

/// Parses the query string of `GET /rest/v1/{model}` into a [`ReadRequest`]. Names are
/// resolved when the request is planned.
///
/// Malformed parameters are `BadRequest` (`PGRST100`) errors naming the parameter and the
/// position.
pub fn parse_read(model: &str, query: &[(String, String)]) -> Result<ReadRequest, RuntimeError> {
    parse_read_within(model, query, &QueryLimits::default())
}

/// [`parse_read`] within `limits` instead of the default ones; a request over one is
/// refused with [`Code::QueryLimit`].
pub fn parse_read_within(
    model: &str,
    query: &[(String, String)],
    limits: &QueryLimits,
) -> Result<ReadRequest, RuntimeError> {
    let mut budget = Budget::new(limits);
    let mut req = ReadRequest {
        model: model.to_owned(),
        ..ReadRequest::default()
    };
    if let Some((_, value)) = query.iter().find(|(k, _)| k == "select") {
        req.select = select_within(value, &mut budget)?;
    }
    for (key, value) in query {
        match key.as_str() {
            "select" => {}
            "limit" => req.limit = Some(parse_u64("limit", value)?),
            "offset" => req.offset = Some(parse_u64("offset", value)?),
            "order" => req.order = parse_order("order", value, &budget)?,
            "_deleted" => {
                req.deleted = match value.as_str() {
                    "exclude" => Deleted::Exclude,
                    "include" => Deleted::Include,
                    "only" => Deleted::Only,
                    other => {
                        return Err(RuntimeError::parse(
                            "_deleted",
                            format!("unexpected \"{other}\", expecting include, only or exclude"),
                        ))
                    }
                }
            }
            "count" => req.count = parse_bool_flag("count", value, &["exact"])?,
            // Parameters of other requests or of the transport, never filters.
            "columns" | "on_conflict" | "_hard" => {}
            _ => apply_param(&mut budget, &mut req.filter, &mut req.select, key, value)?,
        }
    }
    Ok(req)
}

/// Parses the query string of a write (`PATCH`, `DELETE`, `POST`, restore, publish):
/// filters, `select=` (the returned representation), `on_conflict=` and `_hard=`.
pub fn parse_write_query(query: &[(String, String)]) -> Result<WriteQuery, RuntimeError> {
    parse_write_query_within(query, &QueryLimits::default())
}

/// [`parse_write_query`] within `limits` instead of the default ones; a request over one
/// is refused with [`Code::QueryLimit`].
pub fn parse_write_query_within(
    query: &[(String, String)],
    limits: &QueryLimits,
) -> Result<WriteQuery, RuntimeError> {
    let mut budget = Budget::new(limits);
    let mut out = WriteQuery::default();
    if let Some((_, value)) = query.iter().find(|(k, _)| k == "select") {
        out.select = select_within(value, &mut budget)?;
    }
    for (key, value) in query {
        match key.as_str() {
            "select" | "columns" | "_deleted" | "count" | "limit" | "offset" | "order" => {}
            "on_conflict" => {
                let fields: Vec<String> = value.split(',').map(|s| s.trim().to_owned()).collect();
                if fields.iter().any(String::is_empty) {
                    return Err(RuntimeError::parse(
                        "on_conflict",
                        "expecting a comma-separated list of fields",
                    ));
                }
                out.on_conflict = Some(fields);
            }
            "_hard" => out.hard = parse_bool_flag("_hard", value, &["true"])?,
            _ => apply_param(&mut budget, &mut out.filter, &mut out.select, key, value)?,
        }
    }
    Ok(out)
}

fn parse_u64(param: &str, value: &str) -> Result<u64, RuntimeError> {
    value.trim().parse::<u64>().map_err(|_| {
        RuntimeError::parse(param, format!("\"{value}\" is not a non-negative integer"))
    })
}

fn parse_bool_flag(param: &str, value: &str, truthy: &[&str]) -> Result<bool, RuntimeError> {
    if truthy.contains(&value) {
        Ok(true)
    } else if value == "false" || value.is_empty() {
        Ok(false)
    } else {
        Err(RuntimeError::parse(
            param,
            format!("unexpected \"{value}\", expecting {}", truthy.join(" or ")),
        ))
    }
}

/// A filter, logic or embed parameter (`col`, `embed.col`, `or`, `embed.order`, ...).
fn apply_param(
    budget: &mut Budget,
    filter: &mut Vec<Condition>,
    select: &mut [SelectItem],
    key: &str,
    value: &str,
) -> Result<(), RuntimeError> {
    let parts: Vec<&str> = key.split('.').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err(RuntimeError::parse(key, "empty name in a dotted parameter"));
    }
    // `not.or` / `not.and` (optionally after an embed path).
    let (path, last, negated_logic) = if parts.len() >= 2
        && parts[parts.len() - 2] == "not"
        && matches!(parts[parts.len() - 1], "or" | "and")
    {
        (&parts[..parts.len() - 2], parts[parts.len() - 1], true)
    } else {
        (&parts[..parts.len() - 1], parts[parts.len() - 1], false)
    };
    if path.is_empty() {
        let cond = param_condition(budget, key, last, negated_logic, value)?;
        filter.push(cond);
        return Ok(());
    }
    let embed = find_embed(select, path).ok_or_else(|| {
        RuntimeError::bad_request(
            Code::NotAnEmbed,
            format!(
                "'{}' is not an embedded resource in this request",
                path.join(".")
            ),
        )
        .with_hint(format!(
            "Add '{}' to the 'select' parameter to filter or order it",
            path.join(".")
        ))
    })?;
    match last {
        "order" if !negated_logic => embed.order = parse_order(key, value, budget)?,
        "limit" if !negated_logic => embed.limit = Some(parse_u64(key, value)?),
        "offset" if !negated_logic => embed.offset = Some(parse_u64(key, value)?),
        _ => {
            let cond = param_condition(budget, key, last, negated_logic, value)?;
            embed.filter.push(cond);
        }
    }
    Ok(())
}

fn find_embed<'a>(items: &'a mut [SelectItem], path: &[&str]) -> Option<&'a mut Embed> {
    let (first, rest) = path.split_first()?;
    let embed = items.iter_mut().find_map(|item| match item {
        SelectItem::Embed(e) if e.key() == *first => Some(e.as_mut()),
        _ => None,
    })?;
    if rest.is_empty() {
        Some(embed)
    } else {
        find_embed(&mut embed.select, rest)
    }
}

fn param_condition(
    budget: &mut Budget,
    param: &str,
    name: &str,
    negated_logic: bool,
    value: &str,
) -> Result<Condition, RuntimeError> {
    budget.condition(param, 0)?;
    match name {
        "or" | "and" => {
            let mut p = Cursor::new(param, value, budget);
            let list = p.logic_list(1)?;
            p.expect_end()?;
            let cond = if name == "or" {
                Condition::Or(list)
            } else {
                Condition::And(list)
            };
            Ok(if negated_logic {
                Condition::Not(Box::new(cond))
            } else {
                cond
            })
        }
        field => parse_filter_value(budget, param, field, value, false),
    }
}

/// `[not.]op.value` for `field`. In logic trees (`quoted`), values may be double-quoted.
fn parse_filter_value(
    budget: &Budget,
    param: &str,
    field: &str,
    value: &str,
    quoted: bool,
) -> Result<Condition, RuntimeError> {
    let (negate, rest) = match value.strip_prefix("not.") {
        Some(rest) => (true, rest),
        None => (false, value),
    };
    let Some((op_text, operand)) = rest.split_once('.') else {
        return Err(RuntimeError::parse(
            param,
            format!(
                "unexpected \"{rest}\" at position {}, expecting an operator followed by '.' and a value (e.g. eq.1)",
                value.len() - rest.len()
            ),
        ));
    };
    let op = Operator::parse(op_text).ok_or_else(|| {
        RuntimeError::parse(
            param,
            format!(
                "unknown operator \"{op_text}\" at position {}; supported: eq, neq, gt, gte, lt, lte, like, ilike, in, is, cs, cd",
                value.len() - rest.len()
            ),
        )
    })?;
    let operand_pos = value.len() - operand.len();
    let value = match op {
        Operator::Is => match operand.to_ascii_lowercase().as_str() {
            "null" | "unknown" => FilterValue::Null,
            "true" => FilterValue::True,
            "false" => FilterValue::False,
            other => {
                return Err(RuntimeError::parse(
                    param,
                    format!("unexpected \"{other}\" at position {operand_pos}, expecting null, true or false"),
                ))
            }
        },
        Operator::In => {
            let inner = operand
                .strip_prefix('(')
                .and_then(|s| s.strip_suffix(')'))
                .ok_or_else(|| {
                    RuntimeError::parse(
                        param,
                        format!("expecting a list in parentheses at position {operand_pos}, e.g. in.(1,2,3)"),
                    )
                })?;
            FilterValue::List(split_list(param, inner, operand_pos + 1, Some(budget))?)
        }
        _ => FilterValue::Text(if quoted { unquote(operand) } else { operand.to_owned() }),
    };
    let filter = Condition::Filter(Filter {
        field: field.to_owned(),
        op,
        value,
    });
    Ok(if negate {
        Condition::Not(Box::new(filter))
    } else {
        filter
    })
}

fn unquote(s: &str) -> String {
    match s.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        Some(inner) => unescape(inner),
        None => s.to_owned(),
    }
}

fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(next) = chars.next() {
                out.push(next);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Splits `a,"b,c",d` into items; double quotes protect commas, `\` escapes. Within a
/// `budget`, a list longer than its `max_in_items` is refused as soon as it is.
fn split_list(
    param: &str,
    s: &str,
    offset: usize,
    budget: Option<&Budget>,
) -> Result<Vec<String>, RuntimeError> {
    let mut items = Vec::new();
    if s.trim().is_empty() {
        return Ok(items);
    }
    let mut current = String::new();
    let mut in_quotes = false;
    let mut was_quoted = false;
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => {
                if let Some((_, next)) = chars.next() {
                    current.push(next);
                }
            }
            '"' if in_quotes => in_quotes = false,
            '"' if current.trim().is_empty() && !was_quoted => {
                current.clear();
                in_quotes = true;
                was_quoted = true;
            }
            '"' => {
                return Err(RuntimeError::parse(
                    param,
                    format!("unexpected '\"' at position {}", offset + i),
                ))
            }
            ',' if !in_quotes => {
                if let Some(budget) = budget {
                    budget.in_items(param, items.len() + 2, offset + i)?;
                }
                items.push(if was_quoted {
                    std::mem::take(&mut current)
                } else {
                    std::mem::take(&mut current).trim().to_owned()
                });
                was_quoted = false;
            }
            _ => current.push(c),
        }
    }
    if in_quotes {
        return Err(RuntimeError::parse(
            param,
            format!("unterminated '\"' in the list at position {offset}"),
        ));
    }
    items.push(if was_quoted {
        current
    } else {
        current.trim().to_owned()
    });
    Ok(items)
}

/// Splits the items of an array literal's body (`a,"b,c"`).
pub(crate) fn split_array_literal(s: &str) -> Result<Vec<String>, RuntimeError> {
    split_list("filter", s, 0, None)
}

/// Parses an `order=` value: `a,b.desc,c.asc.nullsfirst`.
fn parse_order(param: &str, value: &str, budget: &Budget) -> Result<Vec<OrderTerm>, RuntimeError> {
    let mut terms = Vec::new();
    let mut pos = 0;
    for (n, part) in value.split(',').enumerate() {
        budget.order_terms(param, n + 1)?;
        let mut pieces = part.trim().split('.');
        let field = pieces.next().unwrap_or_default().trim();
        if field.is_empty() || !field.chars().all(is_name_char) {
            return Err(RuntimeError::parse(
                param,
                format!("unexpected \"{part}\" at position {pos}, expecting a field name"),
            ));
        }
        let mut term = OrderTerm {
            field: field.to_owned(),
            descending: false,
            nulls_first: None,
        };
        for modifier in pieces {
            match modifier {
                "asc" => term.descending = false,
                "desc" => term.descending = true,
                "nullsfirst" => term.nulls_first = Some(true),
                "nullslast" => term.nulls_first = Some(false),
                other => {
                    return Err(RuntimeError::parse(
                        param,
                        format!(
                            "unexpected \"{other}\" in \"{part}\" at position {pos}, expecting asc, desc, nullsfirst or nullslast"
                        ),
                    ))
                }
            }
        }
        terms.push(term);
        pos += part.len() + 1;
    }
    Ok(terms)
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '$' || c == '-'
}

/// Parses a `select=` value into items: `*`, `field`, `alias:field`,
/// `alias:relation!hint!inner(items)`.
pub fn parse_select(value: &str) -> Result<Vec<SelectItem>, RuntimeError> {
    select_within(value, &mut Budget::new(&QueryLimits::default()))
}

fn select_within(value: &str, budget: &mut Budget) -> Result<Vec<SelectItem>, RuntimeError> {
    let mut p = Cursor::new("select", value, budget);
    let items = p.select_list(0)?;
    p.expect_end()?;
    Ok(items)
}

/// A position in a parameter's value, and the request's budget it spends.
struct Cursor<'a, 'b> {
    param: &'a str,
    src: &'a str,
    pos: usize,
    budget: &'b mut Budget,
}

impl<'a, 'b> Cursor<'a, 'b> {
    fn new(param: &'a str, src: &'a str, budget: &'b mut Budget) -> Self {
        Cursor {
            param,
            src,
            pos: 0,
            budget,
        }
    }

    fn rest(&self) -> &'a str {
        self.src.get(self.pos..).unwrap_or_default()
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
    }

    fn eat(&mut self, c: char) -> bool {
        self.skip_ws();
        if self.peek() == Some(c) {
            self.bump();
            true
        } else {
            false
        }
    }

    fn error(&self, expecting: &str) -> RuntimeError {
        let found = match self.peek() {
            Some(c) => format!("unexpected \"{c}\""),
            None => "unexpected end of input".to_owned(),
        };
        RuntimeError::parse(
            self.param,
            format!("{found} at position {}, expecting {expecting}", self.pos),
        )
    }

    fn expect_end(&mut self) -> Result<(), RuntimeError> {
        self.skip_ws();
        if self.peek().is_some() {
            Err(self.error("end of input"))
        } else {
            Ok(())
        }
    }

    /// A name: a run of name characters, or a double-quoted string.
    fn name(&mut self, expecting: &str) -> Result<String, RuntimeError> {
        self.skip_ws();
        if self.peek() == Some('"') {
            self.bump();
            let mut out = String::new();
            loop {
                match self.bump() {
                    Some('"') => break,
                    Some('\\') => {
                        if let Some(c) = self.bump() {
                            out.push(c);
                        }
                    }
                    Some(c) => out.push(c),
                    None => return Err(self.error("a closing '\"'")),
                }
            }
            if out.is_empty() {
                return Err(self.error(expecting));
            }
            return Ok(out);
        }
        let start = self.pos;
        while self.peek().is_some_and(is_name_char) {
            self.bump();
        }
        if self.pos == start {
            return Err(self.error(expecting));
        }
        Ok(self.src[start..self.pos].to_owned())
    }

    /// The items of a select list at embed depth `depth` (0: the top level).
    fn select_list(&mut self, depth: usize) -> Result<Vec<SelectItem>, RuntimeError> {
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek().is_none() || self.peek() == Some(')') {
            return Ok(items);
        }
        loop {
            self.budget.select_item(self.pos)?;
            items.push(self.select_item(depth)?);
            if !self.eat(',') {
                break;
            }
        }
        Ok(items)
    }

    fn select_item(&mut self, depth: usize) -> Result<SelectItem, RuntimeError> {
        if self.eat('*') {
            return Ok(SelectItem::Star);
        }
        self.skip_ws();
        if self.rest().starts_with("...") {
            return Err(
                self.error("a field or an embedded resource (spread '...' is not supported)")
            );
        }
        let first = self.name("a field name, '*' or an embedded resource")?;
        let (alias, name) = if self.rest().starts_with("::") {
            return Err(self.error("',' or '(' (casts with '::' are not supported)"));
        } else if self.eat(':') {
            (
                Some(first),
                self.name("a field or relation name after ':'")?,
            )
        } else {
            (None, first)
        };
        if self.rest().starts_with("::") {
            return Err(self.error("',' or '(' (casts with '::' are not supported)"));
        }
        if self.rest().starts_with("->") {
            return Err(self.error("',' or '(' (JSON paths with '->' are not supported)"));
        }
        let mut hint = None;
        let mut inner = false;
        while self.eat('!') {
            let word = self.name("a hint or 'inner' after '!'")?;
            match word.as_str() {
                "inner" => inner = true,
                "left" => inner = false,
                _ if hint.is_none() => hint = Some(word),
                _ => return Err(self.error("'(' (only one hint is allowed)")),
            }
        }
        if self.eat('(') {
            self.budget.embed(depth + 1, self.pos)?;
            let select = self.select_list(depth + 1)?;
            if !self.eat(')') {
                return Err(self.error("',' or ')'"));
            }
            return Ok(SelectItem::Embed(Box::new(Embed {
                alias,
                relation: name,
                hint,
                inner,
                select,
                ..Embed::default()
            })));
        }
        if hint.is_some() || inner {
            return Err(self.error("'(' after the embedded resource's hints"));
        }
        Ok(SelectItem::Field { name, alias })
    }

    /// `(cond,cond,...)` of a logic parameter, nested at `depth` (1: the parameter's
    /// own list).
    fn logic_list(&mut self, depth: usize) -> Result<Vec<Condition>, RuntimeError> {
        if !self.eat('(') {
            return Err(self.error("'(' starting a list of conditions"));
        }
        self.budget.logic_depth(self.param, depth, self.pos)?;
        let mut list = Vec::new();
        loop {
            self.budget.condition(self.param, self.pos)?;
            list.push(self.logic_item(depth)?);
            if self.eat(',') {
                continue;
            }
            if self.eat(')') {
                break;
            }
            return Err(self.error("',' or ')'"));
        }
        Ok(list)
    }

    fn logic_item(&mut self, depth: usize) -> Result<Condition, RuntimeError> {
        self.skip_ws();
        let mut negate = false;
        if self.rest().starts_with("not.") {
            negate = true;
            self.pos += 4;
        }
        for (word, is_or) in [("or(", true), ("and(", false)] {
            if self.rest().starts_with(word) {
                self.pos += word.len() - 1;
                let list = self.logic_list(depth + 1)?;
                let cond = if is_or {
                    Condition::Or(list)
                } else {
                    Condition::And(list)
                };
                return Ok(if negate {
                    Condition::Not(Box::new(cond))
                } else {
                    cond
                });
            }
        }
        let field = self.name("a field name or and(...)/or(...)")?;
        if !self.eat('.') {
            return Err(self.error("'.' after the field name"));
        }
        // The operator and the value run to the next ',' or ')' at depth 0 outside quotes.
        let start = self.pos;
        let mut depth = 0usize;
        let mut in_quotes = false;
        while let Some(c) = self.peek() {
            match c {
                '\\' if in_quotes => {
                    self.bump();
                }
                '"' => in_quotes = !in_quotes,
                '(' | '{' | '[' if !in_quotes => depth += 1,
                ')' | '}' | ']' if !in_quotes && depth > 0 => depth -= 1,
                ',' | ')' if !in_quotes && depth == 0 => break,
                _ => {}
            }
            self.bump();
        }
        if in_quotes {
            return Err(self.error("a closing '\"'"));
        }
        let text = &self.src[start..self.pos];
        let cond =
            parse_filter_value(self.budget, self.param, &field, text, true).map_err(|mut e| {
                if let Some(d) = e.details.as_mut() {
                    *d = format!("{d} (in the condition starting at position {start})");
                }
                e
            })?;
        Ok(if negate {
            Condition::Not(Box::new(cond))
        } else {
            cond
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn select_with_alias_hint_and_inner() {
        let items = parse_select("id,title:name,cam:devices!camera_device_id!inner(id,name)")
            .expect("parses");
        assert_eq!(items.len(), 3);
        let SelectItem::Embed(e) = &items[2] else {
            panic!("embed expected")
        };
        assert_eq!(e.alias.as_deref(), Some("cam"));
        assert_eq!(e.hint.as_deref(), Some("camera_device_id"));
        assert!(e.inner);
    }

    #[test]
    fn unclosed_embed_names_the_position() {
        let err = parse_select("id,pages(id").expect_err("fails");
        assert_eq!(err.code, "PGRST100");
        assert!(err.details.unwrap_or_default().contains("position 11"));
    }

    #[test]
    fn logic_trees_nest() {
        let cond = param_condition(
            &mut Budget::new(&QueryLimits::default()),
            "or",
            "or",
            false,
            "(a.eq.1,and(b.gt.2,c.in.(x,\"y,z\")),not.d.is.null)",
        )
        .expect("parses");
        let Condition::Or(list) = cond else { panic!() };
        assert_eq!(list.len(), 3);
        let Condition::And(inner) = &list[1] else {
            panic!()
        };
        assert_eq!(
            inner[1],
            Condition::Filter(Filter {
                field: "c".into(),
                op: Operator::In,
                value: FilterValue::List(vec!["x".into(), "y,z".into()])
            })
        );
    }
}
