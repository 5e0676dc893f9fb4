//! The shared HTTP server's limits hold for every request, however it is
//! answered: a call streamed as SSE keeps its per-key slot (and its access
//! log timing) until its stream ends; nothing is served on a key cStar did
//! not accept, whatever went wrong while checking it; and every error body
//! the server writes is bounded and clean, even when it quotes cStar.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::harness::*;

const LATEST: &str = "2025-11-25";

/// A POST of `body` to `/mcp` with `key` as the bearer token.
async fn post(url: &str, key: &str, body: &Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(url)
        .bearer_auth(key)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", LATEST)
        .body(body.to_string())
        .send()
        .await
        .unwrap()
}

fn tools_list() -> Value {
    json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {} })
}

/// A request to `/mcp` with `method`, `key` as the bearer and `body`.
async fn send_kind(
    url: &str,
    key: &str,
    method: &reqwest::Method,
    body: &Option<Value>,
) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .request(method.clone(), url)
        .bearer_auth(key)
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", LATEST);
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    request.send().await.unwrap()
}

/// A cStar message as a hostile or broken upstream might write it.
fn hostile_message() -> String {
    format!(
        "\u{1b}[31mkey revoked\u{200b}\u{1b}[0m \u{1b}]8;;https://evil.example\u{7}click\u{1b}]8;;\u{7} {}",
        "padding ".repeat(40_000)
    )
}

fn assert_clean_and_bounded(what: &str, text: &str) {
    assert!(text.len() < 2048, "{what}: {} bytes", text.len());
    for hidden in [
        "\u{1b}",
        "\u{200b}",
        "\u{7}",
        "[31m",
        "[0m",
        "]8;;",
        "evil.example",
    ] {
        assert!(!text.contains(hidden), "{what}: {hidden:?} in {text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_bodies_quoting_cstar_are_bounded_and_clean() {
    let sandbox = start_sandbox().await;
    let (_server, url) = http_server(&sandbox.base_url(), &[]).await;
    // (cStar's status for the key check, ours)
    let cases = [
        (401, StatusCode::UNAUTHORIZED),
        (403, StatusCode::UNAUTHORIZED),
        (500, StatusCode::SERVICE_UNAVAILABLE),
        (429, StatusCode::SERVICE_UNAVAILABLE),
        (503, StatusCode::SERVICE_UNAVAILABLE),
    ];
    for (index, (upstream, ours)) in cases.into_iter().enumerate() {
        // A key of its own for each case: a rejection is remembered.
        let key = format!("sk_live_hostileMessageCase{index:04}");
        fault(
            &sandbox,
            json!({ "path": "*/auth/whoami", "fault": "status", "status": upstream,
                "retryAfter": 60, "code": "revoked\u{200b}\u{1b}[31m", "message": hostile_message() }),
        )
        .await;
        let response = post(&url, &key, &tools_list()).await;
        assert_eq!(response.status(), ours, "cStar {upstream}");
        let text = response.text().await.unwrap();
        assert_clean_and_bounded(&format!("cStar {upstream}"), &text);
        let body: Value = serde_json::from_str(&text).unwrap();
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains("key revoked"), "{message}");
        assert!(message.ends_with('…'), "says it was cut: {message}");
        assert!(!body["error"]["code"].as_str().unwrap().contains("[31m"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_error_answer_the_server_writes_has_one_json_shape() {
    let sandbox = start_sandbox().await;
    let (_server, url) = http_server(&sandbox.base_url(), &["--request-timeout", "1"]).await;
    let root = url.trim_end_matches("/mcp").to_owned();
    let http = reqwest::Client::new();
    let answers = vec![
        (
            "404",
            http.get(format!("{root}/nowhere")).send().await.unwrap(),
        ),
        (
            "GET /mcp",
            send_kind(&url, SECRET_TEST, &reqwest::Method::GET, &None).await,
        ),
        (
            "DELETE /mcp",
            send_kind(&url, SECRET_TEST, &reqwest::Method::DELETE, &None).await,
        ),
        (
            "POST /healthz",
            http.post(format!("{root}/healthz")).send().await.unwrap(),
        ),
        (
            "DELETE /metrics",
            http.delete(format!("{root}/metrics")).send().await.unwrap(),
        ),
        (
            "PUT /readyz",
            http.put(format!("{root}/readyz")).send().await.unwrap(),
        ),
        ("401", http.post(&url).send().await.unwrap()),
        (
            "403 host",
            http.post(&url)
                .bearer_auth(SECRET_TEST)
                .header("host", "evil.example.com")
                .header("content-type", "application/json")
                .header("accept", "application/json, text/event-stream")
                .body(tools_list().to_string())
                .send()
                .await
                .unwrap(),
        ),
        (
            "406",
            http.post(&url)
                .bearer_auth(SECRET_TEST)
                .header("content-type", "application/json")
                .header("accept", "text/plain")
                .body(tools_list().to_string())
                .send()
                .await
                .unwrap(),
        ),
        (
            "403 origin",
            http.request(reqwest::Method::OPTIONS, &url)
                .header("origin", "https://evil.example")
                .send()
                .await
                .unwrap(),
        ),
    ];
    let mut bodies = Vec::new();
    for (what, response) in answers {
        let status = response.status();
        assert!(status.is_client_error(), "{what}: {status}");
        if status == StatusCode::METHOD_NOT_ALLOWED {
            assert!(response.headers().contains_key("allow"), "{what}");
        }
        let kind = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(kind.as_deref(), Some("application/json"), "{what}");
        bodies.push((what, response.text().await.unwrap()));
    }
    let address = root.trim_start_matches("http://");
    let too_large = raw_post(address, 2 * 1024 * 1024, 1100 * 1024).await;
    assert!(too_large.starts_with("HTTP/1.1 413"), "{too_large}");
    let too_slow = raw_post(address, 1000, 10).await;
    assert!(too_slow.starts_with("HTTP/1.1 408"), "{too_slow}");
    for (what, answer) in [("413", too_large), ("408", too_slow)] {
        let (head, body) = answer.split_once("\r\n\r\n").unwrap();
        assert!(
            head.to_ascii_lowercase()
                .contains("content-type: application/json"),
            "{head}"
        );
        bodies.push((what, body.to_owned()));
    }
    for (what, text) in bodies {
        assert_clean_and_bounded(what, &text);
        let body: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("{what}: {text}"));
        assert!(body["error"]["code"].is_string(), "{what}: {body}");
        assert!(body["error"]["message"].is_string(), "{what}: {body}");
    }
}

/// A POST to `/mcp` over a raw connection that announces `length` bytes
/// of body and sends `sent` of them; the server's whole answer.
async fn raw_post(address: &str, length: usize, sent: usize) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let head = format!(
        "POST /mcp HTTP/1.1\r\nhost: {address}\r\nauthorization: Bearer {SECRET_TEST}\r\ncontent-type: application/json\r\naccept: application/json, text/event-stream\r\ncontent-length: {length}\r\nconnection: close\r\n\r\n"
    );
    let writing = tokio::spawn(async move {
        writer.write_all(head.as_bytes()).await.unwrap();
        // The server may stop reading once it has refused the body.
        let _ = writer.write_all(&vec![b' '; sent]).await;
        writer
    });
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), reader.read_to_end(&mut answer)).await;
    writing.abort();
    String::from_utf8_lossy(&answer).into_owned()
}

/// One request of every kind a client sends to `/mcp`: (what, method, body).
fn every_request_kind() -> Vec<(&'static str, reqwest::Method, Option<Value>)> {
    let request = |id: i64, method: &str, params: Value| {
        Some(json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }))
    };
    let notification = |method: &str| Some(json!({ "jsonrpc": "2.0", "method": method }));
    let post = reqwest::Method::POST;
    vec![
        (
            "initialize",
            post.clone(),
            request(
                1,
                "initialize",
                json!({
            "protocolVersion": LATEST, "capabilities": {},
            "clientInfo": { "name": "test", "version": "1" } }),
            ),
        ),
        (
            "server/discover",
            post.clone(),
            request(
                2,
                "server/discover",
                json!({ "_meta": {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28" } }),
            ),
        ),
        (
            "tools/list",
            post.clone(),
            request(3, "tools/list", json!({})),
        ),
        (
            "tools/call",
            post.clone(),
            request(
                4,
                "tools/call",
                json!({ "name": "cstar_list_tickets", "arguments": {} }),
            ),
        ),
        (
            "resources/list",
            post.clone(),
            request(5, "resources/list", json!({})),
        ),
        (
            "resources/templates/list",
            post.clone(),
            request(6, "resources/templates/list", json!({})),
        ),
        (
            "resources/read",
            post.clone(),
            request(
                7,
                "resources/read",
                json!({ "uri": "cstar://tickets/tkt_00000000000000000000000000000000" }),
            ),
        ),
        (
            "prompts/list",
            post.clone(),
            request(8, "prompts/list", json!({})),
        ),
        (
            "prompts/get",
            post.clone(),
            request(
                9,
                "prompts/get",
                json!({ "name": "triage", "arguments": {} }),
            ),
        ),
        (
            "completion/complete",
            post.clone(),
            request(
                10,
                "completion/complete",
                json!({
            "ref": { "type": "ref/resource", "uri": "cstar://tickets/{ticketId}" },
            "argument": { "name": "ticketId", "value": "tkt" } }),
            ),
        ),
        ("ping", post.clone(), request(11, "ping", json!({}))),
        (
            "notifications/initialized",
            post.clone(),
            notification("notifications/initialized"),
        ),
        ("GET", reqwest::Method::GET, None),
        ("DELETE", reqwest::Method::DELETE, None),
    ]
}

/// Requests that reached cStar other than key checks.
async fn served_upstream(sandbox: &cstar_mcp::sandbox::RunningSandbox) -> Vec<Value> {
    requests(sandbox)
        .await
        .into_iter()
        .filter(|r| {
            !r["path"]
                .as_str()
                .unwrap_or_default()
                .ends_with("/auth/whoami")
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_request_kind_is_served_on_a_key_cstar_has_not_accepted() {
    let sandbox = start_sandbox().await;
    let (_server, url) = http_server(&sandbox.base_url(), &[]).await;
    fault(
        &sandbox,
        json!({ "path": "*/auth/whoami", "fault": "status", "status": 500, "times": 1000 }),
    )
    .await;
    for (what, method, body) in every_request_kind() {
        let response = send_kind(&url, UNKNOWN_KEY, &method, &body).await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE, "{what}");
        assert_eq!(response.headers()["retry-after"], "5", "{what}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            body["error"]["code"], "key_check_unavailable",
            "{what}: {body}"
        );
    }
    assert_eq!(served_upstream(&sandbox).await, Vec::<Value>::new());

    // cStar answers again: the key it never accepted is refused (the
    // failed checks were not remembered as a success), a good one served.
    clear_faults(&sandbox).await;
    for (what, method, body) in every_request_kind() {
        let response = send_kind(&url, UNKNOWN_KEY, &method, &body).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{what}");
        assert!(
            response.headers().contains_key("www-authenticate"),
            "{what}"
        );
    }
    assert_eq!(served_upstream(&sandbox).await, Vec::<Value>::new());
    let list = send_kind(
        &url,
        SECRET_TEST,
        &reqwest::Method::POST,
        &Some(tools_list()),
    )
    .await;
    assert_eq!(list.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_check_that_fails_in_any_way_is_a_503_with_retry_after() {
    let sandbox = start_sandbox().await;
    let (_server, url) = http_server(&sandbox.base_url(), &["--timeout", "1"]).await;
    // (fault on whoami, Retry-After expected)
    let cases = [
        (json!({ "fault": "status", "status": 500 }), "5"),
        (
            json!({ "fault": "status", "status": 429, "retryAfter": 30 }),
            "30",
        ),
        (
            json!({ "fault": "status", "status": 503, "retryAfter": 1 }),
            "1",
        ),
        (json!({ "fault": "status", "status": 404 }), "5"),
        (json!({ "fault": "delay", "ms": 1500 }), "5"),
        (json!({ "fault": "html502" }), "5"),
        (json!({ "fault": "malformed_json" }), "5"),
        (json!({ "fault": "reset" }), "5"),
    ];
    for (mut rule, retry_after) in cases {
        rule["path"] = json!("*/auth/whoami");
        rule["times"] = json!(1000);
        fault(&sandbox, rule.clone()).await;
        let started = Instant::now();
        let response = post(&url, UNKNOWN_KEY, &tools_list()).await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE, "{rule}");
        assert_eq!(response.headers()["retry-after"], retry_after, "{rule}");
        assert!(started.elapsed() < Duration::from_secs(15), "{rule}");
        let body: Value = response.json().await.unwrap();
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.contains(&format!("Try again in {retry_after} s")),
            "{message}"
        );
        clear_faults(&sandbox).await;
    }
    let list = post(&url, UNKNOWN_KEY, &tools_list()).await;
    assert_eq!(list.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(served_upstream(&sandbox).await, Vec::<Value>::new());
}

/// `cstar_list_tickets` with a progress token: answered as an SSE stream
/// once the call reports progress.
fn streaming_call(id: i64) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "method": "tools/call",
        "params": { "name": "cstar_list_tickets", "arguments": {}, "_meta": { "progressToken": id } } })
}

/// Every `*/tickets` request answers 503 with `Retry-After: wait` seconds
/// (`times` of them): each call then reports a retry at once, waits, and
/// gives up after three attempts, about `2 * wait` seconds later.
async fn slow_tickets(sandbox: &cstar_mcp::sandbox::RunningSandbox, wait: u64, times: u32) {
    fault(
        sandbox,
        json!({ "path": "*/tickets", "fault": "status", "status": 503,
            "retryAfter": wait, "times": times }),
    )
    .await;
}

/// A response that is an SSE stream, after its first event arrived.
async fn streaming(mut response: reqwest::Response) -> reqwest::Response {
    assert_eq!(response.status(), StatusCode::OK);
    let kind = response.headers()["content-type"].to_str().unwrap();
    assert!(kind.starts_with("text/event-stream"), "{kind}");
    let first = tokio::time::timeout(Duration::from_secs(10), response.chunk())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let first = String::from_utf8_lossy(&first);
    assert!(first.contains("notifications/progress"), "{first}");
    response
}

/// Reads a stream to its end and returns all of it.
async fn to_end(response: reqwest::Response) -> String {
    tokio::time::timeout(Duration::from_secs(20), response.text())
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamed_call_holds_its_key_slot_until_its_stream_ends() {
    let sandbox = start_sandbox().await;
    let (_server, url) = http_server(&sandbox.base_url(), &["--max-per-key", "2"]).await;
    ok(&call(
        &http_client(&url, SECRET_TEST).await,
        "cstar_get_status",
        json!({}),
    )
    .await);
    slow_tickets(&sandbox, 2, 30).await;
    // One call after another, each once the last one streams: a slot given
    // back at the stream's start would let all eight in.
    let mut streams = Vec::new();
    let mut refused = 0;
    for id in 1..=8 {
        let response = post(&url, SECRET_TEST, &streaming_call(id)).await;
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            refused += 1;
        } else {
            streams.push(streaming(response).await);
        }
    }
    assert_eq!((streams.len(), refused), (2, 6));
    let list = post(&url, SECRET_TEST, &tools_list()).await;
    assert_eq!(list.status(), StatusCode::TOO_MANY_REQUESTS);
    for stream in streams {
        let events = to_end(stream).await;
        assert!(events.contains("\"result\""), "{events}");
    }
    let list = post(&url, SECRET_TEST, &tools_list()).await;
    assert_eq!(
        list.status(),
        StatusCode::OK,
        "slots are back once the streams end"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamed_call_that_is_cancelled_or_cut_off_gives_its_slot_back() {
    let sandbox = start_sandbox().await;
    let (_server, url) = http_server(&sandbox.base_url(), &["--max-per-key", "2"]).await;
    ok(&call(
        &http_client(&url, SECRET_TEST).await,
        "cstar_get_status",
        json!({}),
    )
    .await);
    slow_tickets(&sandbox, 1, 30).await;

    // Cancelled: the stateless server cannot stop the call, so the slot is
    // held until the call ends, and then given back.
    let started = Instant::now();
    let stream = streaming(post(&url, SECRET_TEST, &streaming_call(1)).await).await;
    let cancel = json!({ "jsonrpc": "2.0", "method": "notifications/cancelled",
        "params": { "requestId": 1, "reason": "changed my mind" } });
    assert_eq!(
        post(&url, SECRET_TEST, &cancel).await.status(),
        StatusCode::ACCEPTED
    );
    let second = streaming(post(&url, SECRET_TEST, &streaming_call(2)).await).await;
    let third = post(&url, SECRET_TEST, &tools_list()).await;
    assert_eq!(third.status(), StatusCode::TOO_MANY_REQUESTS);
    to_end(stream).await;
    assert!(started.elapsed() >= Duration::from_millis(1500));
    let after_end = post(&url, SECRET_TEST, &tools_list()).await;
    assert_eq!(after_end.status(), StatusCode::OK);

    // Cut off: the client goes away mid-stream (a call that would last 16
    // s more); the call is cancelled and its slot comes back at once.
    drop(second);
    clear_faults(&sandbox).await;
    slow_tickets(&sandbox, 8, 3).await;
    let long = streaming(post(&url, SECRET_TEST, &streaming_call(3)).await).await;
    let dropped_at = Instant::now();
    drop(long);
    let mut admitted = false;
    while dropped_at.elapsed() < Duration::from_secs(5) {
        let list = tools_list();
        let (a, b) = tokio::join!(
            post(&url, SECRET_TEST, &list),
            post(&url, SECRET_TEST, &list)
        );
        if a.status() == StatusCode::OK && b.status() == StatusCode::OK {
            admitted = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        admitted,
        "both slots free within 5 s of the streams' clients leaving"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_access_log_times_a_streamed_call_to_its_end() {
    use tokio::io::AsyncReadExt;
    let sandbox = start_sandbox().await;
    let (mut server, url) = http_server(&sandbox.base_url(), &["--log-format", "json"]).await;
    ok(&call(
        &http_client(&url, SECRET_TEST).await,
        "cstar_get_status",
        json!({}),
    )
    .await);
    slow_tickets(&sandbox, 1, 3).await;
    let started = Instant::now();
    to_end(streaming(post(&url, SECRET_TEST, &streaming_call(1)).await).await).await;
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(1500), "{took:?}");

    std::process::Command::new("kill")
        .args(["-TERM", &server.id().unwrap().to_string()])
        .status()
        .unwrap();
    exits_cleanly(&mut server, "serve --http after SIGTERM").await;
    let mut logs = String::new();
    server
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut logs)
        .await
        .unwrap();
    let line = logs
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .find(|line| {
            line["target"] == "cstar_mcp::http::access" && line["tool"] == "cstar_list_tickets"
        })
        .unwrap_or_else(|| panic!("no access line for the call in\n{logs}"));
    let logged = line["duration_ms"].as_f64().unwrap();
    assert!(
        logged >= 1500.0,
        "logged {logged} ms for a call of {took:?}"
    );
}
