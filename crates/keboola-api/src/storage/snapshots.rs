//! Table snapshots (`{sp}/tables/{id}/snapshots`, `/v2/storage/snapshots/{id}`, restore
//! through `{sp}/buckets/{id}/tables-async`) and table swap (`{sp}/tables/{id}/swap`).

use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::http::Method;
use crate::lenient::{self, keep_raw};
use crate::storage::StorageClient;
use crate::storage::jobs::{self, StorageJob};

/// The table a snapshot was taken of, as it was then.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotTable {
    #[serde(default, deserialize_with = "lenient::string")]
    pub id: String,
    #[serde(default, deserialize_with = "lenient::string")]
    pub name: String,
    #[serde(default, deserialize_with = "lenient::strings")]
    pub columns: Vec<String>,
    #[serde(default, deserialize_with = "lenient::strings")]
    pub primary_key: Vec<String>,
}

/// A table snapshot.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(remote = "Self", rename_all = "camelCase")]
pub struct TableSnapshot {
    #[serde(deserialize_with = "lenient::id")]
    pub id: String,
    #[serde(default, deserialize_with = "lenient::string")]
    pub description: String,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub created_time: Option<String>,
    #[serde(default, deserialize_with = "lenient::block")]
    pub table: Option<SnapshotTable>,
    /// The snapshot as received, without token secrets.
    #[serde(skip)]
    pub raw: Value,
}

keep_raw!(TableSnapshot, lenient::strip_nested_tokens);

impl StorageClient {
    /// `POST {sp}/tables/{id}/swap` (`targetTableId`): the job after which the two tables
    /// have exchanged their data and columns (their ids stay).
    pub fn swap_tables(&self, table: &str, target: &str) -> Result<StorageJob, ApiError> {
        self.scoped(Method::Post, &["tables", table, "swap"])
            .json(&json!({"targetTableId": target}))
            .fetch()
    }

    /// `POST {sp}/tables/{id}/snapshots`: the job whose `results.id` is the new snapshot.
    pub fn create_snapshot(
        &self,
        table: &str,
        description: Option<&str>,
    ) -> Result<StorageJob, ApiError> {
        let mut body = json!({});
        if let Some(d) = description {
            body["description"] = json!(d);
        }
        self.scoped(Method::Post, &["tables", table, "snapshots"])
            .json(&body)
            .fetch()
    }

    /// `GET {sp}/tables/{id}/snapshots[?limit=]`: newest first.
    pub fn list_snapshots(
        &self,
        table: &str,
        limit: Option<u32>,
    ) -> Result<Vec<TableSnapshot>, ApiError> {
        let mut call = self.scoped(Method::Get, &["tables", table, "snapshots"]);
        if let Some(limit) = limit {
            call = call.query("limit", &limit.to_string());
        }
        call.fetch()
    }

    /// `GET /v2/storage/snapshots/{id}`.
    pub fn get_snapshot(&self, id: &str) -> Result<TableSnapshot, ApiError> {
        self.call(Method::Get, &["snapshots", id]).fetch()
    }

    /// `DELETE /v2/storage/snapshots/{id}`: the deleting job, or `None` when done at once.
    pub fn delete_snapshot(&self, id: &str) -> Result<Option<StorageJob>, ApiError> {
        jobs::job_or_done(self.call(Method::Delete, &["snapshots", id]))
    }

    /// `POST {sp}/buckets/{bucket}/tables-async` with `snapshotId`: the `tableCreate` job
    /// whose `results` is the new table.
    pub fn create_table_from_snapshot(
        &self,
        bucket: &str,
        snapshot: &str,
        name: &str,
    ) -> Result<StorageJob, ApiError> {
        self.scoped(Method::Post, &["buckets", bucket, "tables-async"])
            .json(&json!({"snapshotId": snapshot, "name": name}))
            .fetch()
    }
}
