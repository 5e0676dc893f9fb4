//! The shared HTTP server's limits hold for every request, however it is
//! answered: every error body the server writes is bounded and clean, even
//! when it quotes cStar.

use std::time::Duration;

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
        assert!(
            message.contains("characters)"),
            "says it was cut: {message}"
        );
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
