//! The HTTP side of the client: auth headers, retries, timeouts, team
//! discovery and the endpoints the tools use.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use serde::Serialize;

use super::envelope::{decode_error, decode_list, decode_object, request_id_of};
use super::error::ApiError;
use super::flights::{self, Departure, Flights};
use super::ids::{IdKind, validate_id};
use super::lenient;
use super::models::{
    Article, ArticleQuery, Category, Customer, CustomerQuery, Message, NewTicket, Page, RateLimit,
    Ticket, TicketQuery, TriggerResult, WhoAmI,
};
use super::progress;
use super::retry::{Decision, Failure, RequestKind, RetryPolicy};
use super::secret::ApiKey;
use super::teams::TeamDirectory;
use super::unsettled::{UnsettledCreates, fingerprint};
use crate::loopback::is_loopback;

/// cStar's production host.
pub const DEFAULT_BASE_URL: &str = "https://www.cstar.help";
/// The API version this client is written against (`CStar-Version`).
pub const API_VERSION: &str = "2026-03-01";

/// How long a stop waits for creates in flight to settle.
const SETTLE_LIMIT: Duration = Duration::from_secs(30);

const USER_AGENT: &str = concat!("cstar-mcp/", env!("CARGO_PKG_VERSION"));

/// How to reach cStar.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub base_url: String,
    pub api_key: Option<ApiKey>,
    /// The team to address; discovered through whoami when absent.
    pub team_id: Option<String>,
    /// Limit for one attempt, from sending to the last body byte.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub retry: RetryPolicy,
}

impl ClientConfig {
    pub fn new(base_url: impl Into<String>, api_key: Option<ApiKey>) -> Self {
        ClientConfig {
            base_url: base_url.into(),
            api_key,
            team_id: None,
            timeout: Duration::from_secs(20),
            connect_timeout: Duration::from_secs(5),
            retry: RetryPolicy::default(),
        }
    }
}

/// The team behind the key, as whoami describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Team {
    pub whoami: WhoAmI,
    pub rate_limit: Option<RateLimit>,
}

/// A ticket a create made, with the idempotency key it was sent with.
#[derive(Debug, Clone, PartialEq)]
pub struct Created {
    pub ticket: Ticket,
    pub idempotency_key: String,
}

/// Why a create did not return a ticket.
#[derive(Debug, Clone, PartialEq)]
pub struct CreateFailure {
    pub error: ApiError,
    /// The idempotency key the create was sent with; `None` when it was
    /// refused before anything was sent, so no ticket can exist.
    pub sent_with_key: Option<String>,
}

/// A cStar API client. Cheap to share behind an `Arc`; all methods take `&self`.
#[derive(Debug)]
pub struct Client {
    http: reqwest::Client,
    config: ClientConfig,
    base_url: String,
    /// `base_url` parsed once: a call's URL only adds its path, so hosts
    /// are not parsed (IDNA included) on every request.
    base: reqwest::Url,
    last_rate_limit: Mutex<Option<RateLimit>>,
    /// Shared by every client made with `with_key`: the process's memory.
    unsettled: Arc<UnsettledCreates>,
    /// Shared like `unsettled`: creates running to their outcome.
    flights: Arc<Flights<Ticket>>,
    teams: Arc<TeamDirectory>,
    /// This client's team once known, so later calls skip the directory.
    team_id: OnceLock<String>,
}

struct Request<'a> {
    method: Method,
    path: String,
    query: Option<&'a (dyn erased::Query + Sync)>,
    body: Option<Vec<u8>>,
    kind: RequestKind,
    idempotency_key: Option<String>,
}

/// Lets `Request` hold any serialisable query without a generic parameter.
mod erased {
    pub trait Query {
        fn apply(&self, builder: reqwest::RequestBuilder) -> reqwest::RequestBuilder;
    }
    impl<T: serde::Serialize> Query for T {
        fn apply(&self, builder: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
            builder.query(self)
        }
    }
}

/// How many pages of categories a name lookup reads.
const MAX_CATEGORY_PAGES: u32 = 20;

/// The largest answer body read; a larger one is refused, not buffered.
pub const MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;

struct Answer {
    status: StatusCode,
    /// Redacted and repaired (`lenient`); empty when `oversized`.
    body: Vec<u8>,
    oversized: bool,
    request_id: Option<String>,
    retry_after: Option<Duration>,
}

/// A keep-alive HTTP client with the settings every call shares. It obeys
/// the proxy variables (`HTTPS_PROXY` and the like), except for a cStar on
/// loopback, such as the sandbox: a proxy would reach its own loopback.
fn connection_pool(config: &ClientConfig) -> Result<reqwest::Client, ApiError> {
    let builder = reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .connect_timeout(config.connect_timeout)
        .pool_idle_timeout(Duration::from_secs(60));
    match is_loopback(&config.base_url) {
        true => builder.no_proxy(),
        false => builder,
    }
    .build()
    .map_err(|e| ApiError::Network {
        attempts: 0,
        detail: format!("could not build the HTTP client: {e}"),
        sent: false,
    })
}

impl Client {
    pub fn new(config: ClientConfig) -> Result<Self, ApiError> {
        let http = connection_pool(&config)?;
        let base_url = config.base_url.trim_end_matches('/').to_owned();
        let base = reqwest::Url::parse(&base_url).map_err(|error| ApiError::Network {
            attempts: 0,
            detail: format!("the base URL '{base_url}' is not a URL: {error}"),
            sent: false,
        })?;
        Ok(Client {
            http,
            config,
            base_url,
            base,
            last_rate_limit: Mutex::new(None),
            unsettled: Arc::default(),
            flights: Arc::default(),
            teams: Arc::default(),
            team_id: OnceLock::new(),
        })
    }

    /// A client for another key that shares this one's connection pool,
    /// settings, team directory and memory of unsettled creates (both keep
    /// entries per key), but not the last rate limit seen. Used to serve
    /// each HTTP request with its own key.
    pub fn with_key(&self, api_key: Option<ApiKey>) -> Client {
        let config = ClientConfig {
            api_key,
            ..self.config.clone()
        };
        Client {
            http: self.http.clone(),
            config,
            base_url: self.base_url.clone(),
            base: self.base.clone(),
            last_rate_limit: Mutex::new(None),
            unsettled: self.unsettled.clone(),
            flights: self.flights.clone(),
            teams: self.teams.clone(),
            team_id: OnceLock::new(),
        }
    }

    /// The same client with a connection pool of its own, sharing the team
    /// directory and the memory of unsettled creates. A pool's connections
    /// are driven by the runtime that opened them, so each single-threaded
    /// runtime of the HTTP server gets its own, and a call never waits on
    /// another thread.
    pub fn with_own_pool(&self) -> Result<Client, ApiError> {
        Ok(Client {
            http: connection_pool(&self.config)?,
            ..self.with_key(self.config.api_key.clone())
        })
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn api_key(&self) -> Option<&ApiKey> {
        self.config.api_key.as_ref()
    }

    /// Waits, at most `SETTLE_LIMIT`, for the creates this process sent
    /// to settle, so a stop does not cut one off; logs any still open.
    pub async fn settle_creates(&self) {
        let open = self.flights.len();
        if open == 0 {
            return;
        }
        tracing::info!(open, "waiting for creates in flight to settle");
        if !self.flights.settle_all(SETTLE_LIMIT).await {
            tracing::warn!(
                open = self.flights.len(),
                "creates still in flight after {SETTLE_LIMIT:?}; their outcome is unknown"
            );
        }
    }

    /// The rate-limit headers of the most recent response.
    pub fn last_rate_limit(&self) -> Option<RateLimit> {
        self.last_rate_limit.lock().ok().and_then(|guard| *guard)
    }

    /// `GET /api/v1/auth/whoami`, with the rate-limit headers of that answer.
    pub async fn whoami(&self) -> Result<Team, ApiError> {
        let answer = self
            .send(Request::read("/api/v1/auth/whoami".to_owned(), None))
            .await?;
        let whoami: WhoAmI = decode(&answer, decode_object)?;
        self.teams.remember(self.key()?.digest(), whoami.clone());
        Ok(Team {
            whoami,
            rate_limit: self.last_rate_limit(),
        })
    }

    /// The team id from the configuration, or from the key's team.
    pub async fn team_id(&self) -> Result<String, ApiError> {
        if let Some(team_id) = self.config.team_id.as_ref().or(self.team_id.get()) {
            return Ok(team_id.clone());
        }
        let team_id = self.team().await?.team_id;
        Ok(self.team_id.get_or_init(|| team_id).clone())
    }

    /// The key's team as whoami describes it, asked once per key and
    /// process (`TeamDirectory`): concurrent first calls share one request.
    pub async fn team(&self) -> Result<WhoAmI, ApiError> {
        let digest = self.key()?.digest();
        self.teams
            .resolve(digest, || async {
                let answer = self
                    .send(Request::read("/api/v1/auth/whoami".to_owned(), None))
                    .await?;
                decode(&answer, decode_object)
            })
            .await
    }

    pub async fn list_tickets(&self, query: &TicketQuery) -> Result<Page<Ticket>, ApiError> {
        let path = self.team_path("tickets").await?;
        let answer = self.send(Request::read(path, Some(query))).await?;
        decode(&answer, decode_list)
    }

    pub async fn get_ticket(&self, ticket_id: &str) -> Result<Ticket, ApiError> {
        let id = checked_id(IdKind::Ticket, "ticketId", ticket_id)?;
        let path = self.team_path(&format!("tickets/{id}")).await?;
        let answer = self.send(Request::read(path, None)).await?;
        decode(&answer, decode_object)
    }

    pub async fn list_ticket_messages(&self, ticket_id: &str) -> Result<Vec<Message>, ApiError> {
        let id = checked_id(IdKind::Ticket, "ticketId", ticket_id)?;
        let path = self.team_path(&format!("tickets/{id}/messages")).await?;
        let answer = self.send(Request::read(path, None)).await?;
        decode(&answer, decode_list).map(|page: Page<Message>| page.items)
    }

    /// `POST /tickets` with an `Idempotency-Key` that is reused on every
    /// retry of this call, so a lost response never creates a second ticket.
    ///
    /// Once sent, the create runs to a settled outcome in a task of its own
    /// (`flights`): a caller that goes away does not cut it off, and an
    /// identical create meanwhile joins it. With the caller's own
    /// `idempotency_key`, that key is sent as it is. Without one, a key is
    /// made, and when no caller heard the create settle (no answer settled
    /// it, see `ApiError::leaves_outcome_unknown`, or every caller had
    /// left) it is kept in the process's `UnsettledCreates`: the next
    /// create with the same key, team and body reuses it, so a caller that
    /// tries again gets the original ticket. Either way the result names
    /// the key, and cStar replays it for 24 hours from any process.
    pub async fn create_ticket(
        self: &Arc<Self>,
        ticket: &NewTicket,
        idempotency_key: Option<&str>,
    ) -> Result<Created, CreateFailure> {
        self.create_ticket_noting(ticket, idempotency_key, &OnceLock::new())
            .await
    }

    /// `create_ticket`, noting in `sent_with` the idempotency key as soon
    /// as the create is on its way: a caller that stops waiting (cancelled,
    /// or the process stopping) can still name the key that finishes it.
    pub async fn create_ticket_noting(
        self: &Arc<Self>,
        ticket: &NewTicket,
        idempotency_key: Option<&str>,
        sent_with: &OnceLock<String>,
    ) -> Result<Created, CreateFailure> {
        let unsent = |error| CreateFailure {
            error,
            sent_with_key: None,
        };
        let path = self.team_path("tickets").await.map_err(unsent)?;
        let team = self.team_id().await.map_err(unsent)?;
        let body = serde_json::to_vec(ticket).map_err(|e| {
            unsent(ApiError::InvalidInput {
                param: "body".to_owned(),
                message: e.to_string(),
            })
        })?;
        let api_key = self.key().map_err(unsent)?;
        let print = fingerprint(api_key.expose(), &team, &body, idempotency_key);
        let own_key = idempotency_key.map(str::to_owned);
        let unsettled = self.unsettled.clone();
        let client = Arc::clone(self);
        let listening = Arc::new(());
        let reporter = progress::current().map(|report| {
            let caller = Arc::downgrade(&listening);
            let guarded: progress::Reporter = Arc::new(move |line: String| {
                if caller.strong_count() > 0 {
                    report(line);
                }
            });
            guarded
        });
        let boarding = self.flights.board(
            Departure {
                fingerprint: print,
                unsettled: own_key.is_none().then_some(&self.unsettled),
            },
            || match own_key {
                Some(key) => key,
                None => unsettled
                    .take(&print)
                    .unwrap_or_else(|| format!("cstar-mcp-{}", uuid::Uuid::new_v4().simple())),
            },
            move |key| {
                progress::reporting(reporter, async move {
                    let request = Request {
                        method: Method::POST,
                        path,
                        query: None,
                        body: Some(body),
                        kind: RequestKind::IdempotentWrite,
                        idempotency_key: Some(key),
                    };
                    client
                        .send(request)
                        .await
                        .and_then(|answer| decode(&answer, decode_object))
                })
            },
        );
        let (key, outcome) = match boarding {
            flights::Boarding::Refused(error) => return Err(unsent(error)),
            flights::Boarding::Waiting {
                idempotency_key,
                outcome,
            } => (idempotency_key, outcome),
        };
        let _ = sent_with.set(key.clone());
        let settled = outcome.await.unwrap_or_else(|_| {
            Err(ApiError::Network {
                attempts: 1,
                detail: "the create stopped before cStar answered".to_owned(),
                sent: true,
            })
        });
        drop(listening);
        match settled {
            Ok(ticket) => Ok(Created {
                ticket,
                idempotency_key: key,
            }),
            Err(error) => Err(CreateFailure {
                error,
                sent_with_key: Some(key),
            }),
        }
    }

    pub async fn list_customers(&self, query: &CustomerQuery) -> Result<Page<Customer>, ApiError> {
        let path = self.team_path("customers").await?;
        let answer = self.send(Request::read(path, Some(query))).await?;
        decode(&answer, decode_list)
    }

    pub async fn get_customer(&self, customer_id: &str) -> Result<Customer, ApiError> {
        let id = checked_id(IdKind::Customer, "customerId", customer_id)?;
        let path = self.team_path(&format!("customers/{id}")).await?;
        let answer = self.send(Request::read(path, None)).await?;
        decode(&answer, decode_object)
    }

    pub async fn list_articles(&self, query: &ArticleQuery) -> Result<Page<Article>, ApiError> {
        let path = self.team_path("articles").await?;
        let answer = self.send(Request::read(path, Some(query))).await?;
        decode(&answer, decode_list)
    }

    /// Every category, following pages until cStar says there are no more
    /// (at most `MAX_CATEGORY_PAGES` of 100).
    /// `GET /articles/{id}`: one article with its full body.
    pub async fn get_article(&self, article_id: &str) -> Result<Article, ApiError> {
        let id = checked_id(IdKind::Article, "articleId", article_id)?;
        let path = self.team_path(&format!("articles/{id}")).await?;
        let answer = self.send(Request::read(path, None)).await?;
        decode(&answer, decode_object)
    }

    pub async fn list_categories(&self) -> Result<Vec<Category>, ApiError> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct PageQuery {
            page: u32,
            page_size: u32,
        }
        let path = self.team_path("categories").await?;
        let mut categories = Vec::new();
        for page in 1..=MAX_CATEGORY_PAGES {
            let query = PageQuery {
                page,
                page_size: 100,
            };
            let answer = self.send(Request::read(path.clone(), Some(&query))).await?;
            let found: Page<Category> = decode(&answer, decode_list)?;
            let more = found.has_more && !found.items.is_empty();
            categories.extend(found.items);
            if !more {
                break;
            }
        }
        Ok(categories)
    }

    /// `POST /webhooks/trigger-test`: fires a synthetic event. Never retried
    /// once sent, since a retry would deliver the event twice.
    pub async fn trigger_test_event(&self, event: &str) -> Result<TriggerResult, ApiError> {
        #[derive(Serialize)]
        struct Body<'a> {
            event: &'a str,
        }
        let path = self.team_path("webhooks/trigger-test").await?;
        let body = serde_json::to_vec(&Body { event }).map_err(|e| ApiError::InvalidInput {
            param: "event".to_owned(),
            message: e.to_string(),
        })?;
        let request = Request {
            method: Method::POST,
            path,
            query: None,
            body: Some(body),
            kind: RequestKind::UnsafeWrite,
            idempotency_key: None,
        };
        let answer = self.send(request).await?;
        decode(&answer, decode_object)
    }

    async fn team_path(&self, rest: &str) -> Result<String, ApiError> {
        self.key()?;
        let team = self.team_id().await?;
        Ok(format!("/api/v1/teams/{team}/{rest}"))
    }

    /// The base URL with `path` appended to its own path.
    fn url_for(&self, path: &str) -> reqwest::Url {
        let mut url = self.base.clone();
        url.set_path(&format!(
            "{}{}",
            self.base.path().trim_end_matches('/'),
            path
        ));
        url
    }

    fn key(&self) -> Result<&ApiKey, ApiError> {
        let key = self.config.api_key.as_ref().ok_or(ApiError::MissingKey)?;
        key.kind().ok_or(ApiError::MalformedKey)?;
        Ok(key)
    }

    async fn send(&self, request: Request<'_>) -> Result<Answer, ApiError> {
        let key = self.key()?;
        let url = self.url_for(&request.path);
        let mut attempt = 0;
        // Whether any attempt got past connecting: until then nothing was sent.
        let mut reached = false;
        loop {
            attempt += 1;
            let failure = match self.attempt(key, &url, &request).await {
                Ok(answer) if answer.status.is_success() => return Ok(answer),
                Ok(answer) => {
                    reached = true;
                    let mut error = decode_error(
                        answer.status.as_u16(),
                        &answer.body,
                        answer.request_id.clone(),
                        answer.retry_after,
                    );
                    error.attempts = attempt;
                    let failure = Failure::Status {
                        status: error.status,
                        retry_after: error.retry_after,
                    };
                    match self
                        .config
                        .retry
                        .decide(request.kind, attempt, failure, jitter())
                    {
                        Decision::RetryAfter(wait) => {
                            tracing::debug!(status = error.status, attempt, ?wait, "retrying");
                            crate::metrics::global().retry(error.status == 429);
                            let max = self.config.retry.max_attempts;
                            progress::report(|| {
                                format!(
                                    "cStar returned {}, retrying in {} (attempt {} of {max})",
                                    error.status,
                                    seconds(wait),
                                    attempt + 1
                                )
                            });
                            tokio::time::sleep(wait).await;
                            continue;
                        }
                        Decision::GiveUp => {
                            if error.status == 429 {
                                crate::metrics::global().rate_limit_reported();
                            }
                            return Err(ApiError::Status(Box::new(error)));
                        }
                    }
                }
                Err(failure) => {
                    reached |= failure.0 != Failure::Connect;
                    failure
                }
            };
            match self
                .config
                .retry
                .decide(request.kind, attempt, failure.0, jitter())
            {
                Decision::RetryAfter(wait) => {
                    tracing::debug!(failure = ?failure.0, attempt, ?wait, "retrying");
                    crate::metrics::global().retry(false);
                    let max = self.config.retry.max_attempts;
                    let what = match failure.0 {
                        Failure::Timeout => "cStar did not answer in time",
                        _ => "Could not reach cStar",
                    };
                    progress::report(|| {
                        format!(
                            "{what}, retrying in {} (attempt {} of {max})",
                            seconds(wait),
                            attempt + 1
                        )
                    });
                    tokio::time::sleep(wait).await;
                }
                Decision::GiveUp => {
                    return Err(match failure.0 {
                        Failure::Timeout => ApiError::Timeout { attempts: attempt },
                        _ => ApiError::Network {
                            attempts: attempt,
                            detail: failure.1,
                            sent: reached,
                        },
                    });
                }
            }
        }
    }

    /// One attempt: an answer with any status, or a transport failure.
    async fn attempt(
        &self,
        key: &ApiKey,
        url: &reqwest::Url,
        request: &Request<'_>,
    ) -> Result<Answer, (Failure, String)> {
        let mut builder = self
            .http
            .request(request.method.clone(), url.clone())
            .bearer_auth(key.expose())
            .header("CStar-Version", HeaderValue::from_static(API_VERSION))
            .header(
                reqwest::header::ACCEPT,
                HeaderValue::from_static("application/json"),
            )
            .timeout(self.config.timeout);
        if let Some(query) = request.query {
            builder = query.apply(builder);
        }
        if let Some(body) = &request.body {
            builder = builder
                .header("Content-Type", "application/json")
                .body(body.clone());
        }
        if let Some(idempotency_key) = &request.idempotency_key {
            builder = builder.header("Idempotency-Key", idempotency_key);
        }
        let started = std::time::Instant::now();
        let response = builder.send().await;
        crate::metrics::global().upstream_request(started.elapsed().as_secs_f64());
        let response = response.map_err(transport_failure)?;
        let status = response.status();
        let headers = response.headers();
        self.record_rate_limit(headers);
        let header_request_id = header_str(headers, "x-cstar-request-id");
        let retry_after = header_str(headers, "retry-after")
            .and_then(|value| value.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let (body, oversized) = read_capped(response).await?;
        let body = lenient::clean_body(body, key.expose());
        let request_id = header_request_id.or_else(|| request_id_of(&body));
        Ok(Answer {
            status,
            body,
            oversized,
            request_id,
            retry_after,
        })
    }

    fn record_rate_limit(&self, headers: &HeaderMap) {
        let number =
            |name: &str| header_str(headers, name).and_then(|v| v.trim().parse::<u64>().ok());
        let (Some(limit), Some(remaining)) =
            (number("x-ratelimit-limit"), number("x-ratelimit-remaining"))
        else {
            return;
        };
        let rate_limit = RateLimit {
            limit,
            remaining,
            reset: number("x-ratelimit-reset"),
            window_seconds: number("x-ratelimit-window"),
        };
        if let Ok(mut last) = self.last_rate_limit.lock() {
            *last = Some(rate_limit);
        }
    }
}

impl<'a> Request<'a> {
    fn read(path: String, query: Option<&'a (dyn erased::Query + Sync)>) -> Self {
        Request {
            method: Method::GET,
            path,
            query,
            body: None,
            kind: RequestKind::Read,
            idempotency_key: None,
        }
    }
}

fn checked_id(kind: IdKind, param: &str, raw: &str) -> Result<String, ApiError> {
    validate_id(kind, raw).map_err(|invalid| ApiError::InvalidInput {
        param: param.to_owned(),
        message: invalid.message,
    })
}

/// The body, read up to `MAX_RESPONSE_BYTES`; past that it is dropped and
/// the answer marked oversized.
async fn read_capped(
    mut response: reqwest::Response,
) -> Result<(Vec<u8>, bool), (Failure, String)> {
    if response
        .content_length()
        .is_some_and(|length| length > MAX_RESPONSE_BYTES as u64)
    {
        return Ok((Vec::new(), true));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(transport_failure)? {
        if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Ok((Vec::new(), true));
        }
        body.extend_from_slice(&chunk);
    }
    Ok((body, false))
}

fn decode<T>(answer: &Answer, decoder: impl Fn(&[u8]) -> Result<T, String>) -> Result<T, ApiError> {
    if answer.oversized {
        return Err(ApiError::Decode {
            status: answer.status.as_u16(),
            request_id: answer.request_id.clone(),
            detail: format!(
                "the answer is larger than the {} MiB this server reads",
                MAX_RESPONSE_BYTES / (1024 * 1024)
            ),
        });
    }
    decoder(&answer.body).map_err(|detail| ApiError::Decode {
        status: answer.status.as_u16(),
        request_id: answer.request_id.clone(),
        detail,
    })
}

fn header_str(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|value: &HeaderValue| value.to_str().ok())
        .map(str::to_owned)
}

/// Classifies a reqwest error. The detail never contains the key: reqwest
/// errors name the URL, and the key travels only in a header.
fn transport_failure(error: reqwest::Error) -> (Failure, String) {
    let failure = if error.is_timeout() {
        Failure::Timeout
    } else if error.is_connect() {
        Failure::Connect
    } else {
        Failure::Interrupted
    };
    (failure, describe(&error))
}

fn describe(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// A wait as a person reads it: "2 s", "0.3 s".
fn seconds(wait: Duration) -> String {
    let seconds = wait.as_secs_f64();
    if seconds >= 1.0 {
        format!("{} s", seconds.round())
    } else {
        format!("{seconds:.1} s")
    }
}

/// A number in `[0, 1)` for retry jitter.
fn jitter() -> f64 {
    (uuid::Uuid::new_v4().as_u128() as u64 >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(base_url: &str) -> Client {
        Client::new(ClientConfig::new(base_url, None)).unwrap()
    }

    #[test]
    fn paths_join_the_base_url_and_its_own_path() {
        let path = "/api/v1/teams/t1/tickets/tkt_1";
        for (base, expected) in [
            (
                "https://www.cstar.help",
                "https://www.cstar.help/api/v1/teams/t1/tickets/tkt_1",
            ),
            (
                "https://www.cstar.help/",
                "https://www.cstar.help/api/v1/teams/t1/tickets/tkt_1",
            ),
            (
                "http://127.0.0.1:9/cstar/",
                "http://127.0.0.1:9/cstar/api/v1/teams/t1/tickets/tkt_1",
            ),
            (
                "http://127.0.0.1:9/a/b",
                "http://127.0.0.1:9/a/b/api/v1/teams/t1/tickets/tkt_1",
            ),
        ] {
            assert_eq!(client(base).url_for(path).as_str(), expected, "{base}");
        }
    }

    #[test]
    fn a_base_url_that_does_not_parse_is_refused_when_the_client_is_built() {
        let error = Client::new(ClientConfig::new("http://exa mple.com", None)).unwrap_err();
        assert!(error.to_string().contains("not a URL"), "{error}");
    }
}
