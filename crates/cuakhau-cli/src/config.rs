//! The optional configuration file (TOML), the lowest layer under environment and flags.

use anyhow::{Context, Result};
use serde::Deserialize;
use std::path::Path;

/// Every setting the file may hold; all optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct File {
    pub database: Option<String>,
    pub read_database: Option<String>,
    pub listen: Option<String>,
    pub log_format: Option<String>,
    pub session_ttl_s: Option<i64>,
    pub insecure_cookies: Option<bool>,
    pub audit_key: Option<std::path::PathBuf>,
    pub checkpoints: Option<std::path::PathBuf>,
}

impl File {
    pub fn load(path: Option<&Path>) -> Result<File> {
        let Some(path) = path else { return Ok(File::default()) };
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read the configuration file {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("the configuration file {} is not valid", path.display()))
    }
}

/// The URL with any password replaced by `***`, safe to print or log.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_string() };
    let Some((userinfo, host)) = rest.rsplit_once('@') else { return url.to_string() };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_show() {
        assert_eq!(redact("postgres://app:s3cret@db:5432/x"), "postgres://app:***@db:5432/x");
        assert_eq!(redact("postgres://postgres@127.0.0.1/test"), "postgres://postgres@127.0.0.1/test");
        assert_eq!(redact("sqlite:cuakhau.db"), "sqlite:cuakhau.db");
    }

    #[test]
    fn unknown_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.toml");
        std::fs::write(&p, "databse = 'sqlite:x.db'\n").unwrap();
        let e = File::load(Some(&p)).unwrap_err();
        assert!(format!("{e:#}").contains("databse"), "{e:#}");
        std::fs::write(&p, "database = 'sqlite:x.db'\nlisten = '127.0.0.1:9'\n").unwrap();
        assert_eq!(File::load(Some(&p)).unwrap().listen.as_deref(), Some("127.0.0.1:9"));
    }
}
