//! `kbagent config ...`: browse component configurations across projects and build the
//! OAuth authorization URL for a configuration.

use std::time::Instant;

use clap::{Args, Subcommand};
use keboola_api::{ComponentsQuery, CreateTokenRequest, Http, StorageClient};
use serde_json::{Value, json};
use url::Url;

use super::project::select_many;
use super::{Ctx, Project, ProjectArg, select_project, verify_project};
use crate::authority;
use crate::error::{CliError, CliResult, ErrorCode};
use crate::fanout;
use crate::output::{Report, Table, Warning, cell};

pub const EXAMPLES: &str = "\
Examples:
  kbagent config list
  kbagent config list --project prod --component-type extractor
  kbagent config detail --project prod --component-id keboola.ex-db-snowflake --config-id 123
  kbagent config oauth-url --project prod --component-id keboola.ex-google-drive --config-id 456";

pub const DEFAULT_OAUTH_WIZARD: &str = "https://external.keboola.com/oauth/index.html";
const OAUTH_TOKEN_TTL_SECONDS: u64 = 3600;

#[derive(Debug, Args)]
pub struct ConfigArgs {
    #[command(subcommand)]
    pub command: ConfigCommand,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// List configurations across projects (in parallel)
    #[command(
        after_help = "Examples:\n  kbagent config list\n  kbagent --json config list --project prod --component-id keboola.ex-google-drive"
    )]
    List(ListArgs),
    /// Show one configuration as the API returns it (secrets stay encrypted)
    #[command(
        after_help = "Examples:\n  kbagent config detail --project prod --component-id keboola.ex-db-snowflake --config-id 123"
    )]
    Detail(DetailArgs),
    /// Build the OAuth authorization URL for a configuration (mints a 1-hour child token)
    #[command(
        after_help = "Examples:\n  kbagent config oauth-url --project prod --component-id keboola.ex-google-drive --config-id 456\n  kbagent --json config oauth-url --project prod --component-id keboola.ex-google-drive --config-id 456 --no-open"
    )]
    OauthUrl(OauthUrlArgs),
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only these projects (repeatable; default: all)
    #[arg(short = 'p', long = "project", value_name = "ALIAS")]
    pub aliases: Vec<String>,
    /// Only components of this type (extractor, writer, transformation, application, other)
    #[arg(long, value_name = "TYPE")]
    pub component_type: Option<String>,
    /// Only this component
    #[arg(long, value_name = "COMPONENT_ID")]
    pub component_id: Option<String>,
    /// Development branch id (default: the main branch)
    #[arg(long, value_name = "ID")]
    pub branch: Option<String>,
}

#[derive(Debug, Args)]
pub struct DetailArgs {
    #[command(flatten)]
    pub project: ProjectArg,
    #[arg(long, value_name = "COMPONENT_ID")]
    pub component_id: String,
    #[arg(long, value_name = "CONFIG_ID")]
    pub config_id: String,
    /// Development branch id (default: the main branch)
    #[arg(long, value_name = "ID")]
    pub branch: Option<String>,
}

#[derive(Debug, Args)]
pub struct OauthUrlArgs {
    #[command(flatten)]
    pub project: ProjectArg,
    #[arg(long, value_name = "COMPONENT_ID")]
    pub component_id: String,
    #[arg(long, value_name = "CONFIG_ID")]
    pub config_id: String,
    /// Where the wizard sends the user when done
    #[arg(long, value_name = "URL")]
    pub redirect_url: Option<String>,
    /// Do not open a browser
    #[arg(long)]
    pub no_open: bool,
}

pub fn run(ctx: &Ctx<'_>, args: ConfigArgs) -> CliResult<Report> {
    match args.command {
        ConfigCommand::List(a) => list(ctx, &a),
        ConfigCommand::Detail(a) => detail(ctx, &a),
        ConfigCommand::OauthUrl(a) => oauth_url(ctx, &a),
    }
}

fn validate_part(what: &str, value: &str) -> CliResult<()> {
    let ok = !value.is_empty()
        && value.len() <= 200
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(CliError::invalid_argument(format!(
            "Invalid {what} '{}': use letters, digits, '-', '_' or '.'",
            value.escape_debug()
        )))
    }
}

fn list(ctx: &Ctx<'_>, args: &ListArgs) -> CliResult<Report> {
    if let Some(c) = &args.component_id {
        validate_part("component id", c)?;
    }
    if let Some(b) = &args.branch {
        validate_part("branch id", b)?;
    }
    let cfg = ctx.store()?.load()?;
    let projects = select_many(ctx, &cfg, &args.aliases)?;
    let workers = ctx.parallelism(&cfg)?;
    let http: Http = ctx.http()?.clone();
    let query = ComponentsQuery {
        branch: args.branch.clone(),
        component_type: args.component_type.clone(),
        include_rows: false,
    };
    let results = fanout::map(
        ctx.printer,
        "Listing configurations",
        &projects,
        workers,
        |p| {
            let start = Instant::now();
            let r = StorageClient::new(&http, &p.entry.stack_url, &p.entry.token)
                .list_components(&query)
                .map_err(|e| p.api_error(&e));
            (r, start.elapsed().as_millis() as u64)
        },
    );
    let mut configs = Vec::new();
    let mut errors = Vec::new();
    let mut table = Table::new(["PROJECT", "COMPONENT", "CONFIG ID", "NAME", "LAST MODIFIED"]);
    for (p, (result, _ms)) in projects.iter().zip(results) {
        match result {
            Ok(components) => {
                for comp in components {
                    if args.component_id.as_deref().is_some_and(|c| c != comp.id) {
                        continue;
                    }
                    for conf in &comp.configurations {
                        let version = conf.current_version.as_ref();
                        let modified = version
                            .and_then(|v| v.get("created"))
                            .and_then(Value::as_str)
                            .map(str::to_owned)
                            .or_else(|| conf.created.clone());
                        let by = version
                            .and_then(|v| v.pointer("/creatorToken/description"))
                            .and_then(Value::as_str)
                            .map(str::to_owned);
                        table.row([
                            p.alias.clone(),
                            comp.id.clone(),
                            conf.id.clone(),
                            conf.name.clone(),
                            cell(modified.as_deref()),
                        ]);
                        configs.push(json!({
                            "project_alias": p.alias,
                            "branch_id": args.branch,
                            "component_id": comp.id,
                            "component_name": comp.name,
                            "component_type": comp.r#type,
                            "config_id": conf.id,
                            "config_name": conf.name,
                            "config_description": conf.description,
                            "version": conf.version,
                            "is_disabled": conf.is_disabled,
                            "last_modified": modified,
                            "last_modified_by": by,
                            "last_change_description": conf.change_description,
                        }));
                    }
                }
            }
            Err(e) => {
                ctx.printer.warn(
                    Warning::new(
                        "PROJECT_FAILED",
                        format!("Project '{}': {}", p.alias, e.message),
                    )
                    .with("project_alias", p.alias.clone()),
                );
                errors.push(json!({
                    "project_alias": p.alias,
                    "error_code": e.code.as_str(),
                    "message": e.message,
                    "retryable": e.retryable,
                }));
            }
        }
    }
    let human = if configs.is_empty() {
        "No configurations found.\n".to_owned()
    } else {
        table.render(ctx.printer.stdout_is_terminal())
    };
    Ok(Report::new(
        json!({"configs": configs, "errors": errors}),
        human,
    ))
}

fn fetch_configuration(
    ctx: &Ctx<'_>,
    project: &Project,
    branch: Option<&str>,
    component_id: &str,
    config_id: &str,
) -> CliResult<Value> {
    ctx.storage(project)?
        .get_configuration(branch, component_id, config_id)
        .map_err(|e| {
            let err = project.api_error(&e);
            if err.code == ErrorCode::NotFound {
                CliError {
                    message: format!(
                        "Configuration {config_id} of component {component_id} was not found in project '{}'{}",
                        project.alias,
                        branch.map(|b| format!(" (branch {b})")).unwrap_or_default()
                    ),
                    ..err
                }
                .hint(format!("List what exists with `kbagent config list --project {} --component-id {component_id}`.", project.alias))
            } else {
                err
            }
        })
}

fn detail(ctx: &Ctx<'_>, args: &DetailArgs) -> CliResult<Report> {
    validate_part("component id", &args.component_id)?;
    validate_part("configuration id", &args.config_id)?;
    if let Some(b) = &args.branch {
        validate_part("branch id", b)?;
    }
    let cfg = ctx.store()?.load()?;
    let project = select_project(ctx, &cfg, args.project.alias.as_deref())?;
    let mut body = fetch_configuration(
        ctx,
        &project,
        args.branch.as_deref(),
        &args.component_id,
        &args.config_id,
    )?;
    let pretty = serde_json::to_string_pretty(&body).unwrap_or_default();
    let name = body
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    if let Value::Object(map) = &mut body {
        map.insert("project_alias".into(), json!(project.alias));
        map.insert("branch_id".into(), json!(args.branch));
        map.insert("component_id".into(), json!(args.component_id));
    }
    let human = format!(
        "{} / {} \"{}\" in project '{}'\n{}\n",
        args.component_id, args.config_id, name, project.alias, pretty
    );
    Ok(Report::new(body, human))
}

fn wizard_base(ctx: &Ctx<'_>) -> CliResult<Url> {
    let raw = ctx
        .env
        .oauth_wizard_url
        .as_deref()
        .unwrap_or(DEFAULT_OAUTH_WIZARD);
    let url = Url::parse(raw).map_err(|e| {
        CliError::config(format!("KBAGENT_OAUTH_WIZARD_URL is not a valid URL: {e}"))
    })?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(CliError::config(
            "KBAGENT_OAUTH_WIZARD_URL must be an http(s) URL",
        ));
    }
    Ok(url)
}

fn oauth_url(ctx: &Ctx<'_>, args: &OauthUrlArgs) -> CliResult<Report> {
    validate_part("component id", &args.component_id)?;
    validate_part("configuration id", &args.config_id)?;
    let redirect = args
        .redirect_url
        .as_deref()
        .map(|r| {
            Url::parse(r)
                .ok()
                .filter(|u| matches!(u.scheme(), "https" | "http"))
                .ok_or_else(|| {
                    CliError::invalid_argument(format!(
                        "Invalid --redirect-url '{}': expected an http(s) URL",
                        r.escape_debug()
                    ))
                })
        })
        .transpose()?;
    let mut url = wizard_base(ctx)?;
    let cfg = ctx.store()?.load()?;
    let project = select_project(ctx, &cfg, args.project.alias.as_deref())?;
    let info = verify_project(ctx, &project)?;
    fetch_configuration(ctx, &project, None, &args.component_id, &args.config_id)?;
    let request = CreateTokenRequest {
        description: Some(format!(
            "Short-lived token for OAuth URL - {}/{}",
            args.component_id, args.config_id
        )),
        expires_in: Some(OAUTH_TOKEN_TTL_SECONDS),
        component_access: vec![args.component_id.clone()],
        ..CreateTokenRequest::default()
    };
    let minted = authority::mint_child(ctx, &project, &info, &request, "config oauth-url")?;
    {
        let mut q = url.query_pairs_mut();
        q.clear();
        q.append_pair("token", minted.token.secret.expose());
        q.append_pair("sapiUrl", project.entry.stack_url.as_str());
        if let Some(r) = &redirect {
            q.append_pair("returnUrl", r.as_str());
        }
    }
    url.set_fragment(Some(&format!("/{}/{}", args.component_id, args.config_id)));
    // The URL carries a live (short-lived) token by design: it is this command's result and
    // is printed only as such, never logged.
    let link = url.to_string();
    let mut browser_opened = false;
    if !args.no_open && !ctx.printer.json() && ctx.printer.stdout_is_terminal() {
        match webbrowser::open(&link) {
            Ok(()) => browser_opened = true,
            Err(e) => ctx.printer.warn(
                Warning::new(
                    "BROWSER_NOT_OPENED",
                    format!("Could not open a browser: {}", e.kind()),
                )
                .hint("Open the URL printed on stdout yourself."),
            ),
        }
    }
    let expires = minted.token.info.expires.clone();
    ctx.printer.note(&format!(
        "OAuth URL for {}/{} on '{}': child token {} minted by {}, expires {}.",
        args.component_id,
        args.config_id,
        project.alias,
        minted.token.info.id,
        minted.authority.as_str(),
        expires.as_deref().unwrap_or("in 1 hour")
    ));
    let data = json!({
        "url": link,
        "component_id": args.component_id,
        "config_id": args.config_id,
        "project_alias": project.alias,
        "authority": minted.authority.as_str(),
        "child_token_id": minted.token.info.id,
        "expires": expires,
        "redirect_url": redirect.map(|r| r.to_string()),
        "browser_opened": browser_opened,
    });
    Ok(Report::new(data, format!("{link}\n")))
}
