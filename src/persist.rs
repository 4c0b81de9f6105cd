//! `serve --state FILE`: the running state kept in a file across restarts. Loaded at start;
//! saved soon after each change (by default within a second) and at a graceful shutdown, by
//! a task of its own, never on a request's path. Each save writes a file beside the target,
//! syncs it and renames it over the target, so the file is always a whole snapshot: a crash
//! loses at most the changes of the last save window.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::app::App;
use crate::providers::Registry;
use crate::running::Running;
use crate::snapshot::{self, SnapshotError};

/// Why a state file could not be used at start.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read the state file {path}: {source}")]
    Unreadable {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "the state file {path} cannot be restored ({error}); fix or move it, or start with --state-reset to discard it"
    )]
    Refused { path: String, error: SnapshotError },
}

/// The file the state lives in.
#[derive(Clone, Debug)]
pub struct StateFile {
    path: PathBuf,
}

impl StateFile {
    pub fn new(path: PathBuf) -> StateFile {
        StateFile { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The running state the file holds; `None` when there is no file yet.
    pub fn load(&self, registry: &Registry) -> Result<Option<Running>, LoadError> {
        let shown = self.path.display().to_string();
        let bytes = match std::fs::read(&self.path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(LoadError::Unreadable {
                    path: shown,
                    source,
                });
            }
        };
        snapshot::read(&bytes)
            .and_then(|document| snapshot::restore(document, registry))
            .map(Some)
            .map_err(|error| LoadError::Refused { path: shown, error })
    }

    /// Writes `running`'s snapshot: beside the file, synced, then renamed over it (and the
    /// directory synced, so the rename itself survives a power cut).
    pub fn save(&self, running: &Running) -> std::io::Result<()> {
        let bytes = snapshot::to_bytes(&snapshot::take(running, None));
        let directory = match self.path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "state".to_owned());
        let beside = directory.join(format!(".{name}.{}.tmp", std::process::id()));
        let mut file = std::fs::File::create(&beside)?;
        file.write_all(&bytes)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&beside, &self.path)?;
        // Directories cannot be opened for syncing everywhere; the rename is done either way.
        if let Ok(dir) = std::fs::File::open(&directory) {
            let _ = dir.sync_all();
        }
        Ok(())
    }
}

/// Saves `app`'s state to `file` within `window` of each change, until `shutdown` (the final
/// save, once requests have drained, is the caller's).
pub async fn keep_saved(
    app: Arc<App>,
    file: StateFile,
    window: Duration,
    shutdown: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    let mut saved = app.changes();
    loop {
        tokio::select! {
            () = &mut shutdown => return,
            () = app.state_wake.notified() => {}
        }
        // Changes within the window are saved together.
        tokio::select! {
            () = &mut shutdown => return,
            () = tokio::time::sleep(window) => {}
        }
        let changes = app.changes();
        if changes != saved {
            saved = changes;
            save_now(&app, &file).await;
        }
    }
}

/// One save, off the async threads (the snapshot and the write may take a while).
async fn save_now(app: &Arc<App>, file: &StateFile) {
    let (app, file) = (app.clone(), file.clone());
    let saved = tokio::task::spawn_blocking(move || file.save(&app.running()).map(|()| file)).await;
    match saved {
        Ok(Ok(file)) => tracing::debug!(path = %file.path().display(), "state saved"),
        Ok(Err(error)) => tracing::error!(%error, "the state could not be saved"),
        Err(error) => tracing::error!(%error, "the state save did not finish"),
    }
}
