//! The permission firewall: which commands this run may execute.
//!
//! Two layers decide. The persisted policy (`permissions` in config.json, the Python
//! kbagent's format and semantics) and the session rules of this run (`--deny-writes`,
//! `--deny-destructive`, `KBAGENT_DENY`). Session rules only ever narrow: a pattern the
//! persisted policy allows is still refused when a session rule matches it.
//!
//! Patterns are an operation name (`storage.delete-table`), a glob over names (`storage.*`,
//! `fnmatch` rules: `*`, `?`, `[...]`), or a class (`cli:read`, `cli:write`, `cli:admin`,
//! `cli:destructive`; `cli:write` matches everything that is not a read). An operation is a
//! command's full name with dots (`project.refresh`); a flag that raises the class adds a
//! second operation, `project.refresh --force`, checked with the raised class.
//!
//! A command may also count as further classes (`Meta::also`): those the Python kbagent
//! gives it where ours differs, so that a policy written for that tool blocks here at least
//! what it blocks there. A class pattern in a deny rule matches when it matches any of the
//! operation's classes; in an allow rule only when it matches all of them.

pub(crate) mod confirm;
pub(crate) mod firewall;
#[cfg(test)]
mod upstream;

use serde::Serialize;

use crate::commands::OpClass;
use crate::commands::catalogue;
use crate::error::{CliError, CliResult};
use crate::store::{PermissionPolicy, PolicyMode};

/// Where a rule comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Source {
    /// The persisted policy in config.json.
    Config,
    /// `--deny-writes` / `--deny-destructive`.
    Flag,
    /// `KBAGENT_DENY`.
    Env,
    /// Built into kbagent: a command that declares no operation class is refused.
    Builtin,
}

/// One deny rule of this run only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub(crate) struct SessionRule {
    pub pattern: String,
    pub source: Source,
    /// `--deny-writes`, `--deny-destructive` or `KBAGENT_DENY`.
    pub origin: String,
}

/// The session rules of this run. Never persisted.
#[derive(Debug, Clone, Default)]
pub(crate) struct Session {
    pub rules: Vec<SessionRule>,
    /// The flags given, as the Python kbagent reports them (`--deny-writes`, ...).
    pub flags: Vec<String>,
}

pub(crate) const ENV_VAR: &str = "KBAGENT_DENY";

impl Session {
    /// The rules from the flags and `KBAGENT_DENY` (comma-separated patterns). A pattern in
    /// `KBAGENT_DENY` that matches no operation is refused (CONFIG_ERROR): a typo must not
    /// leave a harness believing it blocked something.
    pub fn new(deny_writes: bool, deny_destructive: bool, env: Option<&str>) -> CliResult<Self> {
        let mut s = Self::default();
        for (on, flag, pattern) in [
            (deny_writes, "--deny-writes", "cli:write"),
            (deny_destructive, "--deny-destructive", "cli:destructive"),
        ] {
            if on {
                s.flags.push(flag.to_owned());
                s.push(pattern, Source::Flag, flag);
            }
        }
        let patterns: Vec<&str> = env
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .collect();
        let unknown = unknown_patterns(patterns.iter().copied());
        if !unknown.is_empty() {
            return Err(CliError::config(format!(
                "{ENV_VAR} holds pattern(s) that match no operation: {}",
                unknown.join(", ")
            ))
            .detail("invalid_patterns", shown(&unknown))
            .hint(PATTERN_HINT));
        }
        for p in patterns {
            s.push(p, Source::Env, ENV_VAR);
        }
        Ok(s)
    }

    fn push(&mut self, pattern: &str, source: Source, origin: &str) {
        if !self.rules.iter().any(|r| r.pattern == pattern) {
            self.rules.push(SessionRule {
                pattern: pattern.to_owned(),
                source,
                origin: origin.to_owned(),
            });
        }
    }
}

/// Patterns as an error may repeat them: a token pasted in the wrong place is masked.
pub(crate) fn shown(patterns: &[String]) -> Vec<String> {
    patterns.iter().map(|p| crate::output::masked(p)).collect()
}

pub(crate) const PATTERN_HINT: &str = "A pattern is a class (cli:read, cli:write, cli:admin, \
cli:destructive), an operation name such as storage.delete-table, or a glob such as storage.* \
that matches at least one operation; `kbagent context` lists the commands.";

pub(crate) const CLASS_PATTERNS: [&str; 4] =
    ["cli:read", "cli:write", "cli:admin", "cli:destructive"];

pub(crate) fn class_name(class: OpClass) -> &'static str {
    match class {
        OpClass::Read => "read",
        OpClass::Write => "write",
        OpClass::Admin => "admin",
        OpClass::Destructive => "destructive",
    }
}

/// An operation's name from a command's full name: `storage delete-table` →
/// `storage.delete-table`.
pub(crate) fn operation_name(command: &str) -> String {
    command.replace(' ', ".")
}

/// An operation's class and the classes it also counts as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Classes {
    pub class: OpClass,
    pub also: &'static [OpClass],
}

impl Classes {
    pub const fn of(class: OpClass) -> Self {
        Self { class, also: &[] }
    }

    pub fn all(self) -> impl Iterator<Item = OpClass> {
        std::iter::once(self.class).chain(self.also.iter().copied())
    }
}

impl From<OpClass> for Classes {
    fn from(class: OpClass) -> Self {
        Self::of(class)
    }
}

/// Which list of a policy a pattern stands in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    Allow,
    Deny,
}

/// Every operation with its classes: each command, and each of its escalating flags.
pub(crate) fn known_operations() -> Vec<(String, Classes)> {
    let mut out = Vec::new();
    for (name, entry) in catalogue::entries() {
        let op = operation_name(&name);
        for e in entry.meta.escalations {
            out.push((format!("{op} {}", e.flag), Classes::of(e.class)));
        }
        let classes = Classes {
            class: entry.meta.class,
            also: entry.meta.also,
        };
        for alias in entry.meta.aliases {
            out.push((firewall::alias_operation(&op, alias), classes));
        }
        out.push((op, classes));
    }
    out.sort();
    out
}

/// The patterns (in order, without repeats) that are no class and match no operation.
pub(crate) fn unknown_patterns<'a>(patterns: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let known = known_operations();
    let mut out: Vec<String> = Vec::new();
    for p in patterns {
        let matches_one = CLASS_PATTERNS.contains(&p) || known.iter().any(|(op, _)| glob(p, op));
        if !matches_one && !out.iter().any(|o| o == p) {
            out.push(p.to_owned());
        }
    }
    out
}

/// Whether `pattern`, standing in a policy's `side` list, matches operation `op`. A class
/// pattern denies when it matches any of the operation's classes but allows only when it
/// matches all of them: extra classes never let more through.
pub(crate) fn matches(pattern: &str, op: &str, classes: Classes, side: Side) -> bool {
    let class_matches = |class: OpClass| match pattern {
        "cli:read" => class == OpClass::Read,
        "cli:write" => class != OpClass::Read,
        "cli:admin" => class == OpClass::Admin,
        _ => class == OpClass::Destructive,
    };
    if !CLASS_PATTERNS.contains(&pattern) {
        return glob(pattern, op);
    }
    match side {
        Side::Deny => classes.all().any(class_matches),
        Side::Allow => classes.all().all(class_matches),
    }
}

/// What blocked an operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Block {
    /// The pattern that matched, `mode:deny` (a default-deny policy allowed nothing that
    /// matches) or `unclassified`.
    pub rule: String,
    pub source: Source,
    /// `config.json`, the flag or the variable the rule came from.
    pub origin: String,
}

/// The verdict on one operation: `None` lets it through.
pub(crate) fn decide(
    policy: Option<&PermissionPolicy>,
    session: &Session,
    op: &str,
    classes: impl Into<Classes>,
) -> Option<Block> {
    let classes = classes.into();
    let config = |rule: &str| Block {
        rule: rule.to_owned(),
        source: Source::Config,
        origin: "config.json".to_owned(),
    };
    // `permissions ...` is never blocked by the persisted policy, so that a policy cannot
    // lock out the command that changes it (the Python kbagent's rule).
    if let Some(p) = policy
        && !op.starts_with("permissions.")
    {
        let denied = p.deny.iter().find(|d| matches(d, op, classes, Side::Deny));
        let allowed = p.allow.iter().any(|a| matches(a, op, classes, Side::Allow));
        match (p.mode, denied) {
            (PolicyMode::Allow, Some(d)) if !allowed => return Some(config(d)),
            (PolicyMode::Deny, Some(d)) => return Some(config(d)),
            (PolicyMode::Deny, None) if !allowed => return Some(config("mode:deny")),
            _ => {}
        }
    }
    session
        .rules
        .iter()
        .find(|r| matches(&r.pattern, op, classes, Side::Deny))
        .map(|r| Block {
            rule: r.pattern.clone(),
            source: r.source,
            origin: r.origin.clone(),
        })
}

/// `fnmatch`-style matching of the whole of `text`: `*` any run of characters, `?` one,
/// `[abc]`, `[a-z]`, `[!abc]` one of (or none of) a set; a `[` without its `]` is literal.
/// Case-sensitive, like the Python tool on Linux and macOS.
pub(crate) fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    glob_at(&p, &t)
}

fn glob_at(p: &[char], t: &[char]) -> bool {
    match p.first() {
        None => t.is_empty(),
        Some('*') => {
            let rest = &p[p.iter().take_while(|c| **c == '*').count()..];
            (0..=t.len()).any(|i| glob_at(rest, &t[i..]))
        }
        Some('?') => !t.is_empty() && glob_at(&p[1..], &t[1..]),
        Some('[') => match set(&p[1..]) {
            Some((len, negate, items)) => {
                let Some(c) = t.first() else { return false };
                in_set(items, *c) != negate && glob_at(&p[1 + len..], &t[1..])
            }
            None => t.first() == Some(&'[') && glob_at(&p[1..], &t[1..]),
        },
        Some(c) => t.first() == Some(c) && glob_at(&p[1..], &t[1..]),
    }
}

/// The set after a `[`: its length including the closing `]`, whether it is negated, and
/// its items. `None` when there is no closing `]`.
fn set(p: &[char]) -> Option<(usize, bool, &[char])> {
    let mut j = 0;
    if p.get(j) == Some(&'!') {
        j += 1;
    }
    // A `]` right after `[` or `[!` belongs to the set.
    if p.get(j) == Some(&']') {
        j += 1;
    }
    while j < p.len() && p[j] != ']' {
        j += 1;
    }
    if j >= p.len() {
        return None;
    }
    let negate = p.first() == Some(&'!');
    Some((j + 1, negate, &p[usize::from(negate)..j]))
}

fn in_set(items: &[char], c: char) -> bool {
    let mut k = 0;
    while k < items.len() {
        if k + 2 < items.len() && items[k + 1] == '-' {
            if items[k] <= c && c <= items[k + 2] {
                return true;
            }
            k += 3;
        } else {
            if items[k] == c {
                return true;
            }
            k += 1;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(mode: PolicyMode, allow: &[&str], deny: &[&str]) -> PermissionPolicy {
        PermissionPolicy {
            mode,
            allow: allow.iter().map(|s| (*s).to_owned()).collect(),
            deny: deny.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    #[test]
    fn globs_follow_fnmatch() {
        assert!(glob("storage.*", "storage.delete-table"));
        assert!(glob("storage.*", "storage."));
        assert!(!glob("storage.*", "storagex"));
        assert!(glob("*", "project.refresh --force"));
        assert!(glob("project.*", "project.refresh --force"));
        assert!(glob("storage.delete-*", "storage.delete-bucket"));
        assert!(!glob("storage.delete-*", "storage.create-bucket"));
        assert!(glob("token.?ist", "token.list"));
        assert!(!glob("token.?ist", "token.llist"));
        assert!(glob("job.[lw]*", "job.wait"));
        assert!(!glob("job.[!lw]*", "job.wait"));
        assert!(glob("job.[!lw]*", "job.run"));
        assert!(glob("[a-c]*", "config.list"));
        assert!(!glob("[d-z]*", "config.list"));
        assert!(glob("x[", "x["));
        assert!(!glob("Storage.*", "storage.tables"));
        assert!(glob("doctor", "doctor"));
        assert!(!glob("doctor", "doctors"));
    }

    #[test]
    fn classes_match_like_the_python_tool() {
        use OpClass::*;
        for (pattern, class, expected) in [
            ("cli:read", Read, true),
            ("cli:read", Write, false),
            ("cli:write", Read, false),
            ("cli:write", Write, true),
            ("cli:write", Admin, true),
            ("cli:write", Destructive, true),
            ("cli:destructive", Admin, false),
            ("cli:destructive", Destructive, true),
            ("cli:admin", Admin, true),
            ("cli:admin", Destructive, false),
            ("cli:*", Read, false),
        ] {
            for side in [Side::Allow, Side::Deny] {
                assert_eq!(
                    matches(pattern, "x.y", Classes::of(class), side),
                    expected,
                    "{pattern} {class:?}"
                );
            }
        }
    }

    #[test]
    fn extra_classes_deny_more_and_allow_no_more() {
        use OpClass::*;
        let remove = Classes {
            class: Destructive,
            also: &[Admin],
        };
        for (pattern, deny, allow) in [
            ("cli:destructive", true, false),
            ("cli:admin", true, false),
            ("cli:write", true, true),
            ("cli:read", false, false),
            ("project.*", true, true),
        ] {
            assert_eq!(
                matches(pattern, "project.remove", remove, Side::Deny),
                deny,
                "deny {pattern}"
            );
            assert_eq!(
                matches(pattern, "project.remove", remove, Side::Allow),
                allow,
                "allow {pattern}"
            );
        }
        // A default-deny policy allowing admin commands does not let it through; one
        // denying them blocks it.
        let none = Session::default();
        let p = policy(PolicyMode::Deny, &["cli:admin"], &[]);
        assert!(decide(Some(&p), &none, "project.remove", remove).is_some());
        let p = policy(PolicyMode::Allow, &[], &["cli:admin"]);
        let b = decide(Some(&p), &none, "project.remove", remove).unwrap();
        assert_eq!(b.rule, "cli:admin");
    }

    #[test]
    fn allow_mode_blocks_a_denied_operation_unless_an_allow_matches() {
        let none = Session::default();
        let p = policy(
            PolicyMode::Allow,
            &["storage.create-bucket"],
            &["storage.*"],
        );
        let b = decide(
            Some(&p),
            &none,
            "storage.delete-table",
            OpClass::Destructive,
        )
        .unwrap();
        assert_eq!((b.rule.as_str(), b.source), ("storage.*", Source::Config));
        assert_eq!(
            decide(Some(&p), &none, "storage.create-bucket", OpClass::Write),
            None
        );
        assert_eq!(decide(Some(&p), &none, "job.run", OpClass::Write), None);
        assert_eq!(decide(None, &none, "job.run", OpClass::Write), None);
    }

    #[test]
    fn deny_mode_allows_only_what_an_allow_matches_and_no_deny_does() {
        let none = Session::default();
        let p = policy(PolicyMode::Deny, &["cli:read"], &["storage.preview"]);
        assert_eq!(
            decide(Some(&p), &none, "storage.tables", OpClass::Read),
            None
        );
        let b = decide(Some(&p), &none, "storage.preview", OpClass::Read).unwrap();
        assert_eq!(b.rule, "storage.preview");
        let b = decide(Some(&p), &none, "job.run", OpClass::Write).unwrap();
        assert_eq!((b.rule.as_str(), b.source), ("mode:deny", Source::Config));
    }

    #[test]
    fn the_persisted_policy_never_blocks_permissions_commands() {
        let none = Session::default();
        let p = policy(PolicyMode::Deny, &[], &["*"]);
        assert_eq!(
            decide(Some(&p), &none, "permissions.reset", OpClass::Admin),
            None
        );
        assert!(decide(Some(&p), &none, "project.list", OpClass::Read).is_some());
    }

    #[test]
    fn session_rules_only_narrow() {
        let s = Session::new(true, false, None).unwrap();
        // A persisted allow does not override a session deny.
        let p = policy(PolicyMode::Allow, &["storage.*"], &[]);
        let b = decide(Some(&p), &s, "storage.delete-table", OpClass::Destructive).unwrap();
        assert_eq!(
            (b.rule.as_str(), b.source, b.origin.as_str()),
            ("cli:write", Source::Flag, "--deny-writes")
        );
        assert_eq!(decide(Some(&p), &s, "storage.tables", OpClass::Read), None);
        // Session rules also apply to `permissions ...` by class.
        assert!(decide(None, &s, "permissions.set", OpClass::Admin).is_some());
        assert_eq!(decide(None, &s, "permissions.show", OpClass::Read), None);
    }

    #[test]
    fn env_patterns_are_checked_and_deduplicated() {
        let s = Session::new(true, true, Some(" storage.* ,cli:write,, token.delete")).unwrap();
        let rules: Vec<(&str, Source)> = s
            .rules
            .iter()
            .map(|r| (r.pattern.as_str(), r.source))
            .collect();
        assert_eq!(
            rules,
            [
                ("cli:write", Source::Flag),
                ("cli:destructive", Source::Flag),
                ("storage.*", Source::Env),
                ("token.delete", Source::Env),
            ]
        );
        let e = Session::new(false, false, Some("storage.delete-tabel,cli:write")).unwrap_err();
        assert_eq!(e.code, crate::error::ErrorCode::ConfigError);
        assert!(e.message.contains("storage.delete-tabel"), "{}", e.message);
    }

    #[test]
    fn escalations_are_known_operations() {
        let known = known_operations();
        assert!(
            known.iter().any(|(op, c)| op == "project.refresh --force"
                && *c == Classes::of(OpClass::Destructive))
        );
        assert!(unknown_patterns(["project.refresh --force", "project.*"]).is_empty());
        assert_eq!(unknown_patterns(["tool:read", "tool:read"]), ["tool:read"]);
    }
}
