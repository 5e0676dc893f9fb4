//! The shared server over streamable HTTP: concurrent stateless MCP
//! clients with two different bearer keys, beside direct HTTP to the same
//! upstream at the same concurrency, the server's CPU per call, and its
//! memory with 1,000 idle keep-alive connections open.
//!
//! The upstream is the canned one by default (`--upstream sandbox` for the
//! sandbox), so that its own work does not hide the server's cost.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;

use super::{Upstream, binary, percentile, proc_stat, timed_calls};

const CONCURRENCY: usize = 64;
const IDLE_CONNECTIONS: usize = 1_000;

/// Runs the HTTP mode and returns its results.
pub async fn run(quick: bool, upstream: &Upstream) -> Value {
    let calls = if quick { 2_000 } else { 20_000 };
    let base = &upstream.base_url;
    let mut child = Command::new(binary())
        .args(["serve", "--http", "127.0.0.1:0", "--base-url", base])
        .args(["--max-connections", "4096", "--max-per-key", "1000"])
        // To compare settings, e.g. CSTAR_BENCH_HTTP_ARGS="--workers 1".
        .args(
            std::env::var("CSTAR_BENCH_HTTP_ARGS")
                .unwrap_or_default()
                .split_whitespace(),
        )
        .env_remove("CSTAR_API_KEY")
        .env_remove("CSTAR_TEAM_ID")
        .env("RUST_LOG", "error")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the release binary starts");
    let pid = child.id().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = stdout.next_line().await.unwrap().unwrap();
    let url = line.trim_start_matches("listening on ").to_owned();

    let keys = upstream.keys.clone();
    let direct = upstream.direct_get();
    let get = move || direct.clone().send();
    let mcp = reqwest::Client::new();
    let body = json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": { "name": "cstar_get_ticket", "arguments": { "ticketId": upstream.ticket_id } } })
    .to_string();
    let counter = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mcp_url = url.clone();
    let call = move || {
        let (mcp, url, body) = (mcp.clone(), mcp_url.clone(), body.clone());
        let key =
            keys[counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % keys.len()].clone();
        async move {
            let answer = mcp
                .post(&url)
                .bearer_auth(key)
                .header("content-type", "application/json")
                .header("accept", "application/json, text/event-stream")
                .header("mcp-protocol-version", "2025-11-25")
                .body(body)
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status(), 200);
            let text = answer.text().await.unwrap();
            assert!(text.contains("structuredContent"), "{text}");
        }
    };
    // Warm both paths (pools, the key's team), then measure.
    timed_calls(CONCURRENCY, CONCURRENCY, get.clone()).await;
    timed_calls(CONCURRENCY, CONCURRENCY, call.clone()).await;
    let (direct_latencies, direct_elapsed) = timed_calls(calls, CONCURRENCY, get).await;
    let (_, cpu_before) = proc_stat(pid);
    let (mcp_latencies, mcp_elapsed) = timed_calls(calls, CONCURRENCY, call).await;
    let (_, cpu_after) = proc_stat(pid);

    let (healthz_cpu, ping_cpu) = cost_breakdown(&url, pid, &upstream.keys[0], calls).await;
    let idle_rss_kib = idle_connection_rss(&line, pid).await;
    let _ = child.kill().await;

    let direct_rate = calls as f64 / direct_elapsed.as_secs_f64();
    let mcp_rate = calls as f64 / mcp_elapsed.as_secs_f64();
    let micros = |d: Duration| d.as_secs_f64() * 1e6;
    json!({
        "calls": calls, "concurrency": CONCURRENCY, "keys": upstream.keys.len(),
        "mcpPerSecond": mcp_rate, "directPerSecond": direct_rate, "ratio": mcp_rate / direct_rate,
        "mcpP50Micros": micros(percentile(&mcp_latencies, 0.5)), "mcpP99Micros": micros(percentile(&mcp_latencies, 0.99)),
        "directP50Micros": micros(percentile(&direct_latencies, 0.5)), "directP99Micros": micros(percentile(&direct_latencies, 0.99)),
        "cpuMsPer1000Calls": (cpu_after - cpu_before).as_secs_f64() * 1e6 / calls as f64,
        "cpuMsPer1000Healthz": healthz_cpu, "cpuMsPer1000Pings": ping_cpu,
        "rssKiBWithIdleConnections": idle_rss_kib, "idleConnections": IDLE_CONNECTIONS,
    })
}

/// Where the server's CPU per request goes: the same concurrency of
/// `GET /healthz` (HTTP alone) and of MCP `ping` (HTTP, the gate with its
/// key check, and rmcp's per-request service, but no tool and no
/// upstream), in ms per 1,000 requests.
async fn cost_breakdown(url: &str, pid: u32, key: &str, requests: usize) -> (f64, f64) {
    let client = reqwest::Client::new();
    let healthz = url.trim_end_matches("/mcp").to_owned() + "/healthz";
    let get = {
        let client = client.clone();
        move || {
            let (client, healthz) = (client.clone(), healthz.clone());
            async move {
                let answer = client.get(&healthz).send().await.unwrap();
                assert_eq!(answer.status(), 200);
                answer.bytes().await.unwrap();
            }
        }
    };
    let ping = {
        let (url, key) = (url.to_owned(), key.to_owned());
        move || {
            let (client, url, key) = (client.clone(), url.clone(), key.clone());
            async move {
                let answer = client
                    .post(&url)
                    .bearer_auth(key)
                    .header("content-type", "application/json")
                    .header("accept", "application/json, text/event-stream")
                    .header("mcp-protocol-version", "2025-11-25")
                    .body(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(answer.status(), 200);
                answer.bytes().await.unwrap();
            }
        }
    };
    let mut costs = [0.0; 2];
    for (cost, run) in costs.iter_mut().zip([0, 1]) {
        let (_, before) = proc_stat(pid);
        if run == 0 {
            timed_calls(requests, CONCURRENCY, get.clone()).await;
        } else {
            timed_calls(requests, CONCURRENCY, ping.clone()).await;
        }
        let (_, after) = proc_stat(pid);
        *cost = (after - before).as_secs_f64() * 1e6 / requests as f64;
    }
    (costs[0], costs[1])
}

/// The server's resident memory with 1,000 keep-alive connections open,
/// each having made one request.
async fn idle_connection_rss(listening: &str, pid: u32) -> u64 {
    let address = listening
        .trim_start_matches("listening on http://")
        .trim_end_matches("/mcp")
        .to_owned();
    let mut open = Vec::with_capacity(IDLE_CONNECTIONS);
    for _ in 0..IDLE_CONNECTIONS {
        let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
        stream
            .write_all(format!("GET /healthz HTTP/1.1\r\nhost: {address}\r\n\r\n").as_bytes())
            .await
            .unwrap();
        let mut answer = [0u8; 512];
        let read = stream.read(&mut answer).await.unwrap();
        assert!(answer[..read].starts_with(b"HTTP/1.1 200"));
        open.push(stream);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let rss = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap();
    drop(open);
    rss
}

/// Prints the HTTP rows beside the targets.
pub fn print(r: &Value, row: &dyn Fn(&str, String, &str)) {
    let f = |key: &str| r[key].as_f64().unwrap();
    let rows = [
        (
            format!("HTTP: MCP calls/s, {CONCURRENCY} clients, 2 keys"),
            format!("{:.0}", f("mcpPerSecond")),
            "",
        ),
        (
            "HTTP: direct calls/s, same concurrency".into(),
            format!("{:.0}", f("directPerSecond")),
            "",
        ),
        (
            "HTTP: MCP throughput / direct".into(),
            format!("{:.0}%", 100.0 * f("ratio")),
            ">= 40%",
        ),
        (
            "HTTP: MCP p50 / p99 (us)".into(),
            format!("{:.0} / {:.0}", f("mcpP50Micros"), f("mcpP99Micros")),
            "",
        ),
        (
            "HTTP: direct p50 / p99 (us)".into(),
            format!("{:.0} / {:.0}", f("directP50Micros"), f("directP99Micros")),
            "",
        ),
        (
            "HTTP: MCP p99 / direct p99".into(),
            format!("{:.1}x", f("mcpP99Micros") / f("directP99Micros")),
            "<= 3x",
        ),
        (
            "HTTP: server CPU per 1,000 calls (ms)".into(),
            format!("{:.0}", f("cpuMsPer1000Calls")),
            "",
        ),
        (
            "HTTP: server CPU per 1,000 /healthz (ms)".into(),
            format!("{:.0}", f("cpuMsPer1000Healthz")),
            "",
        ),
        (
            "HTTP: server CPU per 1,000 MCP pings (ms)".into(),
            format!("{:.0}", f("cpuMsPer1000Pings")),
            "",
        ),
        (
            "HTTP: RSS, 1,000 idle connections (MiB)".into(),
            format!("{:.1}", f("rssKiBWithIdleConnections") / 1024.0),
            "<= 64",
        ),
    ];
    for (name, value, target) in rows {
        row(&name, value, target);
    }
}
