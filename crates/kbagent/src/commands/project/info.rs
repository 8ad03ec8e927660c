//! `project info`: a project's metadata and what its token can do.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use super::rows::AuthMode;
use crate::authority::{Authority, ManageTokenSource, MintPower, describe_plan, planned_authority};
use crate::commands::shared::{ProjectArg, yes_no};
use crate::commands::{CommandOutput, Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::CliResult;
use crate::output::{BOLD, Printer, cell};
use crate::select::{load_and_select, verify_project};

pub(crate) const META: Meta = Meta::new(
    OpClass::Read,
    "Show a project's metadata and what its token can do",
    "Examples:\n  kbagent project info --project prod",
)
.network();

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub project: ProjectArg,
}

/// The token's privileges, named as Keboola names them.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Privileges {
    pub can_manage_tokens: bool,
    pub can_manage_buckets: bool,
    pub can_read_all_file_uploads: bool,
    pub can_purge_trash: bool,
    pub component_access: Vec<String>,
    pub bucket_permissions: BTreeMap<String, String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Output {
    pub alias: String,
    pub project_id: Option<u64>,
    pub project_name: Option<String>,
    pub stack_url: String,
    pub auth_mode: AuthMode,
    pub organization_id: Option<u64>,
    pub region: Option<String>,
    pub default_backend: Option<String>,
    pub features: Vec<String>,
    /// Keboola's `owner.limits`, passed through.
    pub limits: Value,
    /// Keboola's `owner.metrics`, passed through.
    pub metrics: Value,
    pub token_id: String,
    pub token_description: Option<String>,
    pub token: String,
    pub is_master_token: bool,
    pub admin_role: Option<String>,
    pub privileges: Privileges,
    pub token_expires: Option<String>,
    pub child_token_minting: MintPower,
    /// Who would mint child tokens now; null when nothing can.
    pub child_token_authority: Option<Authority>,
}

impl CommandOutput for Output {
    fn human(&self, p: &Printer) -> String {
        let mut human = String::new();
        // Pad before painting: escape codes would count towards the width.
        let mut line = |k: &str, v: String| {
            human.push_str(&format!("{} {v}\n", p.paint(BOLD, &format!("{k:<22}"))));
        };
        line(
            "Project",
            format!(
                "{} (id {})",
                cell(self.project_name.as_deref()),
                cell(self.project_id)
            ),
        );
        line("Alias", self.alias.clone());
        line("Stack", self.stack_url.clone());
        line("Backend", cell(self.default_backend.as_deref()));
        line("Region", cell(self.region.as_deref()));
        line(
            "Features",
            if self.features.is_empty() {
                "-".into()
            } else {
                self.features.join(", ")
            },
        );
        line(
            "Token",
            format!(
                "{} (id {}, {})",
                self.token,
                self.token_id,
                self.token_description.clone().unwrap_or_default()
            ),
        );
        line("Master token", yes_no(self.is_master_token).to_owned());
        line(
            "Mints child tokens",
            self.child_token_minting.label().to_owned(),
        );
        // canManageTokens alone does not let a token mint: say so beside the flag.
        let flag = match (
            self.privileges.can_manage_tokens,
            self.child_token_minting.can_mint(),
        ) {
            (true, false) => "yes (the flag only; without a usable master token it mints nothing)",
            (flag, _) => yes_no(flag),
        };
        line("canManageTokens flag", flag.to_owned());
        line(
            "Expires",
            self.token_expires.clone().unwrap_or_else(|| "never".into()),
        );
        line(
            "Child tokens minted by",
            describe_plan(self.child_token_authority).to_owned(),
        );
        if let Some(why) = self.child_token_minting.limitation() {
            human.push_str(&format!("\nThis token cannot mint child tokens: {why}.\n"));
        }
        human
    }
}

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    let project = load_and_select(ctx, args.project.get())?;
    let info = verify_project(ctx, &project)?;
    let power = MintPower::of(&info);
    let manage = ManageTokenSource::detect(ctx)?;
    let owner = info.owner.as_ref();
    Ok(Output {
        alias: project.alias.clone(),
        project_id: owner.map(|o| o.id),
        project_name: owner.map(|o| o.name.clone()),
        stack_url: project.entry.stack_url.as_str().to_owned(),
        auth_mode: AuthMode::Static,
        organization_id: info.organization_id,
        region: owner.and_then(|o| o.region.clone()),
        default_backend: owner.and_then(|o| o.default_backend.clone()),
        features: owner.map(|o| o.features.clone()).unwrap_or_default(),
        limits: owner.map_or(Value::Null, |o| o.limits.clone()),
        metrics: owner.map_or(Value::Null, |o| o.metrics.clone()),
        token_id: info.id.clone(),
        token_description: info.description.clone(),
        token: project.entry.token.masked(),
        is_master_token: info.is_master_token,
        admin_role: info.admin.as_ref().and_then(|a| a.role.clone()),
        privileges: Privileges {
            can_manage_tokens: info.can_manage_tokens,
            can_manage_buckets: info.can_manage_buckets,
            can_read_all_file_uploads: info.can_read_all_file_uploads,
            can_purge_trash: info.can_purge_trash,
            component_access: info.component_access.clone(),
            bucket_permissions: info.bucket_permissions.clone(),
        },
        token_expires: info.expires.clone(),
        child_token_minting: power,
        child_token_authority: planned_authority(power, manage.available()),
    })
}
