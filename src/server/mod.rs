//! The HTTP transport: a plain and/or a TLS listener, one hyper HTTP/1 connection task per
//! client, graceful shutdown. [`run`] takes already-bound listeners so callers (and tests) can
//! bind port 0.

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

/// The sockets a sandbox serves: plain HTTP, HTTPS, or both.
#[derive(Debug, Default)]
pub struct Listeners {
    pub plain: Option<TcpListener>,
    pub tls: Option<(TcpListener, Arc<rustls::ServerConfig>)>,
}

/// How long a client may take over the TLS handshake.
const HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// What a request knows of its connection.
#[derive(Clone, Copy, Debug)]
pub struct Connection {
    pub peer: std::net::SocketAddr,
    /// The TLS version, on an HTTPS connection (`TLSv1_3`).
    pub tls: Option<&'static str>,
}

/// Accepts on `listener`, or waits forever without one.
async fn accept(
    listener: Option<&TcpListener>,
) -> std::io::Result<(tokio::net::TcpStream, std::net::SocketAddr)> {
    match listener {
        Some(listener) => listener.accept().await,
        None => std::future::pending().await,
    }
}

/// Serves `listeners` until `shutdown` completes, then stops accepting and waits up to the
/// configured grace period for open connections to finish their current request.
pub async fn run(listeners: Listeners, app: Arc<App>, shutdown: impl Future<Output = ()>) {
    let graceful = GracefulShutdown::new();
    let (stop_webhooks, webhooks_stopped) = tokio::sync::oneshot::channel::<()>();
    let webhooks = tokio::spawn(crate::webhooks::run(app.clone(), async {
        let _ = webhooks_stopped.await;
    }));
    let tls = listeners
        .tls
        .as_ref()
        .map(|(_, config)| tokio_rustls::TlsAcceptor::from(config.clone()));
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
        let (accepted, secure) = tokio::select! {
            accepted = accept(listeners.plain.as_ref()) => (accepted, false),
            accepted = accept(listeners.tls.as_ref().map(|(l, _)| l)) => (accepted, true),
            () = &mut shutdown => break,
        };
        let (stream, peer) = match accepted {
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
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let watcher = graceful.watcher();
        match (secure, &tls) {
            (true, Some(acceptor)) => {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    if let Some(stream) = handshake(&app, &acceptor, stream, peer).await {
                        let version = stream
                            .get_ref()
                            .1
                            .protocol_version()
                            .and_then(|v| v.as_str());
                        let connection = Connection { peer, tls: version };
                        serve(app, connection, stream, watcher).await;
                    }
                    drop(permit);
                });
            }
            _ => {
                tokio::spawn(async move {
                    serve(app, Connection { peer, tls: None }, stream, watcher).await;
                    drop(permit);
                });
            }
        }
    }
    drop(listeners);
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

/// The TLS handshake, within [`HANDSHAKE_TIMEOUT`]; `None` when it failed, timed out, or a
/// `tls_handshake_failure` fault rule broke it (the connection is then dropped after the
/// client's hello, as a server that cannot agree on anything would).
async fn handshake(
    app: &App,
    acceptor: &tokio_rustls::TlsAcceptor,
    stream: tokio::net::TcpStream,
    peer: std::net::SocketAddr,
) -> Option<tokio_rustls::server::TlsStream<tokio::net::TcpStream>> {
    let lazy = tokio_rustls::LazyConfigAcceptor::new(rustls::server::Acceptor::default(), stream);
    let attempt = async {
        let start = lazy.await.ok()?;
        if app.running().faults.breaks_handshake() {
            tracing::info!(%peer, "fault rule: TLS handshake broken");
            return None;
        }
        let config = acceptor.config().clone();
        start.into_stream(config).await.ok()
    };
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, attempt).await {
        Ok(Some(stream)) => Some(stream),
        Ok(None) => {
            tracing::debug!(%peer, "TLS handshake failed");
            None
        }
        Err(_) => {
            tracing::debug!(%peer, "TLS handshake timed out");
            None
        }
    }
}

/// Serves one connection's requests (HTTP/1.1, keep-alive) until it closes or the server
/// stops.
async fn serve<S>(
    app: Arc<App>,
    connection: Connection,
    stream: S,
    watcher: hyper_util::server::graceful::Watcher,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = service_fn(move |request| dispatch::handle(app.clone(), connection, request));
    let served = http1::Builder::new()
        .keep_alive(true)
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .serve_connection(TokioIo::new(stream), service);
    if let Err(error) = watcher.watch(served).await {
        tracing::debug!(peer = %connection.peer, %error, "connection ended with an error");
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

    /// Resolves at the next SIGINT or SIGTERM (Ctrl-C only, off Unix) with its number (2, 15).
    pub async fn next(&mut self) -> i32 {
        #[cfg(unix)]
        tokio::select! {
            _ = self.interrupt.recv() => {
                tracing::info!("received SIGINT");
                2
            }
            _ = self.terminate.recv() => {
                tracing::info!("received SIGTERM");
                15
            }
        }
        #[cfg(not(unix))]
        {
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
            2
        }
    }
}
