//! `ward eval`: decide one request and print the decision.

use std::io::Read;
use std::path::PathBuf;

use crate::engine::{Engine, Interpreter, Module};
use crate::output::{self, Failure, describe_io};
use crate::{Outcome, status};

/// Runs `ward eval --policy PATH… --request FILE|-`.
pub fn run(policy: &[PathBuf], request: &str, color: bool) -> Outcome {
    let engine = Interpreter::load(policy, color)?;
    let request = read_request(request)?;
    decide(&engine, &request)
}

/// Runs `ward eval MODULE --request FILE|-`.
pub fn run_module(module: &std::path::Path, request: &str) -> Outcome {
    let engine = Module::load(module)?;
    let request = read_request(request)?;
    decide(&engine, &request)
}

/// Decides with any engine, prints the decision as JSON and returns the
/// status: 0 for allow, 2 for deny.
fn decide(engine: &dyn Engine, request: &[u8]) -> Outcome {
    let decision = engine.decide(request);
    let text = serde_json::to_string_pretty(&decision)
        .map_err(|e| Failure::new(format!("cannot write the decision as JSON: {e}")))?;
    output::stdout(&format!("{text}\n"));
    Ok(if decision.is_allow() { status::ok() } else { status::deny() })
}

/// The request's bytes, from a file or standard input (`-`).
fn read_request(source: &str) -> Result<Vec<u8>, Failure> {
    if source == "-" {
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .map_err(|e| Failure::new(format!("cannot read the request from standard input: {}", describe_io(&e))))?;
        Ok(bytes)
    } else {
        std::fs::read(source).map_err(|e| Failure::new(format!("cannot read request `{source}`: {}", describe_io(&e))))
    }
}
