//! Signal dispositions, set once at start-up, and the clean-up of partial downloads on
//! SIGINT and SIGTERM.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, Once, PoisonError};

/// Hidden `.part` files of downloads in progress, removed if the process is interrupted.
static PARTS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Writing past `ulimit -f` raises SIGXFSZ, whose default action kills the process before it
/// can report anything. With a handler installed the write fails with `EFBIG` instead, and the
/// normal error path reports it (one JSON document under `--json`).
pub fn install() {
    #[cfg(unix)]
    {
        use std::sync::Arc;
        use std::sync::atomic::AtomicBool;
        // Failing to register leaves the default action: no worse than before.
        let _ = signal_hook::flag::register(
            signal_hook::consts::SIGXFSZ,
            Arc::new(AtomicBool::new(false)),
        );
    }
}

/// Keeps `path` on the list of files removed on SIGINT/SIGTERM while it lives.
pub struct TrackedPart(PathBuf);

impl Drop for TrackedPart {
    fn drop(&mut self) {
        let mut parts = PARTS.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(i) = parts.iter().position(|p| *p == self.0) {
            parts.swap_remove(i);
        }
    }
}

/// Registers a partial download. The first call starts the thread that, on SIGINT or
/// SIGTERM, removes every registered file and exits with 128 + the signal (130, 143), as
/// the default action would report it. Commands that never download keep the defaults.
pub fn track_part(path: &Path) -> TrackedPart {
    static WATCH: Once = Once::new();
    WATCH.call_once(watch);
    PARTS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(path.to_path_buf());
    TrackedPart(path.to_path_buf())
}

#[cfg(unix)]
fn watch() {
    use signal_hook::consts::{SIGINT, SIGTERM};
    // Failing to register leaves the default action: the part file stays, as before.
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) else {
        return;
    };
    let _ = std::thread::Builder::new()
        .name("signals".to_owned())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                // Held until exit: no new part can be registered after the sweep.
                let parts = PARTS.lock().unwrap_or_else(PoisonError::into_inner);
                for part in parts.iter() {
                    let _ = std::fs::remove_file(part);
                }
                std::process::exit(128 + signal);
            }
        });
}

#[cfg(not(unix))]
fn watch() {}
