//! How the runner speaks each provider: credentials from the scenario, envelopes sealed and
//! opened with the merchant's keys, KeySecure tokens fetched on first use, and every answer
//! turned into the same view `{status, code, sub_code, body}`.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};

use super::View;
use super::step::RequestStep;
use crate::credentials::Credentials;
use crate::providers::kazepay::envelope::Profile;
use crate::sandbox::Sandbox;
use crate::scenario::Scenario;

/// How long one request may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// What the runner needs to speak for every merchant.
pub(super) struct Clients {
    runtime: tokio::runtime::Runtime,
    http: Client<HttpConnector, Full<Bytes>>,
    tenants: Vec<(String, Credentials)>,
    kazepay_path: String,
    kazepay_platform: String,
    pagsmile_platform: String,
    keysecure_tokens: RefCell<BTreeMap<String, String>>,
}

impl Clients {
    pub(super) fn new(scenario: &Scenario) -> Clients {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("a current-thread runtime builds: {e}"));
        Clients {
            runtime,
            http: Client::builder(TokioExecutor::new()).build_http(),
            tenants: scenario
                .tenants
                .iter()
                .map(|t| (t.id().to_owned(), t.credentials.clone()))
                .collect(),
            kazepay_path: scenario.kazepay.path.clone(),
            kazepay_platform: scenario.platform_keys.kazepay.public_pem.clone(),
            pagsmile_platform: scenario.platform_keys.pagsmile.public_pem.clone(),
            keysecure_tokens: RefCell::new(BTreeMap::new()),
        }
    }

    pub(super) fn first_tenant(&self) -> &str {
        self.tenants.first().map_or("", |(id, _)| id.as_str())
    }

    fn credentials(&self, tenant: &str) -> Result<&Credentials, String> {
        self.tenants
            .iter()
            .find(|(id, _)| id == tenant)
            .map(|(_, c)| c)
            .ok_or_else(|| format!("no merchant `{tenant}` in the scenario"))
    }

    /// One HTTP exchange.
    pub(super) fn http(
        &self,
        method: &str,
        url: &str,
        headers: &[(String, String)],
        body: Vec<u8>,
    ) -> Result<(u16, Bytes), String> {
        let mut request = http::Request::builder().method(method).uri(url);
        for (name, value) in headers {
            request = request.header(name.as_str(), value.as_str());
        }
        let request = request
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| format!("cannot build the request: {e}"))?;
        self.runtime.block_on(async {
            let exchange = async {
                let response = self
                    .http
                    .request(request)
                    .await
                    .map_err(|e| e.to_string())?;
                let status = response.status().as_u16();
                let body = response
                    .into_body()
                    .collect()
                    .await
                    .map_err(|e| e.to_string())?
                    .to_bytes();
                Ok::<_, String>((status, body))
            };
            tokio::time::timeout(TIMEOUT, exchange)
                .await
                .unwrap_or_else(|_| Err(format!("nothing within {TIMEOUT:?}")))
                .map_err(|e| format!("{}{method} {url}: {e}", super::NO_ANSWER))
        })
    }

    fn post_json(
        &self,
        url: &str,
        headers: &[(String, String)],
        body: &Value,
    ) -> Result<(u16, Value), String> {
        let mut all = vec![("content-type".to_owned(), "application/json".to_owned())];
        all.extend_from_slice(headers);
        let (status, bytes) = self.http("POST", url, &all, body.to_string().into_bytes())?;
        Ok((status, json_or_text(&bytes)))
    }

    /// Sends a provider request for `tenant`; the answer as a view.
    pub(super) fn send(
        &self,
        sandbox: &Sandbox,
        tenant: &str,
        request: &RequestStep,
        index: usize,
    ) -> Result<View, String> {
        let credentials = self.credentials(tenant)?;
        let base = sandbox.url();
        let extra: Vec<(String, String)> = request.headers.clone().into_iter().collect();
        match request.provider.as_str() {
            "acedata" => {
                let operation = request
                    .operation
                    .as_deref()
                    .ok_or("an AceData request needs `operation` (check-1e, ...)")?;
                let token = credentials
                    .acedata
                    .first()
                    .ok_or("the merchant has no AceData token")?;
                let mut headers = vec![(
                    "authorization".to_owned(),
                    format!("Bearer {}", token.token),
                )];
                headers.extend(extra);
                let (status, body) = self.post_json(
                    &format!("{base}/identity/bankcard/{operation}"),
                    &headers,
                    &request.body,
                )?;
                let code = body
                    .get("result")
                    .cloned()
                    .or_else(|| body["error"].get("code").cloned());
                Ok(json!({ "status": status, "code": code, "body": body }))
            }
            "kazepay" => {
                let operation = request
                    .operation
                    .as_deref()
                    .ok_or("a KazePay request needs `operation` (the apiCode)")?;
                let system = credentials
                    .kazepay
                    .as_ref()
                    .ok_or("the merchant has no KazePay sysId")?;
                let private = system
                    .merchant_private_key
                    .as_deref()
                    .ok_or("the scenario gives no kazepay merchant_private_key to seal with")?;
                let profile = Profile {
                    hash: system.sign_hash,
                    key_wrap: system.key_wrap,
                };
                let mut client = crate::kazepay::Client::from_pems(
                    &system.sys_id,
                    private,
                    &self.kazepay_platform,
                    profile,
                )
                .map_err(|e| e.to_string())?;
                let request_no = format!("{}{index:06}", jiff::Timestamp::now().as_millisecond());
                let envelope = client
                    .seal_request(operation, &request_no, &request.body)
                    .map_err(|e| e.to_string())?;
                let (status, response) =
                    self.post_json(&format!("{base}{}", self.kazepay_path), &extra, &envelope)?;
                let opened = client
                    .open_response(&response)
                    .map_err(|e| format!("cannot open the answer: {e}\n{response}"))?;
                Ok(
                    json!({ "status": status, "code": opened.code, "detail": opened.detail, "body": opened.body }),
                )
            }
            "pagsmile" => {
                let path = request
                    .path
                    .as_deref()
                    .ok_or("a Pagsmile request needs `path`")?;
                let app = credentials
                    .pagsmile
                    .as_ref()
                    .ok_or("the merchant has no Pagsmile app")?;
                let private = app.merchant_private_key.as_deref().ok_or(
                    "the scenario gives no pagsmile merchant_private_key to open answers with",
                )?;
                let mut client = crate::pagsmile::Client::from_pems(
                    &app.app_id,
                    &app.partner_id,
                    private,
                    &self.pagsmile_platform,
                )
                .map_err(|e| e.to_string())?;
                let request_id =
                    format!("RUN{}{index:06}", jiff::Timestamp::now().as_millisecond());
                let sealed = client
                    .seal_request(&request_id, &request.body)
                    .map_err(|e| e.to_string())?;
                let (status, response) =
                    self.post_json(&format!("{base}{path}"), &extra, &sealed)?;
                let opened = client
                    .open_response(&response)
                    .map_err(|e| format!("cannot open the answer: {e}\n{response}"))?;
                Ok(
                    json!({ "status": status, "code": opened.code, "sub_code": opened.sub_code, "sub_msg": opened.sub_msg, "total": opened.total, "body": opened.data }),
                )
            }
            "keysecure" => {
                let path = request
                    .path
                    .as_deref()
                    .ok_or("a KeySecure request needs `path`")?;
                let key = credentials
                    .keysecure
                    .as_ref()
                    .ok_or("the merchant has no KeySecure key")?;
                let now = jiff::Timestamp::now().as_millisecond().to_string();
                let mut headers = vec![
                    ("api-key".to_owned(), key.api_key.clone()),
                    ("timestamp".to_owned(), now),
                ];
                if path != "/open-api/v1/merchant/token" {
                    headers.push((
                        "access-token".to_owned(),
                        self.keysecure_token(&base, tenant, &key.api_key)?,
                    ));
                }
                headers.extend(extra);
                let method =
                    request
                        .method
                        .as_deref()
                        .unwrap_or(if path == "/open-api/v1/merchant/token" {
                            "GET"
                        } else {
                            "POST"
                        });
                let body = if method == "GET" {
                    Vec::new()
                } else {
                    request.body.to_string().into_bytes()
                };
                headers.push(("content-type".to_owned(), "application/json".to_owned()));
                let (status, bytes) =
                    self.http(method, &format!("{base}{path}"), &headers, body)?;
                let answer = json_or_text(&bytes);
                // A token the steps fetched themselves is the one later requests use.
                if let Some(token) = answer["data"]["access_token"].as_str() {
                    self.keysecure_tokens
                        .borrow_mut()
                        .insert(tenant.to_owned(), token.to_owned());
                }
                Ok(
                    json!({ "status": status, "code": answer.get("code"), "msg": answer.get("msg"), "body": answer.get("data") }),
                )
            }
            other => Err(format!(
                "unknown provider `{other}`; one of acedata, kazepay, pagsmile, keysecure"
            )),
        }
    }

    /// The merchant's KeySecure token, fetched once.
    fn keysecure_token(&self, base: &str, tenant: &str, api_key: &str) -> Result<String, String> {
        if let Some(token) = self.keysecure_tokens.borrow().get(tenant) {
            return Ok(token.clone());
        }
        let headers = [
            ("api-key".to_owned(), api_key.to_owned()),
            (
                "timestamp".to_owned(),
                jiff::Timestamp::now().as_millisecond().to_string(),
            ),
        ];
        let (_, bytes) = self.http(
            "GET",
            &format!("{base}/open-api/v1/merchant/token"),
            &headers,
            Vec::new(),
        )?;
        let answer = json_or_text(&bytes);
        let token = answer["data"]["access_token"]
            .as_str()
            .ok_or_else(|| format!("no KeySecure token: {answer}"))?
            .to_owned();
        self.keysecure_tokens
            .borrow_mut()
            .insert(tenant.to_owned(), token.clone());
        Ok(token)
    }
}

fn json_or_text(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned()))
}
