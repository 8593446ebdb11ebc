//! Accounts: signing in and out (throttled per account and per address, failures audited),
//! sessions (cached a few seconds), and managing users (admins; everyone their own password).

use crate::secrets::{hash_password, new_token, token_hash, verify_password_off_thread};
use crate::{App, AppError, Principal, Result, caches};
use cuakhau_core::auth::Action;
use cuakhau_core::{FieldError, Problem, Role, Timestamp, validate};
use cuakhau_store::{Actor, NewUser, User, UserChange};

/// The account use cases.
#[derive(Debug, Clone, Copy)]
pub struct Accounts<'a>(pub(crate) &'a App);

/// Passwords shorter than this are refused.
pub const PASSWORD_MIN_CHARS: usize = 10;

/// A valid Argon2id hash of a random password, for constant-work failed logins.
const DUMMY_PHC: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$L4eLlgd3qGh8bPp5l/WqzdoZ8Q2Jm7Lq3jv0Q2r4YpQ";

/// A new session: the token (given to the client once, stored only as its hash), its expiry and
/// its user.
#[derive(Debug, Clone)]
pub struct Session {
    pub token: String,
    pub expires_at: Timestamp,
    pub user: User,
}

/// What a new account is asked to be, before validation.
#[derive(Debug, Clone)]
pub struct NewAccount<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub password: &'a str,
    pub roles: &'a [String],
}

/// A password the rules accept.
pub fn check_password(p: &str) -> Result<(), FieldError> {
    if p.chars().count() < PASSWORD_MIN_CHARS {
        return Err(FieldError::new("password", Problem::Other("at least 10 characters / ít nhất 10 ký tự / 至少 10 个字符")));
    }
    if p.len() > 1024 {
        return Err(FieldError::new("password", Problem::TooLong { max: 1024 }));
    }
    Ok(())
}

/// Validates a new account into a `NewUser`, its password hashed with salt from `app`'s entropy.
pub fn new_user(app: &App, req: &NewAccount<'_>) -> Result<NewUser, FieldError> {
    let username = validate::text("username", req.username, 64)?;
    if !username.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)) {
        return Err(FieldError::new("username", Problem::BadSlug));
    }
    let display_name = validate::text("display_name", req.display_name, 200)?;
    check_password(req.password)?;
    if req.roles.is_empty() {
        return Err(FieldError::new("roles", Problem::Empty));
    }
    let roles = req.roles.iter().map(|r| Role::parse(r)).collect::<Result<Vec<_>, _>>()?;
    Ok(NewUser { username, display_name, password_hash: hash_password(app.entropy(), req.password), roles })
}

impl Accounts<'_> {
    /// Signs in: throttled per account and per `address` (any string naming where the try came
    /// from) before any work is done; a failure is audited as the name tried.
    pub async fn login(&self, username: &str, password: &str, address: Option<&str>) -> Result<Session> {
        let app = self.0;
        let now = app.now();
        let mut keys = vec![format!("user:{}", username.trim().to_lowercase())];
        if let Some(a) = address {
            keys.push(format!("addr:{a}"));
        }
        let logins = &app.inner.logins;
        let wait = logins.wait_s(&keys, now);
        if wait > 0 {
            return Err(AppError::TooManyAttempts { retry_after_s: wait });
        }
        let found = app.store().user_credentials(username).await?;
        // Hash even for an unknown user, so response time does not reveal which names exist.
        let (user, ok) = match found {
            Some((user, phc)) => (Some(user), verify_password_off_thread(password.to_string(), phc).await),
            None => {
                verify_password_off_thread(password.to_string(), DUMMY_PHC.to_string()).await;
                (None, false)
            }
        };
        // A disabled account is refused like a wrong password (nothing tells it exists).
        let Some(user) = user.filter(|u| ok && !u.disabled) else {
            logins.failed(&keys, now);
            // Failed sign-ins are audited (as the name tried; never the password).
            let tried: String = username.chars().take(64).collect();
            app.store().record_failed_login(&tried, Actor { name: "anonymous", at: now }).await?;
            return Err(AppError::WrongCredentials);
        };
        logins.succeeded(&keys[0]);
        let token = new_token(app.entropy());
        let expires_at = now.plus_seconds(app.config().session_ttl_s);
        app.store().create_session(&token_hash(&token), user.id, expires_at, Actor { name: &user.username, at: now }).await?;
        Ok(Session { token, expires_at, user })
    }

    /// Ends the session of `token`.
    pub async fn logout(&self, who: &Principal, token: &str) -> Result<()> {
        let user = who.signed_in()?;
        let hash = token_hash(token);
        self.0.store().delete_session(&hash, Actor { name: &user.username, at: self.0.now() }).await?;
        self.sessions_changed(Some(&hash), None);
        self.0.events().account(&user.username);
        Ok(())
    }

    /// The user of a live session, from the cache when checked within the last seconds. Cache
    /// age is read on the injected clock, so that tests moving time see expiries at once.
    pub async fn session_user(&self, token: &str) -> Result<Option<User>> {
        let app = self.0;
        let hash = token_hash(token);
        let now = app.now();
        let ttl = caches::TTL.as_micros() as i64;
        let fresh = |at: &Timestamp| *at <= now && now.as_micros() - at.as_micros() < ttl;
        let map = &app.inner.caches.sessions;
        if let Some((_, u)) = map.lock().expect("not poisoned").get(&hash).filter(|(at, _)| fresh(at)) {
            return Ok(Some(u.clone()));
        }
        let user = app.store().session_user(&hash, now).await?;
        let mut map = map.lock().expect("not poisoned");
        match &user {
            Some(u) => {
                if map.len() >= caches::SESSIONS_MAX {
                    map.retain(|_, (at, _)| fresh(at));
                }
                map.insert(hash, (now, u.clone()));
            }
            None => {
                map.remove(&hash);
            }
        }
        Ok(user)
    }

    /// Forgets cached sessions: one token hash's, or every session of a user.
    pub(crate) fn sessions_changed(&self, token_hash: Option<&str>, username: Option<&str>) {
        let mut map = self.0.inner.caches.sessions.lock().expect("not poisoned");
        if let Some(t) = token_hash {
            map.remove(t);
        }
        if let Some(name) = username {
            map.retain(|_, (_, u)| u.username != name);
        }
    }

    pub async fn users(&self, who: &Principal) -> Result<Vec<User>> {
        who.require(Action::ManageUsers)?;
        Ok(self.0.store().list_users().await?)
    }

    /// Creates an account: admins only (the CLI, which holds the database, validates the first one
    /// with [`new_user`] and stores it itself).
    pub async fn create_user(&self, who: &Principal, req: &NewAccount<'_>) -> Result<User> {
        let admin = who.require(Action::ManageUsers)?;
        let nu = new_user(self.0, req)?;
        Ok(self.0.store().create_user(nu, Actor { name: &admin.username, at: self.0.now() }).await?)
    }

    /// Sets a password: users their own, proving the current one (a borrowed session is not
    /// enough); admins anyone else's. Ends the account's cached sessions.
    pub async fn set_password(&self, who: &Principal, username: &str, current: Option<&str>, password: &str) -> Result<()> {
        let me = who.signed_in()?;
        if me.username != username {
            who.require(Action::ManageUsers)?;
        } else {
            let (_, phc) = self.0.store().user_credentials(username).await?.ok_or(AppError::Unauthenticated)?;
            if !verify_password_off_thread(current.unwrap_or_default().to_string(), phc).await {
                return Err(AppError::Invalid(FieldError::new("current_password", Problem::Other("the current password is not right"))));
            }
        }
        check_password(password)?;
        let phc = hash_password(self.0.entropy(), password);
        self.0.store().set_password(username, &phc, Actor { name: &me.username, at: self.0.now() }).await?;
        self.sessions_changed(None, Some(username));
        self.0.events().account(username);
        Ok(())
    }

    /// Changes an account's roles or disables it (admins; never themselves out).
    pub async fn update_user(&self, who: &Principal, username: &str, roles: Option<&[String]>, disabled: Option<bool>) -> Result<User> {
        let admin = who.require(Action::ManageUsers)?;
        let roles = match roles {
            Some([]) => return Err(AppError::Invalid(FieldError::new("roles", Problem::Empty))),
            Some(rs) => Some(rs.iter().map(|r| Role::parse(r)).collect::<Result<Vec<_>, _>>()?),
            None => None,
        };
        if admin.username == username && (disabled == Some(true) || roles.as_ref().is_some_and(|r| !r.contains(&Role::Admin))) {
            return Err(AppError::Invalid(FieldError::new("username", Problem::Other("an administrator cannot lock themselves out"))));
        }
        let u =
            self.0.store().update_user(username, UserChange { roles, disabled }, Actor { name: &admin.username, at: self.0.now() }).await?;
        // Every cached session of the account is forgotten now; a disabled one's were deleted.
        self.sessions_changed(None, Some(username));
        self.0.events().account(username);
        Ok(u)
    }
}
