//! The seeded component catalogue: a few real components, one of each kind kbagent meets.

use crate::storage::components::Component;

struct Def {
    id: &'static str,
    kind: &'static str,
    name: &'static str,
    description: &'static str,
    flags: &'static [&'static str],
    categories: &'static [&'static str],
}

const CATALOGUE: &[Def] = &[
    Def {
        id: "keboola.ex-db-snowflake",
        kind: "extractor",
        name: "Snowflake",
        description: "Cloud data warehouse",
        flags: &["genericDockerUI-tableInput"],
        categories: &["Database"],
    },
    Def {
        id: "keboola.ex-google-drive",
        kind: "extractor",
        name: "Google Drive",
        description: "Import spreadsheets from Google Drive",
        flags: &["genericDockerUI", "genericDockerUI-authorization"],
        categories: &["Files"],
    },
    Def {
        id: "keboola.ex-http",
        kind: "extractor",
        name: "HTTP",
        description: "Download CSV files from a URL",
        flags: &["genericDockerUI"],
        categories: &["Files"],
    },
    Def {
        id: "keboola.snowflake-transformation",
        kind: "transformation",
        name: "Snowflake SQL",
        description: "Transform data with Snowflake SQL",
        flags: &["genericCodeBlocksUI", "genericVariablesUI"],
        categories: &[],
    },
    Def {
        id: "keboola.flow",
        kind: "other",
        name: "Flow",
        description: "Run components in phases",
        flags: &["excludeFromNewList"],
        categories: &[],
    },
];

pub(super) fn catalogue() -> Vec<Component> {
    let owned = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect();
    CATALOGUE
        .iter()
        .map(|d| Component {
            id: d.id.to_owned(),
            kind: d.kind.to_owned(),
            name: d.name.to_owned(),
            description: d.description.to_owned(),
            flags: owned(d.flags),
            categories: owned(d.categories),
        })
        .collect()
}
