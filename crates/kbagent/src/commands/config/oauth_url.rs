//! `config oauth-url`: the OAuth authorization URL for a configuration, carrying a
//! short-lived child token scoped to the component (minted through the authority ladder).

use keboola_api::CreateTokenRequest;
use schemars::JsonSchema;
use serde::Serialize;
use url::Url;

use crate::authority::{self, Authority};
use crate::child_env;
use crate::commands::shared::{ConfigRefArgs, ProjectArg};
use crate::commands::{CommandOutput, Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult};
use crate::output::{Printer, Warning, WarningCode};
use crate::select::{load_and_select, verify_project};

pub(crate) const META: Meta = Meta::new(
    OpClass::Admin,
    "Build the OAuth authorization URL for a configuration (mints a 1-hour child token)",
    "Examples:\n  kbagent config oauth-url --project prod --component-id keboola.ex-google-drive --config-id 456\n  kbagent --json config oauth-url --project prod --component-id keboola.ex-google-drive --config-id 456 --no-open",
)
.also(&[OpClass::Read])
.network();

pub(crate) const DEFAULT_OAUTH_WIZARD: &str = "https://external.keboola.com/oauth/index.html";
const OAUTH_TOKEN_TTL_SECONDS: u64 = 3600;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub project: ProjectArg,
    #[command(flatten)]
    pub config: ConfigRefArgs,
    /// Where the wizard sends the user when done
    #[arg(long, value_name = "URL", value_parser = redirect_url)]
    pub redirect_url: Option<Url>,
    /// Do not open a browser
    #[arg(long)]
    pub no_open: bool,
}

fn redirect_url(raw: &str) -> Result<Url, CliError> {
    Url::parse(raw)
        .ok()
        .filter(|u| matches!(u.scheme(), "https" | "http"))
        .ok_or_else(|| {
            CliError::invalid_argument(format!(
                "Invalid --redirect-url '{}': expected an http(s) URL",
                raw.escape_debug()
            ))
        })
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Output {
    /// The wizard URL; it carries the live child token by design.
    pub url: String,
    pub component_id: String,
    pub config_id: String,
    pub project_alias: String,
    pub authority: Authority,
    pub child_token_id: String,
    pub expires: Option<String>,
    pub redirect_url: Option<String>,
    pub browser_opened: bool,
}

impl CommandOutput for Output {
    fn human(&self, _: &Printer) -> String {
        format!("{}\n", self.url)
    }
}

fn wizard_base(ctx: &Ctx<'_>) -> CliResult<Url> {
    let raw = ctx
        .env
        .oauth_wizard_url
        .as_deref()
        .unwrap_or(DEFAULT_OAUTH_WIZARD);
    // The URL will carry a live token: never echo it (it may hold a password), and send it
    // only over https, or http to this machine.
    let url = Url::parse(raw).map_err(|e| {
        CliError::config(format!("KBAGENT_OAUTH_WIZARD_URL is not a valid URL: {e}"))
    })?;
    let fix = "Use an https:// URL (http:// only for 127.0.0.1, ::1 or localhost), without user:password@.";
    if !url.username().is_empty() || url.password().is_some() {
        return Err(CliError::config(
            "KBAGENT_OAUTH_WIZARD_URL must not contain a user name or password",
        )
        .hint(fix));
    }
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        "http" => Err(CliError::config(
            "KBAGENT_OAUTH_WIZARD_URL uses http:// for a host other than this machine; the URL carries a token",
        )
        .hint(fix)),
        _ => Err(CliError::config("KBAGENT_OAUTH_WIZARD_URL must be an https URL").hint(fix)),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    let (component_id, config_id) = (&args.config.component_id, &args.config.config_id);
    let mut url = wizard_base(ctx)?;
    let project = load_and_select(ctx, args.project.get())?;
    let info = verify_project(ctx, &project)?;
    super::fetch_configuration(ctx, &project, None, component_id, config_id)?;
    refuse_without_oauth(ctx, &project, component_id)?;
    let request = CreateTokenRequest {
        description: Some(format!(
            "Short-lived token for OAuth URL - {component_id}/{config_id}"
        )),
        expires_in: Some(OAUTH_TOKEN_TTL_SECONDS),
        component_access: vec![component_id.clone()],
        ..CreateTokenRequest::default()
    };
    let minted = authority::mint_child(ctx, &project, &info, &request, "config oauth-url")?;
    {
        let mut q = url.query_pairs_mut();
        q.clear();
        q.append_pair("token", minted.token.secret.expose());
        q.append_pair("sapiUrl", project.entry.stack_url.as_str());
        if let Some(r) = &args.redirect_url {
            q.append_pair("returnUrl", r.as_str());
        }
    }
    url.set_fragment(Some(&format!("/{component_id}/{config_id}")));
    // The URL carries a live (short-lived) token by design: it is this command's result and
    // is printed only as such, never logged.
    let link = url.to_string();
    let mut browser_opened = false;
    if !args.no_open && !ctx.printer.json() && ctx.printer.stdout_is_terminal() {
        match child_env::open_browser(ctx.env.browser.as_deref(), &link) {
            Ok(()) => browser_opened = true,
            Err(why) => ctx.printer.warn(
                Warning::new(
                    WarningCode::BrowserNotOpened,
                    format!("Could not open a browser: {why}"),
                )
                .hint("Open the URL printed on stdout yourself."),
            ),
        }
    }
    let expires = minted.token.info.expires.clone();
    ctx.printer.note(&format!(
        "OAuth URL for {component_id}/{config_id} on '{}': child token {} minted by {}, expires {}.",
        project.alias,
        minted.token.info.id,
        minted.authority.as_str(),
        expires.as_deref().unwrap_or("in 1 hour")
    ));
    Ok(Output {
        url: link,
        component_id: component_id.clone(),
        config_id: config_id.clone(),
        project_alias: project.alias,
        authority: minted.authority,
        child_token_id: minted.token.info.id,
        expires,
        redirect_url: args.redirect_url.as_ref().map(ToString::to_string),
        browser_opened,
    })
}

/// A component without an OAuth flow has nothing for the wizard to authorize: refuse before
/// any child token is minted.
fn refuse_without_oauth(
    ctx: &Ctx<'_>,
    project: &crate::select::Project,
    component_id: &str,
) -> CliResult<()> {
    let component =
        crate::commands::component::fetch(&ctx.storage(project)?, project, component_id)?;
    if component.uses_oauth() {
        return Ok(());
    }
    Err(CliError::invalid_argument(format!(
        "Component {component_id} ({}) does not use OAuth authorization, so it has no OAuth URL",
        component.name
    ))
    .detail("component_id", component_id)
    .detail("flags", component.flags.clone())
    .hint(format!(
        "Only components with the `{}` flag use the OAuth wizard; see `kbagent component detail --component-id {component_id}`. Credentials of other components go in the configuration (`#` keys are encrypted).",
        keboola_api::OAUTH_FLAG
    )))
}
