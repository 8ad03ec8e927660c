//! The Python kbagent's operation classes (its 0.100.2 registry and flag escalations, for
//! the command groups kbagent also has), and the checks that a policy written for that tool
//! blocks here at least what it blocks there.

use super::{CLASS_PATTERNS, Classes, Session, Side, decide, known_operations, matches};
use crate::commands::OpClass::{self, Admin, Destructive, Read, Write};
use crate::store::{PermissionPolicy, PolicyMode};

/// `(operation, class)` as the Python kbagent classifies them.
const PYTHON: &[(&str, OpClass)] = &[
    ("project.add", Admin),
    ("project.create", Admin),
    ("project.list", Read),
    ("project.remove", Admin),
    ("project.edit", Admin),
    ("project.status", Read),
    ("project.refresh", Admin),
    ("project.description-get", Read),
    ("project.description-set", Write),
    ("project.use", Write),
    ("project.current", Read),
    ("project.info", Read),
    ("project.invite", Admin),
    ("project.member-list", Read),
    ("project.invitation-list", Read),
    ("project.invitation-cancel", Admin),
    ("project.member-remove", Destructive),
    ("project.member-set-role", Admin),
    ("token.list", Read),
    ("token.create", Write),
    ("token.refresh", Destructive),
    ("token.delete", Destructive),
    ("config.list", Read),
    ("config.detail", Read),
    ("config.search", Read),
    ("config.examples", Read),
    ("config.update", Write),
    ("config.set-default-bucket", Write),
    ("config.rename", Write),
    ("config.delete", Destructive),
    ("config.restore", Write),
    ("config.trash-list", Read),
    ("config.new", Write),
    ("config.clone", Write),
    ("config.variables-set", Write),
    ("config.variables-get", Read),
    ("config.variables-clear", Destructive),
    ("config.metadata-list", Read),
    ("config.get-metadata", Read),
    ("config.set-metadata", Write),
    ("config.delete-metadata", Destructive),
    ("config.set-folder", Write),
    ("config.row-create", Write),
    ("config.row-update", Write),
    ("config.row-delete", Destructive),
    ("config.oauth-url", Read),
    ("config.state-get", Read),
    ("config.state-set", Write),
    ("job.list", Read),
    ("job.detail", Read),
    ("job.run", Write),
    ("job.terminate", Destructive),
    ("org.setup", Admin),
    ("branch.list", Read),
    ("branch.create", Write),
    ("branch.use", Write),
    ("branch.reset", Write),
    ("branch.delete", Destructive),
    ("branch.merge", Write),
    ("branch.metadata-list", Read),
    ("branch.metadata-get", Read),
    ("branch.metadata-set", Write),
    ("branch.metadata-delete", Destructive),
    ("workspace.create", Write),
    ("workspace.list", Read),
    ("workspace.detail", Read),
    ("workspace.delete", Destructive),
    ("workspace.password", Destructive),
    ("workspace.load", Write),
    ("workspace.query", Write),
    ("workspace.from-transformation", Write),
    ("workspace.gc", Destructive),
    ("component.list", Read),
    ("component.detail", Read),
    ("component.sync-action", Write),
    ("storage.buckets", Read),
    ("storage.bucket-detail", Read),
    ("storage.tables", Read),
    ("storage.table-detail", Read),
    ("storage.download-table", Read),
    ("storage.job-detail", Read),
    ("storage.create-bucket", Write),
    ("storage.create-table", Write),
    ("storage.add-column", Write),
    ("storage.upload-table", Write),
    ("storage.clone-table", Write),
    ("storage.files", Read),
    ("storage.file-detail", Read),
    ("storage.file-download", Read),
    ("storage.file-upload", Write),
    ("storage.file-tag", Write),
    ("storage.load-file", Write),
    ("storage.unload-table", Read),
    ("storage.delete-table", Destructive),
    ("storage.delete-column", Destructive),
    ("storage.delete-bucket", Destructive),
    ("storage.file-delete", Destructive),
    ("storage.swap-tables", Destructive),
    ("storage.truncate-table", Destructive),
    ("storage.snapshots", Read),
    ("storage.snapshot-detail", Read),
    ("storage.snapshot-create", Write),
    ("storage.table-from-snapshot", Write),
    ("storage.snapshot-delete", Destructive),
    ("storage.describe-bucket", Write),
    ("storage.describe-table", Write),
    ("storage.describe-column", Write),
    ("storage.describe-batch", Write),
    ("storage.describe-migrate", Write),
    ("encrypt.values", Write),
    ("search", Read),
    ("init", Admin),
    ("doctor", Read),
    ("version", Read),
    ("update", Admin),
    ("changelog", Read),
    ("context", Read),
    ("repl", Read),
    ("serve", Admin),
    ("permissions.list", Read),
    ("permissions.show", Read),
    ("permissions.set", Admin),
    ("permissions.reset", Admin),
    ("permissions.check", Read),
    // Flags that raise a command's class there.
    ("auth.logout --remove-projects", Admin),
    ("sync.push --force", Destructive),
    ("config.variables-set --replace", Destructive),
];

/// A class pattern as the Python kbagent matches it against an operation of one class.
fn python_matches(pattern: &str, class: OpClass) -> bool {
    match pattern {
        "cli:read" => class == Read,
        "cli:write" => class != Read,
        "cli:admin" => class == Admin,
        _ => class == Destructive,
    }
}

/// Whether the Python kbagent refuses `op` under `policy` (its documented semantics).
fn python_blocks(policy: &PermissionPolicy, op: &str, class: OpClass) -> bool {
    if op.starts_with("permissions.") {
        return false;
    }
    let denied = policy.deny.iter().any(|d| python_matches(d, class));
    let allowed = policy.allow.iter().any(|a| python_matches(a, class));
    match policy.mode {
        PolicyMode::Allow => denied && !allowed,
        PolicyMode::Deny => !allowed || denied,
    }
}

/// The operations both tools have, with the Python class and ours.
fn shared() -> Vec<(&'static str, OpClass, Classes)> {
    let ours = known_operations();
    PYTHON
        .iter()
        .filter_map(|(op, py)| {
            let (_, c) = ours.iter().find(|(o, _)| o == op)?;
            Some((*op, *py, *c))
        })
        .collect()
}

fn subsets() -> Vec<Vec<String>> {
    (0..1u32 << CLASS_PATTERNS.len())
        .map(|bits| {
            CLASS_PATTERNS
                .iter()
                .enumerate()
                .filter(|(i, _)| bits & (1 << i) != 0)
                .map(|(_, p)| (*p).to_owned())
                .collect()
        })
        .collect()
}

#[test]
fn the_table_covers_the_commands_whose_classes_differ() {
    let shared = shared();
    for op in [
        "project.add",
        "project.remove",
        "project.edit",
        "config.oauth-url",
        "branch.merge",
        "token.create",
        "storage.delete-table",
    ] {
        assert!(shared.iter().any(|(o, ..)| *o == op), "{op} is not shared");
    }
    assert!(shared.len() > 60, "only {} shared operations", shared.len());
}

/// Every class pattern that matches a shared operation there matches it in a deny rule
/// here; one that matches it in an allow rule here matches it there.
#[test]
fn class_patterns_match_at_least_what_they_match_in_the_python_tool() {
    for (op, py, ours) in shared() {
        for pattern in CLASS_PATTERNS {
            if python_matches(pattern, py) {
                assert!(
                    matches(pattern, op, ours, Side::Deny),
                    "deny {pattern} blocks {op} ({py:?}) there but not here ({ours:?})"
                );
            }
            if matches(pattern, op, ours, Side::Allow) {
                assert!(
                    python_matches(pattern, py),
                    "allow {pattern} lets {op} through here ({ours:?}) but not there ({py:?})"
                );
            }
        }
    }
}

/// Every policy made of class patterns, in both modes: what it blocks there it blocks here.
#[test]
fn a_python_policy_blocks_here_what_it_blocks_there() {
    let none = Session::default();
    let subsets = subsets();
    let mut checked = 0;
    for (op, py, ours) in shared() {
        for mode in [PolicyMode::Allow, PolicyMode::Deny] {
            for allow in &subsets {
                for deny in &subsets {
                    let p = PermissionPolicy {
                        mode,
                        allow: allow.clone(),
                        deny: deny.clone(),
                    };
                    if python_blocks(&p, op, py) {
                        checked += 1;
                        assert!(
                            decide(Some(&p), &none, op, ours).is_some(),
                            "{op}: {p:?} blocks it there ({py:?}) but not here ({ours:?})"
                        );
                    }
                }
            }
        }
    }
    assert!(checked > 0);
}

/// A command whose class differs from the Python one also counts as that one (a deny
/// rule for it must block, an allow rule for another class must not let it through); one
/// whose class is the same counts as nothing else.
#[test]
fn extra_classes_are_exactly_the_differing_python_class() {
    let ours = known_operations();
    for (op, py, classes) in shared() {
        let expected: &[OpClass] = if py == classes.class { &[] } else { &[py] };
        assert_eq!(classes.also, expected, "{op}");
    }
    for (op, classes) in ours {
        assert!(
            classes.also.is_empty() || PYTHON.iter().any(|(o, _)| *o == op),
            "{op} has extra classes but no Python class"
        );
    }
}
