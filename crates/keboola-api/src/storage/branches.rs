//! Development branches: `/v2/storage/dev-branches`.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::http::Method;
use crate::lenient::{self, keep_raw};
use crate::storage::StorageClient;
use crate::storage::jobs::StorageJob;

/// A development branch; the default branch has `is_default` set.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(remote = "Self", rename_all = "camelCase")]
pub struct DevBranch {
    #[serde(deserialize_with = "lenient::uint")]
    pub id: u64,
    #[serde(default, deserialize_with = "lenient::string")]
    pub name: String,
    #[serde(default, deserialize_with = "lenient::string")]
    pub description: String,
    #[serde(default, deserialize_with = "lenient::flag")]
    pub is_default: bool,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub created: Option<String>,
    #[serde(skip)]
    pub raw: Value,
}

keep_raw!(DevBranch, lenient::strip_nested_tokens);

impl StorageClient {
    /// `GET /v2/storage/dev-branches`, including the default branch.
    pub fn list_dev_branches(&self) -> Result<Vec<DevBranch>, ApiError> {
        self.call(Method::Get, &["dev-branches"]).fetch()
    }

    /// `GET /v2/storage/dev-branches/{id}`.
    pub fn get_dev_branch(&self, id: &str) -> Result<DevBranch, ApiError> {
        self.call(Method::Get, &["dev-branches", id]).fetch()
    }

    /// `POST /v2/storage/dev-branches {name, description}`: the `devBranchCreate` job whose
    /// `results` is the new branch (see [`StorageClient::finish_job`] and
    /// [`DevBranch::from_job`]). Never retried: a lost answer may still create the branch.
    pub fn create_dev_branch(&self, name: &str, description: &str) -> Result<StorageJob, ApiError> {
        self.call(Method::Post, &["dev-branches"])
            .json(&json!({"name": name, "description": description}))
            .fetch()
    }

    /// `DELETE /v2/storage/dev-branches/{id}`: the `devBranchDelete` job. Keboola refuses
    /// the default branch (400).
    pub fn delete_dev_branch(&self, id: &str) -> Result<StorageJob, ApiError> {
        self.call(Method::Delete, &["dev-branches", id]).fetch()
    }
}

impl DevBranch {
    /// The branch a finished `devBranchCreate` job reports in its `results`.
    pub fn from_job(job: &StorageJob) -> Result<DevBranch, ApiError> {
        lenient::decode(job.results.clone().unwrap_or(Value::Null)).map_err(|e| {
            ApiError::invalid_response(
                "GET",
                &format!("/v2/storage/jobs/{}", job.id),
                format!("the job's results are not a branch: {e}"),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn dev_branches_decode() {
        let list = lenient::decode::<Vec<DevBranch>>(
            json!([{"id":123,"name":"My branch","isDefault":false,"creatorToken":{"id":267}},
                   {"id":"5","name":"Main","isDefault":true,"creatorToken":[]}]),
        )
        .unwrap();
        assert_eq!(list[0].id, 123);
        assert!(!list[0].is_default);
        assert_eq!(list[1].id, 5);
        assert!(list[1].is_default);
        assert_eq!(list[1].raw["creatorToken"], json!([]));
        assert!(lenient::decode::<Vec<DevBranch>>(json!({"id":1})).is_err());
    }
}
