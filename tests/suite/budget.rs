//! Every result fits: every tool and resource over every seeded record, at
//! the largest page size, stays within the 38,000-byte message budget, and what a result
//! leaves out can be read with the means it names.

use rmcp::model::{ReadResourceRequestParams, ResourceContents};
use serde_json::{Value, json};

use super::harness::*;

/// Reads a resource and checks its text against the budget.
async fn resource_within_budget(client: &McpClient, uri: String) {
    let read = client
        .read_resource(ReadResourceRequestParams::new(uri.clone()))
        .await
        .unwrap_or_else(|error| panic!("{uri}: {error}"));
    let ResourceContents::TextResourceContents { text, .. } = &read.contents[0] else {
        panic!("{uri}: not text");
    };
    assert!(text.len() <= BUDGET, "{uri}: {} bytes", text.len());
}

const BUDGET: usize = cstar_mcp::tools::egress::MESSAGE_BUDGET;

/// Calls a tool and checks its text against the budget.
async fn within_budget(client: &McpClient, tool: &str, arguments: Value) -> Value {
    let result = call(client, tool, arguments.clone()).await;
    let size = text(&result).len();
    assert!(size <= BUDGET, "{tool} {arguments}: {size} bytes");
    ok(&result)
}

/// Every item of a list tool, following pages (and lowered pages).
async fn every_item(client: &McpClient, tool: &str, key: &str, extra: Value) -> (Vec<Value>, bool) {
    let (mut page, mut page_size) = (1, 100);
    let mut items = Vec::new();
    let mut lowered = false;
    loop {
        let mut arguments = extra.clone();
        arguments["page"] = json!(page);
        arguments["pageSize"] = json!(page_size);
        let result = within_budget(client, tool, arguments).await;
        items.extend(result[key].as_array().unwrap().iter().cloned());
        let pagination = &result["pagination"];
        lowered |= pagination["requestedPageSize"].is_u64();
        if pagination["hasMore"] != true {
            assert!(pagination["nextPage"].is_null(), "{pagination}");
            return (items, lowered);
        }
        // As the model is told: the page and size the result names.
        page = pagination["nextPage"].as_u64().unwrap();
        page_size = pagination["nextPageSize"].as_u64().unwrap();
    }
}

#[tokio::test]
async fn every_tool_and_resource_over_every_seeded_record_stays_within_the_budget() {
    let sandbox = start_sandbox().await;
    let client = mcp_for(&sandbox, SECRET_TEST).await;

    let (tickets, _) = every_item(&client, "cstar_list_tickets", "tickets", json!({})).await;
    assert_eq!(tickets.len(), 200, "every ticket listed once");
    let mut ids: Vec<&str> = tickets.iter().map(|t| t["id"].as_str().unwrap()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 200, "each ticket exactly once");
    let mut cut_threads = 0;
    let mut cut_messages = 0;
    for ticket in &tickets {
        let id = ticket["id"].as_str().unwrap();
        resource_within_budget(&client, format!("cstar://tickets/{id}")).await;
        let read = within_budget(&client, "cstar_get_ticket", json!({ "ticketId": id })).await;
        cut_messages += read["ticket"]["messages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["truncated"] == true)
            .count();
        let Some(omitted) = read.get("omitted") else {
            continue;
        };
        cut_threads += 1;
        // Read the rest as the result says, and count every message once.
        let length = omitted["threadLength"].as_u64().unwrap() as usize;
        let shown = read["ticket"]["messages"].as_array().unwrap().len();
        let mut seen = shown - (length - omitted["toMessage"].as_u64().unwrap() as usize);
        let mut next = omitted["fromMessage"].as_u64().unwrap();
        assert_eq!(next, 2, "the first message is always kept");
        loop {
            let page = within_budget(
                &client,
                "cstar_get_ticket",
                json!({ "ticketId": id, "fromMessage": next }),
            )
            .await;
            seen += page["ticket"]["messages"].as_array().unwrap().len();
            match page.get("omitted") {
                Some(rest) => next = rest["fromMessage"].as_u64().unwrap(),
                None => break,
            }
        }
        assert!(
            seen >= length,
            "{id}: {seen} of {length} messages reachable"
        );
    }
    assert!(cut_threads >= 1, "the long thread was cut");
    assert!(cut_messages >= 1, "the 300 KB message was cut");

    let (customers, _) = every_item(&client, "cstar_list_customers", "customers", json!({})).await;
    assert_eq!(customers.len(), 60);
    for customer in &customers {
        within_budget(
            &client,
            "cstar_get_customer",
            json!({ "customerId": customer["id"] }),
        )
        .await;
    }
    let (articles, lowered) = every_item(
        &client,
        "cstar_list_articles",
        "articles",
        json!({ "includeContent": true }),
    )
    .await;
    assert_eq!(articles.len(), 30, "every article, across lowered pages");
    let mut ids: Vec<&str> = articles.iter().map(|a| a["id"].as_str().unwrap()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 30, "each article exactly once");
    for article in &articles {
        let id = article["id"].as_str().unwrap();
        resource_within_budget(&client, format!("cstar://articles/{id}")).await;
    }
    assert!(
        lowered,
        "a page of full articles does not fit, so it was lowered"
    );
    let cut: Vec<&Value> = articles.iter().filter(|a| a["truncated"] == true).collect();
    assert_eq!(cut.len(), 3);
    for article in cut {
        assert!(article["fullLength"].as_u64().unwrap() > 200_000);
        assert_eq!(article["content"].as_str().unwrap().chars().count(), 20_000);
    }

    within_budget(&client, "cstar_get_status", json!({})).await;
    within_budget(&client, "cstar_list_events", json!({})).await;
    within_budget(
        &client,
        "cstar_trigger_webhook",
        json!({ "event": "ticket.created" }),
    )
    .await;
    within_budget(&client, "cstar_create_ticket", json!({ "title": "Budget" })).await;
}

#[tokio::test]
async fn other_scripts_survive_in_titles_and_names() {
    let sandbox = start_sandbox().await;
    let client = mcp_for(&sandbox, SECRET_TEST).await;
    let found = ok(&call(
        &client,
        "cstar_list_tickets",
        json!({ "search": "ダッシュボード" }),
    )
    .await);
    assert_eq!(
        found["tickets"][0]["title"],
        "ログイン後にダッシュボードが真っ白になります"
    );
    let found = ok(&call(
        &client,
        "cstar_list_customers",
        json!({ "search": "अनन्या" }),
    )
    .await);
    assert_eq!(found["customers"][0]["name"], "अनन्या शर्मा");
}
