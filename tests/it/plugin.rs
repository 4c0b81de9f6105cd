//! A provider is a plug-in: an "echo bank" defined only here (a bearer token, a deposit that
//! changes the world, a balance) registered through the embedding builder gets routing,
//! tenants from its scenario section with located errors, fault rules by its operation names,
//! journal entries, runner steps through its client and an entry in `/__admin/credentials` —
//! with nothing outside this file knowing it.

use std::time::{Duration, Instant};

use http::StatusCode;
use issuer_sandbox::Sandbox;
use issuer_sandbox::merge_fields;
use issuer_sandbox::providers::client::{
    ClientAnswer, MerchantClient, SendError, Transport, json_content_type, with_step_headers,
};
use issuer_sandbox::providers::{
    Admission, Cx, Failure, Outcome, Payload, Provider, Reply, Request, Trace,
};
use issuer_sandbox::runner;
use issuer_sandbox::scenario::Scenario;
use issuer_sandbox::scenario::section::{Build, Located};
use issuer_sandbox::scenario::steps::{RequestStep, StepTarget};
use issuer_sandbox::world::{Currency, Money, World};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::support::*;

/// The echo bank.
struct EchoBank;

/// `echo:` in a scenario.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct EchoSection {
    /// Where it is served; default `/echo/`.
    #[schemars(with = "Option<String>")]
    prefix: Option<Located<String>>,
    /// What its answers say.
    greeting: Option<String>,
}

merge_fields!(EchoSection { prefix, greeting });

/// A merchant's `credentials.echo`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct EchoCredentials {
    #[schemars(with = "String")]
    token: Located<String>,
}

struct EchoSettings {
    prefix: String,
    greeting: String,
    /// (merchant, token).
    tokens: Vec<(usize, String)>,
}

/// What can go wrong, by catalog name.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
enum EchoError {
    Unauthorized,
    NoSuchOperation,
    BadAmount,
    Unavailable,
}

impl EchoError {
    fn status(self) -> StatusCode {
        match self {
            EchoError::Unauthorized => StatusCode::UNAUTHORIZED,
            EchoError::NoSuchOperation => StatusCode::NOT_FOUND,
            EchoError::BadAmount => StatusCode::BAD_REQUEST,
            EchoError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

enum Operation {
    Deposit,
    Balance,
}

fn usd() -> Currency {
    Currency::new("USD").unwrap()
}

fn balance(world: &World) -> String {
    world
        .accounts
        .get(&usd())
        .map_or_else(|| "0.00".to_owned(), ToString::to_string)
}

impl Provider for EchoBank {
    const NAME: &'static str = "echo";
    type Section = EchoSection;
    type Credentials = EchoCredentials;
    type Settings = EchoSettings;
    type Caller = Operation;
    type Request = Option<Money>;
    type Answer = String;
    type Error = EchoError;
    type Refusal = EchoError;
    type Draw = ();

    fn build(
        &self,
        section: EchoSection,
        merchants: Vec<(usize, Located<EchoCredentials>)>,
        build: &mut Build<'_, '_>,
    ) -> Option<EchoSettings> {
        let prefix = match section.prefix {
            Some(prefix) if !prefix.value.starts_with('/') => {
                build.problem(prefix.referenced, "an echo prefix starts with /");
                return None;
            }
            Some(prefix) => prefix.value,
            None => "/echo/".to_owned(),
        };
        let mut tokens = Vec::new();
        for (tenant, credentials) in merchants {
            let token = credentials.value.token;
            if token.value.trim().is_empty() {
                build.problem(token.referenced, "an echo token cannot be blank");
            }
            build.claim(tenant, &token);
            tokens.push((tenant, token.value));
        }
        Some(EchoSettings {
            prefix,
            greeting: section.greeting.unwrap_or_else(|| "hello".to_owned()),
            tokens,
        })
    }

    fn prefixes(&self, settings: &EchoSettings) -> Vec<String> {
        vec![settings.prefix.clone()]
    }

    fn admit<'r>(&self, cx: &Cx<'r, Self>, request: &Request<'_>) -> Admission<'r, Self> {
        let operation = request
            .path
            .strip_prefix(&cx.settings.prefix)
            .unwrap_or_default()
            .to_owned();
        let token = request
            .header("authorization")
            .and_then(|h| h.strip_prefix("Bearer "));
        let Some(tenant) = token.and_then(|t| cx.tenant_by_claim(t)) else {
            return Admission::Refused {
                tenant: None,
                operation: Some(operation),
                refusal: EchoError::Unauthorized,
            };
        };
        let caller = match operation.as_str() {
            "deposit" => Operation::Deposit,
            "balance" => Operation::Balance,
            _ => {
                return Admission::Refused {
                    tenant: Some(tenant),
                    operation: Some(operation),
                    refusal: EchoError::NoSuchOperation,
                };
            }
        };
        Admission::Admitted {
            tenant,
            operation,
            caller,
        }
    }

    fn read(
        &self,
        _cx: &Cx<'_, Self>,
        caller: &Operation,
        _request: &Request<'_>,
        body: &Payload<'_>,
    ) -> Result<Option<Money>, EchoError> {
        match caller {
            Operation::Balance => Ok(None),
            Operation::Deposit => {
                let amount = body.json["amount"].as_str().ok_or(EchoError::BadAmount)?;
                let money = Money::parse(amount, usd()).map_err(|_| EchoError::BadAmount)?;
                if money.is_positive() {
                    Ok(Some(money))
                } else {
                    Err(EchoError::BadAmount)
                }
            }
        }
    }

    fn operate(
        &self,
        _cx: &Cx<'_, Self>,
        _caller: &Operation,
        deposit: Option<Money>,
        world: &mut World,
    ) -> Result<String, EchoError> {
        if let Some(deposit) = deposit {
            let account = world
                .accounts
                .entry(usd())
                .or_insert_with(|| Money::zero(usd()));
            *account = account
                .checked_add(&deposit)
                .map_err(|_| EchoError::BadAmount)?;
        }
        Ok(balance(world))
    }

    fn catalog_error(&self, name: &str) -> Option<EchoError> {
        serde_json::from_value(Value::String(name.to_owned())).ok()
    }

    fn respond(&self, cx: &Cx<'_, Self>, outcome: Outcome<Self>, _: (), trace: Trace) -> Reply {
        match outcome {
            Outcome::Done(_, Ok(balance)) => Reply::json(
                StatusCode::OK,
                &json!({ "echo": cx.settings.greeting, "balance": balance }),
                trace,
            ),
            Outcome::Refused(error) | Outcome::Done(_, Err(error)) => Reply::json(
                error.status(),
                &json!({ "error": format!("{error:?}") }),
                trace,
            ),
        }
    }

    fn failure(&self, _cx: &Cx<'_, Self>, _path: &str, failure: &Failure) -> Reply {
        let status = match failure {
            Failure::Injected { status } => *status,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        Reply::json(status, &json!({ "error": "failure" }), Trace::default())
    }

    fn credentials(&self, settings: &EchoSettings, tenant: usize) -> Value {
        settings
            .tokens
            .iter()
            .find(|(t, _)| *t == tenant)
            .map_or(Value::Null, |(_, token)| json!({ "token": token }))
    }

    fn step_target(&self) -> StepTarget {
        StepTarget::Operation
    }

    fn client(
        &self,
        cx: &Cx<'_, Self>,
        tenant: usize,
    ) -> Result<Box<dyn MerchantClient>, SendError> {
        let (_, token) = cx
            .settings
            .tokens
            .iter()
            .find(|(t, _)| *t == tenant)
            .ok_or("no echo token")?;
        Ok(Box::new(EchoClient {
            token: token.clone(),
            prefix: cx.settings.prefix.clone(),
        }))
    }
}

struct EchoClient {
    token: String,
    prefix: String,
}

impl MerchantClient for EchoClient {
    fn send(
        &mut self,
        step: &RequestStep,
        _index: usize,
        transport: &dyn Transport,
    ) -> Result<ClientAnswer, SendError> {
        let operation = step
            .operation
            .as_deref()
            .ok_or("an echo step names an operation")?;
        let own = vec![
            json_content_type(),
            ("authorization".to_owned(), format!("Bearer {}", self.token)),
        ];
        let (status, body) = transport.exchange(
            "POST",
            &format!("{}{operation}", self.prefix),
            &with_step_headers(own, &step.headers),
            step.body.to_string().into_bytes(),
        )?;
        Ok(ClientAnswer::of(status, body, |answer| {
            let code = answer.get("error").cloned().unwrap_or(json!("ok"));
            Ok(json!({ "status": status, "code": code, "body": answer }))
        }))
    }
}

const TWO_SHOPS: &str = "\
name: echo-shops
seed: 3
clock: { start: 2026-12-01T00:00:00Z, frozen: true }
echo: { greeting: hi }
merchants:
  - id: shop-a
    credentials:
      echo: { token: token-a }
  - id: shop-b
    credentials:
      echo: { token: token-b }
";

fn echo_sandbox(yaml: &str) -> Sandbox {
    Sandbox::builder()
        .provider(EchoBank)
        .scenario_yaml(yaml)
        .start()
        .unwrap()
}

fn echo(sandbox: &Sandbox, token: &str, operation: &str, body: Value) -> (u16, Value) {
    status_json(
        client()
            .post(format!("{}/echo/{operation}", sandbox.url()))
            .bearer_auth(token)
            .json(&body)
            .send()
            .unwrap(),
    )
}

fn deposit(sandbox: &Sandbox, token: &str, amount: &str) -> (u16, Value) {
    echo(sandbox, token, "deposit", json!({ "amount": amount }))
}

#[test]
fn a_provider_from_a_test_is_routed_with_tenants_from_its_section_and_its_own_state() {
    let sandbox = echo_sandbox(TWO_SHOPS);
    assert_eq!(
        deposit(&sandbox, "token-a", "10.00"),
        (200, json!({ "echo": "hi", "balance": "10.00" }))
    );
    assert_eq!(deposit(&sandbox, "token-a", "5.50").1["balance"], "15.50");
    // Each merchant has its own world.
    assert_eq!(
        echo(&sandbox, "token-b", "balance", json!({})).1["balance"],
        "0.00"
    );
    assert_eq!(deposit(&sandbox, "nobody", "1.00").0, 401);
    assert_eq!(deposit(&sandbox, "token-a", "-1").0, 400);
    assert_eq!(echo(&sandbox, "token-a", "withdraw", json!({})).0, 404);
    // The built-in providers are served as before.
    let (status, _) = status_json(
        client()
            .post(format!("{}/identity/bankcard/check-1e", sandbox.url()))
            .send()
            .unwrap(),
    );
    assert_eq!(status, 401);
    // The journal records its exchanges like any provider's.
    let entries: Vec<_> = sandbox
        .journal()
        .into_iter()
        .filter(|e| e.provider == "echo")
        .collect();
    assert_eq!(entries.len(), 6);
    assert_eq!(
        (
            entries[0].operation.as_deref(),
            entries[0].tenant.as_deref()
        ),
        (Some("deposit"), Some("shop-a"))
    );
    assert!(entries[0].sandbox_time.is_some());
    assert_eq!(entries[3].status, 401);
    // Its credentials are listed with every merchant's.
    let (_, credentials) = admin_get(&sandbox, "/credentials");
    assert_eq!(
        credentials["merchants"][0]["echo"],
        json!({ "token": "token-a" })
    );
    assert_eq!(
        credentials["merchants"][1]["echo"],
        json!({ "token": "token-b" })
    );
    assert_eq!(credentials["merchants"][1]["merchant"], "shop-b");
}

#[test]
fn bad_input_in_its_section_and_credentials_is_located() {
    let start = |yaml: &str| {
        Sandbox::builder()
            .provider(EchoBank)
            .scenario_yaml(yaml)
            .start()
            .unwrap_err()
            .to_string()
    };
    let typo = start(&TWO_SHOPS.replace("echo: { greeting: hi }", "echo: { greting: hi }"));
    assert!(
        typo.contains("unknown field `greting`") && typo.contains(":4:"),
        "{typo}"
    );
    let prefix = start(&TWO_SHOPS.replace("greeting: hi", "prefix: echo/"));
    assert!(
        prefix.contains("an echo prefix starts with /") && prefix.contains(":4:"),
        "{prefix}"
    );
    let blank = start(&TWO_SHOPS.replace("token: token-b", "token: \" \""));
    assert!(
        blank.contains("an echo token cannot be blank") && blank.contains(":11:"),
        "{blank}"
    );
    let twice = start(&TWO_SHOPS.replace("token: token-b", "token: token-a"));
    assert!(
        twice.contains("echo credential `token-a` is already used at line 8")
            && twice.contains(":11:"),
        "{twice}"
    );
    let wrong_type = start(&TWO_SHOPS.replace("echo: { token: token-a }", "echo: [token-a]"));
    assert!(wrong_type.contains(":8:"), "{wrong_type}");
    // Without the echo bank registered, its section is just an unknown key.
    let unregistered = Sandbox::builder()
        .scenario_yaml(TWO_SHOPS)
        .start()
        .unwrap_err();
    assert!(
        unregistered.to_string().contains("unknown field `echo`"),
        "{unregistered}"
    );
}

#[test]
fn fault_rules_name_its_operations() {
    let yaml = format!(
        "{TWO_SHOPS}faults:
  - {{ id: down, match: {{ provider: echo, operation: deposit }}, action: {{ error: unavailable }}, when: {{ first: 1 }} }}
  - {{ id: lost, match: {{ provider: echo, operation: deposit, fields: {{ amount: \"3.00\" }} }}, action: reset, after: true }}
  - {{ id: slow, match: {{ provider: echo, operation: balance }}, action: {{ delay: 300ms }} }}
  - {{ id: gone, match: {{ provider: echo, operation: deposit, fields: {{ amount: \"4.00\" }} }}, action: reset }}
"
    );
    let sandbox = echo_sandbox(&yaml);
    // A catalog error, by the provider's own name for it; nothing deposited.
    assert_eq!(
        deposit(&sandbox, "token-a", "1.00"),
        (503, json!({ "error": "Unavailable" }))
    );
    assert_eq!(deposit(&sandbox, "token-a", "1.00").1["balance"], "1.00");
    // Processed, then the answer lost: the money arrived.
    let lost = client()
        .post(format!("{}/echo/deposit", sandbox.url()))
        .bearer_auth("token-a")
        .json(&json!({ "amount": "3.00" }))
        .send();
    assert!(lost.is_err(), "the connection was closed: {lost:?}");
    // Reset before processing: nothing arrived.
    assert!(
        client()
            .post(format!("{}/echo/deposit", sandbox.url()))
            .bearer_auth("token-a")
            .json(&json!({ "amount": "4.00" }))
            .send()
            .is_err()
    );
    let started = Instant::now();
    let (status, balance) = echo(&sandbox, "token-a", "balance", json!({}));
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!((status, balance["balance"].clone()), (200, json!("4.00")));
    let (_, rules) = admin_get(&sandbox, "/faults");
    let fired: Vec<(Value, Value)> = rules["faults"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["rule"]["id"].clone(), f["fired"].clone()))
        .collect();
    assert_eq!(
        fired,
        [
            (json!("down"), json!(1)),
            (json!("lost"), json!(1)),
            (json!("slow"), json!(1)),
            (json!("gone"), json!(1)),
        ]
    );
    // An error the echo bank's catalog does not have is refused where the rule is given.
    let (status, body) = admin_send(
        &sandbox,
        "POST",
        "/faults",
        r#"{"match":{"provider":"echo"},"action":{"error":"system_busy"}}"#,
    );
    assert_eq!(status, 400);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("not an entry of echo's error catalog"),
        "{body}"
    );
}

#[test]
fn runner_steps_go_through_its_client() {
    let mut registry = issuer_sandbox::providers::builtin();
    registry.add(EchoBank);
    let yaml = format!(
        "{TWO_SHOPS}steps:
  - request: {{ provider: echo, operation: deposit, body: {{ amount: \"2.50\" }} }}
    expect: {{ status: 200, code: ok, fields: {{ body.balance: \"2.50\" }} }}
  - tenant: shop-b
    request: {{ provider: echo, operation: balance }}
    expect: {{ fields: {{ body.balance: \"0.00\", body.echo: hi }} }}
  - request: {{ provider: echo, operation: deposit, body: {{ amount: nothing }} }}
    expect: {{ status: 400, code: BadAmount }}
"
    );
    let scenario = Scenario::from_source(&yaml, "echo.yaml", None, &registry).unwrap();
    let outcome = runner::run(scenario, "echo.yaml", &registry);
    let report = runner::report(std::slice::from_ref(&outcome));
    assert_eq!((outcome.passed(), outcome.failed()), (3, 0), "{report}");
    // A step the echo bank's answer contradicts fails, with the answer in the report.
    let wrong = yaml.replace("body.balance: \"2.50\"", "body.balance: \"9.99\"");
    let scenario = Scenario::from_source(&wrong, "echo.yaml", None, &registry).unwrap();
    let outcome = runner::run(scenario, "echo.yaml", &registry);
    let report = runner::report(std::slice::from_ref(&outcome));
    assert_eq!(outcome.failed(), 1, "{report}");
    assert!(
        report.contains("9.99") && report.contains("2.50"),
        "{report}"
    );
    // Its steps are checked against what it names: an operation, not a path.
    let path_step = yaml.replace("operation: balance", "path: /echo/balance");
    let error = Scenario::from_source(&path_step, "echo.yaml", None, &registry).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("a echo request needs `operation`"),
        "{error}"
    );
    // The JSON Schema knows its section and credentials.
    let schema: Value =
        serde_json::from_str(&issuer_sandbox::scenario::json_schema(&registry)).unwrap();
    assert!(schema["properties"]["echo"].is_object());
    assert!(
        schema["$defs"]["MerchantSection"]["properties"]["credentials"]["properties"]["echo"]
            .is_object()
    );
    assert!(
        schema["$defs"]["RequestStep"]["properties"]["provider"]["enum"]
            .as_array()
            .unwrap()
            .contains(&json!("echo"))
    );
}
