//! The mention cache's memory in its worst case, over HTTP: many keys, each
//! filling every page it may keep with hostile records (the longest titles,
//! names, slugs and excerpts, in multi-byte text).
//!
//! The hostile data set has one page of each kind, so a proxy in front of
//! the sandbox stretches it: any well-formed key is passed on as the test
//! key, and every page of tickets, customers or articles is 100 hostile
//! records with more to come until page `PAGES`. Each field the cache
//! keeps is made as long as cStar allows, in 4-byte characters; the large
//! fields it never keeps (tags, metadata, custom fields, notes, content)
//! are left out, so the test stays quick without changing what is kept.
//! `MENTION_MEMORY_KEYS` sets how many keys (default 10) for a measurement.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use cstar_mcp::sandbox::{self, RunningSandbox, SeedData};
use rmcp::model::{ArgumentInfo, CompleteRequestParams, Reference};
use serde_json::{Value, json};

use super::harness::*;

/// The cache's budget over every key, as the README states it: 32 MiB.
const BUDGET: u64 = 32 << 20;

/// The pages completion reads for one kind before it stops.
const PAGES: u32 = 10;

/// The sandbox behind a proxy that takes any key and serves `PAGES` full
/// pages of every list from the hostile records.
struct Stretched {
    sandbox: RunningSandbox,
    /// The first page of each list, as cStar gave it, by path.
    first_pages: Mutex<HashMap<String, Vec<Value>>>,
}

async fn forward(State(stretched): State<Arc<Stretched>>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    let query = request.uri().query().unwrap_or_default().to_owned();
    let listed = ["/tickets", "/customers", "/articles"]
        .iter()
        .any(|kind| path.ends_with(kind));
    let upstream = |path_and_query: String| {
        reqwest::Client::new()
            .get(format!("{}{path_and_query}", stretched.sandbox.base_url()))
            .bearer_auth(SECRET_TEST)
    };
    if !listed {
        let answer = upstream(format!("{path}?{query}")).send().await.unwrap();
        let status = answer.status();
        let body = answer.bytes().await.unwrap();
        return (status, body).into_response();
    }
    let page: u32 = query
        .split('&')
        .find_map(|pair| pair.strip_prefix("page="))
        .and_then(|n| n.parse().ok())
        .unwrap_or(1);
    let known = stretched.first_pages.lock().unwrap().get(&path).cloned();
    let records = match known {
        Some(records) => records,
        None => {
            let first = upstream(format!("{path}?page=1&pageSize=100"))
                .send_json()
                .await;
            let records = first["data"].as_array().unwrap().clone();
            stretched
                .first_pages
                .lock()
                .unwrap()
                .insert(path.clone(), records.clone());
            records
        }
    };
    let items: Vec<Value> = records
        .iter()
        .cycle()
        .take(100)
        .map(|record| widest(record.clone()))
        .collect();
    let pagination = json!({
        "page": page,
        "pageSize": 100,
        "total": 100 * PAGES,
        "totalPages": PAGES,
        "hasMore": page < PAGES,
    });
    axum::Json(json!({
        "success": true,
        "data": items,
        "pagination": pagination,
        "meta": { "pagination": pagination },
    }))
    .into_response()
}

/// `text`, padded with 4-byte characters to `chars` characters.
fn padded(text: &str, chars: usize) -> String {
    text.chars()
        .chain(std::iter::repeat('\u{20000}'))
        .take(chars)
        .collect()
}

/// A hostile record with every field the cache keeps at its longest, and
/// the large fields it never keeps left out.
fn widest(mut record: Value) -> Value {
    let fields = record.as_object_mut().unwrap();
    for large in ["tags", "metadata", "customFields", "notes", "content"] {
        fields.remove(large);
    }
    for (name, chars) in [
        ("title", 500),
        ("name", 500),
        ("customerName", 500),
        ("slug", 500),
        ("excerpt", 1_000),
    ] {
        if let Some(Value::String(text)) = fields.get_mut(name) {
            *text = padded(text, chars);
        }
    }
    record
}

/// Starts the hostile sandbox and the proxy; returns the proxy's base URL.
async fn stretched_hostile_sandbox() -> (Arc<Stretched>, String) {
    let sandbox = sandbox::start_with(0, &[], SeedData::Hostile)
        .await
        .unwrap();
    control(
        &sandbox,
        "rate-limit",
        json!({ "limit": 1_000_000, "windowSeconds": 3600 }),
    )
    .await;
    let stretched = Arc::new(Stretched {
        sandbox,
        first_pages: Mutex::default(),
    });
    let app = axum::Router::new()
        .fallback(forward)
        .with_state(stretched.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (stretched, format!("http://{address}"))
}

/// A well-formed secret test key, different for each `n`.
fn key(n: usize) -> String {
    format!("sk_test_{n:032}")
}

/// The mention cache's bytes, as `/metrics` reports them.
async fn cache_bytes(root: &str) -> Option<u64> {
    metrics(root)
        .await
        .lines()
        .find_map(|line| line.strip_prefix("cstar_mcp_mention_cache_bytes "))
        .map(|value| value.trim().parse().unwrap())
}

/// The process's peak resident memory, in bytes (Linux).
fn peak_rss(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[tokio::test]
async fn many_keys_filling_every_page_with_hostile_records_keep_the_cache_within_its_byte_budget() {
    let keys: usize = std::env::var("MENTION_MEMORY_KEYS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10);
    let (_stretched, base_url) = stretched_hostile_sandbox().await;
    let (server, url) = http_server(&base_url, &[]).await;
    let root = url.trim_end_matches("/mcp").to_owned();
    let mut peak = 0;
    for n in 0..keys {
        let client = http_client(&url, &key(n)).await;
        for (template, argument) in [
            ("cstar://tickets/{ticketId}", "ticketId"),
            ("cstar://customers/{customerId}", "customerId"),
            ("cstar://articles/{articleId}", "articleId"),
        ] {
            // Words nothing holds: every page is read.
            let request = CompleteRequestParams::new(
                Reference::for_resource(template),
                ArgumentInfo::new(argument, "qqzzqqzz"),
            );
            let completion = client.complete(request).await.unwrap().completion;
            assert!(completion.values.is_empty(), "{template}");
            if let Some(bytes) = cache_bytes(&root).await {
                peak = peak.max(bytes);
            }
        }
        client.cancel().await.unwrap();
    }
    let rss = peak_rss(server.id().unwrap());
    eprintln!(
        "mention cache, {keys} keys x {} hostile pages: peak cache bytes {peak}, server peak RSS {rss:?}",
        3 * PAGES
    );
    assert!(peak <= BUDGET, "{peak} bytes kept");
    if keys >= 10 {
        assert!(peak > BUDGET / 4 * 3, "the budget is reached: {peak}");
    }
}
