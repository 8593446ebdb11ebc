//! Who is calling: the session token from `Authorization: Bearer …` or the `cuakhau_session`
//! cookie, turned into the app's [`Principal`] by the session use case.

use crate::AppState;
use crate::error::ApiError;
use crate::extract::lang_of;
use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use cuakhau_app::Principal;
use cuakhau_core::Lang;

pub const COOKIE: &str = "cuakhau_session";

/// The token of an `Authorization: Bearer …` value; the scheme's name is case-insensitive
/// (RFC 9110, section 11.1), so `bearer` and `BEARER` are the same.
fn bearer(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim_start().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
}

pub fn token_from(parts: &Parts) -> Option<String> {
    if let Some(t) = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(bearer) {
        return Some(t.to_string());
    }
    parts.headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|c| {
        let (k, v) = c.trim().split_once('=')?;
        (k == COOKIE).then(|| v.to_string())
    })
}

/// The caller: who (a signed-in user, or the public) and in which language to answer.
#[derive(Debug, Clone)]
pub struct Caller {
    pub who: Principal,
    pub lang: Lang,
    /// The session token the request carried.
    pub token: Option<String>,
}

impl Caller {
    /// 401 unless someone is signed in (asked before a body is parsed, so that the public learns
    /// nothing from validation).
    pub fn signed_in(&self) -> Result<(), ApiError> {
        self.who.signed_in().map(|_| ()).map_err(|e| ApiError::app(self.lang, e))
    }
    /// Words a use case's error in the caller's language.
    pub fn err(&self) -> impl Fn(cuakhau_app::AppError) -> ApiError + use<> {
        let lang = self.lang;
        move |e| ApiError::app(lang, e)
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let lang = lang_of(&parts.headers);
        let Some(token) = token_from(parts) else { return Ok(Caller { who: Principal::public(), lang, token: None }) };
        let user = state.app.accounts().session_user(&token).await.map_err(|e| ApiError::app(lang, e))?;
        // A token that matches no live session is an error, not an anonymous call: the client
        // believes it is signed in and must learn otherwise.
        match user {
            Some(u) => Ok(Caller { who: Principal::user(u), lang, token: Some(token) }),
            None => Err(ApiError::unauthenticated(lang)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::bearer;

    #[test]
    fn the_bearer_scheme_is_case_insensitive() {
        for v in ["Bearer abc", "bearer abc", "BEARER abc", "  Bearer   abc  "] {
            assert_eq!(bearer(v), Some("abc"), "{v}");
        }
        for v in ["Basic abc", "Bearer", "Bearer ", "Bearerabc", ""] {
            assert_eq!(bearer(v), None, "{v}");
        }
    }
}
