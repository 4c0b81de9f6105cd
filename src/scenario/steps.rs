//! The written form of a scenario's `steps` (run by `issuer-sandbox test`): requests in
//! plaintext, clock moves, simulations and control calls, with expectations and captures.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One step: at most one thing to do, then what to check and keep.
#[derive(Clone, Debug, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Shown in the report; default `step N`.
    #[serde(default, deserialize_with = "strict::text")]
    pub name: Option<String>,
    /// The merchant to act as (one of the scenario's); default the first. An `advance`
    /// without one moves every merchant's clock.
    #[serde(default, deserialize_with = "strict::text")]
    pub tenant: Option<String>,
    pub request: Option<RequestStep>,
    /// Moves the sandbox clock (`30s`, `1h 30m`, `PT2H`).
    #[serde(default, deserialize_with = "strict::text")]
    pub advance: Option<String>,
    /// An issuer-side simulation (`POST /__admin/simulate/...`).
    pub simulate: Option<Simulate>,
    /// Any control-API call (`{method, path, body?}`), e.g. adding a fault.
    pub admin: Option<AdminStep>,
    /// Checks on the answer: `status`, `code`, `sub_code`, `fields`, or `no_answer`.
    pub expect: Option<Expect>,
    /// Values to keep from the answer: name → dotted path (`body.card_token`).
    #[serde(default)]
    pub capture: BTreeMap<String, String>,
    /// Checks on the merchant's state (`GET /__admin/state`) after the step: path → value.
    #[serde(default)]
    pub expect_state: BTreeMap<String, Value>,
}

/// What a provider's request steps name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepTarget {
    /// An operation (an endpoint, an apiCode).
    Operation,
    /// A path, starting with `/`.
    Path,
    /// A path, and the method if not the provider's usual one.
    PathAndMethod,
}

/// A provider request, in plaintext: the runner seals and opens envelopes itself.
#[derive(Clone, Debug, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestStep {
    /// A provider's name.
    #[serde(deserialize_with = "strict::required_text")]
    pub provider: String,
    /// The operation, for providers that name one (an endpoint, an apiCode).
    #[serde(default, deserialize_with = "strict::text")]
    pub operation: Option<String>,
    /// The path, starting with `/`, for providers that name one.
    #[serde(default, deserialize_with = "strict::text")]
    pub path: Option<String>,
    /// The method, for providers whose requests take several (`GET` or `POST`).
    #[serde(default, deserialize_with = "strict::text")]
    pub method: Option<String>,
    /// The plaintext body (what an envelope carries, or the JSON body).
    #[serde(default)]
    pub body: Value,
    /// Headers to send; one named like a header the runner sends (any case) replaces it.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

/// `{kyc | transaction | card-status | production | recharge: {...}}`: exactly one, its
/// control-API body (the step's tenant is added when the body has none).
#[derive(Clone, Debug, Default, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("minProperties" = 1, "maxProperties" = 1))]
pub struct Simulate {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kyc: Option<Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transaction: Option<Map<String, Value>>,
    #[serde(rename = "card-status", skip_serializing_if = "Option::is_none")]
    pub card_status: Option<Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub production: Option<Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recharge: Option<Map<String, Value>>,
}

impl Simulate {
    /// The simulations given: the control-API route (`/simulate/KIND`) and body of each.
    pub fn given(&self) -> Vec<(&'static str, &Map<String, Value>)> {
        [
            ("kyc", &self.kyc),
            ("transaction", &self.transaction),
            ("card-status", &self.card_status),
            ("production", &self.production),
            ("recharge", &self.recharge),
        ]
        .into_iter()
        .filter_map(|(kind, body)| body.as_ref().map(|b| (kind, b)))
        .collect()
    }
}

/// A control-API call.
#[derive(Clone, Debug, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AdminStep {
    #[serde(deserialize_with = "strict::required_text")]
    pub method: String,
    /// After `/__admin`, starting with `/`, e.g. `/faults`.
    #[serde(deserialize_with = "strict::required_text")]
    pub path: String,
    #[serde(default)]
    pub body: Value,
}

/// Expectations on an answer, seen as `{status, code, sub_code, body, ...}`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// HTTP status.
    #[serde(default, deserialize_with = "strict::status")]
    pub status: Option<u16>,
    /// The provider's code (its answer's result or error code), as text.
    #[serde(default, deserialize_with = "strict::text")]
    pub code: Option<String>,
    /// The provider's sub-code, where it has one.
    #[serde(default, deserialize_with = "strict::text")]
    pub sub_code: Option<String>,
    /// Dotted path → an exact value, `{like: "glob"}` or `{exists: bool}`.
    #[serde(default)]
    pub fields: BTreeMap<String, Value>,
    /// Requests only: the request gets no answer at all (the connection closes, or nothing
    /// comes in time); nothing else can be checked then.
    #[serde(default, deserialize_with = "strict::flag")]
    pub no_answer: bool,
}

/// The one thing a step does.
#[derive(Clone, Copy, Debug)]
pub enum StepAction<'s> {
    Request(&'s RequestStep),
    Advance(&'s str),
    /// The simulation's kind (its route) and body.
    Simulate(&'static str, &'s Map<String, Value>),
    Admin(&'s AdminStep),
}

/// The actions a step may name, for messages.
const ACTIONS: &str = "request, advance, simulate, admin";

impl Step {
    /// Every action the step names (a valid step names at most one).
    fn actions(&self) -> Vec<StepAction<'_>> {
        let mut actions = Vec::new();
        actions.extend(self.request.as_ref().map(StepAction::Request));
        actions.extend(self.advance.as_deref().map(StepAction::Advance));
        if let Some(simulate) = &self.simulate {
            actions.extend(
                simulate
                    .given()
                    .into_iter()
                    .map(|(kind, body)| StepAction::Simulate(kind, body)),
            );
        }
        actions.extend(self.admin.as_ref().map(StepAction::Admin));
        actions
    }

    /// What the step does; `None` for a step that only checks the state.
    pub fn action(&self) -> Option<StepAction<'_>> {
        self.actions().into_iter().next()
    }

    /// What is wrong with the step that its types cannot say, given the scenario's merchant
    /// ids and the providers served (with what their requests name). Values holding a
    /// `${capture}` are only known when the step runs and are checked then (by the control
    /// API).
    pub fn problems(
        &self,
        merchants: &[&str],
        providers: &[(&'static str, StepTarget)],
    ) -> Vec<String> {
        let mut problems = Vec::new();
        let simulations = self.simulate.as_ref().map_or(0, |s| s.given().len());
        if simulations != 1 && self.simulate.is_some() {
            problems.push(
                "simulate names exactly one of kyc, transaction, card-status, production, recharge"
                    .to_owned(),
            );
        }
        let named = usize::from(self.request.is_some())
            + usize::from(self.advance.is_some())
            + usize::from(self.simulate.is_some())
            + usize::from(self.admin.is_some());
        if named > 1 {
            problems.push(format!("a step does one of {ACTIONS}"));
        }
        if named == 0 {
            if self.expect.is_some() || !self.capture.is_empty() {
                problems.push(format!(
                    "`expect` and `capture` need an answer: the step needs one of {ACTIONS}"
                ));
            } else if self.expect_state.is_empty() {
                problems.push(format!(
                    "the step does nothing: it needs one of {ACTIONS} or expect_state"
                ));
            }
        }
        if let Some(tenant) = &self.tenant
            && !captured(tenant)
            && !merchants.contains(&tenant.as_str())
        {
            problems.push(format!(
                "no merchant `{tenant}` in the scenario; one of {}",
                merchants.join(", ")
            ));
        }
        if let Some(expect) = &self.expect
            && expect.no_answer
        {
            if self.request.is_none() {
                problems.push(
                    "`no_answer` is only for requests: control calls are always answered"
                        .to_owned(),
                );
            }
            if expect.status.is_some()
                || expect.code.is_some()
                || expect.sub_code.is_some()
                || !expect.fields.is_empty()
                || !self.capture.is_empty()
            {
                problems.push(
                    "`no_answer` leaves nothing else to check: no status, code, sub_code, fields or capture"
                        .to_owned(),
                );
            }
        }
        if let Some(by) = &self.advance
            && !captured(by)
        {
            problems.extend(duration_problem(by));
        }
        if let Some(request) = &self.request {
            problems.extend(request.problems(providers));
        }
        if let Some(admin) = &self.admin {
            if http::Method::from_bytes(admin.method.as_bytes()).is_err() {
                problems.push(format!("`{}` is not an HTTP method", admin.method));
            }
            problems.extend(path_problem(&admin.path));
            if self.tenant.is_some() {
                problems.push(
                    "an admin step does not use `tenant`: give it in the call's body or query"
                        .to_owned(),
                );
            }
        }
        problems
    }
}

impl RequestStep {
    fn problems(&self, providers: &[(&'static str, StepTarget)]) -> Vec<String> {
        let name = &self.provider;
        let Some((_, target)) = providers.iter().find(|(p, _)| p == name) else {
            let names: Vec<&str> = providers.iter().map(|(p, _)| *p).collect();
            return vec![format!("no provider `{name}`; one of {}", names.join(", "))];
        };
        let mut problems = Vec::new();
        if *target == StepTarget::Operation {
            if self.operation.is_none() {
                problems.push(format!("a {name} request needs `operation`"));
            }
            if self.path.is_some() {
                problems.push(format!(
                    "a {name} request names an `operation`, not a `path`"
                ));
            }
        } else {
            match &self.path {
                None => problems.push(format!("a {name} request needs `path`")),
                Some(path) => problems.extend(path_problem(path)),
            }
            if self.operation.is_some() {
                problems.push(format!(
                    "a {name} request names a `path`, not an `operation`"
                ));
            }
        }
        if self.method.is_some() && *target != StepTarget::PathAndMethod {
            problems.push(format!("a {name} request takes no `method`"));
        }
        problems
    }
}

/// Whether a value holds a capture (`${name}`), known only when the step runs.
fn captured(text: &str) -> bool {
    text.contains("${")
}

/// A path is appended to the sandbox's address: without its `/` it would run into the port.
fn path_problem(path: &str) -> Option<String> {
    (!path.starts_with('/')).then(|| format!("the path `{path}` must start with `/`"))
}

/// Why `by` is not something `POST /__admin/clock/advance` takes, if it is not. The same
/// parse as the control API's, so what loads is what the clock accepts.
fn duration_problem(by: &str) -> Option<String> {
    match by.parse::<jiff::SignedDuration>() {
        Err(error) => Some(format!(
            "advance: `{by}` is not a duration such as \"30s\", \"1h 30m\" or \"PT2H\": {error}"
        )),
        Ok(by) if by.is_negative() => Some(
            "advance: the clock only advances (an admin step with PUT /clock sets it)".to_owned(),
        ),
        Ok(_) => None,
    }
}

/// Deserializers that take a value only in the type the schema gives it. A YAML scalar can be
/// read as several types (`"200"` as a number, `0` as text, `yes` as a flag); these ask the
/// parser what the scalar is (quoted text, a plain number, a boolean) and refuse the others,
/// so the loader refuses what an editor's schema check refuses.
mod strict {
    use std::fmt;

    use serde::Deserializer;
    use serde::de::{Error, Unexpected, Visitor};

    /// The kinds of value a field may hold.
    #[derive(Clone, Copy)]
    enum Kind {
        Text,
        Status,
        Flag,
    }

    /// What a strict field was given.
    enum Given {
        Null,
        Text(String),
        Number(u64),
        Flag(bool),
    }

    struct Strict(Kind);

    impl<'de> Visitor<'de> for Strict {
        type Value = Given;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(match self.0 {
                Kind::Text => "text (quote numbers and booleans: \"0\")",
                Kind::Status => "an HTTP status number (unquoted: 200)",
                Kind::Flag => "true or false (unquoted)",
            })
        }

        fn visit_unit<E: Error>(self) -> Result<Given, E> {
            Ok(Given::Null)
        }

        fn visit_none<E: Error>(self) -> Result<Given, E> {
            Ok(Given::Null)
        }

        fn visit_str<E: Error>(self, v: &str) -> Result<Given, E> {
            match self.0 {
                Kind::Text => Ok(Given::Text(v.to_owned())),
                _ => Err(E::invalid_type(Unexpected::Str(v), &self)),
            }
        }

        fn visit_u64<E: Error>(self, v: u64) -> Result<Given, E> {
            match self.0 {
                Kind::Status => Ok(Given::Number(v)),
                _ => Err(E::invalid_type(Unexpected::Unsigned(v), &self)),
            }
        }

        fn visit_i64<E: Error>(self, v: i64) -> Result<Given, E> {
            match u64::try_from(v) {
                Ok(v) => self.visit_u64(v),
                Err(_) => Err(E::invalid_type(Unexpected::Signed(v), &self)),
            }
        }

        fn visit_f64<E: Error>(self, v: f64) -> Result<Given, E> {
            Err(E::invalid_type(Unexpected::Float(v), &self))
        }

        fn visit_bool<E: Error>(self, v: bool) -> Result<Given, E> {
            match self.0 {
                Kind::Flag => Ok(Given::Flag(v)),
                _ => Err(E::invalid_type(Unexpected::Bool(v), &self)),
            }
        }
    }

    pub fn text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        match d.deserialize_any(Strict(Kind::Text))? {
            Given::Text(text) => Ok(Some(text)),
            _ => Ok(None),
        }
    }

    pub fn required_text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        text(d)?.ok_or_else(|| D::Error::invalid_type(Unexpected::Unit, &Strict(Kind::Text)))
    }

    pub fn status<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u16>, D::Error> {
        match d.deserialize_any(Strict(Kind::Status))? {
            Given::Number(n) => u16::try_from(n).map(Some).map_err(|_| {
                D::Error::invalid_value(Unexpected::Unsigned(n), &Strict(Kind::Status))
            }),
            _ => Ok(None),
        }
    }

    pub fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
        match d.deserialize_any(Strict(Kind::Flag))? {
            Given::Flag(flag) => Ok(flag),
            _ => Ok(false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(json: Value) -> Step {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn a_step_names_one_action_its_provider_needs() {
        let merchants = ["shop"];
        let providers = [
            ("bank", StepTarget::Operation),
            ("issuer", StepTarget::Path),
        ];
        let ok =
            step(serde_json::json!({ "request": { "provider": "bank", "operation": "check-1e" } }));
        assert!(ok.problems(&merchants, &providers).is_empty());
        assert!(matches!(ok.action(), Some(StepAction::Request(_))));
        let two = step(
            serde_json::json!({ "advance": "1m", "admin": { "method": "GET", "path": "/clock" } }),
        );
        assert!(two.problems(&merchants, &providers)[0].contains("one of"));
        let captured = step(serde_json::json!({ "advance": "${later}", "tenant": "${who}" }));
        assert!(captured.problems(&merchants, &providers).is_empty());
        let wrong = step(
            serde_json::json!({ "request": { "provider": "issuer", "operation": "x", "method": "GET" } }),
        );
        let problems = wrong.problems(&merchants, &providers);
        assert_eq!(problems.len(), 3, "{problems:?}");
        let unknown =
            step(serde_json::json!({ "request": { "provider": "nobody", "path": "/x" } }));
        assert_eq!(
            unknown.problems(&merchants, &providers),
            ["no provider `nobody`; one of bank, issuer"]
        );
    }
}
