//! `issuer-sandbox test`: runs a scenario's `steps` against an in-process sandbox — provider
//! requests in plaintext (the runner seals and opens every envelope itself), clock moves,
//! simulations and control calls — checks their expectations, and reports per step with a
//! diff on failure, a summary and JUnit XML.

mod check;
mod junit;
mod providers;
pub mod step;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use self::check::{Mismatch, check_answer, check_state};
use self::providers::Clients;
use self::step::Step;
use crate::sandbox::Sandbox;
use crate::scenario::Scenario;

pub use junit::junit;

/// How a step ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    Passed,
    /// What differed, ready to print.
    Failed(String),
    /// Not run: an earlier step failed.
    Skipped,
}

/// One step's result.
#[derive(Clone, Debug)]
pub struct StepResult {
    pub name: String,
    pub verdict: Verdict,
    pub elapsed: Duration,
}

/// One scenario file's results.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub file: String,
    /// Set when the scenario could not be loaded or started (no step ran).
    pub error: Option<String>,
    pub steps: Vec<StepResult>,
    pub elapsed: Duration,
}

impl Outcome {
    pub fn passed(&self) -> usize {
        self.count(|v| *v == Verdict::Passed)
    }

    pub fn failed(&self) -> usize {
        self.count(|v| matches!(v, Verdict::Failed(_))) + usize::from(self.error.is_some())
    }

    pub fn skipped(&self) -> usize {
        self.count(|v| *v == Verdict::Skipped)
    }

    fn count(&self, f: impl Fn(&Verdict) -> bool) -> usize {
        self.steps.iter().filter(|s| f(&s.verdict)).count()
    }
}

/// Loads `path` and runs its steps.
pub fn run_file(path: &Path) -> Outcome {
    let started = Instant::now();
    let label = path.display().to_string();
    match Scenario::from_file(path) {
        Ok(scenario) => run(scenario, &label),
        Err(error) => Outcome {
            file: label,
            error: Some(error.to_string()),
            steps: Vec::new(),
            elapsed: started.elapsed(),
        },
    }
}

/// Runs a loaded scenario's steps against a fresh in-process sandbox.
pub fn run(scenario: Scenario, label: &str) -> Outcome {
    let started = Instant::now();
    let steps = scenario.steps.clone();
    let clients = Clients::new(&scenario);
    let sandbox = match Sandbox::builder().scenario(scenario).start() {
        Ok(sandbox) => sandbox,
        Err(error) => {
            return Outcome {
                file: label.to_owned(),
                error: Some(error.to_string()),
                steps: Vec::new(),
                elapsed: started.elapsed(),
            };
        }
    };
    let mut runner = Runner {
        sandbox,
        clients,
        captures: BTreeMap::new(),
    };
    let mut results = Vec::with_capacity(steps.len());
    let mut failed = false;
    for (index, step) in steps.iter().enumerate() {
        let name = step
            .name
            .clone()
            .unwrap_or_else(|| format!("step {}", index + 1));
        if failed {
            results.push(StepResult {
                name,
                verdict: Verdict::Skipped,
                elapsed: Duration::ZERO,
            });
            continue;
        }
        let step_started = Instant::now();
        let verdict = match runner.step(step, index) {
            Ok(()) => Verdict::Passed,
            Err(diff) => {
                failed = true;
                Verdict::Failed(diff)
            }
        };
        results.push(StepResult {
            name,
            verdict,
            elapsed: step_started.elapsed(),
        });
    }
    Outcome {
        file: label.to_owned(),
        error: None,
        steps: results,
        elapsed: started.elapsed(),
    }
}

/// A running scenario: the sandbox, the provider clients and what earlier steps captured.
struct Runner {
    sandbox: Sandbox,
    clients: Clients,
    captures: BTreeMap<String, String>,
}

/// How the clients' errors start when a request got no answer at all.
pub(crate) const NO_ANSWER: &str = "no answer: ";

/// An answer as steps see it: `{status, code, sub_code, body}`.
pub(crate) type View = Value;

impl Runner {
    fn step(&mut self, step: &Step, index: usize) -> Result<(), String> {
        let step = self.interpolate(step)?;
        let tenant = match &step.tenant {
            Some(tenant) => tenant.clone(),
            None => self.clients.first_tenant().to_owned(),
        };
        let actions = usize::from(step.request.is_some())
            + usize::from(step.advance.is_some())
            + usize::from(step.simulate.is_some())
            + usize::from(step.admin.is_some());
        if actions > 1 {
            return Err("a step does one of request, advance, simulate, admin".to_owned());
        }
        let view = if let Some(request) = &step.request {
            let expects_silence = step.expect.as_ref().is_some_and(|e| e.no_answer);
            match self.clients.send(&self.sandbox, &tenant, request, index) {
                Ok(view) if expects_silence => {
                    return Err(format!("expected no answer, but got:\n{}", pretty(&view)));
                }
                Ok(view) => Some(view),
                Err(error) if expects_silence && error.starts_with(NO_ANSWER) => None,
                Err(error) => return Err(error),
            }
        } else if let Some(by) = &step.advance {
            Some(self.admin("POST", "/clock/advance", &json!({ "by": by }))?)
        } else if let Some(simulation) = &step.simulate {
            let (kind, body) = simulation
                .iter()
                .next()
                .filter(|_| simulation.len() == 1)
                .ok_or("simulate names exactly one of kyc, transaction, card-status, production, recharge")?;
            let mut body = body.clone();
            if let Some(object) = body.as_object_mut() {
                object.entry("tenant").or_insert(json!(tenant));
            }
            Some(self.admin("POST", &format!("/simulate/{kind}"), &body)?)
        } else if let Some(admin) = &step.admin {
            Some(self.admin(&admin.method, &admin.path, &admin.body)?)
        } else {
            None
        };
        let mut mismatches: Vec<Mismatch> = Vec::new();
        if let (Some(expect), Some(view)) = (&step.expect, &view) {
            mismatches.extend(check_answer(expect, view));
        }
        if let Some(view) = &view
            && mismatches.is_empty()
        {
            for (name, path) in &step.capture {
                let value = check::lookup(view, path).ok_or_else(|| {
                    format!("capture `{name}`: nothing at `{path}` in\n{}", pretty(view))
                })?;
                let text = match value {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                self.captures.insert(name.clone(), text);
            }
        }
        if !mismatches.is_empty() {
            return Err(check::report(&mismatches, view.as_ref()));
        }
        if !step.expect_state.is_empty() {
            self.expect_state(&tenant, &step.expect_state)?;
        }
        Ok(())
    }

    /// State expectations, given a moment for the webhook dispatcher (it records attempts
    /// asynchronously): checked until they hold, for up to two seconds.
    fn expect_state(&self, tenant: &str, expected: &BTreeMap<String, Value>) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(2);
        loop {
            let state = self.admin("GET", &format!("/state?tenant={tenant}"), &Value::Null)?;
            let state = &state["body"];
            let mismatches = check_state(expected, state);
            if mismatches.is_empty() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(check::report(&mismatches, None));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn admin(&self, method: &str, path: &str, body: &Value) -> Result<View, String> {
        let body = if body.is_null() {
            Vec::new()
        } else {
            body.to_string().into_bytes()
        };
        let (status, bytes) = self.clients.http(
            method,
            &format!("{}/__admin{path}", self.sandbox.url()),
            &[("content-type".to_owned(), "application/json".to_owned())],
            body,
        )?;
        let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Ok(json!({ "status": status, "body": body }))
    }

    /// `${name}` in every string of the step, from earlier captures.
    fn interpolate(&self, step: &Step) -> Result<Step, String> {
        let value = serde_json::to_value(step).map_err(|e| e.to_string())?;
        let replaced = replace_captures(&value, &self.captures)?;
        serde_json::from_value(replaced).map_err(|e| e.to_string())
    }
}

fn replace_captures(value: &Value, captures: &BTreeMap<String, String>) -> Result<Value, String> {
    Ok(match value {
        Value::String(text) => Value::String(substitute(text, captures)?),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| replace_captures(v, captures))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| Ok((substitute(k, captures)?, replace_captures(v, captures)?)))
                .collect::<Result<_, String>>()?,
        ),
        other => other.clone(),
    })
}

fn substitute(text: &str, captures: &BTreeMap<String, String>) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| format!("unclosed `${{` in `{text}`"))?;
        let name = &after[..end];
        let value = captures
            .get(name)
            .ok_or_else(|| format!("`${{{name}}}` was not captured by an earlier step"))?;
        out.push_str(value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn pretty(value: &Value) -> String {
    let text = serde_json::to_string_pretty(value).unwrap_or_default();
    match text.char_indices().nth(4000) {
        Some((cut, _)) => format!("{}\n  …", &text[..cut]),
        None => text,
    }
}

/// The readable report: a line per step, diffs under failures, a summary line.
pub fn report(outcomes: &[Outcome]) -> String {
    let mut out = String::new();
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    for outcome in outcomes {
        out.push_str(&format!(
            "{} ({} ms)\n",
            outcome.file,
            outcome.elapsed.as_millis()
        ));
        if let Some(error) = &outcome.error {
            out.push_str(&format!(
                "  ✗ cannot run: {}\n",
                error.replace('\n', "\n    ")
            ));
        }
        for step in &outcome.steps {
            match &step.verdict {
                Verdict::Passed => {
                    out.push_str(&format!(
                        "  ✓ {} ({} ms)\n",
                        step.name,
                        step.elapsed.as_millis()
                    ));
                }
                Verdict::Failed(diff) => {
                    out.push_str(&format!("  ✗ {}\n", step.name));
                    for line in diff.lines() {
                        out.push_str(&format!("      {line}\n"));
                    }
                }
                Verdict::Skipped => out.push_str(&format!("  - {} (skipped)\n", step.name)),
            }
        }
        passed += outcome.passed();
        failed += outcome.failed();
        skipped += outcome.skipped();
    }
    out.push_str(&format!("{passed} passed, {failed} failed"));
    if skipped > 0 {
        out.push_str(&format!(", {skipped} skipped"));
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captures_are_substituted_and_missing_ones_named() {
        let captures = BTreeMap::from([("card".to_owned(), "KC1".to_owned())]);
        assert_eq!(
            substitute("/card/${card}/detail", &captures).unwrap(),
            "/card/KC1/detail"
        );
        assert!(
            substitute("${nope}", &captures)
                .unwrap_err()
                .contains("nope")
        );
        assert!(substitute("${card", &captures).is_err());
        assert_eq!(
            substitute("plain $ text", &captures).unwrap(),
            "plain $ text"
        );
    }
}
