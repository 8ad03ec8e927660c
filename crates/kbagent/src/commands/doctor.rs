//! `kbagent doctor`: checks the config file and every project, reporting pass / warn / fail
//! per check. It exits 0 unless the config itself cannot be used.

use serde::Serialize;
use serde_json::json;

use super::Ctx;
use super::project::{Checked, select_many, verify_all};
use crate::authority::MintPower;
use crate::error::CliResult;
use crate::output::{GREEN, RED, Report, YELLOW};
use crate::store::file_mode;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum Status {
    Pass,
    Warn,
    Fail,
    Skip,
}

#[derive(Debug, Serialize)]
struct Check {
    check: &'static str,
    name: String,
    status: Status,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    alias: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_code: Option<&'static str>,
    /// For a failed API check: whether running doctor again later may pass.
    #[serde(skip_serializing_if = "Option::is_none")]
    retryable: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    response_time_ms: Option<u64>,
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

pub fn run(ctx: &Ctx<'_>) -> CliResult<Report> {
    let store = ctx.store()?;
    let file = store.file();
    let mut checks = vec![Check::new(
        "config_source",
        "Config location",
        Status::Pass,
        format!("{} (from {})", file.display(), store.source().describe()),
    )];
    if !store.exists() {
        checks.push(Check::new(
            "config_file",
            "Config file",
            Status::Warn,
            "does not exist yet; `kbagent project add` creates it",
        ));
        return Ok(render(ctx, &checks));
    }
    match file_mode(&file) {
        Some(mode) if mode & 0o077 != 0 => checks.push(Check::new(
            "config_file",
            "Config file permissions",
            Status::Fail,
            format!("mode {mode:04o} lets other users read the tokens; run `chmod 600 {}` (the next kbagent write also restores 0600)", file.display()),
        )),
        Some(mode) => checks.push(Check::new("config_file", "Config file permissions", Status::Pass, format!("mode {mode:04o}"))),
        None => checks.push(Check::new("config_file", "Config file permissions", Status::Skip, "not checked on this platform")),
    }
    if let Some(mode) = file_mode(store.dir()) {
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
    // An unusable config is the one failure doctor reports as an error (exit 5).
    let cfg = store.load()?;
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
                c.error_code = Some(e.code.as_str());
                c.retryable = Some(e.retryable);
                c.response_time_ms = Some(ms);
                checks.push(c);
            }
        }
    }
    Ok(render(ctx, &checks))
}

fn render(ctx: &Ctx<'_>, checks: &[Check]) -> Report {
    let count = |s: Status| checks.iter().filter(|c| c.status == s).count();
    let (passed, failed, warnings, skipped) = (
        count(Status::Pass),
        count(Status::Fail),
        count(Status::Warn),
        count(Status::Skip),
    );
    let p = ctx.printer;
    let mut human = String::new();
    for c in checks {
        let mark = match c.status {
            Status::Pass => p.paint(GREEN, "pass"),
            Status::Warn => p.paint(YELLOW, "warn"),
            Status::Fail => p.paint(RED, "FAIL"),
            Status::Skip => "skip".to_owned(),
        };
        human.push_str(&format!("[{mark}] {}: {}\n", c.name, c.message));
    }
    human.push_str(&format!(
        "\n{} checks: {passed} passed, {warnings} warnings, {failed} failed, {skipped} skipped\n",
        checks.len()
    ));
    let data = json!({
        "checks": checks,
        "summary": {
            "total": checks.len(), "passed": passed, "failed": failed,
            "warnings": warnings, "skipped": skipped, "healthy": failed == 0,
        },
    });
    Report::new(data, human)
}
