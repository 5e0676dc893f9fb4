//! Personal data on the wire: the egress walk (`walk`, `wire`), over the
//! real binary on both transports, on the demo data and then on the
//! hostile data, with two faults that put personal data into every answer
//! (appended to every string, and in an error's message), every string a
//! client receives scanned by the independent finder (`personal`) and
//! searched for the customers' names (`exposure`).
//!
//! With redaction off, the walk must find every kind, so the data and the
//! finder are proven; with `--redact-pii` (one walk, for two tests), it
//! must find nothing, and every near miss must still arrive whole.

use std::collections::BTreeSet;
use std::time::Instant;

use cstar_mcp::sandbox::{self, PERSONAL_SAMPLES, RunningSandbox, SeedData, TEAM_ID};
use serde_json::json;
use tokio::sync::OnceCell;

use super::super::harness::*;
use super::checks::Checks;
use super::exposure::Exposure;
use super::personal::Kind;
use super::walk::{Request, discover};
use super::wire::Session;
use super::{KEY, clear_faults};

/// Values the data also holds split by dots, a line break or hyphens
/// (`PERSONAL_SAMPLES`), as they are without the separators.
const SPLIT: [(Kind, &str); 3] = [
    (Kind::Card, "4242424242424242"),
    (Kind::Card, "5555555555554444"),
    (Kind::Iban, "NL91ABNA0417164300"),
];

/// Personal data the faults add; none of it is in the records.
const ADDED: &str = " Reach Dana at dana.kim@example.net, +44 20 7946 0321 or 192.0.2.99; card 4111-1111-1111-1111, IBAN GB82WEST12345698765432.";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_redaction_the_walk_finds_every_kind_and_split_form_of_personal_data_but_no_near_miss()
 {
    let seen = walk(&[]).await;
    for exposure in &seen {
        eprintln!("{}", exposure.report());
        assert_eq!(
            exposure.kinds(),
            BTreeSet::from(Kind::ALL),
            "{}",
            exposure.report()
        );
        for surface in ["tools/call", "resources/read", "prompts/get"] {
            let kinds: Vec<&Kind> = (exposure.surfaces.iter())
                .filter(|(_, surfaces)| surfaces.contains(surface))
                .map(|(kind, _)| kind)
                .collect();
            assert!(!kinds.is_empty(), "no personal data on {surface}");
        }
        assert!(
            exposure.names_seen.keys().any(|name| !name.contains(' ')),
            "no customer's name of one word seen"
        );
        for (kind, compact) in SPLIT {
            let found = exposure.found.keys().any(|(k, value)| {
                *k == kind
                    && value.contains(['.', '-', ' ', '\n'])
                    && value
                        .chars()
                        .filter(char::is_ascii_alphanumeric)
                        .eq(compact.chars())
            });
            assert!(
                found,
                "{kind} {compact} split: never found\n{}",
                exposure.report()
            );
        }
        assert_eq!(
            exposure.near_misses_seen,
            PERSONAL_SAMPLES.near_misses.iter().copied().collect(),
            "some near misses never reached the client"
        );
        for (kind, value) in exposure.found.keys() {
            for near in PERSONAL_SAMPLES.near_misses {
                assert!(
                    !near.contains(value.as_str()) && !value.contains(near),
                    "the near miss {near:?} was reported as {kind}: {value:?}"
                );
            }
        }
    }
}

/// The walk with `--redact-pii`, made once for the tests that read it.
static REDACTED: OnceCell<[Exposure; 2]> = OnceCell::const_new();

async fn redacted() -> &'static [Exposure; 2] {
    REDACTED.get_or_init(|| walk(&["--redact-pii"])).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redact_pii_no_personal_data_leaves_on_any_surface() {
    for exposure in redacted().await {
        assert!(
            exposure.found.is_empty() && exposure.names_seen.is_empty(),
            "personal data left:\n{}",
            exposure.report()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redact_pii_every_near_miss_still_reaches_the_client() {
    for exposure in redacted().await {
        let all: BTreeSet<&str> = PERSONAL_SAMPLES.near_misses.iter().copied().collect();
        let missing: Vec<_> = all.difference(&exposure.near_misses_seen).collect();
        assert!(missing.is_empty(), "redacted away: {missing:?}");
    }
}

/// The walk on each data set, then under the faults; what each transport
/// let through. `extra` are more arguments to `serve`.
async fn walk(extra: &[&str]) -> [Exposure; 2] {
    let started = Instant::now();
    let sandbox = sandbox::start_with(0, &[], SeedData::Demo)
        .await
        .expect("sandbox starts");
    let base_url = sandbox.base_url();
    let mut names = Vec::new();
    for data in [SeedData::Hostile, SeedData::Demo] {
        switch(&sandbox, data).await;
        names.extend(customer_names(&sandbox).await);
    }
    let (mut on_stdio, mut on_http) = (Checks::new("stdio"), Checks::new("http"));
    on_stdio.exposure = Some(Exposure::new(names.clone()));
    on_http.exposure = Some(Exposure::new(names));
    let (mut stdio, mut http) = tokio::join!(
        Session::stdio(&base_url, extra, &mut on_stdio),
        Session::http(&base_url, extra)
    );
    let mut plans = (Vec::new(), Vec::new());
    for data in [SeedData::Demo, SeedData::Hostile] {
        let begun = Instant::now();
        switch(&sandbox, data).await;
        on_stdio.scenario = format!("{} data", data.name());
        on_http.scenario = format!("{} data", data.name());
        plans = tokio::join!(
            discover(&mut stdio, &mut on_stdio),
            discover(&mut http, &mut on_http)
        );
        eprintln!(
            "{} data: {:.1} s",
            data.name(),
            begun.elapsed().as_secs_f64()
        );
    }
    for (name, rule) in [
        (
            "personal data appended",
            json!({ "fault": "append_text", "text": ADDED }),
        ),
        (
            "status 404 quoting personal data",
            json!({ "fault": "status", "status": 404, "message": format!("no such record:{ADDED}") }),
        ),
    ] {
        let begun = Instant::now();
        let mut rule = rule;
        rule["path"] = json!("*");
        rule["times"] = json!(1_000_000);
        fault(&sandbox, rule).await;
        on_stdio.scenario = name.to_owned();
        on_http.scenario = name.to_owned();
        let (stdio_plan, http_plan) = (one_of_each(&plans.0), one_of_each(&plans.1));
        tokio::join!(
            stdio.exchange(&stdio_plan, &mut on_stdio),
            http.exchange(&http_plan, &mut on_http)
        );
        clear_faults(&sandbox).await;
        eprintln!("{name}: {:.1} s", begun.elapsed().as_secs_f64());
    }
    stdio.finish(&mut on_stdio).await;
    http.finish(&mut on_http).await;
    eprintln!(
        "personal data walk: {} and {} messages, {:.1} s",
        on_stdio.messages,
        on_http.messages,
        started.elapsed().as_secs_f64()
    );
    [on_stdio, on_http].map(|checks| checks.exposure.unwrap_or_default())
}

/// Serves `data`, with a rate limit the walk never reaches.
async fn switch(sandbox: &RunningSandbox, data: SeedData) {
    control(sandbox, "reset", json!({ "data": data.name() })).await;
    control(sandbox, "rate-limit", json!({ "limit": 100_000_000 })).await;
}

/// The names of the customers served, asked of the sandbox itself: those
/// that read as a person's name (one to four words) once hidden characters
/// are removed.
async fn customer_names(sandbox: &RunningSandbox) -> Vec<String> {
    let path = format!("/api/v1/teams/{TEAM_ID}/customers?pageSize=100");
    let body = raw(sandbox, reqwest::Method::GET, &path, Some(KEY))
        .await
        .send_json()
        .await;
    let customers = body["data"].as_array().cloned().unwrap_or_default();
    assert!(customers.len() >= 20, "{body}");
    customers
        .iter()
        .filter_map(|customer| customer["name"].as_str())
        .map(|name| name.replace(['\u{200B}', '\u{200C}', '\u{200D}', '\u{FEFF}'], ""))
        .filter(|name| {
            let words = name.split_whitespace().count();
            (1..=4).contains(&words)
                && name.chars().count() <= 60
                && name.chars().all(|c| {
                    c.is_alphabetic()
                        || matches!(c, ' ' | '\'' | '-')
                        || (!c.is_ascii() && !c.is_control() && !c.is_whitespace() && c != '·')
                })
        })
        .collect()
}

/// The first request of each kind (method, and tool, prompt or resource
/// template), so a fault walks every surface once.
fn one_of_each(plan: &[Request]) -> Vec<Request> {
    let mut kinds = BTreeSet::new();
    plan.iter()
        .filter(|request| {
            let params = &request.params;
            let name = params["name"].as_str().or(params["ref"]["name"].as_str());
            let uri = params["uri"].as_str().or(params["ref"]["uri"].as_str());
            let template = uri.map(|uri| uri.split('/').take(3).collect::<String>());
            kinds.insert((request.method.clone(), name.map(str::to_owned), template))
        })
        .cloned()
        .collect()
}
