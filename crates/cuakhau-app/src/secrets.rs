//! Passwords (Argon2id), session tokens and tracking codes, all from the injected entropy.
//!
//! A session token is 32 random bytes; the store keeps only its SHA-256, so a leaked database
//! holds no usable token.

use crate::Entropy;
use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use sha2::{Digest, Sha256};

/// Hashes `password` with Argon2id and a salt drawn from `entropy`, as a PHC string.
pub fn hash_password(entropy: &dyn Entropy, password: &str) -> String {
    let mut salt = [0u8; 16];
    entropy.fill(&mut salt);
    Argon2::default().hash_password_with_salt(password.as_bytes(), &salt).expect("argon2 with default parameters").to_string()
}

/// Checks `password` against a PHC string; false for a wrong password or an unreadable hash.
pub fn verify_password(password: &str, phc: &str) -> bool {
    Argon2::default().verify_password(password.as_bytes(), phc).is_ok()
}

/// Checks a password on the blocking pool, never on the async workers (Argon2 is slow on purpose).
pub(crate) async fn verify_password_off_thread(password: String, phc: String) -> bool {
    tokio::task::spawn_blocking(move || verify_password(&password, &phc)).await.unwrap_or(false)
}

/// A new session token: 32 random bytes in hex.
pub fn new_token(entropy: &dyn Entropy) -> String {
    let mut b = [0u8; 32];
    entropy.fill(&mut b);
    hex::encode(b)
}

/// A driver's tracking code: 80 random bits as 16 characters of Crockford's base 32 (no i, l, o
/// or u beside the digits), easy to read out over a phone and to type.
pub fn new_track_code(entropy: &dyn Entropy) -> String {
    const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
    let mut b = [0u8; 10];
    entropy.fill(&mut b);
    let bits = b.iter().fold(0u128, |acc, x| (acc << 8) | *x as u128);
    (0..16).map(|i| ALPHABET[((bits >> (75 - 5 * i)) & 31) as usize] as char).collect()
}

/// Equal strings, compared in time independent of where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The SHA-256 of a session token, as stored.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}
