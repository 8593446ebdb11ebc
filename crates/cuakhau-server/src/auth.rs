//! Passwords (Argon2id), session tokens and the extractors that tell who is calling.
//!
//! A session token is 32 random bytes, sent by the client as `Authorization: Bearer …` or the
//! `cuakhau_session` cookie; the store keeps only its SHA-256, so a leaked database holds no
//! usable token.

use crate::error::ApiError;
use crate::extract::lang_of;
use crate::{AppState, Entropy};
use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use cuakhau_core::Lang;
use cuakhau_core::auth::{Action, allows};
use cuakhau_store::User;
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

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub const COOKIE: &str = "cuakhau_session";

pub fn token_from(parts: &Parts) -> Option<String> {
    if let Some(t) = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer ")) {
        return Some(t.trim().to_string());
    }
    parts.headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|c| {
        let (k, v) = c.trim().split_once('=')?;
        (k == COOKIE).then(|| v.to_string())
    })
}

/// The caller: a signed-in user, or nobody (the public).
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: Option<User>,
    pub lang: Lang,
}

impl Caller {
    /// The signed-in user, or 401.
    pub fn user(&self) -> Result<&User, ApiError> {
        self.user.as_ref().ok_or_else(|| ApiError::unauthenticated(self.lang))
    }
    /// 401 when nobody is signed in, 403 when the user's roles do not allow `action`.
    pub fn require(&self, action: Action<'_>) -> Result<&User, ApiError> {
        let u = self.user()?;
        if allows(&u.roles, action) { Ok(u) } else { Err(ApiError::forbidden(self.lang)) }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let lang = lang_of(&parts.headers);
        let Some(token) = token_from(parts) else { return Ok(Caller { user: None, lang }) };
        let user = state.session_user(&token_hash(&token)).await.map_err(|e| ApiError::store(lang, e))?;
        // A token that matches no live session is an error, not an anonymous call: the client
        // believes it is signed in and must learn otherwise.
        match user {
            Some(u) => Ok(Caller { user: Some(u), lang }),
            None => Err(ApiError::unauthenticated(lang)),
        }
    }
}
