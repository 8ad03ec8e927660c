//! Integration tests: real HTTP(S) against spawned emulators, asserting raw JSON.

mod binary;
mod common;
mod components;
mod concurrency;
mod config_metadata;
mod config_writes;
mod data_dir;
mod dev_branches;
mod encryption;
mod faults;
mod global_search;
mod manage;
mod queue;
mod request_log;
mod seed_reset;
mod services;
mod storage_data;
mod storage_files;
mod storage_snapshots;
mod storage_tables;
mod storage_util;
mod tls;
mod tokens;
mod wizard;

#[test]
fn emulator_can_be_shared_between_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<keboola_emulator::Emulator>();
}
mod workspaces;
