//! Embedding: start a sandbox from Rust tests on `127.0.0.1:0`, on its own thread and tokio
//! runtime (so it works under any test harness or runtime), and stop it on drop.
//!
//! ```no_run
//! let sandbox = issuer_sandbox::Sandbox::builder().start().expect("sandbox starts");
//! let url = format!("{}/identity/bankcard/check-1e", sandbox.url());
//! // ... point the client under test at `url`, then inspect:
//! assert!(sandbox.journal().is_empty());
//! ```

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::oneshot;

use crate::app::{App, Config};
use crate::journal::{Entry, Filter};
use crate::providers::{self, Provider, Registry};
use crate::scenario::{Scenario, ScenarioError};
use crate::world::World;

/// Why a sandbox could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    #[error("cannot bind {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot start the sandbox runtime: {0}")]
    Runtime(#[source] std::io::Error),
    #[error("cannot set up HTTPS: {0}")]
    Tls(#[source] crate::tls::TlsError),
}

#[derive(Debug)]
enum Source {
    Default,
    Yaml(String),
    File(PathBuf),
    Built(Box<Scenario>),
}

/// Configures a [`Sandbox`].
#[derive(Debug)]
pub struct SandboxBuilder {
    source: Source,
    config: Config,
    bind: SocketAddr,
    registry: Registry,
    tls: bool,
}

impl SandboxBuilder {
    /// Use this YAML text as the scenario (key paths cannot be relative).
    pub fn scenario_yaml(mut self, yaml: impl Into<String>) -> Self {
        self.source = Source::Yaml(yaml.into());
        self
    }

    /// Use a scenario already loaded (and checked).
    pub fn scenario(mut self, scenario: Scenario) -> Self {
        self.source = Source::Built(Box::new(scenario));
        self
    }

    /// Load the scenario from a file.
    pub fn scenario_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.source = Source::File(path.into());
        self
    }

    /// Require this token on every control-API call.
    pub fn admin_token(mut self, token: impl Into<String>) -> Self {
        self.config.admin_token = Some(token.into());
        self
    }

    /// Largest accepted request body in bytes (default 16 MiB).
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.config.body_limit = bytes;
        self
    }

    /// How long a client may take to send a whole body once its headers are in (default 30 s).
    pub fn body_read_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.config.body_read_timeout = timeout;
        self
    }

    /// Connections served at once (default 1024); more wait in the listen queue.
    pub fn max_connections(mut self, connections: usize) -> Self {
        self.config.max_connections = connections;
        self
    }

    /// Journal entries kept (default 1000).
    pub fn journal_capacity(mut self, entries: usize) -> Self {
        self.config.journal_capacity = entries;
        self
    }

    /// Journal bytes kept (default 32 MiB).
    pub fn journal_max_bytes(mut self, bytes: usize) -> Self {
        self.config.journal_max_bytes = bytes;
        self
    }

    /// Bind somewhere other than `127.0.0.1:0`.
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.bind = addr;
        self
    }

    /// Serve exactly these providers instead of the built-in ones.
    pub fn registry(mut self, registry: Registry) -> Self {
        self.registry = registry;
        self
    }

    /// Serve an extra provider after those registered so far (your own fake, or a test
    /// double).
    pub fn provider<P: Provider>(mut self, provider: P) -> Self {
        self.registry.add(provider);
        self
    }

    /// Serve HTTPS instead of plain HTTP, with a CA made for this sandbox ([`Sandbox::ca_pem`])
    /// and a certificate for localhost, 127.0.0.1 and ::1.
    pub fn tls(mut self) -> Self {
        self.tls = true;
        self
    }

    /// Loads the scenario, binds, and starts serving on a background thread.
    pub fn start(self) -> Result<Sandbox, StartError> {
        let scenario = match self.source {
            Source::Default => Scenario::builtin_default(&self.registry)?,
            Source::Yaml(yaml) => {
                Scenario::from_source(&yaml, "<embedded scenario>", None, &self.registry)?
            }
            Source::File(path) => Scenario::from_file(&path, &self.registry)?,
            Source::Built(scenario) => *scenario,
        };
        let mut app = App::new(self.config, self.registry, scenario);
        let mut tls = None;
        if self.tls {
            let ca = crate::tls::SandboxCa::generate().map_err(StartError::Tls)?;
            tls = Some(ca.server_config(&[]).map_err(StartError::Tls)?);
            app.tls_ca = Some(ca);
        }
        let app = Arc::new(app);
        let listener = TcpListener::bind(self.bind).map_err(|source| StartError::Bind {
            addr: self.bind,
            source,
        })?;
        let addr = listener.local_addr().map_err(StartError::Runtime)?;
        listener
            .set_nonblocking(true)
            .map_err(StartError::Runtime)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("issuer-sandbox")
            .enable_all()
            .build()
            .map_err(StartError::Runtime)?;
        let (stop, stopped) = oneshot::channel::<()>();
        let serving = app.clone();
        let thread = std::thread::Builder::new()
            .name(format!("issuer-sandbox-{}", addr.port()))
            .spawn(move || {
                runtime.block_on(async move {
                    match tokio::net::TcpListener::from_std(listener) {
                        Ok(listener) => {
                            let listeners = match tls {
                                Some(config) => crate::server::Listeners {
                                    plain: None,
                                    tls: Some((listener, config)),
                                },
                                None => crate::server::Listeners {
                                    plain: Some(listener),
                                    tls: None,
                                },
                            };
                            crate::server::run(listeners, serving, async {
                                let _ = stopped.await;
                            })
                            .await;
                        }
                        Err(error) => tracing::error!(%error, "cannot register the listener"),
                    }
                });
            })
            .map_err(StartError::Runtime)?;
        Ok(Sandbox {
            addr,
            app,
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

/// A running sandbox; stops (gracefully) when dropped.
#[derive(Debug)]
pub struct Sandbox {
    addr: SocketAddr,
    app: Arc<App>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Sandbox {
    /// A builder with the built-in default scenario.
    pub fn builder() -> SandboxBuilder {
        // Tests want a quick stop; a client left connected should not hold up the drop.
        let config = Config {
            shutdown_grace: Duration::from_millis(200),
            ..Config::default()
        };
        SandboxBuilder {
            source: Source::Default,
            config,
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            registry: providers::builtin(),
            tls: false,
        }
    }

    /// Base URL, e.g. `http://127.0.0.1:40123` (no trailing slash); `https://` with
    /// [`SandboxBuilder::tls`].
    pub fn url(&self) -> String {
        let scheme = if self.app.tls_ca.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}", self.addr)
    }

    /// The sandbox CA's certificate (PEM), when it serves HTTPS: what clients trust.
    pub fn ca_pem(&self) -> Option<&str> {
        self.app
            .tls_ca
            .as_ref()
            .map(crate::tls::SandboxCa::cert_pem)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Puts every tenant back to the scenario start (the journal is kept).
    pub fn reset(&self) {
        self.app.running().reset_all();
    }

    /// Puts one tenant back to the scenario start; false if there is no such tenant.
    pub fn reset_tenant(&self, id: &str) -> bool {
        let running = self.app.running();
        running
            .tenant(id)
            .map(|t| running.reset_tenant(t))
            .is_some()
    }

    /// Every journal entry, oldest first.
    pub fn journal(&self) -> Vec<Entry> {
        self.app.journal.list(&Filter::default())
    }

    /// Journal entries matching `filter`.
    pub fn journal_matching(&self, filter: &Filter) -> Vec<Entry> {
        self.app.journal.list(filter)
    }

    /// Empties the journal.
    pub fn clear_journal(&self) {
        self.app.journal.clear();
    }

    /// Runs `f` on a tenant's world; `None` if there is no such tenant.
    pub fn with_world<R>(&self, tenant: &str, f: impl FnOnce(&mut World) -> R) -> Option<R> {
        let running = self.app.running();
        running.tenant(tenant).map(|t| t.with_world(f))
    }

    /// Advances every tenant's clock.
    pub fn advance_clock(&self, by: Duration) {
        let by = jiff::SignedDuration::try_from(by).unwrap_or(jiff::SignedDuration::MAX);
        let running = self.app.running();
        for tenant in running.tenants() {
            tenant.with_world(|w| {
                w.clock.advance(by);
                w.catch_up();
            });
        }
    }

    /// Whether the tenant owes its merchant no webhook attempt right now (every notification
    /// rendered, none being sent, none due): then its state shows every attempt made so far.
    pub fn webhooks_settled(&self, tenant: &str) -> bool {
        crate::webhooks::settled(&self.app, tenant)
    }

    /// The complete running state (all tenants, or only `tenant`), as `GET /__admin/snapshot`
    /// gives it.
    pub fn snapshot(&self, tenant: Option<&str>) -> crate::snapshot::Snapshot {
        crate::snapshot::take(&self.app.running(), tenant)
    }

    /// Restores a snapshot as `PUT /__admin/snapshot` does: checked whole first, so a refused
    /// one changes nothing.
    pub fn restore(
        &self,
        snapshot: crate::snapshot::Snapshot,
    ) -> Result<crate::snapshot::Restored, crate::snapshot::SnapshotError> {
        crate::snapshot::restore_into(&self.app, snapshot)
    }

    /// The shared application state, for anything the helpers above do not cover.
    pub fn app(&self) -> &Arc<App> {
        &self.app
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
