//! `cuakhau backup` and `cuakhau restore`: SQLite's online backup into a new file, and a restore
//! that checks the backup's audit log on a staged copy before it replaces anything. PostgreSQL is
//! backed up with its own tools (`pg_dump`, docs/operations.md#backups).

use crate::ops::{open_store, user_lang};
use anyhow::{Result, bail};
use cuakhau_core::Lang;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// What these commands tell the operator, in their language.
enum Say<'a> {
    Postgres,
    NotSqlite,
    Written { to: &'a Path },
    Exists { to: &'a Path },
    NoDatabase { at: &'a Path },
    NotEmpty { db: &'a Path, entries: i64 },
    Broken { reason: String },
    Restored { from: &'a Path, db: &'a Path, entries: i64 },
}

impl Say<'_> {
    fn text(&self, lang: Lang) -> String {
        use Lang::*;
        match (self, lang) {
            (Say::Postgres, Vi) => {
                "PostgreSQL được sao lưu và khôi phục bằng pg_dump và pg_restore, không phải bằng lệnh này: xem docs/operations.md#backups"
                    .into()
            }
            (Say::Postgres, Zh) => "PostgreSQL 请用 pg_dump 和 pg_restore 备份与恢复，而非本命令：见 docs/operations.md#backups".into(),
            (Say::Postgres, En) => {
                "PostgreSQL is backed up and restored with pg_dump and pg_restore, not with this command: see docs/operations.md#backups"
                    .into()
            }
            (Say::NotSqlite, Vi) => "chỉ sao lưu được cơ sở dữ liệu sqlite:ĐƯỜNG_DẪN".into(),
            (Say::NotSqlite, Zh) => "只能备份 sqlite:路径 数据库".into(),
            (Say::NotSqlite, En) => "only a sqlite:PATH database can be backed up this way".into(),
            (Say::Written { to }, Vi) => format!("đã ghi bản sao lưu vào {}", to.display()),
            (Say::Written { to }, Zh) => format!("备份已写入 {}", to.display()),
            (Say::Written { to }, En) => format!("backup written to {}", to.display()),
            (Say::Exists { to }, Vi) => format!("{} đã tồn tại: sao lưu không bao giờ ghi đè một tệp", to.display()),
            (Say::Exists { to }, Zh) => format!("{} 已存在：备份从不覆盖已有文件", to.display()),
            (Say::Exists { to }, En) => format!("{} already exists: a backup never overwrites a file", to.display()),
            (Say::NoDatabase { at }, Vi) => format!("không có cơ sở dữ liệu tại {}", at.display()),
            (Say::NoDatabase { at }, Zh) => format!("{} 处没有数据库", at.display()),
            (Say::NoDatabase { at }, En) => format!("there is no database at {}", at.display()),
            (Say::NotEmpty { db, entries }, Vi) => {
                format!("{} không trống ({entries} mục nhật ký kiểm toán): thêm --force để thay thế nó", db.display())
            }
            (Say::NotEmpty { db, entries }, Zh) => format!("{} 不为空（{entries} 条审计记录）：加 --force 以替换", db.display()),
            (Say::NotEmpty { db, entries }, En) => {
                format!("{} is not empty ({entries} audit entries): add --force to replace it", db.display())
            }
            (Say::Broken { reason }, Vi) => format!("nhật ký kiểm toán của bản sao lưu không hợp lệ: {reason}; không có gì được khôi phục"),
            (Say::Broken { reason }, Zh) => format!("备份的审计日志未通过校验：{reason}；未恢复任何内容"),
            (Say::Broken { reason }, En) => format!("the backup's audit log does not verify: {reason}; nothing was restored"),
            (Say::Restored { from, db, entries }, Vi) => {
                format!("đã khôi phục {} vào {}: nhật ký kiểm toán nguyên vẹn, {entries} mục", from.display(), db.display())
            }
            (Say::Restored { from, db, entries }, Zh) => {
                format!("已将 {} 恢复到 {}：审计日志完整，共 {entries} 条", from.display(), db.display())
            }
            (Say::Restored { from, db, entries }, En) => {
                format!("restored {} into {}: audit log intact, {entries} entries", from.display(), db.display())
            }
        }
    }
}

/// The file of a `sqlite:` database; PostgreSQL is refused with the way to back it up.
fn sqlite_file(database: &str, lang: Lang) -> Result<PathBuf> {
    if database.starts_with("postgres://") || database.starts_with("postgresql://") {
        bail!(Say::Postgres.text(lang));
    }
    match cuakhau_store_sqlite::path_of(database) {
        Some(p) if database.starts_with("sqlite:") => Ok(p),
        _ => bail!(Say::NotSqlite.text(lang)),
    }
}

/// Runs a blocking file operation off the runtime's threads.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> std::io::Result<T> + Send + 'static) -> std::io::Result<T> {
    tokio::task::spawn_blocking(f).await.map_err(std::io::Error::other)?
}

/// `cuakhau backup --to FILE`.
pub async fn backup(database: &str, to: &Path) -> Result<()> {
    let lang = user_lang();
    let from = sqlite_file(database, lang)?;
    let (f, t) = (from.clone(), to.to_path_buf());
    match blocking(move || cuakhau_store_sqlite::backup(&f, &t)).await {
        Ok(()) => {
            println!("{}", Say::Written { to }.text(lang));
            Ok(())
        }
        Err(e) if e.kind() == ErrorKind::AlreadyExists => bail!(Say::Exists { to }.text(lang)),
        Err(e) if e.kind() == ErrorKind::NotFound => bail!(Say::NoDatabase { at: &from }.text(lang)),
        Err(e) => bail!("{}: {e}", to.display()),
    }
}

/// `cuakhau restore --from FILE [--force]`: the backup is staged beside the database, its audit
/// log (chain, Merkle leaves, bookings and declarations) verified on a copy of the staged file,
/// and only then does it replace the database. A database that holds audit entries is replaced
/// only with `--force`. No server may be running on the database.
pub async fn restore(database: &str, from: &Path, force: bool) -> Result<ExitCode> {
    let lang = user_lang();
    let target = sqlite_file(database, lang)?;
    if !from.is_file() {
        bail!(Say::NoDatabase { at: from }.text(lang));
    }
    if target.exists() && !force {
        let entries = open_store(database).await?.audit_head().await?.0;
        if entries > 0 {
            bail!(Say::NotEmpty { db: &target, entries }.text(lang));
        }
    }
    let (f, t) = (from.to_path_buf(), target.clone());
    let staged = blocking(move || cuakhau_store_sqlite::stage_restore(&f, &t)).await?;
    // Checked on a copy: opening a database (migrations, its log) changes the file.
    let mut check = staged.clone().into_os_string();
    check.push(".check");
    let check = PathBuf::from(check);
    let (s, c) = (staged.clone(), check.clone());
    blocking(move || {
        cuakhau_store_sqlite::abandon_restore(&c)?;
        cuakhau_store_sqlite::backup(&s, &c)
    })
    .await?;
    let verdict = {
        let store = open_store(&format!("sqlite:{}", check.display())).await?;
        cuakhau_store::ledger::verify(store.as_ref(), &Default::default()).await?
    };
    cuakhau_store_sqlite::abandon_restore(&check)?;
    let entries = match verdict {
        Ok(v) => v.entries,
        Err(failure) => {
            cuakhau_store_sqlite::abandon_restore(&staged)?;
            eprintln!("{}", Say::Broken { reason: crate::transparency::printable(&failure.to_string()) }.text(lang));
            return Ok(ExitCode::FAILURE);
        }
    };
    let (s, t) = (staged.clone(), target.clone());
    blocking(move || cuakhau_store_sqlite::finish_restore(&s, &t)).await?;
    println!("{}", Say::Restored { from, db: &target, entries }.text(lang));
    Ok(ExitCode::SUCCESS)
}
