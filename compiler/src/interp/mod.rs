//! The reference interpreter: the executable definition of Ward's semantics.

use ward_types::{Decision, Request};

use crate::program::Program;

/// Decides a request.
pub fn decide(_program: &Program, _request: &Request) -> Decision {
    Decision::fail_closed(Vec::new())
}

/// Decides a request given as JSON text; a document that is not a request
/// is a deny with a `malformed_request` error.
pub fn decide_json(program: &Program, request: &[u8]) -> Decision {
    match Request::from_json(request) {
        Ok(request) => decide(program, &request),
        Err(error) => Decision::fail_closed(vec![error]),
    }
}
