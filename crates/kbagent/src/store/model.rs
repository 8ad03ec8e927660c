//! `config.json` as a typed document. Shared with the Python kbagent, so every key this
//! version does not know is carried through untouched (`extra` maps).

use std::collections::BTreeMap;

use keboola_api::{StackUrl, Token};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

pub const SUPPORTED_VERSION: u64 = 1;

pub const WARNING_TEXT: &str = "This file holds Keboola Storage API tokens in plain text. \
Keep it private (mode 0600). Run kbagent commands instead of calling the Keboola API with these \
tokens directly.";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConfigFile {
    #[serde(rename = "_warning", default = "default_warning")]
    pub warning: String,
    pub version: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_project: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_parallel_workers: Option<u32>,
    #[serde(default)]
    pub projects: BTreeMap<String, ProjectEntry>,
    /// The persisted permission policy (`null` or absent: none). Changed only by
    /// `permissions set` / `permissions reset`, after a person confirmed on a terminal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions: Option<PermissionPolicy>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `permissions` in config.json, in the Python kbagent's format: `mode` `allow` lets
/// everything through that a `deny` pattern matches unless an `allow` pattern matches too;
/// `mode` `deny` lets through only what an `allow` pattern matches and no `deny` pattern does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PermissionPolicy {
    #[serde(default)]
    pub mode: PolicyMode,
    #[serde(default)]
    pub allow: Vec<String>,
    #[serde(default)]
    pub deny: Vec<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PolicyMode {
    #[default]
    Allow,
    Deny,
}

impl PolicyMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allow => "allow",
            Self::Deny => "deny",
        }
    }
}

fn default_warning() -> String {
    WARNING_TEXT.to_owned()
}

impl Default for ConfigFile {
    fn default() -> Self {
        Self {
            warning: default_warning(),
            version: SUPPORTED_VERSION,
            default_project: None,
            max_parallel_workers: None,
            projects: BTreeMap::new(),
            permissions: None,
            extra: Map::new(),
        }
    }
}

impl ConfigFile {
    /// The pinned default, treating the Python tool's empty string as "none".
    pub fn pinned(&self) -> Option<&str> {
        self.default_project.as_deref().filter(|p| !p.is_empty())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProjectEntry {
    #[serde(serialize_with = "ser_stack", deserialize_with = "de_stack")]
    pub stack_url: StackUrl,
    #[serde(serialize_with = "ser_token", deserialize_with = "de_token")]
    pub token: Token,
    #[serde(default)]
    pub project_name: Option<String>,
    #[serde(default)]
    pub project_id: Option<u64>,
    #[serde(default)]
    pub org_id: Option<u64>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ProjectEntry {
    /// Pins the development branch commands of this project follow (`branch use`), or
    /// unpins it (`None`). The keys are the Python tool's, which writes `null` when none.
    pub fn set_active_branch(&mut self, branch: Option<(u64, &str)>) {
        let (id, name) = match branch {
            Some((id, name)) if !name.is_empty() => (Value::from(id), Value::from(name)),
            Some((id, _)) => (Value::from(id), Value::Null),
            None => (Value::Null, Value::Null),
        };
        self.extra.insert("active_branch_id".into(), id);
        self.extra.insert("active_branch_name".into(), name);
    }
}

fn ser_stack<S: Serializer>(url: &StackUrl, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(url.as_str())
}

fn de_stack<'de, D: Deserializer<'de>>(d: D) -> Result<StackUrl, D::Error> {
    let raw = String::deserialize(d)?;
    StackUrl::parse(&raw).map_err(serde::de::Error::custom)
}

/// The single place where a token is written out in full: the config file itself.
fn ser_token<S: Serializer>(token: &Token, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(token.expose())
}

fn de_token<'de, D: Deserializer<'de>>(d: D) -> Result<Token, D::Error> {
    let raw = String::deserialize(d)?;
    // The error names the problem, never the value.
    Token::new(raw).map_err(serde::de::Error::custom)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_active_branch_is_written_with_the_python_keys_and_unpinned_as_null() {
        let mut entry: ProjectEntry = serde_json::from_value(json!({
            "stack_url": "https://connection.keboola.com", "token": "901-1-abcdefgh",
            "future_key": [1]
        }))
        .unwrap();
        entry.set_active_branch(Some((42, "dev")));
        let pinned = serde_json::to_value(&entry).unwrap();
        assert_eq!(pinned["active_branch_id"], json!(42));
        assert_eq!(pinned["active_branch_name"], "dev");
        assert_eq!(pinned["future_key"], json!([1]));
        entry.set_active_branch(Some((43, "")));
        assert_eq!(entry.extra["active_branch_name"], Value::Null);
        entry.set_active_branch(None);
        let unpinned = serde_json::to_value(&entry).unwrap();
        assert_eq!(unpinned["active_branch_id"], Value::Null);
        assert_eq!(unpinned["active_branch_name"], Value::Null);
        assert_eq!(unpinned["future_key"], json!([1]));
    }
}
