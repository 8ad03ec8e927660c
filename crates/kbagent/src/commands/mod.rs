//! The command layer. Each noun is a folder: `<noun>/mod.rs` lists its verbs (the table of
//! contents, one `verbs!` line each) and `<noun>/<verb>.rs` holds the verb's arguments,
//! examples, operation class, output type and `run`. Single commands without a noun
//! (`doctor`, `context`, ...) are one file each.
//!
//! A verb returns a typed output (`Serialize + JsonSchema`, see [`CommandOutput`]); the JSON
//! `data` is that type serialized, and `kbagent --json context` publishes its schema.

pub(crate) mod branch;
pub(crate) mod catalogue;
pub(crate) mod completions;
pub(crate) mod component;
pub(crate) mod config;
pub(crate) mod context;
pub(crate) mod doctor;
pub(crate) mod encrypt;
pub(crate) mod init;
pub(crate) mod job;
pub(crate) mod permissions;
pub(crate) mod project;
pub(crate) mod query;
pub(crate) mod search;
pub(crate) mod shared;
pub(crate) mod storage;
pub(crate) mod token;
pub(crate) mod version;
pub(crate) mod workspace;

use schemars::JsonSchema;
use serde::Serialize;

use crate::cli::Command;
use crate::ctx::Ctx;
use crate::error::CliResult;
use crate::output::{Printer, Report};

/// What a command may do, for an agent (or a permission policy) deciding whether to run
/// it. Ordered from least to most dangerous.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum OpClass {
    /// Reads only (the local config or the API).
    Read,
    /// Creates or changes something; nothing is lost.
    Write,
    /// Mints credentials (tokens, OAuth links carrying a token).
    Admin,
    /// Deletes or replaces something that cannot be recovered (a token, a stored secret).
    Destructive,
}

/// A flag that raises a command's operation class when given.
#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
pub(crate) struct Escalation {
    pub flag: &'static str,
    pub class: OpClass,
}

/// Everything about a command that is not its arguments, declared next to its `run`:
/// `Meta::new(OpClass::Read, ABOUT, EXAMPLES).network()`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Meta {
    pub about: &'static str,
    pub examples: &'static str,
    pub class: OpClass,
    /// Classes the command also counts as for the permission firewall: those another tool
    /// (the Python kbagent) gives it, so that a policy written there blocks it here too.
    pub also: &'static [OpClass],
    /// Other names of the verb (the Python kbagent's, where ours differs); the permission
    /// firewall checks them as operations too.
    pub aliases: &'static [&'static str],
    pub escalations: &'static [Escalation],
    /// Calls Keboola's APIs (so authentication and network exit codes are possible).
    pub network: bool,
    /// Acts on several items and exits 1 when some of them failed.
    pub partial: bool,
    /// Reads the config file (so a configuration error, exit 5, is possible).
    pub config: bool,
    /// Follows a Queue job to its end (exit 7 when it was terminated).
    pub waits_for_job: bool,
    /// Submits a Queue job (exit 8 when its answer was lost).
    pub submits_job: bool,
}

impl Meta {
    pub const fn new(class: OpClass, about: &'static str, examples: &'static str) -> Self {
        Self {
            about,
            examples,
            class,
            also: &[],
            aliases: &[],
            escalations: &[],
            network: false,
            partial: false,
            config: true,
            waits_for_job: false,
            submits_job: false,
        }
    }

    /// The command never reads the config file.
    pub const fn no_config(mut self) -> Self {
        self.config = false;
        self
    }

    /// The command calls Keboola's APIs.
    pub const fn network(mut self) -> Self {
        self.network = true;
        self
    }

    /// The command acts on several items and exits 1 when some failed.
    pub const fn partial(mut self) -> Self {
        self.partial = true;
        self
    }

    /// The command follows a Queue job to its end.
    pub const fn waits_for_job(mut self) -> Self {
        self.waits_for_job = true;
        self
    }

    /// The command submits a Queue job.
    pub const fn submits_job(mut self) -> Self {
        self.submits_job = true;
        self
    }

    /// Other names of the verb (see [`Meta::aliases`]).
    pub const fn aliases(mut self, aliases: &'static [&'static str]) -> Self {
        self.aliases = aliases;
        self
    }

    /// Classes the command also counts as (see [`Meta::also`]).
    pub const fn also(mut self, also: &'static [OpClass]) -> Self {
        self.also = also;
        self
    }

    pub const fn escalations(mut self, escalations: &'static [Escalation]) -> Self {
        self.escalations = escalations;
        self
    }
}

/// A command's typed result: serialized as the envelope's `data`, rendered for people by
/// [`CommandOutput::human`].
pub(crate) trait CommandOutput: Serialize + JsonSchema {
    fn human(&self, printer: &Printer) -> String;

    /// Whether some items of a multi-item command failed (exit 1, full result printed).
    fn partial_failure(&self) -> bool {
        false
    }

    /// An exit code for a result printed in full that is not a success (see `Report`).
    fn exit_code(&self) -> Option<u8> {
        None
    }
}

pub(crate) fn report<O: CommandOutput>(printer: &Printer, out: &O) -> Report {
    let mut r = Report::new(out, out.human(printer)).partial_failure(out.partial_failure());
    r.exit_code = out.exit_code();
    r
}

/// Declares a noun's verbs: the verb modules, the clap subcommand enum, its dispatch and
/// its catalogue entries, from one line per verb (`"name" => Variant(module)`).
macro_rules! verbs {
    ($(#[$attr:meta])* $enum:ident { $($name:literal => $variant:ident($module:ident)),* $(,)? }) => {
        $(mod $module;)*

        $(#[$attr])*
        #[derive(Debug, clap::Subcommand)]
        pub(crate) enum $enum {
            $(
                #[command(name = $name, visible_aliases = $module::META.aliases.iter().copied(), about = $module::META.about, after_help = $module::META.examples)]
                $variant($module::Args),
            )*
        }

        impl $enum {
            pub(crate) fn run(
                self,
                ctx: &$crate::ctx::Ctx<'_>,
            ) -> $crate::error::CliResult<$crate::output::Report> {
                match self {
                    $(Self::$variant(args) => {
                        let out: $module::Output = $module::run(ctx, &args)?;
                        Ok($crate::commands::report(ctx.printer, &out))
                    })*
                }
            }

            /// `(name, meta, output schema)` of every verb.
            pub(crate) fn entries() -> Vec<$crate::commands::catalogue::Entry> {
                vec![$($crate::commands::catalogue::Entry::of::<$module::Output>(
                    $name,
                    &$module::META,
                )),*]
            }
        }
    };
}
pub(crate) use verbs;

/// Runs a command. An error names the project the command selected unless it names one
/// itself, so every error of a single-project command says which project it is about.
pub(crate) fn dispatch(ctx: &Ctx<'_>, command: Command) -> CliResult<Report> {
    run(ctx, command).map_err(|e| e.or_project(ctx.project().as_deref()))
}

fn run(ctx: &Ctx<'_>, command: Command) -> CliResult<Report> {
    let p = ctx.printer;
    match command {
        Command::Project(args) => args.command.run(ctx),
        Command::Token(args) => args.command.run(ctx),
        Command::Config(args) => args.command.run(ctx),
        Command::Storage(args) => args.command.run(ctx),
        Command::Job(args) => args.command.run(ctx),
        Command::Permissions(args) => args.command.run(ctx),
        Command::Branch(args) => args.command.run(ctx),
        Command::Encrypt(args) => args.command.run(ctx),
        Command::Component(args) => args.command.run(ctx),
        Command::Search(args) => Ok(report(p, &search::run(ctx, &args)?)),
        Command::Workspace(args) => args.command.run(ctx),
        Command::Query(args) => Ok(report(p, &query::run(ctx, &args)?)),
        Command::Doctor(args) => Ok(report(p, &doctor::run(ctx, &args)?)),
        Command::Context(args) => Ok(report(p, &context::run(ctx, &args)?)),
        Command::Init(args) => Ok(report(p, &init::run(ctx, &args)?)),
        Command::Completions(args) => Ok(report(p, &completions::run(ctx, &args)?)),
        Command::Version(args) => Ok(report(p, &version::run(ctx, &args)?)),
    }
}
