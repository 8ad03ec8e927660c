//! `component detail`: one component of the catalogue: type, description, flags, whether
//! OAuth applies, and its configuration schema when the catalogue has one.

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use crate::commands::shared::{ProjectArg, component_id};
use crate::commands::{CommandOutput, Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::CliResult;
use crate::output::Printer;
use crate::select::load_and_select;

pub(crate) const META: Meta = Meta::new(
    OpClass::Read,
    "Show one component: type, description, flags, OAuth, configuration schema",
    "Examples:\n  kbagent component detail --component-id keboola.ex-db-pgsql\n  kbagent --json component detail --project prod --component-id keboola.ex-google-drive",
)
.network();

/// Where the detail came from: the Storage API's component catalogue.
const STORAGE_CATALOG: &str = "storage_catalog";

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub project: ProjectArg,
    /// Component id, such as keboola.ex-db-snowflake
    #[arg(long, value_name = "COMPONENT_ID", value_parser = component_id)]
    pub component_id: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct SchemaSummary {
    pub property_count: usize,
    pub required_count: usize,
    pub has_row_schema: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Output {
    pub component_id: String,
    pub component_name: String,
    pub component_type: String,
    pub categories: Vec<String>,
    pub flags: Vec<String>,
    pub description: String,
    pub long_description: String,
    pub documentation_url: String,
    pub schema_summary: SchemaSummary,
    /// The catalogue carries no configuration examples: always 0.
    pub examples_count: usize,
    pub row_examples_count: usize,
    pub project_alias: String,
    pub documentation_source: String,
    /// Configurations are authorized through an OAuth flow (`config oauth-url` applies).
    pub uses_oauth: bool,
    /// JSON Schema of the configuration's `parameters`; null when the catalogue has none.
    pub configuration_schema: Option<Value>,
    /// JSON Schema of a configuration row's `parameters`; null when rows have none.
    pub configuration_row_schema: Option<Value>,
}

impl CommandOutput for Output {
    fn human(&self, _: &Printer) -> String {
        let mut out = format!(
            "{} ({})\nType:        {}\n",
            self.component_name, self.component_id, self.component_type
        );
        if !self.description.is_empty() {
            out += &format!("Description: {}\n", self.description);
        }
        if !self.long_description.is_empty() {
            out += &format!("\n{}\n\n", self.long_description);
        }
        if !self.categories.is_empty() {
            out += &format!("Categories:  {}\n", self.categories.join(", "));
        }
        if !self.flags.is_empty() {
            out += &format!("Flags:       {}\n", self.flags.join(", "));
        }
        out += &format!(
            "OAuth:       {}\n",
            if self.uses_oauth {
                "yes (authorize with `kbagent config oauth-url`)"
            } else {
                "no"
            }
        );
        let s = &self.schema_summary;
        if s.property_count > 0 || s.has_row_schema {
            out += &format!(
                "Schema:      {} properties ({} required){}\n",
                s.property_count,
                s.required_count,
                if s.has_row_schema { ", row-based" } else { "" }
            );
        } else {
            out += "Schema:      none published\n";
        }
        if !self.documentation_url.is_empty() {
            out += &format!("Docs:        {}\n", self.documentation_url);
        }
        out
    }
}

/// `{}` and `null` mean "no schema".
fn schema(value: Option<Value>) -> Option<Value> {
    value.filter(|v| v.as_object().is_some_and(|o| !o.is_empty()))
}

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    let project = load_and_select(ctx, args.project.get())?;
    let client = ctx.storage(&project)?;
    let c = super::fetch(&client, &project, &args.component_id)?;
    let uses_oauth = c.uses_oauth();
    let configuration_schema = schema(c.configuration_schema);
    let configuration_row_schema = schema(c.configuration_row_schema);
    let count = |key: &str| {
        configuration_schema
            .as_ref()
            .and_then(|s| s.get(key))
            .map_or(0, |v| match v {
                Value::Object(o) => o.len(),
                Value::Array(a) => a.len(),
                _ => 0,
            })
    };
    Ok(Output {
        schema_summary: SchemaSummary {
            property_count: count("properties"),
            required_count: count("required"),
            has_row_schema: configuration_row_schema.is_some(),
        },
        component_id: c.id,
        component_name: c.name,
        component_type: c.r#type,
        categories: c.categories,
        flags: c.flags,
        description: c.description,
        long_description: c.long_description,
        documentation_url: c.documentation_url.unwrap_or_default(),
        examples_count: 0,
        row_examples_count: 0,
        project_alias: project.alias,
        documentation_source: STORAGE_CATALOG.to_owned(),
        uses_oauth,
        configuration_schema,
        configuration_row_schema,
    })
}
