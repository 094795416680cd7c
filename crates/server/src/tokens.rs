//! Access tokens: JWTs signed with HS256 by the server's signing secret, in the claims
//! Supabase clients expect (`sub`, `role`, `aud`, `exp`, `email`).

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use tessera_runtime::{Account, Caller};

/// Environment variable that sets the token signing secret (at least 32 bytes).
pub const TOKEN_SECRET_ENV: &str = "TESSERA_JWT_SECRET";

/// The shortest signing secret accepted: HS256 needs 256 bits of key.
pub const MIN_SECRET_BYTES: usize = 32;

const ISSUER: &str = "tessera";

/// The role claim of a signed-in user's token.
pub const AUTHENTICATED: &str = "authenticated";
const ANON: &str = "anon";
const SERVICE_ROLE: &str = "service_role";

/// What a token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    pub role: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    pub iss: String,
    pub iat: i64,
    /// Absent only on the anonymous key, which does not expire.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
}

/// Why a token was refused.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("the signing secret must be at least {MIN_SECRET_BYTES} bytes")]
    ShortSecret,
    #[error("the token is not valid: {0}")]
    Invalid(#[from] jsonwebtoken::errors::Error),
    #[error("the token's role `{0}` is not one this server issues")]
    UnknownRole(String),
    #[error("the token has no subject")]
    NoSubject,
}

/// Signs and checks tokens with one secret.
#[derive(Clone)]
pub struct TokenSigner {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenSigner(..)")
    }
}

impl TokenSigner {
    pub fn new(secret: &[u8]) -> Result<TokenSigner, TokenError> {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(TokenError::ShortSecret);
        }
        let mut validation = Validation::new(Algorithm::HS256);
        // The anonymous key has no expiry; user tokens are checked for theirs below.
        validation.required_spec_claims.clear();
        validation.validate_aud = false;
        validation.leeway = 0;
        validation.set_issuer(&[ISSUER]);
        Ok(TokenSigner {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        })
    }

    fn sign(&self, claims: &Claims) -> Result<String, TokenError> {
        Ok(jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            claims,
            &self.encoding,
        )?)
    }

    /// An access token for `account`, valid for `lifetime_seconds`; returns it with its
    /// expiry (seconds since the epoch).
    pub fn issue(
        &self,
        account: &Account,
        lifetime_seconds: i64,
    ) -> Result<(String, i64), TokenError> {
        let now = chrono::Utc::now().timestamp();
        let exp = now.saturating_add(lifetime_seconds);
        let claims = Claims {
            sub: Some(account.id.clone()),
            role: AUTHENTICATED.to_owned(),
            email: Some(account.email.clone()),
            aud: Some(AUTHENTICATED.to_owned()),
            iss: ISSUER.to_owned(),
            iat: now,
            exp: Some(exp),
        };
        Ok((self.sign(&claims)?, exp))
    }

    /// The anonymous key: a token with the `anon` role that identifies no one. Clients
    /// that always send a key (Supabase's send one in `apikey`) use it for public data.
    pub fn anon_key(&self) -> Result<String, TokenError> {
        self.sign(&Claims {
            sub: None,
            role: ANON.to_owned(),
            email: None,
            aud: None,
            iss: ISSUER.to_owned(),
            iat: 0,
            exp: None,
        })
    }

    /// Checks a token's signature, issuer and expiry.
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)?;
        let claims = data.claims;
        if claims.role == AUTHENTICATED && claims.exp.is_none() {
            return Err(TokenError::Invalid(
                jsonwebtoken::errors::ErrorKind::MissingRequiredClaim("exp".into()).into(),
            ));
        }
        Ok(claims)
    }

    /// The caller a valid token stands for.
    pub fn caller(&self, token: &str) -> Result<Caller, TokenError> {
        let claims = self.verify(token)?;
        match claims.role.as_str() {
            AUTHENTICATED => claims.sub.map(Caller::user).ok_or(TokenError::NoSubject),
            ANON => Ok(Caller::anonymous()),
            SERVICE_ROLE => Ok(Caller::service()),
            other => Err(TokenError::UnknownRole(other.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> TokenSigner {
        TokenSigner::new(&[7u8; 32]).expect("long enough")
    }

    fn account() -> Account {
        Account {
            id: "0b0e5a54-0c1f-4f7a-9a52-3f2b1d7f7a10".into(),
            email: "ada@example.com".into(),
        }
    }

    #[test]
    fn issued_tokens_stand_for_their_user() {
        let (token, _) = signer().issue(&account(), 60).expect("signs");
        let caller = signer().caller(&token).expect("valid");
        assert_eq!(caller, Caller::user(account().id));
    }

    #[test]
    fn expired_tokens_are_refused() {
        let (token, _) = signer().issue(&account(), -5).expect("signs");
        assert!(matches!(
            signer().caller(&token),
            Err(TokenError::Invalid(_))
        ));
    }

    #[test]
    fn tokens_of_another_secret_are_refused() {
        let other = TokenSigner::new(&[8u8; 32]).expect("long enough");
        let (token, _) = other.issue(&account(), 60).expect("signs");
        assert!(matches!(
            signer().caller(&token),
            Err(TokenError::Invalid(_))
        ));
    }

    #[test]
    fn the_anonymous_key_is_anonymous_and_does_not_expire() {
        let key = signer().anon_key().expect("signs");
        assert_eq!(signer().caller(&key).expect("valid"), Caller::anonymous());
        assert_eq!(signer().verify(&key).expect("valid").exp, None);
    }

    #[test]
    fn short_secrets_are_refused() {
        assert!(matches!(
            TokenSigner::new(b"short"),
            Err(TokenError::ShortSecret)
        ));
    }

    #[test]
    fn a_user_token_without_expiry_is_refused() {
        let s = signer();
        let forged = s
            .sign(&Claims {
                sub: Some("x".into()),
                role: AUTHENTICATED.into(),
                email: None,
                aud: None,
                iss: ISSUER.into(),
                iat: 0,
                exp: None,
            })
            .expect("signs");
        assert!(s.caller(&forged).is_err());
    }
}
