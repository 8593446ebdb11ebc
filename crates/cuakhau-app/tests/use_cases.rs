//! The use cases without HTTP: the same rules a request meets hold for any caller of the app
//! (the CLI, the background loop, a peer node's inbox), and kinds come back instead of prose.

use cuakhau_app::{App, AppError, Clock, Entropy, Principal, Ticker, What};
use cuakhau_core::{Direction, GatePairId, Role, Timestamp};
use cuakhau_store::{Actor, NewUser, Store};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// 2026-11-23 03:00 UTC: 10:00 in Hà Nội.
const NOW: Timestamp = Timestamp(1_795_402_800_000_000);

#[derive(Debug)]
struct Fixed;
impl Clock for Fixed {
    fn now(&self) -> Timestamp {
        NOW
    }
}

#[derive(Debug, Default)]
struct Manual(Mutex<Duration>);
impl Ticker for Manual {
    fn elapsed(&self) -> Duration {
        *self.0.lock().unwrap()
    }
}

#[derive(Debug)]
struct Zeros;
impl Entropy for Zeros {
    fn fill(&self, buf: &mut [u8]) {
        buf.fill(7);
    }
}

async fn app() -> (tempfile::TempDir, App, Arc<Manual>, Arc<dyn Store>) {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> =
        Arc::new(cuakhau_store_sqlite::SqliteStore::open(&format!("sqlite:{}", dir.path().join("a.db").display())).await.unwrap());
    store.load_reference(&cuakhau_data::bundled().unwrap(), Actor { name: "test", at: NOW }).await.unwrap();
    let ticker = Arc::new(Manual::default());
    let app = App::new(store.clone(), Arc::new(Fixed), ticker.clone(), Arc::new(Zeros), Default::default());
    (dir, app, ticker, store)
}

fn user(role: &str) -> Principal {
    Principal::user(cuakhau_store::User {
        id: cuakhau_core::UserId(1),
        username: role.into(),
        display_name: role.into(),
        roles: vec![Role::parse(role).unwrap()],
        created_at: NOW,
        disabled: false,
    })
}

#[tokio::test]
async fn a_use_case_refuses_by_the_principal_s_roles_without_http() {
    let (_dir, app, _, _) = app().await;
    let pair = GatePairId::parse("huu-nghi").unwrap();
    let gate = app.gate();
    assert!(matches!(gate.dispatch(&Principal::public(), &pair, Direction::Export).await, Err(AppError::Unauthenticated)));
    assert!(matches!(gate.dispatch(&user("driver"), &pair, Direction::Export).await, Err(AppError::Forbidden)));
    // The importing side's board may not dispatch exports; the exporting side's may.
    assert!(matches!(gate.dispatch(&user("officer:CN:gate-board:huu-nghi"), &pair, Direction::Export).await, Err(AppError::Forbidden)));
    assert!(gate.dispatch(&user("officer:VN:gate-board:huu-nghi"), &pair, Direction::Export).await.is_ok());
    // Someone else's declaration does not exist, as far as the caller can tell: a kind, no prose.
    match app.goods().declaration(&user("enterprise:0101234567"), cuakhau_core::DeclarationId(42)).await {
        Err(AppError::NotFound(What::Declaration(cuakhau_core::DeclarationId(42)))) => {}
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn the_reference_cache_ages_on_the_injected_ticker() {
    let (_dir, app, ticker, store) = app().await;
    let first = app.reference().data().await.unwrap();
    // Another node changes a lane behind this one's back.
    let mut lane = first.lanes[0].clone();
    lane.capacity_per_hour += 1;
    store.put_lane(&lane, Actor { name: "other-node", at: NOW }).await.unwrap();
    assert_eq!(app.reference().data().await.unwrap().lanes[0].capacity_per_hour, first.lanes[0].capacity_per_hour, "still cached");
    *ticker.0.lock().unwrap() += Duration::from_secs(5);
    assert_eq!(app.reference().data().await.unwrap().lanes[0].capacity_per_hour, lane.capacity_per_hour, "stale after the TTL");
}

#[tokio::test]
async fn sign_ins_are_throttled_per_account_by_the_app() {
    let (_dir, app, _, store) = app().await;
    let phc = cuakhau_app::secrets::hash_password(app.entropy(), "correct horse battery");
    let nu = NewUser { username: "lan".into(), display_name: "Lan".into(), password_hash: phc, roles: vec![Role::Admin] };
    store.create_user(nu, Actor { name: "test", at: NOW }).await.unwrap();
    for _ in 0..cuakhau_app::throttle::FREE {
        assert!(matches!(app.accounts().login("lan", "wrong password!", None).await, Err(AppError::WrongCredentials)));
    }
    assert!(matches!(
        app.accounts().login("lan", "correct horse battery", None).await,
        Err(AppError::TooManyAttempts { retry_after_s: 1 })
    ));
}

/// With a read store (a replica's stand-in: another database), the public board is read there and
/// an officer's board on the primary; a store that is its own database reports no lag.
#[tokio::test]
async fn the_public_board_is_read_from_the_read_store_and_an_officer_s_from_the_primary() {
    let (dir, app, _, _) = app().await;
    let reads: Arc<dyn Store> =
        Arc::new(cuakhau_store_sqlite::SqliteStore::open(&format!("sqlite:{}", dir.path().join("b.db").display())).await.unwrap());
    reads.load_reference(&cuakhau_data::bundled().unwrap(), Actor { name: "test", at: NOW }).await.unwrap();
    reads.put_setting("demo", "only in the read store", Actor { name: "test", at: NOW }).await.unwrap();
    let pair = GatePairId::parse("huu-nghi").unwrap();
    assert!(!app.gate().public_board(&pair, Direction::Export).await.unwrap().demo, "without a read store: the primary");
    let app = app.reading_from(reads);
    let public = app.gate().public_board(&pair, Direction::Export).await.unwrap();
    assert!(public.demo, "the public board comes from the read store");
    assert_eq!((public.replica_lag_s, public.as_of), (None, NOW), "SQLite is no replica: no lag, as of now");
    assert!(!app.gate().board(&pair, Direction::Export, true).await.unwrap().demo, "an officer's board comes from the primary");
    assert_eq!(app.replica_lag().await.unwrap(), None);
}
