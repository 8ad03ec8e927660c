//! End-to-end tests: the real `kbagent` binary against an in-process Keboola emulator.

mod common;
mod project;
