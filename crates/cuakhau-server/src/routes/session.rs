//! Signing in and out, and managing users (admins only).

use crate::AppState;
use crate::auth::{COOKIE, Caller, hash_password, new_token, token_from, token_hash, verify_password};
use crate::error::ApiError;
use crate::extract::{ApiJson, PeerAddr, ReqLang};
use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use cuakhau_api::{LoginRequest, LoginResponse, NewUserRequest, PasswordRequest, UserOut};
use cuakhau_core::auth::Action;
use cuakhau_core::{FieldError, Msg, Problem, Role, validate};
use cuakhau_store::{Actor, NewUser, User};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/auth/login", post(login))
        .route("/auth/logout", post(logout))
        .route("/auth/me", get(me))
        .route("/users", get(list_users).post(create_user))
        .route("/users/{username}/password", put(set_password))
        .route("/users/{username}", axum::routing::patch(update_user))
}

pub fn user_out(u: &User) -> UserOut {
    UserOut {
        id: u.id,
        username: u.username.clone(),
        display_name: u.display_name.clone(),
        roles: u.roles.iter().map(Role::code).collect(),
        disabled: u.disabled,
    }
}

/// Passwords shorter than this are refused.
pub const PASSWORD_MIN_CHARS: usize = 10;

fn check_password(p: &str) -> Result<(), FieldError> {
    if p.chars().count() < PASSWORD_MIN_CHARS {
        return Err(FieldError::new("password", Problem::Other("at least 10 characters / ít nhất 10 ký tự / 至少 10 个字符")));
    }
    if p.len() > 1024 {
        return Err(FieldError::new("password", Problem::TooLong { max: 1024 }));
    }
    Ok(())
}

#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = cuakhau_api::Problem)))]
pub async fn login(
    State(st): State<AppState>,
    ReqLang(lang): ReqLang,
    PeerAddr(peer): PeerAddr,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<Response, ApiError> {
    let wrong = || ApiError::new(lang, StatusCode::UNAUTHORIZED, Msg::WrongCredentials);
    // Throttled per account and per address before any work is done.
    let now = st.clock.now();
    let mut keys = vec![format!("user:{}", req.username.trim().to_lowercase())];
    if let Some(ip) = peer {
        keys.push(format!("addr:{ip}"));
    }
    let wait = st.logins.wait_s(&keys, now);
    if wait > 0 {
        let mut res = ApiError::new(lang, StatusCode::TOO_MANY_REQUESTS, Msg::TooManyAttempts { retry_after_s: wait }).into_response();
        res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(wait));
        return Ok(res);
    }
    let found = st.store.user_credentials(&req.username).await.map_err(|e| ApiError::store(lang, e))?;
    // Hash even for an unknown user, so response time does not reveal which names exist; every
    // hash runs in the blocking pool, never on the async workers.
    let password = req.password.clone();
    let (user, ok) = match found {
        Some((user, phc)) => (Some(user), tokio::task::spawn_blocking(move || verify_password(&password, &phc)).await.unwrap_or(false)),
        None => {
            let _ = tokio::task::spawn_blocking(move || verify_password(&password, DUMMY_PHC)).await;
            (None, false)
        }
    };
    // A disabled account is refused like a wrong password (nothing tells it exists).
    let Some(user) = user.filter(|u| ok && !u.disabled) else {
        st.logins.failed(&keys, now);
        // Failed sign-ins are audited (as the name tried; never the password).
        let tried: String = req.username.chars().take(64).collect();
        st.store.record_failed_login(&tried, Actor { name: "anonymous", at: now }).await.map_err(|e| ApiError::store(lang, e))?;
        return Err(wrong());
    };
    st.logins.succeeded(&keys[0]);
    let token = new_token(st.entropy.as_ref());
    let expires = now.plus_seconds(st.config.session_ttl_s);
    st.store
        .create_session(&token_hash(&token), user.id, expires, Actor { name: &user.username, at: now })
        .await
        .map_err(|e| ApiError::store(lang, e))?;
    let secure = if st.config.secure_cookies { "; Secure" } else { "" };
    let cookie = format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}", st.config.session_ttl_s);
    let body = LoginResponse { token, expires_at: expires.to_rfc3339(), user: user_out(&user) };
    let mut res = Json(body).into_response();
    res.headers_mut().insert(header::SET_COOKIE, HeaderValue::from_str(&cookie).expect("ascii cookie"));
    Ok(res)
}

/// A valid Argon2id hash of a random password, for constant-work failed logins.
const DUMMY_PHC: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$L4eLlgd3qGh8bPp5l/WqzdoZ8Q2Jm7Lq3jv0Q2r4YpQ";

#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = cuakhau_api::Problem)))]
pub async fn logout(State(st): State<AppState>, caller: Caller, req: Request) -> Result<Response, ApiError> {
    let user = caller.user()?;
    let (parts, _) = req.into_parts();
    if let Some(t) = token_from(&parts) {
        st.store
            .delete_session(&token_hash(&t), Actor { name: &user.username, at: st.clock.now() })
            .await
            .map_err(|e| ApiError::store(caller.lang, e))?;
        st.sessions_changed(Some(&token_hash(&t)), None);
    }
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.headers_mut().insert(header::SET_COOKIE, HeaderValue::from_static("cuakhau_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"));
    Ok(res)
}

#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = UserOut), (status = 401, body = cuakhau_api::Problem)))]
pub async fn me(caller: Caller) -> Result<Json<UserOut>, ApiError> {
    Ok(Json(user_out(caller.user()?)))
}

#[utoipa::path(get, path = "/api/v1/users", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = Vec<UserOut>), (status = 401, body = cuakhau_api::Problem), (status = 403, body = cuakhau_api::Problem)))]
pub async fn list_users(State(st): State<AppState>, caller: Caller) -> Result<Json<Vec<UserOut>>, ApiError> {
    caller.require(Action::ManageUsers)?;
    let users = st.store.list_users().await.map_err(|e| ApiError::store(caller.lang, e))?;
    Ok(Json(users.iter().map(user_out).collect()))
}

/// Validates a user request into a `NewUser` (password hashed).
pub fn new_user(st: &AppState, req: &NewUserRequest) -> Result<NewUser, FieldError> {
    let username = validate::text("username", &req.username, 64)?;
    if !username.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)) {
        return Err(FieldError::new("username", Problem::BadSlug));
    }
    let display_name = validate::text("display_name", &req.display_name, 200)?;
    check_password(&req.password)?;
    if req.roles.is_empty() {
        return Err(FieldError::new("roles", Problem::Empty));
    }
    let roles = req.roles.iter().map(|r| Role::parse(r)).collect::<Result<Vec<_>, _>>()?;
    Ok(NewUser { username, display_name, password_hash: hash_password(st.entropy.as_ref(), &req.password), roles })
}

#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = NewUserRequest, security(("bearer" = [])),
    responses((status = 201, body = UserOut), (status = 401, body = cuakhau_api::Problem), (status = 403, body = cuakhau_api::Problem),
              (status = 409, body = cuakhau_api::Problem), (status = 422, body = cuakhau_api::Problem)))]
pub async fn create_user(State(st): State<AppState>, caller: Caller, ApiJson(req): ApiJson<NewUserRequest>) -> Result<Response, ApiError> {
    let admin = caller.require(Action::ManageUsers)?;
    let nu = new_user(&st, &req).map_err(|e| ApiError::field(caller.lang, e))?;
    let u =
        st.store.create_user(nu, Actor { name: &admin.username, at: st.clock.now() }).await.map_err(|e| ApiError::store(caller.lang, e))?;
    Ok((StatusCode::CREATED, Json(user_out(&u))).into_response())
}

#[utoipa::path(put, path = "/api/v1/users/{username}/password", tag = "users", request_body = PasswordRequest, params(("username" = String, Path)),
    security(("bearer" = [])), responses((status = 204), (status = 401, body = cuakhau_api::Problem), (status = 403, body = cuakhau_api::Problem),
    (status = 404, body = cuakhau_api::Problem), (status = 422, body = cuakhau_api::Problem)))]
pub async fn set_password(
    State(st): State<AppState>,
    caller: Caller,
    Path(username): Path<String>,
    ApiJson(req): ApiJson<PasswordRequest>,
) -> Result<StatusCode, ApiError> {
    let me = caller.user()?;
    // Users change their own password, proving the current one (a borrowed session is not
    // enough); admins reset anyone else's.
    if me.username != username {
        caller.require(Action::ManageUsers)?;
    } else {
        let current = req.current_password.clone().unwrap_or_default();
        let (_, phc) = st
            .store
            .user_credentials(&username)
            .await
            .map_err(|e| ApiError::store(caller.lang, e))?
            .ok_or_else(|| ApiError::unauthenticated(caller.lang))?;
        if !tokio::task::spawn_blocking(move || verify_password(&current, &phc)).await.unwrap_or(false) {
            return Err(ApiError::field(
                caller.lang,
                FieldError::new("current_password", Problem::Other("the current password is not right")),
            ));
        }
    }
    check_password(&req.password).map_err(|e| ApiError::field(caller.lang, e))?;
    let phc = hash_password(st.entropy.as_ref(), &req.password);
    st.store
        .set_password(&username, &phc, Actor { name: &me.username, at: st.clock.now() })
        .await
        .map_err(|e| ApiError::store(caller.lang, e))?;
    st.sessions_changed(None, Some(&username));
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(patch, path = "/api/v1/users/{username}", tag = "users", request_body = cuakhau_api::UserPatch, params(("username" = String, Path)),
    security(("bearer" = [])), responses((status = 200, body = UserOut), (status = 401, body = cuakhau_api::Problem), (status = 403, body = cuakhau_api::Problem),
    (status = 404, body = cuakhau_api::Problem), (status = 422, body = cuakhau_api::Problem)))]
pub async fn update_user(
    State(st): State<AppState>,
    caller: Caller,
    Path(username): Path<String>,
    ApiJson(req): ApiJson<cuakhau_api::UserPatch>,
) -> Result<Json<UserOut>, ApiError> {
    let admin = caller.require(Action::ManageUsers)?;
    let lang = caller.lang;
    let roles = match &req.roles {
        Some(rs) if rs.is_empty() => return Err(ApiError::field(lang, FieldError::new("roles", Problem::Empty))),
        Some(rs) => Some(rs.iter().map(|r| Role::parse(r)).collect::<Result<Vec<_>, _>>().map_err(|e| ApiError::field(lang, e))?),
        None => None,
    };
    if admin.username == username && (req.disabled == Some(true) || roles.as_ref().is_some_and(|r| !r.contains(&Role::Admin))) {
        return Err(ApiError::field(lang, FieldError::new("username", Problem::Other("an administrator cannot lock themselves out"))));
    }
    let u = st
        .store
        .update_user(
            &username,
            cuakhau_store::UserChange { roles, disabled: req.disabled },
            Actor { name: &admin.username, at: st.clock.now() },
        )
        .await
        .map_err(|e| ApiError::store(lang, e))?;
    // Every cached session of the account is forgotten now; a disabled one's were deleted.
    st.sessions_changed(None, Some(&username));
    Ok(Json(user_out(&u)))
}
