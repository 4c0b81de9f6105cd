//! `issuer-sandbox test`: runs a scenario's `steps` against an in-process sandbox — provider
//! requests in plaintext (the runner seals and opens every envelope itself), clock moves,
//! simulations and control calls — checks their expectations, and reports per step with a
//! diff on failure, a summary and JUnit XML.

mod check;
mod clients;
mod junit;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use self::check::{Mismatch, check_answer, check_state};
use self::clients::Clients;
use crate::providers::Registry;
use crate::providers::client::SendError;
use crate::sandbox::Sandbox;
use crate::scenario::Scenario;
use crate::scenario::steps::{Step, StepAction};

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
pub struct FileRun {
    pub file: String,
    /// Set when the scenario could not be loaded or started (no step ran).
    pub error: Option<String>,
    pub steps: Vec<StepResult>,
    pub elapsed: Duration,
}

impl FileRun {
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

/// Loads `path` for the providers of `registry` and runs its steps.
pub fn run_file(path: &Path, registry: &Registry) -> FileRun {
    let started = Instant::now();
    let label = path.display().to_string();
    match Scenario::from_file(path, registry) {
        Ok(scenario) => run(scenario, &label, registry),
        Err(error) => FileRun {
            file: label,
            error: Some(error.to_string()),
            steps: Vec::new(),
            elapsed: started.elapsed(),
        },
    }
}

/// Runs a loaded scenario's steps against a fresh in-process sandbox serving the providers
/// of `registry` (the ones the scenario was loaded for).
pub fn run(scenario: Scenario, label: &str, registry: &Registry) -> FileRun {
    let started = Instant::now();
    let steps = scenario.steps.clone();
    let clients = Clients::new(&scenario);
    let sandbox = match Sandbox::builder()
        .registry(registry.clone())
        .scenario(scenario)
        .start()
    {
        Ok(sandbox) => sandbox,
        Err(error) => {
            return FileRun {
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
    FileRun {
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
    /// Captured values as the answers gave them (a number stays a number).
    captures: BTreeMap<String, Value>,
}

/// An answer as steps see it.
#[derive(Clone, Debug)]
pub(crate) struct View {
    /// `{status, code, sub_code, body, ...}` for provider answers, `{status, body}` for
    /// control calls.
    pub answer: Value,
    /// Why the answer could not be opened (a broken envelope, an empty or non-JSON answer):
    /// then only `status` and `body` (the raw text, or null when empty) are known.
    pub unopened: Option<String>,
}

impl View {
    pub(crate) fn opened(answer: Value) -> View {
        View {
            answer,
            unopened: None,
        }
    }

    pub(crate) fn unopened(status: u16, raw: &[u8], why: String) -> View {
        let body = if raw.is_empty() {
            Value::Null
        } else {
            Value::String(String::from_utf8_lossy(raw).into_owned())
        };
        View {
            answer: json!({ "status": status, "body": body }),
            unopened: Some(why),
        }
    }

    fn status(&self) -> Option<u64> {
        self.answer["status"].as_u64()
    }

    /// Whether a control call did what it was asked (2xx).
    fn succeeded(&self) -> bool {
        self.status().is_some_and(|s| (200..300).contains(&s))
    }
}

/// How long state expectations wait for the tenant's webhook attempts in flight to be
/// recorded: several attempts to an endpoint that never answers, each given up after the
/// dispatcher's own timeout.
const SETTLE: Duration = Duration::from_secs(4 * crate::webhooks::ATTEMPT_TIMEOUT.as_secs());

impl Runner {
    fn step(&mut self, step: &Step, index: usize) -> Result<(), String> {
        let step = self.interpolate(step)?;
        let tenant = match &step.tenant {
            Some(tenant) => tenant.clone(),
            None => self.clients.first_tenant().to_owned(),
        };
        let view = match step.action() {
            Some(StepAction::Request(request)) => {
                let expects_silence = step.expect.as_ref().is_some_and(|e| e.no_answer);
                match self.clients.send(&self.sandbox, &tenant, request, index) {
                    Ok(view) if expects_silence => {
                        return Err(format!(
                            "expected no answer, but got:\n{}",
                            pretty(&view.answer)
                        ));
                    }
                    Ok(view) => Some(view),
                    Err(SendError::NoAnswer(_)) if expects_silence => None,
                    Err(error) => return Err(error.to_string()),
                }
            }
            Some(StepAction::Advance(by)) => {
                // Without a tenant the control API moves every merchant's clock.
                let mut body = json!({ "by": by });
                if let Some(tenant) = &step.tenant {
                    body["tenant"] = json!(tenant);
                }
                Some(self.control(&step, "POST", "/clock/advance", &body)?)
            }
            Some(StepAction::Simulate(kind, body)) => {
                let mut body = body.clone();
                body.entry("tenant").or_insert(json!(tenant));
                let path = format!("/simulate/{kind}");
                Some(self.control(&step, "POST", &path, &Value::Object(body))?)
            }
            Some(StepAction::Admin(admin)) => {
                Some(self.control(&step, &admin.method, &admin.path, &admin.body)?)
            }
            None => None,
        };
        let mut mismatches: Vec<Mismatch> = Vec::new();
        if let (Some(expect), Some(view)) = (&step.expect, &view) {
            mismatches.extend(check_answer(expect, view));
        }
        if !mismatches.is_empty() {
            return Err(check::report(&mismatches, view.as_ref()));
        }
        if let Some(view) = &view {
            for (name, path) in &step.capture {
                let value = check::field(view, path)
                    .map_err(|why| {
                        format!("capture `{name}`: the answer could not be opened: {why}")
                    })?
                    .ok_or_else(|| {
                        format!(
                            "capture `{name}`: nothing at `{path}` in\n{}",
                            pretty(&view.answer)
                        )
                    })?;
                self.captures.insert(name.clone(), value.clone());
            }
        }
        if !step.expect_state.is_empty() {
            self.expect_state(&tenant, &step.expect_state)?;
        }
        Ok(())
    }

    /// A step's control call: a refusal (not 2xx) fails the step unless the step has
    /// expectations, which then decide.
    fn control(&self, step: &Step, method: &str, path: &str, body: &Value) -> Result<View, String> {
        let view = self.admin(method, path, body)?;
        if step.expect.is_none() && !view.succeeded() {
            return Err(refused(method, path, &view));
        }
        Ok(view)
    }

    /// State expectations, checked once the tenant's webhook attempts are all recorded (the
    /// dispatcher sends them asynchronously): a state read then has everything the step
    /// caused, so an absence is as certain as a presence.
    fn expect_state(&self, tenant: &str, expected: &BTreeMap<String, Value>) -> Result<(), String> {
        let deadline = Instant::now() + SETTLE;
        while !crate::webhooks::settled(self.sandbox.app(), tenant) {
            if Instant::now() >= deadline {
                return Err(format!(
                    "webhook attempts of `{tenant}` still in flight after {SETTLE:?}"
                ));
            }
            // The dispatcher records attempts on its own runtime; nothing to wait on here.
            std::thread::sleep(Duration::from_millis(2));
        }
        let path = state_path(tenant);
        let state = self.admin("GET", &path, &Value::Null)?;
        if !state.succeeded() {
            return Err(refused("GET", &path, &state));
        }
        let mismatches = check_state(expected, &state.answer["body"]);
        if mismatches.is_empty() {
            Ok(())
        } else {
            Err(check::report(&mismatches, None))
        }
    }

    fn admin(&self, method: &str, path: &str, body: &Value) -> Result<View, String> {
        let body = if body.is_null() {
            Vec::new()
        } else {
            body.to_string().into_bytes()
        };
        let (status, bytes) = self
            .clients
            .http(
                method,
                &format!("{}/__admin{path}", self.sandbox.url()),
                &[("content-type".to_owned(), "application/json".to_owned())],
                body,
            )
            .map_err(|e| e.to_string())?;
        let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Ok(View::opened(json!({ "status": status, "body": body })))
    }

    /// `${name}` in every string of the step, from earlier captures. In a request body a
    /// string that is only `"${name}"` takes the captured value with its JSON type, so a
    /// number captured from one answer is sent back as a number (providers that type their
    /// fields refuse `"20000001"` for `20000001`); everywhere else captures are text.
    fn interpolate(&self, step: &Step) -> Result<Step, String> {
        let mut value = serde_json::to_value(step).map_err(|e| e.to_string())?;
        let body = value
            .pointer_mut("/request/body")
            .map(|body| replace_captures(body, &self.captures, Typed::WholeValues))
            .transpose()?;
        let mut replaced = replace_captures(&value, &self.captures, Typed::Never)?;
        if let (Some(body), Some(slot)) = (body, replaced.pointer_mut("/request/body")) {
            *slot = body;
        }
        serde_json::from_value(replaced).map_err(|e| e.to_string())
    }
}

/// Whether a string that is only `${name}` takes the captured value's JSON type.
#[derive(Clone, Copy, PartialEq)]
enum Typed {
    WholeValues,
    Never,
}

fn replace_captures(
    value: &Value,
    captures: &BTreeMap<String, Value>,
    typed: Typed,
) -> Result<Value, String> {
    Ok(match value {
        Value::String(text) => match whole_capture(text).and_then(|name| captures.get(name)) {
            Some(captured) if typed == Typed::WholeValues => captured.clone(),
            _ => Value::String(substitute(text, captures)?),
        },
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| replace_captures(v, captures, typed))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    Ok((
                        substitute(k, captures)?,
                        replace_captures(v, captures, typed)?,
                    ))
                })
                .collect::<Result<_, String>>()?,
        ),
        other => other.clone(),
    })
}

/// The name in a string that is exactly `${name}`.
fn whole_capture(text: &str) -> Option<&str> {
    text.strip_prefix("${")?
        .strip_suffix('}')
        .filter(|name| !name.contains('}') && !name.contains("${"))
}

fn substitute(text: &str, captures: &BTreeMap<String, Value>) -> Result<String, String> {
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
        match value {
            Value::String(text) => out.push_str(text),
            other => out.push_str(&other.to_string()),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The control API's refusal of a call, for the report.
fn refused(method: &str, path: &str, view: &View) -> String {
    format!(
        "the control API refused {method} /__admin{path}: HTTP {}\n{}",
        view.status().unwrap_or_default(),
        pretty(&view.answer["body"])
    )
}

/// `GET /__admin/state` of one tenant; the id is encoded, as it may come from a capture.
fn state_path(tenant: &str) -> String {
    let tenant: String = form_urlencoded::byte_serialize(tenant.as_bytes()).collect();
    format!("/state?tenant={tenant}")
}

fn pretty(value: &Value) -> String {
    let text = serde_json::to_string_pretty(value).unwrap_or_default();
    match text.char_indices().nth(4000) {
        Some((cut, _)) => format!("{}\n  …", &text[..cut]),
        None => text,
    }
}

/// `text` with control characters written out (`\u{1b}`), so that names, messages and
/// answers cannot drive the terminal the report is printed on.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// The readable report: a line per step, diffs under failures, a summary line.
pub fn report(outcomes: &[FileRun]) -> String {
    let mut out = String::new();
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    // Multi-line texts are printed line by line, each indented and escaped.
    let lines = |out: &mut String, text: &str, indent: &str| {
        for line in text.lines() {
            out.push_str(&format!("{indent}{}\n", printable(line)));
        }
    };
    for outcome in outcomes {
        out.push_str(&format!(
            "{} ({} ms)\n",
            printable(&outcome.file),
            outcome.elapsed.as_millis()
        ));
        if let Some(error) = &outcome.error {
            out.push_str("  ✗ cannot run:\n");
            lines(&mut out, error, "    ");
        } else if outcome.steps.is_empty() {
            out.push_str("  (no steps)\n");
        }
        for step in &outcome.steps {
            let name = printable(&step.name);
            match &step.verdict {
                Verdict::Passed => {
                    out.push_str(&format!("  ✓ {name} ({} ms)\n", step.elapsed.as_millis()));
                }
                Verdict::Failed(diff) => {
                    out.push_str(&format!("  ✗ {name}\n"));
                    lines(&mut out, diff, "      ");
                }
                Verdict::Skipped => out.push_str(&format!("  - {name} (skipped)\n")),
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
        let captures = BTreeMap::from([
            ("card".to_owned(), json!("KC1")),
            ("holder".to_owned(), json!(20000001)),
        ]);
        assert_eq!(
            substitute("/holder/${holder}", &captures).unwrap(),
            "/holder/20000001"
        );
        // In a request body a whole `${name}` keeps the captured type; elsewhere it is text.
        let body = json!({ "holder_id": "${holder}", "note": "for ${holder}", "card": "${card}" });
        assert_eq!(
            replace_captures(&body, &captures, Typed::WholeValues).unwrap(),
            json!({ "holder_id": 20000001, "note": "for 20000001", "card": "KC1" })
        );
        assert_eq!(
            replace_captures(&body, &captures, Typed::Never).unwrap()["holder_id"],
            "20000001"
        );
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

    #[test]
    fn tenants_are_encoded_in_the_state_query() {
        assert_eq!(state_path("shop"), "/state?tenant=shop");
        assert_eq!(state_path("a&b c"), "/state?tenant=a%26b+c");
    }

    #[test]
    fn control_characters_are_printed_escaped() {
        assert_eq!(
            printable("red\u{1b}[31m\u{7} 张"),
            "red\\u{1b}[31m\\u{7} 张"
        );
    }
}
