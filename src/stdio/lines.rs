//! The line transport: newline-delimited JSON-RPC on stdin and stdout,
//! where every line gets what JSON-RPC promises it.
//!
//! rmcp's own line transport drops a line it cannot parse without a word,
//! so a client that sent a lone surrogate, invalid UTF-8, a garbage line or
//! JSON nested too deep waits for an answer that never comes. Here:
//! - text is read leniently first (invalid UTF-8 and lone surrogate escapes
//!   become U+FFFD, as for upstream bodies), so such a request is served;
//! - a line that still is not JSON gets `-32700 Parse error` with id null;
//! - JSON that is not a valid message gets `-32600 Invalid Request`, with
//!   the request's id when it has one (notifications get no answer);
//! - a line longer than `MAX_LINE_BYTES` is skipped without being buffered,
//!   and answered with `-32600` and id null.
//!
//! Reads are cancel-safe (rmcp polls `receive` inside `select!`): a partial
//! line stays in the buffer. Writes of the server's answers and of these
//! error replies share one lock, so lines never interleave.

use std::sync::Arc;

use rmcp::RoleServer;
use rmcp::service::{RxJsonRpcMessage, TxJsonRpcMessage};
use rmcp::transport::Transport;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::Mutex;

use crate::api::lenient;

/// The longest line read; longer ones are skipped and answered.
pub const MAX_LINE_BYTES: usize = 16 * 1024 * 1024;

/// What one input line calls for.
#[derive(Debug)]
pub enum Line {
    Message(Box<RxJsonRpcMessage<RoleServer>>),
    /// An error reply to write back (a whole JSON-RPC line).
    Reply(Vec<u8>),
    /// Nothing to do: a blank line, or a notification that is not valid.
    Skip,
}

/// Decides what a line (without its newline) calls for.
pub fn classify(line: &[u8]) -> Line {
    let line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.iter().all(u8::is_ascii_whitespace) {
        return Line::Skip;
    }
    if let Ok(message) = serde_json::from_slice(line) {
        return Line::Message(Box::new(message));
    }
    let repaired = lenient::clean_body(line.to_vec(), "");
    let value: Value = match serde_json::from_slice(&repaired) {
        Ok(value) => value,
        Err(error) => return reply(Value::Null, -32700, format!("Parse error: {error}")),
    };
    let id = value.get("id").cloned().unwrap_or(Value::Null);
    if value.is_array() {
        return reply(
            Value::Null,
            -32600,
            "Invalid Request: JSON-RPC batches are not supported; send one message per line".into(),
        );
    }
    match serde_json::from_value::<RxJsonRpcMessage<RoleServer>>(value) {
        Ok(message) => Line::Message(Box::new(message)),
        Err(_) if id.is_null() => Line::Skip,
        Err(error) => reply(id, -32600, format!("Invalid Request: {error}")),
    }
}

fn reply(id: Value, code: i64, message: String) -> Line {
    let id = match id {
        Value::String(_) | Value::Number(_) => id,
        _ => Value::Null,
    };
    let message = crate::limits::quote(&message, 300);
    let mut line =
        json!({ "jsonrpc": "2.0", "id": id, "error": { "code": code, "message": message } })
            .to_string()
            .into_bytes();
    line.push(b'\n');
    Line::Reply(line)
}

/// A server transport over a reader and a writer of JSON-RPC lines.
pub struct LineTransport<R, W> {
    reader: BufReader<R>,
    line: Vec<u8>,
    /// Skipping the rest of an oversized line.
    discarding: bool,
    writer: Arc<Mutex<W>>,
}

impl<R: AsyncRead + Unpin, W: AsyncWrite + Unpin> LineTransport<R, W> {
    pub fn new(reader: R, writer: W) -> Self {
        LineTransport {
            reader: BufReader::new(reader),
            line: Vec::new(),
            discarding: false,
            writer: Arc::new(Mutex::new(writer)),
        }
    }
}

/// The outcome of reading towards the next newline.
enum Read {
    Line,
    Oversized,
    Eof,
}

impl<R: AsyncRead + Unpin, W> LineTransport<R, W> {
    /// Reads one line into `self.line`, never holding more than
    /// `MAX_LINE_BYTES` of it. Cancel-safe: nothing is consumed that is not
    /// kept.
    async fn read_line(&mut self) -> std::io::Result<Read> {
        loop {
            let available = self.reader.fill_buf().await?;
            if available.is_empty() {
                return Ok(Read::Eof);
            }
            let newline = available.iter().position(|b| *b == b'\n');
            let take = newline.map_or(available.len(), |at| at + 1);
            if self.discarding {
                self.reader.consume(take);
                self.discarding = newline.is_none();
                continue;
            }
            if self.line.len() + take > MAX_LINE_BYTES {
                self.line.clear();
                self.reader.consume(take);
                self.discarding = newline.is_none();
                return Ok(Read::Oversized);
            }
            self.line.extend_from_slice(&available[..take]);
            self.reader.consume(take);
            if newline.is_some() {
                return Ok(Read::Line);
            }
        }
    }
}

impl<R, W> Transport<RoleServer> for LineTransport<R, W>
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    type Error = std::io::Error;

    fn send(
        &mut self,
        item: TxJsonRpcMessage<RoleServer>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        let writer = self.writer.clone();
        async move {
            let mut line = serde_json::to_vec(&item)?;
            line.push(b'\n');
            write_line(&writer, &line).await
        }
    }

    async fn receive(&mut self) -> Option<RxJsonRpcMessage<RoleServer>> {
        loop {
            let read = match self.read_line().await {
                Ok(read) => read,
                Err(error) => {
                    tracing::info!(%error, "stdin failed");
                    return None;
                }
            };
            let outcome = match read {
                Read::Eof => return None,
                Read::Oversized => {
                    tracing::warn!(max = MAX_LINE_BYTES, "skipped an oversized line");
                    reply(
                        Value::Null,
                        -32600,
                        format!("Invalid Request: a message is limited to {MAX_LINE_BYTES} bytes"),
                    )
                }
                Read::Line => {
                    let line = std::mem::take(&mut self.line);
                    let body = line.strip_suffix(b"\n").unwrap_or(&line);
                    let outcome = classify(body);
                    self.line = line;
                    self.line.clear();
                    outcome
                }
            };
            match outcome {
                Line::Message(message) => return Some(*message),
                Line::Skip => {}
                Line::Reply(bytes) => {
                    tracing::debug!("answered a line that is not a valid message");
                    // Written by its own task, so a cancelled receive can
                    // never leave half a line on stdout.
                    let writer = self.writer.clone();
                    tokio::spawn(async move {
                        let _ = write_line(&writer, &bytes).await;
                    });
                }
            }
        }
    }

    async fn close(&mut self) -> Result<(), Self::Error> {
        self.writer.lock().await.flush().await
    }
}

async fn write_line<W: AsyncWrite + Unpin>(writer: &Mutex<W>, line: &[u8]) -> std::io::Result<()> {
    let mut writer = writer.lock().await;
    writer.write_all(line).await?;
    writer.flush().await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replied(line: &[u8]) -> Value {
        match classify(line) {
            Line::Reply(bytes) => serde_json::from_slice(&bytes).unwrap(),
            other => panic!("expected a reply, got {other:?}"),
        }
    }

    #[test]
    fn garbage_gets_a_parse_error_with_a_null_id() {
        for line in [&b"garbage"[..], b"{\"jsonrpc\":", b"\xff\xfe", b"[1,"] {
            let answer = replied(line);
            assert_eq!(answer["error"]["code"], -32700, "{line:?}");
            assert_eq!(answer["id"], Value::Null);
        }
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert_eq!(replied(deep.as_bytes())["error"]["code"], -32700);
    }

    #[test]
    fn an_invalid_request_with_an_id_is_answered_with_it() {
        let answer = replied(br#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":"oops"}"#);
        assert_eq!(answer["id"], 7);
        assert_eq!(answer["error"]["code"], -32600);
        assert!(matches!(
            classify(br#"{"jsonrpc":"2.0","method":"notifications/bogus","params":5}"#),
            Line::Skip
        ));
        assert_eq!(
            replied(br#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#)["error"]["code"],
            -32600
        );
    }

    #[test]
    fn lone_surrogates_and_bad_utf8_are_served_leniently() {
        for line in [
            &br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","arguments":{"search":"a\ud83d"}}}"#[..],
            b"{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"x\",\"arguments\":{\"search\":\"a\xff\"}}}",
        ] {
            assert!(matches!(classify(line), Line::Message(_)), "{line:?}");
        }
        assert!(matches!(classify(b"  \r"), Line::Skip));
    }
}
