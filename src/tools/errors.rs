//! The one place that words failures for the model: what failed, why, and
//! what to do next. Every failure becomes an `isError` tool result with
//! that sentence as its one text block, and the same facts as a JSON error
//! body (`code`, `status`, `retryable`, `retryAfterSeconds`, `requestId`,
//! `idempotencyKey`, `hint`) in the result's `_meta` under `ERROR_META`.
//!
//! Clients hand the model an error's text blocks (Claude Code joins them,
//! Codex passes them), so the sentence is said once. The body is not
//! `structuredContent`: the official TypeScript SDK's client validates
//! `structuredContent` against the tool's `outputSchema`, which describes
//! success, even on an `isError` result, and would throw.

use rmcp::ErrorData;
use rmcp::handler::server::tool::IntoCallToolResult;
use rmcp::model::{CallToolResponse, CallToolResult, ContentBlock, MetaObject};
use serde::Serialize;

use crate::api::ApiError;
use crate::limits::quote;

/// The `_meta` key of an error result's JSON body.
pub const ERROR_META: &str = "cstar.help/error";

/// The machine-readable half of a tool error.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    pub code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    pub retryable: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_seconds: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// For a create whose outcome is unknown: the key to call again with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
    pub hint: String,
}

impl ErrorBody {
    /// The block of a failure found without cStar: no status, no request id.
    fn local(code: &str, retryable: bool, hint: String) -> Self {
        ErrorBody {
            code: code.into(),
            status: None,
            retryable,
            retry_after_seconds: None,
            request_id: None,
            idempotency_key: None,
            hint,
        }
    }
}

/// A failed tool call, ready to send.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolError {
    pub message: String,
    pub body: Box<ErrorBody>,
}

impl ToolError {
    /// A failure found before calling cStar (a bad argument).
    pub fn invalid_argument(
        param: &str,
        problem: impl Into<String>,
        hint: impl Into<String>,
    ) -> Self {
        let problem = problem.into();
        let hint = hint.into();
        ToolError {
            message: format!("Invalid argument '{param}': {problem}. {hint}"),
            body: Box::new(ErrorBody::local("invalid_argument", false, hint)),
        }
    }

    /// The call was cancelled by the client.
    pub fn cancelled() -> Self {
        ToolError {
            message: "The call was cancelled before cStar answered.".into(),
            body: Box::new(ErrorBody::local(
                "cancelled",
                true,
                "Call the tool again if the result is still needed.".into(),
            )),
        }
    }

    /// A create whose caller stopped waiting after it was sent: it runs to
    /// its outcome, and `key` finishes it without a duplicate.
    pub fn cancelled_create(key: &str) -> Self {
        let warning = Write::Create {
            sent_with_key: Some(key),
        }
        .unknown_outcome()
        .unwrap_or_default();
        let mut body = ErrorBody::local("cancelled", true, warning.clone());
        body.idempotency_key = Some(key.to_owned());
        ToolError {
            message: format!("The call was cancelled after the create was sent. {warning}"),
            body: Box::new(body),
        }
    }

    /// A server that cannot serve cStar: `explanation` says what is wrong
    /// and ends with `fix`, the hint.
    pub fn misconfigured(explanation: String, fix: String) -> Self {
        ToolError {
            message: explanation,
            body: Box::new(ErrorBody::local("misconfigured", false, fix)),
        }
    }

    /// rmcp's own wording of a call it could not make (arguments that did
    /// not parse), given the code and hint of an argument error.
    pub fn from_rmcp(message: &str) -> Self {
        let message = message
            .strip_prefix("failed to deserialize parameters: ")
            .unwrap_or(message);
        let hint = "Check the tool's input schema and call again.";
        ToolError {
            message: format!("{}. {hint}", quote(message.trim_end_matches('.'), 300)),
            body: Box::new(ErrorBody::local("invalid_argument", false, hint.into())),
        }
    }

    /// The `isError` result: the sentence, with the JSON error body in
    /// `_meta`.
    pub fn into_result(self) -> CallToolResult {
        let mut meta = MetaObject::new();
        if let Ok(body) = serde_json::to_value(&self.body) {
            meta.0.insert(ERROR_META.to_owned(), body);
        }
        CallToolResult::error(vec![ContentBlock::text(self.message)]).with_meta(Some(meta))
    }
}

impl IntoCallToolResult for ToolError {
    fn into_call_tool_result(self) -> Result<CallToolResponse, ErrorData> {
        Ok(self.into_result().into())
    }
}

/// What a tool was doing, so an error can point at the fix.
#[derive(Debug, Clone, Copy, Default)]
pub struct Context<'a> {
    /// The resource the call addressed, as (noun, id): ("Ticket", "tkt_1").
    pub resource: Option<(&'a str, &'a str)>,
    /// The tool that lists valid ids for that resource.
    pub list_tool: Option<&'a str>,
    /// The base URL in use, for network errors.
    pub base_url: &'a str,
    /// For a write: which, so a failure that leaves its outcome unknown
    /// (no answer arrived, so cStar may or may not have done it) says so.
    pub write: Option<Write<'a>>,
    /// Where the key comes from, so a hint says where to fix it.
    pub key_place: KeyPlace,
}

/// A write whose outcome a failure may leave unknown.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Write<'a> {
    /// `cstar_create_ticket`, with the idempotency key it was sent with;
    /// `None` when it was refused before anything was sent.
    Create { sent_with_key: Option<&'a str> },
    /// `cstar_trigger_webhook`, once its request was sent.
    Trigger,
}

impl Write<'_> {
    /// What the model must know when the write may or may not have
    /// happened; `None` when nothing was sent.
    fn unknown_outcome(self) -> Option<String> {
        match self {
            Write::Create {
                sent_with_key: Some(key),
            } => Some(format!(
                "The ticket may already exist: cStar may have received this create before the failure. \
To finish without a duplicate, call cstar_create_ticket again with the same arguments and idempotencyKey \"{key}\": \
cStar then returns the ticket made with that key, or makes it once (it remembers keys for 24 hours)."
            )),
            Write::Create {
                sent_with_key: None,
            } => None,
            Write::Trigger => Some(TRIGGER_MAY_HAVE_HAPPENED.to_owned()),
        }
    }
}

/// Where the server gets the API key from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum KeyPlace {
    /// The server's environment (stdio): fixed by setting CSTAR_API_KEY.
    #[default]
    Environment,
    /// Each request's `Authorization` header (HTTP): fixed by the caller.
    Header,
}

impl KeyPlace {
    /// How to give the server a different key.
    fn send_key(self, which: &str) -> String {
        match self {
            KeyPlace::Environment => format!(
                "Set CSTAR_API_KEY in this MCP server's env to {which}, then restart the server."
            ),
            KeyPlace::Header => format!(
                "Send {which} in this request's Authorization header ('Bearer sk_live_...')."
            ),
        }
    }
}

/// How much of cStar's own error message an error quotes.
const QUOTED_MESSAGE_CHARS: usize = 500;
/// How much of cStar's error code or parameter name an error quotes.
const QUOTED_CODE_CHARS: usize = 60;

/// What cStar's keys look like, as `ApiKey::kind` accepts them.
const KEY_SHAPE: &str = "Keys start with sk_live_, sk_test_, pk_live_ or pk_test_ followed by 16-128 letters, digits, '-' or '_' (cStar issues 32).";

/// For `cstar_trigger_webhook`: a retry would deliver the event again.
const TRIGGER_MAY_HAVE_HAPPENED: &str = "The event may have been delivered before the connection broke; check the receiver before triggering it again.";

/// Words an `ApiError` for the model.
pub fn describe(error: &ApiError, context: Context<'_>) -> ToolError {
    let request = error
        .request_id()
        .map(|id| format!(", request {id}"))
        .unwrap_or_default();
    let (message, hint, retryable, retry_after) = match error {
        ApiError::MissingKey => (
            "No cStar API key is configured.".to_owned(),
            match context.key_place {
                KeyPlace::Environment => format!(
                    "{} To try the demo data instead, start the server with --sandbox.",
                    context.key_place.send_key("a sk_live_/sk_test_ secret key (or a pk_ publishable key for read-only use)")
                ),
                KeyPlace::Header => context.key_place.send_key("a cStar API key"),
            },
            false,
            None,
        ),
        ApiError::MalformedKey => (
            "The cStar API key is not in cStar's format.".to_owned(),
            format!(
                "{KEY_SHAPE} {} Keys are under Settings > API Keys in the cStar dashboard.",
                context.key_place.send_key("a key of that form")
            ),
            false,
            None,
        ),
        ApiError::InvalidInput { param, message } => (
            format!("Invalid argument '{param}': {message}."),
            match context.list_tool {
                Some(tool) => format!("Use {tool} to find valid ids."),
                None => "Fix the argument and call again.".to_owned(),
            },
            false,
            None,
        ),
        ApiError::Status(status) => {
            // cStar's words are quoted, never echoed whole.
            let code = quote(status.code.as_deref().unwrap_or("error"), QUOTED_CODE_CHARS);
            let said = quote(&status.message, QUOTED_MESSAGE_CHARS);
            let attempts = if status.attempts > 1 {
                format!(" after {} attempts", status.attempts)
            } else {
                String::new()
            };
            match status.status {
                401 => (
                    format!("cStar rejected the API key (401 {code}{request}): {said}"),
                    format!(
                        "{} Keys are under Settings > API Keys in the cStar dashboard.",
                        context.key_place.send_key("a valid key")
                    ),
                    false,
                    None,
                ),
                403 if code == "publishable_key_write" => (
                    format!("This action needs a secret key, but the configured key is publishable (read-only) (403{request})."),
                    format!(
                        "Creating tickets and triggering webhooks need a secret key. {}",
                        context.key_place.send_key("an sk_live_ or sk_test_ key")
                    ),
                    false,
                    None,
                ),
                403 => (
                    format!("cStar refused access (403 {code}{request}): {said}"),
                    match context.key_place {
                        KeyPlace::Environment => "The key lacks permission for this. Use a secret key of the right team (check CSTAR_TEAM_ID, or unset it to use the key's own team).".to_owned(),
                        KeyPlace::Header => "The key lacks permission for this. Use a secret key of the team this server serves.".to_owned(),
                    },
                    false,
                    None,
                ),
                404 => {
                    let what = match context.resource {
                        Some((noun, id)) => format!("{noun} {id} was not found"),
                        None => "cStar found nothing at this address".to_owned(),
                    };
                    (
                        format!("{what} (404{request})."),
                        match context.list_tool {
                            Some(tool) => format!("Use {tool} to find valid ids."),
                            None => "Check the id and the team.".to_owned(),
                        },
                        false,
                        None,
                    )
                }
                409 if code == "idempotency_key_reused"
                    && matches!(context.write, Some(Write::Create { .. })) => (
                    format!("This idempotencyKey was already used with different arguments (409 {code}{request}). Nothing was created."),
                    "Use a new idempotencyKey for a different ticket, or repeat the original arguments exactly to get the ticket created with this key.".to_owned(),
                    false,
                    None,
                ),
                409 => (
                    format!("cStar reported a conflict (409 {code}{request}): {said}"),
                    "Nothing was changed by this call. Check whether the first attempt already succeeded before calling again.".to_owned(),
                    false,
                    None,
                ),
                429 => {
                    let seconds = status.retry_after.map(|d| d.as_secs().max(1));
                    let when = match seconds {
                        Some(s) => format!("Retry in {s} seconds."),
                        None => "Retry in a minute.".to_owned(),
                    };
                    (
                        format!("cStar's rate limit for this key is exhausted (429{attempts}{request})."),
                        format!("{when} cStar allows 1,000 requests an hour for secret keys and 100 for publishable keys; cstar_get_status shows what is left."),
                        true,
                        seconds,
                    )
                }
                500..=599 => {
                    let seconds = status.retry_after.map(|d| d.as_secs().max(1));
                    let when = match seconds {
                        Some(s) => format!("Retry in {s} seconds"),
                        None => "Try again in a minute".to_owned(),
                    };
                    (
                        format!("cStar is unavailable ({} {code}{attempts}{request}): {said}", status.status),
                        format!("This is on cStar's side. {when}; if it persists, check https://www.cstar.help status and quote the request id."),
                        true,
                        seconds,
                    )
                }
                _ => {
                    let param = status.param.as_deref().map(|p| format!(" on '{}'", quote(p, QUOTED_CODE_CHARS))).unwrap_or_default();
                    (
                        format!("cStar refused the request ({} {code}{param}{request}): {said}", status.status),
                        "Fix the argument named above and call again.".to_owned(),
                        false,
                        None,
                    )
                }
            }
        }
        ApiError::Busy { detail } => (
            format!("This server is busy: {detail}."),
            "Nothing was sent to cStar. Retry in 1 second.".to_owned(),
            true,
            Some(1),
        ),
        ApiError::Timeout { attempts } => (
            format!("cStar did not answer in time ({attempts} attempts)."),
            "cStar may be slow or down. Try again in a minute; a larger --timeout helps on slow links.".to_owned(),
            true,
            None,
        ),
        ApiError::Network {
            attempts, detail, ..
        } => (
            format!("Could not reach cStar at {} ({attempts} attempts): {}.", context.base_url, quote(detail, QUOTED_MESSAGE_CHARS)),
            "Check the network connection and CSTAR_BASE_URL, then try again.".to_owned(),
            true,
            None,
        ),
        ApiError::Decode { status, detail, .. } => (
            format!("cStar answered {status} with a body this server could not read{request}: {}.", quote(detail, QUOTED_MESSAGE_CHARS)),
            "This may be a proxy or a temporary fault. Try again; if it persists, report it with the request id.".to_owned(),
            true,
            None,
        ),
    };
    let unknown = context
        .write
        .filter(|_| error.leaves_outcome_unknown())
        .and_then(Write::unknown_outcome);
    let hint = match unknown {
        Some(warning) => format!("{warning} {hint}"),
        None => hint,
    };
    let idempotency_key = match context.write {
        Some(Write::Create {
            sent_with_key: Some(key),
        }) if error.leaves_outcome_unknown() => Some(key.to_owned()),
        _ => None,
    };
    // cStar's quoted words may end without a stop: the hint still starts
    // a sentence of its own.
    let stop = if message.ends_with(['.', '!', '?']) {
        ""
    } else {
        "."
    };
    ToolError {
        message: format!("{message}{stop} {hint}"),
        body: Box::new(ErrorBody {
            code: error.code().to_owned(),
            status: error.status(),
            retryable,
            retry_after_seconds: retry_after,
            request_id: error.request_id().map(str::to_owned),
            idempotency_key,
            hint,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::StatusError;
    use std::time::Duration;

    fn status(status: u16, code: &str, retry_after: Option<u64>) -> ApiError {
        ApiError::Status(Box::new(StatusError {
            status,
            error_type: None,
            code: Some(code.into()),
            message: "msg".into(),
            param: Some("title".into()),
            request_id: Some("req_abc".into()),
            retry_after: retry_after.map(Duration::from_secs),
            attempts: 3,
        }))
    }

    #[test]
    fn wording_table() {
        let ticket = Context {
            resource: Some(("Ticket", "tkt_42")),
            list_tool: Some("cstar_list_tickets"),
            base_url: "https://www.cstar.help",
            write: None,
            key_place: KeyPlace::Environment,
        };
        let cases: Vec<(ApiError, &[&str], bool)> = vec![
            (
                ApiError::MissingKey,
                &["No cStar API key", "CSTAR_API_KEY", "--sandbox"],
                false,
            ),
            (
                ApiError::MalformedKey,
                &["not in cStar's format", "sk_live_"],
                false,
            ),
            (
                status(401, "invalid_api_key", None),
                &["401", "CSTAR_API_KEY", "req_abc"],
                false,
            ),
            (
                status(403, "publishable_key_write", None),
                &["publishable", "sk_live_"],
                false,
            ),
            (
                status(404, "resource_missing", None),
                &[
                    "Ticket tkt_42 was not found",
                    "cstar_list_tickets",
                    "req_abc",
                ],
                false,
            ),
            (
                status(400, "parameter_invalid", None),
                &["'title'", "parameter_invalid"],
                false,
            ),
            (
                status(429, "rate_limit_exceeded", Some(42)),
                &["Retry in 42 seconds", "cstar_get_status"],
                true,
            ),
            (
                status(503, "service_unavailable", None),
                &["unavailable", "after 3 attempts", "req_abc"],
                true,
            ),
            (
                ApiError::Timeout { attempts: 3 },
                &["did not answer in time", "3 attempts"],
                true,
            ),
            (
                ApiError::Network {
                    attempts: 3,
                    detail: "connection refused".into(),
                    sent: false,
                },
                &[
                    "Could not reach cStar at https://www.cstar.help",
                    "connection refused",
                ],
                true,
            ),
        ];
        for (error, needles, retryable) in cases {
            let described = describe(&error, ticket);
            for needle in needles {
                assert!(
                    described.message.contains(needle),
                    "{needle:?} not in {:?}",
                    described.message
                );
            }
            assert_eq!(described.body.retryable, retryable, "{}", described.message);
        }
    }

    #[test]
    fn the_hint_starts_a_sentence_of_its_own_whether_or_not_cstar_ended_one() {
        let hint = "This is on cStar's side.";
        let bare = describe(&status(500, "internal_error", None), Context::default());
        assert!(
            bare.message.contains(&format!("msg. {hint}")),
            "{}",
            bare.message
        );
        let mut stopped = status(500, "internal_error", None);
        if let ApiError::Status(error) = &mut stopped {
            error.message = "It broke!".into();
        }
        let stopped = describe(&stopped, Context::default());
        assert!(
            stopped.message.contains(&format!("It broke! {hint}")),
            "{}",
            stopped.message
        );
    }

    #[test]
    fn retry_after_seconds_in_the_body_are_said_in_the_text() {
        let cases = [
            status(429, "rate_limit_exceeded", Some(42)),
            status(503, "service_unavailable", Some(9)),
            status(500, "internal_error", Some(0)),
            ApiError::Busy {
                detail: "64 calls in progress for this key".into(),
            },
        ];
        for error in cases {
            let described = describe(&error, Context::default());
            let seconds = described.body.retry_after_seconds.expect("retry after");
            assert!(
                described
                    .message
                    .contains(&format!("Retry in {seconds} second")),
                "{seconds}: {}",
                described.message
            );
        }
    }

    #[test]
    fn unknown_write_outcomes_name_the_key_to_finish_with() {
        let sent = Context {
            write: Some(Write::Create {
                sent_with_key: Some("cstar-mcp-abc"),
            }),
            ..Context::default()
        };
        let described = describe(&ApiError::Timeout { attempts: 3 }, sent);
        assert!(
            described.message.contains("may already exist")
                && described
                    .message
                    .contains("idempotencyKey \"cstar-mcp-abc\""),
            "{}",
            described.message
        );
        assert_eq!(
            described.body.idempotency_key.as_deref(),
            Some("cstar-mcp-abc")
        );
        let refused = describe(&status(400, "parameter_invalid", None), sent);
        assert!(
            !refused.message.contains("may already exist"),
            "{}",
            refused.message
        );
        assert_eq!(refused.body.idempotency_key, None);
        let never_sent = Context {
            write: Some(Write::Create {
                sent_with_key: None,
            }),
            ..Context::default()
        };
        let described = describe(&status(503, "service_unavailable", None), never_sent);
        assert!(
            !described.message.contains("may already exist")
                && !described.message.contains("idempotencyKey"),
            "{}",
            described.message
        );
    }

    #[test]
    fn over_http_key_hints_speak_of_the_header_only() {
        let header = Context {
            key_place: KeyPlace::Header,
            ..Context::default()
        };
        let cases = [
            (ApiError::MissingKey, "Authorization header"),
            (ApiError::MalformedKey, "Authorization header"),
            (status(401, "invalid_api_key", None), "Authorization header"),
            (
                status(403, "publishable_key_write", None),
                "Authorization header",
            ),
            (
                status(403, "team_access_denied", None),
                "team this server serves",
            ),
        ];
        for (error, needle) in cases {
            let message = describe(&error, header).message;
            assert!(message.contains(needle), "{message}");
            assert!(
                !message.contains("CSTAR_") && !message.contains("restart"),
                "{message}"
            );
        }
    }

    #[test]
    fn rate_limit_body_carries_retry_after() {
        let described = describe(
            &status(429, "rate_limit_exceeded", Some(42)),
            Context::default(),
        );
        assert_eq!(described.body.retry_after_seconds, Some(42));
        assert_eq!(described.body.status, Some(429));
        assert_eq!(described.body.request_id.as_deref(), Some("req_abc"));
    }
}
