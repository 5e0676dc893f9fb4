//! @-mentions as Claude Code makes them, over the real binary on stdio:
//! `resources/list` offers recent tickets and their customers, completion
//! answers keystrokes from a per-key cache, and a created ticket is
//! announced with `notifications/resources/list_changed`.

use std::collections::HashMap;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use cstar_mcp::sandbox::RunningSandbox;
use rmcp::model::{
    ArgumentInfo, CallToolRequestParams, CompleteRequestParams, CompletionInfo,
    ReadResourceRequestParams, Reference,
};
use rmcp::service::{NotificationContext, RunningService};
use rmcp::transport::TokioChildProcess;
use rmcp::{ClientHandler, RoleClient, ServiceExt};
use serde_json::{Value, json};

use super::harness::*;

/// A client that counts `notifications/resources/list_changed`.
#[derive(Clone, Default)]
struct Listener {
    changed: Arc<AtomicUsize>,
}

impl ClientHandler for Listener {
    async fn on_resource_list_changed(&self, _context: NotificationContext<RoleClient>) {
        self.changed.fetch_add(1, Ordering::SeqCst);
    }
}

type Session = RunningService<RoleClient, Listener>;

/// The binary on stdio against `sandbox`, with `args` and `env`.
async fn start(
    sandbox: &RunningSandbox,
    args: &[&str],
    env: &[(&str, &str)],
) -> (Session, Listener) {
    let mut command = binary_on(sandbox, args);
    command.envs(env.iter().copied()).stderr(Stdio::null());
    let listener = Listener::default();
    let session = listener
        .clone()
        .serve(TokioChildProcess::new(command).unwrap())
        .await
        .unwrap();
    (session, listener)
}

/// The structured result of a successful tool call.
async fn tool(session: &Session, name: &str, arguments: Value) -> Value {
    let arguments = arguments.as_object().cloned().unwrap_or_default();
    let result = session
        .call_tool(CallToolRequestParams::new(name.to_owned()).with_arguments(arguments))
        .await
        .unwrap_or_else(|error| panic!("{name}: {error}"));
    ok(&result)
}

/// A completion request for the ticket id in `cstar://tickets/{ticketId}`, as typed so far.
fn ticket_id_completion(typed: &str) -> CompleteRequestParams {
    CompleteRequestParams::new(
        Reference::for_resource("cstar://tickets/{ticketId}"),
        ArgumentInfo::new("ticketId", typed),
    )
}

async fn complete(session: &Session, value: &str) -> CompletionInfo {
    session
        .complete(ticket_id_completion(value))
        .await
        .unwrap_or_else(|error| panic!("{value}: {error}"))
        .completion
}

/// Waits up to 5 seconds for `listener` to hear a first
/// `notifications/resources/list_changed`; callers assert the count.
async fn wait_for_list_changed(listener: &Listener) {
    for _ in 0..50 {
        if listener.changed.load(Ordering::SeqCst) > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The id of the oldest of the 200 seeded tickets.
async fn oldest_ticket_id(session: &Session) -> String {
    all_tickets(session).await[199]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Every seeded ticket, newest first, by the tool, page after page.
async fn all_tickets(session: &Session) -> Vec<Value> {
    let mut tickets = Vec::new();
    let mut next = json!({ "page": 1, "pageSize": 100 });
    loop {
        let result = tool(session, "cstar_list_tickets", next).await;
        tickets.extend(result["tickets"].as_array().unwrap().iter().cloned());
        let pagination = &result["pagination"];
        if pagination["hasMore"] != json!(true) {
            break;
        }
        next = json!({ "page": pagination["nextPage"], "pageSize": pagination["nextPageSize"] });
    }
    assert_eq!(tickets.len(), 200);
    tickets
}

#[tokio::test]
async fn resources_list_holds_recent_open_tickets_and_their_customers_named_by_title_and_customer()
{
    let sandbox = start_sandbox().await;
    let (session, _) = start(&sandbox, &[], &[]).await;
    // Every seeded ticket as cStar stores it, every field included.
    let mut tickets: HashMap<String, Value> = HashMap::new();
    for page in [1, 2] {
        let stored = api_get(&sandbox, &format!("tickets?page={page}&pageSize=100")).await;
        for ticket in stored["data"].as_array().unwrap() {
            tickets.insert(ticket["id"].as_str().unwrap().to_owned(), ticket.clone());
        }
    }
    assert_eq!(tickets.len(), 200);
    let resources = session.list_all_resources().await.unwrap();
    let listed: Vec<&Value> = resources
        .iter()
        .filter_map(|r| r.uri.strip_prefix("cstar://tickets/"))
        .map(|id| &tickets[id])
        .collect();
    assert_eq!(listed.len(), 20, "a bounded set");
    let mut updated: Vec<&str> = Vec::new();
    for (resource, ticket) in resources.iter().zip(&listed) {
        let (title, customer) = (
            ticket["title"].as_str().unwrap(),
            ticket["customerName"].as_str().unwrap(),
        );
        assert!(
            ["new", "open", "pending"].contains(&ticket["status"].as_str().unwrap()),
            "{ticket}"
        );
        assert_eq!(resource.name, format!("{title} ({customer})"));
        assert_eq!(resource.title.as_deref(), Some(title));
        let description = resource.description.as_deref().unwrap();
        assert!(
            description.starts_with(title) && description.contains(customer),
            "{description}"
        );
        updated.push(ticket["updatedAt"].as_str().unwrap());
    }
    assert!(
        updated.is_sorted_by(|a, b| a >= b),
        "most recently updated first: {updated:?}"
    );

    let mut customers: Vec<(String, String)> = Vec::new();
    for ticket in &listed {
        let customer = (
            format!(
                "cstar://customers/{}",
                ticket["customerId"].as_str().unwrap()
            ),
            ticket["customerName"].as_str().unwrap().to_owned(),
        );
        if !customers.contains(&customer) {
            customers.push(customer);
        }
    }
    let listed_customers: Vec<(String, String)> = resources
        .iter()
        .filter(|r| r.uri.starts_with("cstar://customers/"))
        .map(|r| (r.uri.clone(), r.name.clone()))
        .collect();
    assert_eq!(
        listed_customers, customers,
        "the customers of those tickets, once each"
    );
    let articles = resources
        .iter()
        .filter(|r| r.uri.starts_with("cstar://articles/"))
        .count();
    assert_eq!(resources.len(), 20 + customers.len() + articles);
    assert_eq!(articles, 30, "the articles are listed as before");

    let read = session
        .read_resource(ReadResourceRequestParams::new(resources[0].uri.clone()))
        .await
        .unwrap();
    assert!(format!("{read:?}").contains(listed[0]["title"].as_str().unwrap()));
    session.cancel().await.unwrap();
}

#[tokio::test]
async fn with_hostile_data_every_listed_ticket_and_customer_has_a_trimmed_name_never_blank() {
    let sandbox = cstar_mcp::sandbox::start_with(0, &[], cstar_mcp::sandbox::SeedData::Hostile)
        .await
        .unwrap();
    let (session, _) = start(&sandbox, &[], &[]).await;
    let resources = session.list_all_resources().await.unwrap();
    let mentions: Vec<_> = resources
        .iter()
        .filter(|r| !r.uri.starts_with("cstar://articles/"))
        .collect();
    assert!(mentions.len() > 20, "tickets and customers are listed");
    for resource in mentions {
        let name = resource.name.as_str();
        assert!(!name.trim().is_empty(), "a blank name: {resource:?}");
        assert_eq!(name, name.trim(), "untrimmed: {resource:?}");
        assert!(!name.contains("()"), "an empty customer: {resource:?}");
        assert!(!name.starts_with(" ("), "an empty title: {resource:?}");
        let description = resource.description.as_deref().unwrap();
        assert!(!description.starts_with(" ·"), "{resource:?}");
        assert!(!description.contains(" ·  · "), "{resource:?}");
    }
    session.cancel().await.unwrap();
}

#[tokio::test]
async fn tickets_customers_and_articles_are_listed_only_when_the_tools_that_read_them_are_exposed()
{
    let sandbox = start_sandbox().await;
    for (args, tickets, customers, articles) in [
        (
            &["--exclude-tools", "cstar_get_ticket"][..],
            false,
            true,
            30,
        ),
        (&["--exclude-tools", "cstar_get_customer"], true, false, 30),
        (&["--tools", "cstar_list_articles"], false, false, 30),
        (
            &["--tools", "cstar_get_ticket,cstar_get_customer"],
            true,
            true,
            0,
        ),
    ] {
        let (session, _) = start(&sandbox, args, &[]).await;
        let listed = session.list_all_resources().await.unwrap();
        let count = |prefix: &str| listed.iter().filter(|r| r.uri.starts_with(prefix)).count();
        assert_eq!(count("cstar://tickets/") > 0, tickets, "{args:?}");
        assert_eq!(count("cstar://customers/") > 0, customers, "{args:?}");
        assert_eq!(count("cstar://articles/"), articles, "{args:?}");
        session.cancel().await.unwrap();
    }
}

#[tokio::test]
async fn ten_completions_with_growing_prefixes_make_one_upstream_request() {
    let sandbox = start_sandbox().await;
    let (session, _) = start(&sandbox, &[], &[]).await;
    // The team is found once, before: only completion is counted.
    tool(&session, "cstar_get_status", json!({})).await;
    let id =
        tool(&session, "cstar_list_tickets", json!({ "pageSize": 1 })).await["tickets"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned();
    let before = requests(&sandbox).await.len();
    for length in [0, 1, 2, 3, 4, 6, 8, 12, 20, id.len()] {
        let values = complete(&session, &id[..length]).await.values;
        assert!(values.contains(&id), "{}: {values:?}", &id[..length]);
    }
    let made = &requests(&sandbox).await[before..];
    assert_eq!(made.len(), 1, "{made:#?}");
    session.cancel().await.unwrap();
}

#[tokio::test]
async fn a_rate_limited_key_is_asked_once_while_cstar_says_to_wait_not_per_keystroke() {
    let sandbox = start_sandbox().await;
    let (session, _) = start(&sandbox, &[], &[]).await;
    tool(&session, "cstar_get_status", json!({})).await;
    fault(
        &sandbox,
        json!({ "fault": "status", "status": 429, "retryAfter": 60,
                "path": "*/tickets*", "times": 100 }),
    )
    .await;
    let before = requests(&sandbox).await.len();
    for typed in ["t", "tk", "tkt", "tkt_", "tkt_1", "tkt_12", "printer"] {
        let refused = session
            .complete(ticket_id_completion(typed))
            .await
            .unwrap_err();
        assert!(refused.to_string().contains("429"), "{typed}: {refused}");
    }
    // The limit is the key's: articles are not asked for either.
    let refused = session.list_all_resources().await.unwrap_err();
    assert!(refused.to_string().contains("429"), "{refused}");
    let made = &requests(&sandbox).await[before..];
    assert_eq!(made.len(), 1, "{made:#?}");
    session.cancel().await.unwrap();
}

#[tokio::test]
async fn t_tk_tkt_and_tkt_underscore_agree_and_has_more_is_true_when_more_exist() {
    let sandbox = start_sandbox().await;
    let (session, _) = start(&sandbox, &[], &[]).await;
    let first = complete(&session, "t").await;
    assert_eq!(first.values.len(), 100);
    assert_eq!((first.total, first.has_more), (Some(200), Some(true)));
    for typed in ["", "tk", "tkt", "tkt_", " tkt_ "] {
        assert_eq!(complete(&session, typed).await, first, "{typed:?}");
    }
    let none = complete(&session, "tkt_zz").await;
    assert_eq!(
        (none.values.len(), none.total, none.has_more),
        (0, Some(0), Some(false)),
        "every page read, so the total is known"
    );
    session.cancel().await.unwrap();
}

#[tokio::test]
async fn the_oldest_seeded_ticket_completes_from_its_whole_id_and_from_tkt_underscore_and_8_hex_digits()
 {
    let sandbox = start_sandbox().await;
    let (session, _) = start(&sandbox, &[], &[]).await;
    let oldest = oldest_ticket_id(&session).await;
    let whole = complete(&session, &oldest).await;
    assert_eq!(whole.values, std::slice::from_ref(&oldest));
    assert_eq!((whole.total, whole.has_more), (Some(1), Some(false)));

    let (fresh, _) = start(&sandbox, &[], &[]).await;
    let short = complete(&fresh, &oldest[..12]).await;
    assert!(short.values.contains(&oldest), "{short:?}");
    assert!(short.values.iter().all(|v| v.starts_with(&oldest[..12])));
    assert_eq!(short.total, Some(short.values.len() as u32));
    assert_eq!(short.has_more, Some(false));
    session.cancel().await.unwrap();
    fresh.cancel().await.unwrap();
}

/// `tkt_` and 32 hex digits as the 8-4-4-4-12 UUID cStar also accepts.
fn dashed(id: &str) -> String {
    let hex = &id[4..];
    [
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..],
    ]
    .join("-")
}

#[tokio::test]
async fn the_oldest_ticket_completes_from_upper_case_hex_and_from_its_dashed_uuid() {
    let sandbox = start_sandbox().await;
    let (session, _) = start(&sandbox, &[], &[]).await;
    let oldest = oldest_ticket_id(&session).await;
    let upper_hex = format!("tkt_{}", oldest[4..].to_uppercase());
    for typed in [
        upper_hex[..12].to_owned(),
        upper_hex.clone(),
        dashed(&oldest),
        dashed(&oldest).to_uppercase(),
    ] {
        // A fresh server each time: nothing read before helps.
        let (fresh, _) = start(&sandbox, &[], &[]).await;
        let info = complete(&fresh, &typed).await;
        assert!(info.values.contains(&oldest), "{typed}: {info:?}");
        assert_ne!(info.total, Some(0), "{typed}: {info:?}");
        fresh.cancel().await.unwrap();
    }
    session.cancel().await.unwrap();
}

#[tokio::test]
async fn a_whole_id_created_elsewhere_completes_though_every_page_was_read_before() {
    let sandbox = start_sandbox().await;
    let (session, _) = start(&sandbox, &[], &[]).await;
    // Words that match nothing read every page into the cache.
    let none = complete(&session, "zzqx").await;
    assert_eq!((none.total, none.has_more), (Some(0), Some(false)));

    // Another client (the web app, say) creates a ticket meanwhile.
    let (elsewhere, _) = start(&sandbox, &[], &[]).await;
    let created = tool(
        &elsewhere,
        "cstar_create_ticket",
        json!({ "title": "Made in the web app" }),
    )
    .await;
    let id = created["ticket"]["id"].as_str().unwrap().to_owned();

    let whole = complete(&session, &id).await;
    assert_eq!(whole.values, std::slice::from_ref(&id), "{whole:?}");
    assert_eq!((whole.total, whole.has_more), (Some(1), Some(false)));
    session.cancel().await.unwrap();
    elsewhere.cancel().await.unwrap();
}

#[tokio::test]
async fn a_created_ticket_is_announced_with_list_changed_and_then_listed() {
    let sandbox = start_sandbox().await;
    let (session, listener) = start(&sandbox, &[], &[]).await;
    let capabilities = session.peer_info().unwrap().capabilities.resources.clone();
    assert_eq!(capabilities.unwrap().list_changed, Some(true));
    let before = session.list_all_resources().await.unwrap();
    assert_eq!(listener.changed.load(Ordering::SeqCst), 0);

    let created = tool(
        &session,
        "cstar_create_ticket",
        json!({ "title": "Mention me please", "customerName": "Quinn Mentioned" }),
    )
    .await;
    let uri = format!(
        "cstar://tickets/{}",
        created["ticket"]["id"].as_str().unwrap()
    );
    assert!(!before.iter().any(|r| r.uri == uri));
    wait_for_list_changed(&listener).await;
    assert_eq!(listener.changed.load(Ordering::SeqCst), 1);
    let after = session.list_all_resources().await.unwrap();
    let listed = after
        .iter()
        .find(|r| r.uri == uri)
        .expect("the new ticket is listed");
    assert_eq!(listed.name, "Mention me please (Quinn Mentioned)");
    session.cancel().await.unwrap();
}

#[tokio::test]
async fn created_resolved_or_closed_tickets_announce_nothing_as_the_list_cannot_change() {
    let sandbox = start_sandbox().await;
    let (session, listener) = start(&sandbox, &[], &[]).await;
    let before = session.list_all_resources().await.unwrap();
    for (n, status) in ["closed", "resolved", "closed"].iter().enumerate() {
        let arguments = json!({ "title": format!("Done already {n}"), "status": status });
        tool(&session, "cstar_create_ticket", arguments).await;
    }
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    assert_eq!(listener.changed.load(Ordering::SeqCst), 0);
    assert_eq!(session.list_all_resources().await.unwrap(), before);

    tool(
        &session,
        "cstar_create_ticket",
        json!({ "title": "Still open", "status": "open" }),
    )
    .await;
    wait_for_list_changed(&listener).await;
    assert_eq!(listener.changed.load(Ordering::SeqCst), 1);
    session.cancel().await.unwrap();
}

#[tokio::test]
async fn the_switch_lists_only_articles_and_announces_nothing() {
    let sandbox = start_sandbox().await;
    for (args, env) in [
        (&["--no-recent-resources"][..], &[][..]),
        (&[][..], &[("CSTAR_NO_RECENT_RESOURCES", "true")][..]),
    ] {
        let (session, listener) = start(&sandbox, args, env).await;
        let capabilities = session.peer_info().unwrap().capabilities.resources.clone();
        assert_eq!(capabilities.unwrap().list_changed, None, "{args:?} {env:?}");
        let resources = session.list_all_resources().await.unwrap();
        assert_eq!(resources.len(), 30);
        assert!(every(&resources, |r| r
            .uri
            .starts_with("cstar://articles/")));
        tool(&session, "cstar_create_ticket", json!({ "title": "Quiet" })).await;
        session.list_all_resources().await.unwrap();
        assert_eq!(listener.changed.load(Ordering::SeqCst), 0);
        let values = complete(&session, "tkt_").await.values;
        assert_eq!(values.len(), 100, "completion still works");
        session.cancel().await.unwrap();
    }
}

#[tokio::test]
async fn a_2026_07_28_client_hears_list_changed_on_its_listen_stream() {
    use tokio::io::AsyncWriteExt;
    let meta = super::stdio::meta_2026_07_28();
    let mut child = binary(&["--sandbox"], &[]).spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let send = |message: Value| format!("{message}\n");
    let discover = json!({ "jsonrpc": "2.0", "id": 1, "method": "server/discover",
                           "params": { "_meta": meta } });
    let listen = json!({ "jsonrpc": "2.0", "id": "listen:0", "method": "subscriptions/listen",
                         "params": { "_meta": meta, "notifications": { "resourcesListChanged": true } } });
    let create = json!({ "jsonrpc": "2.0", "id": 2, "method": "tools/call",
                         "params": { "_meta": meta, "name": "cstar_create_ticket",
                                     "arguments": { "title": "Heard on the stream" } } });
    for message in [discover, listen] {
        stdin.write_all(send(message).as_bytes()).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    stdin.write_all(send(create).as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    drop(stdin);
    let output = tokio::time::timeout(Duration::from_secs(15), child.wait_with_output())
        .await
        .expect("the server exits after stdin closes")
        .unwrap();
    let messages: Vec<Value> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let discovered = messages.iter().find(|m| m["id"] == 1).unwrap();
    assert_eq!(
        discovered["result"]["capabilities"]["resources"]["listChanged"],
        true
    );
    let on_stream = |method: &str| {
        messages.iter().any(|m| {
            m["method"] == method
                && m["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"] == "listen:0"
        })
    };
    assert!(
        on_stream("notifications/subscriptions/acknowledged"),
        "{messages:#?}"
    );
    assert!(
        on_stream("notifications/resources/list_changed"),
        "{messages:#?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m["id"] == 2 && m["result"]["isError"] != true)
    );
}

#[tokio::test]
async fn concurrent_identical_completions_share_one_upstream_request() {
    let sandbox = start_sandbox().await;
    let (session, _) = start(&sandbox, &[], &[]).await;
    tool(&session, "cstar_get_status", json!({})).await;
    let before = requests(&sandbox).await.len();
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..10 {
        let peer = session.peer().clone();
        calls.spawn(async move {
            peer.complete(ticket_id_completion("tkt_"))
                .await
                .unwrap()
                .completion
        });
    }
    let answers = calls.join_all().await;
    assert!(answers.iter().all(|a| a.values.len() == 100));
    let made = &requests(&sandbox).await[before..];
    assert_eq!(made.len(), 1, "{made:#?}");
    session.cancel().await.unwrap();
}

#[tokio::test]
async fn over_http_list_changed_is_not_advertised_and_tickets_are_still_listed() {
    let sandbox = start_sandbox().await;
    let (mut server, url) = http_server(&sandbox.base_url(), &[]).await;
    let client = http_client(&url, SECRET_TEST).await;
    let resources = client.peer_info().unwrap().capabilities.resources.clone();
    assert_eq!(resources.unwrap().list_changed, None);
    let listed = client.list_all_resources().await.unwrap();
    assert_eq!(
        listed
            .iter()
            .filter(|r| r.uri.starts_with("cstar://tickets/"))
            .count(),
        20
    );
    client.cancel().await.unwrap();
    server.kill().await.unwrap();
}
