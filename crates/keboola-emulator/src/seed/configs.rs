//! The seeded configurations of each project: one per emulated component, two branches.

use rand::rngs::StdRng;
use serde_json::{Value, json};

use super::{CONFIGS_CREATED, PROJECT_CREATED, at};
use crate::encryption::{Scope, Secret};
use crate::queue::DB_PASSWORD;
use crate::state::Seeded;
use crate::storage::branches::Branch;
use crate::storage::components::OAUTH_COMPONENT;
use crate::storage::configurations::{Config, Row};
use crate::storage::tokens::Creator;

#[allow(clippy::too_many_lines)]
pub(super) fn seed_branches(
    store: &mut Seeded,
    rng: &mut StdRng,
    project_id: u64,
    admin: &Creator,
) {
    let created = at(CONFIGS_CREATED);
    let main_id = project_id * 100 + 1;
    let config = |component_id: &str,
                  id: String,
                  name: &str,
                  description: &str,
                  configuration: Value,
                  rows: Vec<Row>| Config {
        branch_id: main_id,
        component_id: component_id.to_owned(),
        id,
        name: name.to_owned(),
        description: description.to_owned(),
        created,
        creator: admin.clone(),
        version: 1,
        change_description: "Configuration created".to_owned(),
        version_created: created,
        version_creator: admin.clone(),
        is_disabled: false,
        configuration,
        rows,
        state: json!({}),
    };
    let row = |id: String, name: &str, configuration: Value| Row {
        id,
        name: name.to_owned(),
        description: String::new(),
        configuration,
        is_disabled: false,
        version: 1,
        created,
        state: json!({}),
    };

    let db_id = store.allocate_config_id();
    let password = Secret::new(
        rng,
        Scope {
            component_id: Some("keboola.ex-db-snowflake".to_owned()),
            project_id: Some(project_id),
            config_id: None,
        },
        DB_PASSWORD,
    );
    store.secrets.push(password.clone());
    let password = password.cipher;
    let db_rows = vec![
        row(
            store.allocate_config_id(),
            "customers",
            json!({"parameters": {"table": {"schema": "CRM", "tableName": "CUSTOMERS"}, "outputTable": "in.c-crm.customers", "incremental": false, "primaryKey": ["ID"]}}),
        ),
        row(
            store.allocate_config_id(),
            "orders",
            json!({"parameters": {"table": {"schema": "CRM", "tableName": "ORDERS"}, "outputTable": "in.c-crm.orders", "incremental": true, "incrementalFetchingColumn": "UPDATED_AT", "primaryKey": ["ID"]}}),
        ),
    ];
    let db = config(
        "keboola.ex-db-snowflake",
        db_id.clone(),
        "CRM database",
        "Customers and orders from the CRM warehouse",
        json!({"parameters": {"db": {"host": "crm.snowflakecomputing.com", "port": 443, "database": "CRM", "schema": "CRM", "warehouse": "EXTRACT_WH", "user": "KEBOOLA_READER", "#password": password}}}),
        db_rows,
    );

    let drive_id = store.allocate_config_id();
    let drive_rows = vec![
        row(
            store.allocate_config_id(),
            "Budget 2026",
            json!({"parameters": {"sheets": [{"fileId": "1aBcD2eFgH3iJkL4mNoP", "fileTitle": "Budget 2026", "sheetId": 0, "sheetTitle": "Summary", "outputTable": "budget-summary", "enabled": true}]}}),
        ),
        row(
            store.allocate_config_id(),
            "Campaign costs",
            json!({"parameters": {"sheets": [{"fileId": "5qRsT6uVwX7yZaB8cDeF", "fileTitle": "Campaign costs", "sheetId": 1532, "sheetTitle": "Costs", "outputTable": "campaign-costs", "enabled": true}]}}),
        ),
    ];
    // Not yet authorized: no `authorization` key until the OAuth wizard runs.
    let drive = config(
        OAUTH_COMPONENT,
        drive_id.clone(),
        "Budget sheets",
        "Budget and campaign spreadsheets",
        json!({"parameters": {"outputBucket": "in.c-budget"}}),
        drive_rows,
    );

    let tr_id = store.allocate_config_id();
    let transformation = config(
        "keboola.snowflake-transformation",
        tr_id.clone(),
        "Revenue by customer",
        "Joins customers and orders into a revenue report",
        json!({
            "parameters": {"blocks": [{"name": "Revenue", "codes": [{"name": "Aggregate", "script": [
                "CREATE TABLE \"revenue\" AS SELECT c.\"ID\", c.\"NAME\", SUM(o.\"AMOUNT\") AS \"REVENUE\" FROM \"customers\" c JOIN \"orders\" o ON o.\"CUSTOMER_ID\" = c.\"ID\" GROUP BY 1, 2;"
            ]}]}]},
            "storage": {
                "input": {"tables": [
                    {"source": "in.c-crm.customers", "destination": "customers"},
                    {"source": "in.c-crm.orders", "destination": "orders"}
                ]},
                "output": {"tables": [{"source": "revenue", "destination": "out.c-reports.revenue"}]}
            }
        }),
        Vec::new(),
    );

    let flow_id = store.allocate_config_id();
    let flow = config(
        "keboola.flow",
        flow_id,
        "Nightly CRM refresh",
        "Extracts the CRM and rebuilds the revenue report",
        json!({
            "phases": [
                {"id": 1, "name": "Extract", "dependsOn": []},
                {"id": 2, "name": "Transform", "dependsOn": [1]}
            ],
            "tasks": [
                {"id": 1, "name": "CRM database", "phase": 1, "enabled": true, "continueOnFailure": false,
                 "task": {"componentId": "keboola.ex-db-snowflake", "configId": db_id, "mode": "run"}},
                {"id": 2, "name": "Revenue by customer", "phase": 2, "enabled": true, "continueOnFailure": false,
                 "task": {"componentId": "keboola.snowflake-transformation", "configId": tr_id, "mode": "run"}}
            ]
        }),
        Vec::new(),
    );

    // The dev branch's copy tries another revenue definition and has a typo in it
    // (`SUMM`): running it fails with the database's message, nothing written.
    let mut dev_copy = Config {
        branch_id: main_id + 1,
        ..transformation.clone()
    };
    dev_copy.configuration["parameters"]["blocks"][0]["codes"][0]["script"] = json!([
        "CREATE TABLE \"revenue\" AS SELECT c.\"ID\", c.\"NAME\", SUMM(o.\"AMOUNT\") AS \"REVENUE\" FROM \"customers\" c JOIN \"orders\" o ON o.\"CUSTOMER_ID\" = c.\"ID\" WHERE o.\"STATUS\" = 'completed' GROUP BY 1, 2;"
    ]);
    store.branches.extend([
        Branch {
            id: main_id,
            project_id,
            name: "Main".into(),
            description: String::new(),
            is_default: true,
            created: at(PROJECT_CREATED),
            creator: None,
        },
        Branch {
            id: main_id + 1,
            project_id,
            name: "Revenue tweaks".into(),
            description: "Trying a different revenue definition".into(),
            is_default: false,
            created: at(CONFIGS_CREATED + 86_400),
            creator: Some(Creator {
                id: admin.id,
                description: admin.description.clone(),
            }),
        },
    ]);
    store
        .configs
        .extend([db, drive, transformation, flow, dev_copy]);
}

/// The UI's folder of the seeded configurations, by component (the flow has none).
const FOLDERS: &[(&str, &str)] = &[
    ("keboola.ex-db-snowflake", "Sources"),
    (OAUTH_COMPONENT, "Sources"),
    ("keboola.snowflake-transformation", "Revenue"),
];

/// Files the seeded configurations into folders (`KBC.configuration.folderName`).
pub(crate) fn seed_folders(
    conn: &rusqlite::Connection,
    configs: &[Config],
) -> rusqlite::Result<()> {
    for c in configs {
        if let Some((_, folder)) = FOLDERS.iter().find(|(id, _)| *id == c.component_id) {
            crate::storage::configurations::metadata::upsert(
                conn,
                c.branch_id,
                &c.component_id,
                &c.id,
                "KBC.configuration.folderName",
                folder,
                c.created,
            )?;
        }
    }
    Ok(())
}
