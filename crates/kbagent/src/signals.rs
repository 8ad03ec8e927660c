//! Signal dispositions, set once at start-up.

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
