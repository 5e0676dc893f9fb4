//! Benchmark of the release binary over stdio: cold start, the argument
//! parse, `tools/list` size, memory, per-call latency beside direct HTTP,
//! throughput with 32 calls in flight, CPU per call, and memory when a
//! client stops reading or keeps 2,000 calls out; then the shared
//! server over streamable HTTP (`http_mode`). Both run against `upstream`.
//!
//! Run: `cargo bench --bench mcp` (full) or `cargo bench --bench mcp -- --quick`.
//! Options after `--`: `--json FILE` also writes the results as JSON;
//! `--upstream canned|sandbox` (default canned); `--only stdio|http`.
//! `CSTAR_BENCH_BINARY=path` benchmarks another build of the binary.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod http_mode;
mod stdio_mode;
mod upstream;

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::sync::Semaphore;

use upstream::Upstream;

/// The binary to measure: this build's, unless `CSTAR_BENCH_BINARY` names
/// another (to compare builds or commits back to back).
fn binary() -> String {
    std::env::var("CSTAR_BENCH_BINARY")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_cstar-mcp").to_owned())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
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

/// What `--help`-free startup spends parsing a typical command line:
/// the median of many parses, in microseconds.
fn argument_parse_micros() -> f64 {
    let args: Vec<String> = [
        "--read-only",
        "--tools",
        "cstar_get_ticket,cstar_list_tickets",
    ]
    .map(str::to_owned)
    .to_vec();
    let vars = |name: &str| match name {
        "CSTAR_API_KEY" => Some("sk_test_a1B2c3D4e5F6g7H8i9J0k-L2m3N4o5P6".to_owned()),
        "CSTAR_TEAM_ID" => Some("5b0c6c1e-2f4a-4d8e-9a51-3c2f1e7d9b40".to_owned()),
        _ => None,
    };
    let mut times: Vec<Duration> = (0..501)
        .map(|_| {
            let at = Instant::now();
            let command = cstar_mcp::cli::parse(&args, vars).unwrap();
            let took = at.elapsed();
            assert!(matches!(command, cstar_mcp::cli::Command::Serve(_)));
            took
        })
        .collect();
    times.sort();
    micros(percentile(&times, 0.5))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let option = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1).cloned())
    };
    let quick = args.iter().any(|a| a == "--quick");
    let json_path = option("--json");
    let only = option("--only");
    let upstream_name = option("--upstream").unwrap_or_else(|| "canned".to_owned());
    let upstream = match upstream_name.as_str() {
        "canned" => upstream::canned().await,
        "sandbox" => upstream::sandbox().await,
        other => panic!("--upstream takes canned or sandbox, not {other}"),
    };
    let mut results = json!({
        "mode": if quick { "quick" } else { "full" },
        "upstream": upstream_name,
        "argumentParseMicros": argument_parse_micros(),
    });
    if only.as_deref() != Some("http") {
        results["stdio"] = stdio_mode::run(quick, &upstream).await;
    }
    if only.as_deref() != Some("stdio") {
        results["http"] = http_mode::run(quick, &upstream).await;
    }

    println!(
        "cstar-mcp benchmark ({} mode, {} upstream, {} cores)",
        results["mode"].as_str().unwrap(),
        upstream_name,
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0)
    );
    println!("{:<44}{:>14}{:>14}", "measure", "value", "target");
    let row =
        |name: &str, value: String, target: &str| println!("{name:<44}{value:>14}{target:>14}");
    row(
        "argument parse, median (us)",
        format!("{:.1}", results["argumentParseMicros"].as_f64().unwrap()),
        "< 500",
    );
    if let Some(stdio) = results.get("stdio") {
        stdio_mode::print(stdio, &row);
    }
    if let Some(http) = results.get("http") {
        http_mode::print(http, &row);
    }
    if let Some(path) = json_path {
        std::fs::write(&path, serde_json::to_string_pretty(&results).unwrap()).unwrap();
        println!("wrote {path}");
    }
}
