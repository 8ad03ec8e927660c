//! `kbagent search QUERY`: find buckets, tables, configurations, flows and transformations
//! by name across projects, in parallel. A project with Keboola's `global-search` feature
//! is asked through the global search endpoint (names only); any other project, and every
//! project with `--in-bodies`, is searched here over its listings (`local.rs`). Results are
//! ranked as `rank.rs` says, each with the command that opens it; a failing project goes to
//! `errors[]`.

mod local;
mod rank;

use keboola_api::{
    GLOBAL_SEARCH_FEATURE, GLOBAL_SEARCH_MAX_LIMIT, GlobalSearchQuery, SearchItem, StorageClient,
};
use schemars::JsonSchema;
use serde::Serialize;

use crate::commands::shared::ProjectsArg;
use crate::commands::storage::gather;
use crate::commands::{CommandOutput, Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult};
use crate::output::{Printer, Table};
use crate::select::{Project, ProjectError, fan_out, no_projects, select_many};
use local::Wanted;
use rank::{Match, Needle};

pub(crate) const META: Meta = Meta::new(
    OpClass::Read,
    "Search buckets, tables, configurations, flows and transformations by name across projects",
    "Examples:\n  kbagent search orders\n  kbagent --json search orders --type table --project prod\n  kbagent search \"SELECT\" --type transformation --in-bodies\n\nRanking: exact name > name prefix > whole word of the name > part of the name > column\nname > description > configuration body. Projects with Keboola's global-search feature\nare searched by name through it; others (and all with --in-bodies) over their listings.",
)
.network();

const DEFAULT_LIMIT: u32 = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Kind {
    Table,
    Bucket,
    #[value(alias = "config")]
    Configuration,
    Flow,
    Transformation,
    #[value(skip)]
    ConfigurationRow,
}

impl Kind {
    fn api(self) -> &'static str {
        match self {
            Kind::Table => "table",
            Kind::Bucket => "bucket",
            Kind::Configuration => "configuration",
            Kind::Flow => "flow",
            Kind::Transformation => "transformation",
            Kind::ConfigurationRow => "configuration-row",
        }
    }

    fn from_api(t: &str) -> Option<Kind> {
        [
            Kind::Table,
            Kind::Bucket,
            Kind::Configuration,
            Kind::Flow,
            Kind::Transformation,
            Kind::ConfigurationRow,
        ]
        .into_iter()
        .find(|k| k.api() == t)
    }
}

/// Search text, refused when a word of it has the shape of an API token: the query is
/// sent to Keboola and echoed in the output, and nothing is named like a token.
pub(crate) fn search_text(raw: &str) -> Result<String, CliError> {
    if raw
        .split_whitespace()
        .any(crate::token_input::looks_like_token)
    {
        return Err(CliError::usage(
            "The search text looks like an API token (not shown); refusing to send or print it",
        )
        .hint("Search for names: `kbagent search orders`."));
    }
    Ok(raw.to_owned())
}

fn limit(raw: &str) -> Result<u32, CliError> {
    match raw.parse::<u32>() {
        Ok(n) if (1..=GLOBAL_SEARCH_MAX_LIMIT).contains(&n) => Ok(n),
        _ => Err(CliError::invalid_argument(format!(
            "Invalid --limit '{}': expected a number from 1 to {GLOBAL_SEARCH_MAX_LIMIT}",
            raw.escape_debug()
        ))),
    }
}

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// What to look for (case-insensitive)
    #[arg(value_name = "QUERY", value_parser = search_text)]
    pub query: String,
    #[command(flatten)]
    pub projects: ProjectsArg,
    /// Only items of this type (repeatable)
    #[arg(short = 't', long = "type", value_name = "TYPE")]
    pub types: Vec<Kind>,
    /// Also look into configuration bodies (searches every project over its listings)
    #[arg(long)]
    pub in_bodies: bool,
    /// `config-based` is --in-bodies; `textual` (the default) matches names and descriptions
    #[arg(long, value_name = "MODE", value_enum)]
    pub search_type: Option<SearchType>,
    /// Most results per project (1-100)
    #[arg(short = 'l', long, value_name = "N", default_value_t = DEFAULT_LIMIT, value_parser = limit)]
    pub limit: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum SearchType {
    Textual,
    ConfigBased,
}

impl Args {
    fn in_bodies(&self) -> bool {
        self.in_bodies || self.search_type == Some(SearchType::ConfigBased)
    }
}

/// How a project was searched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Source {
    /// Keboola's global search endpoint.
    GlobalSearch,
    /// The project's listings, matched by kbagent.
    Local,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Hit {
    pub project_alias: String,
    /// bucket, table, configuration, configuration-row, flow, transformation
    pub r#type: Kind,
    pub id: String,
    pub name: String,
    pub description: String,
    pub component_id: Option<String>,
    pub project_id: Option<u64>,
    pub project_name: String,
    /// Table columns whose names hold the query.
    pub matched_columns: Vec<String>,
    /// For a configuration row: its configuration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_id: Option<String>,
    /// What matched; results are ordered by it (see `kbagent search --help`).
    pub r#match: Match,
    /// With `--in-bodies`: where in the configuration body the query was found.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub match_locations: Vec<String>,
    /// With `--in-bodies`: how many places in the body matched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub match_count: Option<usize>,
    pub source: Source,
    /// The kbagent command that shows the item.
    pub path: String,
}

impl Hit {
    fn new(kind: Kind, id: String, name: String, m: Match) -> Self {
        Self {
            project_alias: String::new(),
            r#type: kind,
            id,
            name,
            description: String::new(),
            component_id: None,
            project_id: None,
            project_name: String::new(),
            matched_columns: Vec::new(),
            config_id: None,
            r#match: m,
            match_locations: Vec::new(),
            match_count: None,
            source: Source::Local,
            path: String::new(),
        }
    }

    fn description(mut self, description: String) -> Self {
        self.description = description;
        self
    }

    /// The command that opens the item; `None` when the item lacks what it needs.
    fn open_command(&self) -> String {
        let p = shell_word(&self.project_alias);
        let component = self.component_id.as_deref().map(shell_word);
        match (self.r#type, component) {
            (Kind::Table, _) => format!(
                "kbagent storage table-detail --project {p} --table-id {}",
                shell_word(&self.id)
            ),
            (Kind::Bucket, _) => format!(
                "kbagent storage bucket-detail --project {p} --bucket-id {}",
                shell_word(&self.id)
            ),
            (Kind::ConfigurationRow, Some(c)) => format!(
                "kbagent config detail --project {p} --component-id {c} --config-id {}",
                shell_word(self.config_id.as_deref().unwrap_or_default())
            ),
            (_, Some(c)) => format!(
                "kbagent config detail --project {p} --component-id {c} --config-id {}",
                shell_word(&self.id)
            ),
            (_, None) => format!("kbagent config list --project {p}"),
        }
    }
}

/// `s` as one shell word: as is when it is plain, else single-quoted.
fn shell_word(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':' | '/'));
    if plain {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Stats {
    pub projects_searched: usize,
    pub results_found: usize,
    /// Projects searched through Keboola's global search.
    pub global_search_projects: usize,
    /// Projects searched over their listings.
    pub local_search_projects: usize,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Output {
    pub results: Vec<Hit>,
    pub errors: Vec<ProjectError>,
    pub stats: Stats,
    pub query: String,
}

impl CommandOutput for Output {
    fn human(&self, p: &Printer) -> String {
        if self.results.is_empty() {
            return format!("Nothing matches '{}'.\n", self.query);
        }
        let mut table = Table::new(["PROJECT", "TYPE", "NAME", "MATCH", "OPEN WITH"]);
        for h in &self.results {
            table.row([
                h.project_alias.clone(),
                h.r#type.api().to_owned(),
                h.name.clone(),
                serde_json::to_value(h.r#match)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                h.path.clone(),
            ]);
        }
        table.render(p.stdout_is_terminal())
    }
}

/// One project's hits and how they were found.
struct Found {
    hits: Vec<Hit>,
    source: Source,
}

fn global_hit(item: SearchItem, needle: &Needle) -> Option<Hit> {
    let kind = Kind::from_api(&item.r#type)?;
    let description = item.description().unwrap_or_default().to_owned();
    let m = needle
        .best(&item.name, &item.matched_columns, Some(&description))
        // The endpoint matched it by something we cannot see (a regex, an id).
        .unwrap_or(Match::NameSubstring);
    let config_id = item.parent_configuration_id();
    let mut hit = Hit::new(kind, item.id, item.name, m).description(description);
    hit.component_id = item.component_id;
    hit.project_id = item.project_id;
    hit.project_name = item.project_name;
    hit.matched_columns = item.matched_columns;
    hit.config_id = config_id;
    hit.source = Source::GlobalSearch;
    Some(hit)
}

fn search_project(
    client: &StorageClient,
    args: &Args,
    needle: &Needle,
) -> Result<Found, keboola_api::ApiError> {
    let info = client.verify()?;
    let owner = info.owner.as_ref();
    let global = !args.in_bodies()
        && owner.is_some_and(|o| o.features.iter().any(|f| f == GLOBAL_SEARCH_FEATURE));
    let (mut hits, source) = if global {
        let mut types: Vec<String> = args.types.iter().map(|k| k.api().to_owned()).collect();
        if types.is_empty() {
            types = [
                "bucket",
                "table",
                "flow",
                "transformation",
                "configuration",
                "configuration-row",
            ]
            .map(str::to_owned)
            .to_vec();
        }
        let result = client.global_search(&GlobalSearchQuery {
            query: args.query.trim().to_owned(),
            project_ids: owner.map(|o| o.id).into_iter().collect(),
            types,
            limit: args.limit,
            offset: 0,
            production_only: true,
        })?;
        let hits = result
            .items
            .into_iter()
            .filter_map(|i| global_hit(i, needle))
            .collect();
        (hits, Source::GlobalSearch)
    } else {
        let wanted = Wanted {
            kinds: args.types.clone(),
            in_bodies: args.in_bodies(),
        };
        (local::search(client, needle, &wanted)?, Source::Local)
    };
    for h in &mut hits {
        if h.project_id.is_none() {
            h.project_id = owner.map(|o| o.id);
        }
        if h.project_name.is_empty() {
            h.project_name = owner.map(|o| o.name.clone()).unwrap_or_default();
        }
    }
    sort(&mut hits);
    hits.truncate(args.limit as usize);
    Ok(Found { hits, source })
}

fn sort(hits: &mut [Hit]) {
    hits.sort_by(|a, b| {
        (
            a.r#match,
            a.name.to_lowercase(),
            &a.project_alias,
            a.r#type.api(),
            &a.id,
        )
            .cmp(&(
                b.r#match,
                b.name.to_lowercase(),
                &b.project_alias,
                b.r#type.api(),
                &b.id,
            ))
    });
}

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    let needle = Needle::new(&args.query);
    if needle.as_str().is_empty() {
        return Err(CliError::usage("The search query is empty")
            .hint("Pass the text to look for: `kbagent search orders`."));
    }
    let store = ctx.store()?;
    let cfg = store.load()?;
    if cfg.projects.is_empty() && args.projects.aliases.is_empty() {
        return Err(no_projects(store));
    }
    let projects = select_many(ctx, &cfg, &args.projects.aliases)?;
    for p in &projects {
        p.declare_target(ctx, None);
    }
    let workers = ctx.parallelism(&cfg)?;
    let http = ctx.http()?.clone();
    let results = fan_out(ctx, &http, "Searching", &projects, workers, |client, _| {
        search_project(client, args, &needle)
    });
    let mut hits = Vec::new();
    let (mut global, mut local) = (0, 0);
    let mut searched = 0;
    let errors = gather(
        ctx,
        &args.projects.aliases,
        &projects,
        results,
        |p: &Project, found| {
            searched += 1;
            match found.source {
                Source::GlobalSearch => global += 1,
                Source::Local => local += 1,
            }
            for mut h in found.hits {
                h.project_alias = p.alias.clone();
                h.path = h.open_command();
                hits.push(h);
            }
        },
    )?;
    sort(&mut hits);
    Ok(Output {
        stats: Stats {
            projects_searched: searched,
            results_found: hits.len(),
            global_search_projects: global,
            local_search_projects: local,
        },
        results: hits,
        errors,
        query: args.query.clone(),
    })
}
