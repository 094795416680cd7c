//! Random secrets: session tokens and `random_secret()` defaults.

use base64::Engine as _;

/// 32 random bytes from the operating system, base64url without padding (43 characters):
/// the value of `random_secret()` defaults and of session tokens.
pub fn random_secret() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}
