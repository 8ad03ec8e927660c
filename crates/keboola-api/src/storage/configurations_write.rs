//! Configuration writes: create, update, trash and restore, versions, rows and state,
//! under `/v2/storage/branch/{branch|default}/components/{c}/configs`.
//!
//! None of these is retried: POSTs never are, and the PUTs make a new version each time,
//! so a retry after a lost answer could write twice. The Storage API has no conditional
//! write (no version check on PUT); callers that must not overwrite a concurrent change
//! compare `version` before and after.

use serde_json::Value;

use crate::error::ApiError;
use crate::http::{Method, RequestBuilder};
use crate::storage::StorageClient;

/// The fields of a configuration or row write; `None` leaves a field as it is (on
/// create: Keboola's default). Sent form-encoded, `configuration` as a JSON string, the
/// way Keboola's own clients send it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConfigurationWrite {
    pub name: Option<String>,
    pub description: Option<String>,
    pub configuration: Option<Value>,
    pub change_description: Option<String>,
    pub is_disabled: Option<bool>,
    /// On create: the id to use (Keboola picks one when absent). For a row: `rowId`.
    pub id: Option<String>,
}

impl ConfigurationWrite {
    fn form(&self, id_key: &str) -> Vec<(&'static str, String)> {
        let mut pairs: Vec<(&'static str, String)> = Vec::new();
        let key = if id_key == "rowId" {
            "rowId"
        } else {
            "configurationId"
        };
        if let Some(id) = &self.id {
            pairs.push((key, id.clone()));
        }
        if let Some(n) = &self.name {
            pairs.push(("name", n.clone()));
        }
        if let Some(d) = &self.description {
            pairs.push(("description", d.clone()));
        }
        if let Some(c) = &self.configuration {
            pairs.push(("configuration", c.to_string()));
        }
        if let Some(d) = &self.change_description {
            pairs.push(("changeDescription", d.clone()));
        }
        if let Some(b) = self.is_disabled {
            pairs.push(("isDisabled", if b { "1" } else { "0" }.to_owned()));
        }
        pairs
    }
}

impl StorageClient {
    fn configs_call(
        &self,
        method: Method,
        branch: Option<&str>,
        component_id: &str,
        tail: &[&str],
    ) -> RequestBuilder<'_> {
        let mut path = vec![
            "branch",
            branch.unwrap_or("default"),
            "components",
            component_id,
            "configs",
        ];
        path.extend_from_slice(tail);
        self.call(method, &path)
    }

    /// `POST .../configs`: creates a configuration and returns it (version 1).
    pub fn create_configuration(
        &self,
        branch: Option<&str>,
        component_id: &str,
        write: &ConfigurationWrite,
    ) -> Result<Value, ApiError> {
        self.configs_call(Method::Post, branch, component_id, &[])
            .form(&write.form("configurationId"))
            .send_json()
    }

    /// `PUT .../configs/{id}`: replaces the given fields (the whole `configuration` when
    /// given) and returns the configuration with its new `version`.
    pub fn update_configuration(
        &self,
        branch: Option<&str>,
        component_id: &str,
        config_id: &str,
        write: &ConfigurationWrite,
    ) -> Result<Value, ApiError> {
        let mut write = write.clone();
        write.id = None;
        self.configs_call(Method::Put, branch, component_id, &[config_id])
            .form(&write.form("configurationId"))
            .send_json()
    }

    /// `DELETE .../configs/{id}`: a live configuration goes to the trash; one already in
    /// the trash is purged for good.
    pub fn delete_configuration(
        &self,
        branch: Option<&str>,
        component_id: &str,
        config_id: &str,
    ) -> Result<(), ApiError> {
        self.configs_call(Method::Delete, branch, component_id, &[config_id])
            .send()
            .map(drop)
    }

    /// `POST .../configs/{id}/restore`: out of the trash; returns the configuration.
    pub fn restore_configuration(
        &self,
        branch: Option<&str>,
        component_id: &str,
        config_id: &str,
    ) -> Result<Value, ApiError> {
        self.configs_call(Method::Post, branch, component_id, &[config_id, "restore"])
            .send_json()
    }

    /// `GET .../configs?isDeleted=true`: the component's configurations in the trash.
    pub fn list_deleted_configurations(
        &self,
        branch: Option<&str>,
        component_id: &str,
    ) -> Result<Vec<Value>, ApiError> {
        self.configs_call(Method::Get, branch, component_id, &[])
            .query("isDeleted", "true")
            .fetch()
    }

    /// `GET .../components?include=configuration&isDeleted=true`: every component with
    /// configurations in the trash, each with its `configurations`.
    pub fn list_deleted_configurations_by_component(
        &self,
        branch: Option<&str>,
    ) -> Result<Vec<Value>, ApiError> {
        self.call(
            Method::Get,
            &["branch", branch.unwrap_or("default"), "components"],
        )
        .query("include", "configuration")
        .query("isDeleted", "true")
        .fetch()
    }

    /// `GET .../configs/{id}/versions`: newest first, without bodies.
    pub fn configuration_versions(
        &self,
        branch: Option<&str>,
        component_id: &str,
        config_id: &str,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<Value>, ApiError> {
        self.configs_call(Method::Get, branch, component_id, &[config_id, "versions"])
            .query("limit", &limit.to_string())
            .query("offset", &offset.to_string())
            .fetch()
    }

    /// `GET .../configs/{id}/versions/{v}`: one version with its body and rows.
    pub fn configuration_version(
        &self,
        branch: Option<&str>,
        component_id: &str,
        config_id: &str,
        version: u64,
    ) -> Result<Value, ApiError> {
        let v = version.to_string();
        self.configs_call(
            Method::Get,
            branch,
            component_id,
            &[config_id, "versions", &v],
        )
        .send_json()
    }

    /// `POST .../versions/{v}/rollback`: a new version equal to version `v` (the state is
    /// kept).
    pub fn rollback_configuration(
        &self,
        branch: Option<&str>,
        component_id: &str,
        config_id: &str,
        version: u64,
        change_description: Option<&str>,
    ) -> Result<Value, ApiError> {
        let v = version.to_string();
        let form: Vec<(&str, &str)> = change_description
            .map(|d| vec![("changeDescription", d)])
            .unwrap_or_default();
        self.configs_call(
            Method::Post,
            branch,
            component_id,
            &[config_id, "versions", &v, "rollback"],
        )
        .form(&form)
        .send_json()
    }

    /// `POST .../versions/{v}/create`: a new configuration copied from version `v` (rows
    /// too, state empty); returns the copy.
    pub fn copy_configuration_version(
        &self,
        branch: Option<&str>,
        component_id: &str,
        config_id: &str,
        version: u64,
        write: &ConfigurationWrite,
    ) -> Result<Value, ApiError> {
        let v = version.to_string();
        self.configs_call(
            Method::Post,
            branch,
            component_id,
            &[config_id, "versions", &v, "create"],
        )
        .form(&write.form("configurationId"))
        .send_json()
    }

    /// `PUT .../configs/{id}/state` with `{"state": state}`; the version stays.
    pub fn set_configuration_state(
        &self,
        branch: Option<&str>,
        component_id: &str,
        config_id: &str,
        state: &Value,
    ) -> Result<Value, ApiError> {
        self.configs_call(Method::Put, branch, component_id, &[config_id, "state"])
            .json(&serde_json::json!({ "state": state }))
            .send_json()
    }

    /// `PUT .../configs/{id}/rows/{row}/state` with `{"state": state}`: returns the row;
    /// no version changes.
    pub fn set_configuration_row_state(
        &self,
        branch: Option<&str>,
        component_id: &str,
        config_id: &str,
        row_id: &str,
        state: &Value,
    ) -> Result<Value, ApiError> {
        self.configs_call(
            Method::Put,
            branch,
            component_id,
            &[config_id, "rows", row_id, "state"],
        )
        .json(&serde_json::json!({ "state": state }))
        .send_json()
    }

    /// `POST .../configs/{id}/rows`: creates a row and returns it.
    pub fn create_configuration_row(
        &self,
        branch: Option<&str>,
        component_id: &str,
        config_id: &str,
        write: &ConfigurationWrite,
    ) -> Result<Value, ApiError> {
        self.configs_call(Method::Post, branch, component_id, &[config_id, "rows"])
            .form(&write.form("rowId"))
            .send_json()
    }

    /// `GET .../configs/{id}/rows/{row}`.
    pub fn get_configuration_row(
        &self,
        branch: Option<&str>,
        component_id: &str,
        config_id: &str,
        row_id: &str,
    ) -> Result<Value, ApiError> {
        self.configs_call(
            Method::Get,
            branch,
            component_id,
            &[config_id, "rows", row_id],
        )
        .send_json()
    }

    /// `PUT .../configs/{id}/rows/{row}`: returns the row.
    pub fn update_configuration_row(
        &self,
        branch: Option<&str>,
        component_id: &str,
        config_id: &str,
        row_id: &str,
        write: &ConfigurationWrite,
    ) -> Result<Value, ApiError> {
        let mut write = write.clone();
        write.id = None;
        self.configs_call(
            Method::Put,
            branch,
            component_id,
            &[config_id, "rows", row_id],
        )
        .form(&write.form("rowId"))
        .send_json()
    }

    /// `DELETE .../configs/{id}/rows/{row}`: the row is gone for good.
    pub fn delete_configuration_row(
        &self,
        branch: Option<&str>,
        component_id: &str,
        config_id: &str,
        row_id: &str,
    ) -> Result<(), ApiError> {
        self.configs_call(
            Method::Delete,
            branch,
            component_id,
            &[config_id, "rows", row_id],
        )
        .send()
        .map(drop)
    }
}
