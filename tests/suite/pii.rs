//! `--redact-pii` through the real binary, on stdio and HTTP: what the
//! agent sees are pseudonyms, what cStar gets are the real values, a
//! pseudonym works only for the key it was issued to, and with the switch
//! off nothing changes.

use std::process::Stdio;

use cstar_mcp::api::models::{Customer, CustomerQuery, NewTicket, TicketQuery};
use regex::Regex;
use rmcp::ServiceExt;
use rmcp::model::ReadResourceRequestParams;
use rmcp::transport::TokioChildProcess;
use serde_json::{Value, json};

use super::harness::{
    McpClient, SECRET_LIVE, SECRET_TEST, binary, call, client, error_text, http_client,
    http_server, ok, requests, start_sandbox, text,
};
use super::stdio::{initialize, request, session};
use cstar_mcp::sandbox::RunningSandbox;

const PSEUDONYM: &str = r"^\[(email|phone|card|iban|ip|customer) [0-9a-f]{4,}\]$";

/// The binary over stdio against `sandbox` with `SECRET_TEST`, with `args`
/// and `env`.
async fn stdio_server(sandbox: &RunningSandbox, args: &[&str], env: &[(&str, &str)]) -> McpClient {
    let base_url = sandbox.base_url();
    let mut vars = vec![
        ("CSTAR_BASE_URL", base_url.as_str()),
        ("CSTAR_API_KEY", SECRET_TEST),
    ];
    vars.extend_from_slice(env);
    let mut command = binary(args, &vars);
    command.stderr(Stdio::null());
    ().serve(TokioChildProcess::new(command).unwrap())
        .await
        .expect("MCP handshake")
}

/// The first customers, as cStar stores them.
async fn real_customers(sandbox: &RunningSandbox, count: u32) -> Vec<Customer> {
    let query = CustomerQuery {
        page_size: Some(count),
        ..Default::default()
    };
    client(sandbox, SECRET_TEST)
        .list_customers(&query)
        .await
        .unwrap()
        .items
}

/// `value` as a pseudonym of `kind`, checked to be one.
fn pseudonym(value: &Value, kind: &str) -> String {
    let text = value.as_str().unwrap_or_default();
    let captures = Regex::new(PSEUDONYM)
        .unwrap()
        .captures(text)
        .unwrap_or_else(|| panic!("not a pseudonym: {value}"));
    assert_eq!(&captures[1], kind, "{text}");
    text.to_owned()
}

fn ids(listed: &Value, list: &str) -> Vec<String> {
    listed[list]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["id"].as_str().unwrap().to_owned())
        .collect()
}

/// No customer's name or email, in any case, is in `shown`.
fn shows_none_of(shown: &str, customers: &[Customer]) {
    let shown = shown.to_lowercase();
    for customer in customers {
        assert!(
            !shown.contains(&customer.name.to_lowercase()),
            "{} in {shown}",
            customer.name
        );
        if let Some(email) = &customer.email {
            assert!(!shown.contains(&email.to_lowercase()), "{email} in {shown}");
        }
    }
}

#[tokio::test]
async fn customers_are_shown_as_pseudonyms_and_found_by_them() {
    let sandbox = start_sandbox().await;
    let real = real_customers(&sandbox, 5).await;
    let mcp = stdio_server(&sandbox, &["--redact-pii"], &[]).await;
    let listed = ok(&call(&mcp, "cstar_list_customers", json!({ "pageSize": 5 })).await);
    shows_none_of(&listed.to_string(), &real);
    let first = &listed["customers"][0];
    // Ids are not personal data: they stay.
    assert_eq!(first["id"], real[0].id.as_str());
    let name = pseudonym(&first["name"], "customer");
    let email = pseudonym(&first["email"], "email");
    for search in [&name, &email] {
        let found = ok(&call(&mcp, "cstar_list_customers", json!({ "search": search })).await);
        assert!(
            ids(&found, "customers").contains(&real[0].id),
            "{search}: {found}"
        );
        assert_eq!(found["customers"][0]["name"], name.as_str());
    }
    mcp.cancel().await.unwrap();
}

#[tokio::test]
async fn a_pseudonym_issued_to_another_key_is_refused_and_never_sent_to_cstar() {
    let sandbox = start_sandbox().await;
    let (mut server, url) = http_server(&sandbox.base_url(), &["--redact-pii"]).await;
    let issued_to = http_client(&url, SECRET_TEST).await;
    let other = http_client(&url, SECRET_LIVE).await;
    let listed = ok(&call(&issued_to, "cstar_list_customers", json!({ "pageSize": 1 })).await);
    let email = pseudonym(&listed["customers"][0]["email"], "email");
    // The key it was issued to can use it.
    let found = ok(&call(
        &issued_to,
        "cstar_list_customers",
        json!({ "search": email }),
    )
    .await);
    assert_eq!(ids(&found, "customers"), ids(&listed, "customers"));
    let before = requests(&sandbox).await.len();
    let refused = call(&other, "cstar_list_customers", json!({ "search": email })).await;
    let message = error_text(&refused);
    assert!(
        message.contains(&email) && message.contains("not a pseudonym this server gave your key"),
        "{message}"
    );
    let sent: Vec<Value> = requests(&sandbox).await.split_off(before);
    assert!(
        sent.iter()
            .all(|request| !request.to_string().contains("[email")),
        "{sent:#?}"
    );
    issued_to.cancel().await.unwrap();
    other.cancel().await.unwrap();
    server.kill().await.unwrap();
}

#[tokio::test]
async fn a_ticket_created_with_pseudonyms_is_stored_with_the_real_values() {
    let sandbox = start_sandbox().await;
    let real = &real_customers(&sandbox, 1).await[0];
    let real_email = real.email.clone().unwrap();
    let mcp = stdio_server(&sandbox, &["--redact-pii"], &[]).await;
    let listed = ok(&call(&mcp, "cstar_list_customers", json!({ "pageSize": 1 })).await);
    let name = pseudonym(&listed["customers"][0]["name"], "customer");
    let email = pseudonym(&listed["customers"][0]["email"], "email");
    let created = call(
        &mcp,
        "cstar_create_ticket",
        json!({
            "title": format!("Call back {name}"),
            "customerName": name,
            "initialMessage": format!("Please write to {email} about order 1234567812345678."),
        }),
    )
    .await;
    let shown = ok(&created);
    shows_none_of(&text(&created), std::slice::from_ref(real));
    assert_eq!(shown["ticket"]["title"], format!("Call back {name}"));
    let id = shown["ticket"]["id"].as_str().unwrap();
    let cstar = client(&sandbox, SECRET_TEST);
    let stored = cstar.get_ticket(id).await.unwrap();
    assert_eq!(stored.title, format!("Call back {}", real.name));
    assert_eq!(stored.customer_name.as_deref(), Some(real.name.as_str()));
    let messages = cstar.list_ticket_messages(id).await.unwrap();
    assert_eq!(
        messages[0].content,
        format!("Please write to {real_email} about order 1234567812345678.")
    );
    mcp.cancel().await.unwrap();
}

#[tokio::test]
async fn customer_names_and_contacts_in_message_text_become_pseudonyms() {
    let sandbox = start_sandbox().await;
    let real = &real_customers(&sandbox, 1).await[0];
    let ticket = NewTicket {
        title: "Refund".to_owned(),
        customer_name: Some(real.name.clone()),
        initial_message: Some(format!(
            "This is {} again: call +44 20 7946 0958, card 4111 1111 1111 1111, IBAN DE89 3704 0044 0532 0130 00, from 203.0.113.7, ticket v2.10.3.4.",
            real.name
        )),
        ..Default::default()
    };
    let created = client(&sandbox, SECRET_TEST)
        .create_ticket(&ticket, None)
        .await
        .unwrap()
        .ticket;
    let mcp = stdio_server(&sandbox, &["--redact-pii"], &[]).await;
    let read = call(&mcp, "cstar_get_ticket", json!({ "ticketId": created.id })).await;
    let ticket = ok(&read)["ticket"].clone();
    let name = pseudonym(&ticket["customerName"], "customer");
    let content = ticket["messages"][0]["content"].as_str().unwrap();
    let shape = Regex::new(
        r"^This is (\[customer [0-9a-f]{4,}\]) again: call \[phone [0-9a-f]{4,}\], card \[card [0-9a-f]{4,}\], IBAN \[iban [0-9a-f]{4,}\], from \[ip [0-9a-f]{4,}\], ticket v2\.10\.3\.4\.$",
    )
    .unwrap();
    let captures = shape
        .captures(content)
        .unwrap_or_else(|| panic!("{content}"));
    assert_eq!(&captures[1], name);
    shows_none_of(&text(&read), std::slice::from_ref(real));
    mcp.cancel().await.unwrap();
}

#[tokio::test]
async fn the_same_value_keeps_its_pseudonym_across_calls_and_distinct_values_get_distinct_ones() {
    let sandbox = start_sandbox().await;
    let real = real_customers(&sandbox, 20).await;
    let mcp = stdio_server(&sandbox, &["--redact-pii"], &[]).await;
    let first = ok(&call(&mcp, "cstar_list_customers", json!({ "pageSize": 20 })).await);
    let again = ok(&call(&mcp, "cstar_list_customers", json!({ "pageSize": 20 })).await);
    assert_eq!(first, again);
    let one = &first["customers"][3];
    let got = ok(&call(
        &mcp,
        "cstar_get_customer",
        json!({ "customerId": one["id"] }),
    )
    .await);
    assert_eq!(got["customer"]["name"], one["name"]);
    assert_eq!(got["customer"]["email"], one["email"]);
    let resource = mcp
        .read_resource(ReadResourceRequestParams::new(format!(
            "cstar://customers/{}",
            one["id"].as_str().unwrap()
        )))
        .await
        .unwrap();
    let markdown = serde_json::to_string(&resource).unwrap();
    assert!(
        markdown.contains(one["name"].as_str().unwrap()),
        "{markdown}"
    );
    assert!(
        markdown.contains(one["email"].as_str().unwrap()),
        "{markdown}"
    );
    shows_none_of(&markdown, &real);
    // Distinct values, distinct pseudonyms; equal values, one.
    for field in ["name", "email"] {
        let values: std::collections::HashSet<String> = real
            .iter()
            .map(|c| match field {
                "name" => c.name.to_lowercase(),
                _ => c.email.clone().unwrap_or_default().to_lowercase(),
            })
            .collect();
        let shown: std::collections::HashSet<String> = first["customers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c[field].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(shown.len(), values.len(), "{field}: {shown:?}");
    }
    mcp.cancel().await.unwrap();
}

#[tokio::test]
async fn status_instructions_and_descriptions_say_so_only_when_redaction_is_on() {
    let sandbox = start_sandbox().await;
    for (args, on) in [(&["--redact-pii"][..], true), (&[][..], false)] {
        let mcp = stdio_server(&sandbox, args, &[]).await;
        let status = ok(&call(&mcp, "cstar_get_status", json!({})).await);
        assert_eq!(status.get("piiRedaction").is_some(), on, "{status}");
        if on {
            assert_eq!(status["piiRedaction"], "on");
        }
        let instructions = mcp.peer_info().unwrap().instructions.clone().unwrap();
        assert_eq!(instructions.contains("[email 3f9a]"), on);
        let tools = mcp.list_all_tools().await.unwrap();
        let described = tools
            .iter()
            .filter(|tool| {
                tool.description
                    .as_deref()
                    .unwrap_or_default()
                    .contains("[email 3f9a]")
            })
            .count();
        assert_eq!(described, if on { 3 } else { 0 });
        let status_tool = tools.iter().find(|t| t.name == "cstar_get_status").unwrap();
        let schema = serde_json::to_value(&status_tool.output_schema).unwrap();
        assert_eq!(schema["properties"].get("piiRedaction").is_some(), on);
        // What a model reads of tools/list: the 7,000 bytes of
        // `tools_list_stays_within_its_byte_budget`, the three notes of
        // redaction included.
        let read: Vec<Value> = tools
            .iter()
            .map(|t| json!({ "name": t.name, "description": t.description, "inputSchema": t.input_schema }))
            .collect();
        let size = serde_json::to_string(&read).unwrap().len();
        assert!(size <= 7_000, "{size} bytes, budget 7,000 (redaction {on})");
        mcp.cancel().await.unwrap();
    }
}

/// The same read-only calls, as raw JSON-RPC, over stdio.
async fn answers(sandbox: &RunningSandbox, args: &[&str], env: &[(&str, &str)]) -> Vec<String> {
    let customers = real_customers(sandbox, 2).await;
    let query = TicketQuery {
        page_size: Some(2),
        ..Default::default()
    };
    let tickets = client(sandbox, SECRET_TEST)
        .list_tickets(&query)
        .await
        .unwrap()
        .items;
    let base_url = sandbox.base_url();
    let mut vars = vec![
        ("CSTAR_BASE_URL", base_url.as_str()),
        ("CSTAR_API_KEY", SECRET_TEST),
    ];
    vars.extend_from_slice(env);
    let child = binary(args, &vars).spawn().unwrap();
    let tool = |id: i64, name: &str, arguments: Value| {
        request(
            id,
            "tools/call",
            json!({ "name": name, "arguments": arguments }),
        )
    };
    let (mut lines, _, code) = session(
        child,
        &[
            initialize("2025-06-18"),
            json!({ "jsonrpc": "2.0", "method": "notifications/initialized" }),
            request(2, "tools/list", json!({})),
            tool(3, "cstar_list_customers", json!({ "pageSize": 10 })),
            tool(
                4,
                "cstar_get_customer",
                json!({ "customerId": customers[0].id }),
            ),
            tool(5, "cstar_list_tickets", json!({ "pageSize": 10 })),
            tool(6, "cstar_get_ticket", json!({ "ticketId": tickets[0].id })),
            tool(
                7,
                "cstar_list_customers",
                json!({ "search": "[email 3f9a]" }),
            ),
            request(
                8,
                "resources/read",
                json!({ "uri": format!("cstar://customers/{}", customers[1].id) }),
            ),
            request(
                9,
                "prompts/get",
                json!({ "name": "investigate_ticket", "arguments": { "ticketId": tickets[1].id } }),
            ),
        ],
    )
    .await;
    assert_eq!(code, Some(0));
    lines.sort();
    lines
}

#[tokio::test]
async fn with_the_switch_off_the_output_is_byte_identical() {
    let sandbox = start_sandbox().await;
    let real = real_customers(&sandbox, 10).await;
    let without = answers(&sandbox, &[], &[]).await;
    assert_eq!(without.len(), 9, "{without:#?}");
    // The data is personal: off, it is shown as it is.
    let shown = without.join("\n");
    assert!(shown.contains(real[0].email.as_deref().unwrap()), "{shown}");
    for off in ["0", "false", "off", "no"] {
        let with_off = answers(&sandbox, &[], &[("CSTAR_REDACT_PII", off)]).await;
        assert_eq!(with_off, without, "CSTAR_REDACT_PII={off}");
    }
    let on = answers(&sandbox, &["--redact-pii"], &[]).await;
    assert_ne!(on, without);
}

#[tokio::test]
async fn doctor_reports_redaction_only_when_it_is_on() {
    for (args, on) in [
        (&["doctor", "--sandbox", "--redact-pii"][..], true),
        (&["doctor", "--sandbox"][..], false),
    ] {
        let output = binary(args, &[]).output().await.unwrap();
        let report = String::from_utf8(output.stdout).unwrap();
        assert_eq!(report.contains("PII redaction: on"), on, "{report}");
        assert!(report.trim_end().ends_with("healthy"), "{report}");
    }
}

/// In both modes, every tool's success result is valid against the
/// `outputSchema` that mode's `tools/list` publishes: the official
/// TypeScript SDK client validates it and throws when it is not.
#[tokio::test]
async fn every_success_result_matches_the_listed_output_schema_in_both_modes() {
    let sandbox = start_sandbox().await;
    for args in [&["--redact-pii"][..], &[][..]] {
        let mcp = stdio_server(&sandbox, args, &[]).await;
        let tools = mcp.list_all_tools().await.unwrap();
        let check = async |tool: &str, arguments: Value| -> Value {
            let content = ok(&call(&mcp, tool, arguments.clone()).await);
            let listed = tools.iter().find(|t| t.name == tool).unwrap();
            let schema = serde_json::to_value(&listed.output_schema).unwrap();
            let problems = super::schema_check::validate(&schema, &content);
            assert!(
                problems.is_empty(),
                "{args:?} {tool} {arguments}: {problems:#?}"
            );
            content
        };
        check("cstar_get_status", json!({})).await;
        check("cstar_list_events", json!({})).await;
        check("cstar_list_events", json!({ "category": "tickets" })).await;
        let tickets = check("cstar_list_tickets", json!({ "pageSize": 3 })).await;
        let ticket_id = tickets["tickets"][0]["id"].as_str().unwrap().to_owned();
        check("cstar_get_ticket", json!({ "ticketId": ticket_id })).await;
        let customers = check("cstar_list_customers", json!({ "pageSize": 3 })).await;
        let customer_id = customers["customers"][0]["id"].as_str().unwrap().to_owned();
        check("cstar_get_customer", json!({ "customerId": customer_id })).await;
        check(
            "cstar_list_articles",
            json!({ "includeContent": true, "pageSize": 3 }),
        )
        .await;
        check("cstar_create_ticket", json!({ "title": "Schema check" })).await;
        check(
            "cstar_trigger_webhook",
            json!({ "event": "ticket.created" }),
        )
        .await;
        mcp.cancel().await.unwrap();
    }
}
