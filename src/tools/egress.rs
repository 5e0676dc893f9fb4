//! The one egress: every answer the server sends a client passes here,
//! whatever the transport, and is cleaned and bounded on the bytes that
//! leave.
//!
//! `Egress` wraps the MCP server that both transports run, so tool
//! results, their errors, resource reads, prompts, completion values,
//! lists and the JSON-RPC errors of every method cross it. Progress text
//! crosses `text`; the HTTP transport's own error bodies cross `quote`.
//! There:
//! - every string, object keys included, is cleaned of hidden text and
//!   escape sequences (`sanitize`); a key that cleaning changes is spelled
//!   out and never replaces another;
//! - with `--redact-pii`, personal data becomes pseudonyms (`crate::pii`),
//!   after cleaning and before fitting, so sizes still hold; pseudonyms in
//!   a request's arguments become values again before the server sees
//!   them, and one not issued to the request's key is refused;
//! - the whole message is fitted into `MESSAGE_BUDGET` bytes of JSON
//!   (`fit`), field by field, each cut marked.
//!
//! Tools still shape their results to fit (lowered pages, thread windows,
//! cut bodies with a way to read the rest); this is the guarantee behind
//! them, for data of any shape.

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, CompleteRequestParams, CompleteResult,
    ContentBlock, CustomRequest, CustomResult, ErrorData, GetPromptRequestParams,
    GetPromptResponse, ListPromptsResult, ListResourceTemplatesResult, ListResourcesResult,
    ListToolsResult, MetaObject, PaginatedRequestParams, ReadResourceRequestParams,
    ReadResourceResponse, ServerConfig, SubscriptionFilter, Tool,
};
use std::borrow::Cow;
use std::sync::Arc;

use rmcp::service::{RequestContext, SubscriptionContext};
use rmcp::{RoleServer, ServerHandler};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::CstarServer;
use super::errors::ToolError;
use super::fit::{cut_text, fit_value};
use super::sanitize::{clean, clean_value};
use crate::limits::quote;
use crate::pii::Table;
use crate::pii::learn::learning;
use crate::pii::redact::{self, Unknown};

/// The most bytes of JSON one result may take: below the 50,000
/// characters where Claude Code saves a result to a file, and the
/// 48,000 bytes past which Codex CLI cuts the middle out, with margin
/// (about 10,000 tokens).
pub const MESSAGE_BUDGET: usize = 38_000;

/// The most characters of a JSON-RPC error's message.
const ERROR_MESSAGE_CHARS: usize = 1_000;

/// The most bytes of a JSON-RPC error's data.
const ERROR_DATA_BUDGET: usize = 4_000;

/// A server whose answers may have personal data redacted: the pseudonym
/// table of the key a request is served with, when they do.
pub trait Redaction {
    fn pii_table(&self, request: &RequestContext<RoleServer>) -> Option<Arc<Table>>;
}

impl Redaction for CstarServer {
    fn pii_table(&self, request: &RequestContext<RoleServer>) -> Option<Arc<Table>> {
        CstarServer::pii_table(self, request)
    }
}

/// The MCP server with every answer sent through the egress. It stands
/// for the server it wraps in every method that server implements; the
/// others keep rmcp's defaults, which carry no data.
#[derive(Clone)]
pub struct Egress<S>(pub S);

impl<S: ServerHandler + Redaction> ServerHandler for Egress<S> {
    async fn call_tool(
        &self,
        mut request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let Some(table) = self.0.pii_table(&context) else {
            return match self.0.call_tool(request, context).await {
                Ok(CallToolResponse::Complete(result)) => Ok(finish_call(result, None).into()),
                other => other.map_err(|error| finish_error(error, None)),
            };
        };
        for (name, argument) in request.arguments.iter_mut().flatten() {
            if let Err(unknown) = redact::restore_value(&table, argument) {
                let refusal = ToolError::invalid_argument(
                    name,
                    unknown.to_string(),
                    "Copy pseudonyms exactly from this server's results.",
                );
                return Ok(finish_call(refusal.into_result(), Some(&table)).into());
            }
        }
        match learning(table.clone(), self.0.call_tool(request, context)).await {
            Ok(CallToolResponse::Complete(result)) => Ok(finish_call(result, Some(&table)).into()),
            other => other.map_err(|error| finish_error(error, Some(&table))),
        }
    }

    async fn list_tools(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        self.0
            .list_tools(request, context)
            .await
            .map_err(|error| finish_error(error, None))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.0.get_tool(name)
    }

    async fn list_resource_templates(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        finish(self.0.list_resource_templates(request, context).await, None)
    }

    async fn list_resources(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        let table = self.0.pii_table(&context);
        let answer = within(table.as_ref(), self.0.list_resources(request, context)).await;
        finish(answer, table.as_deref())
    }

    async fn read_resource(
        &self,
        mut request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let table = self.0.pii_table(&context);
        if let Some(table) = &table {
            let uri = redact::restore_uri(table, &request.uri).map_err(refused)?;
            request.uri = uri.into_owned();
        }
        match within(table.as_ref(), self.0.read_resource(request, context)).await {
            Ok(ReadResourceResponse::Complete(read)) => {
                through_json(read, table.as_deref()).map(Into::into)
            }
            other => other.map_err(|error| finish_error(error, table.as_deref())),
        }
    }

    async fn complete(
        &self,
        mut request: CompleteRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CompleteResult, ErrorData> {
        let table = self.0.pii_table(&context);
        // The value being typed stays as typed: it is matched against what
        // the picker shows, pseudonyms included, never against real values
        // (which would tell whoever types which names are customers).
        if let Some(table) = &table {
            for value in request
                .context
                .iter_mut()
                .flat_map(|context| context.arguments.iter_mut().flatten())
                .map(|(_, value)| value)
            {
                *value = restored(table, value)?;
            }
        }
        let answer = within(table.as_ref(), self.0.complete(request, context)).await;
        finish(answer, table.as_deref())
    }

    async fn list_prompts(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, ErrorData> {
        finish(self.0.list_prompts(request, context).await, None)
    }

    async fn get_prompt(
        &self,
        mut request: GetPromptRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, ErrorData> {
        let table = self.0.pii_table(&context);
        if let Some(table) = &table {
            for value in request.arguments.iter_mut().flatten().map(|(_, v)| v) {
                redact::restore_value(table, value).map_err(refused)?;
            }
        }
        match within(table.as_ref(), self.0.get_prompt(request, context)).await {
            Ok(GetPromptResponse::Complete(prompt)) => {
                through_json(prompt, table.as_deref()).map(Into::into)
            }
            other => other.map_err(|error| finish_error(error, table.as_deref())),
        }
    }

    async fn on_custom_request(
        &self,
        request: CustomRequest,
        context: RequestContext<RoleServer>,
    ) -> Result<CustomResult, ErrorData> {
        let table = self.0.pii_table(&context);
        finish(
            self.0.on_custom_request(request, context).await,
            table.as_deref(),
        )
    }

    fn accepted_subscription_filter(
        &self,
        requested: &SubscriptionFilter,
    ) -> Option<SubscriptionFilter> {
        self.0.accepted_subscription_filter(requested)
    }

    /// A listen stream carries only notifications without text.
    async fn listen(&self, subscription: SubscriptionContext) -> Result<(), ErrorData> {
        self.0
            .listen(subscription)
            .await
            .map_err(|error| finish_error(error, None))
    }

    fn get_info(&self) -> ServerConfig {
        self.0.get_info()
    }
}

/// Runs `work` learning customer names into `table`, when there is one.
async fn within<F: std::future::Future>(table: Option<&Arc<Table>>, work: F) -> F::Output {
    match table {
        Some(table) => learning(table.clone(), work).await,
        None => work.await,
    }
}

/// A pseudonym in a request's arguments that was not issued to its key:
/// invalid params.
fn refused(unknown: Unknown) -> ErrorData {
    ErrorData::invalid_params(unknown.to_string(), None)
}

/// `text` with this key's pseudonyms made values again.
fn restored(table: &Table, text: &str) -> Result<String, ErrorData> {
    redact::restore_text(table, text)
        .map(Cow::into_owned)
        .map_err(refused)
}

/// A result or error of a handler method, cleaned, redacted (with a
/// table) and fitted.
fn finish<T: Serialize + DeserializeOwned>(
    answer: Result<T, ErrorData>,
    table: Option<&Table>,
) -> Result<T, ErrorData> {
    answer
        .map_err(|error| finish_error(error, table))
        .and_then(|item| through_json(item, table))
}

/// `value` redacted with `table`, when there is one; true when it changed.
fn redact_value(value: &mut Value, table: Option<&Table>) -> bool {
    table.is_some_and(|table| redact::value(table, value))
}

/// `text` cleaned, and redacted with `table` when there is one.
fn clean_text<'a>(text: &'a str, table: Option<&Table>) -> Cow<'a, str> {
    let cleaned = clean(text);
    match table {
        None => cleaned,
        Some(table) => match redact::text(table, &cleaned) {
            Cow::Owned(redacted) => Cow::Owned(redacted),
            Cow::Borrowed(_) => cleaned,
        },
    }
}

/// A JSON-RPC error, cleaned, redacted and bounded.
fn finish_error(mut error: ErrorData, table: Option<&Table>) -> ErrorData {
    let message = quote(&clean_text(&error.message, table), ERROR_MESSAGE_CHARS);
    if message != error.message {
        error.message = message.into();
    }
    if let Some(data) = error.data.as_mut() {
        clean_value(data);
        redact_value(data, table);
        fit_value(data, ERROR_DATA_BUDGET);
    }
    error
}

/// Text the server sends outside a result (progress messages), redacted
/// with `table` when there is one.
pub fn text(text: &str, max_chars: usize, table: Option<&Table>) -> String {
    quote(&clean_text(text, table), max_chars)
}

/// A tool result: its structured content cleaned, redacted and fitted, its
/// text twin rewritten when that changed it; an error's text blocks
/// likewise, and its `_meta` (the JSON error body).
fn finish_call(mut result: CallToolResult, table: Option<&Table>) -> CallToolResult {
    if let Some(meta) = result.meta.take() {
        let mut value = Value::Object(meta.0);
        clean_value(&mut value);
        redact_value(&mut value, table);
        fit_value(&mut value, ERROR_DATA_BUDGET);
        if let Value::Object(map) = value {
            result.meta = Some(MetaObject(map));
        }
    }
    let structured = result.structured_content.as_mut().map(|value| {
        let cleaned = clean_value(value) | redact_value(value, table);
        let twin_size = match (&result.content[..], cleaned) {
            ([ContentBlock::Text(twin)], false) => twin.text.len(),
            _ => super::budget::size_of(value),
        };
        let fitted = twin_size > MESSAGE_BUDGET && fit_value(value, MESSAGE_BUDGET);
        cleaned || fitted
    });
    match structured {
        Some(true) => {
            let value = result.structured_content.as_ref();
            let twin = value
                .and_then(|value| serde_json::to_string(value).ok())
                .unwrap_or_default();
            result.content = vec![ContentBlock::text(twin)];
        }
        Some(false) => {}
        None => {
            let share = MESSAGE_BUDGET / result.content.len().max(1);
            for block in &mut result.content {
                if let ContentBlock::Text(text) = block {
                    text.text = cut_text(&clean_text(&text.text, table), share).into_owned();
                }
            }
        }
    }
    result
}

/// A result of any other kind, cleaned and fitted through its JSON form;
/// as it was when nothing changed. One that no longer reads as its type
/// after fitting is never sent uncleaned: it becomes an error.
fn through_json<T: Serialize + DeserializeOwned>(
    item: T,
    table: Option<&Table>,
) -> Result<T, ErrorData> {
    let Ok(mut value) = serde_json::to_value(&item) else {
        return Err(unsendable());
    };
    let changed = clean_value(&mut value)
        | redact_value(&mut value, table)
        | fit_value(&mut value, MESSAGE_BUDGET);
    if !changed {
        return Ok(item);
    }
    serde_json::from_value(value).map_err(|_| unsendable())
}

fn unsendable() -> ErrorData {
    ErrorData::internal_error(
        "The answer could not be fitted into this server's message budget.",
        None,
    )
}
