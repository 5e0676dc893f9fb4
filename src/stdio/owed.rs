//! Answers owed: the bound between stdin and stdout.
//!
//! rmcp's serve loop reads as fast as the transport gives, and spawns a
//! task per request and per answer, so a client that writes requests and
//! never reads its answers would have the server queue them all. Here the
//! transport reads a line only while it holds room for one more answer: one
//! of a fixed number of permits, kept by request id until that answer is
//! written (or the request is cancelled, when rmcp drops its answer), or
//! held by an error reply the transport writes itself. When the client
//! stops reading, answers stop leaving, the permits run out, and the server
//! stops reading stdin: the client's writes block in the pipe.
//!
//! Notifications the server sends hold one of a few other permits while
//! written. A progress notification that finds none is dropped (progress
//! is advisory, and the next one says more); any other waits for one.
//!
//! No deadlock: only `receive` waits for room, and room is freed by writes
//! and cancellations, never by work that waits for room. The server sends
//! no requests to the client, so no answer waits on what stdin brings.

use std::collections::HashMap;
use std::sync::Arc;

use rmcp::model::{RequestId, ServerNotification};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Answers owed at most: requests being served plus error replies being
/// written.
pub const MAX_OWED: usize = 64;

/// Server notifications being written at most.
pub const MAX_NOTICES: usize = 16;

/// The ledger of answers owed, kept by the transport.
#[derive(Debug)]
pub struct Owed {
    room: Arc<Semaphore>,
    by_id: HashMap<RequestId, OwnedSemaphorePermit>,
    notices: Arc<Semaphore>,
}

/// What writing one message holds or waits for.
pub enum Hold {
    /// Write it, holding this permit (if any) until written.
    Permit(Option<OwnedSemaphorePermit>),
    /// Write it once one of these permits is free, holding it until written.
    Wait(Arc<Semaphore>),
    /// Drop it: stdout is not keeping up.
    Drop,
}

impl Owed {
    pub fn new(answers: usize, notices: usize) -> Self {
        Owed {
            room: Arc::new(Semaphore::new(answers)),
            by_id: HashMap::new(),
            notices: Arc::new(Semaphore::new(notices)),
        }
    }

    /// Waits for room for one more answer. Cancel-safe: a wait that is
    /// dropped takes nothing. `None` only if the semaphore was closed,
    /// which it never is.
    pub async fn room(&self) -> Option<OwnedSemaphorePermit> {
        self.room.clone().acquire_owned().await.ok()
    }

    /// Records that `id` is owed an answer, or gives the room back when an
    /// answer to that id is owed already.
    pub fn owe(
        &mut self,
        id: RequestId,
        room: OwnedSemaphorePermit,
    ) -> Result<(), OwnedSemaphorePermit> {
        if self.by_id.contains_key(&id) {
            return Err(room);
        }
        self.by_id.insert(id, room);
        Ok(())
    }

    /// The answer to `id` is being written, or will never be: its room, to
    /// free once it is.
    pub fn settle(&mut self, id: &RequestId) -> Option<OwnedSemaphorePermit> {
        self.by_id.remove(id)
    }

    /// What writing `notification` holds or waits for.
    pub fn notice(&self, notification: &ServerNotification) -> Hold {
        match notification {
            ServerNotification::ProgressNotification(_) => {
                match self.notices.clone().try_acquire_owned() {
                    Ok(permit) => Hold::Permit(Some(permit)),
                    Err(_) => Hold::Drop,
                }
            }
            _ => Hold::Wait(self.notices.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rmcp::model::{
        NumberOrString, ProgressNotificationParam, ProgressToken, ToolListChangedNotification,
    };

    fn progress() -> ServerNotification {
        ServerNotification::ProgressNotification(rmcp::model::ProgressNotification::new(
            ProgressNotificationParam::new(ProgressToken(NumberOrString::Number(1)), 1.0),
        ))
    }

    #[tokio::test]
    async fn an_id_is_owed_once_and_its_room_comes_back_when_settled() {
        let mut owed = Owed::new(2, 1);
        let first = owed.room().await.unwrap();
        let id = RequestId::Number(7);
        assert!(owed.owe(id.clone(), first).is_ok());
        let second = owed.room().await.unwrap();
        let second = owed.owe(id.clone(), second).unwrap_err();
        assert_eq!(owed.room.available_permits(), 0);
        drop(second);
        assert_eq!(owed.room.available_permits(), 1);
        assert!(owed.settle(&id).is_some());
        assert!(owed.settle(&id).is_none());
        assert_eq!(owed.room.available_permits(), 2);
    }

    #[test]
    fn progress_is_dropped_when_no_notice_permit_is_free_and_the_rest_waits() {
        let owed = Owed::new(1, 1);
        let Hold::Permit(Some(held)) = owed.notice(&progress()) else {
            panic!("the first progress notification is written");
        };
        assert!(matches!(owed.notice(&progress()), Hold::Drop));
        let other =
            ServerNotification::ToolListChangedNotification(ToolListChangedNotification::default());
        assert!(matches!(owed.notice(&other), Hold::Wait(_)));
        drop(held);
        assert!(matches!(owed.notice(&progress()), Hold::Permit(Some(_))));
    }
}
