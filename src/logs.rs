//! The server's output that never blocks serving: log lines (stderr) and the banner (stdout)
//! go through bounded queues to writer threads. When a reader is slow or gone — a test harness
//! that pipes the server's output and never reads it — lines beyond the queue are dropped and
//! counted instead of stalling a worker; `/__admin/health` reports the count.

use std::sync::OnceLock;

use tracing_appender::non_blocking::{ErrorCounter, NonBlocking, NonBlockingBuilder, WorkerGuard};

/// Lines a writer thread may have queued before new ones are dropped: a burst of this many
/// outlives a reader that pauses; a reader that never comes back costs at most this much memory.
const QUEUED_LINES: usize = 4_096;

/// The drop counters of the installed writers (none in an embedded sandbox: it logs through
/// whatever subscriber its host installed).
static DROPPED: OnceLock<[ErrorCounter; 2]> = OnceLock::new();

/// How log lines look.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// The installed writers; [`Outputs::finish`] flushes them at exit.
#[derive(Debug)]
pub struct Outputs {
    stdout: NonBlocking,
    guards: [WorkerGuard; 2],
}

/// Installs the global log subscriber (filtered by `RUST_LOG`, default `info`) writing to
/// stderr through a lossy queue, and returns the outputs, whose stdout writer prints the banner.
pub fn install(format: LogFormat) -> Outputs {
    let (stderr, stderr_guard) = lossy("log-writer").finish(std::io::stderr());
    let (stdout, stdout_guard) = lossy("banner-writer").finish(std::io::stdout());
    let _ = DROPPED.set([stderr.error_counter(), stdout.error_counter()]);
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(stderr)
        .with_ansi(ansi);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().flatten_event(true).init(),
    }
    Outputs {
        stdout,
        guards: [stderr_guard, stdout_guard],
    }
}

fn lossy(thread: &str) -> NonBlockingBuilder {
    NonBlockingBuilder::default()
        .lossy(true)
        .buffered_lines_limit(QUEUED_LINES)
        .thread_name(thread)
}

/// Lines dropped so far because stdout or stderr was not read fast enough.
pub fn dropped_lines() -> u64 {
    DROPPED.get().map_or(0, |counters| {
        counters.iter().map(|c| c.dropped_lines() as u64).sum()
    })
}

impl Outputs {
    /// Writes `text` to stdout as one piece (a supervisor waiting for the banner's first line
    /// gets it promptly; nobody reading costs nothing).
    pub fn print(&self, text: &str) {
        let _ = std::io::Write::write_all(&mut self.stdout.clone(), text.as_bytes());
    }

    /// At exit: writes out what is queued (each writer waits a second at most), unless lines
    /// were dropped — then a reader is gone, and waiting for it could hang the exit.
    pub fn finish(self) {
        if dropped_lines() == 0 {
            drop(self.guards);
        } else {
            #[allow(
                clippy::mem_forget,
                reason = "a guard's drop waits on its writer thread, stuck on a pipe nobody reads"
            )]
            std::mem::forget(self.guards);
        }
    }
}
