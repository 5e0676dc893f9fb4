//! The shared HTTP server at its edges: every request authenticated, what
//! each key may do decided per request, protocol faults answered as HTTP
//! and JSON-RPC expect, and no client able to stall or starve another.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::harness::*;

const LATEST: &str = "2025-11-25";

/// A raw JSON-RPC POST to `url`, with `key` as a bearer (scheme as given).
async fn post(url: &str, authorization: Option<&str>, body: &str) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", LATEST)
        .body(body.to_owned());
    if let Some(authorization) = authorization {
        request = request.header("authorization", authorization);
    }
    request.send().await.unwrap()
}

/// A `tools/call` of `cstar_list_tickets` with no arguments.
fn list_tickets_call() -> String {
    json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": { "name": "cstar_list_tickets", "arguments": {} } })
    .to_string()
}

fn tools_list() -> String {
    json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {} }).to_string()
}

async fn tool_names(url: &str, key: &str) -> Vec<String> {
    let client = http_client(url, key).await;
    client
        .list_all_tools()
        .await
        .unwrap()
        .into_iter()
        .map(|tool| tool.name.to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_is_authenticated_not_only_initialize() {
    let sandbox = start_sandbox().await;
    let (_server, url) = http_server(&sandbox.base_url(), &[]).await;
    for authorization in [
        None,
        Some(format!("Bearer {UNKNOWN_KEY}")),
        Some("Bearer sk_test_short".to_owned()),
        Some("Basic dXNlcjpwYXNz".to_owned()),
    ] {
        let response = post(&url, authorization.as_deref(), &tools_list()).await;
        assert_eq!(
            response.status(),
            StatusCode::UNAUTHORIZED,
            "{authorization:?}"
        );
        let challenge = response.headers()["www-authenticate"].to_str().unwrap();
        assert!(challenge.starts_with("Bearer"), "{challenge}");
        let body: Value = response.json().await.unwrap();
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("Authorization") && !message.contains("CSTAR_API_KEY"),
            "{message}"
        );
    }
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let response = post(
            &url,
            Some(&format!("{scheme} {SECRET_TEST}")),
            &tools_list(),
        )
        .await;
        assert_eq!(response.status(), StatusCode::OK, "{scheme}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_a_request_may_do_follows_its_own_key() {
    let sandbox = start_sandbox().await;
    let (_server, url) = http_server(&sandbox.base_url(), &[]).await;
    assert_eq!(tool_names(&url, SECRET_TEST).await.len(), 9);
    let reads = tool_names(&url, PUBLISHABLE_TEST).await;
    assert_eq!(reads.len(), 7, "{reads:?}");
    assert!(!reads.iter().any(|name| name == "cstar_create_ticket"));
    let reader = http_client(&url, PUBLISHABLE_TEST).await;
    let status = ok(&call(&reader, "cstar_get_status", json!({})).await);
    assert_eq!(status["access"]["readOnly"], true);
    let hidden = status["access"]["hiddenTools"].as_array().unwrap();
    assert_eq!(
        hidden,
        &vec![json!("cstar_create_ticket"), json!("cstar_trigger_webhook")]
    );
    let writer = http_client(&url, SECRET_TEST).await;
    let status = ok(&call(&writer, "cstar_get_status", json!({})).await);
    assert_eq!(status["access"]["readOnly"], false);
    // Nothing hidden: the list is left out.
    assert_eq!(status["access"].get("hiddenTools"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protocol_faults_get_the_answers_http_and_json_rpc_expect() {
    let sandbox = start_sandbox().await;
    let (_server, url) = http_server(
        &sandbox.base_url(),
        &["--allowed-hosts", "mcp.example.com:8443"],
    )
    .await;
    let bearer = format!("Bearer {SECRET_TEST}");
    let http = reqwest::Client::new();

    let garbage = post(&url, Some(&bearer), "this is not json").await;
    assert_eq!(garbage.status(), StatusCode::BAD_REQUEST);
    let body: Value = garbage.json().await.unwrap();
    assert_eq!(body["error"]["code"], -32700);
    assert_eq!(body["id"], Value::Null);

    let any = http
        .post(&url)
        .header("authorization", &bearer)
        .header("content-type", "application/json")
        .header("accept", "*/*")
        .header("mcp-protocol-version", LATEST)
        .body(tools_list())
        .send()
        .await
        .unwrap();
    assert_eq!(any.status(), StatusCode::OK, "Accept: */*");

    let surrogate = post(
        &url,
        Some(&bearer),
        r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"cstar_list_tickets","arguments":{"search":"caf\ud83d"}}}"#,
    )
    .await;
    assert_eq!(surrogate.status(), StatusCode::OK);
    let body: Value = surrogate.json().await.unwrap();
    assert!(
        body["result"]["structuredContent"]["tickets"].is_array(),
        "{body}"
    );

    let preflight = http
        .request(reqwest::Method::OPTIONS, &url)
        .header("origin", "http://localhost:6274")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        preflight.headers()["access-control-allow-origin"],
        "http://localhost:6274"
    );
    let allowed = preflight.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap();
    assert!(allowed.contains("authorization") && allowed.contains("mcp-protocol-version"));
    let foreign = http
        .request(reqwest::Method::OPTIONS, &url)
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), StatusCode::FORBIDDEN);

    let root = url.trim_end_matches("/mcp");
    for path in ["/", "/mcp/extra", "/admin"] {
        let response = http.get(format!("{root}{path}")).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    }

    let proxied = http
        .post(&url)
        .header("authorization", &bearer)
        .header("host", "mcp.example.com:8443")
        .header("origin", "https://mcp.example.com:8443")
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", LATEST)
        .body(tools_list())
        .send()
        .await
        .unwrap();
    assert_eq!(
        proxied.status(),
        StatusCode::OK,
        "host:port in --allowed-hosts"
    );
    assert_eq!(
        proxied.headers()["access-control-allow-origin"],
        "https://mcp.example.com:8443"
    );
}

/// Sends headers announcing a body, then `sent` bytes of it, and returns
/// how long the server took to answer and close.
async fn slow_body(url: &str, sent: &[u8]) -> (Duration, String) {
    let address = url
        .trim_start_matches("http://")
        .trim_end_matches("/mcp")
        .to_owned();
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    let head = format!(
        "POST /mcp HTTP/1.1\r\nhost: {address}\r\nauthorization: Bearer {SECRET_TEST}\r\ncontent-type: application/json\r\naccept: application/json, text/event-stream\r\ncontent-length: 1000\r\n\r\n"
    );
    let started = Instant::now();
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(sent).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut answer)).await;
    (
        started.elapsed(),
        String::from_utf8_lossy(&answer).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_client_can_stall_or_starve_the_others() {
    let sandbox = start_sandbox().await;
    let (_server, url) = http_server(&sandbox.base_url(), &["--request-timeout", "1"]).await;
    let secret = http_client(&url, SECRET_TEST).await;
    let globex = http_client(&url, GLOBEX_TEST).await;
    let reader = http_client(&url, PUBLISHABLE_TEST).await;
    // Warm up, then measure calm calls.
    ok(&call(&secret, "cstar_list_tickets", json!({})).await);
    ok(&call(&globex, "cstar_list_tickets", json!({})).await);
    ok(&call(&reader, "cstar_list_articles", json!({})).await);
    let calm_started = Instant::now();
    for _ in 0..10 {
        ok(&call(&globex, "cstar_list_tickets", json!({})).await);
    }
    let calm = calm_started.elapsed();

    let url_for_attackers = url.clone();
    let attackers = tokio::spawn(async move {
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..20 {
            let url = url_for_attackers.clone();
            tasks.spawn(async move { slow_body(&url, b"{\"jsonrpc\":").await });
        }
        let huge = "x".repeat(900 * 1024);
        for _ in 0..10 {
            let url = url_for_attackers.clone();
            let body = json!({ "jsonrpc": "2.0", "id": 9, "method": "tools/call",
                "params": { "name": "cstar_trigger_webhook", "arguments": { "event": huge } } })
            .to_string();
            tasks.spawn(async move {
                let response = post(&url, Some(&format!("Bearer {SECRET_LIVE}")), &body).await;
                (
                    Duration::ZERO,
                    format!("{} {}", response.status(), response.text().await.unwrap()),
                )
            });
        }
        for _ in 0..10 {
            let url = url_for_attackers.clone();
            tasks.spawn(async move {
                let response =
                    post(&url, Some(&format!("Bearer {UNKNOWN_KEY}")), &tools_list()).await;
                (Duration::ZERO, response.status().to_string())
            });
        }
        let mut outcomes = Vec::new();
        while let Some(outcome) = tasks.join_next().await {
            outcomes.push(outcome.unwrap());
        }
        outcomes
    });

    tokio::time::sleep(Duration::from_millis(100)).await;
    let busy_started = Instant::now();
    for _ in 0..10 {
        let page = ok(&call(&globex, "cstar_list_tickets", json!({})).await);
        assert!(page["tickets"][0]["id"].is_string());
        let status = ok(&call(&reader, "cstar_get_status", json!({})).await);
        assert_eq!(status["access"]["readOnly"], true);
    }
    let busy = busy_started.elapsed();
    let outcomes = attackers.await.unwrap();

    let slow: Vec<&(Duration, String)> = outcomes
        .iter()
        .filter(|(took, _)| *took > Duration::ZERO)
        .collect();
    assert_eq!(slow.len(), 20);
    for (took, answer) in &slow {
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(*took < Duration::from_secs(10), "closed after {took:?}");
    }
    let oversized = outcomes
        .iter()
        .filter(|(_, a)| a.contains("longer than the 64"))
        .count();
    assert_eq!(oversized, 10, "{outcomes:?}");
    let rejected = outcomes
        .iter()
        .filter(|(_, a)| a.starts_with("401"))
        .count();
    assert_eq!(rejected, 10);
    // Twice as many calls (two clients) under attack, against ten calm ones.
    println!("10 calm calls: {calm:?}; 20 calls under attack: {busy:?}");
    assert!(
        busy < calm * 20 + Duration::from_secs(2),
        "well-behaved calls slowed from {calm:?} to {busy:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_first_calls_make_one_whoami() {
    let sandbox = start_sandbox().await;
    let (_server, url) = http_server(&sandbox.base_url(), &["--max-per-key", "100"]).await;
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let url = url.clone();
        calls.spawn(async move {
            post(
                &url,
                Some(&format!("Bearer {SECRET_TEST}")),
                &list_tickets_call(),
            )
            .await
            .status()
        });
    }
    while let Some(status) = calls.join_next().await {
        assert_eq!(status.unwrap(), StatusCode::OK);
    }
    assert_eq!(count_requests(&sandbox, "GET", "/auth/whoami").await, 1);
    assert_eq!(count_requests(&sandbox, "GET", "/tickets").await, 50);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_and_requests_per_key_are_capped() {
    let sandbox = start_sandbox().await;
    let (_server, url) = http_server(
        &sandbox.base_url(),
        // Two threads: the caps are the process's, not each thread's.
        &[
            "--max-connections",
            "6",
            "--max-per-key",
            "2",
            "--workers",
            "2",
        ],
    )
    .await;
    let address = url
        .trim_start_matches("http://")
        .trim_end_matches("/mcp")
        .to_owned();
    let mut idle = Vec::new();
    for _ in 0..6 {
        idle.push(tokio::net::TcpStream::connect(&address).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut extra = tokio::net::TcpStream::connect(&address).await.unwrap();
    let mut answer = String::new();
    tokio::time::timeout(Duration::from_secs(5), extra.read_to_string(&mut answer))
        .await
        .unwrap()
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    drop(idle);
    tokio::time::sleep(Duration::from_millis(200)).await;

    fault(
        &sandbox,
        json!({ "path": "*/tickets", "fault": "delay", "ms": 1500, "times": 2 }),
    )
    .await;
    let body = list_tickets_call();
    let bearer = format!("Bearer {SECRET_TEST}");
    let slow: Vec<_> = (0..2)
        .map(|_| {
            let (url, body, bearer) = (url.clone(), body.clone(), bearer.clone());
            tokio::spawn(async move { post(&url, Some(&bearer), &body).await.status() })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let third = post(&url, Some(&bearer), &body).await;
    assert_eq!(third.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(third.headers()["retry-after"], "1");
    let other_key = post(&url, Some(&format!("Bearer {GLOBEX_TEST}")), &tools_list()).await;
    assert_eq!(
        other_key.status(),
        StatusCode::OK,
        "other keys are not held up"
    );
    for call in slow {
        assert_eq!(call.await.unwrap(), StatusCode::OK);
    }
}

/// Sends one HTTP/1.1 request on `stream` and reads its answer's head
/// and body (by `content-length`), leaving the connection open.
async fn exchange(stream: &mut tokio::net::TcpStream, address: &str, path: &str) -> String {
    stream
        .write_all(format!("GET {path} HTTP/1.1\r\nhost: {address}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut answer = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut chunk))
            .await
            .unwrap()
            .unwrap();
        assert!(read > 0, "the connection closed");
        answer.extend_from_slice(&chunk[..read]);
        let text = String::from_utf8_lossy(&answer).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length: usize = head
                .lines()
                .find_map(|line| {
                    line.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse().unwrap())
                })
                .unwrap();
            if body.len() >= length {
                return text;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_are_spread_evenly_over_the_worker_threads() {
    let sandbox = start_sandbox().await;
    let (_server, url) = http_server(&sandbox.base_url(), &["--workers", "3"]).await;
    let address = url
        .trim_start_matches("http://")
        .trim_end_matches("/mcp")
        .to_owned();
    let mut open = Vec::new();
    for _ in 0..8 {
        let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
        assert!(
            exchange(&mut stream, &address, "/healthz")
                .await
                .starts_with("HTTP/1.1 200")
        );
        open.push(stream);
    }
    // The ninth connection asks for the metrics: three on each thread.
    let mut ninth = tokio::net::TcpStream::connect(&address).await.unwrap();
    let metrics = exchange(&mut ninth, &address, "/metrics").await;
    for worker in 0..3 {
        let line = format!("cstar_mcp_http_connections_open{{worker=\"{worker}\"}} 3");
        assert!(metrics.contains(&line), "{line} not in\n{metrics}");
    }
    drop(open);
    // Closed connections are counted out.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let metrics = exchange(&mut ninth, &address, "/metrics").await;
    let open_now: Vec<&str> = metrics
        .lines()
        .filter(|line| line.starts_with("cstar_mcp_http_connections_open{"))
        .collect();
    assert_eq!(open_now.len(), 3, "{metrics}");
    let total: i64 = open_now
        .iter()
        .map(|line| line.rsplit(' ').next().unwrap().parse::<i64>().unwrap())
        .sum();
    assert_eq!(
        total, 1,
        "only the metrics connection is open: {open_now:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_lets_calls_in_progress_on_every_worker_thread_finish() {
    let sandbox = start_sandbox().await;
    let (mut server, url) = http_server(&sandbox.base_url(), &["--workers", "3"]).await;
    fault(
        &sandbox,
        json!({ "path": "*/tickets", "fault": "delay", "ms": 1500, "times": 12 }),
    )
    .await;
    let body = list_tickets_call();
    // Twelve connections of their own, so the calls spread over the threads.
    let calls: Vec<_> = (0..12)
        .map(|_| {
            let (url, body) = (url.clone(), body.clone());
            tokio::spawn(async move {
                let answer = reqwest::Client::new()
                    .post(&url)
                    .bearer_auth(SECRET_TEST)
                    .header("content-type", "application/json")
                    .header("accept", "application/json, text/event-stream")
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                (answer.status(), answer.text().await.unwrap())
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    std::process::Command::new("kill")
        .args(["-TERM", &server.id().unwrap().to_string()])
        .status()
        .unwrap();
    for call in calls {
        let (status, text) = call.await.unwrap();
        assert_eq!(status, StatusCode::OK, "{text}");
        assert!(text.contains("\"tickets\""), "{text}");
    }
    exits_cleanly(&mut server, "serve --http --workers 3 after SIGTERM").await;
    let address = url.trim_start_matches("http://").trim_end_matches("/mcp");
    assert!(
        tokio::net::TcpStream::connect(address).await.is_err(),
        "nothing listens after the stop"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_readiness_and_json_access_logs_tell_an_operator_what_happened() {
    use tokio::io::AsyncReadExt;
    let sandbox = start_sandbox().await;
    let (mut server, url) = http_server(&sandbox.base_url(), &["--log-format", "json"]).await;
    let root = url.trim_end_matches("/mcp").to_owned();
    let ready = reqwest::get(format!("{root}/readyz")).await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);

    let client = http_client(&url, SECRET_TEST).await;
    ok(&call(&client, "cstar_list_tickets", json!({})).await);
    ok(&call(&client, "cstar_list_tickets", json!({ "page": 2 })).await);
    let missing = call(
        &client,
        "cstar_get_ticket",
        json!({ "ticketId": "tkt_00000000000000000000000000000000" }),
    )
    .await;
    error_text(&missing);

    let metrics = metrics(&root).await;
    for line in [
        r#"cstar_mcp_tool_calls_total{tool="cstar_list_tickets",outcome="ok"} 2"#,
        r#"cstar_mcp_tool_calls_total{tool="cstar_get_ticket",outcome="resource_missing"} 1"#,
        "cstar_mcp_tool_calls_in_flight 0",
        r#"cstar_mcp_http_responses_total{status="200"}"#,
        "cstar_mcp_upstream_request_seconds_count",
    ] {
        assert!(metrics.contains(line), "{line} not in\n{metrics}");
    }
    assert!(!metrics.contains(&SECRET_TEST[8..]), "no key in metrics");
    drop(client);

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
    let lines: Vec<Value> = logs
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    let access: Vec<&Value> = lines
        .iter()
        .filter(|l| l["target"] == "cstar_mcp::http::access")
        .collect();
    assert!(
        access.iter().any(|l| l["mcp_method"] == "tools/call"
            && l["tool"] == "cstar_list_tickets"
            && l["status"] == 200
            && l["duration_ms"].is_f64()),
        "{access:#?}"
    );
    assert!(access.iter().any(|l| l["path"] == "/metrics"));
    assert!(!logs.contains(&SECRET_TEST[8..]), "no key in logs");
}
