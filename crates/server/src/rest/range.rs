//! The `Range` request header (`Range-Unit: items`) and the `Content-Range` answer.

use axum::http::HeaderMap;

/// A range of rows: `offset` and, when bounded, how many rows at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowRange {
    pub offset: u64,
    pub limit: Option<u64>,
}

/// The range asked for in the `Range` header (`0-24`, `10-`), if any. A header that does
/// not parse, or whose unit is not `items`, is ignored (as PostgREST does).
pub fn requested(headers: &HeaderMap) -> Option<RowRange> {
    if let Some(unit) = headers.get("range-unit") {
        if !unit
            .to_str()
            .is_ok_and(|u| u.trim().eq_ignore_ascii_case("items"))
        {
            return None;
        }
    }
    let text = headers.get("range")?.to_str().ok()?.trim();
    let text = text.strip_prefix("items=").unwrap_or(text);
    let (first, last) = text.split_once('-')?;
    let offset: u64 = first.trim().parse().ok()?;
    let last = last.trim();
    if last.is_empty() {
        return Some(RowRange {
            offset,
            limit: None,
        });
    }
    let last: u64 = last.parse().ok()?;
    if last < offset {
        return None;
    }
    Some(RowRange {
        offset,
        // `0-18446744073709551615` asks for every row: no overflow.
        limit: Some((last - offset).saturating_add(1)),
    })
}

/// Combines the header's range with `limit`/`offset` query parameters: the header's rows,
/// then the parameters within them.
pub fn combine(header: Option<RowRange>, offset: Option<u64>, limit: Option<u64>) -> RowRange {
    let header = header.unwrap_or(RowRange {
        offset: 0,
        limit: None,
    });
    let offset_in = offset.unwrap_or(0);
    let start = header.offset.saturating_add(offset_in);
    let remaining = header.limit.map(|l| l.saturating_sub(offset_in));
    let limit = match (remaining, limit) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    RowRange {
        offset: start,
        limit,
    }
}

/// The `Content-Range` value for `rows` rows returned from `offset`, out of `total` when
/// known: `0-24/100`, `0-24/*`, `*/0`.
pub fn content_range(offset: u64, rows: usize, total: Option<u64>) -> String {
    let total = total.map_or_else(|| "*".to_owned(), |t| t.to_string());
    if rows == 0 {
        format!("*/{total}")
    } else {
        format!(
            "{offset}-{}/{total}",
            offset.saturating_add(rows as u64 - 1)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(range: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("range", HeaderValue::from_static(range));
        headers
    }

    #[test]
    fn parses_bounded_and_open_ranges() {
        assert_eq!(
            requested(&headers("0-24")),
            Some(RowRange {
                offset: 0,
                limit: Some(25)
            })
        );
        assert_eq!(
            requested(&headers("10-")),
            Some(RowRange {
                offset: 10,
                limit: None
            })
        );
        assert_eq!(requested(&headers("5-1")), None);
        assert_eq!(requested(&headers("x-y")), None);
        assert_eq!(requested(&headers("bytes=0-1")), None);
    }

    #[test]
    fn ranges_to_the_largest_number_do_not_overflow() {
        assert_eq!(
            requested(&headers("0-18446744073709551615")),
            Some(RowRange {
                offset: 0,
                limit: Some(u64::MAX)
            })
        );
        assert_eq!(
            content_range(u64::MAX, 2, None),
            format!("{}-{}/*", u64::MAX, u64::MAX)
        );
    }

    #[test]
    fn query_parameters_narrow_the_header_range() {
        let header = Some(RowRange {
            offset: 10,
            limit: Some(10),
        });
        assert_eq!(
            combine(header, Some(5), Some(100)),
            RowRange {
                offset: 15,
                limit: Some(5)
            }
        );
        assert_eq!(
            combine(None, None, Some(3)),
            RowRange {
                offset: 0,
                limit: Some(3)
            }
        );
    }

    #[test]
    fn formats_content_range() {
        assert_eq!(content_range(0, 25, Some(100)), "0-24/100");
        assert_eq!(content_range(0, 25, None), "0-24/*");
        assert_eq!(content_range(0, 0, Some(0)), "*/0");
    }
}
