//! How the runner speaks each provider: credentials from the scenario, envelopes sealed and
//! opened with the merchant's keys, KeySecure tokens fetched on first use, and every answer
//! turned into the same view `{status, code, sub_code, body}`.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};

use super::View;
use super::step::{Provider, RequestStep};
use crate::credentials::Credentials;
use crate::providers::kazepay::envelope::Profile;
use crate::sandbox::Sandbox;
use crate::scenario::Scenario;

/// How long one request may take, connecting included.
pub(super) const TIMEOUT: Duration = Duration::from_secs(10);

/// KeySecure's token path: fetched with GET and no token.
const KEYSECURE_TOKEN: &str = "/open-api/v1/merchant/token";

/// What the runner needs to speak for every merchant.
pub(super) struct Clients {
    runtime: tokio::runtime::Runtime,
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

    /// One HTTP exchange on a connection of its own. A failure before the connection is made
    /// (a bad URL, nothing listening) is the runner's error; once connected, a missing answer
    /// (closed, reset, empty, too late) is "no answer" ([`super::NO_ANSWER`]), which a step may
    /// expect.
    pub(super) fn http(
        &self,
        method: &str,
        url: &str,
        headers: &[(String, String)],
        body: Vec<u8>,
    ) -> Result<(u16, Bytes), String> {
        let failed = |why: String| format!("{method} {url}: {why}");
        let uri: http::Uri = url.parse().map_err(|e| failed(format!("not a URL: {e}")))?;
        let (Some(authority), Some(port)) = (uri.authority(), uri.port_u16()) else {
            return Err(failed("not a URL with a host and a port".to_owned()));
        };
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']');
        let target = uri.path_and_query().map_or("/", |p| p.as_str());
        let mut request = http::Request::builder()
            .method(method)
            .uri(target)
            .header(http::header::HOST, authority.as_str());
        for (name, value) in headers {
            request = request.header(name.as_str(), value.as_str());
        }
        let request = request
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| failed(format!("cannot build the request: {e}")))?;
        self.runtime.block_on(async {
            let deadline = tokio::time::Instant::now() + TIMEOUT;
            let stream =
                tokio::time::timeout_at(deadline, tokio::net::TcpStream::connect((host, port)))
                    .await
                    .map_err(|_| failed(format!("cannot connect within {TIMEOUT:?}")))?
                    .map_err(|e| failed(format!("cannot connect: {e}")))?;
            let exchange = async {
                let (mut sender, connection) =
                    hyper::client::conn::http1::handshake(TokioIo::new(stream))
                        .await
                        .map_err(|e| e.to_string())?;
                // Drives the connection; it ends with the exchange (the sender is dropped).
                tokio::spawn(connection);
                let response = sender
                    .send_request(request)
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
            tokio::time::timeout_at(deadline, exchange)
                .await
                .unwrap_or_else(|_| Err(format!("nothing within {TIMEOUT:?}")))
                .map_err(|e| format!("{}{}", super::NO_ANSWER, failed(e)))
        })
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
        // Every provider but KeySecure's token and detail GETs takes a JSON POST.
        let json = ("content-type".to_owned(), "application/json".to_owned());
        let operation = || {
            request
                .operation
                .as_deref()
                .ok_or_else(|| format!("a {} request needs `operation`", request.provider.name()))
        };
        let path = || {
            request
                .path
                .as_deref()
                .ok_or_else(|| format!("a {} request needs `path`", request.provider.name()))
        };
        match request.provider {
            Provider::Acedata => {
                let operation = operation()?;
                let token = credentials
                    .acedata
                    .first()
                    .ok_or("the merchant has no AceData token")?;
                let own = vec![
                    json,
                    (
                        "authorization".to_owned(),
                        format!("Bearer {}", token.token),
                    ),
                ];
                let (status, bytes) = self.http(
                    "POST",
                    &format!("{base}/identity/bankcard/{operation}"),
                    &with_step_headers(own, &request.headers),
                    request.body.to_string().into_bytes(),
                )?;
                Ok(match parse_json(&bytes) {
                    Ok(body) => {
                        let code = body
                            .get("result")
                            .cloned()
                            .or_else(|| body["error"].get("code").cloned());
                        View::opened(json!({ "status": status, "code": code, "body": body }))
                    }
                    Err(why) => View::unopened(status, &bytes, why),
                })
            }
            Provider::Kazepay => {
                let operation = operation()?;
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
                let (status, bytes) = self.http(
                    "POST",
                    &format!("{base}{}", self.kazepay_path),
                    &with_step_headers(vec![json], &request.headers),
                    envelope.to_string().into_bytes(),
                )?;
                let opened = parse_json(&bytes).and_then(|response| {
                    client.open_response(&response).map_err(|e| e.to_string())
                });
                Ok(match opened {
                    Ok(opened) => View::opened(
                        json!({ "status": status, "code": opened.code, "detail": opened.detail, "body": opened.body }),
                    ),
                    Err(why) => View::unopened(status, &bytes, why),
                })
            }
            Provider::Pagsmile => {
                let path = path()?;
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
                let (status, bytes) = self.http(
                    "POST",
                    &format!("{base}{path}"),
                    &with_step_headers(vec![json], &request.headers),
                    sealed.to_string().into_bytes(),
                )?;
                let opened = parse_json(&bytes).and_then(|response| {
                    client.open_response(&response).map_err(|e| e.to_string())
                });
                Ok(match opened {
                    Ok(opened) => View::opened(
                        json!({ "status": status, "code": opened.code, "msg": opened.msg, "sub_code": opened.sub_code, "sub_msg": opened.sub_msg, "total": opened.total, "body": opened.data }),
                    ),
                    Err(why) => View::unopened(status, &bytes, why),
                })
            }
            Provider::Keysecure => {
                let path = path()?;
                let key = credentials
                    .keysecure
                    .as_ref()
                    .ok_or("the merchant has no KeySecure key")?;
                let now = jiff::Timestamp::now().as_millisecond().to_string();
                let mut own = vec![
                    json,
                    ("api-key".to_owned(), key.api_key.clone()),
                    ("timestamp".to_owned(), now),
                ];
                // No token to fetch when the step sends its own (or asks for one).
                let own_token = request
                    .headers
                    .keys()
                    .any(|k| k.eq_ignore_ascii_case("access-token"));
                if path != KEYSECURE_TOKEN && !own_token {
                    own.push((
                        "access-token".to_owned(),
                        self.keysecure_token(&base, tenant, &key.api_key)?,
                    ));
                }
                let method = request
                    .method
                    .as_deref()
                    .unwrap_or(if path == KEYSECURE_TOKEN {
                        "GET"
                    } else {
                        "POST"
                    });
                let body = if method == "GET" {
                    Vec::new()
                } else {
                    request.body.to_string().into_bytes()
                };
                let (status, bytes) = self.http(
                    method,
                    &format!("{base}{path}"),
                    &with_step_headers(own, &request.headers),
                    body,
                )?;
                Ok(match parse_json(&bytes) {
                    Ok(answer) => {
                        // A token the steps fetched themselves is the one later requests use.
                        if let Some(token) = answer["data"]["access_token"].as_str() {
                            self.keysecure_tokens
                                .borrow_mut()
                                .insert(tenant.to_owned(), token.to_owned());
                        }
                        View::opened(
                            json!({ "status": status, "code": answer.get("code"), "msg": answer.get("msg"), "body": answer.get("data") }),
                        )
                    }
                    Err(why) => View::unopened(status, &bytes, why),
                })
            }
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
            &format!("{base}{KEYSECURE_TOKEN}"),
            &headers,
            Vec::new(),
        )?;
        let answer = parse_json(&bytes)?;
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

/// The runner's own headers with the step's: a step header replaces the runner's of the same
/// name (any case), since servers read the first of a repeated header and a step must be able
/// to send a wrong credential.
fn with_step_headers(
    mut own: Vec<(String, String)>,
    step: &BTreeMap<String, String>,
) -> Vec<(String, String)> {
    own.retain(|(name, _)| !step.keys().any(|k| k.eq_ignore_ascii_case(name)));
    own.extend(step.iter().map(|(k, v)| (k.clone(), v.clone())));
    own
}

fn parse_json(bytes: &[u8]) -> Result<Value, String> {
    if bytes.is_empty() {
        return Err("the answer is empty".to_owned());
    }
    serde_json::from_slice(bytes).map_err(|e| format!("the answer is not JSON: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clients() -> Clients {
        Clients::new(&Scenario::builtin_default().unwrap())
    }

    #[test]
    fn only_a_connection_without_an_answer_is_no_answer() {
        let clients = clients();
        // Nothing listens: the runner's error, not the server's silence.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let refused = clients
            .http(
                "GET",
                &format!("http://127.0.0.1:{port}/x"),
                &[],
                Vec::new(),
            )
            .unwrap_err();
        assert!(
            !refused.starts_with(super::super::NO_ANSWER) && refused.contains("cannot connect"),
            "{refused}"
        );
        // A path run into the port is no URL to send to.
        let garbled = clients
            .http(
                "GET",
                &format!("http://127.0.0.1:{port}x/y"),
                &[],
                Vec::new(),
            )
            .unwrap_err();
        assert!(!garbled.starts_with(super::super::NO_ANSWER), "{garbled}");
        // Accepted, then closed without a word: no answer.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/x", listener.local_addr().unwrap());
        let closer = std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            drop(stream);
        });
        let silent = clients.http("GET", &url, &[], Vec::new()).unwrap_err();
        closer.join().unwrap();
        assert!(silent.starts_with(super::super::NO_ANSWER), "{silent}");
    }

    #[test]
    fn step_headers_replace_the_runners_of_the_same_name() {
        let own = vec![
            ("authorization".to_owned(), "Bearer right".to_owned()),
            ("content-type".to_owned(), "application/json".to_owned()),
        ];
        let step = BTreeMap::from([("Authorization".to_owned(), "Bearer wrong".to_owned())]);
        assert_eq!(
            with_step_headers(own, &step),
            vec![
                ("content-type".to_owned(), "application/json".to_owned()),
                ("Authorization".to_owned(), "Bearer wrong".to_owned()),
            ]
        );
    }
}
