//! `kbagent component ...`: the stack's component catalogue (extractors, writers,
//! transformations, applications) and one component's flags and configuration schema.

use clap::Args;
use keboola_api::CatalogueComponent;

use super::verbs;
use crate::error::{CliError, ErrorCode};
use crate::select::Project;

pub(crate) const EXAMPLES: &str = "\
Examples:
  kbagent component list --type extractor
  kbagent component list --query \"postgres extractor\"
  kbagent component detail --component-id keboola.ex-db-pgsql";

#[derive(Debug, Args)]
pub(crate) struct ComponentArgs {
    #[command(subcommand)]
    pub command: ComponentCommand,
}

verbs!(ComponentCommand {
    "list" => List(list),
    "detail" => Detail(detail),
});

/// Component types of the catalogue.
pub(crate) const TYPES: &[&str] = &[
    "extractor",
    "writer",
    "transformation",
    "application",
    "other",
];

pub(crate) fn component_type(value: &str) -> Result<String, CliError> {
    let v = value.trim().to_ascii_lowercase();
    if TYPES.contains(&v.as_str()) {
        Ok(v)
    } else {
        Err(CliError::invalid_argument(format!(
            "Invalid component type '{}': expected one of {}",
            value.escape_debug(),
            TYPES.join(", ")
        )))
    }
}

/// One component of the catalogue by id; a 404 says which, and how to find the right id.
pub(crate) fn fetch(
    client: &keboola_api::StorageClient,
    project: &Project,
    id: &str,
) -> Result<CatalogueComponent, CliError> {
    client.component_detail(id).map_err(|e| {
        let err = project.api_error(&e);
        if err.code != ErrorCode::NotFound {
            return err;
        }
        err.reworded(|_| {
            format!(
                "Component {id} was not found on the stack of project '{}'",
                project.alias
            )
        })
        .detail("component_id", id)
        .hint("Find the id with `kbagent component list --query <words>`.")
    })
}
