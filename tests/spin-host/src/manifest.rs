//! The parts of a Spin manifest (spin.toml, version 2) this host honours: HTTP
//! triggers, components (source, key-value stores, SQLite databases, variables)
//! and application variables.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct Manifest {
    pub spin_manifest_version: u32,
    #[serde(default)]
    pub variables: HashMap<String, VariableDecl>,
    pub trigger: Triggers,
    pub component: HashMap<String, ComponentDecl>,
}

#[derive(Debug, Deserialize)]
pub struct Triggers {
    pub http: Vec<HttpTrigger>,
}

#[derive(Debug, Deserialize)]
pub struct HttpTrigger {
    pub route: String,
    pub component: String,
}

#[derive(Debug, Deserialize)]
pub struct VariableDecl {
    #[serde(default)]
    pub default: Option<String>,
    #[serde(default)]
    pub required: bool,
}

#[derive(Debug, Deserialize)]
pub struct ComponentDecl {
    pub source: String,
    #[serde(default)]
    pub key_value_stores: Vec<String>,
    #[serde(default)]
    pub sqlite_databases: Vec<String>,
    #[serde(default)]
    pub variables: HashMap<String, String>,
    #[serde(default)]
    pub allowed_outbound_hosts: Vec<String>,
}

impl Manifest {
    pub fn load(path: &Path) -> anyhow::Result<(Manifest, PathBuf)> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let manifest: Manifest =
            toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        if manifest.spin_manifest_version != 2 {
            bail!("only spin_manifest_version = 2 is supported");
        }
        for trigger in &manifest.trigger.http {
            if !manifest.component.contains_key(&trigger.component) {
                bail!(
                    "route {} names unknown component {}",
                    trigger.route,
                    trigger.component
                );
            }
        }
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Ok((manifest, dir))
    }

    /// Application variables as Spin resolves them: `SPIN_VARIABLE_<NAME>` from the
    /// environment, else the default; a required variable without a value is an error.
    /// Each application variable from `lookup` (the environment and the runtime
    /// config's providers), else its default.
    pub fn resolve_variables(
        &self,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> anyhow::Result<HashMap<String, String>> {
        let mut values = HashMap::new();
        for (name, decl) in &self.variables {
            let env = format!("SPIN_VARIABLE_{}", name.to_ascii_uppercase());
            match lookup(name).or_else(|| decl.default.clone()) {
                Some(value) => {
                    values.insert(name.clone(), value);
                }
                None if decl.required => bail!("required variable {name} is not set ({env})"),
                None => {}
            }
        }
        Ok(values)
    }
}

/// Expands `{{ name }}` templates in a component variable against app variables.
pub fn expand(template: &str, app: &HashMap<String, String>) -> anyhow::Result<String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find("}}")
            .context("unclosed {{ in a variable template")?
            + start;
        let name = rest[start + 2..end].trim();
        out.push_str(
            app.get(name)
                .with_context(|| format!("no application variable {name}"))?,
        );
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates() {
        let app = HashMap::from([("a".to_string(), "1".to_string())]);
        assert_eq!(expand("{{ a }}", &app).unwrap(), "1");
        assert_eq!(expand("x{{a}}y", &app).unwrap(), "x1y");
        assert!(expand("{{ b }}", &app).is_err());
    }
}
