//! Hostile content from upstream: hidden text in any field, text no strict
//! decoder accepts, and an upstream that echoes the key. Every tool result
//! is walked whole, so a field nobody listed cannot hide a gap.

use rmcp::model::CallToolResult;
use serde_json::{Value, json};

use super::harness::*;

/// What the sandbox's `hidden_text` fault adds to every string.
const PLANTED: [char; 13] = [
    '\u{200B}',
    '\u{202E}',
    '\u{E0049}',
    '\u{E0047}',
    '\u{E004E}',
    '\u{E004F}',
    '\u{E0052}',
    '\u{E0045}',
    '\u{FE0F}',
    '\u{FE0F}',
    '\u{E0100}',
    '\u{061C}',
    '\u{2066}',
];

/// Every string in `value` (keys too), with its path.
fn strings(value: &Value, path: &str, out: &mut Vec<(String, String)>) {
    match value {
        Value::String(text) => out.push((path.to_owned(), text.clone())),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                strings(item, &format!("{path}[{i}]"), out);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                out.push((format!("{path} (key)"), key.clone()));
                strings(item, &format!("{path}.{key}"), out);
            }
        }
        _ => {}
    }
}

/// Every string a client receives: structured content and each text block.
fn received(result: &CallToolResult) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Some(content) = &result.structured_content {
        strings(content, "structuredContent", &mut out);
    }
    for (i, block) in result.content.iter().enumerate() {
        if let Some(text) = block.as_text() {
            out.push((format!("content[{i}]"), text.text.clone()));
        }
    }
    out
}

/// One call of every tool that reaches cStar, successful or not, on the
/// first listed ticket and its customer (read now, before any fault).
async fn every_tool_call(client: &McpClient) -> Vec<(&'static str, Value)> {
    let first = ok(&call(client, "cstar_list_tickets", json!({})).await);
    let ticket = first["tickets"][0]["id"].as_str().unwrap();
    let read = ok(&call(client, "cstar_get_ticket", json!({ "ticketId": ticket })).await);
    let customer = read["ticket"]["customerId"].as_str().unwrap();
    vec![
        ("cstar_list_tickets", json!({ "pageSize": 100 })),
        ("cstar_get_ticket", json!({ "ticketId": ticket })),
        (
            "cstar_create_ticket",
            json!({ "title": "Printer on fire", "tags": ["hw"], "initialMessage": "Help" }),
        ),
        ("cstar_list_customers", json!({ "pageSize": 100 })),
        ("cstar_get_customer", json!({ "customerId": customer })),
        (
            "cstar_list_articles",
            json!({ "pageSize": 100, "includeContent": true }),
        ),
        ("cstar_list_articles", json!({ "category": "Billing" })),
        ("cstar_list_articles", json!({ "category": "no such" })),
        (
            "cstar_trigger_webhook",
            json!({ "event": "ticket.created" }),
        ),
        ("cstar_get_status", json!({})),
    ]
}

#[tokio::test]
async fn no_planted_hidden_character_reaches_the_client_from_any_field() {
    let sandbox = start_sandbox().await;
    let client = mcp_for(&sandbox, SECRET_TEST).await;
    let calls = every_tool_call(&client).await;
    fault(&sandbox, json!({ "fault": "hidden_text", "times": 1000 })).await;
    let mut seen = 0;
    for (tool, arguments) in calls {
        let result = call(&client, tool, arguments.clone()).await;
        for (path, text) in received(&result) {
            seen += 1;
            let hidden: Vec<String> = text
                .chars()
                .filter(|c| PLANTED.contains(c))
                .map(|c| format!("U+{:04X}", c as u32))
                .collect();
            assert!(
                hidden.is_empty(),
                "{tool} {arguments}: {path} carries {hidden:?}"
            );
        }
    }
    assert!(seen > 1000, "only {seen} strings were checked");
    let planted = requests(&sandbox)
        .await
        .iter()
        .filter(|r| r["fault"] == "hidden_text")
        .count();
    assert!(planted >= 10, "the fault spoiled only {planted} answers");
}

#[tokio::test]
async fn category_names_match_as_the_model_sees_them() {
    let sandbox = start_sandbox().await;
    let client = mcp_for(&sandbox, SECRET_TEST).await;
    ok(&call(&client, "cstar_get_status", json!({})).await);
    fault(&sandbox, json!({ "fault": "hidden_text", "times": 1000 })).await;
    let result = ok(&call(
        &client,
        "cstar_list_articles",
        json!({ "category": "Billing" }),
    )
    .await);
    assert!(!result["articles"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn a_lone_surrogate_in_one_string_never_fails_the_page() {
    let sandbox = start_sandbox().await;
    let client = mcp_for(&sandbox, SECRET_TEST).await;
    fault(
        &sandbox,
        json!({ "fault": "lone_surrogate", "path": "*/tickets", "times": 5 }),
    )
    .await;
    let page = ok(&call(&client, "cstar_list_tickets", json!({ "pageSize": 5 })).await);
    let tickets = page["tickets"].as_array().unwrap();
    assert_eq!(tickets.len(), 5);
    for ticket in tickets {
        assert!(
            ticket["title"].as_str().unwrap().ends_with('\u{FFFD}'),
            "{ticket}"
        );
    }
    assert_eq!(
        count_requests(&sandbox, "GET", "/tickets").await,
        1,
        "read once, not retried"
    );
}

#[tokio::test]
async fn an_upstream_that_echoes_the_key_never_shows_it() {
    let sandbox = start_sandbox().await;
    let client = mcp_for(&sandbox, SECRET_TEST).await;
    for status in [400, 403, 409, 500] {
        fault(
            &sandbox,
            json!({ "fault": "status", "status": status, "times": 3,
                    "message": "Header was 'Authorization: {authorization}'" }),
        )
        .await;
        let result = call(&client, "cstar_list_customers", json!({})).await;
        let text = error_text(&result);
        assert!(!text.contains(SECRET_TEST), "{status}: {text}");
        assert!(
            text.contains("Bearer [redacted]"),
            "{status}: the message is still shown: {text}"
        );
        control(&sandbox, "reset", json!({})).await;
    }
}

#[tokio::test]
async fn changed_tags_are_spelled_out_and_still_filter() {
    let sandbox = start_sandbox().await;
    let client = mcp_for(&sandbox, SECRET_TEST).await;
    let created = ok(&call(
        &client,
        "cstar_create_ticket",
        json!({ "title": "Tagged", "tags": ["vip\u{200B}", "team\u{200D}👩"] }),
    )
    .await);
    let tags = created["ticket"]["tags"].clone();
    assert_eq!(tags, json!(["vip<U+200B>", "team<U+200D>👩"]));
    let found = ok(&call(
        &client,
        "cstar_list_tickets",
        json!({ "tag": "vip<U+200B>" }),
    )
    .await);
    let ids: Vec<&Value> = found["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| &t["id"])
        .collect();
    assert_eq!(ids, [&created["ticket"]["id"]]);
}

#[tokio::test]
async fn text_that_renders_survives_byte_for_byte() {
    let sandbox = start_sandbox().await;
    let client = mcp_for(&sandbox, SECRET_TEST).await;
    let samples = [
        "👨\u{200D}👩\u{200D}👧 family, 🏳\u{FE0F}\u{200D}🌈, 👩🏽\u{200D}💻, ❤\u{FE0F}",
        "می\u{200C}خواهم (Persian), क\u{094D}\u{200D}ष (Hindi), ന\u{0D4D}\u{200D} (Malayalam)",
        "Zoë, 你好, こんにちは, 안녕하세요, Ελληνικά, עברית, العربية, ไทย",
        "\u{1F3F4}\u{E0067}\u{E0062}\u{E0077}\u{E006C}\u{E0073}\u{E007F} Wales, 葛\u{E0100}城市",
    ];
    for sample in samples {
        let created = ok(&call(
            &client,
            "cstar_create_ticket",
            json!({ "title": "Script check", "initialMessage": sample }),
        )
        .await);
        let read = ok(&call(
            &client,
            "cstar_get_ticket",
            json!({ "ticketId": created["ticket"]["id"] }),
        )
        .await);
        assert_eq!(
            read["ticket"]["messages"][0]["content"]
                .as_str()
                .unwrap()
                .as_bytes(),
            sample.as_bytes()
        );
    }
}

/// Emoji sequences and a subdivision flag, each kept whole by cleaning.
const SEQUENCES: &str =
    "👨\u{200D}👩\u{200D}👧\u{1F3F4}\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}";

/// A cut to fit the budget may fall inside a joined sequence or a flag's
/// tag characters: what is left must not be hidden text (a dangling
/// joiner, tag characters outside a flag).
#[tokio::test]
async fn a_cut_inside_a_joined_sequence_leaves_nothing_hidden() {
    let sandbox = start_sandbox().await;
    let client = mcp_for(&sandbox, SECRET_TEST).await;
    let calls = every_tool_call(&client).await;
    let text = SEQUENCES.repeat(1_000);
    fault(
        &sandbox,
        json!({ "fault": "append_text", "text": text, "times": 1000 }),
    )
    .await;
    let mut cut = 0;
    for (tool, arguments) in calls {
        let result = call(&client, tool, arguments.clone()).await;
        for (path, text) in received(&result) {
            cut += usize::from(text.contains("more characters]"));
            assert_eq!(
                cstar_mcp::tools::sanitize::clean(&text),
                text,
                "{tool} {arguments}: {path} was cut into hidden text"
            );
        }
    }
    assert!(cut > 20, "only {cut} strings were cut");
}
