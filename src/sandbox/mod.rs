//! The cStar sandbox: an in-memory emulator of cStar's REST API on
//! loopback, for tests, benchmarks and anyone trying the server without an
//! account. It writes cStar's wire format from its own records
//! (`records`), never from the client's models.
//!
//! Layout: `seed` makes the demo data (with `seed_heavy`), `seed_hostile`
//! the hostile data (from `hostile_text` and `hostile_values`), both with
//! the personal data of `personal_data`, `seed_data` chooses between
//! them, `dataset` queries the data, `state` holds keys, limits,
//! idempotency and the request log, `gate` runs around every request
//! (faults, auth, rate limit), `call` is what each endpoint starts from,
//! `params` and `draft` check query strings and bodies, `routes` are the
//! endpoints, `webhooks` the webhook endpoints and event emission,
//! `delivery` sends signed webhook deliveries, `event_data` writes their
//! payloads, `control` is the `/_sandbox/` API and `server` accepts
//! connections.

mod call;
mod control;
mod dataset;
mod delivery;
mod draft;
mod event_data;
mod faults;
mod gate;
mod hostile_text;
mod hostile_values;
mod params;
mod personal_data;
mod records;
mod routes;
mod seed;
mod seed_data;
mod seed_heavy;
mod seed_hostile;
mod server;
mod standalone;
mod state;
mod webhooks;
mod wire;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};

pub use faults::{FaultKind, FaultRule};
pub use hostile_text::{HOSTILE_SAMPLES, HostileSamples};
pub use personal_data::{PERSONAL_SAMPLES, PersonalSamples};
pub use seed::{TEAM_ID, TEAM_NAME, TEAM_SLUG};
pub use seed_data::SeedData;
pub use server::RunningSandbox;
pub use standalone::run_standalone;
pub use state::{DEMO_KEYS, DEMO_SECRET_TEST_KEY, DemoKey, Forward};

use state::SandboxState;

/// Builds the sandbox's routes over its state.
fn app(state: Arc<SandboxState>) -> Router {
    let team = "/api/v1/teams/{team}";
    let api = Router::new()
        .route("/api/v1/auth/whoami", get(routes::whoami))
        .route(
            &format!("{team}/tickets"),
            get(routes::list_tickets).post(routes::create_ticket),
        )
        .route(
            &format!("{team}/tickets/{{ticket}}"),
            get(routes::get_ticket),
        )
        .route(
            &format!("{team}/tickets/{{ticket}}/messages"),
            get(routes::list_messages),
        )
        .route(&format!("{team}/customers"), get(routes::list_customers))
        .route(
            &format!("{team}/customers/{{customer}}"),
            get(routes::get_customer),
        )
        .route(&format!("{team}/articles"), get(routes::list_articles))
        .route(
            &format!("{team}/articles/{{article}}"),
            get(routes::get_article),
        )
        .route(&format!("{team}/categories"), get(routes::list_categories))
        .route(
            &format!("{team}/webhooks"),
            get(webhooks::list_webhooks).post(webhooks::create_webhook),
        )
        .route(
            &format!("{team}/webhooks/trigger-test"),
            post(webhooks::trigger_test),
        )
        .route(
            &format!("{team}/webhooks/{{webhook}}"),
            get(webhooks::get_webhook)
                .patch(webhooks::update_webhook)
                .delete(webhooks::delete_webhook),
        )
        .fallback(routes::unknown_route)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            gate::gate,
        ));
    let control = Router::new()
        .route(
            "/_sandbox/faults",
            get(control::list_faults)
                .post(control::add_faults)
                .delete(control::clear_faults),
        )
        .route("/_sandbox/rate-limit", post(control::set_rate_limit))
        .route("/_sandbox/reset", post(control::reset))
        .route("/_sandbox/requests", get(control::requests))
        .route("/_sandbox/deliveries", get(control::deliveries))
        .route(
            "/_sandbox/webhook-schedule",
            get(control::schedule).post(control::set_schedule),
        );
    control.merge(api).with_state(state)
}

/// Starts the sandbox with the demo data on `127.0.0.1:port` (`0` picks a
/// free port).
pub async fn start(port: u16) -> std::io::Result<RunningSandbox> {
    start_with(port, &[], SeedData::Demo).await
}

/// Starts the sandbox with the demo data and local endpoints that receive
/// every event (`--forward-to`), each with a signing secret fixed by its
/// URL.
pub async fn start_forwarding(port: u16, forward_to: &[String]) -> std::io::Result<RunningSandbox> {
    start_with(port, forward_to, SeedData::Demo).await
}

/// Starts the sandbox serving `data`, forwarding every event to
/// `forward_to`.
pub async fn start_with(
    port: u16,
    forward_to: &[String],
    data: SeedData,
) -> std::io::Result<RunningSandbox> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let forwards = forward_to.iter().map(|url| Forward::new(url)).collect();
    server::start(addr, app(Arc::new(SandboxState::new(forwards, data)))).await
}
