//! Passwords: hashed with argon2id (OWASP's parameters) off the request threads; argon2
//! and imported bcrypt hashes verified.

use argon2::password_hash::{rand_core::OsRng, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Params, PasswordHash, PasswordVerifier, Version};
use serde_json::Value as Json;

use crate::error::RuntimeError;
use crate::plan::write::{is_bcrypt_hash, needs_hashing};
use crate::plan::Row;

/// argon2id with OWASP's parameters: 19 MiB, 2 iterations, 1 lane.
fn argon2() -> Argon2<'static> {
    let params = Params::new(19_456, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password with argon2id (OWASP parameters), on the calling thread. Hashing
/// is deliberately slow (tens of milliseconds): async code calls [`hash_password`].
pub fn hash_password_blocking(plain: &str) -> Result<String, RuntimeError> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(plain.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| RuntimeError::internal(format!("hashing failed: {e}")))
}

/// Hashes a password with argon2id on tokio's blocking pool, so that request threads
/// keep serving while it works.
pub async fn hash_password(plain: &str) -> Result<String, RuntimeError> {
    let plain = plain.to_owned();
    tokio::task::spawn_blocking(move || hash_password_blocking(&plain))
        .await
        .map_err(|e| RuntimeError::internal(format!("hashing task failed: {e}")))?
}

/// Whether `plain` matches a stored hash: argon2 (PHC string, as Tessera writes them) or
/// bcrypt (`$2a$`, `$2b$`, `$2y$`, as imported from other systems). Anything else, and a
/// malformed hash, never matches. Runs on the calling thread; async code calls
/// [`verify_password`].
pub fn verify_password_blocking(stored: &str, plain: &str) -> bool {
    if is_bcrypt_hash(stored) {
        return bcrypt::verify(plain, stored).unwrap_or(false);
    }
    PasswordHash::new(stored)
        .map(|h| argon2().verify_password(plain.as_bytes(), &h).is_ok())
        .unwrap_or(false)
}

/// [`verify_password_blocking`] on tokio's blocking pool.
pub async fn verify_password(stored: &str, plain: &str) -> Result<bool, RuntimeError> {
    let (stored, plain) = (stored.to_owned(), plain.to_owned());
    tokio::task::spawn_blocking(move || verify_password_blocking(&stored, &plain))
        .await
        .map_err(|e| RuntimeError::internal(format!("password check failed: {e}")))
}

/// Hashes the plain passwords of checked rows, all in one blocking task.
pub(crate) async fn hash_rows(rows: &mut [Row<'_>]) -> Result<(), RuntimeError> {
    let mut slots = Vec::new();
    let mut plains = Vec::new();
    for (r, row) in rows.iter().enumerate() {
        for (i, (field, value)) in row.iter().enumerate() {
            if needs_hashing(field, value) {
                slots.push((r, i));
                plains.push(value.as_str().unwrap_or_default().to_owned());
            }
        }
    }
    if plains.is_empty() {
        return Ok(());
    }
    let hashed = tokio::task::spawn_blocking(move || {
        plains
            .iter()
            .map(|p| hash_password_blocking(p))
            .collect::<Result<Vec<_>, _>>()
    })
    .await
    .map_err(|e| RuntimeError::internal(format!("hashing task failed: {e}")))??;
    for ((r, i), h) in slots.into_iter().zip(hashed) {
        rows[r][i].1 = Json::String(h);
    }
    Ok(())
}
