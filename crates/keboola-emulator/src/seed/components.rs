//! The seeded component catalogue: common Keboola components of every kind, with the
//! flags that change how clients treat them (`genericDockerUI-authorization`: the
//! configuration is authorized through OAuth) and, where it matters, a configuration schema.

use serde_json::{Value, json};

use crate::storage::components::Component;

struct Def {
    id: &'static str,
    kind: &'static str,
    name: &'static str,
    description: &'static str,
    long: &'static str,
    flags: &'static [&'static str],
    categories: &'static [&'static str],
}

const OAUTH: &str = "genericDockerUI-authorization";

const CATALOGUE: &[Def] = &[
    // Extractors: databases.
    Def {
        id: "keboola.ex-db-snowflake",
        kind: "extractor",
        name: "Snowflake",
        description: "Cloud data warehouse",
        long: "Extracts tables or the results of SQL queries from a Snowflake database.",
        flags: &["genericDockerUI-tableInput"],
        categories: &["Database"],
    },
    Def {
        id: "keboola.ex-db-pgsql",
        kind: "extractor",
        name: "PostgreSQL",
        description: "Open-source relational database",
        long: "Extracts tables or the results of SQL queries from PostgreSQL, optionally over an SSH tunnel, incrementally by a column.",
        flags: &["genericDockerUI-tableInput"],
        categories: &["Database"],
    },
    Def {
        id: "keboola.ex-db-mysql",
        kind: "extractor",
        name: "MySQL",
        description: "Popular open-source relational database",
        long: "Extracts tables or the results of SQL queries from MySQL and MariaDB.",
        flags: &["genericDockerUI-tableInput"],
        categories: &["Database"],
    },
    Def {
        id: "keboola.ex-db-mssql",
        kind: "extractor",
        name: "Microsoft SQL Server",
        description: "Relational database by Microsoft",
        long: "Extracts tables or queries from Microsoft SQL Server, with change tracking for incremental loads.",
        flags: &["genericDockerUI-tableInput"],
        categories: &["Database"],
    },
    Def {
        id: "keboola.ex-db-oracle",
        kind: "extractor",
        name: "Oracle",
        description: "Enterprise relational database",
        long: "Extracts tables or the results of SQL queries from an Oracle database.",
        flags: &["genericDockerUI-tableInput"],
        categories: &["Database"],
    },
    Def {
        id: "keboola.ex-mongodb",
        kind: "extractor",
        name: "MongoDB",
        description: "Document database",
        long: "Exports MongoDB collections to tables, mapping documents to columns.",
        flags: &["genericDockerUI"],
        categories: &["Database"],
    },
    Def {
        id: "keboola.ex-google-bigquery-v2",
        kind: "extractor",
        name: "Google BigQuery",
        description: "Serverless data warehouse by Google",
        long: "Runs queries in Google BigQuery and loads their results into Storage.",
        flags: &["genericDockerUI"],
        categories: &["Database"],
    },
    // Extractors: files and storage services.
    Def {
        id: "keboola.ex-http",
        kind: "extractor",
        name: "HTTP",
        description: "Download CSV files from a URL",
        long: "Downloads CSV files from any HTTP(S) URL and imports them into tables.",
        flags: &["genericDockerUI"],
        categories: &["Files"],
    },
    Def {
        id: "keboola.ex-aws-s3",
        kind: "extractor",
        name: "AWS S3",
        description: "Load CSV files from Amazon S3",
        long: "Loads one or more CSV files from an Amazon S3 bucket, with wildcards and incremental processing of new files.",
        flags: &["genericDockerUI"],
        categories: &["Files"],
    },
    Def {
        id: "keboola.ex-azure-blob-storage-v2",
        kind: "extractor",
        name: "Azure Blob Storage",
        description: "Load CSV files from Azure Blob Storage",
        long: "Loads CSV files from an Azure Blob Storage container.",
        flags: &["genericDockerUI"],
        categories: &["Files"],
    },
    Def {
        id: "keboola.ex-ftp",
        kind: "extractor",
        name: "FTP",
        description: "Download files from FTP, FTPS or SFTP",
        long: "Downloads files from an FTP, FTPS or SFTP server and imports them into tables.",
        flags: &["genericDockerUI"],
        categories: &["Files"],
    },
    Def {
        id: "keboola.ex-google-drive",
        kind: "extractor",
        name: "Google Drive",
        description: "Import spreadsheets from Google Drive",
        long: "Imports sheets of Google spreadsheets from Google Drive; authorized with a Google account through OAuth.",
        flags: &["genericDockerUI", OAUTH],
        categories: &["Files"],
    },
    Def {
        id: "keboola.ex-google-sheets",
        kind: "extractor",
        name: "Google Sheets",
        description: "Import data from Google Sheets",
        long: "Imports sheets of Google spreadsheets; authorized with a Google account through OAuth.",
        flags: &["genericDockerUI", OAUTH],
        categories: &["Files"],
    },
    // Extractors: applications and marketing.
    Def {
        id: "keboola.ex-google-analytics-v4",
        kind: "extractor",
        name: "Google Analytics",
        description: "Web analytics by Google",
        long: "Downloads reports of dimensions and metrics from Google Analytics properties; authorized through OAuth.",
        flags: &["genericDockerUI", OAUTH],
        categories: &["Marketing"],
    },
    Def {
        id: "keboola.ex-google-ads",
        kind: "extractor",
        name: "Google Ads",
        description: "Advertising platform by Google",
        long: "Downloads campaign, ad group and keyword reports from Google Ads; authorized through OAuth.",
        flags: &["genericDockerUI", OAUTH],
        categories: &["Marketing"],
    },
    Def {
        id: "keboola.ex-facebook",
        kind: "extractor",
        name: "Facebook Pages",
        description: "Posts, comments and insights of Facebook pages",
        long: "Downloads posts, comments, likes and insights of Facebook pages through the Graph API; authorized through OAuth.",
        flags: &["genericDockerUI", OAUTH],
        categories: &["Social"],
    },
    Def {
        id: "keboola.ex-salesforce-v2",
        kind: "extractor",
        name: "Salesforce",
        description: "CRM platform",
        long: "Extracts objects from Salesforce with SOQL queries, incrementally by modification date.",
        flags: &["genericDockerUI"],
        categories: &["CRM"],
    },
    Def {
        id: "kds-team.ex-hubspot-crm",
        kind: "extractor",
        name: "HubSpot CRM",
        description: "Marketing and sales CRM",
        long: "Downloads contacts, companies, deals and engagements from HubSpot with a private app token.",
        flags: &["genericDockerUI"],
        categories: &["CRM"],
    },
    Def {
        id: "kds-team.ex-shopify",
        kind: "extractor",
        name: "Shopify",
        description: "E-commerce platform",
        long: "Downloads orders, products, customers and inventory from a Shopify store.",
        flags: &["genericDockerUI"],
        categories: &["E-commerce"],
    },
    Def {
        id: "keboola.ex-generic-v2",
        kind: "extractor",
        name: "Generic Extractor",
        description: "Download data from any REST API",
        long: "Downloads JSON from any REST API, with pagination, authentication and nested jobs, and maps it to tables.",
        flags: &["genericDockerUI"],
        categories: &["API"],
    },
    // Writers.
    Def {
        id: "keboola.wr-snowflake",
        kind: "writer",
        name: "Snowflake",
        description: "Load tables into a Snowflake database",
        long: "Writes tables into a Snowflake database you own, fully or incrementally.",
        flags: &["genericDockerUI-tableInput"],
        categories: &["Database"],
    },
    Def {
        id: "keboola.wr-db-pgsql",
        kind: "writer",
        name: "PostgreSQL",
        description: "Load tables into a PostgreSQL database",
        long: "Writes tables into a PostgreSQL database, creating or updating the target tables.",
        flags: &["genericDockerUI-tableInput"],
        categories: &["Database"],
    },
    Def {
        id: "keboola.wr-google-bigquery-v2",
        kind: "writer",
        name: "Google BigQuery",
        description: "Load tables into Google BigQuery",
        long: "Writes tables into a Google BigQuery dataset with a service account.",
        flags: &["genericDockerUI-tableInput"],
        categories: &["Database"],
    },
    Def {
        id: "keboola.wr-aws-s3",
        kind: "writer",
        name: "AWS S3",
        description: "Export tables as CSV files to Amazon S3",
        long: "Exports tables as CSV files into an Amazon S3 bucket.",
        flags: &["genericDockerUI"],
        categories: &["Files"],
    },
    Def {
        id: "keboola.wr-google-sheets",
        kind: "writer",
        name: "Google Sheets",
        description: "Write tables to Google Sheets",
        long: "Writes tables into sheets of Google spreadsheets; authorized with a Google account through OAuth.",
        flags: &["genericDockerUI", OAUTH],
        categories: &["Files"],
    },
    Def {
        id: "keboola.wr-google-drive",
        kind: "writer",
        name: "Google Drive",
        description: "Upload tables and files to Google Drive",
        long: "Uploads tables as CSV files or spreadsheets to Google Drive; authorized through OAuth.",
        flags: &["genericDockerUI", OAUTH],
        categories: &["Files"],
    },
    // Transformations.
    Def {
        id: "keboola.snowflake-transformation",
        kind: "transformation",
        name: "Snowflake SQL",
        description: "Transform data with Snowflake SQL",
        long: "Runs SQL scripts in a Snowflake workspace on the input tables and stores the output tables.",
        flags: &["genericCodeBlocksUI", "genericVariablesUI"],
        categories: &[],
    },
    Def {
        id: "keboola.python-transformation-v2",
        kind: "transformation",
        name: "Python",
        description: "Transform data with Python",
        long: "Runs Python scripts on CSV files of the input tables and stores the CSV files they write as output tables.",
        flags: &[
            "genericCodeBlocksUI",
            "genericVariablesUI",
            "genericPackagesUI",
        ],
        categories: &[],
    },
    Def {
        id: "keboola.google-bigquery-transformation",
        kind: "transformation",
        name: "Google BigQuery SQL",
        description: "Transform data with BigQuery SQL",
        long: "Runs SQL scripts in a BigQuery workspace on the input tables and stores the output tables.",
        flags: &["genericCodeBlocksUI", "genericVariablesUI"],
        categories: &[],
    },
    Def {
        id: "keboola.r-transformation-v2",
        kind: "transformation",
        name: "R",
        description: "Transform data with R",
        long: "Runs R scripts on CSV files of the input tables.",
        flags: &[
            "genericCodeBlocksUI",
            "genericVariablesUI",
            "genericPackagesUI",
        ],
        categories: &[],
    },
    Def {
        id: "keboola.dbt-transformation",
        kind: "transformation",
        name: "dbt",
        description: "Run dbt projects from a git repository",
        long: "Runs the models of a dbt project from a git repository against a Keboola workspace.",
        flags: &["genericDockerUI"],
        categories: &[],
    },
    // Applications.
    Def {
        id: "kds-team.app-custom-python",
        kind: "application",
        name: "Custom Python Script",
        description: "Run your own Python code as a component",
        long: "Runs Python code from the configuration or a git repository, with user parameters and packages.",
        flags: &["genericDockerUI"],
        categories: &["Other"],
    },
    Def {
        id: "keboola.app-snowflake-dwh-manager",
        kind: "application",
        name: "Snowflake DWH Manager",
        description: "Manage users and schemas of a Snowflake warehouse",
        long: "Creates Snowflake schemas and users with their grants from a declarative configuration.",
        flags: &["genericDockerUI"],
        categories: &["Other"],
    },
    Def {
        id: "keboola.data-apps",
        kind: "other",
        name: "Data App",
        description: "Streamlit data applications",
        long: "Deploys Python (Streamlit) applications that read project data, served at their own URL.",
        flags: &["genericDockerUI"],
        categories: &[],
    },
    // Orchestration and the platform's own components.
    Def {
        id: "keboola.flow",
        kind: "other",
        name: "Flow",
        description: "Run components in phases",
        long: "Runs tasks (component configurations) in phases, with conditions between them.",
        flags: &["excludeFromNewList"],
        categories: &[],
    },
    Def {
        id: "keboola.orchestrator",
        kind: "other",
        name: "Orchestrator",
        description: "Run components in phases (legacy flows)",
        long: "Runs tasks in phases one after another; superseded by Flow.",
        flags: &["excludeFromNewList"],
        categories: &[],
    },
    Def {
        id: "keboola.scheduler",
        kind: "other",
        name: "Scheduler",
        description: "Run a configuration on a cron schedule",
        long: "Starts a job of its target configuration on a cron schedule.",
        flags: &["excludeFromNewList"],
        categories: &[],
    },
    Def {
        id: "keboola.sandboxes",
        kind: "other",
        name: "Workspace",
        description: "SQL and Python workspaces",
        long: "Workspaces: SQL and Python environments loaded with project tables for exploration.",
        flags: &["excludeFromNewList"],
        categories: &[],
    },
    Def {
        id: "keboola.variables",
        kind: "other",
        name: "Variables",
        description: "Variables shared by configurations",
        long: "Holds the variables and their default values for the configurations that use them.",
        flags: &["excludeFromNewList"],
        categories: &[],
    },
    Def {
        id: "keboola.shared-code",
        kind: "other",
        name: "Shared Code",
        description: "Code blocks shared by transformations",
        long: "Holds code blocks that several transformations include.",
        flags: &["excludeFromNewList"],
        categories: &[],
    },
];

/// Configuration schemas (of `parameters`) and row schemas of the components that have one.
fn schemas(id: &str) -> (Value, Value) {
    let string = |title: &str| json!({"type": "string", "title": title});
    let secret = |title: &str| json!({"type": "string", "title": title, "format": "password"});
    let db = |port: u16| {
        json!({
            "type": "object",
            "title": "Database",
            "required": ["host", "port", "user", "#password", "database"],
            "properties": {
                "host": string("Host"),
                "port": {"type": "integer", "title": "Port", "default": port},
                "user": string("User"),
                "#password": secret("Password"),
                "database": string("Database")
            }
        })
    };
    let db_row = json!({
        "type": "object",
        "title": "Table",
        "required": ["outputTable"],
        "properties": {
            "table": {"type": "object", "title": "Source table", "properties": {"schema": string("Schema"), "tableName": string("Table")}},
            "query": string("Custom query"),
            "outputTable": string("Output table"),
            "incremental": {"type": "boolean", "title": "Incremental load", "default": false},
            "primaryKey": {"type": "array", "title": "Primary key", "items": {"type": "string"}}
        }
    });
    let with_db =
        |port: u16| json!({"type": "object", "required": ["db"], "properties": {"db": db(port)}});
    match id {
        "keboola.ex-db-pgsql" => (with_db(5432), db_row),
        "keboola.ex-db-mysql" => (with_db(3306), db_row),
        "keboola.ex-db-mssql" => (with_db(1433), db_row),
        "keboola.ex-db-snowflake" => {
            let mut root = with_db(443);
            root["properties"]["db"]["properties"]["warehouse"] = string("Warehouse");
            (root, db_row)
        }
        "keboola.wr-db-pgsql" | "keboola.wr-snowflake" => (
            with_db(5432),
            json!({
                "type": "object",
                "required": ["tableId", "dbName"],
                "properties": {
                    "tableId": string("Source table"),
                    "dbName": string("Destination table"),
                    "incremental": {"type": "boolean", "title": "Incremental"}
                }
            }),
        ),
        "keboola.ex-http" => (
            json!({
                "type": "object",
                "required": ["baseUrl"],
                "properties": {"baseUrl": string("Base URL")}
            }),
            json!({
                "type": "object",
                "required": ["path", "name"],
                "properties": {"path": string("Path"), "name": string("Table name")}
            }),
        ),
        "keboola.ex-aws-s3" => (
            json!({
                "type": "object",
                "required": ["accessKeyId", "#secretAccessKey"],
                "properties": {
                    "accessKeyId": string("Access key id"),
                    "#secretAccessKey": secret("Secret access key")
                }
            }),
            json!({
                "type": "object",
                "required": ["bucket", "key", "name"],
                "properties": {"bucket": string("Bucket"), "key": string("Key or wildcard"), "name": string("Table name")}
            }),
        ),
        "keboola.ex-google-drive" | "keboola.ex-google-sheets" => (
            json!({
                "type": "object",
                "properties": {"outputBucket": string("Output bucket")}
            }),
            json!({
                "type": "object",
                "required": ["fileId", "sheetId"],
                "properties": {"fileId": string("Spreadsheet id"), "sheetId": string("Sheet id"), "outputTable": string("Output table")}
            }),
        ),
        "keboola.ex-generic-v2" => (
            json!({
                "type": "object",
                "required": ["api", "config"],
                "properties": {
                    "api": {"type": "object", "required": ["baseUrl"], "properties": {"baseUrl": string("Base URL")}},
                    "config": {"type": "object", "required": ["jobs"], "properties": {"jobs": {"type": "array", "title": "Jobs"}}}
                }
            }),
            json!({}),
        ),
        "kds-team.app-custom-python" => (
            json!({
                "type": "object",
                "required": ["code"],
                "properties": {
                    "code": string("Python code"),
                    "packages": {"type": "array", "title": "Packages", "items": {"type": "string"}},
                    "user_properties": {"type": "object", "title": "User parameters"}
                }
            }),
            json!({}),
        ),
        _ => (json!({}), json!({})),
    }
}

pub(super) fn catalogue() -> Vec<Component> {
    let owned = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect();
    CATALOGUE
        .iter()
        .map(|d| {
            let (configuration_schema, configuration_row_schema) = schemas(d.id);
            Component {
                id: d.id.to_owned(),
                kind: d.kind.to_owned(),
                name: d.name.to_owned(),
                description: d.description.to_owned(),
                long_description: d.long.to_owned(),
                flags: owned(d.flags),
                categories: owned(d.categories),
                configuration_schema,
                configuration_row_schema,
            }
        })
        .collect()
}
