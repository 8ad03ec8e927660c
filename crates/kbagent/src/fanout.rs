//! Bounded parallel fan-out over projects: a fixed number of scoped worker threads pull the
//! next index from a shared counter, so results come back in input order and one slow or
//! failing project never holds up or hides the others.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::output::Printer;

/// Applies `work` to every item with at most `workers` threads, returning results in the
/// order of `items`. Shows a progress bar on stderr when a person is watching and the run is
/// long enough to need one (never under `--json` or when stderr is not a terminal).
pub fn map<T, R, F>(printer: &Printer, label: &str, items: &[T], workers: usize, work: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&T) -> R + Sync,
{
    let workers = workers.clamp(1, items.len().max(1));
    let progress = progress_bar(printer, label, items.len());
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<R>>> = items.iter().map(|_| Mutex::new(None)).collect();
    thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    let result = work(item);
                    if let Ok(mut slot) = slots[i].lock() {
                        *slot = Some(result);
                    }
                    progress.inc(1);
                }
            });
        }
    });
    progress.finish_and_clear();
    slots
        .into_iter()
        .map(|slot| {
            slot.into_inner()
                .ok()
                .flatten()
                .expect("every index is claimed by exactly one worker, which fills its slot")
        })
        .collect()
}

fn progress_bar(printer: &Printer, label: &str, len: usize) -> ProgressBar {
    if printer.json() || !printer.stderr_is_terminal() || len < 4 {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len as u64), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} {pos}/{len} [{elapsed}]") {
        bar.set_style(style);
    }
    bar.set_message(label.to_owned());
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_keep_input_order_and_concurrency_is_bounded() {
        let printer = Printer::new(true, true);
        let running = AtomicUsize::new(0);
        let peak = AtomicUsize::new(0);
        let items: Vec<u64> = (0..40).collect();
        let out = map(&printer, "t", &items, 4, |n| {
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(now, Ordering::SeqCst);
            thread::sleep(Duration::from_millis((n % 3) * 2));
            running.fetch_sub(1, Ordering::SeqCst);
            n * 2
        });
        assert_eq!(out, items.iter().map(|n| n * 2).collect::<Vec<_>>());
        assert!(peak.load(Ordering::SeqCst) <= 4);
        assert!(map(&printer, "t", &Vec::<u8>::new(), 4, |_| 0).is_empty());
    }
}
