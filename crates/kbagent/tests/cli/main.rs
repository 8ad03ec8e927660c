//! End-to-end tests: the real `kbagent` binary against an in-process Keboola emulator.

mod browse;
mod common;
mod project;
mod tokens;
