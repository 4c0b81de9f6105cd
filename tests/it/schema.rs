//! The committed JSON Schema (`schema/scenario.schema.json`) is the one the binary generates,
//! every shipped scenario validates against it, and it rejects what the loader rejects by type.

use std::path::{Path, PathBuf};

use serde_json::Value;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn validator() -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(&issuer_sandbox::scenario::json_schema(
        &issuer_sandbox::providers::builtin(),
    ))
    .unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

/// The YAML as a JSON value, the way an editor's schema plugin sees it.
fn as_json(yaml: &str) -> Value {
    serde_saphyr::from_str(yaml).unwrap()
}

/// Every message the schema produces for this YAML.
fn schema_errors(validator: &jsonschema::Validator, yaml: &str) -> Vec<String> {
    let instance = as_json(yaml);
    validator
        .iter_errors(&instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

#[test]
fn the_committed_schema_is_the_generated_one() {
    let committed = std::fs::read_to_string(root().join("schema/scenario.schema.json")).unwrap();
    assert!(
        committed == issuer_sandbox::scenario::json_schema(&issuer_sandbox::providers::builtin()),
        "schema/scenario.schema.json is stale: run \
         `cargo run -- schema > schema/scenario.schema.json`"
    );
}

#[test]
fn every_shipped_scenario_validates() {
    let validator = validator();
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 9, "{files:?}");
    for file in files {
        let errors = schema_errors(&validator, &std::fs::read_to_string(&file).unwrap());
        assert!(errors.is_empty(), "{}: {errors:#?}", file.display());
    }
}

#[test]
fn unknown_keys_and_wrong_types_are_schema_errors() {
    let validator = validator();
    let cases = [
        ("name: x\nnmae: typo\n", "nmae"),
        ("seed: many\n", "seed"),
        (
            "faults:\n  - match: { provider: kazepay }\n    action: { explode: true }\n",
            "explode",
        ),
        (
            "steps:\n  - name: s\n    request: { provider: acedata, path: /x }\n    expect: { statsu: 200 }\n",
            "statsu",
        ),
    ];
    for (yaml, culprit) in cases {
        let errors = schema_errors(&validator, yaml);
        assert!(
            errors.iter().any(|e| e.contains(culprit)),
            "{yaml}: {errors:#?}"
        );
        // The loader agrees: a schema error is a load error.
        assert!(
            issuer_sandbox::scenario::Scenario::from_source(
                yaml,
                "case",
                None,
                &issuer_sandbox::providers::builtin()
            )
            .is_err(),
            "{yaml}"
        );
    }
}

/// `schema/snapshot.schema.json` is the generated one, and a real snapshot (with cards, a held
/// authorization and a fault rule) validates against it while a damaged one does not.
#[test]
fn the_snapshot_schema_is_committed_and_describes_real_snapshots() {
    let committed = std::fs::read_to_string(root().join("schema/snapshot.schema.json")).unwrap();
    assert!(
        committed == issuer_sandbox::snapshot::json_schema(),
        "schema/snapshot.schema.json is stale: run \
         `cargo run -- schema --snapshot > schema/snapshot.schema.json`"
    );
    let schema: Value = serde_json::from_str(&committed).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let sandbox = crate::support::sandbox(&crate::support::FROZEN_DEFAULT);
    let (status, _) = crate::support::admin_send(
        &sandbox,
        "POST",
        "/simulate/transaction",
        r#"{"card":"30000001","kind":"authorization","amount":"5.00"}"#,
    );
    assert_eq!(status, 200);
    let (status, _) =
        crate::support::admin_send(&sandbox, "POST", "/faults", r#"{"action":{"status":503}}"#);
    assert_eq!(status, 201);
    let snapshot = serde_json::to_value(sandbox.snapshot(None)).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&snapshot)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let mut damaged = snapshot;
    damaged["tenants"][0]["world"]["cards"][0]["available"]["amount"] = serde_json::json!(5);
    assert!(!validator.is_valid(&damaged));
}
