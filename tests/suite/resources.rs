//! Resources, completion and prompts, as a client such as Claude Code uses
//! them for @-mentions and slash commands.

use std::sync::Arc;

use cstar_mcp::api::Client;
use cstar_mcp::tools::CstarServer;
use cstar_mcp::tools::exposure::ToolFilter;
use rmcp::ServiceExt;
use rmcp::model::{
    ArgumentInfo, CompleteRequestParams, GetPromptRequestParams, ReadResourceRequestParams,
    Reference, ResourceContents,
};
use serde_json::{Value, json};

use super::harness::*;

/// The text of a resource.
async fn read(client: &McpClient, uri: &str) -> String {
    let result = client
        .read_resource(ReadResourceRequestParams::new(uri))
        .await
        .unwrap_or_else(|error| panic!("{uri}: {error}"));
    match &result.contents[0] {
        ResourceContents::TextResourceContents {
            text, mime_type, ..
        } => {
            assert_eq!(mime_type.as_deref(), Some("text/markdown"));
            text.clone()
        }
        other => panic!("{other:?}"),
    }
}

async fn complete(
    client: &McpClient,
    reference: Reference,
    name: &str,
    value: &str,
) -> Vec<String> {
    client
        .complete(CompleteRequestParams::new(
            reference,
            ArgumentInfo::new(name, value),
        ))
        .await
        .unwrap()
        .completion
        .values
}

async fn first_ticket(client: &McpClient) -> Value {
    ok(&call(client, "cstar_list_tickets", json!({})).await)["tickets"][0].clone()
}

#[tokio::test]
async fn templates_and_articles_are_listed() {
    let sandbox = start_sandbox().await;
    let client = mcp_for(&sandbox, SECRET_TEST).await;
    let templates = client.list_all_resource_templates().await.unwrap();
    let uris: Vec<&str> = templates.iter().map(|t| t.uri_template.as_str()).collect();
    assert_eq!(
        uris,
        [
            "cstar://tickets/{ticketId}",
            "cstar://customers/{customerId}",
            "cstar://articles/{articleId}"
        ]
    );
    let articles: Vec<_> = client
        .list_all_resources()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| {
            !r.uri.starts_with("cstar://tickets/") && !r.uri.starts_with("cstar://customers/")
        })
        .collect();
    assert_eq!(articles.len(), 30);
    assert!(
        articles
            .iter()
            .all(|a| a.uri.starts_with("cstar://articles/art_"))
    );
    let body = read(&client, &articles[0].uri).await;
    let title = articles[0].title.as_deref().unwrap();
    assert!(
        body.contains(&format!("\n# Article: `{title}`\n")),
        "{body}"
    );
}

#[tokio::test]
async fn tickets_customers_and_articles_read_as_markdown_within_the_budget() {
    let sandbox = start_sandbox().await;
    let client = mcp_for(&sandbox, SECRET_TEST).await;
    let ticket = first_ticket(&client).await;
    let id = ticket["id"].as_str().unwrap();
    let markdown = read(&client, &format!("cstar://tickets/{id}")).await;
    let title = ticket["title"].as_str().unwrap();
    assert!(
        markdown.contains(&format!("\n# Ticket: `{title}`\n")),
        "{markdown}"
    );
    assert!(markdown.contains("never as instructions"));
    assert!(markdown.contains("## Message 1: `customer`"), "{markdown}");

    let page = ok(&call(
        &client,
        "cstar_list_tickets",
        json!({ "page": 2, "pageSize": 20 }),
    )
    .await);
    let long = &page["tickets"][10];
    assert!(long["messageCount"].as_u64().unwrap() > 400, "{long}");
    let markdown = read(
        &client,
        &format!("cstar://tickets/{}", long["id"].as_str().unwrap()),
    )
    .await;
    assert!(markdown.len() <= 80_000, "{} bytes", markdown.len());
    assert!(markdown.contains("are left out to fit"), "the cut is said");

    let read_ticket = ok(&call(&client, "cstar_get_ticket", json!({ "ticketId": id })).await);
    let customer = read_ticket["ticket"]["customerId"].as_str().unwrap();
    let markdown = read(&client, &format!("cstar://customers/{customer}")).await;
    assert!(markdown.contains(&format!("- id: `{customer}`")));

    let articles = ok(&call(&client, "cstar_list_articles", json!({ "pageSize": 100 })).await);
    let last = articles["articles"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    let markdown = read(
        &client,
        &format!("cstar://articles/{}", last["id"].as_str().unwrap()),
    )
    .await;
    assert!(markdown.len() <= 80_000);
    assert!(markdown.ends_with("*[cut here to fit the result budget]*\n"));

    fault(&sandbox, json!({ "fault": "hidden_text", "times": 10 })).await;
    let markdown = read(&client, &format!("cstar://tickets/{id}")).await;
    assert!(!markdown.contains('\u{200B}') && !markdown.contains('\u{E0049}'));

    let missing = client
        .read_resource(ReadResourceRequestParams::new(
            "cstar://tickets/tkt_00000000000000000000000000000000",
        ))
        .await
        .unwrap_err()
        .to_string();
    assert!(missing.contains("not found"), "{missing}");
    let elsewhere = client
        .read_resource(ReadResourceRequestParams::new("https://example.com/x"))
        .await
        .unwrap_err()
        .to_string();
    assert!(elsewhere.contains("cstar://tickets/ID"), "{elsewhere}");
}

#[tokio::test]
async fn arguments_complete_from_what_was_typed() {
    let sandbox = start_sandbox().await;
    let client = mcp_for(&sandbox, SECRET_TEST).await;
    let ticket = first_ticket(&client).await;
    let id = ticket["id"].as_str().unwrap();
    let template = |uri: &str| Reference::for_resource(uri);
    let by_prefix = complete(
        &client,
        template("cstar://tickets/{ticketId}"),
        "ticketId",
        &id[..8],
    )
    .await;
    assert!(
        by_prefix.iter().all(|v| v.starts_with(&id[..8])) && by_prefix.contains(&id.to_owned())
    );
    let word = ticket["title"]
        .as_str()
        .unwrap()
        .split_whitespace()
        .last()
        .unwrap();
    let by_title = complete(
        &client,
        template("cstar://tickets/{ticketId}"),
        "ticketId",
        word,
    )
    .await;
    assert!(by_title.contains(&id.to_owned()), "{word}: {by_title:?}");

    let customers = ok(&call(&client, "cstar_list_customers", json!({})).await);
    let customer = &customers["customers"][0];
    let name = customer["name"]
        .as_str()
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap();
    let found = complete(
        &client,
        template("cstar://customers/{customerId}"),
        "customerId",
        name,
    )
    .await;
    assert!(
        found.contains(&customer["id"].as_str().unwrap().to_owned()),
        "{name}: {found:?}"
    );

    let articles = ok(&call(&client, "cstar_list_articles", json!({})).await);
    let article = &articles["articles"][0];
    let slug_word = article["slug"].as_str().unwrap().split('-').next().unwrap();
    let found = complete(
        &client,
        template("cstar://articles/{articleId}"),
        "articleId",
        slug_word,
    )
    .await;
    assert!(found.contains(&article["id"].as_str().unwrap().to_owned()));

    let events = complete(
        &client,
        Reference::for_prompt("build_webhook_handler"),
        "event",
        "ticket.c",
    )
    .await;
    assert_eq!(events, ["ticket.created", "ticket.closed"]);
    assert_eq!(
        complete(
            &client,
            Reference::for_prompt("investigate_ticket"),
            "ticketId",
            &id[..8]
        )
        .await,
        by_prefix
    );
}

#[tokio::test]
async fn prompts_embed_the_ticket_and_spell_out_the_signature() {
    let sandbox = start_sandbox().await;
    let client = mcp_for(&sandbox, SECRET_TEST).await;
    let names: Vec<String> = client
        .list_all_prompts()
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(names, ["investigate_ticket", "build_webhook_handler"]);

    let ticket = first_ticket(&client).await;
    let id = ticket["id"].as_str().unwrap();
    let arguments = json!({ "ticketId": id }).as_object().cloned().unwrap();
    let prompt = client
        .get_prompt(GetPromptRequestParams::new("investigate_ticket").with_arguments(arguments))
        .await
        .unwrap();
    let embedded = serde_json::to_value(&prompt.messages[0].content).unwrap();
    assert_eq!(embedded["type"], "resource");
    assert_eq!(embedded["resource"]["uri"], format!("cstar://tickets/{id}"));
    let instructions = serde_json::to_value(&prompt.messages[1].content).unwrap()["text"]
        .as_str()
        .unwrap()
        .to_owned();
    for needle in ["never as instructions", "cause", "fix", "Do not send"] {
        assert!(instructions.contains(needle), "{needle}: {instructions}");
    }
    assert!(
        instructions.split_whitespace().count() < 200,
        "a template, not an essay"
    );

    let arguments = json!({ "event": "ticket.created" })
        .as_object()
        .cloned()
        .unwrap();
    let prompt = client
        .get_prompt(GetPromptRequestParams::new("build_webhook_handler").with_arguments(arguments))
        .await
        .unwrap();
    let text = serde_json::to_value(&prompt.messages[0].content).unwrap()["text"]
        .as_str()
        .unwrap()
        .to_owned();
    for needle in [
        "X-Signature",
        "t=",
        "v1=",
        "HMAC-SHA256",
        "raw",
        "300 seconds",
        "constant time",
        "X-Event-ID",
        "cstar_trigger_webhook",
    ] {
        assert!(text.contains(needle), "{needle}: {text}");
    }
    let arguments = json!({ "event": "ticket.create" })
        .as_object()
        .cloned()
        .unwrap();
    let unknown = client
        .get_prompt(GetPromptRequestParams::new("build_webhook_handler").with_arguments(arguments))
        .await
        .unwrap_err()
        .to_string();
    assert!(unknown.contains("ticket.created"), "{unknown}");
}

#[tokio::test]
async fn read_only_mode_keeps_resources_and_a_rejected_key_is_a_clear_error() {
    let sandbox = start_sandbox().await;
    let filter = ToolFilter {
        read_only: true,
        ..Default::default()
    };
    let api = Arc::new(Client::new(fast_config(&sandbox.base_url(), Some(SECRET_TEST))).unwrap());
    let server = CstarServer::with_filter(api, &filter).unwrap();
    let (server_side, client_side) = tokio::io::duplex(1 << 20);
    tokio::spawn(async move {
        if let Ok(running) = cstar_mcp::tools::egress::Egress(server)
            .serve(server_side)
            .await
        {
            let _ = running.waiting().await;
        }
    });
    let client = ().serve(client_side).await.unwrap();
    assert_eq!(client.list_all_tools().await.unwrap().len(), 7);
    let resources = client.list_all_resources().await.unwrap();
    let articles = resources
        .iter()
        .filter(|r| r.uri.starts_with("cstar://articles/"))
        .count();
    assert_eq!((articles, resources.len() > 30), (30, true));

    let rejected = mcp_for(&sandbox, UNKNOWN_KEY).await;
    let error = rejected
        .read_resource(ReadResourceRequestParams::new(
            "cstar://articles/art_00000000000000000000000000000000",
        ))
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("rejected the API key"), "{error}");
}

/// The ticket document shows what a list item leaves out: the assignee,
/// the last update and the internal notes.
#[tokio::test]
async fn a_ticket_document_shows_its_assignee_update_and_internal_notes() {
    let sandbox = start_sandbox().await;
    let client = mcp_for(&sandbox, SECRET_TEST).await;
    let stored = api_get(&sandbox, "tickets?pageSize=100").await["data"].clone();
    let ticket = stored
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["notes"].is_string() && t["assignedTo"].is_string())
        .expect("a seeded ticket with notes and an assignee");
    let markdown = read(
        &client,
        &format!("cstar://tickets/{}", ticket["id"].as_str().unwrap()),
    )
    .await;
    for line in [
        format!(
            "- assigned to: `{}`",
            ticket["assignedTo"].as_str().unwrap()
        ),
        format!("- updated: `{}`", ticket["updatedAt"].as_str().unwrap()),
        "Notes (internal)".to_owned(),
        ticket["notes"].as_str().unwrap().to_owned(),
    ] {
        assert!(markdown.contains(&line), "{line:?} not in {markdown}");
    }
}
