//! What is checked on every line and body a transport writes, and what
//! was found. A check records a finding rather than stopping the walk, so
//! one run reports every invariant that broke, grouped by check.

use std::collections::{BTreeMap, HashSet};

use cstar_mcp::sandbox::{self, HOSTILE_SAMPLES};
use cstar_mcp::tools::egress::MESSAGE_BUDGET;
use pulldown_cmark::{Event, Options, Parser, Tag};
use serde_json::{Value, json};

use super::exposure::Exposure;
use super::walk::{Answered, Request};

/// Headings the resource renderer writes (`resources::documents`): the
/// title of each kind of document and its sections.
const HEADINGS: [&str; 4] = [
    "# Ticket: ",
    "# Customer: ",
    "# Article: ",
    "## Notes (internal)",
];

/// The section heading of a thread's message: `## Message N: `.
const MESSAGE_HEADING: (&str, &str) = ("## Message ", ": ");

/// True when `text` holds any of the sandbox's keys: none may leave.
pub(super) fn holds_a_key(text: &str) -> bool {
    sandbox::DEMO_KEYS
        .iter()
        .any(|demo| text.contains(demo.key))
}

/// Findings of one transport.
pub(super) struct Checks {
    pub(super) transport: &'static str,
    pub(super) scenario: String,
    /// Lines or bodies checked.
    pub(super) messages: usize,
    /// Of those: errors (JSON-RPC errors and `isError` results), Markdown
    /// texts, progress notifications.
    pub(super) errors: usize,
    pub(super) markdown: usize,
    pub(super) progress: usize,
    pub(super) findings: Vec<Finding>,
    /// Personal data seen, when the walk looks for it.
    pub(super) exposure: Option<Exposure>,
}

/// One broken invariant: which check, where, what was seen.
pub(super) struct Finding {
    check: &'static str,
    place: String,
    seen: String,
}

impl Checks {
    pub(super) fn new(transport: &'static str) -> Self {
        Checks {
            transport,
            scenario: String::new(),
            messages: 0,
            errors: 0,
            markdown: 0,
            progress: 0,
            findings: Vec::new(),
            exposure: None,
        }
    }

    pub(super) fn fail(&mut self, at: &str, check: &'static str, seen: String) {
        self.findings.push(Finding {
            check,
            place: format!("{} | {} | {at}", self.transport, self.scenario),
            seen,
        });
    }

    /// Checks raw bytes (UTF-8, JSON, no hidden sequence, no key) and
    /// every string they decode to; the message when it is JSON. `at`
    /// names the place from the message (when it parsed).
    pub(super) fn wire(
        &mut self,
        raw: &[u8],
        at: impl FnOnce(Option<&Value>) -> String,
    ) -> Option<Value> {
        self.messages += 1;
        let Ok(text) = std::str::from_utf8(raw) else {
            self.fail(&at(None), "JSON-RPC", format!("not UTF-8: {}", lossy(raw)));
            return None;
        };
        let mut problems = Vec::new();
        for sequence in HOSTILE_SAMPLES.never_raw {
            if text.contains(sequence) {
                problems.push(("never_raw", format!("raw bytes hold {sequence:?}")));
            }
        }
        if holds_a_key(text) {
            problems.push(("API key", "raw bytes hold a key".to_owned()));
        }
        let message = serde_json::from_str::<Value>(text).ok();
        let at = at(message.as_ref());
        let Some(message) = message else {
            problems.push(("JSON-RPC", format!("not JSON: {}", short(text, 300))));
            for (check, what) in problems {
                self.fail(&at, check, what);
            }
            return None;
        };
        each_string(&message, &mut "$".to_owned(), &mut |path, string| {
            for sequence in HOSTILE_SAMPLES.never_raw {
                if string.contains(sequence) {
                    let what = format!("{path} holds {sequence:?}: {}", short(string, 200));
                    problems.push(("never_raw", what));
                }
            }
            if holds_a_key(string) {
                problems.push(("API key", format!("{path} holds a key")));
            }
            if let Some(exposure) = self.exposure.as_mut() {
                let place = format!("{} | {} | {at} | {path}", self.transport, self.scenario);
                exposure.scan(string, &place);
            }
        });
        for (check, what) in problems {
            self.fail(&at, check, what);
        }
        Some(message)
    }

    /// A JSON-RPC answer to `request`.
    pub(super) fn answer(&mut self, request: &Request, message: &Value) {
        let at = request.label();
        if message["jsonrpc"] != "2.0" {
            self.fail(
                &at,
                "JSON-RPC",
                format!("jsonrpc is {}", message["jsonrpc"]),
            );
        }
        match (message.get("result"), message.get("error")) {
            (Some(_), None) => {}
            (None, Some(error)) => {
                if !(error["code"].is_i64() && error["message"].is_string()) {
                    self.fail(
                        &at,
                        "JSON-RPC",
                        format!("a malformed error: {}", short(&error.to_string(), 300)),
                    );
                }
            }
            _ => self.fail(&at, "JSON-RPC", "not one of result and error".to_owned()),
        }
        self.size(message, &request.method, &at);
        let result = &message["result"];
        if message.get("error").is_some() || result["isError"] == true {
            self.errors += 1;
        }
        match request.method.as_str() {
            "resources/read" => {
                for contents in result["contents"].as_array().into_iter().flatten() {
                    if let Some(text) = contents["text"].as_str() {
                        let document = contents["mimeType"] == "text/markdown";
                        self.markdown(text, document, &at);
                    }
                }
            }
            "prompts/get" => {
                for message in result["messages"].as_array().into_iter().flatten() {
                    let content = &message["content"];
                    if let Some(text) = content["text"].as_str() {
                        self.markdown(text, false, &at);
                    }
                    if let Some(text) = content["resource"]["text"].as_str() {
                        let document = content["resource"]["mimeType"] == "text/markdown";
                        self.markdown(text, document, &at);
                    }
                }
            }
            _ => {}
        }
    }

    /// A notification on stdout: a method, and progress only for tokens sent.
    pub(super) fn notification(&mut self, message: &Value, tokens: &HashSet<i64>) {
        let method = message["method"].as_str().unwrap_or_default();
        if message["jsonrpc"] != "2.0" || !method.starts_with("notifications/") {
            self.fail(
                "stdout",
                "JSON-RPC",
                format!("neither answer nor notification: {message}"),
            );
        }
        if method == "notifications/progress" {
            self.progress += 1;
            let token = message["params"]["progressToken"].as_i64();
            if !token.is_some_and(|token| tokens.contains(&token)) {
                self.fail(
                    "stdout",
                    "JSON-RPC",
                    format!("progress for no call sent: {message}"),
                );
            }
        }
        self.size(message, method, method);
    }

    /// An HTTP error body that is not JSON-RPC: `{"error":{"code","message"}}`.
    pub(super) fn refusal(&mut self, message: &Value, status: u16, at: &str) {
        let error = &message["error"];
        let shaped = message.as_object().is_some_and(|body| body.len() == 1)
            && error.as_object().is_some_and(|error| error.len() == 2)
            && error["message"].is_string()
            && !error["code"].is_null();
        if !shaped || status < 400 {
            self.fail(
                at,
                "error shape",
                format!("{status} with {}", short(&message.to_string(), 300)),
            );
        }
        self.size(message, "", at);
    }

    /// Within the budget: a tool result's structured content and each
    /// text block (an error's blocks together), any other result, error or
    /// notification whole.
    pub(super) fn size(&mut self, message: &Value, method: &str, at: &str) {
        let compact = |value: &Value| value.to_string().len();
        let result = &message["result"];
        let mut sizes = Vec::new();
        if method == "tools/call" && result.is_object() {
            let texts: Vec<usize> = result["content"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|block| block["text"].as_str().map(str::len))
                .collect();
            match result.get("structuredContent") {
                Some(structured) => {
                    sizes.push(("structuredContent", compact(structured)));
                    sizes.extend(texts.iter().map(|size| ("a text block", *size)));
                }
                None => sizes.push(("the text blocks", texts.iter().sum::<usize>() + texts.len())),
            }
        } else {
            for part in ["result", "error", "params"] {
                if let Some(value) = message.get(part) {
                    sizes.push((part, compact(value)));
                }
            }
        }
        for (part, size) in sizes {
            if size > MESSAGE_BUDGET {
                self.fail(at, "budget", format!("{part} takes {size} bytes"));
            }
        }
    }

    /// Markdown with no structure but the renderer's: every heading one
    /// it writes, no HTML, no imitation at a line start outside a fence;
    /// a `document` (a resource) also has every line outside a fence
    /// start with the renderer's words.
    pub(super) fn markdown(&mut self, text: &str, document: bool, at: &str) {
        self.markdown += 1;
        let mut fence: Option<&str> = None;
        for (number, line) in text.split(is_break).enumerate() {
            if let Some(open) = fence {
                if line == open {
                    fence = None;
                }
                continue;
            }
            if document && line.starts_with("```") {
                let ticks = line.trim_end_matches(char::is_alphabetic);
                let info = &line[ticks.len()..];
                if !(ticks.chars().all(|c| c == '`') && ["text", "markdown"].contains(&info)) {
                    self.fail(
                        at,
                        "Markdown",
                        format!("line {number} opens no fence of ours: {line:?}"),
                    );
                }
                fence = Some(ticks);
                continue;
            }
            if line.starts_with('#') && !heading_is_ours(line) {
                self.fail(
                    at,
                    "Markdown",
                    format!("line {number} is a forged heading: {}", short(line, 200)),
                );
            }
            let ours = line.is_empty()
                || (number == 0 && line.starts_with("> "))
                || ["# ", "## ", "- ", "*"].iter().any(|p| line.starts_with(p));
            if document && !ours {
                self.fail(
                    at,
                    "Markdown",
                    format!("line {number} is not the renderer's: {}", short(line, 200)),
                );
            }
            for imitation in imitation_lines() {
                if line.starts_with(imitation) {
                    let what = format!(
                        "line {number} starts with an imitation: {}",
                        short(line, 200)
                    );
                    self.fail(at, "Markdown", what);
                }
            }
        }
        if fence.is_some() {
            self.fail(at, "Markdown", "a fence is left open".to_owned());
        }
        let options = Options::ENABLE_TABLES | Options::ENABLE_FOOTNOTES | Options::ENABLE_GFM;
        for (event, range) in Parser::new_ext(text, options).into_offset_iter() {
            match event {
                Event::Html(html) | Event::InlineHtml(html) => {
                    self.fail(at, "Markdown", format!("HTML: {}", short(&html, 200)));
                }
                Event::Start(Tag::Heading { .. }) if !heading_is_ours(&text[range.clone()]) => {
                    let heading = short(&text[range], 200);
                    self.fail(
                        at,
                        "Markdown",
                        format!("a heading not the renderer's: {heading}"),
                    );
                }
                _ => {}
            }
        }
    }

    /// On the hostile data, the visible samples arrive whole where the
    /// data puts them: the team's name, a ticket's title, an article's
    /// title, a document's title.
    pub(super) fn survivors(&mut self, answered: &Answered) {
        let mut places: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for (request, answer) in answered {
            let result = &answer["result"];
            let structured = &result["structuredContent"];
            let mut put = |place: &'static str, value: &Value| {
                if let Some(text) = value.as_str() {
                    places.entry(place).or_default().push(text.to_owned());
                }
            };
            match (request.method.as_str(), request.params["name"].as_str()) {
                ("tools/call", Some("cstar_get_status")) => {
                    put("the team's name", &structured["team"]["name"])
                }
                ("tools/call", Some("cstar_list_tickets")) => {
                    for ticket in structured["tickets"].as_array().into_iter().flatten() {
                        put("a ticket's title", &ticket["title"]);
                    }
                }
                ("resources/list", _) => {
                    for resource in result["resources"].as_array().into_iter().flatten() {
                        put("a resource's title", &resource["title"]);
                    }
                }
                ("resources/read", _) => {
                    for contents in result["contents"].as_array().into_iter().flatten() {
                        let title = contents["text"]
                            .as_str()
                            .and_then(|text| text.lines().find(|line| line.starts_with("# ")));
                        put("a document's title", &json!(title));
                    }
                }
                _ => {}
            }
        }
        for place in [
            "the team's name",
            "a ticket's title",
            "a resource's title",
            "a document's title",
        ] {
            let texts = places.get(place).cloned().unwrap_or_default();
            let whole = texts.iter().any(|text| {
                HOSTILE_SAMPLES
                    .must_survive
                    .iter()
                    .all(|sample| text.contains(sample))
            });
            if !whole {
                let missing: Vec<&&str> = HOSTILE_SAMPLES
                    .must_survive
                    .iter()
                    .filter(|sample| !texts.iter().any(|text| text.contains(**sample)))
                    .collect();
                self.fail(
                    place,
                    "must_survive",
                    format!("no text holds every sample; never seen: {missing:?}"),
                );
            }
        }
    }
}

/// A heading line the renderer writes: a known title or section, or a
/// message heading with its number.
fn heading_is_ours(line: &str) -> bool {
    let (message, colon) = MESSAGE_HEADING;
    let numbered = line.strip_prefix(message).is_some_and(|rest| {
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        digits > 0 && rest[digits..].starts_with(colon)
    });
    numbered || HEADINGS.iter().any(|heading| line.starts_with(heading))
}

/// Each line of each imitation, as it would start a line.
fn imitation_lines() -> impl Iterator<Item = &'static str> {
    HOSTILE_SAMPLES
        .imitations
        .iter()
        .flat_map(|imitation| imitation.split(is_break))
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with("```"))
}

/// Every line break a reader may see, CommonMark's or Unicode's.
fn is_break(c: char) -> bool {
    matches!(
        c,
        '\n' | '\r' | '\u{0B}' | '\u{0C}' | '\u{85}' | '\u{2028}' | '\u{2029}'
    )
}

/// Calls `check` with every string in `value` (keys too) and its path; a
/// string that holds JSON is decoded and walked as well.
fn each_string(value: &Value, path: &mut String, check: &mut impl FnMut(&str, &str)) {
    let length = path.len();
    match value {
        Value::String(text) => {
            check(path, text);
            let trimmed = text.trim_start();
            if (trimmed.starts_with('{') || trimmed.starts_with('['))
                && let Ok(inner) = serde_json::from_str::<Value>(text)
            {
                path.push_str("(as JSON)");
                each_string(&inner, path, check);
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                path.push_str(&format!("[{index}]"));
                each_string(item, path, check);
                path.truncate(length);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                path.push_str(" (a key)");
                check(path, key);
                path.truncate(length);
                path.push('.');
                path.push_str(key);
                each_string(item, path, check);
                path.truncate(length);
            }
        }
        _ => {}
    }
    path.truncate(length);
}

pub(super) fn lossy(bytes: &[u8]) -> String {
    short(&String::from_utf8_lossy(bytes), 300)
}

/// At most `max` characters of `text`, escaped to one line.
pub(super) fn short(text: &str, max: usize) -> String {
    let cut: String = text.chars().take(max).collect();
    let cut = format!("{cut:?}");
    if text.chars().count() > max {
        format!("{cut}…")
    } else {
        cut
    }
}

/// Findings grouped by check: how many, in how many places (transport,
/// scenario, request), and the first of each of a few places.
pub(super) fn summary(findings: &[Finding]) -> String {
    let mut groups: BTreeMap<&str, (usize, BTreeMap<&str, &str>)> = BTreeMap::new();
    for finding in findings {
        let (count, places) = groups.entry(finding.check).or_default();
        *count += 1;
        places.entry(&finding.place).or_insert(&finding.seen);
    }
    let mut out = String::new();
    for (check, (count, places)) in groups {
        out.push_str(&format!(
            "- {check}: {count} times in {} places, e.g.\n",
            places.len()
        ));
        for (place, seen) in places.iter().take(6) {
            out.push_str(&format!("    [{place}] {seen}\n"));
        }
    }
    out
}
