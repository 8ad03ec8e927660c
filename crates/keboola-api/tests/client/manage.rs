//! Manage API calls.

use keboola_api::CreateTokenRequest;
use serde_json::json;

use crate::server::{Server, json};
use crate::{MANAGE_SECRET, SECRET, assert_no_secret, manage};

#[test]
fn verify_uses_the_manage_header() {
    let body = r#"{"id":13702,"description":"Example token","type":"admin","expires":null,"isExpired":false,
        "user":{"id":7919,"name":"John Doe","email":"john.doe@keboola.com"}}"#;
    let server = Server::start(vec![json(200, body)]);
    let info = manage(&server).verify().unwrap();
    assert_eq!(info.id, Some(13702));
    assert_eq!(
        info.user.as_ref().map(|u| u.email.as_str()),
        Some("john.doe@keboola.com")
    );
    let req = server.only_request();
    assert_eq!(req.target, "/manage/tokens/verify");
    assert_eq!(req.header("X-KBC-ManageApiToken"), Some(MANAGE_SECRET));
    assert!(req.header("X-StorageApi-Token").is_none());
}

#[test]
fn get_project() {
    let body =
        r#"{"id":58,"name":"Prod","organization":{"id":"73","name":"Acme"},"region":"us-east-1"}"#;
    let server = Server::start(vec![json(200, body)]);
    let project = manage(&server).get_project(58).unwrap();
    assert_eq!(project.name, "Prod");
    assert_eq!(project.organization.as_ref().map(|o| o.id), Some(73));
    assert_eq!(project.raw["region"], "us-east-1");
    assert_eq!(server.only_request().target, "/manage/projects/58");
}

#[test]
fn create_project_token_sends_can_manage_tokens_when_set() {
    let created = r#"{"id":"99","token":"58-99-mintedsecret0123456789abcdef","isMasterToken":false,"canManageTokens":true}"#;
    let server = Server::start(vec![json(201, created), json(201, created)]);
    let client = manage(&server);
    let request = CreateTokenRequest {
        description: Some("kbagent".into()),
        can_manage_tokens: true,
        can_manage_buckets: true,
        can_read_all_project_events: true,
        can_manage_dev_branches: true,
        ..CreateTokenRequest::default()
    };
    let new = client.create_project_token(58, &request).unwrap();
    assert_eq!(new.secret.expose(), "58-99-mintedsecret0123456789abcdef");
    assert!(new.info.can_manage_tokens && !new.info.is_master_token);
    client
        .create_project_token(
            58,
            &CreateTokenRequest {
                description: Some("plain".into()),
                ..CreateTokenRequest::default()
            },
        )
        .unwrap();

    let requests = server.wait_for_requests(2);
    assert_eq!(
        (requests[0].method.as_str(), requests[0].target.as_str()),
        ("POST", "/manage/projects/58/tokens")
    );
    assert_eq!(
        requests[0].json(),
        json!({"description":"kbagent","canManageBuckets":true,"canManageTokens":true,
               "canReadAllProjectEvents":true,"canManageDevBranches":true})
    );
    assert_eq!(requests[1].json(), json!({"description":"plain"}));
    assert!(requests.iter().all(|r| !r.raw_text().contains(SECRET)));
}

#[test]
fn manage_errors_are_decoded() {
    let server = Server::start(vec![json(
        403,
        r#"{"error":"You don't have access to project","code":"manage.accessDenied"}"#,
    )]);
    let err = manage(&server)
        .create_project_token(1, &CreateTokenRequest::default())
        .unwrap_err();
    assert_eq!(err.status(), Some(403));
    assert_eq!(err.api_message(), Some("You don't have access to project"));
    assert_eq!(err.method(), "POST");
    assert_eq!(err.url_path(), "/manage/projects/1/tokens");
    assert_no_secret(&err);
}
