//! Live boards over server-sent events, cheap for thousands of viewers of one board.
//!
//! A board (gate pair, direction, detailed or public) is built once per change and kept as the
//! bytes of one whole event ([`SharedBoard`]), shared by every viewer. One feed per board
//! ([`Feed`]) does the work once: its task hears the gate pair's changes, coalesces those that come
//! within [`COALESCE`] of the last board, builds the board, and wakes its viewers in batches
//! (pausing between batches, so other requests are served meanwhile); it also sends the one
//! keep-alive comment after [`KEEP_ALIVE`] without a board. A viewer ([`Viewer`]) is only the body of
//! its response: when polled it copies the feed's newest board (a reference count) or leaves its
//! waker; it has no task, timer or channel of its own. A signed-in officer's detailed view also
//! has a small task that asks the session again when the account changes, and moves the viewer
//! to the public feed when it no longer grants the detail.
//!
//! A board also turns with no change: when a side opens or closes by the clock, or the next hour
//! begins ([`SharedBoard::turns_at`]); the feed builds it again then.
//!
//! Event ids: `id:` is the store's last committed change (audit sequence number) read before the
//! board, the same on every process over one database, then `.` and the second the board turns,
//! then `d` for a detailed board. A viewer that reconnects (to any process) with `Last-Event-ID`
//! is never sent a board older than the one it has, and is sent nothing until the next change or
//! turn when it already has the current one.

use crate::AppState;
use crate::error::ApiError;
use axum::body::Bytes;
use cuakhau_core::{Direction, GatePairId, Lang, Timestamp};
use hyper::body::Frame;
use std::collections::HashMap;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// How long a feed with no board to send waits before it sends a keep-alive comment.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// A feed sends at most one board per this long: changes that come sooner (a dispatch round
/// calling ten trucks) are sent together, in the next board. A change after a quiet while is sent
/// at once.
pub const COALESCE: Duration = Duration::from_millis(250);
/// Viewers woken at a time before a feed lets other tasks run for [`WAKE_PAUSE`].
const WAKE_BATCH: usize = 128;
const WAKE_PAUSE: Duration = Duration::from_millis(1);

/// Gate pair, direction, full plates or not.
type BoardKey = (String, Direction, bool);
/// One board's latest build; the async lock makes its rebuild a single flight.
type BoardSlot = Arc<tokio::sync::Mutex<Option<Arc<SharedBoard>>>>;

/// The boards and feeds of this process (see the module's documentation).
#[derive(Debug, Default)]
pub struct BoardCache {
    boards: Mutex<HashMap<BoardKey, BoardSlot>>,
    feeds: Mutex<HashMap<BoardKey, Arc<Feed>>>,
    /// Numbers every board built, so a viewer never gets the same one twice.
    built: AtomicU64,
}

/// A board as every viewer gets it.
#[derive(Debug)]
pub struct SharedBoard {
    /// This process's number for this build.
    serial: u64,
    /// The change generation (the app's event bus) it was made at, and when (on the ticker).
    generation: u64,
    made: Duration,
    /// Every change committed up to this audit sequence number is in it (its event id).
    pub(crate) changes: i64,
    /// From this instant on the board says something else with no change committed (a side
    /// opens or closes): it is not reused from then, and a live board is built again then.
    pub(crate) turns_at: Timestamp,
    /// The whole server-sent event, encoded once and shared by every viewer (a clone of `Bytes`
    /// is a reference count): `event: queue`, the id, `retry:` two seconds, and the board as one
    /// line of JSON.
    pub(crate) frame: Bytes,
    /// The board's JSON alone (a slice of `frame`), as a public read of the board answers it.
    pub(crate) json: Bytes,
}

impl BoardCache {
    /// A snapshot is reused while nothing changed and for at most this long (times in it move on).
    const MAX_AGE: Duration = Duration::from_secs(1);
}

/// What a board's event id says: the last change in it, the instant it turns (in whole seconds;
/// see [`SharedBoard::turns_at`]) and whether it is the detailed board. Two builds with the same
/// id say the same thing.
pub(crate) type BoardId = (i64, Option<i64>, bool);

/// The event id of a board: its change number, then `.` and the second it turns (if it does),
/// then `d` for the detailed board: `N`, `N.T`, `Nd` or `N.Td`.
pub(crate) fn event_id((changes, turn, detail): BoardId) -> String {
    let turn = turn.map(|t| format!(".{t}")).unwrap_or_default();
    format!("{changes}{turn}{}", if detail { "d" } else { "" })
}

/// A `Last-Event-ID` as [`event_id`] writes it; anything else is `None` (and the route refuses it).
pub(crate) fn parse_event_id(id: &str) -> Option<BoardId> {
    let (rest, detail) = match id.strip_suffix('d') {
        Some(n) => (n, true),
        None => (id, false),
    };
    let number = |n: &str| n.bytes().all(|b| b.is_ascii_digit()).then(|| n.parse::<i64>().ok()).flatten();
    match rest.split_once('.') {
        None => Some((number(rest)?, None, detail)),
        Some((n, t)) => Some((number(n)?, Some(number(t)?), detail)),
    }
}

/// The id of a board holding `changes` and turning at `turns_at` (in whole seconds).
fn board_id(changes: i64, turns_at: Timestamp, detail: bool) -> BoardId {
    (changes, Some(turns_at.as_micros().div_euclid(1_000_000)), detail)
}

impl SharedBoard {
    /// What its event id says.
    pub(crate) fn id(&self, detail: bool) -> BoardId {
        board_id(self.changes, self.turns_at, detail)
    }
}

/// The board for a stream: the shared snapshot when it is current and holds every change up to
/// `at_least`, else one fresh build that every waiting stream shares.
pub(crate) async fn shared_snapshot(
    st: &AppState,
    lang: Lang,
    pair: &GatePairId,
    direction: Direction,
    detail: bool,
    at_least: i64,
) -> Result<Arc<SharedBoard>, ApiError> {
    let key = (pair.as_str().to_string(), direction, detail);
    let slot = st.boards.boards.lock().expect("not poisoned").entry(key.clone()).or_default().clone();
    let mut cell = slot.lock().await;
    let generation = st.app.events().generation();
    let now = st.app.ticker().elapsed();
    let clock = st.app.now();
    let unturned = |b: &Arc<SharedBoard>| clock < b.turns_at;
    let current = |b: &&Arc<SharedBoard>| {
        b.generation == generation && now.saturating_sub(b.made) < BoardCache::MAX_AGE && b.changes >= at_least && unturned(b)
    };
    if let Some(b) = cell.as_ref().filter(current) {
        return Ok(b.clone());
    }
    // A viewer says it has a board newer than this one (from another process, or an id beyond
    // anything committed): rebuilt only if the store has committed past this board, so an id out
    // of range costs one small read, not a board each time.
    let fresh = |b: &&Arc<SharedBoard>| b.generation == generation && now.saturating_sub(b.made) < BoardCache::MAX_AGE && unturned(b);
    if let Some(b) = cell.as_ref().filter(fresh)
        && st.app.gate().changes(pair).await.is_ok_and(|now| now <= b.changes)
    {
        return Ok(b.clone());
    }
    let board = match st.app.gate().board(pair, direction, detail).await {
        Ok(board) => board,
        Err(e) => {
            // No slot is kept for a board never built (a gate pair that does not exist): anyone
            // may ask for any name, and the map would grow with each.
            if cell.is_none() {
                let mut boards = st.boards.boards.lock().expect("not poisoned");
                if boards.get(&key).is_some_and(|s| Arc::ptr_eq(s, &slot)) {
                    boards.remove(&key);
                }
            }
            return Err(ApiError::app(lang, e));
        }
    };
    let doc = super::gate::board_out(&board);
    let id = board_id(board.changes, board.turns_at, detail);
    // Compact JSON holds no line break, so it is one `data:` line.
    let head = format!("event: queue\nid: {}\nretry: 2000\ndata: ", event_id(id));
    let mut bytes = Vec::with_capacity(head.len() + 4096);
    bytes.extend_from_slice(head.as_bytes());
    if let Err(e) = serde_json::to_writer(&mut bytes, &doc) {
        // Never a half board on the wire: nothing is kept or sent.
        tracing::error!(gate_pair = pair.as_str(), "a board could not be written as JSON: {e}");
        return Err(ApiError::new(lang, axum::http::StatusCode::INTERNAL_SERVER_ERROR, cuakhau_core::i18n::Msg::Internal));
    }
    let end = bytes.len();
    bytes.extend_from_slice(b"\n\n");
    let frame = Bytes::from(bytes);
    let json = frame.slice(head.len()..end);
    let serial = st.boards.built.fetch_add(1, Ordering::Relaxed) + 1;
    let board = Arc::new(SharedBoard { serial, generation, made: now, changes: board.changes, turns_at: board.turns_at, frame, json });
    *cell = Some(board.clone());
    Ok(board)
}

/// One board's viewers and the newest board they are sent.
#[derive(Debug)]
pub struct Feed {
    key: BoardKey,
    viewers: AtomicUsize,
    state: Mutex<FeedState>,
}

#[derive(Debug, Default)]
struct FeedState {
    board: Option<Arc<SharedBoard>>,
    /// Boards and keep-alives sent so far.
    boards: u64,
    pings: u64,
    closed: bool,
    /// Incremented each time the waiting viewers are woken; a viewer leaves its waker once a round.
    round: u64,
    waiting: Vec<Waker>,
}

impl Feed {
    /// Sends `board` to every viewer (unless it is the one they have).
    async fn send(&self, board: Option<Arc<SharedBoard>>) {
        let woken = {
            let mut s = self.state.lock().expect("not poisoned");
            match board {
                Some(b) if s.board.as_ref().is_some_and(|old| old.serial == b.serial) => return,
                Some(b) => {
                    s.board = Some(b);
                    s.boards += 1;
                }
                None => s.pings += 1,
            }
            s.round += 1;
            std::mem::take(&mut s.waiting)
        };
        // A pause between batches leaves the threads to other requests: thousands of sockets
        // written at once would otherwise hold them for tens of milliseconds.
        let mut woken = woken.into_iter().peekable();
        while woken.peek().is_some() {
            woken.by_ref().take(WAKE_BATCH).for_each(Waker::wake);
            tokio::time::sleep(WAKE_PAUSE).await;
        }
    }

    fn close(&self) {
        let woken = {
            let mut s = self.state.lock().expect("not poisoned");
            s.closed = true;
            std::mem::take(&mut s.waiting)
        };
        woken.into_iter().for_each(Waker::wake);
    }
}

impl BoardCache {
    /// A viewer of `key`'s feed (started if nobody watches it yet) that has, or is first sent,
    /// `board`: sent first when `send_first`, else the viewer has one saying the same already.
    pub(crate) fn viewer(&self, st: &AppState, key: BoardKey, board: &Arc<SharedBoard>, send_first: bool) -> Viewer {
        let feed = self.join(st, key);
        let (boards, pings) = {
            let s = feed.state.lock().expect("not poisoned");
            // The feed's board is sent too if it is newer: more changes, or turned since.
            let newer = s.board.as_ref().is_some_and(|b| (b.changes, b.turns_at) > (board.changes, board.turns_at));
            (if newer { 0 } else { s.boards }, s.pings)
        };
        let (first, sent) = (send_first.then_some(board), board.changes);
        Viewer {
            st: st.clone(),
            feed,
            first: first.map(|b| b.frame.clone()),
            boards,
            pings,
            round: None,
            sent,
            sent_serial: board.serial,
            revoked: None,
        }
    }

    fn join(&self, st: &AppState, key: BoardKey) -> Arc<Feed> {
        let mut feeds = self.feeds.lock().expect("not poisoned");
        let feed = feeds
            .entry(key.clone())
            .or_insert_with(|| {
                let feed = Arc::new(Feed { key, viewers: AtomicUsize::new(0), state: Default::default() });
                tokio::spawn(run(st.clone(), feed.clone()));
                feed
            })
            .clone();
        feed.viewers.fetch_add(1, Ordering::SeqCst);
        feed
    }

    /// Ends `feed` when nobody watches it any more (under the lock that new viewers join by).
    fn retire(&self, feed: &Arc<Feed>) -> bool {
        if feed.viewers.load(Ordering::SeqCst) > 0 {
            return false;
        }
        let mut feeds = self.feeds.lock().expect("not poisoned");
        if feed.viewers.load(Ordering::SeqCst) > 0 {
            return false;
        }
        if feeds.get(&feed.key).is_some_and(|f| Arc::ptr_eq(f, feed)) {
            feeds.remove(&feed.key);
        }
        feed.close();
        true
    }
}

/// A feed's task: the first board, then one board per change (coalesced), keep-alives while quiet,
/// and the end of every stream when the server stops.
async fn run(st: AppState, feed: Arc<Feed>) {
    let (pair, direction, detail) = feed.key.clone();
    let Ok(id) = GatePairId::parse(&pair) else { return feed.close() };
    let mut changes = st.app.events().subscribe();
    let mut closing = st.closing.subscribe();
    let mut quiet = tokio::time::interval(KEEP_ALIVE);
    quiet.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    quiet.reset();
    let mut last: Option<Duration> = None;
    let mut stale = true;
    // When the board turns by the clock alone (a side opens or closes, a suspension begins or
    // ends): it is built again then, with no change to announce it.
    let mut turns_at: Option<Timestamp> = None;
    let mut clock_moves = st.app.clock().moved();
    loop {
        if stale {
            // At most one board per COALESCE: what comes meanwhile is in the next one.
            if let Some(wait) = last.map(|t| (t + COALESCE).saturating_sub(st.app.ticker().elapsed())).filter(|w| !w.is_zero()) {
                tokio::select! {
                    _ = stopping(&mut closing) => return feed.close(),
                    _ = tokio::time::sleep(wait) => {}
                }
            }
            // Whatever was announced until now is in the board about to be built.
            while let Ok(_) | Err(tokio::sync::broadcast::error::TryRecvError::Lagged(_)) = changes.try_recv() {}
            last = Some(st.app.ticker().elapsed());
            stale = false;
            match shared_snapshot(&st, Lang::En, &id, direction, detail, i64::MIN).await {
                Ok(board) => {
                    turns_at = Some(board.turns_at);
                    feed.send(Some(board)).await;
                    quiet.reset();
                }
                Err(e) => {
                    // Tried again at the next change, not at a turn already past.
                    turns_at = None;
                    tracing::warn!(gate_pair = pair, "a live board could not be built: {:?}", e.status)
                }
            }
        }
        tokio::select! {
            // The server is stopping: end every stream so browsers reconnect elsewhere.
            _ = stopping(&mut closing) => return feed.close(),
            got = changes.recv() => match got {
                Ok(ev) => stale = ev.concerns(&pair),
                // Missed events: one fresh board covers them all.
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => stale = true,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return feed.close(),
            },
            // A comment after a quiet while keeps proxies from closing the connection.
            _ = quiet.tick() => feed.send(None).await,
            // The clock reaches the board's turn (naps of at most KEEP_ALIVE, so a clock set
            // forward is followed too), or a clock moved by hand moves.
            _ = nap_until(&st, turns_at), if turns_at.is_some() => {}
            _ = clock_moved(&mut clock_moves), if clock_moves.is_some() => {}
        }
        if turns_at.is_some_and(|t| st.app.now() >= t) {
            stale = true;
        }
        if st.boards.retire(&feed) {
            return;
        }
    }
}

/// Sleeps until the clock shows `at`, or for [`KEEP_ALIVE`] if that is sooner.
async fn nap_until(st: &AppState, at: Option<Timestamp>) {
    let left_us = at.map_or(0, |t| t.as_micros().saturating_sub(st.app.now().as_micros()).max(0));
    tokio::time::sleep(Duration::from_micros(left_us as u64).min(KEEP_ALIVE)).await;
}

/// Resolves when a clock moved by hand moves; never for one that moves on its own.
async fn clock_moved(moves: &mut Option<tokio::sync::watch::Receiver<Timestamp>>) {
    if let Some(rx) = moves
        && rx.changed().await.is_ok()
    {
        return;
    }
    std::future::pending().await
}

/// Resolves once the server is stopping (the guard it gives is dropped at once).
async fn stopping(closing: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = closing.wait_for(|c| *c).await;
}

/// Set by a detailed viewer's account watch when the session no longer grants the detail.
#[derive(Debug, Default)]
pub(crate) struct Revoked {
    flag: AtomicBool,
    waker: futures_util::task::AtomicWaker,
    /// Dropped with the viewer, which ends the watch.
    alive: Mutex<Option<tokio::sync::oneshot::Sender<()>>>,
}

/// One stream's body: the frames of its feed, as they come.
#[derive(Debug)]
pub struct Viewer {
    st: AppState,
    feed: Arc<Feed>,
    first: Option<Bytes>,
    /// The feed's boards and keep-alives this viewer has been sent (or skipped).
    boards: u64,
    pings: u64,
    /// The feed's round this viewer left its waker in.
    round: Option<u64>,
    /// The change number and serial of the last board sent: an older board is never sent after it.
    sent: i64,
    sent_serial: u64,
    revoked: Option<Arc<Revoked>>,
}

impl Drop for Viewer {
    fn drop(&mut self) {
        self.feed.viewers.fetch_sub(1, Ordering::SeqCst);
        if let Some(r) = &self.revoked {
            r.alive.lock().expect("not poisoned").take();
        }
    }
}

impl Viewer {
    /// Watches the account of `username` (whose session is `token`): when it changes and the session
    /// no longer grants the detail at `pair`, this viewer moves to the public board.
    pub(crate) fn watch_account(&mut self, pair: GatePairId, username: String, token: String) {
        let (alive, mut ended) = tokio::sync::oneshot::channel::<()>();
        let revoked = Arc::new(Revoked { alive: Mutex::new(Some(alive)), ..Default::default() });
        self.revoked = Some(revoked.clone());
        let st = self.st.clone();
        let mut accounts = st.app.events().subscribe_accounts();
        tokio::spawn(async move {
            loop {
                let ev = tokio::select! {
                    _ = &mut ended => return,
                    ev = accounts.recv() => ev,
                };
                match ev {
                    Ok(e) if e.username != username => continue,
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                    // Theirs, or maybe theirs among the missed ones: asked again.
                    _ => {}
                }
                let still = match st.app.accounts().session_user(&token).await {
                    Ok(Some(u)) => st.app.gate().sees_detail(&cuakhau_app::Principal::user(u), &pair),
                    // Ended, or the store did not answer: rights not proven, the public view.
                    Ok(None) | Err(_) => false,
                };
                if !still {
                    revoked.flag.store(true, Ordering::SeqCst);
                    revoked.waker.wake();
                    return;
                }
            }
        });
    }

    /// The session no longer grants the detail: the public board from now on, sent at once.
    fn move_to_public(&mut self) {
        let (pair, direction, _) = self.feed.key.clone();
        let public = self.st.boards.join(&self.st, (pair, direction, false));
        let pings = public.state.lock().expect("not poisoned").pings;
        let old = std::mem::replace(&mut self.feed, public);
        old.viewers.fetch_sub(1, Ordering::SeqCst);
        (self.boards, self.pings, self.round, self.sent, self.sent_serial) = (0, pings, None, i64::MIN, 0);
    }
}

impl hyper::body::Body for Viewer {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        if let Some(r) = &this.revoked {
            r.waker.register(cx.waker());
            if r.flag.load(Ordering::SeqCst) {
                this.revoked = None;
                this.first = None;
                this.move_to_public();
            }
        }
        if let Some(f) = this.first.take() {
            return Poll::Ready(Some(Ok(Frame::data(f))));
        }
        let mut s = this.feed.state.lock().expect("not poisoned");
        if s.closed {
            return Poll::Ready(None);
        }
        if s.boards > this.boards {
            this.boards = s.boards;
            this.pings = s.pings;
            // A newer board; or one as new, rebuilt, when this stream was sent the earlier build
            // (a viewer that came with the board it has is sent nothing until a newer one).
            let newer = |b: &&Arc<SharedBoard>| {
                b.changes > this.sent || (b.changes == this.sent && this.sent_serial != 0 && b.serial != this.sent_serial)
            };
            if let Some(b) = s.board.as_ref().filter(newer) {
                (this.sent, this.sent_serial) = (b.changes, b.serial);
                return Poll::Ready(Some(Ok(Frame::data(b.frame.clone()))));
            }
        }
        if s.pings > this.pings {
            this.pings = s.pings;
            return Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(b":\n\n")))));
        }
        if this.round != Some(s.round) {
            s.waiting.push(cx.waker().clone());
            this.round = Some(s.round);
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::{event_id, parse_event_id};

    /// Every id the server writes reads back as what it says; nothing else reads.
    #[test]
    fn event_ids_read_back_and_nothing_else_does() {
        for id in [(0, None, false), (42, None, true), (42, Some(1_795_406_400), false), (i64::MAX, Some(0), true)] {
            assert_eq!(parse_event_id(&event_id(id)), Some(id), "{}", event_id(id));
        }
        assert_eq!(event_id((42, Some(7), true)), "42.7d");
        for bad in
            ["", "d", ".", "1.", ".1", "1..2", "1.2.3", "+1", "-1", "1.-2", "1.+2", "1 ", "1.2dd", "1d.2", "99999999999999999999", "١٢"]
        {
            assert_eq!(parse_event_id(bad), None, "{bad:?}");
        }
    }
}
