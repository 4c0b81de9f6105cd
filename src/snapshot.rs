//! The snapshot document: the complete running state of a sandbox (every tenant's world, the
//! clocks, the random streams' positions, run-time sessions, fault rules with their counters,
//! webhooks owed) and the scenario it came from, carried by content. Versioned JSON; the schema
//! is `schema/snapshot.schema.json` (`issuer-sandbox schema --snapshot`).
//!
//! Taking one locks each tenant in turn, never two at once; restoring builds a whole new
//! running state and checks all of it before anything is replaced, so a refused document
//! changes nothing.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::faults::{FaultBook, FaultsImage};
use crate::providers::Registry;
use crate::running::{Running, Session};
use crate::scenario::Scenario;
use crate::world::World;
use crate::world::image::WorldImage;
use crate::world::rng::SandboxRng;

/// The version this sandbox writes and reads.
pub const SNAPSHOT_VERSION: u64 = 1;

/// A sandbox's running state.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Snapshot {
    /// Always 1 for this format.
    pub snapshot_version: u64,
    /// The scenario the state runs on.
    pub scenario: CarriedScenario,
    /// The stream of requests no tenant could be found for.
    pub shared_rng: SandboxRng,
    /// Fault rules in force (the scenario's and those added at run time), with their counters.
    pub faults: FaultsImage,
    /// Sessions providers opened at run time (access tokens), with their ends.
    pub sessions: Vec<SessionImage>,
    /// Tenants' worlds, in scenario order. A snapshot of one tenant (`?tenant=`) holds one.
    pub tenants: Vec<TenantImage>,
}

/// A scenario by content: its text and the key files it read, so it restores anywhere.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CarriedScenario {
    /// Where it was loaded from (a path, or a label), for people.
    pub origin: String,
    /// The YAML text.
    pub source: String,
    /// Key files it names by path, by that path.
    pub key_files: BTreeMap<String, String>,
}

/// One session: the provider that opened it, its token, its merchant and end.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionImage {
    pub provider: String,
    pub token: String,
    pub tenant: String,
    pub expires_at: Timestamp,
}

/// One tenant: its merchant id and its world.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantImage {
    pub id: String,
    pub world: WorldImage,
}

/// Why a document cannot be restored: each problem with the JSON path it concerns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{}", .problems.iter().map(|p| format!("{}: {}", p.path, p.message)).collect::<Vec<_>>().join("; "))]
pub struct SnapshotError {
    pub problems: Vec<Problem>,
}

/// One problem and where.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// A JSON path into the document (`$.tenants[0].world.cards[3].pan`).
    pub path: String,
    pub message: String,
}

impl SnapshotError {
    fn at(path: impl Into<String>, message: impl Into<String>) -> SnapshotError {
        SnapshotError {
            problems: vec![Problem {
                path: path.into(),
                message: message.into(),
            }],
        }
    }
}

/// Takes the snapshot of `running`: all tenants, or only `tenant` (with its sessions).
pub fn take(running: &Running, tenant: Option<&str>) -> Snapshot {
    let scenario = &running.scenario;
    let tenants: Vec<_> = running
        .tenants()
        .iter()
        .filter(|t| tenant.is_none_or(|id| t.id == id))
        .collect();
    let indexes: Vec<usize> = tenants.iter().map(|t| t.index).collect();
    Snapshot {
        snapshot_version: SNAPSHOT_VERSION,
        scenario: CarriedScenario {
            origin: scenario.origin.clone(),
            source: scenario.source.clone(),
            key_files: scenario.key_files.clone(),
        },
        shared_rng: running.shared_rng(),
        faults: running.faults.image(),
        sessions: running
            .all_sessions()
            .into_iter()
            .filter(|(_, _, s)| indexes.contains(&s.tenant))
            .map(|(provider, token, session)| SessionImage {
                provider: provider.to_owned(),
                token,
                tenant: running.tenants()[session.tenant].id.clone(),
                expires_at: session.expires_at,
            })
            .collect(),
        tenants: tenants
            .iter()
            .map(|t| TenantImage {
                id: t.id.clone(),
                world: t.with_world(|world| world.image()),
            })
            .collect(),
    }
}

/// Reads a document: JSON, of a version this sandbox knows, shaped as [`Snapshot`]. A
/// structural problem is reported with the path where reading stopped.
pub fn read(bytes: &[u8]) -> Result<Snapshot, SnapshotError> {
    /// The version alone, the rest skipped: a document of another version is refused for
    /// that, whatever else it holds.
    #[derive(Deserialize)]
    struct Version {
        snapshot_version: Option<Value>,
    }
    // A derived struct would also read a JSON array (field by position).
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(SnapshotError::at(
            "$",
            "not a snapshot document: it is a JSON object, starting with {",
        ));
    }
    let version: Version = serde_json::from_slice(bytes).map_err(|e| {
        SnapshotError::at(
            "$",
            format!("not JSON (line {}, column {}): {e}", e.line(), e.column()),
        )
    })?;
    match version.snapshot_version.as_ref().and_then(Value::as_u64) {
        Some(SNAPSHOT_VERSION) => {}
        Some(other) => {
            return Err(SnapshotError::at(
                "$.snapshot_version",
                format!(
                    "version {other} is not one this sandbox reads (it reads {SNAPSHOT_VERSION}); use the release that wrote it"
                ),
            ));
        }
        None => {
            return Err(SnapshotError::at(
                "$.snapshot_version",
                "missing: a snapshot document starts with \"snapshot_version\": 1",
            ));
        }
    }
    let mut document = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut document).map_err(|e| {
        let path = e.path().to_string();
        SnapshotError::at(json_path(&path), e.into_inner().to_string())
    })
}

/// `tenants[0].world` as a JSON path (`$.tenants[0].world`).
fn json_path(path: &str) -> String {
    if path == "." || path.is_empty() {
        "$".to_owned()
    } else {
        format!("$.{path}")
    }
}

/// The running state a snapshot describes, checked whole: its scenario loads, every tenant it
/// names is one of the scenario's, every world's keys are unique, every fault rule compiles and
/// every session names a provider and tenant. Tenants the snapshot leaves out start as the
/// scenario starts them.
pub fn restore(snapshot: Snapshot, registry: &Registry) -> Result<Running, SnapshotError> {
    let carried = &snapshot.scenario;
    let scenario = Scenario::from_carried(
        &carried.source,
        &carried.origin,
        &carried.key_files,
        registry,
    )
    .map_err(|e| SnapshotError::at("$.scenario.source", e.to_string()))?;
    let mut problems = Vec::new();
    let mut worlds: Vec<Option<World>> = (0..scenario.tenants.len()).map(|_| None).collect();
    for (n, tenant) in snapshot.tenants.into_iter().enumerate() {
        let Some(index) = scenario.tenants.iter().position(|t| t.id() == tenant.id) else {
            problems.push(Problem {
                path: format!("$.tenants[{n}].id"),
                message: format!("`{}` is not a merchant of the scenario", tenant.id),
            });
            continue;
        };
        if worlds[index].is_some() {
            problems.push(Problem {
                path: format!("$.tenants[{n}].id"),
                message: format!("`{}` appears twice", tenant.id),
            });
            continue;
        }
        let rules = scenario
            .initial_world(index)
            .map(|w| w.rules.clone())
            .unwrap_or_default();
        match World::from_image(tenant.world, rules) {
            Ok(world) => worlds[index] = Some(world),
            Err(found) => problems.extend(found.into_iter().map(|p| Problem {
                path: format!("$.tenants[{n}].world.{}", p.path),
                message: p.message,
            })),
        }
    }
    let names = registry.names();
    let mut sessions = Vec::new();
    for (n, s) in snapshot.sessions.into_iter().enumerate() {
        let provider = names.iter().find(|name| **name == s.provider);
        let tenant = scenario.tenants.iter().position(|t| t.id() == s.tenant);
        match (provider, tenant) {
            (Some(provider), Some(tenant)) => sessions.push((
                *provider,
                s.token,
                Session {
                    tenant,
                    expires_at: s.expires_at,
                },
            )),
            (None, _) => problems.push(Problem {
                path: format!("$.sessions[{n}].provider"),
                message: format!("`{}` is not a provider of this sandbox", s.provider),
            }),
            (_, None) => problems.push(Problem {
                path: format!("$.sessions[{n}].tenant"),
                message: format!("`{}` is not a merchant of the scenario", s.tenant),
            }),
        }
    }
    let faults = FaultBook::from_image(snapshot.faults, scenario.seed, registry).map_err(|found| {
        found
            .into_iter()
            .map(|(n, message)| Problem {
                path: format!("$.faults.rules[{n}]"),
                message,
            })
            .collect::<Vec<_>>()
    });
    let faults = match faults {
        Ok(faults) => Some(faults),
        Err(found) => {
            problems.extend(found);
            None
        }
    };
    match faults {
        Some(faults) if problems.is_empty() => {
            let worlds = worlds
                .into_iter()
                .enumerate()
                .map(|(index, world)| {
                    world.unwrap_or_else(|| {
                        scenario
                            .fresh_world(index)
                            .expect("index comes from the same list")
                    })
                })
                .collect();
            Ok(Running::assemble(
                scenario,
                worlds,
                sessions,
                snapshot.shared_rng,
                faults,
            ))
        }
        _ => Err(SnapshotError { problems }),
    }
}

/// What a restore replaced.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Restored {
    /// `all`: the whole running state; `tenants`: only the tenants named.
    pub scope: &'static str,
    pub tenants: Vec<String>,
}

/// Restores `document` into `app`, checked whole first (a refused one changes nothing). A
/// document naming every tenant, or a scenario other than the running one, replaces the whole
/// running state; one naming some tenants of the running scenario replaces only theirs (their
/// worlds and sessions), leaving the others, the fault rules and the shared stream as they are.
pub fn restore_into(app: &crate::app::App, document: Snapshot) -> Result<Restored, SnapshotError> {
    let running = app.running();
    let partial = document.tenants.len() < running.tenants().len()
        && document.scenario.source == running.scenario.source
        && document.scenario.key_files == running.scenario.key_files;
    let tenants: Vec<String> = document.tenants.iter().map(|t| t.id.clone()).collect();
    let restored = restore(document, &app.registry)?;
    if partial {
        for id in &tenants {
            if let (Some(from), Some(into)) = (restored.tenant(id), running.tenant(id)) {
                let world = from.with_world(|world| world.clone());
                let sessions = restored
                    .all_sessions()
                    .into_iter()
                    .filter(|(_, _, s)| s.tenant == from.index)
                    .collect();
                running.put_tenant(into, world, sessions);
            }
        }
        app.state_changed();
        app.webhook_wake.notify_one();
    } else {
        app.replace_running(restored);
    }
    let scope = if partial { "tenants" } else { "all" };
    tracing::info!(scope, ?tenants, "snapshot restored");
    Ok(Restored { scope, tenants })
}

/// The JSON Schema of snapshot documents (`schema/snapshot.schema.json`).
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(Snapshot);
    // A schema is JSON by construction.
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

/// The document as written to files and the control API: compact JSON (one line), so writing,
/// reading and writing again gives the same bytes.
pub fn to_bytes(snapshot: &Snapshot) -> Vec<u8> {
    // Our own types with string keys only: serialising cannot fail.
    serde_json::to_vec(snapshot).unwrap_or_default()
}
