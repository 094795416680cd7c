//! The secrets a server holds: the service key, which grants full access, and the signer
//! of access tokens. Keys are compared in constant time.

use base64::Engine as _;
use subtle::ConstantTimeEq;

use crate::tokens::TokenSigner;

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

/// The secrets a server holds: the service key and the token signer.
#[derive(Clone, Debug)]
pub struct Keys {
    pub service: ServiceKey,
    pub tokens: TokenSigner,
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
