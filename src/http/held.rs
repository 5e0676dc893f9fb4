//! Keeping something for as long as a response is being sent, not only
//! until its headers are ready.
//!
//! A handler returns once the status and headers are known, but a call
//! that reports progress is answered as an SSE stream that goes on until
//! the call ends. Whatever counts a request in progress (its per-key slot,
//! the access log's timing) must last as long as that body: `until_sent`
//! ties it to the body, and lets it go when the body ends, fails or is
//! dropped (the client went away).

use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::response::Response;
use http_body::{Frame, SizeHint};

/// `response`, keeping `held` until its body is sent or dropped.
pub fn until_sent<T: Send + Unpin + 'static>(response: Response, held: T) -> Response {
    response.map(|body| {
        Body::new(Holding {
            body,
            held: Some(held),
        })
    })
}

struct Holding<T> {
    body: Body,
    held: Option<T>,
}

impl<T: Send + Unpin + 'static> http_body::Body for Holding<T> {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = self.get_mut();
        let frame = std::task::ready!(Pin::new(&mut this.body).poll_frame(cx));
        if !matches!(frame, Some(Ok(_))) {
            this.held = None;
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use axum::response::IntoResponse;
    use http_body::Body as _;
    use tokio::sync::mpsc;

    struct Flag(Arc<AtomicBool>);

    impl Drop for Flag {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    /// A body that sends what the test sends, as a stream would.
    struct Channel(mpsc::Receiver<Bytes>);

    impl http_body::Body for Channel {
        type Data = Bytes;
        type Error = axum::Error;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
            self.0
                .poll_recv(cx)
                .map(|bytes| bytes.map(|bytes| Ok(Frame::data(bytes))))
        }
    }

    async fn next_frame(body: &mut Body) -> Option<Result<Frame<Bytes>, axum::Error>> {
        std::future::poll_fn(|cx| Pin::new(&mut *body).poll_frame(cx)).await
    }

    fn flag() -> (Flag, Arc<AtomicBool>) {
        let released = Arc::new(AtomicBool::new(false));
        (Flag(released.clone()), released)
    }

    #[tokio::test]
    async fn what_is_held_goes_when_the_body_ends_or_is_dropped() {
        let (sender, receiver) = mpsc::channel(1);
        let (held, released) = flag();
        let mut body = until_sent(Response::new(Body::new(Channel(receiver))), held).into_body();
        sender.send(Bytes::from("event")).await.unwrap();
        assert!(next_frame(&mut body).await.is_some());
        assert!(!released.load(Ordering::SeqCst), "held while streaming");
        drop(sender);
        assert!(next_frame(&mut body).await.is_none());
        assert!(released.load(Ordering::SeqCst), "released at the end");

        let (held, released) = flag();
        drop(until_sent("unread".into_response(), held));
        assert!(released.load(Ordering::SeqCst), "released when dropped");

        let whole = until_sent("whole".into_response(), ());
        assert_eq!(whole.body().size_hint().exact(), Some(5));
    }
}
