//! Benchmark of the release binary over stdio against a local cStar
//! sandbox: cold start, `tools/list` size, memory, per-call latency beside
//! direct HTTP, throughput with 32 calls in flight, and CPU per call; then
//! the shared server over streamable HTTP (`http_mode`).
//!
//! Run: `cargo bench --bench mcp` (full) or `cargo bench --bench mcp -- --quick`;
//! `-- --json FILE` also writes the results as JSON.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod http_mode;

use std::collections::HashMap;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cstar_mcp::sandbox;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio::sync::{Mutex, Semaphore, oneshot};

const BINARY: &str = env!("CARGO_BIN_EXE_cstar-mcp");
const KEY: &str = sandbox::DEMO_SECRET_TEST_KEY;

struct Plan {
    cold_starts: usize,
    sequential: usize,
    throughput: usize,
    in_flight: usize,
}

fn spawn(base_url: &str) -> Child {
    Command::new(BINARY)
        .env("CSTAR_API_KEY", KEY)
        .env("CSTAR_BASE_URL", base_url)
        .env("CSTAR_TEAM_ID", sandbox::TEAM_ID)
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the release binary starts")
}

fn initialize() -> String {
    format!(
        "{}\n",
        json!({ "jsonrpc": "2.0", "id": 0, "method": "initialize",
                "params": { "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": { "name": "bench", "version": "1" } } })
    )
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// Spawn to `initialize` answer, and to `tools/list` answer.
async fn cold_start(base_url: &str) -> (Duration, Duration, usize) {
    let started = Instant::now();
    let mut child = spawn(base_url);
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    stdin.write_all(initialize().as_bytes()).await.unwrap();
    stdout.next_line().await.unwrap().unwrap();
    let initialized = started.elapsed();
    let list = format!(
        "{}\n{}\n",
        json!({ "jsonrpc": "2.0", "method": "notifications/initialized" }),
        json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/list" })
    );
    stdin.write_all(list.as_bytes()).await.unwrap();
    let tools = stdout.next_line().await.unwrap().unwrap();
    let listed = started.elapsed();
    drop(stdin);
    let _ = child.wait().await;
    let result =
        serde_json::to_string(&serde_json::from_str::<Value>(&tools).unwrap()["result"]).unwrap();
    (initialized, listed, result.len())
}

/// A JSON-RPC client over the child's stdio that matches answers by id.
struct Session {
    stdin: Mutex<ChildStdin>,
    waiting: Arc<Mutex<HashMap<u64, oneshot::Sender<()>>>>,
    next_id: std::sync::atomic::AtomicU64,
}

impl Session {
    async fn start(child: &mut Child) -> Arc<Session> {
        let mut stdin = child.stdin.take().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
        stdin.write_all(initialize().as_bytes()).await.unwrap();
        stdout.next_line().await.unwrap().unwrap();
        stdin
            .write_all(
                format!(
                    "{}\n",
                    json!({ "jsonrpc": "2.0", "method": "notifications/initialized" })
                )
                .as_bytes(),
            )
            .await
            .unwrap();
        let waiting: Arc<Mutex<HashMap<u64, oneshot::Sender<()>>>> = Arc::default();
        tokio::spawn(read_answers(stdout, waiting.clone()));
        Arc::new(Session {
            stdin: Mutex::new(stdin),
            waiting,
            next_id: 1.into(),
        })
    }

    async fn call(&self, ticket_id: &str) {
        let id = self
            .next_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (done, answered) = oneshot::channel();
        self.waiting.lock().await.insert(id, done);
        let line = format!(
            "{}\n",
            json!({ "jsonrpc": "2.0", "id": id, "method": "tools/call",
                    "params": { "name": "cstar_get_ticket", "arguments": { "ticketId": ticket_id } } })
        );
        self.stdin
            .lock()
            .await
            .write_all(line.as_bytes())
            .await
            .unwrap();
        answered.await.unwrap();
    }
}

/// Reads answer lines and wakes their callers. It only finds the id and
/// checks the error flag, so the client's own cost stays small, as on the
/// direct side, which reads bodies without parsing them.
async fn read_answers(
    mut stdout: Lines<BufReader<ChildStdout>>,
    waiting: Arc<Mutex<HashMap<u64, oneshot::Sender<()>>>>,
) {
    while let Ok(Some(line)) = stdout.next_line().await {
        assert!(!line.contains("\"isError\":true"), "{line}");
        let Some(id) = answer_id(&line) else { continue };
        if let Some(done) = waiting.lock().await.remove(&id) {
            let _ = done.send(());
        }
    }
}

/// The numeric `id` of a JSON-RPC answer line.
fn answer_id(line: &str) -> Option<u64> {
    let at = line.find("\"id\":")? + 5;
    let digits: String = line[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

fn proc_stat(pid: u32) -> (u64, Duration) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let hwm = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap();
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap()
        .split_whitespace()
        .collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    // USER_HZ is 100 on Linux.
    (hwm, Duration::from_millis(ticks * 10))
}

async fn timed_calls<F, Fut>(count: usize, in_flight: usize, call: F) -> (Vec<Duration>, Duration)
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let call = Arc::new(call);
    let permits = Arc::new(Semaphore::new(in_flight));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..count {
        let permit = permits.clone().acquire_owned().await.unwrap();
        let call = call.clone();
        tasks.spawn(async move {
            let at = Instant::now();
            call().await;
            drop(permit);
            at.elapsed()
        });
    }
    let mut latencies = Vec::with_capacity(count);
    while let Some(latency) = tasks.join_next().await {
        latencies.push(latency.unwrap());
    }
    latencies.sort();
    (latencies, started.elapsed())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    let json_path = args
        .iter()
        .position(|a| a == "--json")
        .and_then(|i| args.get(i + 1).cloned());
    let plan = if quick {
        Plan {
            cold_starts: 5,
            sequential: 200,
            throughput: 2_000,
            in_flight: 32,
        }
    } else {
        Plan {
            cold_starts: 25,
            sequential: 2_000,
            throughput: 20_000,
            in_flight: 32,
        }
    };

    let upstream = sandbox::start(0).await.unwrap();
    let base_url = upstream.base_url();
    reqwest::Client::new()
        .post(format!("{base_url}/_sandbox/rate-limit"))
        .json(&json!({ "limit": 100_000_000 }))
        .send()
        .await
        .unwrap();
    let direct = reqwest::Client::new();
    let tickets: Value = direct
        .get(format!(
            "{base_url}/api/v1/teams/{}/tickets?pageSize=1",
            sandbox::TEAM_ID
        ))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ticket_id = tickets["data"][0]["id"].as_str().unwrap().to_owned();
    let ticket_url = format!(
        "{base_url}/api/v1/teams/{}/tickets/{ticket_id}",
        sandbox::TEAM_ID
    );

    // Cold start.
    let mut to_initialize = Vec::new();
    let mut to_list = Vec::new();
    let mut list_bytes = 0;
    for _ in 0..plan.cold_starts {
        let (initialized, listed, bytes) = cold_start(&base_url).await;
        to_initialize.push(initialized);
        to_list.push(listed);
        list_bytes = bytes;
    }
    to_initialize.sort();
    to_list.sort();

    // Direct HTTP with a keep-alive client, the baseline.
    let get = {
        let direct = direct.clone();
        let url = ticket_url.clone();
        move || {
            let direct = direct.clone();
            let url = url.clone();
            async move {
                let body = direct
                    .get(&url)
                    .bearer_auth(KEY)
                    .send()
                    .await
                    .unwrap()
                    .bytes()
                    .await
                    .unwrap();
                assert!(body.len() > 100);
            }
        }
    };
    let (_, direct_elapsed) = timed_calls(plan.throughput, plan.in_flight, get.clone()).await;

    // The server over stdio.
    let mut child = spawn(&base_url);
    let pid = child.id().unwrap();
    let session = Session::start(&mut child).await;
    session.call(&ticket_id).await;
    let (rss_after_start, _) = proc_stat(pid);
    let (_, cpu_before) = proc_stat(pid);
    let call = {
        let session = session.clone();
        let id = ticket_id.clone();
        move || {
            let session = session.clone();
            let id = id.clone();
            async move { session.call(&id).await }
        }
    };
    // Sequential latency, direct and over MCP interleaved call by call, so
    // both see the same machine state.
    let mut direct_sequential = Vec::with_capacity(plan.sequential);
    let mut mcp_sequential = Vec::with_capacity(plan.sequential);
    for _ in 0..plan.sequential {
        let at = Instant::now();
        get().await;
        direct_sequential.push(at.elapsed());
        let at = Instant::now();
        call().await;
        mcp_sequential.push(at.elapsed());
    }
    direct_sequential.sort();
    mcp_sequential.sort();
    let (_, mcp_elapsed) = timed_calls(plan.throughput, plan.in_flight, call).await;
    let (rss_after_load, cpu_after) = proc_stat(pid);
    drop(session);
    let _ = child.kill().await;

    let calls = (plan.sequential + plan.throughput + 1) as f64;
    let cpu_per_thousand = (cpu_after - cpu_before).as_secs_f64() * 1000.0 / calls * 1000.0;
    let direct_rate = plan.throughput as f64 / direct_elapsed.as_secs_f64();
    let mcp_rate = plan.throughput as f64 / mcp_elapsed.as_secs_f64();
    let binary_bytes = std::fs::metadata(BINARY).map(|m| m.len()).unwrap_or(0);
    let overhead =
        micros(percentile(&mcp_sequential, 0.5)) - micros(percentile(&direct_sequential, 0.5));

    let http = http_mode::run(quick).await;
    let mut results = json!({
        "mode": if quick { "quick" } else { "full" },
        "coldStartInitializeMs": { "median": micros(percentile(&to_initialize, 0.5)) / 1e3, "p90": micros(percentile(&to_initialize, 0.9)) / 1e3 },
        "coldStartToolsListMs": { "median": micros(percentile(&to_list, 0.5)) / 1e3, "p90": micros(percentile(&to_list, 0.9)) / 1e3 },
        "toolsListBytes": list_bytes,
        "toolsListTokensEstimate": list_bytes / 4,
        "peakRssKiB": { "afterStart": rss_after_start, "afterLoad": rss_after_load },
        "sequentialMicros": {
            "calls": plan.sequential,
            "mcpP50": micros(percentile(&mcp_sequential, 0.5)), "mcpP99": micros(percentile(&mcp_sequential, 0.99)),
            "directP50": micros(percentile(&direct_sequential, 0.5)), "directP99": micros(percentile(&direct_sequential, 0.99)),
            "overheadP50": overhead,
        },
        "throughput": {
            "calls": plan.throughput, "inFlight": plan.in_flight,
            "mcpPerSecond": mcp_rate, "directPerSecond": direct_rate, "ratio": mcp_rate / direct_rate,
        },
        "cpuMsPer1000Calls": cpu_per_thousand,
        "binaryBytes": binary_bytes,
    });
    results["http"] = http;

    let r = &results;
    println!(
        "cstar-mcp benchmark ({} mode, {} cores)",
        r["mode"].as_str().unwrap(),
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0)
    );
    println!("{:<44}{:>14}{:>14}", "measure", "value", "target");
    let row =
        |name: &str, value: String, target: &str| println!("{name:<44}{value:>14}{target:>14}");
    row(
        "cold start to initialize, median (ms)",
        format!(
            "{:.2}",
            r["coldStartInitializeMs"]["median"].as_f64().unwrap()
        ),
        "< 10",
    );
    row(
        "cold start to initialize, p90 (ms)",
        format!("{:.2}", r["coldStartInitializeMs"]["p90"].as_f64().unwrap()),
        "",
    );
    row(
        "cold start to tools/list, median (ms)",
        format!(
            "{:.2}",
            r["coldStartToolsListMs"]["median"].as_f64().unwrap()
        ),
        "",
    );
    row(
        "cold start to tools/list, p90 (ms)",
        format!("{:.2}", r["coldStartToolsListMs"]["p90"].as_f64().unwrap()),
        "",
    );
    row("tools/list size (bytes)", list_bytes.to_string(), "");
    row(
        "tools/list size (estimated tokens)",
        (list_bytes / 4).to_string(),
        "",
    );
    row(
        "peak RSS after start (MiB)",
        format!("{:.1}", rss_after_start as f64 / 1024.0),
        "",
    );
    row(
        "peak RSS after load (MiB)",
        format!("{:.1}", rss_after_load as f64 / 1024.0),
        "< 15",
    );
    row(
        "get_ticket over MCP, p50 (us)",
        format!("{:.0}", r["sequentialMicros"]["mcpP50"].as_f64().unwrap()),
        "",
    );
    row(
        "get_ticket over MCP, p99 (us)",
        format!("{:.0}", r["sequentialMicros"]["mcpP99"].as_f64().unwrap()),
        "",
    );
    row(
        "same GET direct, p50 (us)",
        format!(
            "{:.0}",
            r["sequentialMicros"]["directP50"].as_f64().unwrap()
        ),
        "",
    );
    row(
        "same GET direct, p99 (us)",
        format!(
            "{:.0}",
            r["sequentialMicros"]["directP99"].as_f64().unwrap()
        ),
        "",
    );
    row(
        "MCP overhead per call, p50 (us)",
        format!("{overhead:.0}"),
        "< 100",
    );
    row(
        &format!("throughput over MCP, {} in flight (/s)", plan.in_flight),
        format!("{mcp_rate:.0}"),
        "",
    );
    row(
        &format!("throughput direct, {} in flight (/s)", plan.in_flight),
        format!("{direct_rate:.0}"),
        "",
    );
    row(
        "MCP throughput / direct",
        format!("{:.0}%", 100.0 * mcp_rate / direct_rate),
        ">= 40%",
    );
    row(
        "server CPU per 1,000 calls (ms)",
        format!("{cpu_per_thousand:.0}"),
        "",
    );
    row(
        "release binary (MB)",
        format!("{:.1}", binary_bytes as f64 / 1e6),
        "< 15",
    );
    http_mode::print(&results["http"], &row);
    if let Some(path) = json_path {
        std::fs::write(&path, serde_json::to_string_pretty(&results).unwrap()).unwrap();
        println!("wrote {path}");
    }
}
