//! The MCP face of cstar-mcp: the nine cStar tools, grouped by resource.
//!
//! This module knows MCP (rmcp) and the typed client in `crate::api`, but
//! nothing of HTTP. Each tool checks its arguments, calls the client, and
//! returns a structured result, or an `isError` result worded by `errors`.
//! Schemas are derived from the parameter and result types and rewritten
//! once, at startup, into the subset every client accepts (`schema`).

mod args;
mod articles;
mod budget;
mod customers;
mod discovery;
pub mod egress;
pub mod errors;
pub mod exposure;
pub mod fit;
pub mod jsonrpc;
mod prompts;
mod resources;
mod result;
pub mod sanitize;
pub mod schema;
mod status;
mod tickets;
mod views;
mod webhooks;

use std::future::Future;
use std::sync::Arc;

use rmcp::ErrorData;
use rmcp::handler::server::tool::{ToolCallContext, ToolRouter};
use rmcp::model::{
    CacheScope, CallToolRequestParams, CallToolResponse, CompleteRequestParams, CompleteResult,
    CustomRequest, CustomResult, GetPromptRequestParams, GetPromptResponse, Implementation,
    ListPromptsResult, ListResourceTemplatesResult, ListResourcesResult, ListToolsResult,
    PaginatedRequestParams, ProgressNotificationParam, ProtocolVersion, ReadResourceRequestParams,
    ReadResourceResponse, ResultType, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{RoleServer, ServerHandler, tool_handler};

use crate::api;
use crate::api::secret::{ApiKey, KeyType};
use crate::api::{ApiError, Client};
use crate::pii::{Pseudonyms, Table};
use errors::{Context, KeyPlace, ToolError, describe};
use exposure::{Exposure, ToolFilter};

/// Finds the API key that an MCP request carries in its transport (HTTP
/// `Authorization`), if any. Supplied by the transport, so this module never
/// looks at HTTP itself.
pub type KeySource = Arc<dyn Fn(&RequestContext<RoleServer>) -> Option<ApiKey> + Send + Sync>;

/// How many requests that may call cStar (tool calls, resource reads,
/// prompts, completions) one process serves at once, over every
/// transport and thread; past it a request is refused with an error that
/// says to retry, so memory stays bounded whatever the clients send.
pub const MAX_CALLS_IN_FLIGHT: usize = 256;

/// How often a slow call says it is still waiting, when the client asked
/// for progress.
const HEARTBEAT: std::time::Duration = std::time::Duration::from_secs(5);

/// Sends `notifications/progress` for this request when its client sent a
/// progress token: one per line the call reports, counting up, redacted
/// with `table` when there is one.
fn progress_reporter(
    request: &RequestContext<RoleServer>,
    table: Option<Arc<Table>>,
) -> Option<api::progress::Reporter> {
    let token = request.meta.get_progress_token()?;
    let peer = request.peer.clone();
    let count = Arc::new(std::sync::atomic::AtomicU32::new(0));
    Some(Arc::new(move |message: String| {
        let step = count.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        let params = ProgressNotificationParam::new(token.clone(), f64::from(step))
            .with_message(egress::text(&message, 300, table.as_deref()));
        let peer = peer.clone();
        tokio::spawn(async move {
            if let Err(error) = peer.notify_progress(params).await {
                tracing::debug!(%error, "could not send a progress notification");
            }
        });
    }))
}

/// Refuses a cursor for a list that comes in one page: the server never
/// gave one, so the client's is not valid (-32602, as MCP asks).
fn one_page(request: Option<PaginatedRequestParams>) -> Result<(), ErrorData> {
    match request.and_then(|request| request.cursor) {
        Some(_) => Err(ErrorData::invalid_params(
            "unknown cursor: this list comes in one page and gives no cursor",
            None,
        )),
        None => Ok(()),
    }
}

/// What the server tells a client about itself at `initialize`.
/// The first 250 characters are all Codex shows before its tool search,
/// so they say what the server is for and when to use it.
const INSTRUCTIONS: &str = "cStar (cstar.help) customer support: use these tools when the user asks about support tickets and their messages, customers, \
knowledge-base articles, webhooks or the cStar API key. \
While a list's pagination.hasMore, call again with page=nextPage and pageSize=nextPageSize. \
cstar_create_ticket and cstar_trigger_webhook change data and need a secret key; cstar_get_status checks the key.";

/// Added to `INSTRUCTIONS` when personal data is redacted.
const PII_INSTRUCTIONS: &str = " Personal data (emails, phone numbers, card numbers, IBANs, IP addresses, customer names) is replaced by pseudonyms such as [email 3f9a] and [customer 81c2]: the same value always has the same one. \
Pass a pseudonym back as written in any argument (a search, a customer name, a ticket's text) and the server uses the real value.";

/// Added to the descriptions of the tools that take free text, when
/// personal data is redacted.
const PII_TOOL_NOTE: &str =
    " Personal data shows as pseudonyms like [email 3f9a]; pass them back as written.";

/// The MCP server: the cStar client, every tool, and the filter that decides
/// which of them each request may see.
#[derive(Clone)]
pub struct CstarServer {
    client: Arc<Client>,
    /// Serve each request with the key its transport carries (HTTP).
    key_source: Option<KeySource>,
    /// The two possible decisions, made once: for a secret key (or none)
    /// and for a publishable one.
    exposures: Arc<[Exposure; 2]>,
    /// Shared, not copied: the HTTP transport clones the server for every
    /// request.
    tool_router: Arc<ToolRouter<CstarServer>>,
    /// One permit per request in progress (`MAX_CALLS_IN_FLIGHT`), shared
    /// by every clone.
    in_flight: Arc<tokio::sync::Semaphore>,
    /// What resources/list and completion read, per key, shared by every
    /// clone.
    mentions: Arc<resources::mentions::Mentions>,
    /// With `--redact-pii`: every key's pseudonyms.
    pii: Option<Arc<Pseudonyms>>,
}

impl CstarServer {
    /// All nine tools, with the client's key.
    pub fn new(client: Arc<Client>) -> Self {
        Self::with_filter(client, &ToolFilter::default())
            .unwrap_or_else(|_| unreachable!("an empty filter names no tool"))
    }

    /// The tools `filter` leaves; the writes are also hidden from any
    /// request whose key is publishable. Fails on an unknown tool name,
    /// listing the valid ones.
    pub fn with_filter(client: Arc<Client>, filter: &ToolFilter) -> Result<Self, String> {
        let tool_router = Self::tool_router();
        let catalogue: Vec<(String, bool)> = tool_router
            .list_all()
            .into_iter()
            .map(|tool| {
                let read_only =
                    tool.annotations.as_ref().and_then(|a| a.read_only_hint) == Some(true);
                (tool.name.to_string(), read_only)
            })
            .collect();
        let exposures = [
            exposure::decide(&catalogue, filter, false)?,
            exposure::decide(&catalogue, filter, true)?,
        ];
        Ok(CstarServer {
            client,
            key_source: None,
            exposures: Arc::new(exposures),
            tool_router: Arc::new(tool_router),
            in_flight: Arc::new(tokio::sync::Semaphore::new(MAX_CALLS_IN_FLIGHT)),
            mentions: Arc::new(resources::mentions::Mentions::new(true, true)),
            pii: None,
        })
    }

    /// With `false`, resources/list holds only the articles: no recent
    /// tickets or customers (`--no-recent-resources`).
    pub fn with_recent_resources(mut self, listed: bool) -> Self {
        self.mentions = Arc::new(resources::mentions::Mentions::new(
            listed,
            self.key_source.is_none(),
        ));
        self
    }

    /// Redacts personal data in every answer (through `egress::Egress`),
    /// and says so in the instructions, the descriptions of the tools that
    /// take free text and `cstar_get_status`.
    pub fn with_redaction(mut self, pseudonyms: Arc<Pseudonyms>) -> Self {
        let mut router = Self::tool_router();
        for (name, route) in &mut router.map {
            if matches!(
                name.as_ref(),
                "cstar_list_tickets" | "cstar_list_customers" | "cstar_create_ticket"
            ) {
                let description = route.attr.description.as_deref().unwrap_or_default();
                route.attr.description = Some(format!("{description}{PII_TOOL_NOTE}").into());
            }
            if name == "cstar_get_status"
                && let Some(output) = &route.attr.output_schema
            {
                let mut output = (**output).clone();
                if let Some(serde_json::Value::Object(properties)) = output.get_mut("properties") {
                    properties.insert(
                        "piiRedaction".to_owned(),
                        serde_json::json!({ "type": "string" }),
                    );
                }
                route.attr.output_schema = Some(Arc::new(output));
            }
        }
        self.tool_router = Arc::new(router);
        self.pii = Some(pseudonyms);
        self
    }

    /// The pseudonym table of the key a request is served with, when
    /// personal data is redacted.
    pub fn pii_table(&self, request: &RequestContext<RoleServer>) -> Option<Arc<Table>> {
        let pseudonyms = self.pii.as_ref()?;
        Some(pseudonyms.table_for(self.request_key(request).as_ref()))
    }

    /// The same tools and exposure over another client (one with its own
    /// connection pool, for another runtime).
    pub fn over_client(&self, client: Arc<Client>) -> Self {
        CstarServer {
            client,
            ..self.clone()
        }
    }

    /// Serves each request with the API key `source` finds in it. A request
    /// in which it finds none is served with no key at all: never with the
    /// server's (fail closed).
    pub fn with_per_request_keys(mut self, source: KeySource) -> Self {
        self.key_source = Some(source);
        self.mentions = Arc::new(resources::mentions::Mentions::new(
            self.mentions.lists_recent(),
            false,
        ));
        self
    }

    /// The tools a client using the server's own key sees.
    pub fn listed_tools(&self) -> Vec<rmcp::model::Tool> {
        self.visible_tools(self.exposure_for(self.client.api_key()))
    }

    fn visible_tools(&self, exposure: &Exposure) -> Vec<rmcp::model::Tool> {
        let mut tools = self.tool_router.list_all();
        tools.retain(|tool| {
            !exposure
                .hidden
                .iter()
                .any(|name| name == tool.name.as_ref())
        });
        tools
    }

    /// What a request made with `key` may see and call.
    fn exposure_for(&self, key: Option<&ApiKey>) -> &Exposure {
        let publishable = key
            .and_then(ApiKey::kind)
            .is_some_and(|kind| kind.key_type == KeyType::Publishable);
        &self.exposures[usize::from(publishable)]
    }

    /// The key one request is served with: the one its transport carries,
    /// or the server's.
    fn request_key(&self, request: &RequestContext<RoleServer>) -> Option<ApiKey> {
        match &self.key_source {
            Some(source) => source(request),
            None => self.client.api_key().cloned(),
        }
    }

    /// The client for one request: the server's, or one with the key the
    /// request carries.
    fn client_for(&self, request: &RequestContext<RoleServer>) -> Arc<Client> {
        match &self.key_source {
            Some(source) => Arc::new(self.client.with_key(source(request))),
            None => self.client.clone(),
        }
    }

    /// All nine tools, with their schemas in the portable subset.
    pub fn tool_router() -> ToolRouter<Self> {
        let mut router = Self::ticket_tools()
            + Self::customer_tools()
            + Self::article_tools()
            + Self::webhook_tools()
            + Self::status_tools();
        for route in router.map.values_mut() {
            discovery::add_search_hints(&mut route.attr);
            let mut input = schema::portable(&route.attr.input_schema);
            schema::bound_enums(&mut input);
            // Unknown names are refused when the call arrives (`args`).
            input.remove("additionalProperties");
            route.attr.input_schema = Arc::new(input);
            if let Some(output) = &route.attr.output_schema {
                let mut slim = serde_json::Value::Object(schema::portable(output));
                schema::slim_output(&mut slim, true);
                if let serde_json::Value::Object(slim) = slim {
                    route.attr.output_schema = Some(Arc::new(slim));
                }
            }
        }
        router
    }

    /// A place among the requests in progress, or the busy error that
    /// says to retry.
    fn admit(&self) -> Result<tokio::sync::OwnedSemaphorePermit, ApiError> {
        self.in_flight
            .clone()
            .try_acquire_owned()
            .map_err(|_| ApiError::Busy {
                detail: format!("{MAX_CALLS_IN_FLIGHT} requests are in progress"),
            })
    }

    /// `admit` for the requests answered as JSON-RPC errors when refused.
    fn admit_request(&self) -> Result<tokio::sync::OwnedSemaphorePermit, ErrorData> {
        self.admit().map_err(|busy| {
            ErrorData::internal_error(format!("{busy}; try again in a few seconds"), None)
        })
    }

    /// Runs one client call, giving up when the client cancels the request
    /// (the HTTP request is dropped with it) and wording any failure.
    async fn call<T>(
        &self,
        request: &RequestContext<RoleServer>,
        context: Context<'_>,
        call: impl Future<Output = Result<T, ApiError>>,
    ) -> Result<T, ToolError> {
        let reporter = progress_reporter(request, self.pii_table(request));
        let heartbeat = reporter.clone();
        let work = api::progress::reporting(reporter, call);
        tokio::pin!(work);
        let result = match heartbeat {
            None => tokio::select! {
                biased;
                _ = request.ct.cancelled() => return Err(ToolError::cancelled()),
                result = &mut work => result,
            },
            Some(report) => {
                let started = tokio::time::Instant::now();
                let mut ticker = tokio::time::interval_at(started + HEARTBEAT, HEARTBEAT);
                loop {
                    tokio::select! {
                        biased;
                        _ = request.ct.cancelled() => return Err(ToolError::cancelled()),
                        result = &mut work => break result,
                        _ = ticker.tick() => report(format!(
                            "Still waiting for cStar ({} s so far)",
                            started.elapsed().as_secs()
                        )),
                    }
                }
            }
        };
        result.map_err(|error| {
            tracing::info!(
                code = error.code(),
                status = error.status(),
                "cStar call failed"
            );
            describe(&error, context)
        })
    }

    /// Runs a list call and turns its page into views and pagination.
    async fn page<T, V: serde::Serialize>(
        &self,
        request: &RequestContext<RoleServer>,
        call: impl Future<Output = Result<crate::api::models::Page<T>, ApiError>>,
        view: impl FnMut(T) -> V,
    ) -> Result<(Vec<V>, views::Pagination), ToolError> {
        let page = self.call(request, self.context(None, None), call).await?;
        let pagination = views::Pagination::of(&page);
        let views: Vec<V> = page.items.into_iter().map(view).collect();
        Ok(
            match budget::fitting_page(views, pagination.page, pagination.page_size) {
                (views, None) => (views, pagination),
                (views, Some(lowered)) => (views, pagination.lowered(lowered)),
            },
        )
    }

    fn context<'a>(
        &'a self,
        resource: Option<(&'a str, &'a str)>,
        list_tool: Option<&'a str>,
    ) -> Context<'a> {
        Context {
            resource,
            list_tool,
            base_url: self.client.base_url(),
            write: None,
            key_place: match self.key_source {
                Some(_) => KeyPlace::Header,
                None => KeyPlace::Environment,
            },
        }
    }

    /// The context of a write, saying what an unanswered attempt means.
    fn write_context<'a>(&'a self, write: errors::Write<'a>) -> Context<'a> {
        Context {
            write: Some(write),
            ..self.context(None, None)
        }
    }
}

// Every method implemented here is forwarded by `egress::Egress`, which
// clients actually talk to: a new one must be added there too.
#[tool_handler(router = self.tool_router)]
impl ServerHandler for CstarServer {
    /// Every tool result leaves through here, so `result::finish` sees all
    /// of them.
    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let metrics = crate::metrics::global();
        let _in_flight = metrics.call_in_flight();
        let exposure = self.exposure_for(self.request_key(&context).as_ref());
        let Some(tool) = self
            .tool_router
            .get(&request.name)
            .filter(|_| !exposure.hidden.iter().any(|name| *name == request.name))
        else {
            metrics.tool_call("unknown", "tool_not_found");
            let read_only = self.tool_router.get(&request.name).map(|tool| {
                tool.annotations
                    .as_ref()
                    .and_then(|hints| hints.read_only_hint)
                    .unwrap_or(false)
            });
            let visible = self.visible_tools(exposure);
            let visible: Vec<&str> = visible.iter().map(|tool| tool.name.as_ref()).collect();
            let refusal = exposure.refusal(&request.name, read_only, &visible);
            return Err(ErrorData::invalid_params(refusal, None));
        };
        let name = tool.name.clone();
        let admitted = self.admit();
        let response = match (
            admitted,
            args::check_limits(&tool.input_schema, request.arguments.as_ref()),
        ) {
            (Err(busy), _) => result::finish(
                describe(&busy, self.context(None, None))
                    .into_result()
                    .into(),
            ),
            (_, Err(error)) => result::finish(error.into_result().into()),
            (Ok(_permit), Ok(())) => {
                // Logs of the call carry the tool and the MCP request id.
                let span =
                    tracing::info_span!("tool_call", tool = %name, mcp_request_id = %context.id);
                let after = context.clone();
                let call = ToolCallContext::new(self, request, context);
                let response = tracing::Instrument::instrument(self.tool_router.call(call), span)
                    .await
                    .map(result::finish)?;
                if name == "cstar_create_ticket" && result::outcome(&response) == "ok" {
                    self.wrote_ticket(&after, &response).await;
                }
                response
            }
        };
        metrics.tool_call(&name, &result::outcome(&response));
        Ok(response)
    }

    /// The tools this request's key may use. Over HTTP the list depends on
    /// the caller's key, so it is marked private to that caller.
    async fn list_tools(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        one_page(request)?;
        let exposure = self.exposure_for(self.request_key(&context).as_ref());
        let hints = context
            .protocol_version()
            .is_some_and(|version| version >= ProtocolVersion::V_2026_07_28);
        let scope = match self.key_source {
            Some(_) => CacheScope::Private,
            None => CacheScope::Public,
        };
        Ok(ListToolsResult {
            result_type: Some(ResultType::COMPLETE),
            tools: self.visible_tools(exposure),
            meta: None,
            next_cursor: None,
            ttl_ms: hints.then_some(0),
            cache_scope: hints.then_some(scope),
        })
    }

    async fn list_resource_templates(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        one_page(request)?;
        Ok(ListResourceTemplatesResult::with_all_items(
            self.served_templates(&context),
        ))
    }

    async fn list_resources(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        let _permit = self.admit_request()?;
        Box::pin(self.resource_page(request.and_then(|r| r.cursor), &context)).await
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let _permit = self.admit_request()?;
        Box::pin(self.read(&request.uri, &context))
            .await
            .map(Into::into)
    }

    async fn complete(
        &self,
        request: CompleteRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CompleteResult, ErrorData> {
        let _permit = self.admit_request()?;
        Box::pin(self.completions(&request.r#ref, &request.argument, &context)).await
    }

    async fn list_prompts(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, ErrorData> {
        one_page(request)?;
        let exposure = self.exposure_for(self.request_key(&context).as_ref());
        Ok(ListPromptsResult::with_all_items(prompts::prompts(
            exposure,
        )))
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, ErrorData> {
        let _permit = self.admit_request()?;
        Box::pin(self.prompt(&request.name, request.arguments.as_ref(), &context))
            .await
            .map(Into::into)
    }

    /// rmcp reads a request whose params do not fit its method as a custom
    /// request: that is -32602 here, and only an unknown method is -32601.
    async fn on_custom_request(
        &self,
        request: CustomRequest,
        _context: RequestContext<RoleServer>,
    ) -> Result<CustomResult, ErrorData> {
        Err(jsonrpc::unserved(&request.method, request.params))
    }

    /// 2026-07-28 clients hear `list_changed` on a listen stream.
    fn accepted_subscription_filter(
        &self,
        _requested: &rmcp::model::SubscriptionFilter,
    ) -> Option<rmcp::model::SubscriptionFilter> {
        self.mentions.accepted()
    }

    async fn listen(
        &self,
        subscription: rmcp::service::SubscriptionContext,
    ) -> Result<(), ErrorData> {
        self.mentions.listen(subscription).await;
        Ok(())
    }

    fn get_info(&self) -> ServerConfig {
        let mut capabilities = ServerCapabilities::builder()
            .enable_tools()
            .enable_resources()
            .enable_prompts()
            .enable_completions()
            .build();
        if let Some(resources) = capabilities.resources.as_mut() {
            resources.list_changed = self.mentions.announces().then_some(true);
        }
        ServerConfig::new(capabilities)
            .with_server_info(
                Implementation::new(env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"))
                    .with_title("cStar")
                    .with_website_url("https://www.cstar.help"),
            )
            .with_instructions(match self.pii {
                Some(_) => format!("{INSTRUCTIONS}{PII_INSTRUCTIONS}"),
                None => INSTRUCTIONS.to_owned(),
            })
    }
}

#[cfg(test)]
mod instructions {
    use super::INSTRUCTIONS;

    #[test]
    fn the_first_250_characters_say_what_the_server_is_for_and_when_to_use_it() {
        let head: String = INSTRUCTIONS.chars().take(250).collect();
        for needle in [
            "cStar",
            "customer support",
            "use these tools when",
            "tickets",
            "customers",
            "articles",
            "webhooks",
        ] {
            assert!(head.contains(needle), "{needle:?} not in {head:?}");
        }
        let first_sentence = INSTRUCTIONS.split(". ").next().unwrap();
        assert!(first_sentence.chars().count() <= 250, "{first_sentence}");
    }

    #[test]
    fn instructions_stay_short() {
        assert!(INSTRUCTIONS.len() <= 400, "{} bytes", INSTRUCTIONS.len());
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;
    use serde_json::{Map, Value};

    use super::articles::ListArticlesParams;
    use super::customers::ListCustomersParams;
    use super::sanitize::clean;
    use super::tickets::{CreateTicketParams, ListTicketsParams};

    fn argument() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            "\\PC{0,20}".prop_map(Value::from),
            prop::collection::vec("[a-z]{0,5}".prop_map(Value::from), 0..3).prop_map(Value::Array),
        ]
    }

    fn arguments() -> impl Strategy<Value = Map<String, Value>> {
        let names = prop_oneof![
            Just("status"),
            Just("priority"),
            Just("page"),
            Just("pageSize"),
            Just("search"),
            Just("title"),
            Just("tags"),
            Just("category"),
            Just("isPublic"),
            Just("sentiment"),
            Just("bogus"),
        ];
        prop::collection::btree_map(names, argument(), 0..6)
            .prop_map(|map| map.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
    }

    proptest! {
        #[test]
        fn argument_parsing_never_panics(args in arguments()) {
            let value = Value::Object(args);
            let _ = serde_json::from_value::<ListTicketsParams>(value.clone());
            let _ = serde_json::from_value::<CreateTicketParams>(value.clone());
            let _ = serde_json::from_value::<ListCustomersParams>(value.clone());
            if let Ok(params) = serde_json::from_value::<ListArticlesParams>(value) {
                let _ = super::args::paging(params.page, params.page_size);
            }
        }

        #[test]
        fn cleaning_is_idempotent(text in "\\PC{0,40}|[\u{200B}-\u{200F}\u{202A}-\u{202E}\u{FE00}-\u{FE0F}\u{E0000}-\u{E007F}\u{1F3F4}\u{1F468}a-z\u{0627}-\u{064A}\u{094D}]{0,40}") {
            let cleaned = clean(&text).into_owned();
            prop_assert_eq!(clean(&cleaned), cleaned.as_str());
        }
    }
}
