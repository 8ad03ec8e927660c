//! The envelope's `targets`: which project and branch a command read or changed, so that an
//! agent can check where a command acted before trusting its result. Absent when a command
//! chose no branch (that does not mean production).

use schemars::JsonSchema;
use serde::Serialize;

/// One project and branch a command used.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Target {
    pub role: TargetRole,
    pub project_alias: String,
    /// The branch id; null is the production (default) branch's endpoint.
    pub branch_id: Option<BranchId>,
    pub branch_name: Option<String>,
    pub branch_source: BranchSource,
    /// The project's active branch (set by the Python tool's `branch use`), applied or not.
    pub active_branch: Option<ActiveBranch>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TargetRole {
    /// The branch the command read or changed.
    Target,
}

/// Keboola's branch ids are numbers; an id that is not one is kept as given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum BranchId {
    Number(u64),
    Text(String),
}

impl std::fmt::Display for BranchId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Number(n) => write!(f, "{n}"),
            Self::Text(s) => f.write_str(s),
        }
    }
}

impl BranchId {
    pub fn parse(id: &str) -> Self {
        id.parse()
            .map_or_else(|_| Self::Text(id.to_owned()), Self::Number)
    }
}

/// Why this branch: `explicit` (`--branch`), `active` (the project's branch pinned with
/// `branch use`) or `production` (no branch chosen).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BranchSource {
    Explicit,
    Active,
    Production,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct ActiveBranch {
    pub branch_id: BranchId,
    pub branch_name: Option<String>,
}

impl Target {
    /// The target of a command on `alias`, on branch `branch` (`--branch`) or production.
    pub fn new(alias: &str, branch: Option<&str>, active: Option<ActiveBranch>) -> Self {
        Self {
            role: TargetRole::Target,
            project_alias: alias.to_owned(),
            branch_id: branch.map(BranchId::parse),
            branch_name: None,
            branch_source: if branch.is_some() {
                BranchSource::Explicit
            } else {
                BranchSource::Production
            },
            active_branch: active,
        }
    }
}
