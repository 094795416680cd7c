//! Authentication: who is calling.
//!
//! A request may carry the service key (full access, the runtime's `Service` role) or a
//! token signed by this server (a signed-in user's access token, or the anonymous key),
//! sent as `Authorization: Bearer KEY` or in the `apikey` header (as the Supabase clients
//! send it). Without either it is anonymous. The server stays closed by default: the
//! schema's `@@allow` rules decide what users and anonymous callers may do, and a model
//! without rules is open to the service key only. Keys are compared in constant time.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap};
use axum::middleware::Next;
use axum::response::Response;
use tessera_runtime::Caller;

use crate::error::ApiError;
use crate::keys::Keys;
use crate::state::AppState;

/// The credential of one header.
fn credential(keys: &Keys, text: &str) -> Result<Caller, ApiError> {
    if keys.service.matches(text) {
        return Ok(Caller::service());
    }
    keys.tokens.caller(text).map_err(|error| {
        tracing::debug!(%error, "token refused");
        ApiError::InvalidKey
    })
}

/// Resolves the caller from the request headers: the service key or a token in
/// `Authorization: Bearer` (which decides when both headers are sent) or in `apikey`.
/// Every credential sent must be valid; a request without any is anonymous.
pub fn authenticate(keys: &Keys, headers: &HeaderMap) -> Result<Caller, ApiError> {
    let mut caller = None;
    for value in headers.get_all(header::AUTHORIZATION) {
        let text = value.to_str().map_err(|_| ApiError::InvalidKey)?.trim();
        let token = text
            .strip_prefix("Bearer ")
            .or_else(|| text.strip_prefix("bearer "))
            .ok_or(ApiError::InvalidKey)?;
        let presented = credential(keys, token.trim())?;
        if caller.as_ref().is_some_and(|c| *c != presented) {
            return Err(ApiError::InvalidKey);
        }
        caller = Some(presented);
    }
    for value in headers.get_all("apikey") {
        let presented = credential(
            keys,
            value.to_str().map_err(|_| ApiError::InvalidKey)?.trim(),
        )?;
        caller.get_or_insert(presented);
    }
    Ok(caller.unwrap_or_else(Caller::anonymous))
}

/// The header naming the tenant a request acts in (`request.tenant` in access rules).
pub const TENANT_HEADER: &str = "x-tenant";

/// The longest tenant name or id a request may name.
const MAX_TENANT_LENGTH: usize = 200;

/// The tenant the request names in `X-Tenant`, if any. Naming one grants nothing: the
/// schema's rules decide whether the caller belongs to it.
fn chosen_tenant(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get(TENANT_HEADER) else {
        return Ok(None);
    };
    let invalid = || {
        ApiError::bad_request(
            "PGRST100",
            format!("the {TENANT_HEADER} header must be a tenant's id or name of at most {MAX_TENANT_LENGTH} visible characters"),
        )
    };
    let text = value.to_str().map_err(|_| invalid())?.trim();
    if text.is_empty() || text.len() > MAX_TENANT_LENGTH {
        return Err(invalid());
    }
    Ok(Some(text.to_owned()))
}

/// Middleware: resolves the caller (refusing invalid credentials) and stores its
/// [`Caller`] in the request extensions; what the caller may do is the runtime's
/// access rules' decision.
pub async fn identify(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let caller = authenticate(&state.keys, request.headers())?;
    let caller = match chosen_tenant(request.headers())? {
        Some(tenant) => caller.in_tenant(tenant),
        None => caller,
    };
    request.extensions_mut().insert(caller);
    Ok(next.run(request).await)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::ServiceKey;
    use crate::tokens::TokenSigner;
    use axum::http::HeaderValue;

    fn keys() -> Keys {
        Keys {
            service: ServiceKey::new("k"),
            tokens: TokenSigner::new(&[1u8; 32]).expect("long enough"),
        }
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(*name, HeaderValue::from_str(value).expect("header"));
        }
        headers
    }

    #[test]
    fn a_request_names_its_tenant_in_the_x_tenant_header() {
        assert_eq!(chosen_tenant(&headers(&[])).expect("valid"), None);
        assert_eq!(
            chosen_tenant(&headers(&[("x-tenant", " acme ")])).expect("valid"),
            Some("acme".to_owned())
        );
        assert!(chosen_tenant(&headers(&[("x-tenant", "")])).is_err());
        assert!(chosen_tenant(&headers(&[("x-tenant", &"t".repeat(201))])).is_err());
    }

    #[test]
    fn the_service_key_is_accepted_as_bearer_or_apikey() {
        let keys = keys();
        for h in [
            headers(&[("authorization", "Bearer k")]),
            headers(&[("apikey", "k")]),
        ] {
            assert_eq!(authenticate(&keys, &h).expect("valid"), Caller::service());
        }
    }

    #[test]
    fn a_request_without_credentials_is_anonymous() {
        assert_eq!(
            authenticate(&keys(), &HeaderMap::new()).expect("anonymous"),
            Caller::anonymous()
        );
    }

    #[test]
    fn any_invalid_credential_is_refused() {
        let keys = keys();
        for h in [
            headers(&[("authorization", "Bearer x")]),
            headers(&[("apikey", "x")]),
            headers(&[("apikey", "k"), ("authorization", "Bearer x")]),
            headers(&[("apikey", "x"), ("authorization", "Bearer k")]),
            headers(&[("authorization", "Basic k")]),
        ] {
            assert!(matches!(authenticate(&keys, &h), Err(ApiError::InvalidKey)));
        }
    }

    #[test]
    fn the_authorization_header_decides_over_apikey() {
        let keys = keys();
        let anon = keys.tokens.anon_key().expect("signs");
        let account = tessera_runtime::Account {
            id: "u1".into(),
            email: "u@example.com".into(),
        };
        let (user, _) = keys.tokens.issue(&account, 60).expect("signs");
        let bearer = format!("Bearer {user}");
        let h = headers(&[
            ("apikey", anon.as_str()),
            ("authorization", bearer.as_str()),
        ]);
        assert_eq!(authenticate(&keys, &h).expect("valid"), Caller::user("u1"));
        let h = headers(&[("apikey", anon.as_str())]);
        assert_eq!(authenticate(&keys, &h).expect("valid"), Caller::anonymous());
    }
}
