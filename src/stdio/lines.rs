//! The line transport: newline-delimited JSON-RPC on stdin and stdout,
//! where every line gets what JSON-RPC promises it, and no queue between
//! stdin and stdout grows without bound.
//!
//! rmcp's own line transport drops a line it cannot parse without a word,
//! so a client that sent a lone surrogate, invalid UTF-8, a garbage line or
//! JSON nested too deep waits for an answer that never comes. Here:
//! - text is read leniently first (invalid UTF-8 and lone surrogate escapes
//!   become U+FFFD, as for upstream bodies), so such a request is served;
//! - a line that still is not JSON gets `-32700 Parse error` with id null;
//! - JSON that is not a message rmcp can serve gets the error
//!   `tools::jsonrpc` judges it to need (notifications and responses get
//!   none);
//! - a request whose id is already owed an answer gets `-32600`: rmcp
//!   would answer only one of the two;
//! - a notification or response before the session has started (before
//!   `initialize`) is dropped: rmcp would end the session on it; a request
//!   with params that do not fit its method is answered here, as rmcp's
//!   handshake would answer that its `_meta` is missing;
//! - a line longer than `MAX_LINE_BYTES` is skipped without being buffered,
//!   and answered with `-32600` and id null.
//!
//! A line is read only with room for one more answer (`owed`), so a client
//! that stops reading stops the server reading. Reads are cancel-safe
//! (rmcp polls `receive` inside `select!`): a partial line and the room
//! taken stay in the transport. Writes of the server's answers and of these
//! error replies share one lock, so lines never interleave.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use rmcp::ErrorData;
use rmcp::RoleServer;
use rmcp::model::{ClientNotification, ClientRequest, JsonRpcMessage, RequestId};
use rmcp::service::{RxJsonRpcMessage, TxJsonRpcMessage};
use rmcp::transport::Transport;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::{Mutex, OwnedSemaphorePermit};

use super::owed::{Hold, MAX_NOTICES, MAX_OWED, Owed};
use crate::api::lenient;
use crate::tools::jsonrpc::{self, Fault, Kind};

/// The longest line read; longer ones are skipped and answered.
pub const MAX_LINE_BYTES: usize = 16 * 1024 * 1024;

/// What one input line calls for.
#[derive(Debug)]
pub enum Line {
    Message(Box<RxJsonRpcMessage<RoleServer>>),
    /// An error reply to write back (a whole JSON-RPC line).
    Reply(Vec<u8>),
    /// Nothing to do: a blank line, or a notification or response that is
    /// not valid.
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
        Err(error) => return reply(&jsonrpc::parse_error(&error)),
    };
    match serde_json::from_slice::<RxJsonRpcMessage<RoleServer>>(&repaired) {
        Ok(message) => Line::Message(Box::new(message)),
        Err(error) => {
            let fault = jsonrpc::judge(&value, &error.to_string());
            if fault.answered() {
                reply(&fault)
            } else {
                tracing::debug!(kind = ?fault.kind, "skipped a message that is not valid and is never answered");
                Line::Skip
            }
        }
    }
}

fn reply(fault: &Fault) -> Line {
    Line::Reply(reply_line(fault))
}

/// A fault as one JSON-RPC line.
fn reply_line(fault: &Fault) -> Vec<u8> {
    let mut line = fault.to_json().to_string().into_bytes();
    line.push(b'\n');
    line
}

/// Whether the session has started: rmcp ends a session that receives a
/// notification or a response before it.
#[derive(Clone, Debug, Default)]
pub struct Session(Arc<AtomicBool>);

impl Session {
    /// Called once rmcp's handshake is done.
    pub fn start(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    fn started(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// A server transport over a reader and a writer of JSON-RPC lines.
pub struct LineTransport<R, W> {
    reader: BufReader<R>,
    line: Vec<u8>,
    /// Skipping the rest of an oversized line.
    discarding: bool,
    writer: Arc<Mutex<W>>,
    owed: Owed,
    /// Room taken for the next line, kept when `receive` is cancelled.
    room: Option<OwnedSemaphorePermit>,
    session: Session,
}

impl<R: AsyncRead + Unpin, W: AsyncWrite + Unpin> LineTransport<R, W> {
    pub fn new(reader: R, writer: W) -> Self {
        Self::with_limits(reader, writer, MAX_OWED, MAX_NOTICES)
    }

    /// With `answers` answers owed and `notices` notifications being
    /// written at most.
    pub fn with_limits(reader: R, writer: W, answers: usize, notices: usize) -> Self {
        LineTransport {
            reader: BufReader::new(reader),
            line: Vec::new(),
            discarding: false,
            writer: Arc::new(Mutex::new(writer)),
            owed: Owed::new(answers, notices),
            room: None,
            session: Session::default(),
        }
    }

    /// The flag to raise when rmcp's handshake is done.
    pub fn session(&self) -> Session {
        self.session.clone()
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

    /// What the next line calls for; `None` at the end of input.
    async fn next_line(&mut self) -> Option<Line> {
        let read = match self.read_line().await {
            Ok(read) => read,
            Err(error) => {
                tracing::info!(%error, "stdin failed");
                return None;
            }
        };
        match read {
            Read::Eof => None,
            Read::Oversized => {
                tracing::warn!(max = MAX_LINE_BYTES, "skipped an oversized line");
                Some(reply(&jsonrpc::invalid_request(
                    Value::Null,
                    &format!("a message is limited to {MAX_LINE_BYTES} bytes"),
                )))
            }
            Read::Line => {
                let line = std::mem::take(&mut self.line);
                let body = line.strip_suffix(b"\n").unwrap_or(&line);
                let outcome = classify(body);
                self.line = line;
                self.line.clear();
                Some(outcome)
            }
        }
    }
}

impl<R, W> LineTransport<R, W>
where
    W: AsyncWrite + Unpin + Send + 'static,
{
    /// Hands `message` to rmcp, or answers or drops it here. A request
    /// keeps `room` until its answer is written.
    fn admit(
        &mut self,
        message: RxJsonRpcMessage<RoleServer>,
        room: OwnedSemaphorePermit,
    ) -> Option<RxJsonRpcMessage<RoleServer>> {
        match &message {
            JsonRpcMessage::Request(request) => {
                if !self.session.started()
                    && let ClientRequest::CustomRequest(custom) = &request.request
                {
                    // rmcp's handshake would answer that `_meta` is missing.
                    let error = jsonrpc::unserved(&custom.method, custom.params.clone());
                    self.write_reply(error_line(&request.id, error), room);
                    return None;
                }
                return match self.owed.owe(request.id.clone(), room) {
                    Ok(()) => Some(message),
                    Err(room) => {
                        self.write_reply(duplicate(&request.id), room);
                        None
                    }
                };
            }
            _ if !self.session.started() => {
                tracing::debug!(
                    "dropped a notification or response sent before the session started"
                );
                self.room = Some(room);
                return None;
            }
            JsonRpcMessage::Notification(notification) => {
                if let ClientNotification::CancelledNotification(cancelled) =
                    &notification.notification
                    && let Some(id) = &cancelled.params.request_id
                {
                    // rmcp drops the answer of a cancelled request.
                    drop(self.owed.settle(id));
                }
            }
            JsonRpcMessage::Response(_) | JsonRpcMessage::Error(_) => {}
        }
        self.room = Some(room);
        Some(message)
    }

    /// Writes an error reply from its own task, holding `room` until it is
    /// written, so a cancelled receive never leaves half a line on stdout.
    fn write_reply(&self, line: Vec<u8>, room: OwnedSemaphorePermit) {
        tracing::debug!("answered a line that is not a valid message");
        let writer = self.writer.clone();
        tokio::spawn(async move {
            let _ = write_line(&writer, &line).await;
            drop(room);
        });
    }
}

/// `error` as the answer to `id`, one JSON-RPC line.
fn error_line(id: &RequestId, error: ErrorData) -> Vec<u8> {
    reply_line(&Fault {
        kind: Kind::Request,
        id: id.clone().into_json_value(),
        code: error.code,
        message: error.message.into_owned(),
    })
}

/// The answer to a request whose id is already owed one.
fn duplicate(id: &RequestId) -> Vec<u8> {
    let fault = jsonrpc::invalid_request(
        id.clone().into_json_value(),
        &format!("the id {id} is already in use by a request in progress; use a new id"),
    );
    reply_line(&fault)
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
        // Settled now, in the order rmcp sends, before any later receive.
        let hold = match &item {
            JsonRpcMessage::Response(response) => Hold::Permit(self.owed.settle(&response.id)),
            JsonRpcMessage::Error(error) => {
                Hold::Permit(error.id.as_ref().and_then(|id| self.owed.settle(id)))
            }
            JsonRpcMessage::Notification(notification) => {
                self.owed.notice(&notification.notification)
            }
            JsonRpcMessage::Request(_) => Hold::Permit(None),
        };
        let writer = self.writer.clone();
        async move {
            let _held = match hold {
                Hold::Permit(permit) => permit,
                Hold::Wait(permits) => permits.acquire_owned().await.ok(),
                Hold::Drop => {
                    tracing::debug!("dropped a progress notification: stdout is not keeping up");
                    return Ok(());
                }
            };
            let mut line = serde_json::to_vec(&item)?;
            line.push(b'\n');
            write_line(&writer, &line).await
        }
    }

    async fn receive(&mut self) -> Option<RxJsonRpcMessage<RoleServer>> {
        loop {
            if self.room.is_none() {
                self.room = Some(self.owed.room().await?);
            }
            let line = self.next_line().await?;
            let Some(room) = self.room.take() else {
                continue;
            };
            match line {
                Line::Message(message) => {
                    if let Some(message) = self.admit(*message, room) {
                        return Some(message);
                    }
                }
                Line::Reply(bytes) => self.write_reply(bytes, room),
                Line::Skip => self.room = Some(room),
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

    mod transport {
        use std::pin::pin;
        use std::sync::atomic::AtomicUsize;
        use std::task::{Context, Poll, Waker};

        use rmcp::model::{
            NumberOrString, ProgressNotification, ProgressNotificationParam, ProgressToken,
            ServerJsonRpcMessage, ServerNotification, ServerResult, ToolListChangedNotification,
        };
        use serde_json::json;
        use tokio::io::{AsyncBufReadExt, BufReader, DuplexStream, duplex};

        use super::*;

        type Pipes = (
            LineTransport<DuplexStream, DuplexStream>,
            DuplexStream,
            tokio::io::Lines<BufReader<DuplexStream>>,
        );

        /// A started transport, the client's end of its stdin, and its stdout.
        fn transport(stdin: usize, stdout: usize, answers: usize, notices: usize) -> Pipes {
            let (client, server_in) = duplex(stdin);
            let (server_out, answers_out) = duplex(stdout);
            let transport = LineTransport::with_limits(server_in, server_out, answers, notices);
            transport.session().start();
            (transport, client, BufReader::new(answers_out).lines())
        }

        fn poll_once<F: Future>(future: std::pin::Pin<&mut F>) -> Poll<F::Output> {
            future.poll(&mut Context::from_waker(Waker::noop()))
        }

        fn ping(id: i64) -> String {
            format!(
                "{}\n",
                json!({ "jsonrpc": "2.0", "id": id, "method": "ping" })
            )
        }

        fn cancel(id: i64) -> String {
            format!(
                "{}\n",
                json!({ "jsonrpc": "2.0", "method": "notifications/cancelled", "params": { "requestId": id } })
            )
        }

        fn answer(id: i64) -> ServerJsonRpcMessage {
            ServerJsonRpcMessage::response(ServerResult::empty(()), RequestId::Number(id))
        }

        fn request_id(message: Option<RxJsonRpcMessage<RoleServer>>) -> i64 {
            match message {
                Some(JsonRpcMessage::Request(request)) => match request.id {
                    NumberOrString::Number(id) => id,
                    NumberOrString::String(id) => panic!("{id}"),
                },
                other => panic!("expected a request, got {other:?}"),
            }
        }

        async fn next_json(lines: &mut tokio::io::Lines<BufReader<DuplexStream>>) -> Value {
            serde_json::from_str(&lines.next_line().await.unwrap().unwrap()).unwrap()
        }

        /// `future`'s output, failing the test after five seconds.
        async fn within<F: Future>(future: F) -> F::Output {
            tokio::time::timeout(std::time::Duration::from_secs(5), future)
                .await
                .expect("done within 5 s")
        }

        /// Lets the other tasks of this runtime run until they wait.
        async fn settle() {
            for _ in 0..100 {
                tokio::task::yield_now().await;
            }
        }

        #[tokio::test]
        async fn reading_stops_while_every_answer_is_owed_and_goes_on_once_one_is_written() {
            let (mut transport, mut client, mut stdout) = transport(256, 64 * 1024, 2, 1);
            let written = Arc::new(AtomicUsize::new(0));
            let count = written.clone();
            let writer = tokio::spawn(async move {
                for id in 1..=1_000 {
                    client.write_all(ping(id).as_bytes()).await.unwrap();
                    count.fetch_add(1, Ordering::SeqCst);
                }
            });
            assert_eq!(request_id(within(transport.receive()).await), 1);
            assert_eq!(request_id(within(transport.receive()).await), 2);
            {
                let mut third = pin!(transport.receive());
                assert!(poll_once(third.as_mut()).is_pending());
                settle().await;
                assert!(poll_once(third.as_mut()).is_pending());
            }
            let stalled = written.load(Ordering::SeqCst);
            assert!(
                stalled < 300,
                "the client wrote {stalled} lines: reading went on"
            );
            transport.send(answer(1)).await.unwrap();
            assert_eq!(next_json(&mut stdout).await["id"], 1);
            assert_eq!(request_id(within(transport.receive()).await), 3);
            for id in 2..=998 {
                within(transport.send(answer(id))).await.unwrap();
                assert_eq!(within(next_json(&mut stdout)).await["id"], id);
                assert_eq!(request_id(within(transport.receive()).await), id + 2);
            }
            writer.await.unwrap();
        }

        #[tokio::test]
        async fn error_replies_hold_room_until_they_are_written() {
            let (mut transport, mut client, mut stdout) = transport(64 * 1024, 64, 2, 1);
            let mut lines = "garbage\n".repeat(10);
            lines.push_str(&ping(1));
            client.write_all(lines.as_bytes()).await.unwrap();
            {
                let mut receive = pin!(transport.receive());
                assert!(poll_once(receive.as_mut()).is_pending());
                settle().await;
                assert!(
                    poll_once(receive.as_mut()).is_pending(),
                    "a third line was read while two replies wait for stdout"
                );
            }
            let reader = tokio::spawn(async move {
                let mut codes = Vec::new();
                for _ in 0..10 {
                    codes.push(next_json(&mut stdout).await["error"]["code"].clone());
                }
                codes
            });
            assert_eq!(request_id(within(transport.receive()).await), 1);
            assert_eq!(within(reader).await.unwrap(), vec![json!(-32700); 10]);
        }

        #[tokio::test]
        async fn a_cancelled_request_gives_its_room_back() {
            let (mut transport, mut client, _stdout) = transport(64 * 1024, 64 * 1024, 2, 1);
            let lines = [ping(1), cancel(1), ping(2), ping(3)].concat();
            client.write_all(lines.as_bytes()).await.unwrap();
            assert_eq!(request_id(within(transport.receive()).await), 1);
            assert!(matches!(
                within(transport.receive()).await,
                Some(JsonRpcMessage::Notification(_))
            ));
            assert_eq!(request_id(within(transport.receive()).await), 2);
            let mut third = pin!(transport.receive());
            assert!(
                matches!(
                    poll_once(third.as_mut()),
                    Poll::Ready(Some(JsonRpcMessage::Request(_)))
                ),
                "the cancelled request still holds its room"
            );
        }

        #[tokio::test]
        async fn a_request_reusing_an_id_in_progress_is_refused_and_the_first_is_answered() {
            let (mut transport, mut client, mut stdout) = transport(64 * 1024, 64 * 1024, 4, 1);
            let same = r#"{"jsonrpc":"2.0","id":"a","method":"ping"}"#;
            let lines = format!("{same}\n{same}\n{}", ping(2));
            client.write_all(lines.as_bytes()).await.unwrap();
            assert!(matches!(
                within(transport.receive()).await,
                Some(JsonRpcMessage::Request(request)) if request.id == RequestId::String("a".into())
            ));
            assert_eq!(request_id(within(transport.receive()).await), 2);
            let refused = within(next_json(&mut stdout)).await;
            assert_eq!(refused["id"], "a");
            assert_eq!(refused["error"]["code"], -32600);
            transport
                .send(ServerJsonRpcMessage::response(
                    ServerResult::empty(()),
                    RequestId::String("a".into()),
                ))
                .await
                .unwrap();
            let answered = next_json(&mut stdout).await;
            assert_eq!(
                (answered["id"].clone(), answered["result"].clone()),
                (json!("a"), json!({}))
            );
        }

        #[tokio::test]
        async fn progress_is_dropped_while_stdout_is_not_read_and_other_notices_wait() {
            let (mut transport, _client, mut stdout) = transport(64, 16, 1, 1);
            let progress = |step: f64| {
                ServerJsonRpcMessage::notification(ServerNotification::ProgressNotification(
                    ProgressNotification::new(ProgressNotificationParam::new(
                        ProgressToken(NumberOrString::Number(1)),
                        step,
                    )),
                ))
            };
            let first = tokio::spawn(transport.send(progress(1.0)));
            settle().await;
            assert!(!first.is_finished(), "stdout takes only 16 bytes");
            for step in 2..1_000 {
                let mut dropped = pin!(transport.send(progress(f64::from(step))));
                assert!(matches!(poll_once(dropped.as_mut()), Poll::Ready(Ok(()))));
            }
            let changed = tokio::spawn(transport.send(ServerJsonRpcMessage::notification(
                ServerNotification::ToolListChangedNotification(
                    ToolListChangedNotification::default(),
                ),
            )));
            settle().await;
            assert!(!changed.is_finished());
            let first_line = next_json(&mut stdout).await;
            assert_eq!(first_line["params"]["progress"], 1.0);
            let second_line = next_json(&mut stdout).await;
            assert_eq!(second_line["method"], "notifications/tools/list_changed");
            first.await.unwrap().unwrap();
            changed.await.unwrap().unwrap();
        }

        #[tokio::test]
        async fn notifications_and_responses_before_the_session_are_dropped() {
            let (client, server_in) = duplex(64 * 1024);
            let (server_out, _stdout) = duplex(64 * 1024);
            let mut transport = LineTransport::with_limits(server_in, server_out, 2, 1);
            let session = transport.session();
            let mut client = client;
            let lines = [
                cancel(1),
                r#"{"jsonrpc":"2.0","id":5,"result":{}}"#.to_owned() + "\n",
                r#"{"jsonrpc":"2.0","id":6,"error":{"code":1,"message":"x"}}"#.to_owned() + "\n",
                ping(1),
                cancel(1),
            ]
            .concat();
            client.write_all(lines.as_bytes()).await.unwrap();
            assert_eq!(request_id(within(transport.receive()).await), 1);
            session.start();
            assert!(matches!(
                within(transport.receive()).await,
                Some(JsonRpcMessage::Notification(_))
            ));
        }

        #[tokio::test]
        async fn a_cancelled_receive_keeps_the_partial_line() {
            let (mut transport, mut client, _stdout) = transport(64 * 1024, 64 * 1024, 1, 1);
            let line = ping(1);
            let (head, tail) = line.split_at(10);
            client.write_all(head.as_bytes()).await.unwrap();
            {
                let mut receive = pin!(transport.receive());
                assert!(poll_once(receive.as_mut()).is_pending());
            }
            client.write_all(tail.as_bytes()).await.unwrap();
            assert_eq!(request_id(within(transport.receive()).await), 1);
        }
    }
}
