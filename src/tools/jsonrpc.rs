//! What JSON-RPC 2.0 answers to a message rmcp cannot serve, for every
//! transport: whether it is answered at all, with which id and which code.
//!
//! rmcp reads a message into its typed form or not at all, and a request
//! whose params do not fit its method falls through to a custom request,
//! which rmcp would answer -32601 as if the method did not exist. Here,
//! from the message as plain JSON:
//! - anything but an object (a batch, a number, a string, null): -32600,
//!   id null;
//! - a request whose `jsonrpc` is not "2.0", whose `method` is not a string
//!   or whose id is null, a boolean, an object or an array: -32600, id null
//!   unless the id is a string or a number;
//! - a fractional or out-of-range numeric id (rmcp carries only integers):
//!   -32600 with that id;
//! - `params` that are neither an object nor an array: -32600;
//! - a method this server serves, with params that do not fit: -32602,
//!   saying why; any other method: -32601;
//! - a notification (jsonrpc "2.0", a string method, no `id` member) and a
//!   response are never answered; over HTTP, where every POST gets a
//!   status, they get 400 and the same JSON-RPC error with id null.

use rmcp::ErrorData;
use rmcp::model::{
    CallToolRequest, CallToolRequestMethod, CompleteRequest, CompleteRequestMethod, ConstString,
    DiscoverRequest, DiscoverRequestMethod, ErrorCode, GetPromptRequest, GetPromptRequestMethod,
    InitializeRequest, InitializeResultMethod, ListPromptsRequest, ListPromptsRequestMethod,
    ListResourceTemplatesRequest, ListResourceTemplatesRequestMethod, ListResourcesRequest,
    ListResourcesRequestMethod, ListToolsRequest, ListToolsRequestMethod, PingRequest,
    PingRequestMethod, ReadResourceRequest, ReadResourceRequestMethod,
};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use crate::limits::quote;

/// The longest error message sent back: messages quote client input.
const MAX_MESSAGE_CHARS: usize = 300;

/// What a message that cannot be served was meant to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A request, or something JSON-RPC treats as one: always answered.
    Request,
    /// A notification: never answered.
    Notification,
    /// A response or an error object from the client: never answered.
    Response,
}

/// The JSON-RPC error a message calls for.
#[derive(Debug, Clone, PartialEq)]
pub struct Fault {
    pub kind: Kind,
    /// Null, or the request's string or numeric id.
    pub id: Value,
    pub code: ErrorCode,
    pub message: String,
}

impl Fault {
    /// Whether JSON-RPC answers it (requests only).
    pub fn answered(&self) -> bool {
        self.kind == Kind::Request
    }

    /// The error object, ready to send: cleaned and bounded as the egress
    /// cleans and bounds every answer.
    pub fn to_json(&self) -> Value {
        let message = super::sanitize::clean(&quote(&self.message, MAX_MESSAGE_CHARS)).into_owned();
        json!({
            "jsonrpc": "2.0",
            "id": self.id,
            "error": { "code": self.code.0, "message": message },
        })
    }

    fn request(id: Value, code: ErrorCode, message: String) -> Fault {
        Fault {
            kind: Kind::Request,
            id,
            code,
            message,
        }
    }
}

/// Text that is not JSON at all.
pub fn parse_error(error: &serde_json::Error) -> Fault {
    Fault::request(
        Value::Null,
        ErrorCode::PARSE_ERROR,
        format!("Parse error: {error}"),
    )
}

/// The fault of a JSON value that rmcp could not read as a message; `why`
/// is rmcp's reason, used when nothing more precise is found.
pub fn judge(message: &Value, why: &str) -> Fault {
    let object = match message {
        Value::Object(object) => object,
        Value::Array(_) => {
            return invalid_request(
                Value::Null,
                "JSON-RPC batches are not supported; send one message at a time",
            );
        }
        _ => return invalid_request(Value::Null, "a message is a JSON object"),
    };
    let answers = object.contains_key("result") || object.contains_key("error");
    if !object.contains_key("method") && answers {
        return Fault {
            kind: Kind::Response,
            id: Value::Null,
            code: ErrorCode::INVALID_REQUEST,
            message: format!("Invalid Request: a response that does not fit JSON-RPC: {why}"),
        };
    }
    let version = object.get("jsonrpc").and_then(Value::as_str) == Some("2.0");
    let method = object.get("method").and_then(Value::as_str);
    let Some(raw_id) = object.get("id") else {
        if version && method.is_some() {
            return Fault {
                kind: Kind::Notification,
                id: Value::Null,
                code: ErrorCode::INVALID_REQUEST,
                message: format!("Invalid Request: {why}"),
            };
        }
        return request_fault(object, Value::Null, method, version, why);
    };
    let id = match raw_id {
        Value::String(_) | Value::Number(_) => raw_id.clone(),
        _ => Value::Null,
    };
    if id.is_null() {
        return invalid_request(Value::Null, "\"id\" must be a string or a number");
    }
    request_fault(object, id, method, version, why)
}

/// The fault of something shaped as a request, checked in the order a
/// reader would notice: envelope, id, params, then the method itself.
fn request_fault(
    object: &Map<String, Value>,
    id: Value,
    method: Option<&str>,
    version: bool,
    why: &str,
) -> Fault {
    if !version {
        return invalid_request(id, "\"jsonrpc\" must be \"2.0\"");
    }
    let Some(method) = method else {
        return invalid_request(id, "\"method\" must be a string");
    };
    if id.is_number() && id.as_i64().is_none() {
        return invalid_request(
            id,
            "this server takes ids that are strings or integers of at most 64 bits",
        );
    }
    if object.contains_key("result") || object.contains_key("error") {
        return invalid_request(id, "a request carries no \"result\" or \"error\"");
    }
    let params = object.get("params");
    if params.is_some_and(|params| !params.is_object() && !params.is_array()) {
        return invalid_request(id, "\"params\" must be an object or an array");
    }
    if !served(method) {
        return Fault::request(
            id,
            ErrorCode::METHOD_NOT_FOUND,
            format!("Method not found: {method}"),
        );
    }
    match params_fault(method, params.cloned()) {
        Some(reason) => Fault::request(
            id,
            ErrorCode::INVALID_PARAMS,
            format!("Invalid params for {method}: {reason}"),
        ),
        None => invalid_request(id, why),
    }
}

/// `-32600 Invalid Request`, for `reason`.
pub fn invalid_request(id: Value, reason: &str) -> Fault {
    Fault::request(
        id,
        ErrorCode::INVALID_REQUEST,
        format!("Invalid Request: {reason}"),
    )
}

/// The JSON-RPC error for a request rmcp read as a custom one: its params
/// did not fit a method this server serves (-32602), or its method is not
/// one this server serves (-32601).
pub fn unserved(method: &str, params: Option<Value>) -> ErrorData {
    let shown = quote(method, 100);
    match params_fault(method, params) {
        Some(reason) => ErrorData::invalid_params(
            quote(
                &format!("Invalid params for {shown}: {reason}"),
                MAX_MESSAGE_CHARS,
            ),
            None,
        ),
        None => ErrorData::new(
            ErrorCode::METHOD_NOT_FOUND,
            format!("Method not found: {shown}"),
            None,
        ),
    }
}

/// Reads a whole request (`method` and `params`) as its typed form.
type Check = fn(Value) -> Result<(), serde_json::Error>;

fn fits<T: DeserializeOwned>(request: Value) -> Result<(), serde_json::Error> {
    serde_json::from_value::<T>(request).map(drop)
}

/// Every method this server answers, with the typed request rmcp reads it
/// into. Any other method, including those of capabilities the server does
/// not advertise, is -32601.
const SERVED: &[(&str, Check)] = &[
    (InitializeResultMethod::VALUE, fits::<InitializeRequest>),
    (PingRequestMethod::VALUE, fits::<PingRequest>),
    (DiscoverRequestMethod::VALUE, fits::<DiscoverRequest>),
    (ListToolsRequestMethod::VALUE, fits::<ListToolsRequest>),
    (CallToolRequestMethod::VALUE, fits::<CallToolRequest>),
    (
        ListResourcesRequestMethod::VALUE,
        fits::<ListResourcesRequest>,
    ),
    (
        ListResourceTemplatesRequestMethod::VALUE,
        fits::<ListResourceTemplatesRequest>,
    ),
    (
        ReadResourceRequestMethod::VALUE,
        fits::<ReadResourceRequest>,
    ),
    (ListPromptsRequestMethod::VALUE, fits::<ListPromptsRequest>),
    (GetPromptRequestMethod::VALUE, fits::<GetPromptRequest>),
    (CompleteRequestMethod::VALUE, fits::<CompleteRequest>),
];

/// The methods this server serves.
pub fn served_methods() -> impl Iterator<Item = &'static str> {
    SERVED.iter().map(|(method, _)| *method)
}

fn served(method: &str) -> bool {
    served_methods().any(|served| served == method)
}

/// Why `params` do not fit `method`, when it is a method this server
/// serves and they do not.
fn params_fault(method: &str, params: Option<Value>) -> Option<String> {
    let (_, check) = SERVED.iter().find(|(served, _)| *served == method)?;
    let mut request = Map::new();
    request.insert("method".into(), Value::from(method));
    if let Some(params) = params {
        request.insert("params".into(), params);
    }
    check(Value::Object(request))
        .err()
        .map(|error| error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fault(line: &str) -> Fault {
        let value: Value = serde_json::from_str(line).unwrap();
        judge(&value, "rmcp's reason")
    }

    #[test]
    fn every_shape_gets_the_code_and_id_json_rpc_asks_for() {
        let request = Kind::Request;
        let cases: &[(&str, Kind, Value, i32)] = &[
            ("42", request, Value::Null, -32600),
            ("\"s\"", request, Value::Null, -32600),
            ("null", request, Value::Null, -32600),
            ("true", request, Value::Null, -32600),
            ("[]", request, Value::Null, -32600),
            (
                "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]",
                request,
                Value::Null,
                -32600,
            ),
            ("{}", request, Value::Null, -32600),
            ("{\"foo\":1}", request, Value::Null, -32600),
            (
                "{\"jsonrpc\":\"2.0\",\"method\":5}",
                request,
                Value::Null,
                -32600,
            ),
            ("{\"method\":\"ping\"}", request, Value::Null, -32600),
            (
                "{\"jsonrpc\":\"1.0\",\"method\":\"x\"}",
                request,
                Value::Null,
                -32600,
            ),
            (
                "{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"ping\"}",
                request,
                Value::Null,
                -32600,
            ),
            (
                "{\"jsonrpc\":\"2.0\",\"id\":true,\"method\":\"ping\"}",
                request,
                Value::Null,
                -32600,
            ),
            (
                "{\"jsonrpc\":\"2.0\",\"id\":{\"a\":1},\"method\":\"ping\"}",
                request,
                Value::Null,
                -32600,
            ),
            (
                "{\"jsonrpc\":\"2.0\",\"id\":[1],\"method\":\"ping\"}",
                request,
                Value::Null,
                -32600,
            ),
            (
                "{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"ping\"}",
                request,
                json!(1.5),
                -32600,
            ),
            (
                "{\"jsonrpc\":\"2.0\",\"id\":18446744073709551615,\"method\":\"ping\"}",
                request,
                json!(18446744073709551615u64),
                -32600,
            ),
            (
                "{\"jsonrpc\":\"1.0\",\"id\":3,\"method\":\"ping\"}",
                request,
                json!(3),
                -32600,
            ),
            (
                "{\"id\":\"a\",\"method\":\"ping\"}",
                request,
                json!("a"),
                -32600,
            ),
            (
                "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":[\"ping\"]}",
                request,
                json!(4),
                -32600,
            ),
            (
                "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"ping\",\"result\":{}}",
                request,
                json!(5),
                -32600,
            ),
            (
                "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"tools/call\",\"params\":\"oops\"}",
                request,
                json!(6),
                -32600,
            ),
            (
                "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/list\",\"params\":5}",
                request,
                json!(7),
                -32600,
            ),
            (
                "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"tools/call\",\"params\":[1]}",
                request,
                json!(8),
                -32602,
            ),
            (
                "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"ping\",\"params\":[]}",
                request,
                json!(9),
                -32602,
            ),
            (
                "{\"jsonrpc\":\"2.0\",\"id\":10,\"method\":\"no/such\",\"params\":[]}",
                request,
                json!(10),
                -32601,
            ),
            (
                "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":5}",
                Kind::Notification,
                Value::Null,
                -32600,
            ),
            (
                "{\"jsonrpc\":\"2.0\",\"id\":11,\"error\":5}",
                Kind::Response,
                Value::Null,
                -32600,
            ),
            (
                "{\"jsonrpc\":\"2.0\",\"result\":1,\"error\":{}}",
                Kind::Response,
                Value::Null,
                -32600,
            ),
        ];
        for (line, kind, id, code) in cases {
            let fault = fault(line);
            assert_eq!(
                (fault.kind, &fault.id, fault.code.0),
                (*kind, id, *code),
                "{line}: {}",
                fault.message
            );
            assert_eq!(fault.to_json()["id"], *id, "{line}");
            assert_eq!(fault.answered(), *kind == Kind::Request, "{line}");
        }
    }

    #[test]
    fn params_that_do_not_fit_a_served_method_say_why() {
        let error = unserved("tools/call", Some(json!({})));
        assert_eq!(error.code, ErrorCode::INVALID_PARAMS);
        assert!(error.message.contains("missing field `name`"), "{error:?}");
        let error = unserved("resources/read", Some(json!({ "url": "x" })));
        assert_eq!(error.code, ErrorCode::INVALID_PARAMS);
        assert!(error.message.contains("uri"), "{error:?}");
        let error = unserved("no/such", Some(json!({})));
        assert_eq!(error.code, ErrorCode::METHOD_NOT_FOUND);
        assert!(error.message.contains("no/such"));
        let huge = "x".repeat(100_000);
        let error = unserved("tools/call", Some(json!({ "name": 1, "arguments": huge })));
        assert!(
            error.message.chars().count() < 400,
            "{}",
            error.message.len()
        );
    }

    #[test]
    fn every_served_method_reads_its_own_well_formed_request() {
        let well_formed = |method: &str| match method {
            "initialize" => {
                json!({ "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": { "name": "t", "version": "1" } })
            }
            "server/discover" => json!({}),
            "tools/call" => json!({ "name": "x" }),
            "resources/read" => json!({ "uri": "cstar://tickets/1" }),
            "prompts/get" => json!({ "name": "x" }),
            "completion/complete" => {
                json!({ "ref": { "type": "ref/prompt", "name": "x" }, "argument": { "name": "a", "value": "" } })
            }
            _ => json!({}),
        };
        for method in served_methods() {
            assert_eq!(
                params_fault(method, Some(well_formed(method))),
                None,
                "{method}"
            );
            assert!(params_fault(method, Some(json!([]))).is_some(), "{method}");
        }
    }
}
