//! The SQL implementation of the store, written once: plain async functions, one module per
//! context, generic over [`Conn`], a connection (or transaction) that each engine implements.
//!
//! Both engines accept the same statements (`$n` parameters, `ON CONFLICT … DO UPDATE`,
//! `RETURNING`). Parameters are [`Value`]s (typed, so that PostgreSQL gets typed NULLs) and rows
//! come back as engine-neutral [`Row`]s read by column name into records ([`FromRow`]). What
//! differs per engine — how a read gets a connection, how a write transaction runs, commits and is
//! retried — is [`Engine`]; every `Engine` is a [`crate::Store`] through the blanket impls in the
//! context modules. This crate does not depend on sqlx or rusqlite.

pub mod accounts;
pub mod audit;
pub mod cluster;
pub mod gate;
pub mod goods;
pub mod reference;

use crate::{Result, StoreError};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// A boxed future that may cross threads.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One statement parameter or column value. Nulls are typed: PostgreSQL types each parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Int(Option<i64>),
    Real(Option<f64>),
    Text(Option<String>),
    Bool(Option<bool>),
}

impl Value {
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Int(None) | Value::Real(None) | Value::Text(None) | Value::Bool(None))
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(Some(v))
    }
}
impl From<Option<i64>> for Value {
    fn from(v: Option<i64>) -> Self {
        Value::Int(v)
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Real(Some(v))
    }
}
impl From<Option<f64>> for Value {
    fn from(v: Option<f64>) -> Self {
        Value::Real(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(Some(v))
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(Some(v.to_string()))
    }
}
impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Value::Text(Some(v.clone()))
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(Some(v))
    }
}
impl From<Option<String>> for Value {
    fn from(v: Option<String>) -> Self {
        Value::Text(v)
    }
}
impl From<Option<&str>> for Value {
    fn from(v: Option<&str>) -> Self {
        Value::Text(v.map(str::to_string))
    }
}
impl From<&Option<String>> for Value {
    fn from(v: &Option<String>) -> Self {
        Value::Text(v.clone())
    }
}

/// Statement parameters: `params![a, b]` is `&[Value::from(a), Value::from(b)]`.
#[macro_export]
#[doc(hidden)]
macro_rules! params {
    ($($v:expr),* $(,)?) => { &[$($crate::sql::Value::from($v)),*] };
}
pub use crate::params;

/// A column's value read as a Rust type (`None`: the value has another type).
pub trait FromValue: Sized {
    fn from_value(v: &Value) -> Option<Self>;
}

impl FromValue for i64 {
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Int(Some(n)) => Some(*n),
            Value::Bool(Some(b)) => Some(i64::from(*b)),
            _ => None,
        }
    }
}
impl FromValue for f64 {
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Real(Some(x)) => Some(*x),
            Value::Int(Some(n)) => Some(*n as f64),
            _ => None,
        }
    }
}
impl FromValue for bool {
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Bool(Some(b)) => Some(*b),
            Value::Int(Some(n)) => Some(*n != 0),
            _ => None,
        }
    }
}
impl FromValue for String {
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Text(Some(s)) => Some(s.clone()),
            _ => None,
        }
    }
}
/// Typed row ids go to and come from their integer column.
macro_rules! id_values {
    ($($id:ident),*) => {$(
        impl From<cuakhau_core::$id> for Value {
            fn from(v: cuakhau_core::$id) -> Self {
                Value::Int(Some(v.get()))
            }
        }
        impl From<Option<cuakhau_core::$id>> for Value {
            fn from(v: Option<cuakhau_core::$id>) -> Self {
                Value::Int(v.map(cuakhau_core::$id::get))
            }
        }
        impl FromValue for cuakhau_core::$id {
            fn from_value(v: &Value) -> Option<Self> {
                i64::from_value(v).map(cuakhau_core::$id)
            }
        }
    )*};
}
id_values!(DeclarationId, BookingId, TripId, UserId, SuspensionId);

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(v: &Value) -> Option<Self> {
        if v.is_null() { Some(None) } else { T::from_value(v).map(Some) }
    }
}

/// One result row: column names (shared by the rows of one statement) and values.
#[derive(Debug, Clone)]
pub struct Row {
    columns: Arc<[String]>,
    values: Vec<Value>,
}

impl Row {
    pub fn new(columns: Arc<[String]>, values: Vec<Value>) -> Self {
        Row { columns, values }
    }

    /// The value of column `name`, read as `T`.
    pub fn get<T: FromValue>(&self, name: &str) -> Result<T> {
        let i = self.columns.iter().position(|c| c == name).ok_or_else(|| StoreError::Backend(format!("no column {name}")))?;
        T::from_value(&self.values[i]).ok_or_else(|| StoreError::Corrupt(format!("column {name} holds {:?}", self.values[i])))
    }

    /// The first column's value, read as `T`.
    pub fn first<T: FromValue>(&self) -> Result<T> {
        let v = self.values.first().ok_or_else(|| StoreError::Backend("a row without columns".into()))?;
        T::from_value(v).ok_or_else(|| StoreError::Corrupt(format!("value {v:?}")))
    }
}

/// A record read from a row by column names.
pub trait FromRow: Sized {
    fn from_row(r: &Row) -> Result<Self>;
}

/// A connection, or a transaction on one: what the SQL functions run on. Engines map their errors
/// to [`StoreError`] here: unique violations to `Conflict(Duplicate)`, foreign keys to
/// `Conflict(MissingReference)`, serialization failures and deadlocks to `Contention`.
pub trait Conn: Send {
    /// The statement that reads the head (`seq`, `size`, `hash`) of audit stream `$1` in a
    /// write, locking that row where the engine has row locks (no row: the stream has none yet).
    const LOCK_HEAD: &'static str;
    /// The statement that answers the next entry's number in the whole log (in a write, with its
    /// stream's head held).
    const NEXT_SEQ: &'static str;
    /// Run when that number was taken (a row written behind the log's back), before asking again;
    /// `None` where the next number is always free.
    const RESYNC_SEQ: Option<&'static str> = None;
    /// Audit entry `seq` was written in this transaction: an engine whose other processes listen
    /// tells them once (and only if) the transaction commits. Nothing where no other process
    /// listens (SQLite).
    fn appended(&mut self, seq: i64) {
        let _ = seq;
    }
    /// Runs a statement; returns the number of rows it changed.
    fn execute(&mut self, sql: &str, params: &[Value]) -> impl Future<Output = Result<u64>> + Send;
    /// Runs a statement and returns every row.
    fn query(&mut self, sql: &str, params: &[Value]) -> impl Future<Output = Result<Vec<Row>>> + Send;
}

/// The rows of a query, as records.
pub async fn all<T: FromRow, C: Conn>(c: &mut C, sql: &str, params: &[Value]) -> Result<Vec<T>> {
    c.query(sql, params).await?.iter().map(T::from_row).collect()
}

/// The first row of a query, if any, as a record.
pub async fn opt<T: FromRow, C: Conn>(c: &mut C, sql: &str, params: &[Value]) -> Result<Option<T>> {
    c.query(sql, params).await?.first().map(T::from_row).transpose()
}

/// The first row of a query, which must exist.
pub async fn one<C: Conn>(c: &mut C, sql: &str, params: &[Value]) -> Result<Row> {
    c.query(sql, params).await?.into_iter().next().ok_or_else(|| StoreError::Backend("the statement returned no row".into()))
}

/// The first column of the first row, which must exist.
pub async fn scalar<T: FromValue, C: Conn>(c: &mut C, sql: &str, params: &[Value]) -> Result<T> {
    one(c, sql, params).await?.first()
}

/// The first column of the first row, if there is a row.
pub async fn scalar_opt<T: FromValue, C: Conn>(c: &mut C, sql: &str, params: &[Value]) -> Result<Option<T>> {
    c.query(sql, params).await?.first().map(Row::first).transpose()
}

/// An engine: how reads get a connection and how a write's transaction runs.
pub trait Engine: Send + Sync + std::fmt::Debug + 'static {
    type Conn: Conn;
    /// The engine's name, for logs and `/healthz`.
    const NAME: &'static str;

    /// Runs `f` on a connection outside any write transaction.
    fn read<S, T, F>(&self, state: S, f: F) -> impl Future<Output = Result<T>> + Send
    where
        S: Send + Sync + 'static,
        T: Send + 'static,
        F: for<'c> Fn(&'c mut Self::Conn, &'c S) -> BoxFuture<'c, Result<T>> + Send + Sync + 'static;

    /// Runs `f` in one write transaction and commits it when `f` succeeds and `keep` says so
    /// (a refusal returned as a value, such as a full hour, is rolled back). The answer comes
    /// only after the commit that holds the change.
    fn write<S, T, F>(&self, state: S, keep: fn(&T) -> bool, f: F) -> impl Future<Output = Result<T>> + Send
    where
        S: Send + Sync + 'static,
        T: Send + 'static,
        F: for<'c> Fn(&'c mut Self::Conn, &'c S) -> BoxFuture<'c, Result<T>> + Send + Sync + 'static;

    /// Like [`Engine::write`], for a write that locks the hot rows of `key` (a gate pair: its
    /// slot counters and its audit stream's head, held from the update to the commit). Engines
    /// with row locks let only a few of this process's writes on one key wait at the database;
    /// the others wait their turn in the process, holding no connection, so the database does not
    /// wake every waiter at each commit and other work keeps its connections. Without a key, or
    /// on an engine with one writer, it is `write`.
    fn write_hot<S, T, F>(&self, key: Option<&str>, state: S, keep: fn(&T) -> bool, f: F) -> impl Future<Output = Result<T>> + Send
    where
        S: Send + Sync + 'static,
        T: Send + 'static,
        F: for<'c> Fn(&'c mut Self::Conn, &'c S) -> BoxFuture<'c, Result<T>> + Send + Sync + 'static,
    {
        let _ = key;
        self.write(state, keep, f)
    }

    /// A listener for committed changes made by any process (see [`crate::ClusterStore`]).
    fn listen(&self) -> impl Future<Output = Result<Option<Box<dyn crate::ChangeListener>>>> + Send {
        async { Ok(None) }
    }

    /// The lag of a read replica (see [`crate::ClusterStore::replica_lag`]); `None` on a primary.
    fn replica_lag(&self) -> impl Future<Output = Result<Option<f64>>> + Send {
        async { Ok(None) }
    }
}

/// Commit every successful answer.
pub fn always<T>(_: &T) -> bool {
    true
}

/// `$1 … $n` as SQLite's numbered `?1 … ?n` (the same parameter, the same number). Quoted text
/// is copied as it is.
pub fn numbered_params(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut quoted = false;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' {
            quoted = !quoted;
        }
        if c == '$' && !quoted && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('?');
        } else {
            out.push(c);
        }
    }
    out
}

/// Every engine is a store: the context traits are implemented in their modules.
impl<E: Engine> crate::Store for E {
    fn engine(&self) -> &'static str {
        E::NAME
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dollar_parameters_become_numbered_outside_quotes() {
        assert_eq!(
            numbered_params("SELECT '$1', x FROM t WHERE a = $2 AND b = $10 OR c = $2"),
            "SELECT '$1', x FROM t WHERE a = ?2 AND b = ?10 OR c = ?2"
        );
    }

    #[test]
    fn values_read_back_as_their_types_and_nulls_as_none() {
        let r = Row::new(
            vec!["a".to_string(), "b".to_string(), "c".to_string()].into(),
            vec![Value::Int(Some(1)), Value::Text(None), Value::Int(Some(0))],
        );
        assert_eq!(r.get::<i64>("a").unwrap(), 1);
        assert_eq!(r.get::<f64>("a").unwrap(), 1.0);
        assert_eq!(r.get::<Option<String>>("b").unwrap(), None);
        assert!(!r.get::<bool>("c").unwrap());
        assert!(r.get::<String>("a").is_err());
        assert!(r.get::<i64>("zz").is_err());
    }
}
