//! The command line: `serve`, `check`, `test`, `healthcheck`, `schema`, and each provider's own
//! tools (`issuer-sandbox PROVIDER ...`, from the registry). Arguments become a validated
//! configuration before anything is opened or bound.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::app::{AdminAccess, App, Config};
use crate::logs::LogFormat;
use crate::providers;
use crate::scenario::Scenario;

const EXAMPLES: &str = "\
Examples:
  issuer-sandbox serve                                  # default scenario on 127.0.0.1:8080
  issuer-sandbox serve --scenario my.yaml --bind 0.0.0.0:8080 --admin-token s3cret
  issuer-sandbox check scenarios/*.yaml                 # validate scenario files, exit 0/1
  issuer-sandbox test scenarios/*.yaml --junit results.xml   # run their steps, exit 0/1
  issuer-sandbox healthcheck --url http://127.0.0.1:8080";

/// A stateful fake of card-issuing provider APIs.
#[derive(Debug, Parser)]
#[command(name = "issuer-sandbox", version, about)]
pub struct Cli {
    /// Log format on stderr (`json` for CI log collectors).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text, env = "ISSUER_SANDBOX_LOG_FORMAT")]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the providers and the control API.
    Serve(ServeArgs),
    /// Validate scenario files without serving; prints every problem with file:line:column.
    Check(CheckArgs),
    /// Exit 0 if a sandbox answers its health endpoint (for container HEALTHCHECKs).
    Healthcheck(HealthcheckArgs),
    /// Run scenario files' steps against in-process sandboxes (docs/scenarios.md, "Steps").
    ///
    /// Exit 0 when every step passes, 1 when a step fails or a file cannot be loaded, 2 when
    /// the arguments are unusable or the --junit file cannot be written.
    Test(TestArgs),
    /// Print the JSON Schema of scenario files (for editor completion and validation), or
    /// with --snapshot of snapshot documents.
    Schema(SchemaArgs),
    /// Take a running sandbox's snapshot (GET /__admin/snapshot), or render it as a scenario
    /// file; print it or write it to --out.
    Snapshot(SnapshotArgs),
}

#[derive(Debug, Args)]
struct SchemaArgs {
    /// The schema of snapshot documents instead (schema/snapshot.schema.json).
    #[arg(long)]
    snapshot: bool,
}

/// Where a running sandbox is, for commands that call its control API.
#[derive(Debug, Args)]
struct RunningSandbox {
    /// Base URL of the sandbox.
    #[arg(
        long,
        default_value = "http://127.0.0.1:8080",
        env = "ISSUER_SANDBOX_URL"
    )]
    url: String,
    /// Admin token, if the sandbox requires one.
    #[arg(long, env = "ISSUER_SANDBOX_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
    /// For an https:// URL: a CA certificate (PEM) to trust besides the system's, such as
    /// the sandbox CA (`GET /__admin/ca.pem`, or the file beside --state).
    #[arg(long, value_name = "FILE", env = "ISSUER_SANDBOX_CACERT")]
    cacert: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct SnapshotArgs {
    #[command(flatten)]
    sandbox: RunningSandbox,
    /// Only this merchant.
    #[arg(long)]
    tenant: Option<String>,
    /// A scenario YAML file that starts in the same business state, instead of the snapshot.
    #[arg(long)]
    as_scenario: bool,
    /// Write here instead of standard output.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Address to listen on for plain HTTP; `off` for HTTPS only (with --tls-bind).
    #[arg(long, default_value = "127.0.0.1:8080", value_parser = parse_bind, env = "ISSUER_SANDBOX_BIND")]
    bind: Bind,
    /// Also serve HTTPS here (every provider path and the control API), with a certificate
    /// the sandbox CA signs for localhost, 127.0.0.1, ::1 and each --tls-name.
    #[arg(long, value_name = "ADDR", env = "ISSUER_SANDBOX_TLS_BIND")]
    tls_bind: Option<SocketAddr>,
    /// The CA to sign with (PEM certificate and key); default: one made at first start, kept
    /// beside the --state file when there is one.
    #[arg(long, num_args = 2, value_names = ["CERT", "KEY"], env = "ISSUER_SANDBOX_TLS_CA", value_delimiter = ',')]
    tls_ca: Option<Vec<PathBuf>>,
    /// More names (DNS or IP) the server certificate covers; repeat or separate with commas.
    #[arg(
        long = "tls-name",
        value_name = "NAME",
        env = "ISSUER_SANDBOX_TLS_NAMES",
        value_delimiter = ','
    )]
    tls_names: Vec<String>,
    /// Scenario file; default: the built-in scenarios/default.yaml.
    #[arg(long, env = "ISSUER_SANDBOX_SCENARIO")]
    scenario: Option<PathBuf>,
    /// Require this token on every control-API call (and accept them from any address).
    #[arg(long, env = "ISSUER_SANDBOX_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
    /// Answer control-API calls from other machines too: they need a token all the same (without
    /// --admin-token, one is made at start and printed in the banner; loopback needs none).
    #[arg(long, env = "ISSUER_SANDBOX_ADMIN_ALLOW_REMOTE")]
    admin_allow_remote: bool,
    /// Largest accepted request body, e.g. 16MiB, 512KiB, 1000000.
    #[arg(long, default_value = "16MiB", value_parser = parse_size, env = "ISSUER_SANDBOX_BODY_LIMIT")]
    body_limit: usize,
    /// Journal entries kept before the oldest are dropped.
    #[arg(long, default_value_t = 1000, env = "ISSUER_SANDBOX_JOURNAL_CAPACITY")]
    journal_capacity: usize,
    /// Journal bytes kept before the oldest entries are dropped, e.g. 32MiB.
    #[arg(long, default_value = "32MiB", value_parser = parse_size, env = "ISSUER_SANDBOX_JOURNAL_MAX_BYTES")]
    journal_max_bytes: usize,
    /// Connections served at once; more wait in the listen queue (keep it under `ulimit -n`).
    #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..), env = "ISSUER_SANDBOX_MAX_CONNECTIONS")]
    max_connections: u32,
    /// Keep the running state in this file: restored at start when it exists (its scenario
    /// wins over --scenario), saved soon after each change and at shutdown.
    #[arg(long, value_name = "FILE", env = "ISSUER_SANDBOX_STATE")]
    state: Option<PathBuf>,
    /// With --state: start from the scenario even if the file cannot be restored (it is
    /// overwritten at the first save).
    #[arg(long, requires = "state", env = "ISSUER_SANDBOX_STATE_RESET")]
    state_reset: bool,
    /// With --state: the longest a change waits to be saved, e.g. 1s, 250ms.
    #[arg(long, default_value = "1s", value_parser = parse_window, env = "ISSUER_SANDBOX_STATE_WINDOW")]
    state_window: std::time::Duration,
}

/// What `serve` needs of its arguments to find its CA.
struct TlsArgs {
    tls_bind: Option<SocketAddr>,
    tls_ca: Option<Vec<PathBuf>>,
    state: Option<PathBuf>,
}

/// The plain listener's address, or none (`--bind off`).
#[derive(Clone, Copy, Debug)]
struct Bind(Option<SocketAddr>);

/// A listening address, or `off`.
fn parse_bind(text: &str) -> Result<Bind, String> {
    if text.eq_ignore_ascii_case("off") {
        return Ok(Bind(None));
    }
    text.parse()
        .map(|addr| Bind(Some(addr)))
        .map_err(|e| format!("`{text}` is not an address like 127.0.0.1:8080 or `off`: {e}"))
}

/// The sandbox CA for `serve`: `--tls-ca`, else kept beside the state file, else made now.
/// `None` without `--tls-bind`.
fn serve_ca(args: &TlsArgs) -> anyhow::Result<Option<(crate::tls::SandboxCa, Option<PathBuf>)>> {
    if args.tls_bind.is_none() {
        return Ok(None);
    }
    if let Some(files) = &args.tls_ca {
        let ca = crate::tls::SandboxCa::load(&files[0], &files[1])?;
        return Ok(Some((ca, Some(files[0].clone()))));
    }
    if let Some(state) = &args.state {
        let beside = |suffix: &str| {
            let mut name = state.as_os_str().to_owned();
            name.push(suffix);
            PathBuf::from(name)
        };
        let (cert, key) = (beside(".ca.pem"), beside(".ca-key.pem"));
        let ca = crate::tls::SandboxCa::load_or_create(&cert, &key)?;
        return Ok(Some((ca, Some(cert))));
    }
    Ok(Some((crate::tls::SandboxCa::generate()?, None)))
}

/// The banner's HTTPS lines: where, and how to trust the CA.
fn tls_banner(addr: SocketAddr, ca_file: Option<&std::path::Path>, base: &str) -> String {
    let file = ca_file.map_or_else(|| "ca.pem".to_owned(), |f| f.display().to_string());
    let kept = match ca_file {
        Some(path) => format!("{} (also {base}/__admin/ca.pem)", path.display()),
        None => format!(
            "{base}/__admin/ca.pem (made for this run: --state or --tls-ca keeps one across restarts)"
        ),
    };
    format!(
        "https            https://{addr}   (TLS 1.2 and 1.3, HTTP/1.1)\n\
         sandbox CA       {kept}\n\
         trust it         curl --cacert {file} · Python SSL_CERT_FILE={file} (requests: REQUESTS_CA_BUNDLE={file})\n\
         \x20                Node NODE_EXTRA_CA_CERTS={file} · Java keytool -importcert -alias issuer-sandbox -file {file} -keystore truststore.jks\n"
    )
}

/// A save window: a positive duration of at most an hour (`1s`, `250ms`).
fn parse_window(text: &str) -> Result<std::time::Duration, String> {
    let duration: jiff::SignedDuration = text
        .parse()
        .map_err(|e| format!("`{text}` is not a duration like 1s or 250ms: {e}"))?;
    std::time::Duration::try_from(duration)
        .ok()
        .filter(|d| !d.is_zero() && *d <= std::time::Duration::from_secs(3600))
        .ok_or_else(|| format!("`{text}`: give a window above zero and at most 1h"))
}

#[derive(Debug, Args)]
struct CheckArgs {
    /// Scenario files to validate.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

#[derive(Debug, Args)]
struct TestArgs {
    /// Scenario files with `steps`.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Also write the results as JUnit XML here.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct HealthcheckArgs {
    #[command(flatten)]
    sandbox: RunningSandbox,
    /// Give up on one attempt after this many milliseconds.
    #[arg(
        long,
        default_value_t = 2000,
        env = "ISSUER_SANDBOX_HEALTHCHECK_TIMEOUT_MS"
    )]
    timeout_ms: u64,
    /// Keep trying (every 100 ms) until healthy or this long has passed, e.g. 10s: for a
    /// harness that starts the sandbox and waits for it. Default: one attempt.
    #[arg(long, value_parser = parse_wait, env = "ISSUER_SANDBOX_HEALTHCHECK_WAIT")]
    wait: Option<Duration>,
}

/// A wait: a duration of at most an hour (`10s`, `500ms`).
fn parse_wait(text: &str) -> Result<Duration, String> {
    let duration: jiff::SignedDuration = text
        .parse()
        .map_err(|e| format!("`{text}` is not a duration like 10s or 500ms: {e}"))?;
    Duration::try_from(duration)
        .ok()
        .filter(|d| *d <= Duration::from_secs(3600))
        .ok_or_else(|| format!("`{text}`: give a wait of at most 1h"))
}

/// Runs the command line; `Err` is an unexpected failure (exit 2).
pub fn run() -> anyhow::Result<ExitCode> {
    let registry = providers::builtin();
    let mut command = Cli::command();
    let mut examples = EXAMPLES.to_owned();
    let mut tools = Vec::new();
    for provider in registry.iter() {
        if let Some(tool) = provider.command() {
            examples.push('\n');
            examples.push_str(tool.examples);
            command = command.subcommand(tool.command.clone());
            tools.push(tool);
        }
    }
    let names = registry.names().join(", ");
    let matches = command
        .about(format!(
            "A stateful fake of card-issuing provider APIs ({names})."
        ))
        .after_help(examples)
        .get_matches();
    if let Some((name, arguments)) = matches.subcommand()
        && let Some(tool) = tools.iter().find(|t| t.command.get_name() == name)
    {
        return (tool.run)(arguments);
    }
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|error| error.exit());
    match cli.command {
        Command::Serve(args) => {
            let outputs = crate::logs::install(cli.log_format);
            log_panics();
            let served = serve(args, registry, &outputs, cli.log_format);
            outputs.finish();
            served
        }
        Command::Check(args) => Ok(check(&args.files, &registry)),
        Command::Healthcheck(args) => healthcheck(&args),
        Command::Test(args) => test(&args, &registry),
        Command::Schema(args) if args.snapshot => {
            print!("{}", crate::snapshot::json_schema());
            Ok(ExitCode::SUCCESS)
        }
        Command::Schema(_) => {
            print!("{}", crate::scenario::json_schema(&registry));
            Ok(ExitCode::SUCCESS)
        }
        Command::Snapshot(args) => snapshot(&args),
    }
}

/// Runs every file's steps, prints the report, writes JUnit XML if asked; 1 on any failure.
fn test(args: &TestArgs, registry: &providers::Registry) -> anyhow::Result<ExitCode> {
    let outcomes: Vec<crate::runner::FileRun> = args
        .files
        .iter()
        .map(|file| crate::runner::run_file(file, registry))
        .collect();
    print!("{}", crate::runner::report(&outcomes));
    if let Some(path) = &args.junit {
        // CI configurations name a report directory that a fresh checkout does not have yet.
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(path, crate::runner::junit(&outcomes))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    let failed = outcomes.iter().any(|o| o.failed() > 0);
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Panics (caught per request) are reported through the log, so `--log-format json` stays one
/// JSON object per line.
fn log_panics() {
    std::panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let message = crate::sync::panic_message(info.payload());
        tracing::error!(%location, %message, "panic");
    }));
}

fn serve(
    args: ServeArgs,
    registry: providers::Registry,
    outputs: &crate::logs::Outputs,
    format: LogFormat,
) -> anyhow::Result<ExitCode> {
    let state_file = args.state.clone().map(crate::persist::StateFile::new);
    let tls_args = TlsArgs {
        tls_bind: args.tls_bind,
        tls_ca: args.tls_ca.clone(),
        state: args.state.clone(),
    };
    let restored = match &state_file {
        None => None,
        Some(file) => match file.load(&registry) {
            Ok(restored) => restored,
            Err(error) if args.state_reset => {
                tracing::warn!(%error, "--state-reset: starting from the scenario");
                None
            }
            Err(error) => {
                eprintln!("{error}");
                return Ok(ExitCode::from(1));
            }
        },
    };
    let running = match restored {
        Some(running) => running,
        None => {
            let scenario = match &args.scenario {
                Some(path) => Scenario::from_file(path, &registry),
                None => Scenario::builtin_default(&registry),
            };
            match scenario {
                Ok(scenario) => crate::running::Running::new(scenario),
                Err(error) => {
                    eprint!("{error}");
                    return Ok(ExitCode::from(1));
                }
            }
        }
    };
    let config = Config {
        body_limit: args.body_limit,
        admin_token: args.admin_token,
        admin_allow_remote: args.admin_allow_remote,
        journal_capacity: args.journal_capacity,
        max_connections: args.max_connections as usize,
        journal_max_bytes: args.journal_max_bytes,
        ..Config::default()
    };
    let ca = match serve_ca(&tls_args) {
        Ok(ca) => ca,
        Err(error) => {
            eprintln!("{error:#}");
            return Ok(ExitCode::from(1));
        }
    };
    let tls_names = args.tls_names.clone();
    if args.bind.0.is_none() && args.tls_bind.is_none() {
        eprintln!("--bind off needs --tls-bind: the sandbox must listen somewhere");
        return Ok(ExitCode::from(1));
    }
    let mut app = App::with_running(config, registry, running);
    let mut tls = None;
    if let (Some(addr), Some((ca, file))) = (args.tls_bind, ca) {
        let config = ca.server_config(&tls_names)?;
        tls = Some((addr, config, file));
        app.tls_ca = Some(ca);
    }
    let app = Arc::new(app);
    if let Some(file) = &state_file {
        // The file exists from the start: a crash before the first change loses nothing.
        file.save(&app.running())
            .with_context(|| format!("cannot write the state file {}", file.path().display()))?;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    runtime.block_on(async move {
        let bind = |addr: SocketAddr| async move {
            tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("cannot listen on {addr}"))
        };
        let mut listeners = crate::server::Listeners::default();
        if let Some(addr) = args.bind.0 {
            listeners.plain = Some(bind(addr).await?);
        }
        let mut tls_lines = String::new();
        let mut https_addr = None;
        if let Some((addr, config, file)) = tls {
            let listener = bind(addr).await?;
            let addr = listener.local_addr()?;
            https_addr = Some(addr);
            listeners.tls = Some((listener, config));
            tls_lines = tls_banner(addr, file.as_deref(), &format!("https://{addr}"));
        }
        let (addr, scheme) = match (&listeners.plain, &listeners.tls) {
            (Some(plain), _) => (plain.local_addr()?, "http"),
            (None, Some((secure, _))) => (secure.local_addr()?, "https"),
            (None, None) => anyhow::bail!("no listener: give --bind or --tls-bind"),
        };
        let mut shown = banner(&app, addr, scheme);
        shown.push_str(&tls_lines);
        if let Some(file) = &state_file {
            shown.push_str(&format!(
                "state: {} (saved within {:?} of each change and at shutdown)\n",
                file.path().display(),
                args.state_window
            ));
        }
        // Listening for signals before the banner says the server is ready.
        let mut signals =
            crate::server::ShutdownSignals::install().context("installing signal handlers")?;
        match format {
            LogFormat::Text => outputs.print(&shown),
            // A harness parses stdout's first line; people read the banner among the logs.
            LogFormat::Json => {
                let event = listening_event(&app, addr, scheme, https_addr, state_file.as_ref());
                outputs.print(&format!("{event}\n"));
                tracing::info!(banner = %shown, "banner");
            }
        }
        let (stop_saving, saving_stopped) = tokio::sync::oneshot::channel::<()>();
        let saver = state_file.clone().map(|file| {
            tokio::spawn(crate::persist::keep_saved(
                app.clone(),
                file,
                args.state_window,
                async {
                    let _ = saving_stopped.await;
                },
            ))
        });
        crate::server::run(listeners, app.clone(), async move {
            signals.next().await;
            // A second signal during the drain stops at once.
            tokio::spawn(async move {
                let signal = signals.next().await;
                tracing::warn!("second signal: exiting without waiting for open connections");
                #[allow(
                    clippy::exit,
                    reason = "the user asked twice; there is nothing left to unwind"
                )]
                // As a shell reports a process the signal ended: 128 + its number.
                std::process::exit(128 + signal);
            });
        })
        .await;
        let _ = stop_saving.send(());
        if let Some(saver) = saver {
            let _ = saver.await;
        }
        if let Some(file) = &state_file {
            file.save(&app.running()).with_context(|| {
                format!("cannot write the state file {}", file.path().display())
            })?;
            tracing::info!(path = %file.path().display(), "state saved at shutdown");
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// The JSON line a harness reads first in `--log-format json` mode: where the sandbox listens
/// and what it runs.
fn listening_event(
    app: &App,
    addr: SocketAddr,
    scheme: &str,
    https: Option<SocketAddr>,
    state: Option<&crate::persist::StateFile>,
) -> serde_json::Value {
    let running = app.running();
    serde_json::json!({
        "event": "listening",
        "version": env!("CARGO_PKG_VERSION"),
        "url": format!("{scheme}://{addr}"),
        "address": addr.ip().to_string(),
        "port": addr.port(),
        "https_url": https.map(|a| format!("https://{a}")),
        "scenario": running.scenario.name,
        "tenants": running.tenants().iter().map(|t| t.id.as_str()).collect::<Vec<_>>(),
        "admin": format!("{scheme}://{addr}/__admin"),
        "state": state.map(|s| s.path().display().to_string()),
    })
}

/// What a developer needs to start: URLs, credentials, where the keys are.
fn banner(app: &App, addr: SocketAddr, scheme: &str) -> String {
    let running = app.running();
    let host = if addr.ip().is_unspecified() {
        format!("127.0.0.1:{}", addr.port())
    } else {
        addr.to_string()
    };
    let base = format!("{scheme}://{host}");
    let mut out = format!(
        "issuer-sandbox {} listening on {scheme}://{addr}\nscenario: {} ({})\n\n",
        env!("CARGO_PKG_VERSION"),
        running.scenario.name,
        running.scenario.origin
    );
    for provider in app.registry.iter() {
        out.push_str(&provider.banner(&running, &base));
    }
    let merchants: Vec<&str> = running.tenants().iter().map(|t| t.id.as_str()).collect();
    out.push_str(&format!(
        "\ncontrol API      {base}/__admin/health   (reset, scenario, state, requests, clock)\n\
         credentials      {base}/__admin/credentials   (every merchant: {}; platform public keys as PEM)\n\
         test-only keys   fixtures/keys/*.pem in the repository\n\n",
        merchants.join(", ")
    ));
    out.push_str(&match &app.admin_access {
        AdminAccess::LoopbackOnly => {
            "control access   loopback clients only (--admin-token to open it to others)\n\n"
                .to_owned()
        }
        AdminAccess::Token(_) => "control access   any client with the admin token\n\n".to_owned(),
        AdminAccess::RemoteByToken(token) => format!(
            "control access   loopback clients, and others with this token (made at start; set \
             ISSUER_SANDBOX_ADMIN_TOKEN to choose one):\n                 \
             Authorization: Bearer {token}\n\n"
        ),
    });
    out
}

/// Validates each file; prints a line per good file and every problem of a bad one.
fn check(files: &[PathBuf], registry: &providers::Registry) -> ExitCode {
    let mut failed = 0;
    for path in files {
        match Scenario::from_file(path, registry) {
            Ok(scenario) => {
                let (holders, cards) = (0..scenario.tenants.len())
                    .filter_map(|i| scenario.initial_world(i))
                    .fold((0, 0), |(h, c), w| {
                        (h + w.cardholders.len(), c + w.cards().len())
                    });
                let counted = |n: usize, one: &str, many: &str| {
                    format!("{n} {}", if n == 1 { one } else { many })
                };
                println!(
                    "ok: {} ({}, {}, {})",
                    path.display(),
                    counted(scenario.tenants.len(), "merchant", "merchants"),
                    counted(holders, "cardholder", "cardholders"),
                    counted(cards, "card", "cards"),
                );
            }
            Err(error) => {
                failed += 1;
                eprintln!("{error}");
            }
        }
    }
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        eprintln!("{failed} of {} scenario files have problems", files.len());
        ExitCode::from(1)
    }
}

/// `GET {base}/__admin{path}` with the admin token, within `timeout`: status and body. Over
/// https, the server's certificate is checked against the system's roots and `--cacert`.
fn admin_get(
    sandbox: &RunningSandbox,
    path: &str,
    timeout: Duration,
) -> anyhow::Result<(http::StatusCode, bytes::Bytes)> {
    use http_body_util::{BodyExt, Empty};
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;

    let url: http::Uri = format!("{}/__admin{path}", sandbox.url.trim_end_matches('/'))
        .parse()
        .context("invalid --url")?;
    let extra = match &sandbox.cacert {
        Some(file) => {
            let pem = std::fs::read_to_string(file)
                .with_context(|| format!("cannot read --cacert {}", file.display()))?;
            crate::tls::certificates(&pem, "--cacert")?
        }
        None => Vec::new(),
    };
    let tls = crate::tls::verifying_client(&extra);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config((*tls).clone())
            .https_or_http()
            .enable_http1()
            .build();
        let client =
            Client::builder(TokioExecutor::new()).build::<_, Empty<bytes::Bytes>>(connector);
        let mut request = http::Request::get(url).body(Empty::new())?;
        if let Some(token) = sandbox.admin_token.as_deref() {
            request
                .headers_mut()
                .insert("x-admin-token", token.parse()?);
        }
        let response = tokio::time::timeout(timeout, client.request(request)).await??;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        anyhow::Ok((status, body))
    })
}

/// `issuer-sandbox snapshot`: the running sandbox's snapshot (or scenario rendering).
fn snapshot(args: &SnapshotArgs) -> anyhow::Result<ExitCode> {
    let mut query: Vec<String> = Vec::new();
    if let Some(tenant) = &args.tenant {
        let tenant: String = form_urlencoded::byte_serialize(tenant.as_bytes()).collect();
        query.push(format!("tenant={tenant}"));
    }
    if args.as_scenario {
        query.push("format=scenario".to_owned());
    }
    let path = if query.is_empty() {
        "/snapshot".to_owned()
    } else {
        format!("/snapshot?{}", query.join("&"))
    };
    let (status, body) = admin_get(&args.sandbox, &path, Duration::from_secs(60))?;
    if !status.is_success() {
        eprintln!("HTTP {status}: {}", String::from_utf8_lossy(&body));
        return Ok(ExitCode::from(1));
    }
    match &args.out {
        Some(file) => std::fs::write(file, &body)
            .with_context(|| format!("cannot write {}", file.display()))?,
        None => std::io::Write::write_all(&mut std::io::stdout(), &body)?,
    }
    Ok(ExitCode::SUCCESS)
}

fn healthcheck(args: &HealthcheckArgs) -> anyhow::Result<ExitCode> {
    let deadline = std::time::Instant::now() + args.wait.unwrap_or_default();
    let outcome = loop {
        let outcome = admin_get(
            &args.sandbox,
            "/health",
            Duration::from_millis(args.timeout_ms),
        );
        let healthy = matches!(&outcome, Ok((status, _)) if status.is_success());
        if healthy || std::time::Instant::now() >= deadline {
            break outcome;
        }
        // Polling a server that is starting: the only way to learn it is up.
        std::thread::sleep(Duration::from_millis(100));
    };
    match outcome {
        Ok((status, _)) if status.is_success() => {
            println!("healthy");
            Ok(ExitCode::SUCCESS)
        }
        Ok((status, body)) => {
            eprintln!(
                "unhealthy: HTTP {status}: {}",
                String::from_utf8_lossy(&body)
            );
            Ok(ExitCode::from(1))
        }
        Err(error) => {
            eprintln!("unhealthy: {error:#}");
            Ok(ExitCode::from(1))
        }
    }
}

/// Parses `16MiB`, `512KiB`, `10MB`, `2048`.
fn parse_size(text: &str) -> Result<usize, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: usize = number
        .parse()
        .map_err(|_| format!("`{text}` is not a size such as 16MiB"))?;
    let multiplier = match unit.trim() {
        "" | "B" => 1,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        "KB" | "kB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        other => {
            return Err(format!(
                "unknown size unit `{other}`; use B, KiB, MiB, GiB, KB, MB or GB"
            ));
        }
    };
    number
        .checked_mul(multiplier)
        .ok_or_else(|| format!("`{text}` is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_units() {
        assert_eq!(parse_size("16MiB"), Ok(16 * 1024 * 1024));
        assert_eq!(parse_size("2048"), Ok(2048));
        assert_eq!(parse_size("10MB"), Ok(10_000_000));
        assert!(parse_size("ten").is_err());
        assert!(parse_size("5PB").is_err());
    }

    #[test]
    fn command_line_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
