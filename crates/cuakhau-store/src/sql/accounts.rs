//! The accounts context's SQL: users, sessions, failed sign-ins and idempotency keys.

use super::audit::append;
use super::{Conn, Engine, FromRow, Row, all, always, one, opt, params};
use crate::records::{self, UserRec, snapshot};
use crate::{AccountStore, Actor, ConflictKind, Missing, NewUser, Result, StoreError, User, UserChange};
use async_trait::async_trait;
use cuakhau_core::{Timestamp, UserId};

impl FromRow for UserRec {
    fn from_row(r: &Row) -> Result<Self> {
        Ok(UserRec {
            id: r.get("id")?,
            username: r.get("username")?,
            display_name: r.get("display_name")?,
            roles: r.get("roles")?,
            created_at_us: r.get("created_at_us")?,
            disabled_at_us: r.get("disabled_at_us")?,
        })
    }
}

/// A user and their password hash.
struct Credentials(UserRec, String);

impl FromRow for Credentials {
    fn from_row(r: &Row) -> Result<Self> {
        Ok(Credentials(UserRec::from_row(r)?, r.get("password_hash")?))
    }
}

pub async fn read_user<C: Conn>(c: &mut C, username: &str) -> Result<Option<(User, String)>> {
    let sql = "SELECT id, username, display_name, roles, created_at_us, disabled_at_us, password_hash FROM users WHERE username = $1";
    let Some(Credentials(u, hash)) = opt(c, sql, params![username]).await? else { return Ok(None) };
    Ok(Some((u.into_domain()?, hash)))
}

async fn require_user<C: Conn>(c: &mut C, username: &str) -> Result<User> {
    Ok(read_user(c, username).await?.ok_or_else(|| StoreError::NotFound(Missing::User(username.to_string())))?.0)
}

pub async fn create_user<C: Conn>(c: &mut C, user: &NewUser, actor: Actor<'_>) -> Result<User> {
    let row = one(
        c,
        "INSERT INTO users (username, display_name, password_hash, roles, created_at_us) VALUES ($1, $2, $3, $4, $5)
         RETURNING id, username, display_name, roles, created_at_us, disabled_at_us",
        params![&user.username, &user.display_name, &user.password_hash, records::roles_text(&user.roles), actor.at.as_micros()],
    )
    .await
    .map_err(|e| match e {
        StoreError::Conflict(ConflictKind::Duplicate) => {
            StoreError::Conflict(ConflictKind::UsernameTaken { username: user.username.clone() })
        }
        other => other,
    })?;
    let created = UserRec::from_row(&row)?.into_domain()?;
    append(c, &actor, None, "user.create", format!("user/{}", created.username), None, Some(snapshot::user(&created))).await?;
    Ok(created)
}

pub async fn set_password<C: Conn>(c: &mut C, username: &str, password_hash: &str, actor: Actor<'_>) -> Result<()> {
    let n = c.execute("UPDATE users SET password_hash = $1 WHERE username = $2", params![password_hash, username]).await?;
    if n == 0 {
        return Err(StoreError::NotFound(Missing::User(username.to_string())));
    }
    // A new password ends every session of that user.
    c.execute("DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE username = $1)", params![username]).await?;
    append(c, &actor, None, "user.password", format!("user/{username}"), None, None).await
}

pub async fn update_user<C: Conn>(c: &mut C, username: &str, change: &UserChange, actor: Actor<'_>) -> Result<User> {
    let before = require_user(c, username).await?;
    if let Some(roles) = &change.roles {
        c.execute("UPDATE users SET roles = $1 WHERE username = $2", params![records::roles_text(roles), username]).await?;
    }
    match change.disabled {
        Some(true) if !before.disabled => {
            c.execute("UPDATE users SET disabled_at_us = $1 WHERE username = $2", params![actor.at.as_micros(), username]).await?;
            // A disabled account's sessions end with it, in the same transaction.
            c.execute("DELETE FROM sessions WHERE user_id = $1", params![before.id]).await?;
        }
        Some(false) if before.disabled => {
            c.execute("UPDATE users SET disabled_at_us = NULL WHERE username = $1", params![username]).await?;
        }
        _ => {}
    }
    let after = require_user(c, username).await?;
    let state = |u: &User| serde_json::json!({"roles": records::roles_text(&u.roles), "disabled": u.disabled}).to_string();
    append(c, &actor, None, "user.update", format!("user/{username}"), Some(state(&before)), Some(state(&after))).await?;
    Ok(after)
}

pub async fn create_session<C: Conn>(c: &mut C, token_hash: &str, user_id: UserId, expires_at: Timestamp, actor: Actor<'_>) -> Result<()> {
    c.execute(
        "INSERT INTO sessions (token_hash, user_id, created_at_us, expires_at_us) VALUES ($1, $2, $3, $4)",
        params![token_hash, user_id, actor.at.as_micros(), expires_at.as_micros()],
    )
    .await?;
    append(c, &actor, None, "session.login", format!("user/{}", actor.name), None, None).await
}

pub async fn session_user<C: Conn>(c: &mut C, token_hash: &str, now: Timestamp) -> Result<Option<User>> {
    let sql = "SELECT u.id, u.username, u.display_name, u.roles, u.created_at_us, u.disabled_at_us FROM sessions s JOIN users u ON u.id = s.user_id
               WHERE s.token_hash = $1 AND s.expires_at_us > $2 AND u.disabled_at_us IS NULL";
    opt::<UserRec, _>(c, sql, params![token_hash, now.as_micros()]).await?.map(UserRec::into_domain).transpose()
}

pub async fn delete_session<C: Conn>(c: &mut C, token_hash: &str, actor: Actor<'_>) -> Result<bool> {
    let n = c.execute("DELETE FROM sessions WHERE token_hash = $1", params![token_hash]).await?;
    if n > 0 {
        append(c, &actor, None, "session.logout", format!("user/{}", actor.name), None, None).await?;
    }
    Ok(n > 0)
}

/// What an idempotency claim found: the request's hash and, once finished, its status and body.
type Claimed = Option<(String, Option<(u16, String)>)>;

pub async fn idempotency_claim<C: Conn>(
    c: &mut C,
    scope: &str,
    request_hash: &str,
    now: Timestamp,
    stale_before: Timestamp,
) -> Result<Claimed> {
    c.execute(
        "DELETE FROM idempotency WHERE scope = $1 AND status IS NULL AND created_at_us < $2",
        params![scope, stale_before.as_micros()],
    )
    .await?;
    let inserted = c
        .execute(
            "INSERT INTO idempotency (scope, request_hash, created_at_us) VALUES ($1, $2, $3) ON CONFLICT (scope) DO NOTHING",
            params![scope, request_hash, now.as_micros()],
        )
        .await?;
    if inserted == 1 {
        return Ok(None);
    }
    let row = one(c, "SELECT request_hash, status, body FROM idempotency WHERE scope = $1", params![scope]).await?;
    let status: Option<i64> = row.get("status")?;
    let body: Option<String> = row.get("body")?;
    Ok(Some((row.get("request_hash")?, status.map(|s| (s as u16, body.unwrap_or_default())))))
}

pub async fn idempotency_finish<C: Conn>(c: &mut C, scope: &str, answer: Option<(u16, &str)>) -> Result<()> {
    match answer {
        Some((status, body)) => {
            c.execute("UPDATE idempotency SET status = $1, body = $2 WHERE scope = $3", params![i64::from(status), body, scope]).await?
        }
        None => c.execute("DELETE FROM idempotency WHERE scope = $1", params![scope]).await?,
    };
    Ok(())
}

#[async_trait]
impl<E: Engine> AccountStore for E {
    async fn create_user(&self, user: NewUser, actor: Actor<'_>) -> Result<User> {
        self.write((user, actor.owned()), always, |c, (user, a)| Box::pin(create_user(c, user, a.actor()))).await
    }

    async fn list_users(&self) -> Result<Vec<User>> {
        self.read((), |c, ()| {
            Box::pin(async move {
                let sql = "SELECT id, username, display_name, roles, created_at_us, disabled_at_us FROM users ORDER BY username";
                all::<UserRec, _>(c, sql, &[]).await?.into_iter().map(UserRec::into_domain).collect()
            })
        })
        .await
    }

    async fn user_credentials(&self, username: &str) -> Result<Option<(User, String)>> {
        self.read(username.to_string(), |c, u| Box::pin(read_user(c, u))).await
    }

    async fn set_password(&self, username: &str, password_hash: &str, actor: Actor<'_>) -> Result<()> {
        self.write((username.to_string(), password_hash.to_string(), actor.owned()), always, |c, (u, h, a)| {
            Box::pin(set_password(c, u, h, a.actor()))
        })
        .await
    }

    async fn update_user(&self, username: &str, change: UserChange, actor: Actor<'_>) -> Result<User> {
        self.write((username.to_string(), change, actor.owned()), always, |c, (u, ch, a)| Box::pin(update_user(c, u, ch, a.actor()))).await
    }

    async fn create_session(&self, token_hash: &str, user_id: UserId, expires_at: Timestamp, actor: Actor<'_>) -> Result<()> {
        self.write((token_hash.to_string(), user_id, expires_at, actor.owned()), always, |c, (t, u, e, a)| {
            Box::pin(create_session(c, t, *u, *e, a.actor()))
        })
        .await
    }

    async fn session_user(&self, token_hash: &str, now: Timestamp) -> Result<Option<User>> {
        self.read((token_hash.to_string(), now), |c, (t, now)| Box::pin(session_user(c, t, *now))).await
    }

    async fn record_failed_login(&self, username: &str, actor: Actor<'_>) -> Result<()> {
        self.write((username.to_string(), actor.owned()), always, |c, (u, a)| {
            Box::pin(async move { append(c, &a.actor(), None, "session.login-failed", format!("user/{u}"), None, None).await })
        })
        .await
    }

    async fn delete_session(&self, token_hash: &str, actor: Actor<'_>) -> Result<bool> {
        self.write((token_hash.to_string(), actor.owned()), always, |c, (t, a)| Box::pin(delete_session(c, t, a.actor()))).await
    }

    async fn idempotency_claim(&self, scope: &str, request_hash: &str, now: Timestamp, stale_before: Timestamp) -> Result<Claimed> {
        self.write((scope.to_string(), request_hash.to_string(), now, stale_before), always, |c, (s, h, now, stale)| {
            Box::pin(idempotency_claim(c, s, h, *now, *stale))
        })
        .await
    }

    async fn idempotency_finish(&self, scope: &str, answer: Option<(u16, &str)>) -> Result<()> {
        let answer = answer.map(|(s, b)| (s, b.to_string()));
        self.write((scope.to_string(), answer), always, |c, (s, answer)| {
            Box::pin(idempotency_finish(c, s, answer.as_ref().map(|(st, b)| (*st, b.as_str()))))
        })
        .await
    }
}
