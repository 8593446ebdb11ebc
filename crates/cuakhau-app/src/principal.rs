//! Who asks: a signed-in user, or nobody (the public). Use cases take a [`Principal`] and ask
//! the core's one permission function themselves, so every entry point (HTTP, CLI, a peer
//! node's inbox) gets the same rules.

use crate::{AppError, Result};
use cuakhau_core::auth::{Action, allows};
use cuakhau_store::User;

/// The authenticated caller of a use case.
#[derive(Debug, Clone, Default)]
pub struct Principal {
    pub user: Option<User>,
}

impl Principal {
    /// Nobody signed in.
    pub fn public() -> Self {
        Principal { user: None }
    }
    pub fn user(user: User) -> Self {
        Principal { user: Some(user) }
    }
    /// The signed-in user, or `Unauthenticated`.
    pub fn signed_in(&self) -> Result<&User> {
        self.user.as_ref().ok_or(AppError::Unauthenticated)
    }
    /// The user when their roles allow `action`: `Unauthenticated` for nobody, `Forbidden` else.
    pub fn require(&self, action: Action<'_>) -> Result<&User> {
        let u = self.signed_in()?;
        if allows(&u.roles, action) { Ok(u) } else { Err(AppError::Forbidden) }
    }
    /// Whether the principal's roles allow `action` (false for nobody).
    pub fn may(&self, action: Action<'_>) -> bool {
        self.user.as_ref().is_some_and(|u| allows(&u.roles, action))
    }
    /// The principal's roles (none for nobody).
    pub fn roles(&self) -> &[cuakhau_core::Role] {
        self.user.as_ref().map_or(&[][..], |u| &u.roles[..])
    }
}
