//! `--redact-pii` through the real binary on the forms that need care: a
//! customer whose name is a common word, values split by dots, line
//! breaks or hyphens, an email first seen percent-encoded, and what the
//! `@` picker's completion matches.

use cstar_mcp::api::models::{CustomerQuery, NewTicket};
use regex::Regex;
use serde_json::{Value, json};

use super::harness::{McpClient, SECRET_TEST, binary_on, call, client, ok, start_sandbox};
use cstar_mcp::sandbox::RunningSandbox;
use rmcp::ServiceExt;
use rmcp::model::{ArgumentInfo, CompleteRequestParams, Reference};
use rmcp::transport::TokioChildProcess;

/// A ticket stored straight in cStar (the sandbox), as a customer wrote it.
async fn stored_ticket(sandbox: &RunningSandbox, customer: &str, message: &str) -> String {
    let ticket = NewTicket {
        title: "Question".to_owned(),
        customer_name: Some(customer.to_owned()),
        initial_message: Some(message.to_owned()),
        ..Default::default()
    };
    client(sandbox, SECRET_TEST)
        .create_ticket(&ticket, None)
        .await
        .unwrap()
        .ticket
        .id
}

/// The binary over stdio with `--redact-pii`.
async fn redacting(sandbox: &RunningSandbox) -> McpClient {
    let mut command = binary_on(sandbox, &["--redact-pii"]);
    command.stderr(std::process::Stdio::null());
    ().serve(TokioChildProcess::new(command).unwrap())
        .await
        .expect("MCP handshake")
}

/// The ticket as the agent sees it.
async fn shown(mcp: &McpClient, id: &str) -> Value {
    let read = call(mcp, "cstar_get_ticket", json!({ "ticketId": id })).await;
    ok(&read)["ticket"].clone()
}

/// A customer's first message as the agent sees it, and the pseudonym the
/// customer's name got.
async fn seen_with_redaction(customer: &str, message: &str) -> (String, String) {
    let sandbox = start_sandbox().await;
    let id = stored_ticket(&sandbox, customer, message).await;
    let mcp = redacting(&sandbox).await;
    let ticket = shown(&mcp, &id).await;
    mcp.cancel().await.unwrap();
    let name = ticket["customerName"].as_str().unwrap().to_owned();
    assert!(
        Regex::new(r"^\[customer [0-9a-f]{4,}\]$")
            .unwrap()
            .is_match(&name),
        "{name}"
    );
    let content = ticket["messages"][0]["content"]
        .as_str()
        .unwrap()
        .to_owned();
    (name, content)
}

#[tokio::test]
async fn a_customer_named_will_is_redacted_as_a_name_but_not_as_a_word() {
    let (name, content) = seen_with_redaction(
        "Will",
        "I will check the logs and may open another ticket. Thanks, Will",
    )
    .await;
    assert_eq!(
        content,
        format!("I will check the logs and may open another ticket. Thanks, {name}")
    );
}

#[tokio::test]
async fn a_full_name_with_a_common_first_name_is_redacted_in_any_case() {
    let (name, content) = seen_with_redaction(
        "Will Smith",
        "Signed, will smith. WILL SMITH here again; Will Smith. I will check.",
    )
    .await;
    assert_eq!(
        content,
        format!("Signed, {name}. {name} here again; {name}. I will check.")
    );
}

#[tokio::test]
async fn cards_split_by_dots_or_lines_and_hyphenated_ibans_are_redacted_and_look_alikes_stay() {
    let sandbox = start_sandbox().await;
    let id = stored_ticket(
        &sandbox,
        "Jane Doe",
        "Card 4242.4242.4242.4242, or\n5555 5555\n5555 4444; IBAN DE89-3704-0044-0532-0130-00. \
         Build 1.2.3.4.5, ref 4242.4242.4242.4241.",
    )
    .await;
    let mcp = redacting(&sandbox).await;
    let content = shown(&mcp, &id).await["messages"][0]["content"]
        .as_str()
        .unwrap()
        .to_owned();
    let shape = Regex::new(
        r"^Card \[card [0-9a-f]{4,}\], or\n\[card [0-9a-f]{4,}\]; IBAN \[iban [0-9a-f]{4,}\]\. Build 1\.2\.3\.4\.5, ref 4242\.4242\.4242\.4241\.$",
    )
    .unwrap();
    assert!(shape.is_match(&content), "{content}");
    mcp.cancel().await.unwrap();
}

#[tokio::test]
async fn an_email_first_seen_percent_encoded_is_passed_back_as_the_address() {
    let sandbox = start_sandbox().await;
    let id = stored_ticket(
        &sandbox,
        "Jane Doe",
        "Unsubscribe: https://news.example/u?email=jane%40example.com",
    )
    .await;
    let mcp = redacting(&sandbox).await;
    let content = shown(&mcp, &id).await["messages"][0]["content"]
        .as_str()
        .unwrap()
        .to_owned();
    let email = content
        .strip_prefix("Unsubscribe: https://news.example/u?email=")
        .unwrap_or_else(|| panic!("{content}"))
        .to_owned();
    let created = call(
        &mcp,
        "cstar_create_ticket",
        json!({ "title": "Follow up", "initialMessage": format!("Write to {email}.") }),
    )
    .await;
    let new_id = ok(&created)["ticket"]["id"].as_str().unwrap().to_owned();
    let messages = client(&sandbox, SECRET_TEST)
        .list_ticket_messages(&new_id)
        .await
        .unwrap();
    assert_eq!(messages[0].content, "Write to jane@example.com.");
    mcp.cancel().await.unwrap();
}

/// The customer ids completion offers for `typed`.
async fn completed_customers(mcp: &McpClient, typed: &str) -> Vec<String> {
    let request = CompleteRequestParams::new(
        Reference::for_resource("cstar://customers/{customerId}"),
        ArgumentInfo::new("customerId", typed),
    );
    mcp.complete(request)
        .await
        .unwrap_or_else(|error| panic!("{typed}: {error}"))
        .completion
        .values
}

#[tokio::test]
async fn completion_matches_the_pseudonyms_the_picker_shows_not_the_real_names() {
    let sandbox = start_sandbox().await;
    let query = CustomerQuery {
        page_size: Some(1),
        ..Default::default()
    };
    let real = client(&sandbox, SECRET_TEST)
        .list_customers(&query)
        .await
        .unwrap()
        .items
        .remove(0);
    let mcp = redacting(&sandbox).await;
    let listed = ok(&call(&mcp, "cstar_list_customers", json!({ "pageSize": 1 })).await);
    let pseudonym = listed["customers"][0]["name"].as_str().unwrap().to_owned();
    assert!(pseudonym.starts_with("[customer "), "{pseudonym}");
    // What the person sees, whole or in part, finds the customer.
    let hex = pseudonym
        .trim_start_matches("[customer ")
        .trim_end_matches(']');
    for typed in [pseudonym.as_str(), hex] {
        let found = completed_customers(&mcp, typed).await;
        assert!(found.contains(&real.id), "{typed}: {found:?}");
    }
    // The real name, which the key is never shown, finds nothing: else
    // completion would tell which names are customers.
    let found = completed_customers(&mcp, &real.name).await;
    assert!(!found.contains(&real.id), "{}: {found:?}", real.name);
    mcp.cancel().await.unwrap();
}
