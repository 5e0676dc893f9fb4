//! `ApiError`: everything that can go wrong talking to cStar, with the facts
//! a caller needs to explain it (HTTP status, cStar's own type, code,
//! message and parameter, the request id, and how long to wait).

use std::fmt;
use std::time::Duration;

/// A non-2xx answer from cStar, decoded from any documented error body.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusError {
    pub status: u16,
    /// cStar's error type, e.g. `invalid_request_error`.
    pub error_type: Option<String>,
    /// cStar's error code, lower-cased, e.g. `parameter_missing`.
    pub code: Option<String>,
    pub message: String,
    /// The request field at fault, when cStar names one.
    pub param: Option<String>,
    pub request_id: Option<String>,
    /// From `Retry-After` or the body's `retryAfter`.
    pub retry_after: Option<Duration>,
    /// How many attempts were made before giving up.
    pub attempts: u32,
}

/// Why a request did not produce a usable answer.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// No API key is configured.
    MissingKey,
    /// The configured key does not have one of cStar's four prefixes.
    MalformedKey,
    /// An argument was refused before any request was sent.
    InvalidInput { param: String, message: String },
    /// cStar answered with an error status.
    Status(Box<StatusError>),
    /// No answer within the timeout, on every attempt.
    Timeout { attempts: u32 },
    /// cStar could not be reached or the connection broke. `sent`: whether
    /// any attempt may have reached cStar (every one was refused before
    /// connecting when false, so a write cannot have happened).
    Network {
        attempts: u32,
        detail: String,
        sent: bool,
    },
    /// Refused before anything was sent: this process has as much of this
    /// kind of work in flight as it takes. Worth retrying shortly.
    Busy { detail: String },
    /// cStar answered 2xx with a body that is not the documented envelope.
    Decode {
        status: u16,
        request_id: Option<String>,
        detail: String,
    },
}

impl ApiError {
    /// Whether a write that failed this way may still have happened: no
    /// answer settled it. A definite refusal (4xx other than 408 and 429)
    /// settles it; a lost or unreadable answer, a 5xx or a 429 (after an
    /// earlier attempt may have landed) does not.
    pub fn leaves_outcome_unknown(&self) -> bool {
        match self {
            ApiError::Timeout { .. } | ApiError::Decode { .. } => true,
            ApiError::Network { sent, .. } => *sent,
            ApiError::Status(error) => matches!(error.status, 408 | 429) || error.status >= 500,
            ApiError::MissingKey
            | ApiError::MalformedKey
            | ApiError::InvalidInput { .. }
            | ApiError::Busy { .. } => false,
        }
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Status(error) => Some(error.status),
            ApiError::Decode { status, .. } => Some(*status),
            _ => None,
        }
    }

    pub fn request_id(&self) -> Option<&str> {
        match self {
            ApiError::Status(error) => error.request_id.as_deref(),
            ApiError::Decode { request_id, .. } => request_id.as_deref(),
            _ => None,
        }
    }

    /// cStar's error code, or this client's own for local failures.
    pub fn code(&self) -> &str {
        match self {
            ApiError::MissingKey => "missing_api_key",
            ApiError::MalformedKey => "invalid_key_format",
            ApiError::InvalidInput { .. } => "parameter_invalid",
            ApiError::Status(error) => error.code.as_deref().unwrap_or("http_error"),
            ApiError::Timeout { .. } => "timeout",
            ApiError::Busy { .. } => "server_busy",
            ApiError::Network { .. } => "network_error",
            ApiError::Decode { .. } => "invalid_response",
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::MissingKey => write!(f, "no cStar API key is configured"),
            ApiError::MalformedKey => write!(f, "the cStar API key is not in cStar's format"),
            ApiError::InvalidInput { message, .. } => write!(f, "{message}"),
            ApiError::Status(error) => {
                write!(f, "cStar answered {}: {}", error.status, error.message)?;
                if let Some(id) = &error.request_id {
                    write!(f, " (request {id})")?;
                }
                Ok(())
            }
            ApiError::Timeout { attempts } => {
                write!(f, "cStar did not answer in time ({attempts} attempts)")
            }
            ApiError::Busy { detail } => write!(f, "this server is busy: {detail}"),
            ApiError::Network {
                attempts, detail, ..
            } => {
                write!(f, "could not reach cStar ({attempts} attempts): {detail}")
            }
            ApiError::Decode { status, detail, .. } => {
                write!(
                    f,
                    "cStar answered {status} with an unreadable body: {detail}"
                )
            }
        }
    }
}

impl std::error::Error for ApiError {}
