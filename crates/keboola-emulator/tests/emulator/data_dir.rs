//! State in SQLite: with `data_dir`, the databases are files one can inspect.

use keboola_emulator::EmulatorOptions;
use rusqlite::{Connection, OpenFlags};
use serde_json::json;

use crate::common::{Client, start_with};

fn count(path: &std::path::Path, sql: &str) -> i64 {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

/// An empty data directory of its own for the test at `line`.
fn fresh_dir(line: u32) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "keboola-emulator-data-{}-{line}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn tokens_and_buckets_live_in_database_files() {
    let dir = fresh_dir(line!());
    let emu = start_with(EmulatorOptions {
        data_dir: Some(dir.clone()),
        ..EmulatorOptions::default()
    });
    let metadata = dir.join("emulator.sqlite");
    let minted = "SELECT COUNT(*) FROM storage_tokens WHERE description = 'kept on disk'";
    assert_eq!(count(&metadata, minted), 0);
    assert_eq!(
        count(
            &metadata,
            "SELECT COUNT(*) FROM storage_tokens WHERE project_id = 101"
        ),
        i64::try_from(emu.token_count(101)).unwrap()
    );
    for project in [101, 102] {
        let file = dir.join(format!("project_{project}.sqlite"));
        assert_eq!(count(&file, "SELECT COUNT(*) FROM buckets"), 3, "{project}");
    }

    let c = Client::new(&emu);
    let admin = &emu.projects()[0].tokens.admin;
    c.mint(admin, &json!({"description": "kept on disk"}));
    assert_eq!(count(&metadata, minted), 1);
    let renamed = "SELECT COUNT(*) FROM configurations WHERE name = 'Renamed on disk'";
    let put = c.send_form(
        "PUT",
        "/v2/storage/components/keboola.ex-db-snowflake/configs/10001",
        admin,
        "name=Renamed+on+disk",
    );
    assert_eq!(put.status, 200, "{}", put.text);
    assert_eq!(count(&metadata, renamed), 1);
    let rows = "SELECT COUNT(*) FROM configuration_rows WHERE config_id = '10001'";
    assert_eq!(count(&metadata, rows), 2, "the rows survive the update");

    emu.reset();
    assert_eq!(
        count(&metadata, minted),
        0,
        "a reset restores the seeded rows"
    );
    drop(emu);

    // A new start over the same directory is seeded afresh.
    let emu = start_with(EmulatorOptions {
        data_dir: Some(dir.clone()),
        ..EmulatorOptions::default()
    });
    let c = Client::new(&emu);
    let verify = c.get("/v2/storage/tokens/verify", &emu.projects()[0].tokens.admin);
    assert_eq!(verify.status, 200, "{}", verify.text);
    drop(emu);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn table_rows_and_file_bytes_live_under_the_data_dir() {
    let dir = fresh_dir(line!());
    let emu = start_with(EmulatorOptions {
        projects: 1,
        data_dir: Some(dir.clone()),
        ..EmulatorOptions::default()
    });
    let project = dir.join("project_101.sqlite");
    let n = count(
        &project,
        "SELECT n FROM storage_tables WHERE id = 'in.c-crm.orders'",
    );
    assert_eq!(
        count(&project, &format!("SELECT COUNT(*) FROM data_{n}")),
        2000
    );

    let c = Client::new(&emu);
    let admin = &emu.projects()[0].tokens.admin;
    let id = crate::storage_util::upload(
        &emu,
        &c,
        admin,
        "kept.csv",
        b"a\n1\n",
        crate::storage_util::Transfer::Single,
    );
    let stored: Vec<Vec<u8>> = std::fs::read_dir(dir.join("files"))
        .unwrap()
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .collect();
    assert_eq!(stored, [b"a\n1\n".to_vec()]);
    // The branch prefix reaches the same File Storage.
    let branch = c.send_form(
        "POST",
        "/v2/storage/branch/default/files/prepare",
        admin,
        "name=b.csv",
    );
    assert_eq!(branch.status, 201, "{}", branch.text);
    assert_eq!(branch.json()["id"], id + 1);
    emu.reset();
    assert_eq!(
        std::fs::read_dir(dir.join("files")).unwrap().count(),
        0,
        "a reset drops the bytes"
    );
    drop(emu);
    let _ = std::fs::remove_dir_all(&dir);
}

// A long-running emulator's blob directory can be removed under it (a sweep of leftover
// temporary directories); exports and uploads made afterwards must still work.
#[test]
fn a_removed_blob_directory_is_recreated() {
    let dir = fresh_dir(line!());
    let emu = start_with(EmulatorOptions {
        projects: 1,
        data_dir: Some(dir.clone()),
        ..EmulatorOptions::default()
    });
    let c = Client::new(&emu);
    let admin = &emu.projects()[0].tokens.admin;
    let export = |c: &Client| {
        c.post_json(
            "/v2/storage/tables/in.c-crm.orders/export-async",
            admin,
            &json!({"columns": ["order_id"], "limit": 3}),
        )
    };
    let before = crate::storage_util::job_results(&c, admin, &export(&c));
    let first_export = before["file"]["id"].as_u64().unwrap();
    std::fs::remove_dir_all(dir.join("files")).unwrap();

    let after = crate::storage_util::job_results(&c, admin, &export(&c));
    let (csv, _) =
        crate::storage_util::download(&emu, &c, admin, after["file"]["id"].as_u64().unwrap());
    assert_eq!(csv.lines().count(), 3, "{csv}");
    let id = crate::storage_util::upload(
        &emu,
        &c,
        admin,
        "again.csv",
        b"a\n1\n",
        crate::storage_util::Transfer::Parts,
    );
    let load = c.post_json(
        "/v2/storage/buckets/in.c-crm/tables-async",
        admin,
        &json!({"name": "again", "dataFileId": id}),
    );
    crate::storage_util::job_results(&c, admin, &load);

    // Bytes lost with the directory are an error that says so, not a bare 500.
    let lost = c.post_json(
        "/v2/storage/buckets/in.c-crm/tables-async",
        admin,
        &json!({"name": "lost", "dataFileId": first_export}),
    );
    let failed = crate::storage_util::wait_job(&c, admin, &lost);
    assert_eq!(failed["status"], "error", "{failed}");
    assert_eq!(failed["error"]["code"], "APPLICATION_ERROR", "{failed}");
    let message = failed["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("was the directory removed?") && message.contains("manifest"),
        "{message}"
    );
    drop(emu);
    let _ = std::fs::remove_dir_all(&dir);
}

// An export that fails inside the emulator says why in the job's error, not only that it
// failed (here: the table's rows are gone from its database file).
#[test]
fn an_internal_export_failure_names_its_cause() {
    let dir = fresh_dir(line!());
    let emu = start_with(EmulatorOptions {
        projects: 1,
        data_dir: Some(dir.clone()),
        ..EmulatorOptions::default()
    });
    let project = dir.join("project_101.sqlite");
    let n = count(
        &project,
        "SELECT n FROM storage_tables WHERE id = 'in.c-crm.orders'",
    );
    Connection::open(&project)
        .unwrap()
        .execute_batch(&format!("DROP TABLE data_{n}"))
        .unwrap();
    let c = Client::new(&emu);
    let admin = &emu.projects()[0].tokens.admin;
    let export = c.post_json(
        "/v2/storage/tables/in.c-crm.orders/export-async",
        admin,
        &json!({}),
    );
    let failed = crate::storage_util::wait_job(&c, admin, &export);
    assert_eq!(failed["status"], "error", "{failed}");
    assert_eq!(failed["error"]["code"], "APPLICATION_ERROR", "{failed}");
    let message = failed["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("Application error: ") && message.contains(&format!("data_{n}")),
        "{message}"
    );
    drop(emu);
    let _ = std::fs::remove_dir_all(&dir);
}
