//! What a person can `@`-mention, and completion of ids from the same reads.
//!
//! Claude Code reads a mentioned resource only when its exact URI is in
//! `resources/list`, so the first page of that list carries, besides the
//! articles, the `LISTED_TICKETS` unresolved tickets (new, open, pending)
//! most recently updated and the customers of those tickets. cStar's
//! whoami does not say which member owns a key, so "assigned to me" cannot
//! be chosen. The tickets come from one request (the newest 100 tickets),
//! the customers from the same tickets, with no request of their own.
//!
//! Every cStar read here goes through the per-key `cache`, so the
//! `completion/complete` Claude Code sends per keystroke costs at most one
//! list request per mention:
//! - `""`, `t`, `tk`, `tkt`, `tkt_` match every ticket: the first page,
//!   with cStar's `total`;
//! - a longer prefix, or words (matched against titles, customer names and
//!   slugs), filters the pages read so far, and reads the next page only
//!   while nothing matched (at most `MAX_INDEX_PAGES`);
//! - a complete id (`tkt_` and 32 hex digits) that no page read so far
//!   holds is asked for directly.
//!
//! Hex ids match in any case, and a UUID (which cStar accepts for an id)
//! is read as the kind's prefix and its hex digits.
//!
//! `total` is given only when it is known (every match was seen), and
//! `hasMore` is true only when more exist than were returned.
//!
//! Only the kinds served to the request (`kind_hidden_by`) are listed and
//! read here; completion of a hidden kind never gets this far.

use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, Mutex};

use rmcp::ErrorData;
use rmcp::RoleServer;
use rmcp::model::{CallToolResponse, CompletionInfo, ErrorCode, Resource, SubscriptionFilter};
use rmcp::service::{RequestContext, SubscriptionContext, SubscriptionSink};

use super::cache::{BUDGET, KeyDigest, KeyedCache, TTL, Weigh};
use super::hold::{Holds, noting_limit};
use super::{ARTICLES, CUSTOMERS, MARKDOWN, TICKETS};
use crate::api::ids::{IdKind, is_uuid};
use crate::api::models::CustomerQuery;
use crate::api::models::{Article, ArticleQuery, Customer, Page, Ticket, TicketQuery};
use crate::limits::quote;
use crate::pii::learn::{self, redacted};
use crate::tools::CstarServer;

/// How many tickets `resources/list` shows. Claude Code's picker shows 15
/// suggestions at a time, the user's files first; twenty recent tickets
/// and at most twenty customers keep the list to what a person is working
/// on without burying the files.
pub const LISTED_TICKETS: usize = 20;

/// How many list pages (of 100) completion reads for one kind.
pub const MAX_INDEX_PAGES: u32 = 10;

/// cStar's largest page.
const PAGE_SIZE: u32 = 100;

/// The statuses of a ticket still being worked on.
const UNRESOLVED: [&str; 3] = ["new", "open", "pending"];

/// The longest title, name or slug kept, in characters (what cStar takes
/// for a short field), so the cache stays bounded.
const FIELD_CHARS: usize = crate::limits::MAX_SHORT;

/// The longest status kept, in characters: cStar's are single words.
const STATUS_CHARS: usize = 40;

/// The longest article excerpt kept, in characters.
const EXCERPT_CHARS: usize = 1_000;

/// How much of a title and of a customer's name a listed ticket's name and
/// description show: Claude Code shows 60 characters of a description.
const SHOWN_TITLE: usize = 60;
const SHOWN_NAME: usize = 40;

/// What one cached read holds.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Read {
    /// A page of the list of a kind.
    Page(IdKind, u32),
    /// One record, by id (absent when cStar does not know it).
    One(IdKind, String),
}

/// One ticket, customer or article, as much as listing and completion use,
/// already cleaned, on one line and cut (`FIELD_CHARS`), so a page of the
/// largest records cStar allows is kept in about 1 MB.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Record {
    pub id: String,
    pub title: String,
    /// For a ticket: whether it is unresolved, and what a listing says.
    pub status: Option<String>,
    /// For a ticket: its customer's id and name.
    pub customer: Option<(Option<String>, String)>,
    pub updated_at: Option<String>,
    pub slug: Option<String>,
    pub excerpt: Option<String>,
}

/// A read: its records, and how many exist in all.
#[derive(Debug, Default)]
pub struct Listing {
    pub records: Vec<Record>,
    pub total: u64,
    pub has_more: bool,
}

impl Weigh for Record {
    fn heap_bytes(&self) -> usize {
        let text = |s: &String| s.capacity();
        let maybe = |s: &Option<String>| s.as_ref().map_or(0, String::capacity);
        std::mem::size_of::<Record>()
            + text(&self.id)
            + text(&self.title)
            + maybe(&self.status)
            + self
                .customer
                .as_ref()
                .map_or(0, |(id, name)| maybe(id) + text(name))
            + maybe(&self.updated_at)
            + maybe(&self.slug)
            + maybe(&self.excerpt)
    }
}

impl Weigh for Arc<Listing> {
    fn heap_bytes(&self) -> usize {
        let unused = self.records.capacity() - self.records.len();
        std::mem::size_of::<Listing>()
            + unused * std::mem::size_of::<Record>()
            + self.records.iter().map(Weigh::heap_bytes).sum::<usize>()
    }
}

/// The per-key reads, whether tickets and customers are listed, and
/// whether a change of that list is announced.
pub struct Mentions {
    cache: KeyedCache<Read, Arc<Listing>>,
    /// Keys cStar refused for their rate limit, asked nothing meanwhile.
    holds: Holds,
    list_recent: bool,
    announce: bool,
    /// Open `subscriptions/listen` streams (2026-07-28 clients hear
    /// `list_changed` only there).
    listeners: Mutex<Vec<SubscriptionSink>>,
}

/// How many listen streams are kept; a client opens one per connection.
const MAX_LISTENERS: usize = 16;

impl Mentions {
    /// `announce` is false over HTTP: it answers each request with plain
    /// JSON and keeps no session to tell later.
    pub fn new(list_recent: bool, announce: bool) -> Self {
        Mentions {
            cache: KeyedCache::new(TTL, BUDGET),
            holds: Holds::default(),
            list_recent,
            announce,
            listeners: Mutex::default(),
        }
    }

    /// The filter a `subscriptions/listen` is granted: resource-list
    /// changes, when they are announced at all.
    pub fn accepted(&self) -> Option<SubscriptionFilter> {
        self.announces().then(|| {
            SubscriptionFilter::builder()
                .resources_list_changed()
                .build()
        })
    }

    /// Serves one listen stream until the client closes it.
    pub async fn listen(&self, subscription: SubscriptionContext) {
        {
            let mut listeners = self.lock_listeners();
            listeners.retain(|sink| sink.id() != subscription.sink().id());
            if listeners.len() >= MAX_LISTENERS {
                listeners.remove(0);
            }
            listeners.push(subscription.sink().clone());
        }
        subscription.cancelled().await;
        let id = subscription.sink().id().clone();
        self.lock_listeners().retain(|sink| *sink.id() != id);
    }

    fn lock_listeners(&self) -> std::sync::MutexGuard<'_, Vec<SubscriptionSink>> {
        self.listeners
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Tells the client the list changed: on its listen streams when it
    /// opened any (2026-07-28), else as a plain notification.
    async fn announce_change(&self, context: &RequestContext<RoleServer>) {
        let sinks = self.lock_listeners().clone();
        if sinks.is_empty()
            && let Err(error) = context.peer.notify_resource_list_changed().await
        {
            tracing::debug!(%error, "could not send resources/list_changed");
        }
        for sink in sinks {
            if let Err(error) = sink.notify_resource_list_changed().await {
                tracing::debug!(%error, "could not send resources/list_changed on a listen stream");
            }
        }
    }

    pub fn lists_recent(&self) -> bool {
        self.list_recent
    }

    /// Whether `notifications/resources/list_changed` is ever sent, so
    /// whether the capability says `listChanged`.
    pub fn announces(&self) -> bool {
        self.list_recent && self.announce
    }
}

/// `text` cleaned, on one line, trimmed and bounded.
fn field(text: &str, max_chars: usize) -> String {
    quote(&redacted(super::plain(text).trim()), max_chars)
}

/// What a picker shows for a record: its title, shortened, or its id when
/// the title is blank (a picker cannot match an empty name).
fn shown<'a>(title: &'a str, id: &'a str, max_chars: usize) -> String {
    quote(if title.is_empty() { id } else { title }, max_chars)
}

impl Record {
    /// A redacting server learns the customer's name and redacts the
    /// fields here, as the record is read: what the cache keeps is what
    /// the key may be shown, and a field cut below is never cut mid-value.
    fn ticket(ticket: Ticket) -> Self {
        if let Some(name) = &ticket.customer_name {
            learn::customer(name);
        }
        Record {
            title: field(&ticket.title, FIELD_CHARS),
            status: Some(field(&ticket.status, STATUS_CHARS)),
            customer: ticket
                .customer_name
                .as_deref()
                .map(|name| (ticket.customer_id.clone(), field(name, FIELD_CHARS))),
            updated_at: ticket.updated_at.or(ticket.created_at),
            slug: None,
            excerpt: None,
            id: ticket.id,
        }
    }

    fn customer(customer: Customer) -> Self {
        learn::customer(&customer.name);
        Record {
            title: field(&customer.name, FIELD_CHARS),
            status: None,
            customer: None,
            updated_at: None,
            slug: None,
            excerpt: None,
            id: customer.id,
        }
    }

    fn article(article: Article) -> Self {
        Record {
            title: field(&article.title, FIELD_CHARS),
            status: None,
            customer: None,
            updated_at: None,
            slug: article.slug.as_deref().map(|s| field(s, FIELD_CHARS)),
            excerpt: article.excerpt.as_deref().map(|e| field(e, EXCERPT_CHARS)),
            id: article.id,
        }
    }

    /// Whether every word of `typed` is in the title, customer name, slug
    /// or id, ignoring case.
    fn has_words(&self, typed: &str) -> bool {
        let haystack = [
            Some(self.title.as_str()),
            self.customer.as_ref().map(|(_, name)| name.as_str()),
            self.slug.as_deref(),
            Some(self.id.as_str()),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
        typed
            .to_lowercase()
            .split_whitespace()
            .all(|word| haystack.contains(word))
    }

    fn unresolved(&self) -> bool {
        self.status
            .as_deref()
            .is_some_and(|status| UNRESOLVED.contains(&status))
    }
}

fn listing<T>(page: Page<T>, record: impl FnMut(T) -> Record) -> Listing {
    Listing {
        records: page.items.into_iter().map(record).collect(),
        total: page.total,
        has_more: page.has_more,
    }
}

/// The tickets `resources/list` shows, from the first page of tickets:
/// the unresolved ones most recently updated first.
fn listed_tickets(page: &Listing) -> Vec<&Record> {
    let mut tickets: Vec<&Record> = page.records.iter().filter(|t| t.unresolved()).collect();
    tickets.sort_by(|a, b| b.updated_at.cmp(&a.updated_at));
    tickets.truncate(LISTED_TICKETS);
    tickets
}

/// The customers of `tickets`, once each, in the tickets' order.
fn listed_customers<'a>(tickets: &[&'a Record]) -> Vec<(&'a str, &'a str)> {
    let mut seen = HashSet::new();
    tickets
        .iter()
        .filter_map(|t| match &t.customer {
            Some((Some(id), name)) => Some((id.as_str(), name.as_str())),
            _ => None,
        })
        .filter(|(id, _)| seen.insert(*id))
        .collect()
}

/// What the listed tickets and customers look like, as one number.
fn digest_of(tickets: &[&Record]) -> u64 {
    let mut hasher = DefaultHasher::new();
    tickets.hash(&mut hasher);
    hasher.finish()
}

/// Which kinds of record `resources/list` may offer: those whose reading
/// tool the server exposes to this key.
#[derive(Debug, Clone, Copy)]
struct Offered {
    tickets: bool,
    customers: bool,
}

/// The resources for the listed tickets and their customers, of the kinds
/// `offered`.
fn mention_resources(page: &Listing, offered: Offered) -> Vec<Resource> {
    let tickets = listed_tickets(page);
    let customers = if offered.customers {
        listed_customers(&tickets)
    } else {
        Vec::new()
    };
    let shown_tickets = if offered.tickets { &tickets[..] } else { &[] };
    let mut resources: Vec<Resource> = shown_tickets
        .iter()
        .map(|ticket| {
            let status = ticket.status.as_deref().unwrap_or("ticket");
            let title = shown(&ticket.title, &ticket.id, SHOWN_TITLE);
            let customer = ticket
                .customer
                .as_ref()
                .filter(|(_, name)| !name.is_empty());
            let (name, description) = match customer {
                Some((_, customer)) => {
                    let customer = quote(customer, SHOWN_NAME);
                    (
                        format!("{title} ({customer})"),
                        format!("{title} · {customer} · {status} ticket"),
                    )
                }
                None => (title.clone(), format!("{title} · {status} ticket")),
            };
            Resource::new(format!("{TICKETS}{}", ticket.id), name)
                .with_title(ticket.title.clone())
                .with_description(description)
                .with_mime_type(MARKDOWN)
        })
        .collect();
    resources.extend(customers.into_iter().map(|(id, name)| {
        let shown = shown(name, id, SHOWN_NAME);
        Resource::new(format!("{CUSTOMERS}{id}"), shown.clone())
            .with_title(name)
            .with_description(format!("{shown} · customer"))
            .with_mime_type(MARKDOWN)
    }));
    resources
}

/// An article as a resource.
fn article_resource(article: &Record) -> Resource {
    let name = article.slug.as_deref().unwrap_or(&article.id);
    let mut resource = Resource::new(format!("{ARTICLES}{}", article.id), name)
        .with_title(article.title.clone())
        .with_mime_type(MARKDOWN);
    if let Some(excerpt) = &article.excerpt {
        resource = resource.with_description(excerpt.clone());
    }
    resource
}

/// Whether a created ticket belongs among the listed ones: unresolved, or
/// of a status the answer does not show.
fn is_listable(created: &CallToolResponse) -> bool {
    let CallToolResponse::Complete(result) = created else {
        return true;
    };
    result
        .structured_content
        .as_ref()
        .and_then(|content| content["ticket"]["status"].as_str())
        .is_none_or(|status| UNRESOLVED.contains(&status))
}

/// True for a whole id: the kind's prefix and 32 hex digits.
fn is_whole_id(kind: IdKind, typed: &str) -> bool {
    typed
        .strip_prefix(kind.prefix())
        .is_some_and(|hex| hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// What was typed, in the form cStar's ids take, so that it matches them:
/// trimmed; a prefix and hex digits in any case in lower case (the hex
/// form's ids are lower case); a UUID (8-4-4-4-12, which cStar accepts for
/// an id) as the kind's prefix and its 32 hex digits. Anything else as
/// typed: other ids may mix cases.
fn as_id_form(kind: IdKind, typed: &str) -> String {
    let typed = typed.trim();
    if is_uuid(typed) {
        return format!(
            "{}{}",
            kind.prefix(),
            typed.replace('-', "").to_ascii_lowercase()
        );
    }
    let prefix = kind.prefix();
    match typed.get(..prefix.len()) {
        Some(head)
            if head.eq_ignore_ascii_case(prefix)
                && typed[prefix.len()..].bytes().all(|b| b.is_ascii_hexdigit()) =>
        {
            typed.to_ascii_lowercase()
        }
        _ => typed.to_owned(),
    }
}

/// Completion values, with `total` only when known.
fn completion(values: Vec<String>, total: Option<u64>) -> CompletionInfo {
    let returned = values.len().min(CompletionInfo::MAX_VALUES);
    let shown: Vec<String> = values.into_iter().take(returned).collect();
    let mut info = CompletionInfo::new(shown).unwrap_or_default();
    info.total = total.map(|t| u32::try_from(t).unwrap_or(u32::MAX));
    info.has_more = total.map(|t| t > returned as u64);
    info
}

impl CstarServer {
    fn key_digest(&self, context: &RequestContext<RoleServer>) -> Option<KeyDigest> {
        self.request_key(context).map(|key| key.digest())
    }

    /// A read, from the key's cache or from cStar. A fresh first page of
    /// tickets that changes the listed set tells this client, unless it is
    /// the list itself being built (`announce` false).
    async fn cached(
        &self,
        context: &RequestContext<RoleServer>,
        read: Read,
        announce: bool,
    ) -> Result<Arc<Listing>, ErrorData> {
        let wait = Mutex::new(None);
        let fetch = async {
            self.read_from_cstar(context, &read, &wait)
                .await
                .map(Arc::new)
        };
        let Some(key) = self.key_digest(context) else {
            return fetch.await;
        };
        if let Some(refusal) = self.mentions.holds.held(&key) {
            return Err(refusal);
        }
        let (listing, fetched) = match self.mentions.cache.get(&key, read.clone(), fetch).await {
            Ok(got) => got,
            Err(refusal) => {
                let limited = *wait
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                if let Some(wait) = limited {
                    self.mentions.holds.hold(key, wait, refusal.clone());
                }
                return Err(refusal);
            }
        };
        if fetched && read == Read::Page(IdKind::Ticket, 1) {
            let digest = digest_of(&listed_tickets(&listing));
            let before = self.mentions.cache.swap_listed(&key, digest);
            if announce && self.mentions.announces() && before.is_some_and(|b| b != digest) {
                self.mentions.announce_change(context).await;
            }
        }
        Ok(listing)
    }

    async fn read_from_cstar(
        &self,
        context: &RequestContext<RoleServer>,
        read: &Read,
        wait: &Mutex<Option<std::time::Duration>>,
    ) -> Result<Listing, ErrorData> {
        let client = self.client_for(context);
        match read {
            Read::Page(kind, page) => {
                let (page, page_size) = (Some(*page), Some(PAGE_SIZE));
                Ok(match kind {
                    IdKind::Ticket => {
                        let query = TicketQuery {
                            page,
                            page_size,
                            ..Default::default()
                        };
                        listing(
                            self.fetch(context, noting_limit(wait, client.list_tickets(&query)))
                                .await?,
                            Record::ticket,
                        )
                    }
                    IdKind::Customer => {
                        let query = CustomerQuery {
                            page,
                            page_size,
                            ..Default::default()
                        };
                        listing(
                            self.fetch(context, noting_limit(wait, client.list_customers(&query)))
                                .await?,
                            Record::customer,
                        )
                    }
                    IdKind::Article => {
                        let query = ArticleQuery {
                            page,
                            page_size,
                            ..Default::default()
                        };
                        listing(
                            self.fetch(context, noting_limit(wait, client.list_articles(&query)))
                                .await?,
                            Record::article,
                        )
                    }
                })
            }
            Read::One(kind, id) => {
                let found = match kind {
                    IdKind::Ticket => self
                        .fetch(context, noting_limit(wait, client.get_ticket(id)))
                        .await
                        .map(Record::ticket),
                    IdKind::Customer => self
                        .fetch(context, noting_limit(wait, client.get_customer(id)))
                        .await
                        .map(Record::customer),
                    IdKind::Article => self
                        .fetch(context, noting_limit(wait, client.get_article(id)))
                        .await
                        .map(Record::article),
                };
                match found {
                    Ok(record) => Ok(Listing {
                        records: vec![record],
                        total: 1,
                        has_more: false,
                    }),
                    Err(error) if error.code == ErrorCode::RESOURCE_NOT_FOUND => {
                        Ok(Listing::default())
                    }
                    Err(error) => Err(error),
                }
            }
        }
    }

    /// Forgets the tickets and customers read with this request's key, after
    /// a ticket was created with it, and tells the client its list changed
    /// when the new ticket belongs in it (unresolved): a resolved or closed
    /// one cannot change the list, and each notice makes Claude Code list
    /// again, a request against the key's limit.
    pub(in crate::tools) async fn wrote_ticket(
        &self,
        context: &RequestContext<RoleServer>,
        created: &CallToolResponse,
    ) {
        if let Some(key) = self.key_digest(context) {
            self.mentions.cache.forget(&key, |read| {
                !matches!(
                    read,
                    Read::Page(IdKind::Article, _) | Read::One(IdKind::Article, _)
                )
            });
        }
        if self.mentions.announces() && is_listable(created) {
            self.mentions.announce_change(context).await;
        }
    }

    /// One page of `resources/list`: the first holds the listed tickets and
    /// customers (unless switched off), then every page the articles of
    /// cStar's page of the same number. A ticket read that fails leaves
    /// the articles listed. Only kinds served to this request are listed
    /// and read (`kind_hidden_by`).
    pub(in crate::tools) async fn listed_resources(
        &self,
        page: u32,
        context: &RequestContext<RoleServer>,
    ) -> Result<(Vec<Resource>, bool), ErrorData> {
        let served = |kind| self.kind_hidden_by(kind, context).is_none();
        let offered = Offered {
            tickets: served(IdKind::Ticket),
            customers: served(IdKind::Customer),
        };
        let articles = if served(IdKind::Article) {
            self.cached(context, Read::Page(IdKind::Article, page), false)
                .await?
        } else {
            Arc::default()
        };
        let mut resources = Vec::new();
        if page == 1 && self.mentions.list_recent && (offered.tickets || offered.customers) {
            match self
                .cached(context, Read::Page(IdKind::Ticket, 1), false)
                .await
            {
                Ok(tickets) => resources = mention_resources(&tickets, offered),
                Err(error) => {
                    tracing::warn!(error = %error.message, "recent tickets left out of resources/list");
                }
            }
        }
        resources.extend(articles.records.iter().map(article_resource));
        Ok((resources, articles.has_more))
    }

    /// Ids of `kind` that complete `typed`.
    pub(in crate::tools) async fn complete_ids(
        &self,
        kind: IdKind,
        typed: &str,
        context: &RequestContext<RoleServer>,
    ) -> Result<CompletionInfo, ErrorData> {
        let typed = &as_id_form(kind, typed);
        let prefix = kind.prefix();
        if prefix.starts_with(typed.as_str()) {
            let first = self.cached(context, Read::Page(kind, 1), true).await?;
            let ids = first.records.iter().map(|r| r.id.clone()).collect();
            return Ok(completion(ids, Some(first.total)));
        }
        let by_id = typed.starts_with(prefix);
        let matches = |record: &&Record| {
            if by_id {
                record.id.starts_with(typed)
            } else {
                record.has_words(typed)
            }
        };
        let key = self.key_digest(context);
        let whole = is_whole_id(kind, typed);
        let mut found: Vec<String> = Vec::new();
        let mut complete = false;
        for page in 1..=MAX_INDEX_PAGES {
            let read = Read::Page(kind, page);
            // A whole id is asked for directly unless a page read before
            // holds it.
            let listing = if found.is_empty() && !whole {
                self.cached(context, read, true).await?
            } else {
                // Pages read before still count; no new request.
                match key.and_then(|key| self.mentions.cache.peek(&key, &read)) {
                    Some(listing) => listing,
                    None => break,
                }
            };
            found.extend(listing.records.iter().filter(matches).map(|r| r.id.clone()));
            if !listing.has_more {
                complete = true;
                break;
            }
        }
        // Asked even when every page was read: they may be up to `TTL`
        // old, and the id may be of a ticket made since (in the web app,
        // say) and pasted here.
        if whole && found.is_empty() {
            let one = self
                .cached(context, Read::One(kind, typed.to_owned()), true)
                .await?;
            let ids: Vec<String> = one.records.iter().map(|r| r.id.clone()).collect();
            let total = ids.len() as u64;
            return Ok(completion(ids, Some(total)));
        }
        let total = found.len() as u64;
        let mut info = completion(found, complete.then_some(total));
        if !complete {
            // Pages not read may hold more: claimed only when certain.
            info.has_more = (total > CompletionInfo::MAX_VALUES as u64).then_some(true);
        }
        Ok(info)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ticket(id: &str, status: &str, updated: &str, customer: Option<(&str, &str)>) -> Record {
        Record {
            id: id.to_owned(),
            title: format!("Title {id}"),
            status: Some(status.to_owned()),
            customer: customer.map(|(id, name)| (Some(id.to_owned()), name.to_owned())),
            updated_at: Some(updated.to_owned()),
            slug: None,
            excerpt: None,
        }
    }

    #[test]
    fn the_listed_tickets_are_the_unresolved_most_recently_updated_and_their_customers_once() {
        let mut records = vec![
            ticket("tkt_a", "open", "2026-01-01", Some(("cus_1", "Ann"))),
            ticket("tkt_b", "closed", "2026-01-09", Some(("cus_2", "Bo"))),
            ticket("tkt_c", "pending", "2026-01-05", Some(("cus_1", "Ann"))),
            ticket("tkt_d", "new", "2026-01-03", None),
        ];
        for n in 0..30 {
            records.push(ticket(&format!("tkt_x{n}"), "resolved", "2026-02-01", None));
        }
        let page = Listing {
            records,
            total: 34,
            has_more: false,
        };
        let tickets = listed_tickets(&page);
        let ids: Vec<&str> = tickets.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(ids, ["tkt_c", "tkt_d", "tkt_a"]);
        assert_eq!(listed_customers(&tickets), [("cus_1", "Ann")]);
        let all = Offered {
            tickets: true,
            customers: true,
        };
        let resources = mention_resources(&page, all);
        assert_eq!(resources[0].uri, "cstar://tickets/tkt_c");
        assert_eq!(resources[0].name, "Title tkt_c (Ann)");
        assert_eq!(resources[3].uri, "cstar://customers/cus_1");
    }

    #[test]
    fn total_and_has_more_claim_only_what_is_known() {
        let many: Vec<String> = (0..150).map(|n| n.to_string()).collect();
        let info = completion(many, Some(200));
        assert_eq!(
            (info.values.len(), info.total, info.has_more),
            (100, Some(200), Some(true))
        );
        let info = completion(vec!["a".into()], Some(1));
        assert_eq!((info.total, info.has_more), (Some(1), Some(false)));
        let info = completion(vec!["a".into()], None);
        assert_eq!((info.total, info.has_more), (None, None));
    }

    #[test]
    fn typed_ids_take_the_hex_forms_case_and_a_uuid_its_prefix() {
        let kind = IdKind::Ticket;
        assert_eq!(as_id_form(kind, " TKT_35C9 "), "tkt_35c9");
        assert_eq!(
            as_id_form(kind, "35C9511E-EA07-491D-8E67-BC6918CA86E0"),
            "tkt_35c9511eea07491d8e67bc6918ca86e0"
        );
        assert_eq!(as_id_form(kind, "tkt_01H8X9YZ"), "tkt_01H8X9YZ");
        assert_eq!(as_id_form(kind, "Printer JAM"), "Printer JAM");
        assert_eq!(as_id_form(kind, "tké"), "tké");
    }

    #[test]
    fn a_whole_id_is_the_prefix_and_32_hex_digits() {
        let id = "tkt_35c9511eea07491d8e67bc6918ca86e0";
        assert!(is_whole_id(IdKind::Ticket, id));
        assert!(!is_whole_id(IdKind::Ticket, &id[..20]));
        assert!(!is_whole_id(IdKind::Customer, id));
        assert!(!is_whole_id(
            IdKind::Ticket,
            "tkt_35c9511eea07491d8e67bc6918ca86zz"
        ));
    }
}
