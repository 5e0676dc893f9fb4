//! One client over stdio, the way an editor runs the server: cold start,
//! `tools/list` size, memory, each call beside the direct GET it makes,
//! throughput with many calls in flight, CPU per call, and memory when a
//! client stops reading its answers or keeps thousands of calls out.

use std::collections::HashMap;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio::sync::{Mutex, oneshot};

use super::{Upstream, binary, micros, percentile, proc_stat, timed_calls};

struct Plan {
    cold_starts: usize,
    sequential: usize,
    throughput: usize,
    in_flight: usize,
}

/// Calls written by a client that reads no answer until the server stops
/// taking them, and calls a reading client keeps in flight at once.
const UNREAD_CALLS: usize = 50_000;
const MANY_IN_FLIGHT: usize = 2_000;

fn spawn(upstream: &Upstream) -> Child {
    spawn_with(upstream, &[])
}

fn spawn_with(upstream: &Upstream, args: &[&str]) -> Child {
    Command::new(binary())
        .args(args)
        .env("CSTAR_API_KEY", &upstream.keys[0])
        .env("CSTAR_BASE_URL", &upstream.base_url)
        .env("CSTAR_TEAM_ID", &upstream.team_id)
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

/// Spawn to `initialize` answer, and to `tools/list` answer.
async fn cold_start(upstream: &Upstream) -> (Duration, Duration, usize) {
    let started = Instant::now();
    let mut child = spawn(upstream);
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
        self.request(
            "tools/call",
            json!({ "name": "cstar_get_ticket", "arguments": { "ticketId": ticket_id } }),
        )
        .await;
    }

    /// An MCP `ping`: the pipes and rmcp, without a tool or cStar.
    async fn ping(&self) {
        self.request("ping", json!({})).await;
    }

    async fn request(&self, method: &str, params: Value) {
        let id = self
            .next_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (done, answered) = oneshot::channel();
        self.waiting.lock().await.insert(id, done);
        let line = format!(
            "{}\n",
            json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params })
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

/// The p50 round trip of one line through `cat`: what two processes and
/// two pipes cost on this machine before any server does any work.
async fn pipe_floor_micros(lines: usize) -> Option<f64> {
    let mut cat = Command::new("cat")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .ok()?;
    let mut stdin = cat.stdin.take()?;
    let mut stdout = BufReader::new(cat.stdout.take()?).lines();
    let line = format!(
        "{}\n",
        json!({ "jsonrpc": "2.0", "id": 1, "method": "ping" })
    );
    let mut round_trips = Vec::with_capacity(lines);
    for _ in 0..lines {
        let at = Instant::now();
        stdin.write_all(line.as_bytes()).await.ok()?;
        stdout.next_line().await.ok()??;
        round_trips.push(at.elapsed());
    }
    round_trips.sort();
    Some(micros(percentile(&round_trips, 0.5)))
}

/// Peak RSS of a fresh server (KiB) under `calls` `cstar_list_events`
/// calls written at once. With `unread`, the client reads nothing until
/// its writes stall for two seconds (or all are written), then reads every
/// answer; the calls written by then (taken by the server or waiting in the
/// pipe) are returned too. Otherwise
/// it reads while it writes, so all the calls are in flight together.
async fn flood(upstream: &Upstream, calls: usize, unread: bool) -> (u64, usize) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let mut child = spawn(upstream);
    let pid = child.id().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    stdin.write_all(initialize().as_bytes()).await.unwrap();
    stdout.next_line().await.unwrap().unwrap();
    let mut lines = format!(
        "{}\n",
        json!({ "jsonrpc": "2.0", "method": "notifications/initialized" })
    );
    for id in 1..=calls {
        lines.push_str(&format!(
            "{}\n",
            json!({ "jsonrpc": "2.0", "id": id, "method": "tools/call",
                    "params": { "name": "cstar_list_events", "arguments": {} } })
        ));
    }
    let ends: Vec<usize> = lines.match_indices('\n').map(|(at, _)| at).collect();
    let written = Arc::new(AtomicUsize::new(0));
    let count = written.clone();
    let writer = tokio::spawn(async move {
        for chunk in lines.as_bytes().chunks(4096) {
            stdin.write_all(chunk).await.unwrap();
            count.fetch_add(chunk.len(), Ordering::SeqCst);
        }
        stdin
    });
    let mut taken = calls;
    if unread {
        let (mut last, mut still) = (usize::MAX, 0);
        while !writer.is_finished() && still < 20 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let now = written.load(Ordering::SeqCst);
            (last, still) = if now == last {
                (last, still + 1)
            } else {
                (now, 0)
            };
        }
        let bytes = written.load(Ordering::SeqCst);
        // Lines written whole, less the `initialized` notification.
        taken = ends.partition_point(|end| *end < bytes).saturating_sub(1);
    }
    let mut answered = 0;
    while answered < calls {
        let line = stdout.next_line().await.unwrap().unwrap();
        assert!(!line.contains("\"isError\":true"), "{line}");
        answered += 1;
    }
    let (peak, _) = proc_stat(pid);
    drop(writer.await.unwrap());
    let _ = child.wait().await;
    (peak, taken)
}

/// Runs the stdio mode and returns its results.
pub async fn run(quick: bool, upstream: &Upstream) -> Value {
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
    // Cold start.
    let mut to_initialize = Vec::new();
    let mut to_list = Vec::new();
    let mut list_bytes = 0;
    for _ in 0..plan.cold_starts {
        let (initialized, listed, bytes) = cold_start(upstream).await;
        to_initialize.push(initialized);
        to_list.push(listed);
        list_bytes = bytes;
    }
    to_initialize.sort();
    to_list.sort();

    // Direct HTTP with a keep-alive client, the baseline.
    let ticket_id = upstream.ticket_id.clone();
    let direct = upstream.direct_get();
    let get = move || direct.clone().send();
    let (_, direct_elapsed) = timed_calls(plan.throughput, plan.in_flight, get.clone()).await;

    // The server over stdio.
    let mut child = spawn(upstream);
    let pid = child.id().unwrap();
    let session = Session::start(&mut child).await;
    session.call(&ticket_id).await;
    let (rss_after_start, _) = proc_stat(pid);
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
    let mut pings = Vec::with_capacity(plan.sequential);
    for _ in 0..plan.sequential {
        let at = Instant::now();
        get().await;
        direct_sequential.push(at.elapsed());
        let at = Instant::now();
        call().await;
        mcp_sequential.push(at.elapsed());
    }
    // Pings on their own: interleaved, they change the others' timing.
    for _ in 0..plan.sequential {
        let at = Instant::now();
        session.ping().await;
        pings.push(at.elapsed());
    }
    direct_sequential.sort();
    mcp_sequential.sort();
    pings.sort();
    let pipe_floor = pipe_floor_micros(plan.sequential).await;
    // CPU per call is taken over the throughput run alone (no pings).
    let (_, cpu_before) = proc_stat(pid);
    let (_, mcp_elapsed) = timed_calls(plan.throughput, plan.in_flight, call).await;
    let (rss_after_load, cpu_after) = proc_stat(pid);
    drop(session);
    let _ = child.kill().await;

    let redaction = redaction(upstream, plan.sequential).await;

    // Backpressure: a client that stops reading, and one with many calls out.
    let (unread_peak, unread_taken) = flood(upstream, UNREAD_CALLS, true).await;
    let (in_flight_peak, _) = flood(upstream, MANY_IN_FLIGHT, false).await;

    let calls = plan.throughput as f64;
    let cpu_per_thousand = (cpu_after - cpu_before).as_secs_f64() * 1000.0 / calls * 1000.0;
    let direct_rate = plan.throughput as f64 / direct_elapsed.as_secs_f64();
    let mcp_rate = plan.throughput as f64 / mcp_elapsed.as_secs_f64();
    let binary_bytes = std::fs::metadata(binary()).map(|m| m.len()).unwrap_or(0);
    let overhead =
        micros(percentile(&mcp_sequential, 0.5)) - micros(percentile(&direct_sequential, 0.5));

    json!({
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
            "pingP50": micros(percentile(&pings, 0.5)),
            "pipeFloorP50": pipe_floor,
        },
        "throughput": {
            "calls": plan.throughput, "inFlight": plan.in_flight,
            "mcpPerSecond": mcp_rate, "directPerSecond": direct_rate, "ratio": mcp_rate / direct_rate,
        },
        "cpuMsPer1000Calls": cpu_per_thousand,
        "unreadCalls": { "calls": UNREAD_CALLS, "takenBeforeStall": unread_taken, "peakRssKiB": unread_peak },
        "manyInFlight": { "calls": MANY_IN_FLIGHT, "peakRssKiB": in_flight_peak },
        "binaryBytes": binary_bytes,
        "redaction": redaction,
    })
}

/// `--redact-pii` against no redaction: the first call after start (when
/// the phone-number metadata is loaded), then `calls` of `cstar_get_ticket`
/// on a ticket whose thread holds personal data, on two servers,
/// interleaved call by call so both see the same machine state.
async fn redaction(upstream: &Upstream, calls: usize) -> Value {
    let mut off_child = spawn_with(upstream, &[]);
    let mut on_child = spawn_with(upstream, &["--redact-pii"]);
    let off = Session::start(&mut off_child).await;
    let on = Session::start(&mut on_child).await;
    let id = &upstream.personal_ticket_id;
    let at = Instant::now();
    off.call(id).await;
    let off_first = at.elapsed();
    let at = Instant::now();
    on.call(id).await;
    let on_first = at.elapsed();
    let mut off_times = Vec::with_capacity(calls);
    let mut on_times = Vec::with_capacity(calls);
    for _ in 0..calls {
        let at = Instant::now();
        off.call(id).await;
        off_times.push(at.elapsed());
        let at = Instant::now();
        on.call(id).await;
        on_times.push(at.elapsed());
    }
    off_times.sort();
    on_times.sort();
    drop((off, on));
    let _ = off_child.kill().await;
    let _ = on_child.kill().await;
    json!({
        "calls": calls,
        "firstCallMs": { "off": micros(off_first) / 1e3, "on": micros(on_first) / 1e3 },
        "offP50": micros(percentile(&off_times, 0.5)), "onP50": micros(percentile(&on_times, 0.5)),
        "offP99": micros(percentile(&off_times, 0.99)), "onP99": micros(percentile(&on_times, 0.99)),
        "overheadP50": micros(percentile(&on_times, 0.5)) - micros(percentile(&off_times, 0.5)),
    })
}

/// Prints the stdio rows beside the targets.
pub fn print(r: &Value, row: &dyn Fn(&str, String, &str)) {
    let list_bytes = r["toolsListBytes"].as_u64().unwrap();
    let rss_after_start = r["peakRssKiB"]["afterStart"].as_f64().unwrap();
    let rss_after_load = r["peakRssKiB"]["afterLoad"].as_f64().unwrap();
    let overhead = r["sequentialMicros"]["overheadP50"].as_f64().unwrap();
    let in_flight = r["throughput"]["inFlight"].as_u64().unwrap();
    let mcp_rate = r["throughput"]["mcpPerSecond"].as_f64().unwrap();
    let direct_rate = r["throughput"]["directPerSecond"].as_f64().unwrap();
    let cpu_per_thousand = r["cpuMsPer1000Calls"].as_f64().unwrap();
    let binary_bytes = r["binaryBytes"].as_f64().unwrap();
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
        format!("{:.1}", rss_after_start / 1024.0),
        "",
    );
    row(
        "peak RSS after load (MiB)",
        format!("{:.1}", rss_after_load / 1024.0),
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
    if let Some(floor) = r["sequentialMicros"]["pipeFloorP50"].as_f64() {
        row(
            "  line round trip through cat, p50 (us)",
            format!("{floor:.0}"),
            "",
        );
    }
    row(
        "  MCP ping round trip, p50 (us)",
        format!("{:.0}", r["sequentialMicros"]["pingP50"].as_f64().unwrap()),
        "",
    );
    row(
        "MCP overhead p50 / direct GET p50",
        format!(
            "{:.2}",
            overhead / r["sequentialMicros"]["directP50"].as_f64().unwrap()
        ),
        "<= 1",
    );
    row(
        &format!("throughput over MCP, {in_flight} in flight (/s)"),
        format!("{mcp_rate:.0}"),
        "",
    );
    row(
        &format!("throughput direct, {in_flight} in flight (/s)"),
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
    let unread = &r["unreadCalls"];
    row(
        &format!(
            "peak RSS, {} calls unread then drained (MiB)",
            unread["calls"].as_u64().unwrap()
        ),
        format!("{:.1}", unread["peakRssKiB"].as_f64().unwrap() / 1024.0),
        "< 32",
    );
    row(
        "  calls written before the writes stalled",
        unread["takenBeforeStall"].as_u64().unwrap().to_string(),
        "",
    );
    row(
        &format!(
            "peak RSS, {} calls in flight (MiB)",
            r["manyInFlight"]["calls"].as_u64().unwrap()
        ),
        format!(
            "{:.1}",
            r["manyInFlight"]["peakRssKiB"].as_f64().unwrap() / 1024.0
        ),
        "< 32",
    );
    row(
        "release binary (MB)",
        format!("{:.1}", binary_bytes / 1e6),
        "< 15",
    );
    let redaction = &r["redaction"];
    row(
        "get_ticket with personal data, p50: off / --redact-pii (µs)",
        format!(
            "{:.0} / {:.0}",
            redaction["offP50"].as_f64().unwrap(),
            redaction["onP50"].as_f64().unwrap()
        ),
        "",
    );
    row(
        "  --redact-pii overhead per call, p50 (µs)",
        format!("{:.0}", redaction["overheadP50"].as_f64().unwrap()),
        "",
    );
    row(
        "  first call after start: off / --redact-pii (ms)",
        format!(
            "{:.2} / {:.2}",
            redaction["firstCallMs"]["off"].as_f64().unwrap(),
            redaction["firstCallMs"]["on"].as_f64().unwrap()
        ),
        "",
    );
}
