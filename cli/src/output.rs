//! Messages to the user: errors, colour, usage problems.

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;

use crate::{ColorChoice, status};

/// Why a command could not do its job: printed as `error: …` on standard
/// error, with exit status 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// One line, lower-case start, identifiers and paths in backticks.
    pub message: String,
    /// One line of advice.
    pub help: Option<String>,
}

impl Failure {
    /// A failure with a message.
    pub fn new(message: impl Into<String>) -> Failure {
        Failure { message: message.into(), help: None }
    }

    /// Adds advice.
    pub fn help(mut self, help: impl Into<String>) -> Failure {
        self.help = Some(help.into());
        self
    }

    /// Prints the failure and returns the exit status for it.
    pub fn report(&self, color: bool) -> ExitCode {
        let mut text = format!("{}: {}\n", paint("error", RED, color), self.message);
        if let Some(help) = &self.help {
            text.push_str(&format!("  {}: {help}\n", paint("help", CYAN, color)));
        }
        // Nothing sensible remains to be done if standard error is gone.
        let _ = io::stderr().write_all(text.as_bytes());
        status::error()
    }
}

const RED: &str = "\x1b[1;31m";
const CYAN: &str = "\x1b[1;36m";

fn paint(text: &str, style: &str, color: bool) -> String {
    if color { format!("{style}{text}\x1b[0m") } else { text.to_owned() }
}

/// Whether to colour what goes to standard error.
pub fn use_color(choice: ColorChoice) -> bool {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    match choice {
        _ if no_color => false,
        ColorChoice::Never => false,
        ColorChoice::Always => true,
        ColorChoice::Auto => io::stderr().is_terminal(),
    }
}

/// Reports a command-line parsing problem. Help and version requests go to
/// standard output with status 0; usage errors to standard error with status
/// 1 (status 2 is reserved for a denied request).
pub fn usage_error(error: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    let _ = error.print();
    match error.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => status::ok(),
        // `ward` alone prints the help on standard error, as a usage error.
        _ => status::error(),
    }
}

/// Writes text to standard output. A closed pipe (`ward … | head`) is not
/// an error worth reporting.
pub fn stdout(text: &str) {
    let mut out = io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

/// Writes text to standard error.
pub fn stderr(text: &str) {
    let mut err = io::stderr().lock();
    let _ = err.write_all(text.as_bytes()).and_then(|()| err.flush());
}

/// Describes an IO error in the style of Ward's messages.
pub fn describe_io(error: &io::Error) -> String {
    match error.kind() {
        io::ErrorKind::NotFound => "no such file or directory".to_owned(),
        io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        io::ErrorKind::InvalidData => "the file is not UTF-8 text".to_owned(),
        io::ErrorKind::IsADirectory => "it is a directory".to_owned(),
        _ => {
            let text = error.to_string();
            let mut chars = text.chars();
            match chars.next() {
                Some(first) => first.to_lowercase().chain(chars).collect(),
                None => "unknown error".to_owned(),
            }
        }
    }
}
