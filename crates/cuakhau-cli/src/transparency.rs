//! The audit log's keys and checkpoint directory on disk: `audit keygen`, `audit checkpoint`,
//! `audit verify --checkpoints`, `audit cosign`, and the exporter `serve` runs.
//!
//! The log is kept as streams (the node's own, and one per gate pair), each checkpointed on its own.
//! The directory holds, per checkpoint of size N of the node's stream, `leaves-N` (one
//! `index hex seq` line per entry added since the previous checkpoint: its place in the stream's
//! tree, its leaf hash and its number in the whole log; files written before there were streams
//! have no `seq`) and `checkpoint-N` (the signed note); a gate pair's stream has the same files
//! in a subdirectory named after it. Each file is written once with `create_new` and never
//! rewritten. Put the directory where the database administrator cannot write (another host,
//! another account, write-once storage); the key file likewise.

use crate::ops::{OsEntropy, SystemClock, open_store};
use anyhow::{Context, Result, anyhow, bail};
use cuakhau_app::{Clock, Entropy};
use cuakhau_core::transparency::{Checkpoint, Hash, KeyKind, NoteSigner, NoteVerifier, Witness, stream_of, stream_origin};
use cuakhau_store::Store;
use cuakhau_store::ledger::{self, Failure};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Writes a new key to `path` (private, mode 0600) and its verifier key to `path.pub`.
pub fn keygen(path: &Path, name: &str, witness: bool) -> Result<()> {
    let mut seed = [0u8; 32];
    OsEntropy.fill(&mut seed);
    let kind = if witness { KeyKind::Cosignature } else { KeyKind::Note };
    let key = NoteSigner::from_seed(name, kind, seed).map_err(|e| anyhow!("{e}"))?;
    let public = pub_path(path);
    write_new(path, format!("{}\n", key.encode()).as_bytes(), true)?;
    write_new(&public, format!("{}\n", key.verifier().encode()).as_bytes(), false)?;
    println!("wrote {} (keep it secret, outside the database host's reach) and {}", path.display(), public.display());
    println!("verifier key: {}", key.verifier().encode());
    Ok(())
}

fn pub_path(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".pub");
    PathBuf::from(p)
}

fn write_new(path: &Path, bytes: &[u8], secret: bool) -> Result<()> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = secret;
    let mut f = o.open(path).with_context(|| format!("cannot create {} (it is never overwritten)", path.display()))?;
    f.write_all(bytes)?;
    f.sync_all()?;
    Ok(())
}

pub fn load_signer(path: &Path) -> Result<NoteSigner> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read the key {}", path.display()))?;
    NoteSigner::parse(&text).map_err(|e| anyhow!("{}: {e}", path.display()))
}

/// The log's verifier key: a `name+id+key` file, or the public half of a private key file.
pub fn load_verifier(path: &Path) -> Result<NoteVerifier> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read the key {}", path.display()))?;
    if text.trim_start().starts_with("PRIVATE+KEY+") {
        return Ok(NoteSigner::parse(&text).map_err(|e| anyhow!("{}: {e}", path.display()))?.verifier());
    }
    NoteVerifier::parse(&text).map_err(|e| anyhow!("{}: {e}", path.display()))
}

/// Everything in a checkpoint directory, every signature checked, by stream.
#[derive(Debug, Default)]
pub struct Dir {
    pub streams: ledger::Exports,
}

/// The folder of `stream`'s files in the checkpoint directory `dir` (the node's stream: `dir`).
fn stream_dir(dir: &Path, key_name: &str, stream: &str) -> Result<PathBuf> {
    if stream.is_empty() {
        return Ok(dir.to_path_buf());
    }
    // Only a stream name that fits an origin (a slug) becomes a path.
    match stream_of(&stream_origin(key_name, stream), key_name) {
        Some(s) if s == stream => Ok(dir.join(stream)),
        _ => bail!("audit stream {:?} cannot name a folder", printable(stream)),
    }
}

pub fn read_dir(dir: &Path, log: &NoteVerifier) -> Result<Dir> {
    let mut d = Dir::default();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(d),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", dir.display())),
    };
    let mut folders = vec![(String::new(), dir.to_path_buf())];
    for e in entries {
        let path = e?.path();
        if path.is_dir() {
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else { continue };
            if stream_of(&stream_origin(log.name(), name), log.name()) == Some(name) {
                folders.push((name.to_string(), path));
            }
        }
    }
    for (stream, folder) in folders {
        for e in std::fs::read_dir(&folder).with_context(|| format!("cannot read {}", folder.display()))? {
            let path = e?.path();
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else { continue };
            if name.starts_with("checkpoint-") {
                let text = std::fs::read_to_string(&path)?;
                let (c, _) = Checkpoint::open(&text, log).map_err(|e| anyhow!("{}: {e}", path.display()))?;
                if c.stream(log.name()) != Some(stream.as_str()) {
                    bail!("{}: a checkpoint of {:?} in the folder of another stream", path.display(), c.origin);
                }
                d.streams.entry(stream.clone()).or_default().checkpoints.push(c);
            } else if name.starts_with("leaves-") {
                let ex = d.streams.entry(stream.clone()).or_default();
                for (i, line) in std::fs::read_to_string(&path)?.lines().enumerate() {
                    let mut f = line.split(' ');
                    let parsed = (|| {
                        let index = f.next()?.parse::<u64>().ok()?;
                        let h: Hash = hex::decode(f.next()?).ok()?.try_into().ok()?;
                        let seq = match f.next() {
                            Some(s) => Some(s.parse::<i64>().ok()?),
                            None => None,
                        };
                        Some((index, h, seq))
                    })();
                    let (index, h, seq) = parsed.ok_or_else(|| anyhow!("{} line {}: not `index hex [seq]`", path.display(), i + 1))?;
                    ex.leaves.insert(index, h);
                    if let Some(seq) = seq {
                        ex.seqs.insert(index, seq);
                    }
                }
            }
        }
    }
    for ex in d.streams.values_mut() {
        ex.checkpoints.sort_by_key(|c| c.size);
    }
    Ok(d)
}

/// The last checkpoint of each stream in `dir` (every signature there checked).
pub fn last_checkpoints(dir: &Path, key: &NoteSigner) -> Result<BTreeMap<String, Checkpoint>> {
    Ok(read_dir(dir, &key.verifier())?.streams.into_iter().filter_map(|(s, mut ex)| Some((s, ex.checkpoints.pop()?))).collect())
}

/// Signs and writes a checkpoint of every stream that grew since its last one in `last` (the
/// last ones in `dir`). Returns the new ones.
pub async fn export(store: &dyn Store, key: &NoteSigner, dir: &Path, last: &BTreeMap<String, Checkpoint>) -> Result<Vec<Checkpoint>> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut out = Vec::new();
    for s in ledger::checkpoint(store, key, last).await? {
        let folder = stream_dir(dir, key.name(), &s.stream)?;
        std::fs::create_dir_all(&folder).with_context(|| format!("cannot create {}", folder.display()))?;
        let n = s.checkpoint.size;
        let leaves: String = s.leaves.iter().map(|(i, h, seq)| format!("{i} {} {seq}\n", hex::encode(h))).collect();
        write_new(&folder.join(format!("leaves-{n:012}")), leaves.as_bytes(), false)?;
        write_new(&folder.join(format!("checkpoint-{n:012}")), s.note.as_bytes(), false)?;
        out.push(s.checkpoint);
    }
    Ok(out)
}

pub async fn checkpoint_command(database: &str, key: &Path, dir: &Path) -> Result<()> {
    let store = open_store(database).await?;
    let key = load_signer(key)?;
    let last = last_checkpoints(dir, &key)?;
    let signed = export(store.as_ref(), &key, dir, &last).await?;
    if signed.is_empty() {
        println!("no new entries since the last checkpoints in {}", dir.display());
    }
    for c in signed {
        println!("signed checkpoint of {} entries of {} written to {}", c.size, c.origin, dir.display());
    }
    Ok(())
}

/// `serve`'s exporter: a checkpoint every `every` while the log grows, and one at shutdown.
pub async fn exporter(
    st: cuakhau_server::AppState,
    key: NoteSigner,
    dir: PathBuf,
    every: std::time::Duration,
    stop: tokio::sync::oneshot::Receiver<()>,
) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tokio::pin!(stop);
    // The directory is read (and every signature in it checked) once; after that the exporter
    // remembers what it signed.
    let mut last: Option<BTreeMap<String, Checkpoint>> = None;
    let store = st.app.store().clone();
    loop {
        let stopping = tokio::select! { _ = tick.tick() => false, _ = &mut stop => true };
        // One process exports at a time (a lease); one that did not hold it reads the directory
        // again when it takes it, as another may have written to it meanwhile.
        if !st.app.hold(cuakhau_app::leases::CHECKPOINTS).await {
            last = None;
            if stopping {
                break;
            }
            continue;
        }
        st.background_round("checkpoints");
        let result = async {
            let mut prev = match last.take() {
                Some(p) => p,
                None => last_checkpoints(&dir, &key)?,
            };
            for c in export(store.as_ref(), &key, &dir, &prev).await? {
                tracing::info!(size = c.size, origin = %c.origin, dir = %dir.display(), "audit checkpoint signed");
                prev.insert(c.stream(key.name()).unwrap_or_default().to_string(), c);
            }
            Ok::<_, anyhow::Error>(prev)
        }
        .await;
        match result {
            Ok(prev) => last = Some(prev),
            Err(e) => tracing::error!(error = %format!("{e:#}"), "audit checkpoint NOT signed"),
        }
        if stopping {
            break;
        }
    }
}

pub async fn verify_command(database: &str, log: Option<NoteVerifier>, dir: Option<&Path>) -> Result<ExitCode> {
    let store = open_store(database).await?;
    let d = match (dir, &log) {
        (Some(dir), Some(log)) => read_dir(dir, log)?,
        (Some(_), None) => bail!("checking checkpoints needs the log's key: --audit-key or --log-key"),
        (None, _) => Dir::default(),
    };
    match ledger::verify(store.as_ref(), &d.streams).await? {
        Ok(v) => {
            println!("audit log intact: {} entries, {} business rows match the log", v.entries, v.rows);
            if dir.is_some() {
                let n: usize = d.streams.values().map(|s| s.checkpoints.len()).sum();
                println!("checked against {n} signed checkpoints of {} streams (covering {} entries)", d.streams.len(), v.checkpointed);
            } else {
                println!("no checkpoints given (--checkpoints DIR): a re-sealed rewrite of the database would pass this check");
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(f) => {
            eprintln!("audit log BROKEN: {}", printable(&f.to_string()));
            if let Failure::Entry { .. } = f {
                eprintln!("(compare with the checkpoints in the checkpoint directory; the database was changed behind the log)");
            }
            Ok(ExitCode::FAILURE)
        }
    }
}

/// The witness, from the command line: cosigns `checkpoint` after checking the consistency proof
/// (computed from the database) from the checkpoint in `state`, then stores the new one there.
pub async fn cosign_command(database: &str, witness_key: &Path, log: NoteVerifier, state: &Path, checkpoint: &Path) -> Result<ExitCode> {
    let key = load_signer(witness_key)?;
    let last = match std::fs::read_to_string(state) {
        Ok(t) => Some(Checkpoint::open(&t, &log).map_err(|e| anyhow!("{}: {e}", state.display()))?.0),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", state.display())),
    };
    let note = std::fs::read_to_string(checkpoint).with_context(|| format!("cannot read {}", checkpoint.display()))?;
    let (offered, _) = Checkpoint::open(&note, &log).map_err(|e| anyhow!("{}: {e}", checkpoint.display()))?;
    let store = open_store(database).await?;
    // Each stream of the log is its own tree: the proof is from the stream the checkpoint names
    // (and a witness's state is of one stream: it refuses another's checkpoint).
    let stream = offered.stream(log.name()).unwrap_or_default().to_string();
    let proof = match &last {
        Some(l) if l.size <= offered.size && l.origin == offered.origin => {
            ledger::consistency(store.as_ref(), &stream, l.size, offered.size).await.unwrap_or_default()
        }
        _ => Vec::new(),
    };
    let mut w = Witness::new(key, log, last).map_err(|e| anyhow!("{e}"))?;
    let time = (SystemClock.now().as_micros() / 1_000_000).max(0) as u64;
    match w.cosign(&note, &proof, time) {
        Ok(cosigned) => {
            let tmp = state.with_extension("tmp");
            std::fs::write(&tmp, &note)?;
            std::fs::rename(&tmp, state)?;
            print!("{cosigned}");
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("{e}");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// `text` with control characters (and bidirectional overrides) shown as escapes, so a tampered
/// row cannot drive the terminal.
pub fn printable(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let bidi = matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
            if c.is_control() || bidi { c.escape_unicode().collect::<Vec<_>>() } else { vec![c] }
        })
        .collect()
}
