//! Word of what a call is waiting for, for a caller that wants it: the MCP
//! server turns it into `notifications/progress` when the client sent a
//! progress token, so clients that give up after about 60 s of silence see
//! the call is alive. The client reports through a task-local reporter, so
//! no request method carries an extra argument and the client never
//! imports MCP.

use std::future::Future;
use std::sync::Arc;

/// Receives one human-readable line per event.
pub type Reporter = Arc<dyn Fn(String) + Send + Sync>;

tokio::task_local! {
    static REPORTER: Reporter;
}

/// Runs `future`, sending its progress lines to `reporter` when given.
pub async fn reporting<F: Future>(reporter: Option<Reporter>, future: F) -> F::Output {
    match reporter {
        Some(reporter) => REPORTER.scope(reporter, future).await,
        None => future.await,
    }
}

/// The reporter of the calling task, to hand to work it starts elsewhere.
pub fn current() -> Option<Reporter> {
    REPORTER.try_with(Reporter::clone).ok()
}

/// Reports a line to the caller's reporter, if it set one. The line is
/// only written when someone listens.
pub fn report(line: impl FnOnce() -> String) {
    let _ = REPORTER.try_with(|reporter| reporter(line()));
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[tokio::test]
    async fn lines_reach_the_reporter_of_the_calling_task_only() {
        let lines: Arc<Mutex<Vec<String>>> = Arc::default();
        let sink = lines.clone();
        let reporter: Reporter = Arc::new(move |line| sink.lock().unwrap().push(line));
        reporting(Some(reporter), async { report(|| "retrying".into()) }).await;
        report(|| "nobody listens".into());
        assert_eq!(*lines.lock().unwrap(), ["retrying"]);
    }
}
