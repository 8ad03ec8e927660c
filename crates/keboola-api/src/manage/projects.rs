//! Projects: `/manage/projects/...`.

use serde::Deserialize;
use serde_json::Value;

use crate::error::ApiError;
use crate::http::Method;
use crate::lenient::{self, keep_raw};
use crate::manage::ManageClient;

/// A project as the Manage API describes it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(remote = "Self")]
pub struct ManageProject {
    #[serde(deserialize_with = "lenient::uint")]
    pub id: u64,
    #[serde(default, deserialize_with = "lenient::string")]
    pub name: String,
    #[serde(default, deserialize_with = "lenient::block")]
    pub organization: Option<ManageOrganization>,
    #[serde(skip)]
    pub raw: Value,
}

keep_raw!(ManageProject, lenient::strip_nested_tokens);

/// The organization a project belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ManageOrganization {
    #[serde(deserialize_with = "lenient::uint")]
    pub id: u64,
    #[serde(default, deserialize_with = "lenient::string")]
    pub name: String,
}

impl ManageClient {
    /// `GET /manage/projects/{id}`.
    pub fn get_project(&self, project_id: u64) -> Result<ManageProject, ApiError> {
        let id = project_id.to_string();
        self.call(Method::Get, &["projects", &id]).fetch()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn manage_project_decodes() {
        let project: ManageProject = serde_json::from_value(
            json!({"id":"58","name":"Prod","organization":{"id":"73","name":"Acme","allowAutoJoin":true}}),
        )
        .unwrap();
        assert_eq!(project.id, 58);
        assert_eq!(
            project.organization,
            Some(ManageOrganization {
                id: 73,
                name: "Acme".into()
            })
        );
        assert_eq!(project.raw["organization"]["allowAutoJoin"], true);
        assert!(serde_json::from_value::<ManageProject>(json!({"name":"x"})).is_err());
    }
}
