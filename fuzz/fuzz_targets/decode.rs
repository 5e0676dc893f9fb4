//! Feeds arbitrary bytes to every decoder of cStar's response bodies: none
//! may panic, and an error body always yields a message.

#![no_main]

use cstar_mcp::api::envelope::{decode_error, decode_list, decode_object, request_id_of};
use cstar_mcp::api::models::{Article, Customer, Message, Ticket, TriggerResult, WhoAmI};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let status = 400 + u16::from(data.first().copied().unwrap_or(0)) % 200;
    let error = decode_error(status, data, None, None);
    assert_eq!(error.status, status);
    assert!(!error.message.is_empty());
    let _ = decode_list::<Ticket>(data);
    let _ = decode_list::<Customer>(data);
    let _ = decode_list::<Article>(data);
    let _ = decode_list::<Message>(data);
    let _ = decode_object::<Ticket>(data);
    let _ = decode_object::<WhoAmI>(data);
    let _ = decode_object::<TriggerResult>(data);
    let _ = request_id_of(data);
});
