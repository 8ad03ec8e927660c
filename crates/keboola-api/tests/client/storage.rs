//! Storage API calls: paths, headers, bodies and decoding.

use keboola_api::{ApiErrorKind, ComponentsQuery, CreateTokenRequest, Http, StorageClient};
use serde_json::json;

use crate::server::{Server, Step, json, response};
use crate::{SECRET, USER_AGENT, assert_no_secret, config, storage, token};

const MASTER_VERIFY: &str = r#"{"id":"44","token":"58-44-460300c259ec3fcba4b95d1d5c14a8419268bc2b",
 "description":"john@example.com","created":"2017-02-13T10:27:50+0100",
 "isMasterToken":true,"canManageBuckets":true,"canManageTokens":true,
 "canReadAllFileUploads":true,"canPurgeTrash":true,"expires":null,"isExpired":false,"isDisabled":false,
 "bucketPermissions":{"in.c-test":"manage"},"componentAccess":[],
 "admin":{"id":124,"name":"John Doe","features":[],"isOrganizationMember":true,"role":"admin","isActivated":false},
 "adminOwner":{"id":124,"name":"John Doe","email":"john@example.com"},
 "organization":{"id":"73"},
 "owner":{"id":58,"name":"Buckets 5","type":"production","region":"us-east-1","features":["x"],
   "defaultBackend":"snowflake","dataSizeBytes":112128,"rowsCount":1036,"limits":{},"metrics":{}}}"#;

const CHILD_VERIFY: &str = r#"{"id":"45","description":"Created by john@example.com",
 "isMasterToken":false,"canManageBuckets":false,"canManageTokens":false,
 "canReadAllFileUploads":false,"canPurgeTrash":false,"expires":"2030-01-01T00:00:00+0100",
 "isExpired":false,"isDisabled":false,"bucketPermissions":[],
 "creatorToken":{"id":44,"description":"john@example.com"},
 "organization":{"id":73},"owner":{"id":58,"name":"Buckets 5"}}"#;

#[test]
fn verify_sends_the_expected_headers_and_decodes_a_master_token() {
    let server = Server::start(vec![json(200, MASTER_VERIFY)]);
    let info = storage(&server).verify().unwrap();
    assert_eq!(info.id, "44");
    assert!(info.is_master_token);
    assert_eq!(
        info.admin.as_ref().map(|a| a.role.as_deref()),
        Some(Some("admin"))
    );
    assert_eq!(info.organization_id, Some(73));
    assert_eq!(info.owner.as_ref().map(|o| o.id), Some(58));
    assert!(
        info.raw.get("token").is_none(),
        "the secret must not be kept in raw"
    );

    let req = server.only_request();
    assert_eq!(req.method, "GET");
    assert_eq!(req.target, "/v2/storage/tokens/verify");
    assert_eq!(req.header("X-StorageApi-Token"), Some(SECRET));
    assert_eq!(req.header("User-Agent"), Some(USER_AGENT));
    assert_eq!(req.header("Accept"), Some("application/json"));
    assert!(
        req.header("Accept-Encoding")
            .is_some_and(|v| v.contains("gzip")),
        "{req:?}"
    );
    assert!(req.header("X-KBC-ManageApiToken").is_none());
}

#[test]
fn verify_decodes_a_non_master_token() {
    let server = Server::start(vec![json(200, CHILD_VERIFY)]);
    let info = storage(&server).verify().unwrap();
    assert_eq!(info.id, "45");
    assert!(!info.is_master_token && !info.can_manage_tokens);
    assert!(info.admin.is_none());
    assert!(info.bucket_permissions.is_empty());
    assert!(info.component_access.is_empty());
    assert_eq!(info.creator_token.as_ref().map(|c| c.id), Some(44));
    assert_eq!(info.organization_id, Some(73));
    assert_eq!(info.expires.as_deref(), Some("2030-01-01T00:00:00+0100"));
}

#[test]
fn index_is_fetched_without_a_token() {
    let server = Server::start(vec![json(
        200,
        r#"{"api":"storage","services":[{"id":"queue","url":"https://queue.example"}],"features":["f"]}"#,
    )]);
    let index = storage(&server).index().unwrap();
    assert_eq!(index.service_url("queue"), Some("https://queue.example"));
    let req = server.only_request();
    assert_eq!(req.target, "/v2/storage?exclude=components");
    assert!(req.header("X-StorageApi-Token").is_none());
    assert!(!req.raw_text().contains(SECRET));
}

#[test]
fn list_and_get_tokens() {
    let list = format!("[{MASTER_VERIFY},{CHILD_VERIFY}]");
    let server = Server::start(vec![json(200, &list), json(200, CHILD_VERIFY)]);
    let client = storage(&server);
    let tokens = client.list_tokens().unwrap();
    assert_eq!(
        tokens.iter().map(|t| t.id.as_str()).collect::<Vec<_>>(),
        ["44", "45"]
    );
    assert!(tokens.iter().all(|t| t.raw.get("token").is_none()));
    let one = client.get_token("45").unwrap();
    assert_eq!(one.id, "45");
    let requests = server.wait_for_requests(2);
    assert_eq!(requests[0].target, "/v2/storage/tokens");
    assert_eq!(requests[1].target, "/v2/storage/tokens/45");
}

#[test]
fn ids_are_escaped_into_a_single_path_segment() {
    let server = Server::start(vec![json(200, CHILD_VERIFY)]);
    storage(&server).get_token("a/b c?d#e%").unwrap();
    assert_eq!(
        server.only_request().target,
        "/v2/storage/tokens/a%2Fb%20c%3Fd%23e%25"
    );
}

#[test]
fn dot_and_empty_ids_are_refused_without_a_request() {
    let server = Server::start(vec![]);
    let client = storage(&server);
    for id in ["..", ".", ""] {
        let err = client.get_token(id).unwrap_err();
        assert_eq!(err.kind(), &ApiErrorKind::Config, "{id:?}");
        let err = client.delete_token(id).unwrap_err();
        assert_eq!(err.kind(), &ApiErrorKind::Config, "{id:?}");
        assert_no_secret(&err);
    }
    let err = client.get_configuration(Some(".."), "c", "1").unwrap_err();
    assert_eq!(err.kind(), &ApiErrorKind::Config);
    assert!(server.requests().is_empty());
}

#[test]
fn create_token_posts_json_and_never_sends_can_manage_tokens() {
    let created = r#"{"id":"46","token":"901-46-newsecretvalue0123456789abcdef","description":"ci",
        "isMasterToken":false,"canManageTokens":false,"componentAccess":["wr-db"],"bucketPermissions":[],
        "creatorToken":{"id":12345,"description":"me"}}"#;
    let server = Server::start(vec![json(201, created)]);
    let request = CreateTokenRequest {
        description: Some("ci".into()),
        expires_in: Some(3600),
        component_access: vec!["wr-db".into()],
        bucket_permissions: [("in.c-main".to_owned(), "read".to_owned())].into(),
        can_manage_buckets: true,
        can_manage_tokens: true,
        can_read_all_project_events: true,
        can_manage_dev_branches: true,
        ..CreateTokenRequest::default()
    };
    let new = storage(&server).create_token(&request).unwrap();
    assert_eq!(new.secret.expose(), "901-46-newsecretvalue0123456789abcdef");
    assert_eq!(new.info.id, "46");
    assert!(new.info.raw.get("token").is_none());
    let debug = format!("{new:?}");
    assert!(!debug.contains("newsecretvalue"), "{debug}");

    let req = server.only_request();
    assert_eq!(req.method, "POST");
    assert_eq!(req.target, "/v2/storage/tokens");
    assert!(
        req.header("Content-Type")
            .is_some_and(|v| v.starts_with("application/json"))
    );
    let body = req.json();
    assert_eq!(
        body,
        json!({"description":"ci","expiresIn":3600,"componentAccess":["wr-db"],
               "bucketPermissions":{"in.c-main":"read"},"canManageBuckets":true})
    );
    assert!(body.get("canManageTokens").is_none());
}

#[test]
fn refresh_and_delete() {
    let refreshed = r#"{"id":"46","token":"901-46-anothersecret0123456789abcdef","refreshed":"2024-01-01T00:00:00+0100"}"#;
    let server = Server::start(vec![
        json(200, refreshed),
        Step::Respond(response(204, &[], "")),
    ]);
    let client = storage(&server);
    let new = client.refresh_token("46").unwrap();
    assert_eq!(new.secret.expose(), "901-46-anothersecret0123456789abcdef");
    assert_eq!(
        new.info.refreshed.as_deref(),
        Some("2024-01-01T00:00:00+0100")
    );
    client.delete_token("46").unwrap();
    let requests = server.wait_for_requests(2);
    assert_eq!(
        (requests[0].method.as_str(), requests[0].target.as_str()),
        ("POST", "/v2/storage/tokens/46/refresh")
    );
    assert_eq!(
        (requests[1].method.as_str(), requests[1].target.as_str()),
        ("DELETE", "/v2/storage/tokens/46")
    );
    assert!(
        requests
            .iter()
            .all(|r| r.header("X-StorageApi-Token") == Some(SECRET))
    );
}

#[test]
fn create_answer_without_a_token_is_an_invalid_response() {
    let server = Server::start(vec![json(201, r#"{"id":"46"}"#)]);
    let err = storage(&server)
        .create_token(&CreateTokenRequest::default())
        .unwrap_err();
    assert_eq!(err.kind(), &ApiErrorKind::InvalidResponse);
    assert!(!err.retryable());
    assert_eq!(server.only_request().json(), json!({}));
}

#[test]
fn components_query_and_branch() {
    let body = r#"[{"id":"keboola.ex-db-mysql","type":"extractor","name":"MySQL",
        "configurations":[{"id":"1","name":"A","rows":[{"id":"r"}]}]}]"#;
    let server = Server::start(vec![json(200, body), json(200, "[]")]);
    let client = storage(&server);
    let components = client
        .list_components(&ComponentsQuery {
            branch: Some("123".into()),
            component_type: Some("extractor".into()),
            include_rows: true,
        })
        .unwrap();
    assert_eq!(
        components[0].configurations[0].rows.as_ref().map(Vec::len),
        Some(1)
    );
    assert!(
        client
            .list_components(&ComponentsQuery::default())
            .unwrap()
            .is_empty()
    );
    let requests = server.wait_for_requests(2);
    assert_eq!(requests[0].path(), "/v2/storage/branch/123/components");
    assert_eq!(
        requests[0].query(),
        Some("include=configuration%2Crows&componentType=extractor")
    );
    assert_eq!(
        requests[1].target,
        "/v2/storage/branch/default/components?include=configuration"
    );
}

#[test]
fn component_type_is_query_encoded() {
    let server = Server::start(vec![json(200, "[]")]);
    storage(&server)
        .list_components(&ComponentsQuery {
            component_type: Some("a&b=c #".into()),
            ..ComponentsQuery::default()
        })
        .unwrap();
    assert_eq!(
        server.only_request().query(),
        Some("include=configuration&componentType=a%26b%3Dc+%23")
    );
}

#[test]
fn get_configuration_returns_the_raw_body() {
    let body = r##"{"id":"77","name":"cfg","configuration":{"parameters":{"#password":"KBC::ProjectSecure::x"}},"rows":[]}"##;
    let server = Server::start(vec![json(200, body)]);
    let cfg = storage(&server)
        .get_configuration(None, "keboola.ex-db-mysql", "77")
        .unwrap();
    assert_eq!(
        cfg["configuration"]["parameters"]["#password"],
        "KBC::ProjectSecure::x"
    );
    assert_eq!(
        server.only_request().target,
        "/v2/storage/branch/default/components/keboola.ex-db-mysql/configs/77"
    );
}

#[test]
fn dev_branches() {
    let body = r#"[{"id":123,"name":"My branch","isDefault":false},{"id":5,"name":"Main","isDefault":true,"creatorToken":[]}]"#;
    let server = Server::start(vec![json(200, body)]);
    let branches = storage(&server).list_dev_branches().unwrap();
    assert_eq!(branches.len(), 2);
    assert!(branches[1].is_default);
    assert_eq!(server.only_request().target, "/v2/storage/dev-branches");
}

#[test]
fn a_stack_url_with_a_path_still_targets_the_root() {
    let server = Server::start(vec![json(200, CHILD_VERIFY)]);
    let stack = keboola_api::StackUrl::parse(&format!("{}/v2/storage/", server.url())).unwrap();
    let http = Http::new(config()).unwrap();
    StorageClient::new(&http, &stack, &token())
        .verify()
        .unwrap();
    assert_eq!(server.only_request().target, "/v2/storage/tokens/verify");
}

#[test]
fn debug_output_never_shows_the_token() {
    let server = Server::start(vec![]);
    let client = storage(&server);
    let http = Http::new(config()).unwrap();
    let shown = format!("{client:?} {client:#?} {http:?}");
    assert!(!shown.contains(SECRET), "{shown}");
    assert!(shown.contains("Token(901-...zxcv)"), "{shown}");
}
