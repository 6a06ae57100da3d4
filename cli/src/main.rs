//! The `ward` command: checks and formats policies, explains diagnostic
//! codes and evaluates requests.
//!
//! Everything that touches the outside world — files, standard streams,
//! colours, exit codes — lives here; the compiler does no IO.

mod build;
mod check;
mod doc;
mod engine;
mod eval;
mod explain;
mod fmt;
mod init;
mod output;
mod sources;
mod test;

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::output::Failure;

/// The command line.
#[derive(Debug, Parser)]
#[command(name = "ward", version, long_about = None)]
#[command(about = "Ward: a statically typed policy language for zero-trust rules about AI systems")]
#[command(after_help = "Exit status: 0 on success (or allow), 1 on errors, 2 when `ward eval` denies.")]
struct Cli {
    /// When to colour diagnostics. `NO_COLOR`, when set and not empty, turns
    /// colour off.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true)]
    color: ColorChoice,

    #[command(subcommand)]
    command: Command,
}

/// When to colour output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ColorChoice {
    /// Colour when standard error is a terminal.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Type-check policy files and folders as one program.
    Check(CheckArgs),
    /// Rewrite policy files in the canonical layout, or check that they are.
    Fmt(FmtArgs),
    /// Explain a diagnostic code, or list every code.
    Explain(ExplainArgs),
    /// Compile policies into a WebAssembly decision module.
    Build(BuildArgs),
    /// Decide a request against a policy or a decision module and print the decision.
    Eval(EvalArgs),
    /// Serve the Language Server Protocol on standard input and output.
    Lsp,
    /// Run the `test` blocks of a program through its compiled module and the interpreter.
    Test(TestArgs),
    /// Create a policy project: a schema, rules, tests and a CI script.
    Init(InitArgs),
    /// Print reference documentation of packages from their doc comments.
    Doc(DocArgs),
}

/// Arguments of `ward doc`.
#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("what").required(true).multiple(true).args(["paths", "stdlib"]))]
struct DocArgs {
    /// Policy files or folders to document.
    #[arg(value_name = "PATH")]
    paths: Vec<std::path::PathBuf>,

    /// Document the standard library.
    #[arg(long)]
    stdlib: bool,

    /// Write one Markdown page per package into this directory instead of printing.
    #[arg(short, long, value_name = "DIR")]
    output: Option<std::path::PathBuf>,
}

/// Arguments of `ward init`.
#[derive(Debug, Args)]
struct InitArgs {
    /// The directory to create; its name becomes the package name.
    #[arg(value_name = "NAME")]
    dir: std::path::PathBuf,
}

/// Arguments of `ward test`.
#[derive(Debug, Args)]
struct TestArgs {
    /// Policy and test files or folders, compiled together as one program.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<std::path::PathBuf>,

    /// Run only the tests whose name contains this text.
    #[arg(long, value_name = "TEXT")]
    filter: Option<String>,

    /// How to print results: one line per test, or a JSON report on standard output.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,

    /// Also write a JUnit XML report to this file.
    #[arg(long, value_name = "FILE")]
    junit: Option<std::path::PathBuf>,

    /// Print, for every rule, how many tests it decided, and the rules no test exercises.
    #[arg(long)]
    coverage: bool,

    /// Fail when fewer than this percentage of rules decide at least one test.
    #[arg(long, value_name = "PERCENT")]
    min_coverage: Option<f64>,
}

/// Arguments of `ward build`.
#[derive(Debug, Args)]
struct BuildArgs {
    /// Policy files or folders, compiled together as one program.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<std::path::PathBuf>,

    /// Where to write the module.
    #[arg(short, long, value_name = "OUT.wasm")]
    output: std::path::PathBuf,

    /// Also write the module precompiled for this machine, for fast gateway
    /// start-up.
    #[arg(long, value_name = "OUT.cwasm")]
    precompiled: Option<std::path::PathBuf>,
}

/// Arguments of `ward check`.
#[derive(Debug, Args)]
struct CheckArgs {
    /// `.ward` files, or folders searched recursively for `.ward` files.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<std::path::PathBuf>,

    /// How to print diagnostics.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
}

/// How `ward check` and `ward test` print their results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// For people: diagnostics with source excerpts, one line per test.
    Human,
    /// JSON on standard output: an array of diagnostics, or a test report.
    Json,
}

/// Arguments of `ward fmt`.
#[derive(Debug, Args)]
struct FmtArgs {
    /// `.ward` files, or folders searched recursively for `.ward` files;
    /// `-` formats standard input to standard output.
    #[arg(required_unless_present = "stdin", value_name = "PATH")]
    paths: Vec<std::path::PathBuf>,

    /// Write nothing; print a diff for each file that is not formatted and
    /// exit with status 1 if there is any.
    #[arg(long)]
    check: bool,

    /// Format standard input to standard output (the same as `-`).
    #[arg(long, conflicts_with = "paths")]
    stdin: bool,
}

/// Arguments of `ward explain`.
#[derive(Debug, Args)]
struct ExplainArgs {
    /// A diagnostic code such as `E0203`.
    #[arg(required_unless_present = "list", conflicts_with = "list")]
    code: Option<String>,

    /// List every code with its title.
    #[arg(long)]
    list: bool,
}

/// Arguments of `ward eval`.
#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("engine").required(true).args(["module", "policy"]))]
struct EvalArgs {
    /// A decision module (`.wasm`, or precompiled `.cwasm`) built by `ward build`.
    #[arg(value_name = "MODULE")]
    module: Option<std::path::PathBuf>,

    /// Policy files or folders, compiled together as one program and decided
    /// by the reference interpreter.
    #[arg(long, num_args = 1.., value_name = "PATH")]
    policy: Vec<std::path::PathBuf>,

    /// The request: a JSON file, or `-` for standard input.
    #[arg(long, value_name = "FILE")]
    request: String,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return output::usage_error(&error),
    };
    let color = output::use_color(cli.color);
    let result = match cli.command {
        Command::Check(args) => check::run(&args.paths, args.format, color),
        Command::Fmt(args) => fmt::run(&args.paths, args.check, args.stdin, color),
        Command::Explain(args) => explain::run(args.code.as_deref(), args.list),
        Command::Build(args) => build::run(&args.paths, &args.output, args.precompiled.as_deref(), color),
        Command::Eval(args) => match &args.module {
            Some(module) => eval::run_module(module, &args.request),
            None => eval::run(&args.policy, &args.request, color),
        },
        Command::Lsp => lsp(),
        Command::Init(args) => init::run(&args.dir),
        Command::Doc(args) => doc::run(&args.paths, args.stdlib, args.output.as_deref()),
        Command::Test(args) => test::run(&test::Options {
            paths: &args.paths,
            filter: args.filter.as_deref(),
            format: args.format,
            junit: args.junit.as_deref(),
            coverage: args.coverage,
            min_coverage: args.min_coverage,
            color,
        }),
    };
    match result {
        Ok(code) => code,
        Err(failure) => failure.report(color),
    }
}

/// Runs the language server until the editor closes the connection.
fn lsp() -> Outcome {
    match ward_lsp::run_stdio() {
        Ok(()) => Ok(status::ok()),
        Err(e) => Err(Failure::new(format!("language server stopped: {e}"))),
    }
}

/// Exit statuses.
pub mod status {
    use std::process::ExitCode;

    /// Success; for `ward eval`, allow.
    pub fn ok() -> ExitCode {
        ExitCode::SUCCESS
    }

    /// Errors: invalid policies, unreadable files, bad arguments; for
    /// `ward fmt --check`, files that are not formatted.
    pub fn error() -> ExitCode {
        ExitCode::from(1)
    }

    /// `ward eval` denied the request.
    pub fn deny() -> ExitCode {
        ExitCode::from(2)
    }
}

/// The result of a command: an exit status, or a failure to report.
pub type Outcome = Result<ExitCode, Failure>;
