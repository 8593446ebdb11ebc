//! Signing in and out, and managing users (admins only).

use crate::AppState;
use crate::auth::{COOKIE, Caller};
use crate::error::ApiError;
use crate::extract::{ApiJson, PeerAddr, ReqLang};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cuakhau_api::{LoginRequest, LoginResponse, NewUserRequest, PasswordRequest, UserOut};
use cuakhau_app::accounts::NewAccount;
use cuakhau_core::Role;
use cuakhau_store::User;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
        .routes(routes!(list_users, create_user))
        .routes(routes!(set_password))
        .routes(routes!(update_user))
}

pub fn user_out(u: &User) -> UserOut {
    UserOut {
        id: u.id.get(),
        username: u.username.clone(),
        display_name: u.display_name.clone(),
        roles: u.roles.iter().map(Role::code).collect(),
        disabled: u.disabled,
    }
}

#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = cuakhau_api::Problem)))]
pub async fn login(
    State(st): State<AppState>,
    ReqLang(lang): ReqLang,
    PeerAddr(peer): PeerAddr,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<Response, ApiError> {
    let address = peer.map(|ip| ip.to_string());
    let s = st.app.accounts().login(&req.username, &req.password, address.as_deref()).await.map_err(|e| ApiError::app(lang, e))?;
    let ttl = st.app.config().session_ttl_s;
    let secure = if st.config.secure_cookies { "; Secure" } else { "" };
    let cookie = format!("{COOKIE}={}; Path=/; HttpOnly; SameSite=Lax; Max-Age={ttl}{secure}", s.token);
    let body = LoginResponse { token: s.token, expires_at: s.expires_at.to_rfc3339(), user: user_out(&s.user) };
    let mut res = Json(body).into_response();
    res.headers_mut().insert(header::SET_COOKIE, HeaderValue::from_str(&cookie).expect("ascii cookie"));
    Ok(res)
}

#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = cuakhau_api::Problem)))]
pub async fn logout(State(st): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    caller.signed_in()?;
    if let Some(t) = &caller.token {
        st.app.accounts().logout(&caller.who, t).await.map_err(caller.err())?;
    }
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.headers_mut().insert(header::SET_COOKIE, HeaderValue::from_static("cuakhau_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"));
    Ok(res)
}

#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = UserOut), (status = 401, body = cuakhau_api::Problem)))]
pub async fn me(caller: Caller) -> Result<Json<UserOut>, ApiError> {
    Ok(Json(user_out(caller.who.signed_in().map_err(caller.err())?)))
}

#[utoipa::path(get, path = "/api/v1/users", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = Vec<UserOut>), (status = 401, body = cuakhau_api::Problem), (status = 403, body = cuakhau_api::Problem)))]
pub async fn list_users(State(st): State<AppState>, caller: Caller) -> Result<Json<Vec<UserOut>>, ApiError> {
    let users = st.app.accounts().users(&caller.who).await.map_err(caller.err())?;
    Ok(Json(users.iter().map(user_out).collect()))
}

#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = NewUserRequest, security(("bearer" = [])),
    responses((status = 201, body = UserOut), (status = 401, body = cuakhau_api::Problem), (status = 403, body = cuakhau_api::Problem),
              (status = 409, body = cuakhau_api::Problem), (status = 422, body = cuakhau_api::Problem)))]
pub async fn create_user(State(st): State<AppState>, caller: Caller, ApiJson(req): ApiJson<NewUserRequest>) -> Result<Response, ApiError> {
    let account = NewAccount { username: &req.username, display_name: &req.display_name, password: &req.password, roles: &req.roles };
    let u = st.app.accounts().create_user(&caller.who, &account).await.map_err(caller.err())?;
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
    st.app.accounts().set_password(&caller.who, &username, req.current_password.as_deref(), &req.password).await.map_err(caller.err())?;
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
    let u = st.app.accounts().update_user(&caller.who, &username, req.roles.as_deref(), req.disabled).await.map_err(caller.err())?;
    Ok(Json(user_out(&u)))
}
