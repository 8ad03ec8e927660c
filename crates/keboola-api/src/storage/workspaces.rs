//! Workspaces: `/v2/storage/branch/{b}/workspaces` and the configuration-scoped create
//! (`.../components/{c}/configs/{k}/workspaces`), load, password reset, delete, and the
//! `keboola.sandboxes` configuration created around a workspace.
//!
//! A workspace's password is a [`Password`]: it never prints, and it is dropped from
//! every `raw` copy.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::error::ApiError;
use crate::http::Method;
use crate::lenient::{self, keep_raw};
use crate::storage::StorageClient;
use crate::storage::jobs::StorageJob;

/// The component of the configurations workspaces are created under.
pub const SANDBOXES_COMPONENT: &str = "keboola.sandboxes";

/// A workspace password: `Debug` shows `***`; no `Display` or `Serialize`.
#[derive(Clone)]
pub struct Password(SecretString);

impl Password {
    pub fn new(raw: impl Into<String>) -> Password {
        Password(SecretString::from(raw.into()))
    }

    /// The password, for the documented reveal (create, reset). Never log it.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

impl PartialEq for Password {
    fn eq(&self, other: &Self) -> bool {
        self.expose() == other.expose()
    }
}

/// How to reach a workspace's database. Never holds its password.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceConnection {
    #[serde(default, deserialize_with = "lenient::string")]
    pub backend: String,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub host: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub database: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub schema: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub warehouse: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub user: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub login_type: Option<String>,
}

/// A workspace. `raw` keeps the object as received, without any password or key.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(remote = "Self", rename_all = "camelCase")]
pub struct Workspace {
    #[serde(deserialize_with = "lenient::id")]
    pub id: String,
    #[serde(default, deserialize_with = "lenient::string")]
    pub name: String,
    #[serde(default, deserialize_with = "lenient::string")]
    pub component: String,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub configuration_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub created: Option<String>,
    #[serde(default, deserialize_with = "lenient::flag")]
    pub read_only_storage_access: bool,
    #[serde(default)]
    pub connection: WorkspaceConnection,
    #[serde(skip)]
    pub raw: Value,
}

keep_raw!(Workspace, strip_workspace_secrets);

/// Passwords, private keys and issued credentials never stay in a decoded workspace.
fn strip_workspace_secrets(value: &mut Value) {
    if let Some(c) = value.get_mut("connection").and_then(Value::as_object_mut) {
        for key in ["password", "privateKey", "credentials", "connectionString"] {
            c.remove(key);
        }
    }
    lenient::strip_nested_tokens(value);
}

/// A workspace as created: its password is answered only this once.
#[derive(Debug, Clone, PartialEq)]
pub struct CreatedWorkspace {
    pub workspace: Workspace,
    pub password: Option<Password>,
}

/// The body of a workspace create.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreateWorkspace {
    /// `snowflake` (Keboola's default) or `bigquery`; `None` lets the project decide.
    pub backend: Option<String>,
    pub login_type: Option<String>,
    pub read_only_storage_access: Option<bool>,
}

/// One table of a workspace load.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadInput {
    pub source: String,
    /// The table's name in the workspace; Keboola uses the table's name when `None`.
    pub destination: Option<String>,
    /// `COPY` (the default), `CLONE` or `VIEW`.
    pub load_type: Option<String>,
    /// Only these columns; empty loads every column.
    pub columns: Vec<String>,
    /// Rows whose `where_column` is (or, with `ne`, is not) one of `where_values`.
    pub where_column: Option<String>,
    pub where_values: Vec<String>,
    pub where_operator: Option<String>,
    pub overwrite: bool,
}

impl LoadInput {
    fn body(&self) -> Value {
        let mut o = Map::new();
        o.insert("source".into(), json!(self.source));
        if let Some(d) = &self.destination {
            o.insert("destination".into(), json!(d));
        }
        if let Some(t) = &self.load_type {
            o.insert("loadType".into(), json!(t));
        }
        if !self.columns.is_empty() {
            o.insert("columns".into(), json!(self.columns));
        }
        if let Some(c) = &self.where_column {
            o.insert("whereColumn".into(), json!(c));
            o.insert("whereValues".into(), json!(self.where_values));
            o.insert(
                "whereOperator".into(),
                json!(self.where_operator.as_deref().unwrap_or("eq")),
            );
        }
        if self.overwrite {
            o.insert("overwrite".into(), json!(true));
        }
        Value::Object(o)
    }
}

impl StorageClient {
    /// The branch segment: workspace calls always name their branch.
    fn ws_branch(&self) -> &str {
        self.branch().unwrap_or("default")
    }

    /// `POST /v2/storage/branch/{b}/components/keboola.sandboxes/configs`: the
    /// configuration a workspace is created under. Gives its id. Never retried.
    pub fn create_sandbox_config(
        &self,
        name: &str,
        description: &str,
        configuration: &Value,
    ) -> Result<String, ApiError> {
        let b = self.ws_branch().to_owned();
        let created: Value = self
            .call(
                Method::Post,
                &["branch", &b, "components", SANDBOXES_COMPONENT, "configs"],
            )
            .form(&[
                ("name", name),
                ("description", description),
                ("configuration", &configuration.to_string()),
            ])
            .send_json()?;
        Ok(match &created["id"] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
    }

    /// `DELETE /v2/storage/branch/{b}/components/keboola.sandboxes/configs/{id}`.
    pub fn delete_sandbox_config(&self, config_id: &str) -> Result<(), ApiError> {
        let b = self.ws_branch().to_owned();
        self.call(
            Method::Delete,
            &[
                "branch",
                &b,
                "components",
                SANDBOXES_COMPONENT,
                "configs",
                config_id,
            ],
        )
        .idempotent()
        .send()
        .map(drop)
    }

    /// `POST /v2/storage/branch/{b}/components/{c}/configs/{k}/workspaces`. Never retried.
    pub fn create_workspace(
        &self,
        component_id: &str,
        config_id: &str,
        spec: &CreateWorkspace,
    ) -> Result<CreatedWorkspace, ApiError> {
        let b = self.ws_branch().to_owned();
        let mut body = Map::new();
        if let Some(v) = &spec.backend {
            body.insert("backend".into(), json!(v));
        }
        if let Some(v) = &spec.login_type {
            body.insert("loginType".into(), json!(v));
        }
        if let Some(v) = spec.read_only_storage_access {
            body.insert("readOnlyStorageAccess".into(), json!(v));
        }
        let value: Value = self
            .call(
                Method::Post,
                &[
                    "branch",
                    &b,
                    "components",
                    component_id,
                    "configs",
                    config_id,
                    "workspaces",
                ],
            )
            .json(&Value::Object(body))
            .send_json()?;
        let password = value
            .pointer("/connection/password")
            .and_then(Value::as_str)
            .filter(|p| !p.is_empty())
            .map(Password::new);
        let workspace = Workspace::deserialize(&value).map_err(|e| {
            ApiError::invalid_response("POST", "/v2/storage/.../workspaces", e.to_string())
        })?;
        Ok(CreatedWorkspace {
            workspace,
            password,
        })
    }

    /// `GET /v2/storage/branch/{b}/workspaces`.
    pub fn list_workspaces(&self) -> Result<Vec<Workspace>, ApiError> {
        let b = self.ws_branch().to_owned();
        self.call(Method::Get, &["branch", &b, "workspaces"])
            .fetch()
    }

    /// `GET /v2/storage/branch/{b}/workspaces/{id}` (never with a password).
    pub fn get_workspace(&self, id: &str) -> Result<Workspace, ApiError> {
        let b = self.ws_branch().to_owned();
        self.call(Method::Get, &["branch", &b, "workspaces", id])
            .fetch()
    }

    /// `DELETE /v2/storage/branch/{b}/workspaces/{id}`.
    pub fn delete_workspace(&self, id: &str) -> Result<(), ApiError> {
        let b = self.ws_branch().to_owned();
        self.call(Method::Delete, &["branch", &b, "workspaces", id])
            .idempotent()
            .send()
            .map(drop)
    }

    /// `POST /v2/storage/branch/{b}/workspaces/{id}/password`: a new password. Never
    /// retried (a repeat would reset it again).
    pub fn reset_workspace_password(&self, id: &str) -> Result<Password, ApiError> {
        let b = self.ws_branch().to_owned();
        let value: Value = self
            .call(Method::Post, &["branch", &b, "workspaces", id, "password"])
            .json(&json!({}))
            .send_json()?;
        value
            .get("password")
            .and_then(Value::as_str)
            .map(Password::new)
            .ok_or_else(|| {
                ApiError::invalid_response(
                    "POST",
                    "/v2/storage/.../password",
                    "the answer has no password".to_owned(),
                )
            })
    }

    /// `POST /v2/storage/branch/{b}/workspaces/{id}/load`: starts a `workspaceLoad`
    /// storage job (wait for it with [`StorageClient::finish_job`]).
    pub fn load_workspace(
        &self,
        id: &str,
        inputs: &[LoadInput],
        preserve: bool,
    ) -> Result<StorageJob, ApiError> {
        let b = self.ws_branch().to_owned();
        let input: Vec<Value> = inputs.iter().map(LoadInput::body).collect();
        self.call(Method::Post, &["branch", &b, "workspaces", id, "load"])
            .json(&json!({"input": input, "preserve": preserve}))
            .fetch()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_stay_in_a_workspace() {
        let value = json!({"id": 7, "name": "W", "component": "keboola.sandboxes",
            "configurationId": "12", "readOnlyStorageAccess": true,
            "connection": {"backend": "snowflake", "host": "h", "user": "u", "password": "pw-SECRET"}});
        let ws: Workspace = serde_json::from_value(value).unwrap();
        assert_eq!(ws.id, "7");
        assert_eq!(ws.connection.user.as_deref(), Some("u"));
        assert!(!ws.raw.to_string().contains("pw-SECRET"));
        assert!(!format!("{ws:?}").contains("pw-SECRET"));
        let p = Password::new("pw-SECRET");
        assert_eq!(format!("{p:?}"), "Password(***)");
    }

    #[test]
    fn load_inputs_carry_filters() {
        let input = LoadInput {
            source: "in.c-a.t".into(),
            columns: vec!["id".into()],
            where_column: Some("status".into()),
            where_values: vec!["ok".into()],
            ..LoadInput::default()
        };
        assert_eq!(
            input.body(),
            json!({"source": "in.c-a.t", "columns": ["id"], "whereColumn": "status",
                   "whereValues": ["ok"], "whereOperator": "eq"})
        );
    }
}
