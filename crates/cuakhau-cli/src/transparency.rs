//! The audit log's keys and checkpoint directory on disk: `audit keygen`, `audit checkpoint`,
//! `audit verify --checkpoints`, `audit cosign`, and the exporter `serve` runs.
//!
//! The directory holds, per checkpoint of size N, `leaves-N` (one `seq hex` line per entry added
//! since the previous checkpoint) and `checkpoint-N` (the signed note), each written once with
//! `create_new` and never rewritten. Put it where the database administrator cannot write (another
//! host, another account, write-once storage); the key file likewise.

use crate::ops::{OsEntropy, SystemClock, open_store};
use anyhow::{Context, Result, anyhow, bail};
use cuakhau_app::{Clock, Entropy};
use cuakhau_core::transparency::{Checkpoint, Hash, KeyKind, NoteSigner, NoteVerifier, Witness};
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

/// Everything in a checkpoint directory, every signature checked.
#[derive(Debug, Default)]
pub struct Dir {
    pub checkpoints: Vec<Checkpoint>,
    pub leaves: BTreeMap<u64, Hash>,
}

pub fn read_dir(dir: &Path, log: &NoteVerifier) -> Result<Dir> {
    let mut d = Dir::default();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(d),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", dir.display())),
    };
    for e in entries {
        let path = e?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else { continue };
        if name.starts_with("checkpoint-") {
            let text = std::fs::read_to_string(&path)?;
            let (c, _) = Checkpoint::open(&text, log).map_err(|e| anyhow!("{}: {e}", path.display()))?;
            d.checkpoints.push(c);
        } else if name.starts_with("leaves-") {
            for (i, line) in std::fs::read_to_string(&path)?.lines().enumerate() {
                let parsed = line.split_once(' ').and_then(|(s, h)| {
                    let h: Hash = hex::decode(h).ok()?.try_into().ok()?;
                    Some((s.parse::<u64>().ok()?, h))
                });
                let (seq, h) = parsed.ok_or_else(|| anyhow!("{} line {}: not `seq hex`", path.display(), i + 1))?;
                d.leaves.insert(seq, h);
            }
        }
    }
    d.checkpoints.sort_by_key(|c| c.size);
    Ok(d)
}

/// The last checkpoint in `dir` (every signature there checked).
pub fn last_checkpoint(dir: &Path, key: &NoteSigner) -> Result<Option<Checkpoint>> {
    Ok(read_dir(dir, &key.verifier())?.checkpoints.pop())
}

/// Signs and writes a checkpoint if the log grew since `last` (the last one in `dir`). Returns
/// the new one.
pub async fn export(store: &dyn Store, key: &NoteSigner, dir: &Path, last: Option<&Checkpoint>) -> Result<Option<Checkpoint>> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let Some(s) = ledger::checkpoint(store, key, last).await? else { return Ok(None) };
    let n = s.checkpoint.size;
    let leaves: String = s.leaves.iter().map(|(seq, h)| format!("{seq} {}\n", hex::encode(h))).collect();
    write_new(&dir.join(format!("leaves-{n:012}")), leaves.as_bytes(), false)?;
    write_new(&dir.join(format!("checkpoint-{n:012}")), s.note.as_bytes(), false)?;
    Ok(Some(s.checkpoint))
}

pub async fn checkpoint_command(database: &str, key: &Path, dir: &Path) -> Result<()> {
    let store = open_store(database).await?;
    let key = load_signer(key)?;
    let last = last_checkpoint(dir, &key)?;
    match export(store.as_ref(), &key, dir, last.as_ref()).await? {
        Some(c) => println!("signed checkpoint of {} entries written to {}", c.size, dir.display()),
        None => println!("no new entries since the last checkpoint in {}", dir.display()),
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
    let mut last: Option<Option<Checkpoint>> = None;
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
            let prev = match &last {
                Some(p) => p.clone(),
                None => last_checkpoint(&dir, &key)?,
            };
            let new = export(store.as_ref(), &key, &dir, prev.as_ref()).await?;
            Ok::<_, anyhow::Error>((prev, new))
        }
        .await;
        match result {
            Ok((_, Some(c))) => {
                tracing::info!(size = c.size, dir = %dir.display(), "audit checkpoint signed");
                last = Some(Some(c));
            }
            Ok((prev, None)) => last = Some(prev),
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
    match ledger::verify(store.as_ref(), &d.checkpoints, &d.leaves).await? {
        Ok(v) => {
            println!("audit log intact: {} entries, {} business rows match the log", v.entries, v.rows);
            if dir.is_some() {
                println!("checked against {} signed checkpoints (largest: {} entries)", d.checkpoints.len(), v.checkpointed);
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
    let proof = match &last {
        Some(l) if l.size <= offered.size => ledger::consistency(store.as_ref(), l.size, offered.size).await.unwrap_or_default(),
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
