//! What the walk sends, found from the server itself: the four lists
//! (following cursors), every tool that needs no argument (and the next
//! page it names), then every call, read, prompt and completion the lists
//! declare, filled from each declaration with ids found in those results
//! or with hostile text.

use std::collections::BTreeMap;

use cstar_mcp::sandbox::HOSTILE_SAMPLES;
use serde_json::{Map, Value, json};

use super::checks::{Checks, short};
use super::wire::Session;

/// One request of the walk.
#[derive(Debug, Clone)]
pub(super) struct Request {
    pub(super) method: String,
    pub(super) params: Value,
}

impl Request {
    pub(super) fn new(method: &str, params: Value) -> Self {
        Request {
            method: method.to_owned(),
            params,
        }
    }

    /// The request in a line of a report.
    pub(super) fn label(&self) -> String {
        let name = ["name", "uri", "cursor"]
            .iter()
            .find_map(|key| self.params[key].as_str())
            .or_else(|| self.params["ref"]["uri"].as_str())
            .or_else(|| self.params["ref"]["name"].as_str())
            .unwrap_or_default();
        short(&format!("{} {name}", self.method), 120)
    }
}

/// An answer and the request it answers.
pub(super) type Answered = Vec<(Request, Value)>;

/// Walks the lists (following cursors), calls every tool that needs no
/// argument, takes ids from what they return, then reads, gets, calls and
/// completes everything the lists declare. Returns the whole walk, to be
/// repeated under each fault.
pub(super) async fn discover(session: &mut Session, checks: &mut Checks) -> Vec<Request> {
    let mut plan: Vec<Request> = [
        "tools/list",
        "resources/list",
        "resources/templates/list",
        "prompts/list",
    ]
    .iter()
    .map(|method| Request::new(method, json!({})))
    .collect();
    let mut answered = session.exchange(&plan, checks).await;
    let mut next = more_pages(&answered);
    while !next.is_empty() {
        let more = session.exchange(&next, checks).await;
        plan.append(&mut next);
        next = more_pages(&more);
        answered.extend(more);
    }
    let surfaces = Surfaces::from(&answered);

    // Lists first: the ids the other calls need come from their results.
    let listing: Vec<Request> = surfaces
        .tools
        .iter()
        .filter(|tool| required(tool).is_empty())
        .map(|tool| tool_call(tool, &Found::default(), Fill::Required))
        .collect();
    let mut listed = session.exchange(&listing, checks).await;
    let next_pages = next_pages(&listed);
    listed.extend(session.exchange(&next_pages, checks).await);
    let mut found = Found::default();
    for (_, answer) in &listed {
        found.harvest(&answer["result"]["structuredContent"]);
    }
    for name in surfaces.id_arguments() {
        if found.found_for(&name, Fill::Required).is_none() {
            let seen = format!("no list result gives an id for {name}; found {found:?}");
            checks.fail("list results", "ids found", seen);
        }
    }
    let rest = surfaces.requests(&found);
    let rested = session.exchange(&rest, checks).await;
    plan.extend(listing);
    plan.extend(next_pages);
    plan.extend(rest);
    answered.extend(listed);
    answered.extend(rested);
    checks.survivors(&answered);
    plan
}

/// Requests for the next page of every list answer that has one.
fn more_pages(answered: &Answered) -> Vec<Request> {
    answered
        .iter()
        .filter_map(|(request, answer)| {
            let cursor = answer["result"]["nextCursor"].as_str()?;
            Some(Request::new(&request.method, json!({ "cursor": cursor })))
        })
        .collect()
}

/// The next page of every tool result that names one (`pagination`'s
/// `nextPage` and `nextPageSize`), called as the result says.
fn next_pages(answered: &Answered) -> Vec<Request> {
    answered
        .iter()
        .filter_map(|(request, answer)| {
            let pagination = &answer["result"]["structuredContent"]["pagination"];
            let page = pagination["nextPage"].as_u64()?;
            let mut arguments = request.params["arguments"].clone();
            arguments["page"] = json!(page);
            arguments["pageSize"] = pagination["nextPageSize"].clone();
            let name = &request.params["name"];
            let params = json!({ "name": name, "arguments": arguments });
            Some(Request::new("tools/call", params))
        })
        .collect()
}

/// What the server advertises.
#[derive(Default)]
struct Surfaces {
    tools: Vec<Value>,
    resources: Vec<Value>,
    templates: Vec<Value>,
    prompts: Vec<Value>,
}

impl Surfaces {
    fn from(answered: &Answered) -> Self {
        let mut surfaces = Surfaces::default();
        for (request, answer) in answered {
            let (list, key) = match request.method.as_str() {
                "tools/list" => (&mut surfaces.tools, "tools"),
                "resources/list" => (&mut surfaces.resources, "resources"),
                "resources/templates/list" => (&mut surfaces.templates, "resourceTemplates"),
                "prompts/list" => (&mut surfaces.prompts, "prompts"),
                _ => continue,
            };
            let items = answer["result"][key].as_array();
            list.extend(items.into_iter().flatten().cloned());
        }
        for (what, list) in [
            ("tools", &surfaces.tools),
            ("resources", &surfaces.resources),
            ("resource templates", &surfaces.templates),
            ("prompts", &surfaces.prompts),
        ] {
            assert!(!list.is_empty(), "the server advertises no {what}");
        }
        surfaces
    }

    /// The names of the id arguments declared (`...Id`): of tools (when
    /// required), templates and prompts.
    fn id_arguments(&self) -> Vec<String> {
        let tools = self.tools.iter().flat_map(required);
        let templates = self
            .templates
            .iter()
            .flat_map(|template| variables(template["uriTemplate"].as_str().unwrap_or_default()));
        let prompts = self.prompts.iter().flat_map(|prompt| {
            let arguments = prompt["arguments"].as_array().into_iter().flatten();
            arguments
                .filter_map(|argument| argument["name"].as_str().map(str::to_owned))
                .collect::<Vec<_>>()
        });
        tools
            .chain(templates)
            .chain(prompts)
            .filter(|name| name.ends_with("Id"))
            .collect()
    }

    /// Every call, read, prompt and completion the lists declare, with
    /// `found` values and with hostile ones.
    fn requests(&self, found: &Found) -> Vec<Request> {
        let mut requests = Vec::new();
        for tool in &self.tools {
            if !required(tool).is_empty() {
                requests.push(tool_call(tool, found, Fill::Required));
            }
            let properties = tool["inputSchema"]["properties"].as_object();
            let count = properties.map_or(0, Map::len);
            if count > required(tool).len() {
                requests.push(tool_call(tool, found, Fill::Every));
            }
            if count > 0 {
                requests.push(tool_call(tool, found, Fill::Hostile));
            }
        }
        for resource in &self.resources {
            let uri = resource["uri"].as_str().unwrap_or_default();
            requests.push(Request::new("resources/read", json!({ "uri": uri })));
        }
        for template in &self.templates {
            let pattern = template["uriTemplate"].as_str().unwrap_or_default();
            for fill in [Fill::Required, Fill::Hostile] {
                let uri = instantiate(pattern, |name| found.text_for(name, 100, fill));
                requests.push(Request::new("resources/read", json!({ "uri": uri })));
            }
            let reference = json!({ "type": "ref/resource", "uri": pattern });
            for name in variables(pattern) {
                requests.extend(completions(&reference, &name));
            }
        }
        for prompt in &self.prompts {
            let name = prompt["name"].as_str().unwrap_or_default();
            let declared = prompt["arguments"].as_array().cloned().unwrap_or_default();
            for fill in [Fill::Required, Fill::Hostile] {
                let arguments: Map<String, Value> = declared
                    .iter()
                    .filter_map(|argument| argument["name"].as_str())
                    .map(|argument| {
                        (
                            argument.to_owned(),
                            json!(found.text_for(argument, 300, fill)),
                        )
                    })
                    .collect();
                requests.push(Request::new(
                    "prompts/get",
                    json!({ "name": name, "arguments": arguments }),
                ));
            }
            let reference = json!({ "type": "ref/prompt", "name": name });
            for argument in declared.iter().filter_map(|a| a["name"].as_str()) {
                requests.extend(completions(&reference, argument));
            }
        }
        requests
    }
}

/// `completion/complete` of one argument, for each kind of prefix.
fn completions(reference: &Value, argument: &str) -> Vec<Request> {
    ["", "t", "tkt_", &hostile_text(300)]
        .iter()
        .map(|typed| {
            Request::new(
                "completion/complete",
                json!({ "ref": reference, "argument": { "name": argument, "value": typed } }),
            )
        })
        .collect()
}

/// The names of a URI template's variables (`{name}`, operators aside).
fn variables(pattern: &str) -> Vec<String> {
    pattern
        .split('{')
        .skip(1)
        .filter_map(|part| part.split_once('}'))
        .flat_map(|(inside, _)| inside.split(','))
        .map(|name| {
            name.trim_start_matches(['+', '#', '.', '/', ';', '?', '&'])
                .to_owned()
        })
        .collect()
}

/// `pattern` with each `{...}` replaced by `value` of its first variable.
fn instantiate(pattern: &str, value: impl Fn(&str) -> String) -> String {
    let mut uri = String::new();
    let mut rest = pattern;
    while let Some((before, after)) = rest.split_once('{') {
        uri.push_str(before);
        let Some((inside, tail)) = after.split_once('}') else {
            break;
        };
        let name = variables(&format!("{{{inside}}}")).remove(0);
        uri.push_str(&value(&name));
        rest = tail;
    }
    uri.push_str(rest);
    uri
}

/// How arguments are filled.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Fill {
    /// Required properties only: ids found where the name says which,
    /// the first enum value, hostile text for any other string.
    Required,
    /// Every property with a valid value: ids found, the first enum value,
    /// the largest number allowed (or the smallest plus one), `PLAIN` for
    /// any other string.
    Every,
    /// Every property, strings (ids and enums too) all hostile text.
    Hostile,
}

fn required(tool: &Value) -> Vec<String> {
    let names = tool["inputSchema"]["required"].as_array();
    names
        .into_iter()
        .flatten()
        .filter_map(|name| name.as_str().map(str::to_owned))
        .collect()
}

fn tool_call(tool: &Value, found: &Found, fill: Fill) -> Request {
    let schema = &tool["inputSchema"];
    let required = required(tool);
    let mut arguments = Map::new();
    for (name, property) in schema["properties"].as_object().into_iter().flatten() {
        if fill == Fill::Required && !required.contains(name) {
            continue;
        }
        arguments.insert(name.clone(), found.value_for(name, property, fill));
    }
    Request::new(
        "tools/call",
        json!({ "name": tool["name"], "arguments": arguments }),
    )
}

/// Values found in list results: for each kind of record (the singular
/// of the list's key: `tickets` → `ticket`), the first item's id (or name).
#[derive(Debug, Default)]
struct Found(BTreeMap<String, String>);

impl Found {
    fn harvest(&mut self, value: &Value) {
        match value {
            Value::Object(map) => {
                for (key, item) in map {
                    let first = item.as_array().and_then(|items| {
                        items.iter().find_map(|item| {
                            let id = item.get("id").or_else(|| item.get("name"))?;
                            id.as_str()
                        })
                    });
                    if let Some(first) = first {
                        let kind = key.strip_suffix('s').unwrap_or(key);
                        self.0.entry(kind.to_owned()).or_insert(first.to_owned());
                    }
                    self.harvest(item);
                }
            }
            Value::Array(items) => items.iter().for_each(|item| self.harvest(item)),
            _ => {}
        }
    }

    /// The found value for an argument called `name` (`ticketId` →
    /// `ticket`), unless `fill` asks for hostile text.
    fn found_for(&self, name: &str, fill: Fill) -> Option<&String> {
        let lower = name.to_lowercase();
        let kind = lower.strip_suffix("id").filter(|kind| !kind.is_empty());
        (fill != Fill::Hostile)
            .then(|| self.0.get(kind.unwrap_or(&lower)))
            .flatten()
    }

    fn text_for(&self, name: &str, max_chars: usize, fill: Fill) -> String {
        self.found_for(name, fill)
            .cloned()
            .unwrap_or_else(|| hostile_text(max_chars))
    }

    /// A value for a property with `schema`: valid by the schema unless
    /// `fill` is hostile.
    fn value_for(&self, name: &str, schema: &Value, fill: Fill) -> Value {
        let number = |key: &str| schema[key].as_i64();
        match schema["type"].as_str() {
            Some("integer") => {
                json!(number("maximum").unwrap_or_else(|| number("minimum").unwrap_or(0) + 1))
            }
            Some("number") => json!(schema["maximum"].as_f64().unwrap_or(1.0)),
            Some("boolean") => json!(true),
            Some("array") => {
                let count = schema["maxItems"].as_u64().unwrap_or(3) as usize;
                let item = self.value_for(name, &schema["items"], fill);
                json!(vec![item; count])
            }
            Some("object") => {
                let properties = schema["properties"].as_object().into_iter().flatten();
                let fields: Map<String, Value> = properties
                    .map(|(key, property)| (key.clone(), self.value_for(key, property, fill)))
                    .collect();
                Value::Object(fields)
            }
            _ => {
                let first = schema["enum"].get(0).filter(|_| fill != Fill::Hostile);
                let max = schema["maxLength"].as_u64().unwrap_or(1_000) as usize;
                match (first, self.found_for(name, fill), fill) {
                    (Some(value), ..) => value.clone(),
                    (None, Some(found), _) => json!(found),
                    (None, None, Fill::Every) => json!(PLAIN.chars().take(max).collect::<String>()),
                    (None, None, _) => json!(hostile_text(max)),
                }
            }
        }
    }
}

/// A string any text argument takes (an idempotency key too).
const PLAIN: &str = "egress-walk";

/// Text of at most `max_chars` characters made of every kind of hostile
/// sample: hidden characters and escapes, imitations, visible scripts.
pub(super) fn hostile_text(max_chars: usize) -> String {
    let samples = HOSTILE_SAMPLES;
    let pieces = samples.never_raw.iter().enumerate().map(|(index, raw)| {
        let imitation = samples.imitations[index % samples.imitations.len()];
        let visible = samples.must_survive[index % samples.must_survive.len()];
        format!("{raw}{imitation}\n{visible} ")
    });
    pieces
        .cycle()
        .flat_map(|piece| piece.chars().collect::<Vec<_>>())
        .take(max_chars.max(1))
        .collect()
}
