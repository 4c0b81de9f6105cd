//! The HTTP transport: one listener, one hyper HTTP/1 connection task per client, graceful
//! shutdown. [`run`] takes an already-bound listener so callers (and tests) can bind port 0.

mod dispatch;
mod faults;
mod reply;

use std::future::Future;
use std::sync::Arc;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;

use crate::app::App;

/// How long a client may take to send a request's headers (idle keep-alive connections are
/// closed after this too).
const HEADER_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// The first and the longest wait after a failed accept (the wait doubles while they fail).
const ACCEPT_BACKOFF_MIN: std::time::Duration = std::time::Duration::from_millis(10);
const ACCEPT_BACKOFF_MAX: std::time::Duration = std::time::Duration::from_secs(1);

/// Serves `listener` until `shutdown` completes, then stops accepting and waits up to the
/// configured grace period for open connections to finish their current request.
pub async fn run(listener: TcpListener, app: Arc<App>, shutdown: impl Future<Output = ()>) {
    let graceful = GracefulShutdown::new();
    let (stop_webhooks, webhooks_stopped) = tokio::sync::oneshot::channel::<()>();
    let webhooks = tokio::spawn(crate::webhooks::run(app.clone(), async {
        let _ = webhooks_stopped.await;
    }));
    tokio::pin!(shutdown);
    let mut backoff = ACCEPT_BACKOFF_MIN;
    loop {
        // At the cap, stop accepting: new clients wait in the listen queue, not in our memory.
        let permit = tokio::select! {
            permit = app.connections.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => {
                    backoff = ACCEPT_BACKOFF_MIN;
                    pair
                }
                Err(error) => {
                    // Typically EMFILE: out of descriptors. Wait longer each time, not spin.
                    tracing::warn!(%error, ?backoff, "accept failed");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(ACCEPT_BACKOFF_MAX);
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let service = service_fn(move |request| dispatch::handle(app.clone(), peer, request));
        let connection = http1::Builder::new()
            .keep_alive(true)
            .timer(TokioTimer::new())
            .header_read_timeout(HEADER_READ_TIMEOUT)
            .serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%peer, %error, "connection ended with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    let _ = stop_webhooks.send(());
    let _ = webhooks.await;
    let grace = app.config.shutdown_grace;
    tracing::info!(open_connections = graceful.count(), "shutting down");
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            ?grace,
            "connections still open after the grace period; closing them"
        );
    }
}

/// SIGINT and SIGTERM, listened for from the moment they are installed: installed before the
/// banner is printed, so a harness that signals as soon as it reads the banner gets a graceful
/// stop, not the default action.
pub struct ShutdownSignals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl ShutdownSignals {
    /// Installs the handlers (inside the runtime).
    pub fn install() -> std::io::Result<ShutdownSignals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(ShutdownSignals {
                interrupt: signal(SignalKind::interrupt())?,
                terminate: signal(SignalKind::terminate())?,
            })
        }
        #[cfg(not(unix))]
        Ok(ShutdownSignals {})
    }

    /// Resolves at the next SIGINT or SIGTERM (Ctrl-C only, off Unix).
    pub async fn next(&mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.interrupt.recv() => tracing::info!("received SIGINT"),
            _ = self.terminate.recv() => tracing::info!("received SIGTERM"),
        }
        #[cfg(not(unix))]
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}
