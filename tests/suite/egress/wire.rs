//! How the walk is sent: the real binary over each transport, every line
//! and body kept as raw bytes for the checks. Over stdio, every request of
//! a walk is written at once (rmcp serves them concurrently) and stdout is
//! read until each is answered; over HTTP, each is a raw POST with the key
//! as a bearer, 16 at a time.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use cstar_mcp::sandbox::HOSTILE_SAMPLES;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin};
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinHandle;

use super::super::harness::*;
use super::KEY;
use super::checks::{Checks, holds_a_key, lossy};
use super::walk::{Answered, Request, hostile_text};

/// How long one scenario's requests may take on one transport.
const SCENARIO_DEADLINE: Duration = Duration::from_secs(40);

/// The server's time limit for one cStar request, in seconds: no scenario
/// waits for it (the slowest fault delays 300 ms), so it only has to be
/// long enough for a hostile page on a loaded 2-core machine.
const UPSTREAM_TIMEOUT: &str = "5";

pub(super) enum Session {
    Stdio {
        child: Child,
        stdin: ChildStdin,
        lines: mpsc::UnboundedReceiver<Vec<u8>>,
        stderr: JoinHandle<Vec<u8>>,
        next_id: i64,
    },
    Http {
        child: Child,
        url: String,
        stderr: JoinHandle<Vec<u8>>,
        next_id: i64,
    },
}

/// Everything `stream` writes, read in the background.
fn drain(mut stream: impl AsyncRead + Unpin + Send + 'static) -> JoinHandle<Vec<u8>> {
    tokio::spawn(async move {
        let mut bytes = Vec::new();
        let _ = stream.read_to_end(&mut bytes).await;
        bytes
    })
}

impl Session {
    /// `serve` over stdio against the sandbox at `base_url`, initialized
    /// (its answer checked too).
    /// `extra` are more arguments to `serve`.
    pub(super) async fn stdio(base_url: &str, extra: &[&str], checks: &mut Checks) -> Self {
        let arguments = [&["serve", "--timeout", UPSTREAM_TIMEOUT], extra].concat();
        let mut child = binary(
            &arguments,
            &[("CSTAR_BASE_URL", base_url), ("CSTAR_API_KEY", KEY)],
        )
        .spawn()
        .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let stderr = drain(child.stderr.take().unwrap());
        let (sender, lines) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            loop {
                let mut line = Vec::new();
                match stdout.read_until(b'\n', &mut line).await {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        if sender.send(line).is_err() {
                            break;
                        }
                    }
                }
            }
        });
        let params = json!({ "protocolVersion": "2025-11-25", "capabilities": {},
                             "clientInfo": { "name": "egress-test", "version": "1" } });
        let initialize = Request::new("initialize", params);
        let message = json!({ "jsonrpc": "2.0", "id": 0, "method": "initialize",
                              "params": initialize.params });
        stdin
            .write_all(format!("{message}\n").as_bytes())
            .await
            .unwrap();
        checks.scenario = "initialize".to_owned();
        let mut lines = lines;
        let pending = HashMap::from([(0, initialize)]);
        stdio_answers(&mut lines, pending, &HashSet::new(), checks).await;
        let initialized = json!({ "jsonrpc": "2.0", "method": "notifications/initialized" });
        stdin
            .write_all(format!("{initialized}\n").as_bytes())
            .await
            .unwrap();
        Session::Stdio {
            child,
            stdin,
            lines,
            stderr,
            next_id: 0,
        }
    }

    /// `serve --http` against the sandbox at `base_url`, with `extra`
    /// arguments.
    pub(super) async fn http(base_url: &str, extra: &[&str]) -> Self {
        let serve = [
            "serve",
            "--http",
            "127.0.0.1:0",
            "--timeout",
            UPSTREAM_TIMEOUT,
            "--workers",
            "1",
        ];
        let mut child = binary(&[&serve, extra].concat(), &[("CSTAR_BASE_URL", base_url)])
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let stderr = drain(child.stderr.take().unwrap());
        let mut first = String::new();
        tokio::time::timeout(Duration::from_secs(10), stdout.read_line(&mut first))
            .await
            .unwrap()
            .unwrap();
        let url = first.trim().strip_prefix("listening on ").expect(&first);
        let url = url.to_owned();
        drain(stdout);
        Session::Http {
            child,
            url,
            stderr,
            next_id: 0,
        }
    }

    /// Sends every request at once and checks everything written back
    /// until each is answered.
    pub(super) async fn exchange(&mut self, requests: &[Request], checks: &mut Checks) -> Answered {
        match self {
            Session::Stdio {
                stdin,
                lines,
                next_id,
                ..
            } => {
                let mut pending = HashMap::new();
                let mut batch = String::new();
                for request in requests {
                    *next_id += 1;
                    let mut params = request.params.clone();
                    if request.method == "tools/call" {
                        params["_meta"] = json!({ "progressToken": *next_id });
                    }
                    let message = json!({ "jsonrpc": "2.0", "id": *next_id,
                                          "method": request.method, "params": params });
                    batch.push_str(&format!("{message}\n"));
                    pending.insert(*next_id, request.clone());
                }
                let tokens: HashSet<i64> = pending.keys().copied().collect();
                let written = stdin.write_all(batch.as_bytes()).await;
                assert!(written.is_ok(), "the stdio server stopped reading");
                stdio_answers(lines, pending, &tokens, checks).await
            }
            Session::Http { url, next_id, .. } => {
                let first = *next_id + 1;
                *next_id += requests.len() as i64;
                http_answers(url, first, requests, checks).await
            }
        }
    }

    /// The HTTP transport's own error answers (`http_edges`).
    pub(super) async fn edges(&self, checks: &mut Checks) {
        if let Session::Http { url, .. } = self {
            http_edges(url, checks).await;
        }
    }

    /// Stops the server; checks that nothing more is written to stdout
    /// and that the logs (stderr) hold no key and no hidden sequence.
    pub(super) async fn finish(self, checks: &mut Checks) {
        checks.scenario = "shutdown".to_owned();
        let (mut child, stderr) = match self {
            Session::Stdio {
                child,
                stdin,
                stderr,
                mut lines,
                ..
            } => {
                drop(stdin);
                while let Ok(Some(line)) =
                    tokio::time::timeout(Duration::from_secs(10), lines.recv()).await
                {
                    checks.fail(
                        "after stdin closed",
                        "JSON-RPC",
                        format!("a line: {}", lossy(&line)),
                    );
                }
                (child, stderr)
            }
            Session::Http { child, stderr, .. } => (child, stderr),
        };
        let _ = child.start_kill();
        let _ = tokio::time::timeout(Duration::from_secs(10), child.wait()).await;
        let logs = stderr.await.unwrap_or_default();
        let logs = String::from_utf8_lossy(&logs);
        if holds_a_key(&logs) {
            checks.fail("stderr", "API key", "a key is in the logs".to_owned());
        }
        for sequence in HOSTILE_SAMPLES.never_raw {
            if logs.contains(sequence) {
                checks.fail("stderr", "never_raw", format!("the logs hold {sequence:?}"));
            }
        }
    }
}

/// Reads stdout lines until every request in `pending` is answered.
async fn stdio_answers(
    lines: &mut mpsc::UnboundedReceiver<Vec<u8>>,
    mut pending: HashMap<i64, Request>,
    tokens: &HashSet<i64>,
    checks: &mut Checks,
) -> Answered {
    let deadline = tokio::time::Instant::now() + SCENARIO_DEADLINE;
    let mut answered = Vec::new();
    while !pending.is_empty() {
        let line = match tokio::time::timeout_at(deadline, lines.recv()).await {
            Ok(Some(line)) => line,
            Ok(None) | Err(_) => {
                let left: Vec<String> = pending.values().map(Request::label).collect();
                checks.fail("stdout", "answered", format!("no answer to {left:?}"));
                break;
            }
        };
        let Some(message) = checks.wire(&line, |message| {
            let id = message.and_then(|message| message["id"].as_i64());
            let method = message.and_then(|message| message["method"].as_str());
            match (id.and_then(|id| pending.get(&id)), method) {
                (Some(request), _) => request.label(),
                (None, Some(method)) => method.to_owned(),
                (None, None) => "a stdout line".to_owned(),
            }
        }) else {
            continue;
        };
        let Some(id) = message.get("id") else {
            checks.notification(&message, tokens);
            continue;
        };
        match id.as_i64().and_then(|id| pending.remove(&id)) {
            Some(request) => {
                checks.answer(&request, &message);
                answered.push((request, message));
            }
            None => checks.fail(
                "stdout",
                "JSON-RPC",
                format!("an answer to no request sent: {id}"),
            ),
        }
    }
    answered
}

/// POSTs every request (16 at a time) and checks each raw body.
async fn http_answers(
    url: &str,
    first_id: i64,
    requests: &[Request],
    checks: &mut Checks,
) -> Answered {
    let http = reqwest::Client::new();
    let slots = Arc::new(Semaphore::new(16));
    let mut tasks = tokio::task::JoinSet::new();
    for (offset, request) in requests.iter().enumerate() {
        let id = first_id + offset as i64;
        let body = json!({ "jsonrpc": "2.0", "id": id, "method": request.method,
                           "params": request.params });
        let (http, slots, url) = (http.clone(), slots.clone(), url.to_owned());
        let request = request.clone();
        tasks.spawn(async move {
            let _slot = slots.acquire_owned().await;
            let sent = post(&http, &url, Some(KEY), body.to_string());
            let answer = tokio::time::timeout(SCENARIO_DEADLINE, sent).await;
            (id, request, answer)
        });
    }
    let mut answered = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let (id, request, answer) = joined.unwrap();
        let Ok((status, bytes)) = answer else {
            checks.fail(&request.label(), "answered", "no answer in time".to_owned());
            continue;
        };
        let Some(message) = checks.wire(&bytes, |_| request.label()) else {
            continue;
        };
        if message.get("jsonrpc").is_none() {
            checks.refusal(&message, status, &request.label());
            continue;
        }
        if message["id"] != json!(id) {
            let at = request.label();
            checks.fail(
                &at,
                "JSON-RPC",
                format!("answers id {} to id {id}", message["id"]),
            );
        }
        checks.answer(&request, &message);
        answered.push((request, message));
    }
    answered
}

/// A raw POST of `body` to `url`; the status and the body's bytes.
async fn post(
    http: &reqwest::Client,
    url: &str,
    key: Option<&str>,
    body: String,
) -> (u16, Vec<u8>) {
    let mut request = http
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-11-25")
        .body(body);
    if let Some(key) = key {
        request = request.header("authorization", format!("Bearer {key}"));
    }
    match request.send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            (
                status,
                response
                    .bytes()
                    .await
                    .map(|b| b.to_vec())
                    .unwrap_or_default(),
            )
        }
        Err(error) => (0, format!("request failed: {error}").into_bytes()),
    }
}

/// The HTTP transport's own answers: refusals of no key, of a key cStar
/// does not know and of a body that is not JSON, and the answer to a key
/// the server has not checked yet (while cStar fails, the refusal quotes
/// cStar; once cStar refused it, the server remembers).
async fn http_edges(url: &str, checks: &mut Checks) {
    let http = reqwest::Client::new();
    let list = json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/list" }).to_string();
    let not_json = format!("{}\u{1b}[31m", hostile_text(500));
    for (what, key, body, refused) in [
        ("no key", None, list.clone(), true),
        ("an unknown key", Some(UNKNOWN_KEY), list.clone(), true),
        ("a key not checked yet", Some(GLOBEX_TEST), list, false),
        ("not JSON", Some(KEY), not_json, true),
    ] {
        let (status, bytes) = post(&http, url, key, body).await;
        let Some(message) = checks.wire(&bytes, |_| what.to_owned()) else {
            continue;
        };
        if refused && message.get("error").is_none() {
            checks.fail(what, "error shape", format!("{status} without an error"));
        }
        match message.get("jsonrpc") {
            None => checks.refusal(&message, status, what),
            Some(_) => checks.size(&message, "", what),
        }
    }
}
