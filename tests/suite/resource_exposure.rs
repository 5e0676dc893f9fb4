//! Every resource surface follows the tools' exposure, through the binary
//! on stdio: while `--tools` or `--exclude-tools` hides the tool that
//! reads a kind (`cstar_get_ticket`, `cstar_get_customer`,
//! `cstar_list_articles`), its template is not listed, its records are not
//! in `resources/list`, a read is refused naming the setting and
//! completion offers nothing, none of it asking cStar; the
//! `investigate_ticket` prompt, which reads its ticket as a resource, too.
//! Read-only mode and publishable keys, which cStar lets read, hide no kind.

use std::process::Stdio;

use cstar_mcp::sandbox::RunningSandbox;
use rmcp::ServiceExt;
use rmcp::model::{
    ArgumentInfo, CompleteRequestParams, ErrorCode, GetPromptRequestParams,
    ReadResourceRequestParams, Reference,
};
use rmcp::transport::TokioChildProcess;

use super::harness::*;

/// One kind of resource.
struct Kind {
    template: &'static str,
    argument: &'static str,
    prefix: &'static str,
    /// The path of cStar's list of them.
    path: &'static str,
    /// The tool that reads them.
    tool: &'static str,
}

const KINDS: [Kind; 3] = [
    Kind {
        template: "cstar://tickets/{ticketId}",
        argument: "ticketId",
        prefix: "cstar://tickets/",
        path: "/tickets",
        tool: "cstar_get_ticket",
    },
    Kind {
        template: "cstar://customers/{customerId}",
        argument: "customerId",
        prefix: "cstar://customers/",
        path: "/customers",
        tool: "cstar_get_customer",
    },
    Kind {
        template: "cstar://articles/{articleId}",
        argument: "articleId",
        prefix: "cstar://articles/",
        path: "/articles",
        tool: "cstar_list_articles",
    },
];

/// The binary on stdio against `sandbox` with `key` and `args`.
async fn start(sandbox: &RunningSandbox, key: &str, args: &[&str]) -> McpClient {
    let mut command = binary(
        args,
        &[
            ("CSTAR_API_KEY", key),
            ("CSTAR_BASE_URL", &sandbox.base_url()),
        ],
    );
    command.stderr(Stdio::null());
    ().serve(TokioChildProcess::new(command).unwrap())
        .await
        .unwrap()
}

/// The id of the first record of each kind, read straight from the sandbox.
async fn first_ids(sandbox: &RunningSandbox) -> Vec<String> {
    let client = client(sandbox, SECRET_TEST);
    let ticket = client
        .list_tickets(&Default::default())
        .await
        .unwrap()
        .items[0]
        .id
        .clone();
    let customer = client
        .list_customers(&Default::default())
        .await
        .unwrap()
        .items[0]
        .id
        .clone();
    let article = client
        .list_articles(&Default::default())
        .await
        .unwrap()
        .items[0]
        .id
        .clone();
    vec![ticket, customer, article]
}

/// How many requests the sandbox saw to paths that hold `part`.
async fn asked(sandbox: &RunningSandbox, part: &str) -> usize {
    requests(sandbox)
        .await
        .iter()
        .filter(|request| request["path"].as_str().unwrap_or_default().contains(part))
        .count()
}

/// Each key and setting, and which of the three kinds it leaves served.
fn settings() -> Vec<(&'static str, Vec<&'static str>, [bool; 3])> {
    vec![
        (
            SECRET_TEST,
            vec!["--exclude-tools", "cstar_get_ticket"],
            [false, true, true],
        ),
        (
            SECRET_TEST,
            vec!["--exclude-tools", "cstar_get_customer"],
            [true, false, true],
        ),
        (
            SECRET_TEST,
            vec!["--exclude-tools", "cstar_list_articles"],
            [true, true, false],
        ),
        (
            SECRET_TEST,
            vec!["--tools", "cstar_list_tickets,cstar_get_status"],
            [false, false, false],
        ),
        (
            SECRET_TEST,
            vec!["--tools", "cstar_get_customer,cstar_list_articles"],
            [false, true, true],
        ),
        (SECRET_TEST, vec!["--read-only"], [true, true, true]),
        (PUBLISHABLE_TEST, vec![], [true, true, true]),
    ]
}

#[tokio::test]
async fn templates_are_listed_only_for_kinds_whose_reading_tool_is_exposed() {
    let sandbox = start_sandbox().await;
    for (key, args, served) in settings() {
        let client = start(&sandbox, key, &args).await;
        let templates: Vec<String> = client
            .list_all_resource_templates()
            .await
            .unwrap()
            .into_iter()
            .map(|template| template.uri_template)
            .collect();
        let expected: Vec<&str> = KINDS
            .iter()
            .zip(served)
            .filter(|(_, served)| *served)
            .map(|(kind, _)| kind.template)
            .collect();
        assert_eq!(templates, expected, "{args:?} {}", &key[..8]);
        client.cancel().await.unwrap();
    }
}

#[tokio::test]
async fn resources_list_neither_lists_nor_asks_cstar_for_a_hidden_kind() {
    for (key, args, served) in settings() {
        let sandbox = start_sandbox().await;
        let client = start(&sandbox, key, &args).await;
        let listed = client.list_all_resources().await.unwrap();
        for (kind, served) in KINDS.iter().zip(served) {
            let count = listed
                .iter()
                .filter(|r| r.uri.starts_with(kind.prefix))
                .count();
            assert_eq!(count > 0, served, "{args:?} {}", kind.prefix);
        }
        // Tickets and customers come from one read of tickets.
        let [tickets, customers, articles] = served;
        assert_eq!(
            asked(&sandbox, "/tickets").await > 0,
            tickets || customers,
            "{args:?}"
        );
        assert_eq!(
            asked(&sandbox, KINDS[2].path).await > 0,
            articles,
            "{args:?}"
        );
        client.cancel().await.unwrap();
    }
}

#[tokio::test]
async fn a_read_of_a_hidden_kind_is_refused_naming_the_setting_without_asking_cstar() {
    let sandbox = start_sandbox().await;
    let ids = first_ids(&sandbox).await;
    for (key, args, served) in settings() {
        let client = start(&sandbox, key, &args).await;
        for ((kind, served), id) in KINDS.iter().zip(served).zip(&ids) {
            let uri = format!("{}{id}", kind.prefix);
            let record = format!("{}/{id}", kind.path);
            let before = asked(&sandbox, &record).await;
            let read = client
                .read_resource(ReadResourceRequestParams::new(uri.clone()))
                .await;
            if served {
                assert!(read.is_ok(), "{args:?} {uri}: {read:?}");
                continue;
            }
            let Err(rmcp::ServiceError::McpError(error)) = read else {
                panic!("{args:?} {uri}: {read:?}");
            };
            assert_eq!(error.code, ErrorCode::INVALID_PARAMS, "{args:?} {uri}");
            let setting = if args[0] == "--exclude-tools" {
                "--exclude-tools"
            } else {
                "--tools"
            };
            assert!(
                error.message.contains(setting)
                    && error.message.contains(kind.prefix)
                    && error.message.contains(kind.tool),
                "{args:?}: {}",
                error.message
            );
            assert_eq!(asked(&sandbox, &record).await, before, "{args:?} {uri}");
        }
        client.cancel().await.unwrap();
    }
}

#[tokio::test]
async fn completion_of_a_hidden_kind_offers_nothing_without_asking_cstar() {
    for (key, args, served) in settings() {
        let sandbox = start_sandbox().await;
        let client = start(&sandbox, key, &args).await;
        for (kind, served) in KINDS.iter().zip(served) {
            let before = asked(&sandbox, kind.path).await;
            let completion = client
                .complete(CompleteRequestParams::new(
                    Reference::for_resource(kind.template),
                    ArgumentInfo::new(kind.argument, ""),
                ))
                .await
                .unwrap()
                .completion;
            if served {
                assert!(!completion.values.is_empty(), "{args:?} {}", kind.template);
                continue;
            }
            assert_eq!(
                (
                    completion.values.len(),
                    completion.total,
                    completion.has_more
                ),
                (0, Some(0), Some(false)),
                "{args:?} {}",
                kind.template
            );
            assert_eq!(
                asked(&sandbox, kind.path).await,
                before,
                "{args:?} {}",
                kind.template
            );
        }
        client.cancel().await.unwrap();
    }
}

#[tokio::test]
async fn the_investigate_ticket_prompt_refuses_a_hidden_ticket_and_completes_no_ids() {
    let sandbox = start_sandbox().await;
    let ticket = first_ids(&sandbox).await.remove(0);
    let client = start(
        &sandbox,
        SECRET_TEST,
        &["--exclude-tools", "cstar_get_ticket"],
    )
    .await;
    let before = asked(&sandbox, "/tickets").await;
    let arguments = serde_json::json!({ "ticketId": ticket });
    let refused = client
        .get_prompt(
            GetPromptRequestParams::new("investigate_ticket")
                .with_arguments(arguments.as_object().unwrap().clone()),
        )
        .await;
    let Err(rmcp::ServiceError::McpError(error)) = refused else {
        panic!("{refused:?}");
    };
    assert!(
        error.message.contains("--exclude-tools") && error.message.contains("cstar_get_ticket"),
        "{}",
        error.message
    );
    let completion = client
        .complete(CompleteRequestParams::new(
            Reference::for_prompt("investigate_ticket"),
            ArgumentInfo::new("ticketId", "tkt_"),
        ))
        .await
        .unwrap()
        .completion;
    assert!(completion.values.is_empty(), "{completion:?}");
    assert_eq!(asked(&sandbox, "/tickets").await, before);
    client.cancel().await.unwrap();
}

/// `prompts/list` follows the exposure too: the ticket prompt is listed
/// only while tickets are served, and the handler prompt asks for a test
/// event only while `cstar_trigger_webhook` is exposed.
#[tokio::test]
async fn prompts_are_listed_and_worded_for_the_tools_that_are_exposed() {
    let sandbox = start_sandbox().await;
    for (args, investigate, trigger) in [
        (&[][..], true, true),
        (&["--exclude-tools", "cstar_get_ticket"][..], false, true),
        (&["--read-only"][..], true, false),
    ] {
        let client = start(&sandbox, SECRET_TEST, args).await;
        let prompts = client.list_all_prompts().await.unwrap();
        let names: Vec<&str> = prompts.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            names.contains(&"investigate_ticket"),
            investigate,
            "{args:?}: {names:?}"
        );
        let handler = prompts
            .iter()
            .find(|p| p.name == "build_webhook_handler")
            .expect("the handler prompt is always listed");
        let described = handler.description.as_deref().unwrap_or_default();
        assert_eq!(
            described.contains("fire a test event"),
            trigger,
            "{args:?}: {described}"
        );
        let arguments = serde_json::json!({ "event": "ticket.created" });
        let text = serde_json::to_string(
            &client
                .get_prompt(
                    GetPromptRequestParams::new("build_webhook_handler")
                        .with_arguments(arguments.as_object().unwrap().clone()),
                )
                .await
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            text.contains("Then fire a test event with cstar_trigger_webhook"),
            trigger,
            "{args:?}: {text}"
        );
        client.cancel().await.unwrap();
    }
}
