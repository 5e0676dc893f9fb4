//! The HTTP/1.1 connections of the shared server: one accept loop that
//! hands each connection to the worker thread with the fewest open ones,
//! and on each worker thread a loop that serves the connections it is
//! handed.
//!
//! Accepting is where the limits start: a cap on open connections (past it
//! a connection gets a 503 and is closed, so a flood cannot make everyone
//! wait) and a deadline for each request's headers. A stop closes the
//! socket, then lets requests in progress finish on every thread.
//!
//! Handing connections out, rather than letting every thread accept, keeps
//! the threads evenly loaded: with threads racing to accept, one of two
//! took 60% of the keep-alive connections in the benchmark and became the
//! bottleneck.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use prometheus_client::metrics::gauge::Gauge;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};

use super::refusal;
use crate::cli::HttpLimits;

/// How long a stop waits for requests in progress.
const DRAIN: Duration = Duration::from_secs(30);

/// An accepted connection on its way to a worker thread, with its place
/// under the connection cap.
pub struct Handoff {
    stream: std::net::TcpStream,
    permit: OwnedSemaphorePermit,
}

/// The accept loop's end of one worker thread.
pub struct Worker {
    handoffs: mpsc::UnboundedSender<Handoff>,
    /// Its open connections (`cstar_mcp_http_connections_open`).
    open: Gauge,
}

/// A worker thread's end: the connections it is handed.
pub struct Connections {
    handoffs: mpsc::UnboundedReceiver<Handoff>,
    open: Gauge,
}

/// A channel from the accept loop to worker thread `index`.
pub fn worker(index: usize) -> (Worker, Connections) {
    let (sender, receiver) = mpsc::unbounded_channel();
    let open = crate::metrics::global().http_connections(index);
    (
        Worker {
            handoffs: sender,
            open: open.clone(),
        },
        Connections {
            handoffs: receiver,
            open,
        },
    )
}

/// Accepts on `listener` until `stop` resolves, handing each connection to
/// the worker with the fewest open. Returning closes the socket and every
/// handoff channel, which starts the workers' drain. Fails only when no
/// worker thread is left to serve.
pub async fn accept(
    listener: TcpListener,
    mut workers: Vec<Worker>,
    limits: HttpLimits,
    stop: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    let cap = Arc::new(Semaphore::new(limits.max_connections));
    let mut stop = std::pin::pin!(stop);
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of descriptors, most often: wait for some to close.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut stop => return Ok(()),
        };
        let Ok(permit) = cap.clone().try_acquire_owned() else {
            tokio::spawn(refuse(stream));
            continue;
        };
        let _ = stream.set_nodelay(true);
        // Leave this thread's reactor, to join the worker's.
        let Ok(stream) = stream.into_std() else {
            continue;
        };
        let mut handoff = Handoff { stream, permit };
        loop {
            let Some(index) = (0..workers.len()).min_by_key(|&index| workers[index].open.get())
            else {
                anyhow::bail!("every HTTP worker thread has stopped; nothing is left to serve");
            };
            let worker = &workers[index];
            worker.open.inc();
            match worker.handoffs.send(handoff) {
                Ok(()) => break,
                Err(mpsc::error::SendError(returned)) => {
                    // Its thread ended (it could not start a runtime): hand
                    // the connection to another, and never pick this one again.
                    worker.open.dec();
                    tracing::warn!("an HTTP worker thread is gone; its share moves to the others");
                    workers.swap_remove(index);
                    handoff = returned;
                }
            }
        }
    }
}

/// Serves the connections this thread is handed until the accept loop
/// stops, then waits for their requests in progress.
pub async fn serve(mut connections: Connections, app: Router, limits: HttpLimits) {
    let graceful = GracefulShutdown::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    while let Some(Handoff { stream, permit }) = connections.handoffs.recv().await {
        let open = connections.open.clone();
        let stream = match TcpStream::from_std(stream) {
            Ok(stream) => stream,
            Err(error) => {
                tracing::warn!(%error, "could not take over a connection");
                open.dec();
                continue;
            }
        };
        let service = TowerToHyperService::new(app.clone());
        let connection = builder.serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "HTTP connection ended with an error");
            }
            open.dec();
            drop(permit);
        });
    }
    if tokio::time::timeout(DRAIN, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("requests still in progress after {DRAIN:?}; stopping anyway");
    }
}

/// Tells a client past the connection cap to come back, and closes.
async fn refuse(mut stream: TcpStream) {
    tracing::warn!("connection cap reached: answering 503");
    let body = refusal::body(
        "server_busy",
        "Too many open connections. Retry in a second.",
    );
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let _ = tokio::time::timeout(Duration::from_secs(1), stream.write_all(answer.as_bytes())).await;
    let _ = stream.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn accepting(
        workers: Vec<Worker>,
    ) -> (
        std::net::SocketAddr,
        tokio::task::JoinHandle<anyhow::Result<()>>,
        tokio::sync::oneshot::Sender<()>,
    ) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(accept(
            listener,
            workers,
            HttpLimits::default(),
            async move {
                let _ = stopped.await;
            },
        ));
        (address, task, stop)
    }

    #[tokio::test]
    async fn a_connection_meant_for_a_stopped_worker_goes_to_another() {
        // Indices of their own: the gauges are the process's.
        let (stopped_worker, stopped_end) = worker(100);
        drop(stopped_end);
        let (live_worker, mut live_end) = worker(101);
        let (address, task, stop) = accepting(vec![stopped_worker, live_worker]).await;
        for _ in 0..3 {
            let _client = TcpStream::connect(address).await.unwrap();
            let handed = tokio::time::timeout(Duration::from_secs(5), live_end.handoffs.recv())
                .await
                .unwrap();
            assert!(handed.is_some());
        }
        assert_eq!(crate::metrics::global().http_connections(100).get(), 0);
        stop.send(()).unwrap();
        assert!(task.await.unwrap().is_ok());
    }

    #[tokio::test]
    async fn with_no_worker_left_accepting_fails() {
        let (stopped_worker, stopped_end) = worker(102);
        drop(stopped_end);
        let (address, task, _stop) = accepting(vec![stopped_worker]).await;
        let _client = TcpStream::connect(address).await.unwrap();
        let outcome = tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .unwrap()
            .unwrap();
        assert!(
            outcome
                .unwrap_err()
                .to_string()
                .contains("nothing is left to serve")
        );
    }
}
