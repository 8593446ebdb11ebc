//! Conformance stories of the accounts context: users and sessions.

use super::*;

pub async fn users_and_sessions(s: &dyn Store) {
    let new = |name: &str| NewUser {
        username: name.into(),
        display_name: "Nguyễn Văn A".into(),
        password_hash: "$argon2id$fake-for-store-test".into(),
        roles: vec![Role::parse("officer:VN:gate-board:huu-nghi").unwrap()],
    };
    let u = s.create_user(new("lan"), actor("admin")).await.unwrap();
    assert_eq!(u.roles, new("lan").roles);
    assert!(matches!(s.create_user(new("lan"), actor("admin")).await, Err(StoreError::Conflict(_))));
    let (found, hash) = s.user_credentials("lan").await.unwrap().unwrap();
    assert_eq!((found.id, hash.as_str()), (u.id, "$argon2id$fake-for-store-test"));
    assert!(s.user_credentials("nobody").await.unwrap().is_none());

    s.create_session("h1", u.id, T0.plus_seconds(3600), actor("lan")).await.unwrap();
    assert_eq!(s.session_user("h1", T0).await.unwrap().unwrap().username, "lan");
    assert!(s.session_user("h1", T0.plus_seconds(3600)).await.unwrap().is_none(), "expired");
    assert!(s.session_user("h2", T0).await.unwrap().is_none());
    assert!(s.delete_session("h1", actor("lan")).await.unwrap());
    assert!(!s.delete_session("h1", actor("lan")).await.unwrap());
    assert!(s.session_user("h1", T0).await.unwrap().is_none());

    s.create_session("h3", u.id, T0.plus_seconds(3600), actor("lan")).await.unwrap();
    s.set_password("lan", "$argon2id$new", actor("admin")).await.unwrap();
    assert!(s.session_user("h3", T0).await.unwrap().is_none(), "a new password ends sessions");
    assert!(matches!(s.set_password("nobody", "x", actor("admin")).await, Err(StoreError::NotFound(_))));
    assert_eq!(s.list_users().await.unwrap().len(), 1);
    // create, create(conflict: rolled back), login, logout, login, password
    assert_eq!(audit_len(s).await, 5);
}

/// The `i`-th of many users created at once: every second one takes the same name.
pub fn concurrent_user(i: usize) -> NewUser {
    let username = if i.is_multiple_of(2) { "same".to_string() } else { format!("user{i}") };
    NewUser { username, display_name: "x".into(), password_hash: "h".into(), roles: vec![] }
}

/// Writes refused among many at once (a taken user name) change nothing, and the others land
/// with one intact audit chain (on SQLite they share group commits, each in its own savepoint).
pub async fn concurrent_users_check(s: &dyn Store, results: Vec<crate::Result<crate::User>>) {
    let n = results.len();
    let created = results.iter().filter(|r| r.is_ok()).count();
    let taken = results.iter().filter(|r| matches!(r, Err(StoreError::Conflict(crate::ConflictKind::UsernameTaken { .. })))).count();
    assert_eq!((created, taken), (n / 2 + 1, n / 2 - 1), "{results:?}");
    assert_eq!(s.list_users().await.unwrap().len(), created);
    assert_eq!(audit_len(s).await, created as i64, "one audit entry per user created, none for a refusal");
    assert_eq!(s.verify_audit().await.unwrap(), Ok(created as i64));
}
