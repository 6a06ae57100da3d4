//! `ward explain`: the diagnostic catalogue, from the compiler's own table.

use ward_compiler::diagnostics::Code;

use crate::output::{self, Failure};
use crate::{Outcome, status};

/// Runs `ward explain CODE` or `ward explain --list`.
pub fn run(code: Option<&str>, list: bool) -> Outcome {
    if list {
        let text: String = Code::ALL.iter().map(|c| format!("{}  {}\n", c.as_str(), c.title())).collect();
        output::stdout(&text);
        return Ok(status::ok());
    }
    let text = code.unwrap_or_default();
    let code = Code::parse(text).ok_or_else(|| {
        Failure::new(format!("unknown diagnostic code `{}`", text.trim()))
            .help("`ward explain --list` lists every code")
    })?;
    output::stdout(&format!("{}: {}\n\n{}\n", code.as_str(), code.title(), code.explanation().trim_end()));
    Ok(status::ok())
}
