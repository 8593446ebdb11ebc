//! The audit log as a transparency log: an RFC 9162 Merkle tree over the entries, checkpoints
//! (tree size and root hash) signed with the node's Ed25519 key in the C2SP signed-note format,
//! and a witness that cosigns a checkpoint only after checking a consistency proof from the last
//! one it cosigned.
//!
//! The hash chain in [`crate::audit`] catches an edit made by someone who cannot recompute
//! SHA-256; it does not catch an administrator who edits a row and re-seals everything after it.
//! A signed checkpoint kept outside the database does: the root of the first `n` entries is fixed
//! by a key the database administrator does not hold, so any change to those entries (edit,
//! delete, reorder, truncation) changes the recomputed root.
//!
//! Pure: keys come in as bytes, time as an argument; nothing here reads a file or a clock.
//! Formats: <https://c2sp.org/signed-note>, <https://c2sp.org/tlog-checkpoint>,
//! <https://c2sp.org/tlog-cosignature>; hashing: RFC 9162 §2.1.

use crate::audit::AuditRecord;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// A SHA-256 hash: a leaf, an interior node or a root.
pub type Hash = [u8; 32];

// ---------------------------------------------------------------------------------------------
// RFC 9162 Merkle tree hashing.

/// The hash of leaf data: SHA-256(0x00 || data).
pub fn hash_leaf(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(data);
    h.finalize().into()
}

/// The hash of an interior node: SHA-256(0x01 || left || right).
pub fn hash_children(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The root of the empty tree: SHA-256 of the empty string.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

fn field(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u64).to_be_bytes());
    out.extend_from_slice(bytes);
}

fn opt_field(out: &mut Vec<u8>, v: &Option<String>) {
    match v {
        None => out.push(0),
        Some(s) => {
            out.push(1);
            field(out, s.as_bytes());
        }
    }
}

/// The leaf of audit entry `seq`: its number and content, length-prefixed (not its chain hash,
/// so the tree does not depend on the chain and re-sealing the chain cannot repair it).
pub fn audit_leaf(seq: i64, r: &AuditRecord) -> Hash {
    let mut d = Vec::with_capacity(128);
    d.extend_from_slice(b"cuakhau-audit-leaf-v1");
    d.extend_from_slice(&seq.to_be_bytes());
    field(&mut d, r.actor.as_bytes());
    d.extend_from_slice(&r.at.as_micros().to_be_bytes());
    field(&mut d, r.action.as_bytes());
    field(&mut d, r.entity.as_bytes());
    opt_field(&mut d, &r.before);
    opt_field(&mut d, &r.after);
    hash_leaf(&d)
}

/// The largest power of two smaller than `n` (n ≥ 2).
fn split(n: usize) -> usize {
    debug_assert!(n >= 2);
    1 << (usize::BITS - 1 - (n - 1).leading_zeros())
}

/// MTH(D[n]) over leaf hashes.
pub fn root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        n => {
            let k = split(n);
            hash_children(&root(&leaves[..k]), &root(&leaves[k..]))
        }
    }
}

/// PATH(m, D[n]): the inclusion proof of leaf `index` in the tree of `leaves`.
pub fn inclusion_proof(index: usize, leaves: &[Hash]) -> Vec<Hash> {
    let n = leaves.len();
    if n <= 1 || index >= n {
        return Vec::new();
    }
    let k = split(n);
    if index < k {
        let mut p = inclusion_proof(index, &leaves[..k]);
        p.push(root(&leaves[k..]));
        p
    } else {
        let mut p = inclusion_proof(index - k, &leaves[k..]);
        p.push(root(&leaves[..k]));
        p
    }
}

/// RFC 9162 §2.1.3.2: does `proof` show `leaf` at `index` in the tree of `size` with `root`?
pub fn verify_inclusion(index: u64, size: u64, leaf: &Hash, proof: &[Hash], root: &Hash) -> bool {
    if index >= size {
        return false;
    }
    let (mut fnn, mut sn) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if sn == 0 {
            return false;
        }
        if fnn & 1 == 1 || fnn == sn {
            r = hash_children(p, &r);
            while fnn & 1 == 0 && fnn != 0 {
                fnn >>= 1;
                sn >>= 1;
            }
        } else {
            r = hash_children(&r, p);
        }
        fnn >>= 1;
        sn >>= 1;
    }
    sn == 0 && r == *root
}

fn subproof(m: usize, leaves: &[Hash], whole: bool, out: &mut Vec<Hash>) {
    let n = leaves.len();
    if m == n {
        if !whole {
            out.push(root(leaves));
        }
        return;
    }
    let k = split(n);
    if m <= k {
        subproof(m, &leaves[..k], whole, out);
        out.push(root(&leaves[k..]));
    } else {
        subproof(m - k, &leaves[k..], false, out);
        out.push(root(&leaves[..k]));
    }
}

/// PROOF(m, D[n]): the consistency proof from the tree of the first `m` leaves to all `leaves`.
pub fn consistency_proof(m: usize, leaves: &[Hash]) -> Vec<Hash> {
    let mut out = Vec::new();
    if m == 0 || m >= leaves.len() {
        return out;
    }
    subproof(m, leaves, true, &mut out);
    out
}

/// RFC 9162 §2.1.4.2: does `proof` show that the tree (`size1`, `root1`) is a prefix of the
/// tree (`size2`, `root2`)? Sizes are part of the check (a proof alone fits several sizes).
pub fn verify_consistency(size1: u64, size2: u64, proof: &[Hash], root1: &Hash, root2: &Hash) -> bool {
    if size1 > size2 {
        return false;
    }
    if size1 == size2 {
        return proof.is_empty() && root1 == root2;
    }
    if size1 == 0 {
        return proof.is_empty();
    }
    if proof.is_empty() {
        return false;
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if size1.is_power_of_two() {
        path.push(*root1);
    }
    path.extend_from_slice(proof);
    let (mut fnn, mut sn) = (size1 - 1, size2 - 1);
    while fnn & 1 == 1 {
        fnn >>= 1;
        sn >>= 1;
    }
    let (mut fr, mut sr) = (path[0], path[0]);
    for c in &path[1..] {
        if sn == 0 {
            return false;
        }
        if fnn & 1 == 1 || fnn == sn {
            fr = hash_children(c, &fr);
            sr = hash_children(c, &sr);
            while fnn & 1 == 0 && fnn != 0 {
                fnn >>= 1;
                sn >>= 1;
            }
        } else {
            sr = hash_children(&sr, c);
        }
        fnn >>= 1;
        sn >>= 1;
    }
    fr == *root1 && sr == *root2 && sn == 0
}

/// The right edge of a growing tree (its perfect subtrees, largest first): roots at every size
/// in one pass and O(log n) memory, so a node can checkpoint without holding every leaf.
#[derive(Debug, Clone, Default)]
pub struct Frontier {
    size: u64,
    stack: Vec<(u64, Hash)>,
}

impl Frontier {
    pub fn push(&mut self, leaf: Hash) {
        self.size += 1;
        self.stack.push((1, leaf));
        while self.stack.len() >= 2 && self.stack[self.stack.len() - 1].0 == self.stack[self.stack.len() - 2].0 {
            let (n, r) = self.stack.pop().unwrap_or_default();
            let (_, l) = self.stack.pop().unwrap_or_default();
            self.stack.push((2 * n, hash_children(&l, &r)));
        }
    }
    pub fn size(&self) -> u64 {
        self.size
    }
    pub fn root(&self) -> Hash {
        let mut it = self.stack.iter().rev();
        let Some(&(_, mut acc)) = it.next() else { return empty_root() };
        for (_, l) in it {
            acc = hash_children(l, &acc);
        }
        acc
    }
}

// ---------------------------------------------------------------------------------------------
// Base64 (standard alphabet, padded), as signed notes use it.

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

pub fn base64_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for c in data.chunks(3) {
        let b = [c[0], *c.get(1).unwrap_or(&0), *c.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= c.len() {
                out.push(B64[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

pub fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let s = s.as_bytes();
    if !s.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(s.len() / 4 * 3);
    for (ci, c) in s.chunks(4).enumerate() {
        let last = ci == s.len() / 4 - 1;
        let pad = c.iter().rev().take_while(|&&b| b == b'=').count();
        if pad > 2 || (pad > 0 && !last) {
            return None;
        }
        let mut n = 0u32;
        for &b in &c[..4 - pad] {
            let v = B64.iter().position(|&x| x == b)? as u32;
            n = (n << 6) | v;
        }
        n <<= 6 * pad as u32;
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        // Non-canonical padding bits are refused, so one value has one encoding.
        if bytes[3 - pad..].iter().any(|&b| b != 0) {
            return None;
        }
        out.extend_from_slice(&bytes[..3 - pad]);
    }
    Some(out)
}

// ---------------------------------------------------------------------------------------------
// Keys and signed notes.

/// What a key signs: a note (Ed25519, algorithm 0x01) or a witness cosignature (0x04).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    Note,
    Cosignature,
}

impl KeyKind {
    fn alg(self) -> u8 {
        match self {
            KeyKind::Note => 0x01,
            KeyKind::Cosignature => 0x04,
        }
    }
    fn from_alg(a: u8) -> Option<KeyKind> {
        match a {
            0x01 => Some(KeyKind::Note),
            0x04 => Some(KeyKind::Cosignature),
            _ => None,
        }
    }
}

/// Why a key, note or checkpoint was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteError(pub String);

impl std::fmt::Display for NoteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NoteError {}

fn err<T>(s: impl Into<String>) -> Result<T, NoteError> {
    Err(NoteError(s.into()))
}

fn valid_name(name: &str) -> bool {
    !name.is_empty() && !name.contains('+') && !name.chars().any(|c| c.is_whitespace() || c.is_control())
}

fn key_id(name: &str, kind: KeyKind, public: &[u8; 32]) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', kind.alg()]);
    h.update(public);
    let d = h.finalize();
    [d[0], d[1], d[2], d[3]]
}

/// A private key with its name, in the signed-note key format
/// `PRIVATE+KEY+<name>+<key id hex>+<base64(alg || seed)>`.
#[derive(Clone)]
pub struct NoteSigner {
    name: String,
    kind: KeyKind,
    key: SigningKey,
    id: [u8; 4],
}

impl std::fmt::Debug for NoteSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NoteSigner").field("name", &self.name).field("kind", &self.kind).finish_non_exhaustive()
    }
}

impl NoteSigner {
    /// The key from 32 bytes of seed (the CLI draws them from the operating system; tests fix them).
    pub fn from_seed(name: &str, kind: KeyKind, seed: [u8; 32]) -> Result<NoteSigner, NoteError> {
        if !valid_name(name) {
            return err(format!("a key name must be non-empty, without spaces or '+': {name:?}"));
        }
        let key = SigningKey::from_bytes(&seed);
        let id = key_id(name, kind, key.verifying_key().as_bytes());
        Ok(NoteSigner { name: name.to_string(), kind, key, id })
    }
    pub fn parse(text: &str) -> Result<NoteSigner, NoteError> {
        let parts: Vec<&str> = text.trim().splitn(5, '+').collect();
        let [p, k, name, id, key] = parts[..] else { return err("not a PRIVATE+KEY line") };
        if p != "PRIVATE" || k != "KEY" {
            return err("not a PRIVATE+KEY line");
        }
        let raw = base64_decode(key).ok_or_else(|| NoteError("the key is not base64".into()))?;
        let (Some(&alg), Ok(seed)) = (raw.first(), <[u8; 32]>::try_from(&raw[1.min(raw.len())..])) else {
            return err("the key is not 33 bytes");
        };
        let kind = KeyKind::from_alg(alg).ok_or_else(|| NoteError(format!("unknown key algorithm {alg}")))?;
        let s = NoteSigner::from_seed(name, kind, seed)?;
        if hex::encode(s.id) != id {
            return err("the key id does not match the key");
        }
        Ok(s)
    }
    pub fn encode(&self) -> String {
        let mut raw = vec![self.kind.alg()];
        raw.extend_from_slice(self.key.as_bytes());
        format!("PRIVATE+KEY+{}+{}+{}", self.name, hex::encode(self.id), base64_encode(&raw))
    }
    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn verifier(&self) -> NoteVerifier {
        NoteVerifier { name: self.name.clone(), kind: self.kind, key: self.key.verifying_key(), id: self.id }
    }
    /// The signature line `— <name> <base64(key id || signature)>` over `msg`.
    fn line(&self, msg: &[u8], prefix: &[u8]) -> String {
        let sig = self.key.sign(msg);
        let mut raw = self.id.to_vec();
        raw.extend_from_slice(prefix);
        raw.extend_from_slice(&sig.to_bytes());
        format!("\u{2014} {} {}\n", self.name, base64_encode(&raw))
    }
}

/// A public key with its name, in the verifier-key format `<name>+<key id hex>+<base64(alg || key)>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteVerifier {
    name: String,
    kind: KeyKind,
    key: VerifyingKey,
    id: [u8; 4],
}

impl NoteVerifier {
    pub fn parse(text: &str) -> Result<NoteVerifier, NoteError> {
        let parts: Vec<&str> = text.trim().splitn(3, '+').collect();
        let [name, id, key] = parts[..] else { return err("not a verifier key <name>+<id>+<key>") };
        let raw = base64_decode(key).ok_or_else(|| NoteError("the key is not base64".into()))?;
        let (Some(&alg), Ok(public)) = (raw.first(), <[u8; 32]>::try_from(&raw[1.min(raw.len())..])) else {
            return err("the key is not 33 bytes");
        };
        let kind = KeyKind::from_alg(alg).ok_or_else(|| NoteError(format!("unknown key algorithm {alg}")))?;
        if !valid_name(name) {
            return err("bad key name");
        }
        let key = VerifyingKey::from_bytes(&public).map_err(|_| NoteError("not an Ed25519 public key".into()))?;
        let vid = key_id(name, kind, &public);
        if hex::encode(vid) != id {
            return err("the key id does not match the key");
        }
        Ok(NoteVerifier { name: name.to_string(), kind, key, id: vid })
    }
    pub fn encode(&self) -> String {
        let mut raw = vec![self.kind.alg()];
        raw.extend_from_slice(self.key.as_bytes());
        format!("{}+{}+{}", self.name, hex::encode(self.id), base64_encode(&raw))
    }
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// A signed note split into its text and its signature lines (name, decoded signature).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedNote {
    pub text: String,
    pub signatures: Vec<(String, Vec<u8>)>,
}

impl SignedNote {
    pub fn parse(note: &str) -> Result<SignedNote, NoteError> {
        if note.chars().any(|c| c.is_control() && c != '\n') {
            return err("a note holds no control characters but newlines");
        }
        let Some(cut) = note.rfind("\n\n") else { return err("a note has a text, a blank line and signatures") };
        let (text, sigs) = (&note[..cut + 1], &note[cut + 2..]);
        if !sigs.ends_with('\n') || sigs.len() < 2 {
            return err("a note ends with signature lines");
        }
        let mut signatures = Vec::new();
        for line in sigs[..sigs.len() - 1].split('\n') {
            let Some(rest) = line.strip_prefix("\u{2014} ") else { return err(format!("not a signature line: {line:?}")) };
            let Some((name, b64)) = rest.split_once(' ') else { return err("a signature line is '— name signature'") };
            let raw = base64_decode(b64).ok_or_else(|| NoteError("a signature is not base64".into()))?;
            if !valid_name(name) || raw.len() < 5 {
                return err("bad signature line");
            }
            signatures.push((name.to_string(), raw));
        }
        Ok(SignedNote { text: text.to_string(), signatures })
    }

    /// Checks that `key` signed this note (Ed25519, `verify_strict`). Signatures by other keys are
    /// ignored; a signature that claims to be by `key` (name and id) but does not verify is refused.
    pub fn verify(&self, key: &NoteVerifier) -> Result<(), NoteError> {
        if key.kind != KeyKind::Note {
            return err("not a note-signing key");
        }
        let mut found = false;
        for (name, raw) in &self.signatures {
            if name != &key.name || raw[..4] != key.id {
                continue;
            }
            let sig = Signature::from_slice(&raw[4..]).map_err(|_| NoteError("malformed signature".into()))?;
            key.key.verify_strict(self.text.as_bytes(), &sig).map_err(|_| NoteError(format!("the signature by {name} does not verify")))?;
            found = true;
        }
        if found { Ok(()) } else { err(format!("not signed by {}", key.name)) }
    }
}

// ---------------------------------------------------------------------------------------------
// Checkpoints.

/// A log checkpoint: its origin (the log's name), tree size and root hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
}

impl Checkpoint {
    /// The checkpoint's note text: origin, size, base64 root, each on its own line.
    pub fn body(&self) -> String {
        format!("{}\n{}\n{}\n", self.origin, self.size, base64_encode(&self.root))
    }
    pub fn parse_body(text: &str) -> Result<Checkpoint, NoteError> {
        let mut lines = text.split('\n');
        let (Some(origin), Some(size), Some(root)) = (lines.next(), lines.next(), lines.next()) else {
            return err("a checkpoint has an origin, a size and a root hash");
        };
        if origin.is_empty() || size.is_empty() || (size.len() > 1 && size.starts_with('0')) {
            return err("bad origin or size");
        }
        let size: u64 = size.parse().map_err(|_| NoteError("the size is not a number".into()))?;
        let root: Hash =
            base64_decode(root).and_then(|r| r.try_into().ok()).ok_or_else(|| NoteError("the root is not 32 bytes of base64".into()))?;
        Ok(Checkpoint { origin: origin.to_string(), size, root })
    }
    /// The signed note: the body, a blank line and the log's signature line.
    pub fn sign(&self, key: &NoteSigner) -> String {
        let body = self.body();
        let line = key.line(body.as_bytes(), &[]);
        format!("{body}\n{line}")
    }
    /// Parses a signed checkpoint and checks the log's signature; the origin must be the key's
    /// name (the node's own stream) or name one of its streams ([`stream_origin`]).
    pub fn open(note: &str, log: &NoteVerifier) -> Result<(Checkpoint, SignedNote), NoteError> {
        let n = SignedNote::parse(note)?;
        n.verify(log)?;
        let c = Checkpoint::parse_body(&n.text)?;
        if stream_of(&c.origin, &log.name).is_none() {
            return err(format!("checkpoint of {:?}, not of {:?} or one of its streams", c.origin, log.name));
        }
        Ok((c, n))
    }
    /// The stream of the log signed by `key_name` that this checkpoint is of.
    pub fn stream<'a>(&'a self, key_name: &str) -> Option<&'a str> {
        stream_of(&self.origin, key_name)
    }
}

/// The origin of the checkpoints of `stream` of the log whose key is named `key_name`: the key's
/// name for the node's own stream (`""`, the one every entry belonged to before there were
/// streams), `name/stream` for the others (one per gate pair).
pub fn stream_origin(key_name: &str, stream: &str) -> String {
    if stream.is_empty() { key_name.to_string() } else { format!("{key_name}/{stream}") }
}

/// The stream an origin names, of the log whose key is named `key_name` (see [`stream_origin`]).
pub fn stream_of<'a>(origin: &'a str, key_name: &str) -> Option<&'a str> {
    if origin == key_name {
        return Some("");
    }
    let s = origin.strip_prefix(key_name)?.strip_prefix('/')?;
    let fits = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_';
    (!s.is_empty() && s.chars().all(fits)).then_some(s)
}

/// The message a cosignature/v1 signs.
fn cosigned_message(body: &str, time: u64) -> String {
    format!("cosignature/v1\ntime {time}\n{body}")
}

/// Checks `witness`'s cosignature on a signed checkpoint; returns the time it states.
pub fn verify_cosignature(note: &str, witness: &NoteVerifier) -> Result<u64, NoteError> {
    if witness.kind != KeyKind::Cosignature {
        return err("not a witness key");
    }
    let n = SignedNote::parse(note)?;
    for (name, raw) in &n.signatures {
        if name != &witness.name || raw[..4] != witness.id || raw.len() != 4 + 8 + 64 {
            continue;
        }
        let time = u64::from_be_bytes(raw[4..12].try_into().map_err(|_| NoteError("bad time".into()))?);
        let sig = Signature::from_slice(&raw[12..]).map_err(|_| NoteError("malformed signature".into()))?;
        witness
            .key
            .verify_strict(cosigned_message(&n.text, time).as_bytes(), &sig)
            .map_err(|_| NoteError(format!("the cosignature by {name} does not verify")))?;
        return Ok(time);
    }
    err(format!("not cosigned by {}", witness.name))
}

/// Why a witness refused to cosign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WitnessError {
    /// The note is malformed or not signed by the log.
    BadNote(NoteError),
    /// Smaller than the last checkpoint cosigned: a witness never goes back.
    Rollback { last: u64, offered: u64 },
    /// Not consistent with the last checkpoint cosigned: the log was rewritten (or forked).
    Inconsistent { last: u64, offered: u64 },
}

impl std::fmt::Display for WitnessError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WitnessError::BadNote(e) => write!(f, "refused: {e}"),
            WitnessError::Rollback { last, offered } => write!(f, "refused: size {offered} is smaller than the {last} already cosigned"),
            WitnessError::Inconsistent { last, offered } => {
                write!(f, "refused: the checkpoint of size {offered} is not consistent with the one of size {last} already cosigned")
            }
        }
    }
}

impl std::error::Error for WitnessError {}

/// A witness of one log: it remembers the last checkpoint it cosigned and cosigns a new one only
/// if a consistency proof shows the new tree extends it, so it never cosigns two inconsistent
/// checkpoints.
#[derive(Debug)]
pub struct Witness {
    key: NoteSigner,
    log: NoteVerifier,
    last: Option<Checkpoint>,
}

impl Witness {
    /// `last` is the checkpoint this witness cosigned most recently (its saved state), if any.
    pub fn new(key: NoteSigner, log: NoteVerifier, last: Option<Checkpoint>) -> Result<Witness, NoteError> {
        if key.kind != KeyKind::Cosignature {
            return err("a witness signs with a cosignature key");
        }
        Ok(Witness { key, log, last })
    }
    pub fn last(&self) -> Option<&Checkpoint> {
        self.last.as_ref()
    }
    /// Cosigns `note` (a checkpoint signed by the log) at `time` (seconds since the epoch) given
    /// `proof`, the consistency proof from the last cosigned checkpoint. Returns the note with the
    /// witness's cosignature line added.
    pub fn cosign(&mut self, note: &str, proof: &[Hash], time: u64) -> Result<String, WitnessError> {
        let (c, _) = Checkpoint::open(note, &self.log).map_err(WitnessError::BadNote)?;
        if let Some(last) = &self.last {
            // One witness state per stream: another stream's tree proves nothing about this one.
            if c.origin != last.origin {
                return Err(WitnessError::BadNote(NoteError(format!("a checkpoint of {:?}, not of {:?}", c.origin, last.origin))));
            }
            if c.size < last.size {
                return Err(WitnessError::Rollback { last: last.size, offered: c.size });
            }
            if !verify_consistency(last.size, c.size, proof, &last.root, &c.root) {
                return Err(WitnessError::Inconsistent { last: last.size, offered: c.size });
            }
        }
        let mut prefix = self.key.id.to_vec();
        prefix.extend_from_slice(&time.to_be_bytes());
        let sig = self.key.key.sign(cosigned_message(&c.body(), time).as_bytes());
        let mut raw = prefix;
        raw.extend_from_slice(&sig.to_bytes());
        let line = format!("\u{2014} {} {}\n", self.key.name, base64_encode(&raw));
        self.last = Some(c);
        Ok(format!("{note}{line}"))
    }
}

// ---------------------------------------------------------------------------------------------
// Checking a log against its checkpoints.

/// Where and why the log does not match what was checkpointed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogBreak {
    /// The first bad entry.
    pub seq: i64,
    pub reason: String,
}

impl std::fmt::Display for LogBreak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "audit entry {} {}", self.seq, self.reason)
    }
}

/// Checks the leaves recomputed from the stored entries (entry `i + 1` at index `i`) against
/// signed checkpoints (already opened) and the leaf hashes exported with them (`seq → leaf`).
///
/// Each checkpoint's root must be the root of the first `size` leaves; a log shorter than a
/// checkpoint was truncated. The exported leaves, once their own roots match the signed
/// checkpoints, name the exact first entry that differs; without them the first entry of the
/// first range whose root differs is named.
pub fn check_log(leaves: &[Hash], checkpoints: &[Checkpoint], exported: &BTreeMap<u64, Hash>) -> Result<(), LogBreak> {
    let mut cps: Vec<&Checkpoint> = checkpoints.iter().collect();
    cps.sort_by_key(|c| c.size);
    // The exported leaves count only as far as the signed roots vouch for them.
    let mut vouched = 0u64;
    let mut f = Frontier::default();
    let mut cpi = cps.iter().peekable();
    while cpi.peek().is_some_and(|c| c.size == 0) {
        cpi.next();
    }
    for (&seq, leaf) in exported {
        if seq != f.size() + 1 {
            break;
        }
        f.push(*leaf);
        while let Some(c) = cpi.peek() {
            if c.size > f.size() {
                break;
            }
            if f.root() != c.root {
                return Err(LogBreak {
                    seq: vouched as i64 + 1,
                    reason: format!(
                        "cannot be checked: the exported leaves do not match signed checkpoint {} (the checkpoint directory was altered)",
                        c.size
                    ),
                });
            }
            vouched = c.size;
            cpi.next();
        }
    }
    for i in 0..vouched.min(leaves.len() as u64) {
        if exported.get(&(i + 1)) != Some(&leaves[i as usize]) {
            return Err(LogBreak {
                seq: i as i64 + 1,
                reason: "differs from what was checkpointed (edited, removed, inserted or reordered)".into(),
            });
        }
    }
    // The signed roots themselves, recomputed from the stored entries.
    let mut f = Frontier::default();
    let mut good = 0u64;
    let mut li = leaves.iter();
    for c in &cps {
        while f.size() < c.size {
            match li.next() {
                Some(l) => f.push(*l),
                None => {
                    return Err(LogBreak {
                        seq: f.size() as i64 + 1,
                        reason: format!(
                            "is missing: the log has {} entries but checkpoint {} was signed (the log was truncated)",
                            leaves.len(),
                            c.size
                        ),
                    });
                }
            }
        }
        if f.root() != c.root {
            return Err(LogBreak {
                seq: good as i64 + 1,
                reason: format!("or one after it up to {} differs from signed checkpoint {}", c.size, c.size),
            });
        }
        good = c.size;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaves(n: usize) -> Vec<Hash> {
        (0..n).map(|i| hash_leaf(format!("leaf {i}").as_bytes())).collect()
    }

    #[test]
    fn rfc9162_roots_of_known_trees() {
        // The empty tree and a one-leaf tree of the empty string (RFC 6962 test vectors).
        assert_eq!(hex::encode(empty_root()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assert_eq!(hex::encode(root(&[hash_leaf(b"")])), "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
        // The eight-leaf tree of RFC 6962's reference test data.
        let data: [&[u8]; 8] = [
            b"",
            b"\x00",
            b"\x10",
            b"\x20\x21",
            b"\x30\x31",
            b"\x40\x41\x42\x43",
            b"\x50\x51\x52\x53\x54\x55\x56\x57",
            b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
        ];
        let l: Vec<Hash> = data.iter().map(|d| hash_leaf(d)).collect();
        assert_eq!(hex::encode(root(&l)), "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328");
    }

    #[test]
    fn inclusion_and_consistency_proofs_verify_and_tampered_ones_do_not() {
        for n in 1..=33 {
            let l = leaves(n);
            let r = root(&l);
            let mut f = Frontier::default();
            l.iter().for_each(|x| f.push(*x));
            assert_eq!(f.root(), r, "frontier root at {n}");
            for i in 0..n {
                let p = inclusion_proof(i, &l);
                assert!(verify_inclusion(i as u64, n as u64, &l[i], &p, &r), "inclusion {i} of {n}");
                assert!(!verify_inclusion(i as u64, n as u64, &hash_leaf(b"x"), &p, &r));
                if n > 1 {
                    assert!(!verify_inclusion(((i + 1) % n) as u64, n as u64, &l[i], &p, &r) || l[i] == l[(i + 1) % n]);
                }
            }
            for m in 0..=n {
                let p = consistency_proof(m, &l);
                let rm = root(&l[..m]);
                assert!(verify_consistency(m as u64, n as u64, &p, &rm, &r), "consistency {m} → {n}");
                if m > 0 && m < n {
                    let mut other = l.clone();
                    other[m - 1] = hash_leaf(b"rewritten");
                    assert!(!verify_consistency(m as u64, n as u64, &consistency_proof(m, &other), &rm, &root(&other)), "forked {m} → {n}");
                    assert!(!verify_consistency(m as u64 + 1, n as u64, &p, &rm, &r), "sizes are checked");
                }
            }
        }
        assert!(!verify_consistency(5, 4, &[], &empty_root(), &empty_root()));
    }

    #[test]
    fn base64_round_trips_and_refuses_non_canonical_text() {
        for n in 0..40u8 {
            let d: Vec<u8> = (0..n).map(|i| i.wrapping_mul(37)).collect();
            assert_eq!(base64_decode(&base64_encode(&d)), Some(d));
        }
        assert_eq!(base64_encode(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64_encode(b"fo"), "Zm8=");
        assert_eq!(base64_decode("Zm9="), None);
        assert_eq!(base64_decode("Zm8"), None);
        assert_eq!(base64_decode("Z=8="), None);
    }

    fn log_key() -> NoteSigner {
        NoteSigner::from_seed("example.org/audit", KeyKind::Note, [7; 32]).unwrap()
    }

    #[test]
    fn checkpoints_are_signed_notes_that_verify_only_with_their_key() {
        let k = log_key();
        assert_eq!(NoteSigner::parse(&k.encode()).unwrap().encode(), k.encode());
        // Base64 may hold '+', the separator: keys are split on the first ones only.
        for seed in 0..64u8 {
            let k = NoteSigner::from_seed("n", KeyKind::Note, [seed; 32]).unwrap();
            assert_eq!(NoteSigner::parse(&k.encode()).unwrap().encode(), k.encode());
            assert_eq!(NoteVerifier::parse(&k.verifier().encode()).unwrap(), k.verifier());
        }
        let v = NoteVerifier::parse(&k.verifier().encode()).unwrap();
        let c = Checkpoint { origin: "example.org/audit".into(), size: 3, root: root(&leaves(3)) };
        let note = c.sign(&k);
        assert!(note.starts_with(&format!("example.org/audit\n3\n{}\n\n\u{2014} example.org/audit ", base64_encode(&c.root))));
        assert_eq!(Checkpoint::open(&note, &v).unwrap().0, c);
        // Another size under the same signature.
        let forged = note.replacen("\n3\n", "\n4\n", 1);
        assert!(Checkpoint::open(&forged, &v).is_err());
        // Another key of the same name.
        let other = NoteSigner::from_seed("example.org/audit", KeyKind::Note, [8; 32]).unwrap();
        assert!(Checkpoint::open(&c.sign(&other), &v).is_err());
    }

    #[test]
    fn a_witness_cosigns_only_consistent_checkpoints() {
        let k = log_key();
        let w = NoteSigner::from_seed("witness.example", KeyKind::Cosignature, [9; 32]).unwrap();
        let wv = w.verifier();
        let mut witness = Witness::new(w, k.verifier(), None).unwrap();
        let l = leaves(10);
        let cp = |n: usize, l: &[Hash]| Checkpoint { origin: "example.org/audit".into(), size: n as u64, root: root(&l[..n]) }.sign(&k);
        let first = witness.cosign(&cp(4, &l), &[], 1000).unwrap();
        assert_eq!(verify_cosignature(&first, &wv), Ok(1000));
        assert!(Checkpoint::open(&first, &k.verifier()).is_ok(), "the log's signature still verifies");
        let second = witness.cosign(&cp(7, &l), &consistency_proof(4, &l[..7]), 1001).unwrap();
        assert_eq!(verify_cosignature(&second, &wv), Ok(1001));
        // A rewritten log: entry 3 changed, the same size and a larger one.
        let mut forked = l.clone();
        forked[2] = hash_leaf(b"rewritten");
        assert_eq!(witness.cosign(&cp(7, &forked), &[], 1002), Err(WitnessError::Inconsistent { last: 7, offered: 7 }));
        let bad = witness.cosign(&cp(9, &forked), &consistency_proof(7, &forked[..9]), 1002);
        assert_eq!(bad, Err(WitnessError::Inconsistent { last: 7, offered: 9 }));
        assert_eq!(witness.cosign(&cp(5, &l), &[], 1002), Err(WitnessError::Rollback { last: 7, offered: 5 }));
        assert_eq!(witness.last().unwrap().size, 7, "a refusal changes nothing");
        // The honest log goes on.
        assert!(witness.cosign(&cp(10, &l), &consistency_proof(7, &l), 1003).is_ok());
        // A checkpoint not signed by the log is refused.
        let stranger = NoteSigner::from_seed("example.org/audit", KeyKind::Note, [1; 32]).unwrap();
        let s = Checkpoint { origin: "example.org/audit".into(), size: 10, root: root(&l) }.sign(&stranger);
        assert!(matches!(witness.cosign(&s, &[], 1004), Err(WitnessError::BadNote(_))));
    }

    #[test]
    fn each_stream_has_its_own_origin_and_witness_state() {
        let k = log_key();
        assert_eq!(stream_origin("example.org/audit", ""), "example.org/audit");
        assert_eq!(stream_origin("example.org/audit", "huu-nghi"), "example.org/audit/huu-nghi");
        assert_eq!(stream_of("example.org/audit/huu-nghi", "example.org/audit"), Some("huu-nghi"));
        assert_eq!(stream_of("example.org/audit", "example.org/audit"), Some(""));
        for other in ["example.org/auditx", "example.org/audit/", "example.org/audit/a/b", "example.org/audit/../x", "other"] {
            assert_eq!(stream_of(other, "example.org/audit"), None, "{other}");
        }
        let l = leaves(6);
        let cp = |stream: &str, n: usize| {
            Checkpoint { origin: stream_origin("example.org/audit", stream), size: n as u64, root: root(&l[..n]) }.sign(&k)
        };
        let (c, _) = Checkpoint::open(&cp("huu-nghi", 3), &k.verifier()).unwrap();
        assert_eq!(c.stream("example.org/audit"), Some("huu-nghi"));
        // A witness of one stream refuses another stream's checkpoint, even one that extends it.
        let w = NoteSigner::from_seed("witness.example", KeyKind::Cosignature, [9; 32]).unwrap();
        let mut witness = Witness::new(w, k.verifier(), None).unwrap();
        witness.cosign(&cp("huu-nghi", 3), &[], 1).unwrap();
        assert!(matches!(witness.cosign(&cp("", 6), &consistency_proof(3, &l), 2), Err(WitnessError::BadNote(_))));
        assert!(witness.cosign(&cp("huu-nghi", 6), &consistency_proof(3, &l), 2).is_ok());
    }

    #[test]
    fn check_log_names_the_first_changed_entry() {
        let l = leaves(12);
        let cps: Vec<Checkpoint> =
            [4usize, 9].iter().map(|&n| Checkpoint { origin: "o".into(), size: n as u64, root: root(&l[..n]) }).collect();
        let exported: BTreeMap<u64, Hash> = l[..9].iter().enumerate().map(|(i, h)| (i as u64 + 1, *h)).collect();
        assert_eq!(check_log(&l, &cps, &exported), Ok(()));
        let mut edited = l.clone();
        edited[5] = hash_leaf(b"x");
        assert_eq!(check_log(&edited, &cps, &exported).unwrap_err().seq, 6);
        assert_eq!(check_log(&edited, &cps, &BTreeMap::new()).unwrap_err().seq, 5, "without leaves: the range after checkpoint 4");
        assert_eq!(check_log(&l[..7], &cps, &BTreeMap::new()).unwrap_err().seq, 8, "truncated");
        assert_eq!(check_log(&l[..7], &cps, &exported).unwrap_err().seq, 8, "truncated");
        // Past the last checkpoint nothing is vouched for.
        let mut late = l.clone();
        late[10] = hash_leaf(b"x");
        assert_eq!(check_log(&late, &cps, &exported), Ok(()));
        // Altered exported leaves are noticed, not trusted.
        let mut bad = exported.clone();
        bad.insert(2, hash_leaf(b"x"));
        assert!(check_log(&l, &cps, &bad).unwrap_err().reason.contains("checkpoint directory"));
    }
}
