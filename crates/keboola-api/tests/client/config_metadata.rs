//! Configuration metadata: the folder search, reading and writing entries.

use keboola_api::{FOLDER_METADATA_KEY, MetadataEntry, metadata_value};
use serde_json::json;

use crate::server::{Server, json};
use crate::storage;

#[test]
fn folder_search_sends_the_keys_and_decodes_loose_hits() {
    let body = r#"[{"idComponent":"keboola.ex-db-mysql","configurationId":"12",
        "metadata":[{"id":"3","key":"KBC.configuration.folderName","value":"Sales","timestamp":"2025-01-01T00:00:00+0100"}]},
        {"idComponent":"keboola.flow","configurationId":13,"metadata":null}]"#;
    let server = Server::start(vec![json(200, body), json(200, "[]")]);
    let client = storage(&server);
    let hits = client
        .search_configuration_metadata(None, &[FOLDER_METADATA_KEY])
        .unwrap();
    assert_eq!(hits.len(), 2);
    assert_eq!(hits[0].id_component, "keboola.ex-db-mysql");
    assert_eq!(
        metadata_value(&hits[0].metadata, FOLDER_METADATA_KEY),
        Some("Sales")
    );
    // An id sent as a number and metadata sent as null still decode.
    assert_eq!(hits[1].configuration_id, "13");
    assert!(hits[1].metadata.is_empty());
    client
        .search_configuration_metadata(Some("77"), &["a", "b"])
        .unwrap();
    let requests = server.wait_for_requests(2);
    assert_eq!(
        requests[0].target,
        "/v2/storage/branch/default/search/component-configurations?metadataKeys%5B%5D=KBC.configuration.folderName&include=filteredMetadata"
    );
    assert_eq!(
        requests[1].target,
        "/v2/storage/branch/77/search/component-configurations?metadataKeys%5B%5D=a&metadataKeys%5B%5D=b&include=filteredMetadata"
    );
}

#[test]
fn configuration_metadata_is_read_and_written() {
    let entry = r#"[{"id":"9","key":"KBC.configuration.folderName","value":"Ops","timestamp":"2025-01-01T00:00:00+0100"}]"#;
    let server = Server::start(vec![json(200, entry), json(201, entry)]);
    let client = storage(&server);
    let read = client
        .configuration_metadata(None, "keboola.flow", "5")
        .unwrap();
    assert_eq!(read[0].value, "Ops");
    let written = client
        .set_configuration_metadata(
            Some("8"),
            "keboola.flow",
            "5",
            &[MetadataEntry::new(FOLDER_METADATA_KEY, "Ops")],
        )
        .unwrap();
    assert_eq!(written, read);
    let requests = server.wait_for_requests(2);
    assert_eq!(
        requests[0].target,
        "/v2/storage/branch/default/components/keboola.flow/configs/5/metadata"
    );
    assert_eq!(requests[1].method, "POST");
    assert_eq!(
        requests[1].target,
        "/v2/storage/branch/8/components/keboola.flow/configs/5/metadata"
    );
    assert_eq!(
        requests[1].json(),
        json!({"metadata": [{"key": "KBC.configuration.folderName", "value": "Ops"}]})
    );
}
