//! Authentication: the service key.
//!
//! The server is closed by default. A request is let through only with the service key,
//! sent as `Authorization: Bearer KEY` or in the `apikey` header (as the Supabase clients
//! send it); it then runs with the runtime's `Service` role. Keys are compared in constant
//! time.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine as _;
use subtle::ConstantTimeEq;
use tessera_runtime::Context;

use crate::error::ApiError;
use crate::state::AppState;

/// Environment variable that sets the service key.
pub const SERVICE_KEY_ENV: &str = "TESSERA_SERVICE_KEY";

/// The secret that grants full access.
#[derive(Clone)]
pub struct ServiceKey(String);

impl std::fmt::Debug for ServiceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServiceKey(..)")
    }
}

impl ServiceKey {
    /// A key from its text (such as `TESSERA_SERVICE_KEY`).
    pub fn new(key: impl Into<String>) -> ServiceKey {
        ServiceKey(key.into())
    }

    /// A fresh key: 32 random bytes, base64url without padding.
    pub fn generate() -> Result<ServiceKey, getrandom::Error> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes)?;
        Ok(ServiceKey(
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes),
        ))
    }

    /// The key's text.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether `candidate` is this key, in time independent of where they differ.
    pub fn matches(&self, candidate: &str) -> bool {
        // `ct_eq` on slices of different lengths returns false without comparing; the
        // key's length is not a secret (it is fixed for generated keys).
        bool::from(self.0.as_bytes().ct_eq(candidate.as_bytes()))
    }
}

/// What a request presented.
enum Presented<'a> {
    Nothing,
    Keys(Vec<&'a str>),
}

fn presented(headers: &HeaderMap) -> Result<Presented<'_>, ApiError> {
    let mut keys = Vec::new();
    for value in headers.get_all(header::AUTHORIZATION) {
        let text = value.to_str().map_err(|_| ApiError::InvalidKey)?.trim();
        let token = text
            .strip_prefix("Bearer ")
            .or_else(|| text.strip_prefix("bearer "))
            .ok_or(ApiError::InvalidKey)?;
        keys.push(token.trim());
    }
    for value in headers.get_all("apikey") {
        keys.push(value.to_str().map_err(|_| ApiError::InvalidKey)?.trim());
    }
    Ok(if keys.is_empty() {
        Presented::Nothing
    } else {
        Presented::Keys(keys)
    })
}

/// Resolves the caller from the request headers.
pub fn authenticate(key: &ServiceKey, headers: &HeaderMap) -> Result<Context, ApiError> {
    match presented(headers)? {
        Presented::Nothing => Err(ApiError::MissingKey),
        Presented::Keys(keys) => {
            // Every key presented must be valid: a client sending the service key in one
            // header and something else in the other gets an error, not a guess.
            let mut all = true;
            for candidate in &keys {
                all &= key.matches(candidate);
            }
            if all {
                Ok(Context::service())
            } else {
                Err(ApiError::InvalidKey)
            }
        }
    }
}

/// Middleware: rejects requests without a valid key and stores the caller's [`Context`]
/// in the request extensions.
pub async fn require_key(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let context = authenticate(&state.service_key, request.headers())?;
    request.extensions_mut().insert(context);
    Ok(next.run(request).await)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn generated_keys_are_43_characters_of_base64url() {
        let key = ServiceKey::generate().expect("random bytes");
        assert_eq!(key.expose().len(), 43);
        assert!(key
            .expose()
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    }

    #[test]
    fn keys_match_only_themselves() {
        let key = ServiceKey::new("secret");
        assert!(key.matches("secret"));
        assert!(!key.matches("secreT"));
        assert!(!key.matches("secret2"));
        assert!(!key.matches(""));
    }

    #[test]
    fn bearer_and_apikey_are_both_accepted() {
        let key = ServiceKey::new("k");
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer k"));
        assert!(authenticate(&key, &headers).is_ok());
        let mut headers = HeaderMap::new();
        headers.insert("apikey", HeaderValue::from_static("k"));
        assert!(authenticate(&key, &headers).is_ok());
        let mut headers = HeaderMap::new();
        headers.insert("apikey", HeaderValue::from_static("k"));
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer x"));
        assert!(matches!(
            authenticate(&key, &headers),
            Err(ApiError::InvalidKey)
        ));
        assert!(matches!(
            authenticate(&key, &HeaderMap::new()),
            Err(ApiError::MissingKey)
        ));
    }
}
