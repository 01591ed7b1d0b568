//! The part of Spin's runtime-config file (`spin up --runtime-config-file`) that
//! this host can honour: `type = "spin"` stores with a `path`, and variables from
//! the environment (`type = "env"`, with `prefix` and `dotenv_path`). Remote stores
//! and secret providers (libsql, redis, vault, azure_key_vault) are documented in
//! docs/SPIN.md and refused here by name, never silently ignored.
//!
//! Keys and path rules as Spin reads them (spinframework/spin 94a8fc8a:
//! crates/runtime-config/src/lib.rs, crates/sqlite, crates/key-value-spin,
//! crates/runtime-config/src/variables.rs): a relative SQLite path is taken from
//! the working directory, a relative key-value path from the file's directory.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    sqlite_database: HashMap<String, Store>,
    #[serde(default)]
    key_value_store: HashMap<String, Store>,
    /// `config_provider` is Spin's older name for it.
    #[serde(default, alias = "config_provider")]
    variables_provider: Vec<Provider>,
}

#[derive(Debug, Deserialize)]
struct Store {
    #[serde(rename = "type")]
    kind: String,
    path: Option<PathBuf>,
}

#[derive(Debug, Deserialize)]
struct Provider {
    #[serde(rename = "type")]
    kind: String,
    prefix: Option<String>,
    dotenv_path: Option<PathBuf>,
}

/// What the host takes from the file.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct RuntimeConfig {
    /// The `default` SQLite database's file, if the file names one.
    pub sqlite_path: Option<PathBuf>,
    /// The `default` key-value store's file, if the file names one.
    pub key_value_path: Option<PathBuf>,
    /// Variables from the `env` providers' dotenv files (the environment itself is
    /// always read, as Spin does).
    pub dotenv: HashMap<String, String>,
    /// The env providers' prefixes (`SPIN_VARIABLE` unless set).
    pub prefixes: Vec<String>,
}

impl RuntimeConfig {
    pub fn load(path: &Path) -> anyhow::Result<RuntimeConfig> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("runtime config {}", path.display()))?;
        let dir = path.parent().unwrap_or(Path::new("."));
        RuntimeConfig::parse(&text, dir, &std::env::current_dir()?)
    }

    fn parse(text: &str, file_dir: &Path, cwd: &Path) -> anyhow::Result<RuntimeConfig> {
        let file: File = toml::from_str(text).context("runtime config")?;
        let mut config = RuntimeConfig::default();
        for (name, store) in &file.sqlite_database {
            config.sqlite_path = Some(local_path("sqlite_database", name, store, cwd)?);
        }
        for (name, store) in &file.key_value_store {
            config.key_value_path = Some(local_path("key_value_store", name, store, file_dir)?);
        }
        for provider in &file.variables_provider {
            if provider.kind != "env" {
                bail!(
                    "variables_provider type {:?} is documented in docs/SPIN.md but not run by the test host (only \"env\")",
                    provider.kind
                );
            }
            config.prefixes.push(
                provider
                    .prefix
                    .clone()
                    .unwrap_or_else(|| "SPIN_VARIABLE".into()),
            );
            if let Some(dotenv) = &provider.dotenv_path {
                let dotenv = if dotenv.is_relative() {
                    cwd.join(dotenv)
                } else {
                    dotenv.clone()
                };
                // Spin reads a dotenv file only if it exists.
                if let Ok(text) = std::fs::read_to_string(&dotenv) {
                    for line in text.lines().map(str::trim) {
                        if let Some((k, v)) = line.split_once('=')
                            && !line.starts_with('#')
                        {
                            let v = v.trim().trim_matches('"');
                            config.dotenv.insert(k.trim().to_string(), v.to_string());
                        }
                    }
                }
            }
        }
        Ok(config)
    }

    /// The value of application variable `name` from the environment or a dotenv
    /// file, under every configured prefix (`SPIN_VARIABLE_` when none).
    pub fn variable(&self, name: &str) -> Option<String> {
        let default = ["SPIN_VARIABLE".to_string()];
        let prefixes = if self.prefixes.is_empty() {
            &default[..]
        } else {
            &self.prefixes[..]
        };
        prefixes.iter().find_map(|prefix| {
            let key = format!("{prefix}_{}", name.to_ascii_uppercase());
            std::env::var(&key)
                .ok()
                .or_else(|| self.dotenv.get(&key).cloned())
        })
    }
}

fn local_path(section: &str, name: &str, store: &Store, base: &Path) -> anyhow::Result<PathBuf> {
    if name != "default" {
        bail!("[{section}.{name}]: the components use only the store \"default\"");
    }
    if store.kind != "spin" {
        bail!(
            "[{section}.{name}] type {:?} is documented in docs/SPIN.md but not run by the test host (only \"spin\")",
            store.kind
        );
    }
    let path = store.path.as_ref().with_context(|| {
        format!("[{section}.{name}] has no path: Spin would keep it in memory; the test host needs a file")
    })?;
    Ok(if path.is_relative() {
        base.join(path)
    } else {
        path.clone()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped(name: &str) -> String {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../deploy/spin")
            .join(name);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    #[test]
    fn the_shipped_local_file_is_read() {
        let config = RuntimeConfig::parse(
            &shipped("runtime-config.local.toml"),
            Path::new("/etc/edge-mfa"),
            Path::new("/srv"),
        )
        .unwrap();
        assert_eq!(
            config.sqlite_path.as_deref(),
            Some(Path::new("/var/lib/edge-mfa/edge-mfa.db"))
        );
        assert_eq!(
            config.key_value_path.as_deref(),
            Some(Path::new("/var/lib/edge-mfa/tenants.db"))
        );
        assert_eq!(config.prefixes, ["SPIN_VARIABLE"]);
    }

    #[test]
    fn the_remote_files_are_refused_by_name() {
        for file in [
            "runtime-config.turso-redis.toml",
            "runtime-config.vault.toml",
        ] {
            let e = RuntimeConfig::parse(&shipped(file), Path::new("/"), Path::new("/"))
                .unwrap_err()
                .to_string();
            assert!(e.contains("documented in docs/SPIN.md"), "{file}: {e}");
        }
    }

    #[test]
    fn relative_paths_resolve_as_spin_resolves_them() {
        let text = "[sqlite_database.default]\ntype = \"spin\"\npath = \"db/users.db\"\n\n[key_value_store.default]\ntype = \"spin\"\npath = \"kv.db\"\n\n[[config_provider]]\ntype = \"env\"\nprefix = \"EDGE\"\n";
        let config = RuntimeConfig::parse(text, Path::new("/conf"), Path::new("/work")).unwrap();
        assert_eq!(
            config.sqlite_path.as_deref(),
            Some(Path::new("/work/db/users.db"))
        );
        assert_eq!(
            config.key_value_path.as_deref(),
            Some(Path::new("/conf/kv.db"))
        );
        assert_eq!(config.prefixes, ["EDGE"]);
        for bad in [
            "[sqlite_database.default]\ntype = \"spin\"\n",
            "[sqlite_database.other]\ntype = \"spin\"\npath = \"x\"\n",
            "[key_value_store.default]\ntype = \"redis\"\nurl = \"redis://x\"\n",
            "[unknown_section]\nx = 1\n",
        ] {
            assert!(
                RuntimeConfig::parse(bad, Path::new("/"), Path::new("/")).is_err(),
                "{bad}"
            );
        }
    }
}
