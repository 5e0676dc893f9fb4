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

use crate::cli::HttpLimits;

/// How long a stop waits for requests in progress.
const DRAIN: Duration = Duration::from_secs(30);

const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\nconnection: close\r\ncontent-length: 91\r\n\r\n{\"error\":{\"code\":\"server_busy\",\"message\":\"Too many open connections. Retry in a second.\"}}\n";

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
/// handoff channel, which starts the workers' drain.
pub async fn accept(
    listener: TcpListener,
    workers: Vec<Worker>,
    limits: HttpLimits,
    stop: impl std::future::Future<Output = ()>,
) {
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
            () = &mut stop => break,
        };
        let Ok(permit) = cap.clone().try_acquire_owned() else {
            tokio::spawn(refuse(stream));
            continue;
        };
        let _ = stream.set_nodelay(true);
        let Some(worker) = workers.iter().min_by_key(|worker| worker.open.get()) else {
            return;
        };
        // Leave this thread's reactor, to join the worker's.
        let Ok(stream) = stream.into_std() else {
            continue;
        };
        worker.open.inc();
        if worker.handoffs.send(Handoff { stream, permit }).is_err() {
            worker.open.dec();
            tracing::warn!("a worker thread is gone; connection dropped");
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
    let _ = tokio::time::timeout(Duration::from_secs(1), stream.write_all(BUSY)).await;
    let _ = stream.shutdown().await;
}
