//! End-to-end tests: the real `kbagent` binary against an in-process Keboola emulator.

mod bad_input;
mod branches;
mod browse;
mod common;
mod config_safety;
mod config_write;
mod contract;
mod discover;
mod durability;
mod faults;
mod hardening_output;
mod hardening_project;
mod hardening_token;
mod jobs;
mod net_safety;
mod parity;
mod permissions;
mod plumbing;
mod project;
mod reference;
mod secrets;
mod storage_read;
mod storage_snapshots;
mod storage_write;
mod tokens;
mod workspaces;
