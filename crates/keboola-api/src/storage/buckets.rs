//! Buckets: `/v2/storage/[branch/{b}/]buckets`.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::http::Method;
use crate::lenient::{self, keep_raw};
use crate::storage::StorageClient;
use crate::storage::jobs::{self, StorageJob};
use crate::storage::metadata::{self, Metadata, MetadataEntry};

/// A bucket as listed or in detail.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(remote = "Self", rename_all = "camelCase")]
pub struct Bucket {
    #[serde(deserialize_with = "lenient::id")]
    pub id: String,
    #[serde(default, deserialize_with = "lenient::string")]
    pub name: String,
    #[serde(default, deserialize_with = "lenient::string")]
    pub display_name: String,
    #[serde(default, deserialize_with = "lenient::string")]
    pub stage: String,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub backend: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_uint")]
    pub rows_count: Option<u64>,
    #[serde(default, deserialize_with = "lenient::opt_uint")]
    pub data_size_bytes: Option<u64>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub created: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub last_change_date: Option<String>,
    #[serde(default, deserialize_with = "lenient::flag")]
    pub is_read_only: bool,
    #[serde(default, deserialize_with = "lenient::flag")]
    pub is_linked_bucket: bool,
    #[serde(default, deserialize_with = "lenient::present")]
    pub source_bucket: Option<Value>,
    #[serde(default, deserialize_with = "metadata::entries")]
    pub metadata: Vec<Metadata>,
    /// The bucket as received.
    #[serde(skip)]
    pub raw: Value,
}

keep_raw!(Bucket, lenient::strip_nested_tokens);

/// The body of [`StorageClient::create_bucket`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateBucket {
    /// Without the `c-` prefix: `{"name":"main","stage":"in"}` is `in.c-main`.
    pub name: String,
    /// `in` or `out`.
    pub stage: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backend: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
}

impl StorageClient {
    /// `GET {sp}/buckets[?include=...]`, with `include` such as `metadata`,
    /// `linkedBuckets`.
    pub fn list_buckets(&self, include: &[&str]) -> Result<Vec<Bucket>, ApiError> {
        let mut call = self.scoped(Method::Get, &["buckets"]);
        if !include.is_empty() {
            call = call.query("include", &include.join(","));
        }
        call.fetch()
    }

    /// `GET {sp}/buckets/{id}`.
    pub fn get_bucket(&self, id: &str) -> Result<Bucket, ApiError> {
        self.scoped(Method::Get, &["buckets", id]).fetch()
    }

    /// `POST {sp}/buckets` (JSON); answers with the new bucket.
    pub fn create_bucket(&self, bucket: &CreateBucket) -> Result<Bucket, ApiError> {
        self.scoped(Method::Post, &["buckets"]).json(bucket).fetch()
    }

    /// `DELETE {sp}/buckets/{id}?async=1[&force=1]`: the job that deletes it (wait for
    /// it with [`StorageClient::finish_job`]), or `None` when the server deleted it at
    /// once (204). `force` also deletes its tables.
    pub fn delete_bucket(&self, id: &str, force: bool) -> Result<Option<StorageJob>, ApiError> {
        let mut call = self
            .scoped(Method::Delete, &["buckets", id])
            .query("async", "1");
        if force {
            call = call.query("force", "1");
        }
        jobs::job_or_done(call)
    }

    /// `POST {sp}/buckets/{id}/metadata` (JSON `{provider, metadata:[{key,value}]}`);
    /// answers with all of the bucket's metadata.
    pub fn set_bucket_metadata(
        &self,
        id: &str,
        provider: &str,
        entries: &[MetadataEntry],
    ) -> Result<Vec<Metadata>, ApiError> {
        self.scoped(Method::Post, &["buckets", id, "metadata"])
            .json(&json!({"provider": provider, "metadata": entries}))
            .fetch()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::storage::metadata::metadata_value;

    #[test]
    fn buckets_decode() {
        let b: Bucket = serde_json::from_value(json!({"id":"in.c-main","name":"c-main","displayName":"main",
            "stage":"in","backend":"snowflake","rowsCount":"10","dataSizeBytes":1024,"isReadOnly":0,
            "metadata":[{"id":"19509","key":"KBC.description","value":"Main","provider":"user","timestamp":"2017-02-13 23:36:10"}],
            "sharing":null}))
        .unwrap();
        assert_eq!(b.rows_count, Some(10));
        assert_eq!(metadata_value(&b.metadata, "KBC.description"), Some("Main"));
        assert_eq!(b.raw["sharing"], Value::Null);
        let bare: Bucket = serde_json::from_value(json!({"id":"out.c-x","metadata":[]})).unwrap();
        assert!(bare.metadata.is_empty() && bare.backend.is_none());
    }
}
