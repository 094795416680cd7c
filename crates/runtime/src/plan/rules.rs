//! The schema's validation rules (`@len`, `@email`, `@pattern`, …), with every pattern
//! compiled once, when the engine starts.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::OnceLock;

use regex::Regex;
use serde_json::Value as Json;
use tessera_schema::ir::Rule;
use tessera_schema::Schema;
use tessera_sql::decimal::compare_with;

/// The compiled patterns of a schema's `@pattern` rules, by their source.
#[derive(Debug, Default)]
pub(crate) struct Patterns {
    compiled: HashMap<String, Regex>,
}

impl Patterns {
    pub(crate) fn of(schema: &Schema) -> Patterns {
        let mut compiled = HashMap::new();
        let rules = schema
            .models
            .iter()
            .flat_map(|m| &m.fields)
            .flat_map(|f| &f.validations);
        for validation in rules {
            if let Rule::Pattern { regex } = &validation.rule {
                // The checker refuses patterns that do not compile; one that still fails
                // here is skipped, as no value could be tested against it.
                if let Ok(re) = Regex::new(regex) {
                    compiled.insert(regex.clone(), re);
                }
            }
        }
        Patterns { compiled }
    }

    /// Whether a value meets `rule`. Rules test values of their kind only (lengths test
    /// text, bounds test numbers); null meets every rule (`not_null` is another check).
    pub(crate) fn holds(&self, rule: &Rule, value: &Json) -> bool {
        let text = value.as_str();
        match rule {
            Rule::NotEmpty => text.is_none_or(|s| !s.is_empty()),
            Rule::Length { min, max } => text.is_none_or(|s| {
                let n = s.chars().count() as u64;
                min.is_none_or(|m| n >= m) && max.is_none_or(|m| n <= m)
            }),
            Rule::Email => text.is_none_or(|s| email_regex().is_match(s)),
            Rule::Url => text.is_none_or(|s| {
                (s.starts_with("http://") || s.starts_with("https://"))
                    && s.len() > 8
                    && !s.chars().any(char::is_whitespace)
            }),
            Rule::Pattern { regex } => match (text, self.compiled.get(regex)) {
                (Some(s), Some(re)) => re.is_match(s),
                _ => true,
            },
            // Exactly, with every digit of a decimal.
            Rule::Min { value: min } => {
                compare_with(value, *min).is_none_or(|o| o != Ordering::Less)
            }
            Rule::Max { value: max } => {
                compare_with(value, *max).is_none_or(|o| o != Ordering::Greater)
            }
            Rule::OneOf { values } => text.is_none_or(|s| values.iter().any(|v| v == s)),
        }
    }
}

fn email_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
            .unwrap_or_else(|_| Regex::new("$^").unwrap_or_else(|_| unreachable!()))
    })
}

/// The message of a failed rule that has none of its own in the schema.
pub(crate) fn default_message(field: &str, rule: &Rule) -> String {
    match rule {
        Rule::NotEmpty => format!("{field} must not be empty"),
        Rule::Length { min, max } => match (min, max) {
            (Some(a), Some(b)) => format!("{field} must be between {a} and {b} characters"),
            (Some(a), None) => format!("{field} must be at least {a} characters"),
            (None, Some(b)) => format!("{field} must be at most {b} characters"),
            (None, None) => format!("{field} has an invalid length"),
        },
        Rule::Email => format!("{field} must be a valid email address"),
        Rule::Url => format!("{field} must be a valid http(s) URL"),
        Rule::Pattern { regex } => format!("{field} must match the pattern {regex}"),
        Rule::Min { value } => format!("{field} must be at least {value}"),
        Rule::Max { value } => format!("{field} must be at most {value}"),
        Rule::OneOf { values } => format!("{field} must be one of: {}", values.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn patterns() -> Patterns {
        let schema = tessera_schema::check_source(
            "t.tsr",
            "model t {\n  slug text @pattern(\"^[a-z-]+$\")\n}\n",
        )
        .expect("checks")
        .schema;
        Patterns::of(&schema)
    }

    #[test]
    fn patterns_are_compiled_once_per_schema() {
        let p = patterns();
        let rule = Rule::Pattern {
            regex: "^[a-z-]+$".into(),
        };
        assert!(p.holds(&rule, &json!("a-b")));
        assert!(!p.holds(&rule, &json!("A B")));
    }

    #[test]
    fn lengths_count_characters() {
        let rule = Rule::Length {
            min: Some(2),
            max: Some(3),
        };
        assert!(patterns().holds(&rule, &json!("éé")));
        assert!(!patterns().holds(&rule, &json!("éééé")));
    }

    #[test]
    fn null_meets_every_rule() {
        assert!(patterns().holds(&Rule::Email, &Json::Null));
        assert!(patterns().holds(&Rule::Min { value: 1.0 }, &Json::Null));
    }

    #[test]
    fn emails_need_a_domain_with_a_dot() {
        assert!(patterns().holds(&Rule::Email, &json!("a@b.co")));
        assert!(!patterns().holds(&Rule::Email, &json!("a@b")));
    }
}
