//! `kbagent doctor`: checks the config file and every project, reporting pass / warn / fail
//! per check. It exits 0 unless the config itself cannot be used.

use schemars::JsonSchema;
use serde::Serialize;

use super::{CommandOutput, Meta, OpClass};
use crate::authority::MintPower;
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult, ErrorCode};
use crate::output::{GREEN, Printer, RED, YELLOW};
use crate::select::{Checked, select_many, verify_all};
use crate::store::file_mode;

pub(crate) const META: Meta = Meta::new(
    OpClass::Read,
    "Check the config file and every project's connectivity and token powers",
    "Examples:\n  kbagent doctor\n  kbagent --json doctor",
)
.network();

#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Status {
    Pass,
    Warn,
    Fail,
    Skip,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Check {
    /// What was checked: config_source, config_file, config_dir, config_valid,
    /// connectivity, token_minting.
    check: &'static str,
    name: String,
    status: Status,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    alias: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_code: Option<ErrorCode>,
    /// For a failed API check: whether running doctor again later may pass.
    #[serde(skip_serializing_if = "Option::is_none")]
    retryable: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    response_time_ms: Option<u64>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Summary {
    pub total: usize,
    pub passed: usize,
    pub failed: usize,
    pub warnings: usize,
    pub skipped: usize,
    /// No check failed.
    pub healthy: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Output {
    pub checks: Vec<Check>,
    pub summary: Summary,
}

impl Check {
    fn new(
        check: &'static str,
        name: impl Into<String>,
        status: Status,
        message: impl Into<String>,
    ) -> Self {
        Self {
            check,
            name: name.into(),
            status,
            message: message.into(),
            alias: None,
            error_code: None,
            retryable: None,
            response_time_ms: None,
        }
    }
}

pub(crate) fn run(ctx: &Ctx<'_>, _args: &Args) -> CliResult<Output> {
    let store = ctx.store()?;
    let file = store.file();
    let source = if store.is_headless() {
        "none: a headless session's project comes from KBAGENT_PROJECT_FROM_ENV".to_owned()
    } else {
        format!("{} (from {})", file.display(), store.source().describe())
    };
    let mut checks = vec![Check::new(
        "config_source",
        "Config location",
        Status::Pass,
        source,
    )];
    if !store.exists() && !store.is_headless() {
        checks.push(Check::new(
            "config_file",
            "Config file",
            Status::Warn,
            "does not exist yet; `kbagent project add` creates it",
        ));
        return Ok(Output::of(checks));
    }
    match file_mode(&file) {
        // A headless session has no file to check.
        _ if store.is_headless() => {}
        Some(mode) if mode & 0o077 != 0 => checks.push(Check::new(
            "config_file",
            "Config file permissions",
            Status::Fail,
            format!("mode {mode:04o} lets other users read the tokens; run `chmod 600 {}` (the next kbagent write also restores 0600)", file.display()),
        )),
        Some(mode) => checks.push(Check::new("config_file", "Config file permissions", Status::Pass, format!("mode {mode:04o}"))),
        None => checks.push(Check::new("config_file", "Config file permissions", Status::Skip, "not checked on this platform")),
    }
    if let Some(mode) = file_mode(store.dir()).filter(|_| !store.is_headless()) {
        let status = if mode & 0o077 == 0 {
            Status::Pass
        } else {
            Status::Warn
        };
        checks.push(Check::new(
            "config_dir",
            "Config directory permissions",
            status,
            format!("mode {mode:04o}"),
        ));
    }
    // An unusable config is the one failure doctor reports as an error (exit 5), with the
    // checks made so far and the ones it could not make.
    let cfg = match store.load() {
        Ok(cfg) => cfg,
        Err(e) => return Err(config_failure(ctx, checks, e)),
    };
    checks.push(Check::new(
        "config_valid",
        "Config file contents",
        Status::Pass,
        format!("version {}, {} project(s)", cfg.version, cfg.projects.len()),
    ));
    let projects = select_many(ctx, &cfg, &[])?;
    let workers = ctx.parallelism(&cfg)?;
    let http = ctx.http()?.clone();
    let results = verify_all(ctx, &http, &projects, workers);
    for (
        p,
        Checked {
            elapsed_ms: ms,
            result,
        },
    ) in projects.iter().zip(results)
    {
        match result {
            Ok(info) => {
                let mut c = Check::new(
                    "connectivity",
                    format!("Project '{}'", p.alias),
                    Status::Pass,
                    format!(
                        "token valid for {} (id {})",
                        info.owner.as_ref().map_or("?", |o| o.name.as_str()),
                        info.owner.as_ref().map_or(0, |o| o.id)
                    ),
                );
                c.alias = Some(p.alias.clone());
                c.response_time_ms = Some(ms);
                checks.push(c);
                let power = MintPower::of(&info);
                let mut m = match power.limitation() {
                    None => Check::new(
                        "token_minting",
                        format!("Project '{}' child tokens", p.alias),
                        Status::Pass,
                        "the stored token can mint child tokens",
                    ),
                    Some(why) => Check::new(
                        "token_minting",
                        format!("Project '{}' child tokens", p.alias),
                        Status::Warn,
                        format!(
                            "the stored token cannot mint child tokens ({why}); oauth-url and token create will need a Manage API token"
                        ),
                    ),
                };
                m.alias = Some(p.alias.clone());
                checks.push(m);
            }
            Err(e) => {
                let mut c = Check::new(
                    "connectivity",
                    format!("Project '{}'", p.alias),
                    Status::Fail,
                    e.message.clone(),
                );
                c.alias = Some(p.alias.clone());
                c.error_code = Some(e.code);
                c.retryable = Some(e.retryable);
                c.response_time_ms = Some(ms);
                checks.push(c);
            }
        }
    }
    Ok(Output::of(checks))
}

/// The config check failed: the error, carrying every check (the failed one, and the
/// project checks skipped with the reason) in its details and, for people, on stdout.
fn config_failure(ctx: &Ctx<'_>, mut checks: Vec<Check>, err: CliError) -> CliError {
    let mut c = Check::new(
        "config_valid",
        "Config file contents",
        Status::Fail,
        err.message.clone(),
    );
    c.error_code = Some(err.code);
    checks.push(c);
    let why = "not checked: the config file cannot be used";
    checks.push(Check::new("connectivity", "Projects", Status::Skip, why));
    checks.push(Check::new(
        "token_minting",
        "Child tokens",
        Status::Skip,
        why,
    ));
    let out = Output::of(checks);
    ctx.printer.show_with_error(out.human(ctx.printer));
    let checks = serde_json::to_value(&out.checks).unwrap_or_default();
    let summary = serde_json::to_value(&out.summary).unwrap_or_default();
    err.detail("checks", checks).detail("summary", summary)
}

impl Output {
    fn of(checks: Vec<Check>) -> Self {
        let count = |s: Status| checks.iter().filter(|c| c.status == s).count();
        let summary = Summary {
            total: checks.len(),
            passed: count(Status::Pass),
            failed: count(Status::Fail),
            warnings: count(Status::Warn),
            skipped: count(Status::Skip),
            healthy: count(Status::Fail) == 0,
        };
        Self { checks, summary }
    }
}

impl CommandOutput for Output {
    fn human(&self, p: &Printer) -> String {
        let mut human = String::new();
        for c in &self.checks {
            let mark = match c.status {
                Status::Pass => p.paint(GREEN, "pass"),
                Status::Warn => p.paint(YELLOW, "warn"),
                Status::Fail => p.paint(RED, "FAIL"),
                Status::Skip => "skip".to_owned(),
            };
            human.push_str(&format!("[{mark}] {}: {}\n", c.name, c.message));
        }
        let s = &self.summary;
        human.push_str(&format!(
            "\n{} checks: {} passed, {} warnings, {} failed, {} skipped\n",
            s.total, s.passed, s.warnings, s.failed, s.skipped
        ));
        human
    }
}
