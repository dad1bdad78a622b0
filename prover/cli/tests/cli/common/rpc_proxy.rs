//! A JSON-RPC endpoint for tests that sits in front of the local node and may lie: it
//! answers `eth_estimateGas` by the rules a test gives it (a gas figure, or a revert), and
//! forwards every other request unchanged. It keeps every signed transaction it forwarded,
//! so a test can check what a client sent through it, and the selectors of the calls each
//! HTTP request carried (a JSON-RPC batch carries many).

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use alloy::consensus::{Transaction, TxEnvelope};
use alloy::eips::eip2718::Decodable2718;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Request, Response};
use serde_json::{json, Value};

/// What the proxy answers to a matching gas estimate.
#[derive(Clone, Debug)]
pub enum Lie {
    /// This much gas.
    Gas(u64),
    /// A revert with this data (code 3, as nodes answer a call that reverts).
    Revert(Vec<u8>),
}

#[derive(Clone, Debug)]
struct Rule {
    /// The call's selector (any call when `None`).
    selector: Option<[u8; 4]>,
    /// How many more estimates it answers (for ever when `None`).
    remaining: Option<usize>,
    lie: Lie,
}

#[derive(Default)]
struct Log {
    rules: Vec<Rule>,
    /// Methods answered with a fixed result instead of the node's (a lying endpoint).
    fixed: Vec<(&'static str, Value)>,
    lies: usize,
    raw: Vec<Vec<u8>>,
    /// Per HTTP request, the selector of each `eth_call` it carried.
    calls: Vec<Vec<[u8; 4]>>,
    /// Answer every JSON-RPC batch with HTTP 400, as some hosted endpoints do.
    refuse_batches: bool,
}

pub struct RpcProxy {
    pub url: String,
    log: Arc<Mutex<Log>>,
    _runtime: tokio::runtime::Runtime,
}

impl RpcProxy {
    /// Serves on a free port of 127.0.0.1, forwarding to `upstream` (an `http://` URL).
    pub fn start(upstream: &str) -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime");
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let log = Arc::new(Mutex::new(Log::default()));
        let (upstream, shared) = (upstream.to_string(), log.clone());
        let client = reqwest::Client::builder().build().expect("HTTP client");
        runtime.spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let (upstream, log, client) = (upstream.clone(), shared.clone(), client.clone());
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                        let (upstream, log, client) = (upstream.clone(), log.clone(), client.clone());
                        async move { Ok::<_, Infallible>(answer(req, &upstream, &log, &client).await) }
                    });
                    let io = hyper_util::rt::TokioIo::new(socket);
                    let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await;
                });
            }
        });
        Self { url, log, _runtime: runtime }
    }

    /// From now on, the next `times` gas estimates of calls to `selector` (any call when
    /// `None`; for ever when `times` is `None`) are answered with `lie`. Rules are tried in
    /// the order given.
    pub fn lie(&self, selector: Option<[u8; 4]>, times: Option<usize>, lie: Lie) {
        self.log.lock().expect("log").rules.push(Rule { selector, remaining: times, lie });
    }

    /// From now on, every `method` request is answered with `result` (counted as a lie), e.g.
    /// `eth_getTransactionReceipt` with `null`, or `eth_blockNumber` with an old block.
    pub fn always(&self, method: &'static str, result: Value) {
        self.log.lock().expect("log").fixed.push((method, result));
    }

    /// Forgets every rule: the proxy forwards everything.
    pub fn honest(&self) {
        self.log.lock().expect("log").rules.clear();
    }

    /// How many estimates it answered with a lie.
    pub fn lies(&self) -> usize {
        self.log.lock().expect("log").lies
    }

    /// From now on, every JSON-RPC batch is refused (HTTP 400).
    pub fn refuse_batches(&self) {
        let mut log = self.log.lock().expect("log");
        log.refuse_batches = true;
        log.calls.clear();
    }

    /// For each HTTP request that carried a call to `selector`, how many it carried.
    pub fn calls_per_request(&self, selector: [u8; 4]) -> Vec<usize> {
        let log = self.log.lock().expect("log");
        log.calls.iter().map(|c| c.iter().filter(|s| **s == selector).count()).filter(|n| *n > 0).collect()
    }

    /// The gas limit of every signed transaction forwarded, in order.
    pub fn gas_limits(&self) -> Vec<u64> {
        let log = self.log.lock().expect("log");
        log.raw.iter().map(|raw| TxEnvelope::decode_2718(&mut raw.as_slice()).expect("a signed transaction").gas_limit()).collect()
    }
}

async fn answer(req: Request<hyper::body::Incoming>, upstream: &str, log: &Mutex<Log>, client: &reqwest::Client) -> Response<Full<Bytes>> {
    let body = req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let calls = match &request {
        Value::Array(batch) => batch.iter().filter_map(selector_of).collect(),
        single => selector_of(single).into_iter().collect(),
    };
    let refused = {
        let mut log = log.lock().expect("log");
        let refused = log.refuse_batches && request.is_array();
        if !refused {
            log.calls.push(calls);
        }
        refused
    };
    if refused {
        let mut r = Response::new(Full::new(Bytes::from_static(b"batch requests are not supported")));
        *r.status_mut() = hyper::StatusCode::BAD_REQUEST;
        return r;
    }
    let fixed = {
        let mut log = log.lock().expect("log");
        let fixed = log.fixed.iter().find(|(m, _)| request["method"] == *m).map(|(_, r)| r.clone());
        log.lies += usize::from(fixed.is_some());
        fixed
    };
    if let Some(result) = fixed {
        return reply(json!({ "jsonrpc": "2.0", "id": request["id"], "result": result }).to_string().into());
    }
    if let Some(lie) = told(&request, log) {
        return reply(lie_reply(&request, &lie).to_string().into());
    }
    if request["method"] == "eth_sendRawTransaction" {
        if let Some(raw) = request["params"][0].as_str().and_then(|h| hex::decode(h.trim_start_matches("0x")).ok()) {
            log.lock().expect("log").raw.push(raw);
        }
    }
    let forwarded = client.post(upstream).header("content-type", "application/json").body(body).send().await;
    match forwarded {
        Ok(response) => reply(response.bytes().await.unwrap_or_default()),
        Err(_) => {
            let mut r = Response::new(Full::new(Bytes::new()));
            *r.status_mut() = hyper::StatusCode::BAD_GATEWAY;
            r
        }
    }
}

/// The selector of a call's calldata.
fn selector(request: &Value) -> Option<[u8; 4]> {
    let data = request["params"][0]["input"].as_str().or(request["params"][0]["data"].as_str()).unwrap_or_default();
    hex::decode(data.trim_start_matches("0x")).ok().and_then(|d| d.get(..4).and_then(|s| <[u8; 4]>::try_from(s).ok()))
}

/// The selector of an `eth_call` request.
fn selector_of(request: &Value) -> Option<[u8; 4]> {
    (request["method"] == "eth_call").then(|| selector(request)).flatten()
}

/// The lie owed to `request`, if a rule matches it (and uses up one of its answers).
fn told(request: &Value, log: &Mutex<Log>) -> Option<Lie> {
    if request["method"] != "eth_estimateGas" {
        return None;
    }
    let selector = selector(request);
    let mut log = log.lock().expect("log");
    let rule = log.rules.iter_mut().find(|r| r.remaining != Some(0) && (r.selector.is_none() || r.selector == selector))?;
    if let Some(n) = &mut rule.remaining {
        *n -= 1;
    }
    let lie = rule.lie.clone();
    log.lies += 1;
    Some(lie)
}

fn lie_reply(request: &Value, lie: &Lie) -> Value {
    match lie {
        Lie::Gas(gas) => json!({ "jsonrpc": "2.0", "id": request["id"], "result": format!("0x{gas:x}") }),
        Lie::Revert(data) => json!({
            "jsonrpc": "2.0",
            "id": request["id"],
            "error": { "code": 3, "message": "execution reverted", "data": format!("0x{}", hex::encode(data)) },
        }),
    }
}

fn reply(body: Bytes) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body));
    response.headers_mut().insert(hyper::header::CONTENT_TYPE, hyper::header::HeaderValue::from_static("application/json"));
    response
}
