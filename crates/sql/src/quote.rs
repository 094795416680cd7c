//! The one place where identifiers and string literals become SQL text.
//!
//! Both dialects quote identifiers with `"` and strings with `'`, doubling the quote
//! character inside. Every identifier and every literal value that reaches generated SQL
//! goes through these functions.

use crate::SqlError;

/// PostgreSQL truncates longer identifiers silently; Tessera refuses them instead.
pub const MAX_IDENTIFIER: usize = 63;

/// `"name"`, with embedded `"` doubled.
pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `'value'`, with embedded `'` doubled.
pub fn literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// A comma-separated list of quoted identifiers.
pub fn ident_list<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    names.into_iter().map(ident).collect::<Vec<_>>().join(", ")
}

/// Checks that a name can be used as an identifier on every dialect.
pub fn check_identifier(name: &str) -> Result<(), SqlError> {
    if name.is_empty() || name.contains('\0') || name.len() > MAX_IDENTIFIER {
        return Err(SqlError::InvalidIdentifier(name.to_owned()));
    }
    Ok(())
}

/// Checks that a string can be stored as a literal (no NUL character).
pub fn check_literal(value: &str) -> Result<(), SqlError> {
    if value.contains('\0') {
        return Err(SqlError::InvalidLiteral(value.to_owned()));
    }
    Ok(())
}

/// A deterministic constraint or index name of at most 63 bytes:
/// `{table}_{columns}_{suffix}`, or, when that is too long, a prefix of it, 8 hex digits of
/// its SHA-256 and the suffix (the scheme the schema checker uses for index names).
pub fn constraint_name(table: &str, columns: &[&str], suffix: &str) -> String {
    use sha2::{Digest, Sha256};
    let full = if columns.is_empty() {
        format!("{table}_{suffix}")
    } else {
        format!("{table}_{}_{suffix}", columns.join("_"))
    };
    if full.len() <= MAX_IDENTIFIER {
        return full;
    }
    let digest = hex::encode(&Sha256::digest(full.as_bytes())[..4]);
    let mut cut = MAX_IDENTIFIER - digest.len() - suffix.len() - 2;
    while !full.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}_{digest}_{suffix}", &full[..cut])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_double_quoted_with_quotes_doubled() {
        assert_eq!(ident("users"), "\"users\"");
        assert_eq!(ident("we\"ird"), "\"we\"\"ird\"");
    }

    #[test]
    fn literals_are_single_quoted_with_quotes_doubled() {
        assert_eq!(literal("it's"), "'it''s'");
    }

    #[test]
    fn short_constraint_names_follow_the_postgres_convention() {
        assert_eq!(
            constraint_name("users", &["roleId"], "fkey"),
            "users_roleId_fkey"
        );
    }

    #[test]
    fn long_constraint_names_are_cut_to_63_bytes_with_a_digest() {
        let long = "a".repeat(80);
        let name = constraint_name(&long, &["b"], "check");
        assert_eq!(name.len(), 63);
        assert!(name.ends_with("_check"));
        assert_eq!(name, constraint_name(&long, &["b"], "check"));
    }

    #[test]
    fn identifiers_longer_than_63_bytes_are_refused() {
        assert!(check_identifier(&"x".repeat(64)).is_err());
        assert!(check_identifier("ok").is_ok());
    }
}
