//! `project status`: verify every (or the given) project's token in parallel.

use schemars::JsonSchema;
use serde::Serialize;

use super::rows::RegistryRow;
use crate::authority::MintPower;
use crate::commands::shared::ProjectsArg;
use crate::commands::{CommandOutput, Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::{CliResult, ErrorCode};
use crate::output::{Printer, Table, cell};
use crate::select::{select_many, verify_all};

pub(crate) const META: Meta = Meta::new(
    OpClass::Read,
    "Verify every project's token in parallel (response time, master flag, expiry)",
    "Examples:\n  kbagent project status\n  kbagent --json project status --project prod --project dev",
)
.network();

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub projects: ProjectsArg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Status {
    Ok,
    Error,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(untagged)]
pub(crate) enum Verdict {
    Ok {
        is_master_token: bool,
        can_manage_tokens: bool,
        token_expires: Option<String>,
        /// Whether the token mints child tokens itself (`full`), and if not, why.
        child_token_minting: MintPower,
    },
    Error {
        error: String,
        error_code: ErrorCode,
        retryable: bool,
    },
}

/// One project's token check: the registry fields, then the verdict.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Row {
    /// `project_name` and `project_id` as the token verified, else as stored.
    #[serde(flatten)]
    pub project: RegistryRow,
    pub response_time_ms: u64,
    pub status: Status,
    #[serde(flatten)]
    pub verdict: Verdict,
}

/// One row per project, in alias order; a failing project is a row with its error.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(transparent)]
pub(crate) struct Output(pub Vec<Row>);

impl CommandOutput for Output {
    fn human(&self, p: &Printer) -> String {
        if self.0.is_empty() {
            return "No projects registered.\n".to_owned();
        }
        let mut table = Table::new([
            "ALIAS", "STATUS", "MS", "PROJECT", "ID", "MINTS TOKENS", "EXPIRES",
        ]);
        for r in &self.0 {
            let s = &r.project.project;
            let (master, last) = match &r.verdict {
                Verdict::Ok {
                    child_token_minting,
                    token_expires,
                    ..
                } => (
                    child_token_minting.label().to_owned(),
                    token_expires.clone().unwrap_or_else(|| "never".into()),
                ),
                Verdict::Error { error_code, .. } => ("-".into(), error_code.as_str().into()),
            };
            table.row([
                s.alias.clone(),
                if r.status == Status::Ok {
                    "ok"
                } else {
                    "error"
                }
                .to_owned(),
                r.response_time_ms.to_string(),
                cell(s.project_name.as_deref()),
                cell(s.project_id),
                master,
                last,
            ]);
        }
        let mut human = table.render(p.stdout_is_terminal());
        for r in &self.0 {
            if let Verdict::Error { error, .. } = &r.verdict {
                human.push_str(&format!("{}: {error}\n", r.project.project.alias));
            }
        }
        human
    }
}

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    let cfg = ctx.store()?.load()?;
    let projects = select_many(ctx, &cfg, &args.projects.aliases)?;
    let workers = ctx.parallelism(&cfg)?;
    let http = ctx.http()?.clone();
    let checked = verify_all(ctx, &http, &projects, workers);
    let rows = projects
        .iter()
        .zip(checked)
        .map(|(p, c)| {
            let mut project = RegistryRow::of(&p.alias, &p.entry);
            let (status, verdict) = match c.result {
                Ok(info) => {
                    if let Some(owner) = &info.owner {
                        project.project.project_name = Some(owner.name.clone());
                        project.project.project_id = Some(owner.id);
                    }
                    let verdict = Verdict::Ok {
                        child_token_minting: MintPower::of(&info),
                        is_master_token: info.is_master_token,
                        can_manage_tokens: info.can_manage_tokens,
                        token_expires: info.expires,
                    };
                    (Status::Ok, verdict)
                }
                Err(e) => (
                    Status::Error,
                    Verdict::Error {
                        error: e.message,
                        error_code: e.code,
                        retryable: e.retryable,
                    },
                ),
            };
            Row {
                project,
                response_time_ms: c.elapsed_ms,
                status,
                verdict,
            }
        })
        .collect();
    Ok(Output(rows))
}
