//! How the runner speaks to the sandbox: each merchant's client of each provider (made by the
//! provider, kept for the file's steps: it may hold a token), and one HTTP exchange per
//! request on a connection of its own.

use std::cell::RefCell;
use std::collections::HashMap;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;

use super::View;
use crate::providers::client::{ClientAnswer, MerchantClient, SendError, Transport};
use crate::sandbox::Sandbox;
use crate::scenario::Scenario;
use crate::scenario::steps::RequestStep;

/// How long one request may take, connecting included.
pub(super) const TIMEOUT: Duration = Duration::from_secs(10);

/// What the runner needs to speak for every merchant.
pub(super) struct Clients {
    runtime: tokio::runtime::Runtime,
    first_tenant: String,
    /// (merchant, provider) → its client, made on first use.
    clients: RefCell<HashMap<(String, String), Box<dyn MerchantClient>>>,
}

impl Clients {
    pub(super) fn new(scenario: &Scenario) -> Clients {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("a current-thread runtime builds: {e}"));
        Clients {
            runtime,
            first_tenant: scenario
                .tenants
                .first()
                .map_or_else(String::new, |t| t.id().to_owned()),
            clients: RefCell::new(HashMap::new()),
        }
    }

    pub(super) fn first_tenant(&self) -> &str {
        &self.first_tenant
    }

    /// One HTTP exchange on a connection of its own. A failure before the connection is made
    /// (a bad URL, nothing listening) is [`SendError::Unsent`]; once connected, a missing
    /// answer (closed, reset, empty, too late) is [`SendError::NoAnswer`], which a step may
    /// expect.
    pub(super) fn http(
        &self,
        method: &str,
        url: &str,
        headers: &[(String, String)],
        body: Vec<u8>,
    ) -> Result<(u16, Bytes), SendError> {
        let failed = |why: String| format!("{method} {url}: {why}");
        let unsent = |why: String| SendError::Unsent(failed(why));
        let uri: http::Uri = url.parse().map_err(|e| unsent(format!("not a URL: {e}")))?;
        let (Some(authority), Some(port)) = (uri.authority(), uri.port_u16()) else {
            return Err(unsent("not a URL with a host and a port".to_owned()));
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
            .map_err(|e| unsent(format!("cannot build the request: {e}")))?;
        self.runtime.block_on(async {
            let deadline = tokio::time::Instant::now() + TIMEOUT;
            let stream =
                tokio::time::timeout_at(deadline, tokio::net::TcpStream::connect((host, port)))
                    .await
                    .map_err(|_| unsent(format!("cannot connect within {TIMEOUT:?}")))?
                    .map_err(|e| unsent(format!("cannot connect: {e}")))?;
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
                .map_err(|e| SendError::NoAnswer(failed(e)))
        })
    }

    /// Sends a provider request for `tenant` through its client; the answer as a view.
    pub(super) fn send(
        &self,
        sandbox: &Sandbox,
        tenant: &str,
        request: &RequestStep,
        index: usize,
    ) -> Result<View, SendError> {
        let app = sandbox.app();
        let running = app.running();
        let tenant_index = running
            .tenant(tenant)
            .ok_or_else(|| SendError::Request(format!("no merchant `{tenant}` in the scenario")))?
            .index;
        let provider = app.registry.get(&request.provider).ok_or_else(|| {
            SendError::Request(format!("no provider `{}` is served", request.provider))
        })?;
        let mut clients = self.clients.borrow_mut();
        let key = (tenant.to_owned(), request.provider.clone());
        let client = match clients.entry(key) {
            std::collections::hash_map::Entry::Occupied(entry) => entry.into_mut(),
            std::collections::hash_map::Entry::Vacant(entry) => {
                entry.insert(provider.client(&running, tenant_index)?)
            }
        };
        let transport = ToSandbox {
            clients: self,
            base: sandbox.url(),
        };
        Ok(match client.send(request, index, &transport)? {
            ClientAnswer::Opened(answer) => View::opened(answer),
            ClientAnswer::Unopened { status, raw, why } => View::unopened(status, &raw, why),
        })
    }
}

/// Exchanges with the sandbox under test.
struct ToSandbox<'a> {
    clients: &'a Clients,
    base: String,
}

impl Transport for ToSandbox<'_> {
    fn exchange(
        &self,
        method: &str,
        path: &str,
        headers: &[(String, String)],
        body: Vec<u8>,
    ) -> Result<(u16, Bytes), SendError> {
        self.clients
            .http(method, &format!("{}{path}", self.base), headers, body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clients() -> Clients {
        Clients::new(&Scenario::builtin_default(&crate::providers::builtin()).unwrap())
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
            matches!(&refused, SendError::Unsent(why) if why.contains("cannot connect")),
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
        assert!(matches!(garbled, SendError::Unsent(_)), "{garbled}");
        // Accepted, then closed without a word: no answer.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/x", listener.local_addr().unwrap());
        let closer = std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            drop(stream);
        });
        let silent = clients.http("GET", &url, &[], Vec::new()).unwrap_err();
        closer.join().unwrap();
        assert!(matches!(silent, SendError::NoAnswer(_)), "{silent}");
    }
}
