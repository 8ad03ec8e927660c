//! What a child process (the browser `config oauth-url` opens) inherits: kbagent's
//! environment without its secrets. A browser, or whatever `$BROWSER` names, has no business
//! with a Storage or Manage API token, and it may log its environment or pass it on.

use std::ffi::{OsStr, OsString};
use std::process::{Command, Stdio};

/// Variables that carry a secret kbagent reads, whatever their names look like.
const SECRET_VARIABLES: &[&str] = &[
    "KBC_TOKEN",
    "KBC_MANAGE_API_TOKEN",
    "KBC_STORAGE_TOKEN",
    "KBC_STORAGE_API_TOKEN",
];

/// Name endings (and whole names) that mark a variable as secret, case-insensitively.
const SECRET_SUFFIXES: &[&str] = &["TOKEN", "SECRET", "PASSWORD", "PASSWD", "API_KEY"];

/// Whether a variable of this name is kept from child processes.
pub(crate) fn is_secret(name: &OsStr) -> bool {
    let name = name.to_string_lossy().to_ascii_uppercase();
    SECRET_VARIABLES.contains(&name.as_str())
        || SECRET_SUFFIXES
            .iter()
            .any(|s| name == *s || name.ends_with(&format!("_{s}")))
}

/// The environment a child process gets: kbagent's own, secrets removed.
pub(crate) fn scrubbed(
    vars: impl IntoIterator<Item = (OsString, OsString)>,
) -> Vec<(OsString, OsString)> {
    vars.into_iter().filter(|(k, _)| !is_secret(k)).collect()
}

/// A command that starts with exactly the scrubbed environment and no terminal I/O.
fn command(program: &str, args: &[String]) -> Command {
    let mut cmd = Command::new(program);
    // The child environment is built from the process's own: this is the one place kbagent
    // reads it outside `env.rs`, and only to pass it on without secrets.
    cmd.args(args)
        .env_clear()
        .envs(scrubbed(std::env::vars_os()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        // Its own process group, so closing kbagent's terminal does not take it down.
        cmd.process_group(0);
    }
    cmd
}

/// The commands to try for opening `url`: each entry of `$BROWSER` (':'-separated; `%s` is
/// replaced by the URL, otherwise the URL is appended), then the platform's opener.
pub(crate) fn browser_commands(browser: Option<&str>, url: &str) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    for entry in browser
        .unwrap_or("")
        .split(':')
        .filter(|e| !e.trim().is_empty())
    {
        let mut words: Vec<String> = entry.split_whitespace().map(str::to_owned).collect();
        let program = words.remove(0);
        if words.iter().any(|w| w.contains("%s")) {
            for w in &mut words {
                *w = w.replace("%s", url);
            }
        } else {
            words.push(url.to_owned());
        }
        out.push((program, words));
    }
    let url = url.to_owned();
    if cfg!(target_os = "macos") {
        out.push(("open".to_owned(), vec![url]));
    } else if cfg!(windows) {
        out.push((
            "rundll32".to_owned(),
            vec!["url.dll,FileProtocolHandler".to_owned(), url],
        ));
    } else {
        out.push(("xdg-open".to_owned(), vec![url]));
    }
    out
}

/// Starts a browser on `url` with the scrubbed environment; `browser` is `$BROWSER`. Does not
/// wait for it (a browser may run until the user closes it). Returns why nothing started.
pub(crate) fn open_browser(browser: Option<&str>, url: &str) -> Result<(), String> {
    let mut last = "no browser command".to_owned();
    for (program, args) in browser_commands(browser, url) {
        match command(&program, &args).spawn() {
            Ok(_) => return Ok(()),
            Err(e) => last = format!("{program}: {}", e.kind()),
        }
    }
    Err(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_recognised_by_name() {
        for name in [
            "KBC_TOKEN",
            "KBC_MANAGE_API_TOKEN",
            "KBC_STORAGE_TOKEN",
            "GITHUB_TOKEN",
            "aws_secret",
            "DB_PASSWORD",
            "OPENAI_API_KEY",
            "TOKEN",
        ] {
            assert!(is_secret(OsStr::new(name)), "{name}");
        }
        for name in [
            "HOME",
            "PATH",
            "DISPLAY",
            "BROWSER",
            "TOKENIZER",
            "KBC_STORAGE_API_URL",
        ] {
            assert!(!is_secret(OsStr::new(name)), "{name}");
        }
    }

    #[test]
    fn browser_entries_take_the_url_in_place_of_percent_s_or_at_the_end() {
        let cmds = browser_commands(Some("firefox --new-tab:w3m %s"), "https://x/?a=1");
        assert_eq!(
            cmds[0],
            (
                "firefox".into(),
                vec!["--new-tab".into(), "https://x/?a=1".into()]
            )
        );
        assert_eq!(cmds[1], ("w3m".into(), vec!["https://x/?a=1".into()]));
        assert_eq!(cmds.len(), 3);
    }
}
