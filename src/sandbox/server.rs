//! Accepts loopback connections and serves them with hyper, one task per
//! connection. Each connection carries a `ConnectionKiller`, so a fault can
//! close it without an answer (a reset, or a create whose answer is lost).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::{Extension, Router};
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use super::gate::ConnectionKiller;

/// A sandbox serving in the background. Dropping it stops it: the
/// listener closes and so does every open connection.
pub struct RunningSandbox {
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl RunningSandbox {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, the base URL to give the client.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Serves until the process ends (the standalone `sandbox` command).
    pub async fn wait(mut self) {
        let task = std::mem::replace(&mut self.task, tokio::spawn(async {}));
        let _ = task.await;
    }
}

impl Drop for RunningSandbox {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        self.task.abort();
    }
}

pub async fn start(addr: SocketAddr, app: Router) -> std::io::Result<RunningSandbox> {
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = watch::channel(false);
    let mut stopping = stopped.clone();
    let task = tokio::spawn(async move {
        loop {
            tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => serve_connection(stream, app.clone(), stopped.clone()),
                    Err(error) => {
                        tracing::warn!(%error, "sandbox accept failed");
                        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    }
                },
                _ = stopping.changed() => break,
            }
        }
    });
    Ok(RunningSandbox { addr, stop, task })
}

fn serve_connection(
    stream: tokio::net::TcpStream,
    app: Router,
    mut stopped: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let kill = Arc::new(Notify::new());
    let service = TowerToHyperService::new(app.layer(Extension(ConnectionKiller(kill.clone()))));
    tokio::spawn(async move {
        let connection = hyper::server::conn::http1::Builder::new()
            .keep_alive(true)
            .serve_connection(TokioIo::new(stream), service);
        tokio::select! {
            result = connection => {
                if let Err(error) = result {
                    tracing::debug!(%error, "sandbox connection ended with an error");
                }
            }
            _ = kill.notified() => tracing::debug!("sandbox connection closed by a fault"),
            _ = stopped.changed() => tracing::debug!("sandbox stopped: connection closed"),
        }
    });
}
