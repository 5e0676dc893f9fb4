//! `Call`: what every emulated endpoint starts from. The gate has already
//! authenticated the request; this extractor hands a handler the state, the
//! caller and the request id, plus the checks and answers they all share.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Response;
use serde::Serialize;
use serde_json::Value;

use super::dataset::Dataset;
use super::state::{Caller, SandboxState};
use super::wire::{self, ApiFailure, RequestId};
use crate::api::secret::KeyType;

/// One authenticated API request.
pub struct Call {
    pub state: Arc<SandboxState>,
    pub caller: Caller,
    pub request_id: RequestId,
}

impl FromRequestParts<Arc<SandboxState>> for Call {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<SandboxState>,
    ) -> Result<Self, Response> {
        let request_id = parts
            .extensions
            .get::<RequestId>()
            .cloned()
            .unwrap_or_else(|| RequestId("req_unknown".to_owned()));
        let Some(caller) = parts.extensions.get::<Caller>().copied() else {
            let failure = ApiFailure::new(
                StatusCode::UNAUTHORIZED,
                "authentication_required",
                "No API key was checked.",
            );
            return Err(failure.respond(&request_id));
        };
        Ok(Call {
            state: state.clone(),
            caller,
            request_id,
        })
    }
}

impl Call {
    /// The answer, or cStar's error body for the failure.
    pub fn finish(&self, outcome: Result<Response, ApiFailure>) -> Response {
        outcome.unwrap_or_else(|failure| failure.respond(&self.request_id))
    }

    /// The path's team must be the key's own team (by id, or by the slug
    /// its data has).
    pub fn in_team(&self, team: &str) -> Result<(), ApiFailure> {
        if team == self.caller.key.team.id || self.read(|data| data.team_slug == team) {
            Ok(())
        } else {
            Err(ApiFailure::new(
                StatusCode::FORBIDDEN,
                "team_access_denied",
                "This API key does not belong to the team in the path.",
            ))
        }
    }

    /// Refuses publishable keys: for a write, or for a secret-only read.
    pub fn require_secret(&self, write: bool) -> Result<(), ApiFailure> {
        match (self.caller.key.key_type, write) {
            (KeyType::Secret, _) => Ok(()),
            (KeyType::Publishable, true) => Err(ApiFailure::new(
                StatusCode::FORBIDDEN,
                "publishable_key_write",
                "Publishable keys are read-only. Use a secret key (sk_live_ or sk_test_) for writes.",
            )),
            (KeyType::Publishable, false) => Err(ApiFailure::new(
                StatusCode::FORBIDDEN,
                "insufficient_permissions",
                "Secret key required for this endpoint",
            )),
        }
    }

    /// Reads the caller's data set (its team and environment).
    pub fn read<R>(&self, read: impl FnOnce(&Dataset) -> R) -> R {
        let inner = self.state.lock();
        let key = self.caller.key;
        match inner.environments.get(&(key.team, key.environment)) {
            Some(dataset) => read(dataset),
            None => read(&super::seed::dataset(key.team, 0)),
        }
    }

    /// Changes the caller's data set.
    pub fn write<R>(&self, write: impl FnOnce(&mut Dataset) -> R) -> Result<R, ApiFailure> {
        let mut inner = self.state.lock();
        let key = self.caller.key;
        inner
            .environments
            .get_mut(&(key.team, key.environment))
            .map(write)
            .ok_or_else(|| {
                ApiFailure::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal_error",
                    "No data set",
                )
            })
    }

    /// `{ success, data, meta }` with this request's id.
    pub fn object(&self, status: StatusCode, data: impl Serialize) -> Response {
        wire::object(status, &self.request_id, data)
    }

    /// Page `page` of `items`, with pagination in both documented places.
    pub fn page<T: Serialize>(&self, items: &[&T], page: u32, page_size: u32) -> Response {
        let start = (page as usize - 1).saturating_mul(page_size as usize);
        let values = items
            .iter()
            .skip(start)
            .take(page_size as usize)
            .map(|item| serde_json::to_value(item).unwrap_or(Value::Null))
            .collect();
        wire::page(&self.request_id, values, page, page_size, items.len())
    }

    /// A whole list, without pagination.
    pub fn list<T: Serialize>(&self, items: &[T]) -> Response {
        let values = items
            .iter()
            .map(|item| serde_json::to_value(item).unwrap_or(Value::Null))
            .collect();
        wire::plain_list(&self.request_id, values)
    }
}
