//! The command line: global options and the top-level commands. Each command's own
//! arguments live beside its handler in `commands/`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::commands::{
    completions, config, context, doctor, permissions, project, storage, token, version,
};

pub(crate) const ABOUT: &str = "Operate Keboola Connection projects from the command line: register \
projects, check tokens, browse configurations, manage Storage API tokens and build OAuth URLs.";

const AFTER_HELP: &str = "\
Examples:
  kbagent project add --project prod --url https://connection.keboola.com --token-stdin < token.txt
  kbagent --json project list
  kbagent config oauth-url --project prod --component-id keboola.ex-google-drive --config-id 123
  kbagent context            # the manual for AI agents

Global options may come before or after the command. Exit codes: 0 ok, 1 error, 2 usage,
3 authentication, 4 network, 5 configuration, 6 permission denied, 7 job terminated,
8 job state unknown.";

#[derive(Debug, Parser)]
#[command(
    name = "kbagent",
    version,
    about = ABOUT,
    after_help = AFTER_HELP,
    propagate_version = true,
    disable_help_subcommand = true,
    max_term_width = 100
)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Global options")]
pub(crate) struct GlobalArgs {
    /// Print exactly one JSON document on stdout (also for errors); `--json=false` turns it off
    #[arg(
        short = 'j',
        long,
        global = true,
        num_args = 0..=1,
        require_equals = true,
        default_value_t = false,
        default_missing_value = "true",
        value_name = "BOOL",
        hide_default_value = true,
        hide_possible_values = true,
        action = clap::ArgAction::Set
    )]
    pub json: bool,

    /// Log HTTP requests and decisions to stderr (tokens are always masked)
    #[arg(short = 'v', long = "verbose", global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Disable colours (also when NO_COLOR is set or output is not a terminal)
    #[arg(long, global = true)]
    pub no_color: bool,

    /// Directory holding config.json (default: KBAGENT_CONFIG_DIR, nearest .kbagent/, platform config dir)
    #[arg(long, value_name = "DIR", global = true)]
    pub config_dir: Option<PathBuf>,

    /// Allow reading a Manage API token from KBC_MANAGE_API_TOKEN (off by default: any
    /// subprocess can read the environment)
    #[arg(long, global = true)]
    pub allow_env_manage_token: bool,

    /// Parallel requests for commands that fan out over projects [env: KBAGENT_MAX_PARALLEL_WORKERS]
    #[arg(long, value_name = "N", global = true, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub parallel: Option<u32>,

    /// Conversation id sent as X-Conversation-ID on every Keboola API request [env: KBAGENT_CONVERSATION_ID]
    #[arg(long, value_name = "ID", global = true, value_parser = crate::session::conversation_id)]
    pub conversation_id: Option<String>,
    // The session firewall: this run only, never persisted (see `permissions`).
    /// Refuse every command that is not a read (write, admin, destructive) for this run; a
    /// command given --dry-run counts as a read [env: KBAGENT_DENY=cli:write]
    #[arg(long, global = true)]
    pub deny_writes: bool,

    /// Refuse destructive commands (deletes, replacements) for this run; a command given
    /// --dry-run counts as a read [env: KBAGENT_DENY=cli:destructive]
    #[arg(long, global = true)]
    pub deny_destructive: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Register, inspect and switch between Keboola projects
    #[command(after_help = project::EXAMPLES)]
    Project(project::ProjectArgs),
    /// Manage Storage API tokens of a project
    #[command(after_help = token::EXAMPLES)]
    Token(token::TokenArgs),
    /// Browse, create, change and delete component configurations; OAuth URLs
    #[command(after_help = config::EXAMPLES)]
    Config(config::ConfigArgs),
    /// Browse Storage: buckets, tables, table data, files and storage jobs
    #[command(after_help = storage::EXAMPLES)]
    Storage(storage::StorageArgs),
    /// Run configurations as Queue jobs, follow and stop them
    #[command(after_help = crate::commands::job::EXAMPLES)]
    Job(crate::commands::job::JobArgs),
    /// Show, check and (for a person at a terminal) change the permission policy
    #[command(after_help = permissions::EXAMPLES)]
    Permissions(permissions::PermissionsArgs),
    /// Development branches: list, create, delete, and pin the one commands work in
    #[command(after_help = crate::commands::branch::EXAMPLES)]
    Branch(crate::commands::branch::BranchArgs),
    /// Encrypt secret values for configurations
    #[command(after_help = crate::commands::encrypt::EXAMPLES)]
    Encrypt(crate::commands::encrypt::EncryptArgs),
    /// Browse the component catalogue: types, flags, OAuth, configuration schemas
    #[command(after_help = crate::commands::component::EXAMPLES)]
    Component(crate::commands::component::ComponentArgs),
    #[command(about = crate::commands::search::META.about, after_help = crate::commands::search::META.examples)]
    Search(crate::commands::search::Args),
    /// SQL workspaces: create, load tables, query, delete
    #[command(after_help = crate::commands::workspace::EXAMPLES)]
    Workspace(crate::commands::workspace::WorkspaceArgs),
    #[command(about = crate::commands::query::META.about, after_help = crate::commands::query::META.examples)]
    Query(crate::commands::query::Args),
    #[command(about = doctor::META.about, after_help = doctor::META.examples)]
    Doctor(doctor::Args),
    #[command(about = context::META.about, after_help = context::META.examples)]
    Context(context::Args),
    #[command(about = crate::commands::init::META.about, after_help = crate::commands::init::META.examples)]
    Init(crate::commands::init::Args),
    #[command(about = completions::META.about, after_help = completions::META.examples)]
    Completions(completions::Args),
    #[command(about = version::META.about, after_help = version::META.examples)]
    Version(version::Args),
}
