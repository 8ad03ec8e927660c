//! `component list`: the stack's component catalogue, optionally filtered by type and
//! ranked by how well the components match `--query` words. Projects on one stack share a
//! catalogue, so it is read once per stack (in parallel across stacks).

use std::collections::BTreeMap;

use keboola_api::CatalogueComponent;
use schemars::JsonSchema;
use serde::Serialize;

use super::component_type;
use crate::commands::shared::ProjectsArg;
use crate::commands::storage::gather;
use crate::commands::{CommandOutput, Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::CliResult;
use crate::output::{Printer, Table};
use crate::select::{ProjectError, fan_out, no_projects, select_many};

pub(crate) const META: Meta = Meta::new(
    OpClass::Read,
    "List the components available on the projects' stacks (filter by type, search by words)",
    "Examples:\n  kbagent component list --type writer\n  kbagent --json component list --query \"google sheets\"",
)
.network();

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub projects: ProjectsArg,
    /// Only components of this type (extractor, writer, transformation, application, other)
    #[arg(long = "type", value_name = "TYPE", value_parser = component_type)]
    pub component_type: Option<String>,
    /// Only components matching every word (in id, name, type, description, categories), best first
    #[arg(short = 'q', long, value_name = "TEXT", value_parser = crate::commands::search::search_text)]
    pub query: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ComponentRow {
    pub component_id: String,
    pub component_name: String,
    pub component_type: String,
    pub categories: Vec<String>,
    pub description: String,
    pub flags: Vec<String>,
    /// Configurations are authorized through OAuth (`config oauth-url` applies).
    pub uses_oauth: bool,
    /// With `--query`: how well the component matches, from 0 to 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Output {
    pub components: Vec<ComponentRow>,
    pub errors: Vec<ProjectError>,
    /// The `--query` words, when given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
}

impl CommandOutput for Output {
    fn human(&self, p: &Printer) -> String {
        if self.components.is_empty() {
            return "No components found.\n".to_owned();
        }
        let mut table = Table::new(["COMPONENT ID", "TYPE", "NAME", "OAUTH", "DESCRIPTION"]);
        for c in &self.components {
            table.row([
                c.component_id.clone(),
                c.component_type.clone(),
                c.component_name.clone(),
                if c.uses_oauth { "yes" } else { "" }.to_owned(),
                c.description.clone(),
            ]);
        }
        table.render(p.stdout_is_terminal())
    }
}

/// Relevance of `c` to the query words: each word scores by the best field it appears in
/// (name word 1.0, name 0.9, id 0.8, type or category 0.6, description 0.5, long
/// description 0.3); a word found nowhere rules the component out. The mean is the score.
pub(crate) fn score(c: &CatalogueComponent, words: &[String]) -> Option<f64> {
    if words.is_empty() {
        return Some(1.0);
    }
    let name = c.name.to_lowercase();
    let id = c.id.to_lowercase();
    let kind = c.r#type.to_lowercase();
    let categories = c.categories.join(" ").to_lowercase();
    let description = c.description.to_lowercase();
    let long = c.long_description.to_lowercase();
    let mut total = 0.0;
    for w in words {
        let best = if name
            .split(|ch: char| !ch.is_alphanumeric())
            .any(|part| part == w)
        {
            1.0
        } else if name.contains(w.as_str()) {
            0.9
        } else if id.contains(w.as_str()) {
            0.8
        } else if kind.contains(w.as_str()) || categories.contains(w.as_str()) {
            0.6
        } else if description.contains(w.as_str()) {
            0.5
        } else if long.contains(w.as_str()) {
            0.3
        } else {
            return None;
        };
        total += best;
    }
    Some(total / words.len() as f64)
}

fn row(c: CatalogueComponent, score: Option<f64>) -> ComponentRow {
    let uses_oauth = c.uses_oauth();
    ComponentRow {
        component_id: c.id,
        component_name: c.name,
        component_type: c.r#type,
        categories: c.categories,
        description: c.description,
        flags: c.flags,
        uses_oauth,
        score,
    }
}

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    let store = ctx.store()?;
    let cfg = store.load()?;
    if cfg.projects.is_empty() && args.projects.aliases.is_empty() {
        return Err(no_projects(store));
    }
    let selected = select_many(ctx, &cfg, &args.projects.aliases)?;
    // One project per stack: the catalogue belongs to the stack, not the project.
    let mut projects = Vec::new();
    for p in selected {
        if !projects
            .iter()
            .any(|q: &crate::select::Project| q.entry.stack_url == p.entry.stack_url)
        {
            projects.push(p);
        }
    }
    let workers = ctx.parallelism(&cfg)?;
    let http = ctx.http()?.clone();
    let results = fan_out(ctx, &http, "Reading component catalogues", &projects, workers, |client, _| {
        client.component_catalogue()
    });
    let words: Vec<String> = args
        .query
        .as_deref()
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_lowercase)
        .collect();
    let mut found: BTreeMap<String, (CatalogueComponent, f64)> = BTreeMap::new();
    let errors = gather(ctx, &args.projects.aliases, &projects, results, |_, catalogue| {
        for c in catalogue {
            if args.component_type.as_deref().is_some_and(|t| t != c.r#type) {
                continue;
            }
            if let Some(s) = score(&c, &words) {
                found.entry(c.id.clone()).or_insert((c, s));
            }
        }
    })?;
    let mut components: Vec<(CatalogueComponent, f64)> = found.into_values().collect();
    if !words.is_empty() {
        // Best match first; ties keep id order (the map's order, and the sort is stable).
        components.sort_by(|a, b| b.1.total_cmp(&a.1));
    }
    let with_score = !words.is_empty();
    Ok(Output {
        components: components
            .into_iter()
            .map(|(c, s)| row(c, with_score.then_some((s * 100.0).round() / 100.0)))
            .collect(),
        errors,
        query: args.query.clone(),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn component(id: &str, name: &str, kind: &str, description: &str) -> CatalogueComponent {
        serde_json::from_value(json!({"id": id, "name": name, "type": kind, "description": description}))
            .unwrap()
    }

    #[test]
    fn every_word_must_match_and_name_words_count_most() {
        let words = |q: &str| q.split_whitespace().map(str::to_lowercase).collect::<Vec<_>>();
        let pg = component("keboola.ex-db-pgsql", "PostgreSQL", "extractor", "Open-source database");
        let wr = component("keboola.wr-db-pgsql", "PostgreSQL", "writer", "Load tables");
        assert_eq!(score(&pg, &words("postgres extractor")), Some((0.9 + 0.6) / 2.0));
        assert_eq!(score(&wr, &words("postgres extractor")), None);
        assert_eq!(score(&pg, &words("postgresql")), Some(1.0));
        assert_eq!(score(&pg, &words("database")), Some(0.5));
        assert_eq!(score(&pg, &words("")), Some(1.0));
    }
}
