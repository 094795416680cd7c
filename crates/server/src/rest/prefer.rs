//! The `Prefer` request header (RFC 7240) as PostgREST reads it.

use axum::http::HeaderMap;

/// What `return=` asks for after a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Return {
    /// The written rows in the body.
    Representation,
    /// No body.
    Minimal,
    /// No body, a `Location` header for one inserted row.
    HeadersOnly,
}

/// How an insert treats rows that conflict with existing ones (upsert).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    MergeDuplicates,
    IgnoreDuplicates,
}

/// The preferences of one request. Unknown preferences are ignored, as PostgREST does
/// without `handling=strict`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Prefer {
    pub return_: Option<Return>,
    /// `count=exact` (`planned` and `estimated` are answered exactly too).
    pub count: bool,
    pub resolution: Option<Resolution>,
    /// `missing=default`.
    pub missing_default: bool,
    /// `tessera-json=merge`: JSON fields of an update are merged into the stored document.
    pub json_merge: bool,
}

impl Prefer {
    pub fn from_headers(headers: &HeaderMap) -> Prefer {
        let mut prefer = Prefer::default();
        for value in headers.get_all("prefer") {
            let Ok(text) = value.to_str() else { continue };
            for item in text.split([',', ';']) {
                let item = item.trim();
                let (name, value) = item.split_once('=').unwrap_or((item, ""));
                match (name.trim(), value.trim().trim_matches('"')) {
                    ("return", "representation") => prefer.return_ = Some(Return::Representation),
                    ("return", "minimal") => prefer.return_ = Some(Return::Minimal),
                    ("return", "headers-only") => prefer.return_ = Some(Return::HeadersOnly),
                    ("count", "exact" | "planned" | "estimated") => prefer.count = true,
                    ("resolution", "merge-duplicates") => {
                        prefer.resolution = Some(Resolution::MergeDuplicates)
                    }
                    ("resolution", "ignore-duplicates") => {
                        prefer.resolution = Some(Resolution::IgnoreDuplicates)
                    }
                    ("missing", "default") => prefer.missing_default = true,
                    ("tessera-json", "merge") => prefer.json_merge = true,
                    _ => {}
                }
            }
        }
        prefer
    }

    /// The `Preference-Applied` header value, listing what this server honoured.
    pub fn applied(&self) -> Option<String> {
        let mut parts = Vec::new();
        match self.return_ {
            Some(Return::Representation) => parts.push("return=representation"),
            Some(Return::Minimal) => parts.push("return=minimal"),
            Some(Return::HeadersOnly) => parts.push("return=headers-only"),
            None => {}
        }
        if self.count {
            parts.push("count=exact");
        }
        match self.resolution {
            Some(Resolution::MergeDuplicates) => parts.push("resolution=merge-duplicates"),
            Some(Resolution::IgnoreDuplicates) => parts.push("resolution=ignore-duplicates"),
            None => {}
        }
        if self.missing_default {
            parts.push("missing=default");
        }
        if self.json_merge {
            parts.push("tessera-json=merge");
        }
        (!parts.is_empty()).then(|| parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn parse(values: &[&'static str]) -> Prefer {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append("prefer", HeaderValue::from_static(value));
        }
        Prefer::from_headers(&headers)
    }

    #[test]
    fn reads_every_preference_across_headers() {
        let prefer = parse(&[
            "return=representation, count=exact",
            "resolution=merge-duplicates",
        ]);
        assert_eq!(prefer.return_, Some(Return::Representation));
        assert!(prefer.count);
        assert_eq!(prefer.resolution, Some(Resolution::MergeDuplicates));
    }

    #[test]
    fn ignores_unknown_and_malformed_preferences() {
        assert_eq!(parse(&["nonsense, return=weird, =,,"]), Prefer::default());
    }
}
