//! The egress on the wire: one test walks everything the server
//! advertises (`tools/list`, `resources/list`, `resources/templates/list`,
//! `prompts/list` and completion of every argument they declare), over
//! the real binary on both transports (`serve` on stdio, `serve --http`),
//! on the hostile data and then under each of the sandbox's faults, and
//! checks every invariant on the bytes written.
//!
//! Nothing here names a tool, a resource or a prompt to call (`walk`):
//! arguments come from each surface's own declaration (schemas, template
//! variables, prompt arguments), filled with ids found in list results or
//! with hostile text, so a surface added later is walked too. On every
//! line written to stdout and every HTTP body (`checks`):
//! - JSON-RPC 2.0, answering a request sent (or a notification for a call
//!   sent); an HTTP error body is JSON-RPC or the one shape
//!   `{"error":{"code","message"}}`;
//! - within `MESSAGE_BUDGET` (a tool result's structured content and each
//!   text block, an error result's blocks together, any other result whole);
//! - no hidden character, control or escape sequence (`never_raw`) in the
//!   raw bytes nor in any decoded string, JSON inside strings decoded too;
//! - no API key, the sandbox's keys all looked for (in the logs too);
//! - in Markdown, no heading, HTML or line start but the renderer's;
//! - on the hostile data, the visible samples (`must_survive`) byte for
//!   byte where the data puts them.
//!
//! It fails when the egress is bypassed: served without `Egress`, the
//! transports send results of up to 240 KB and every hidden sequence.

mod checks;
mod exposure;
mod personal;
mod personal_walk;
mod walk;
mod wire;

use std::time::Instant;

use cstar_mcp::sandbox::{self, HOSTILE_SAMPLES, SeedData};
use serde_json::{Value, json};

use super::harness::*;
use checks::{Checks, summary};
use walk::{discover, hostile_text};
use wire::Session;

/// The key both transports use.
const KEY: &str = SECRET_TEST;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_advertised_surface_keeps_every_egress_invariant_on_the_wire() {
    let started = Instant::now();
    let sandbox = sandbox::start_with(0, &[], SeedData::Hostile)
        .await
        .expect("sandbox starts");
    control(&sandbox, "rate-limit", json!({ "limit": 100_000_000 })).await;
    let base_url = sandbox.base_url();
    let (mut on_stdio, mut on_http) = (Checks::new("stdio"), Checks::new("http"));
    let (mut stdio, mut http) = tokio::join!(
        Session::stdio(&base_url, &[], &mut on_stdio),
        Session::http(&base_url, &[])
    );

    on_stdio.scenario = "hostile data".to_owned();
    on_http.scenario = "hostile data".to_owned();
    let (stdio_plan, http_plan) = tokio::join!(
        discover(&mut stdio, &mut on_stdio),
        discover(&mut http, &mut on_http)
    );
    for plan in [&stdio_plan, &http_plan] {
        assert!(
            plan.len() > 40,
            "the walk found too little to test: {plan:#?}"
        );
    }
    for (name, rule) in faults() {
        let begun = Instant::now();
        let errors = (on_stdio.errors, on_http.errors);
        clear_faults(&sandbox).await;
        fault(&sandbox, rule).await;
        on_stdio.scenario = name.to_owned();
        on_http.scenario = name.to_owned();
        tokio::join!(stdio.exchange(&stdio_plan, &mut on_stdio), async {
            http.exchange(&http_plan, &mut on_http).await;
            http.edges(&mut on_http).await;
        });
        eprintln!(
            "{name}: {:.1} s, errors {} (stdio), {} (http) of {}",
            begun.elapsed().as_secs_f64(),
            on_stdio.errors - errors.0,
            on_http.errors - errors.1,
            stdio_plan.len()
        );
    }
    clear_faults(&sandbox).await;
    stdio.finish(&mut on_stdio).await;
    http.finish(&mut on_http).await;

    for checks in [&on_stdio, &on_http] {
        eprintln!(
            "{}: {} messages checked, {} errors, {} Markdown texts, {} progress notifications",
            checks.transport, checks.messages, checks.errors, checks.markdown, checks.progress
        );
    }
    eprintln!(
        "{} requests in each walk, {} walks, {:.1} s",
        stdio_plan.len(),
        1 + faults().len(),
        started.elapsed().as_secs_f64()
    );
    let mut findings = on_stdio.findings;
    findings.extend(on_http.findings);
    assert!(
        findings.is_empty(),
        "{} findings:\n{}",
        findings.len(),
        summary(&findings)
    );
}

/// The fault scenarios: each rule spoils every request to cStar.
fn faults() -> Vec<(&'static str, Value)> {
    let all = |rule: Value| {
        let mut rule = rule;
        rule["path"] = json!("*");
        rule["times"] = json!(1_000_000);
        rule
    };
    // The key right away (a quote of cStar may keep only its start), then
    // hostile text with the key again and again.
    let mut huge = "{authorization} ".to_owned();
    while huge.len() < 300_000 {
        huge.push_str(&hostile_text(2_000));
        huge.push_str(" {authorization} ");
    }
    // Short: it is added to every string of every answer.
    let appended = format!(
        "\n{}\n```\n<system>\u{202E}\u{1B}[31m{}",
        HOSTILE_SAMPLES.imitations[0], HOSTILE_SAMPLES.imitations[1]
    );
    vec![
        (
            "status 500, 300 KB hostile message echoing the key",
            all(json!({ "fault": "status", "status": 500, "message": huge })),
        ),
        (
            "status 401, hostile code and message",
            all(json!({ "fault": "status", "status": 401,
                        "code": hostile_text(200), "message": hostile_text(5_000) })),
        ),
        (
            "status 404, hostile code, message echoing the key",
            all(
                json!({ "fault": "status", "status": 404, "code": hostile_text(200),
                        "message": format!("{{authorization}} {}", hostile_text(5_000)) }),
            ),
        ),
        (
            "status 429, Retry-After 1",
            all(json!({ "fault": "status", "status": 429, "retryAfter": 1,
                        "message": hostile_text(1_000) })),
        ),
        ("malformed JSON", all(json!({ "fault": "malformed_json" }))),
        ("HTML 502", all(json!({ "fault": "html502" }))),
        ("connection reset", all(json!({ "fault": "reset" }))),
        ("hidden text", all(json!({ "fault": "hidden_text" }))),
        (
            "imitations appended",
            all(json!({ "fault": "append_text", "text": appended })),
        ),
        ("delay 300 ms", all(json!({ "fault": "delay", "ms": 300 }))),
    ]
}
