//! The message loop: requests and notifications dispatched to features,
//! with panics caught per message.

use std::collections::{BTreeSet, HashMap};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use lsp_server::{Connection, ErrorCode, Message, Notification, Request, Response};
use lsp_types::{
    CodeLensOptions, CompletionOptions, DiagnosticRelatedInformation, ExecuteCommandOptions, HoverProviderCapability,
    InitializeParams, Location, MessageType, NumberOrString, OneOf, RenameOptions, SemanticTokensFullOptions,
    SemanticTokensLegend, SemanticTokensOptions, SemanticTokensServerCapabilities, ServerCapabilities,
    TextDocumentSyncCapability, TextDocumentSyncKind, Uri, WorkDoneProgressOptions,
};
use serde_json::{Value, json};
use ward_compiler::diagnostics::Severity;

use crate::Error;
use crate::features;
use crate::workspace::{Workspace, materialise_stdlib, path_to_uri, uri_to_path};

/// The command a code lens runs: `ward test FILE`.
pub const RUN_TESTS: &str = "ward.runTests";

type Send = Arc<dyn Fn(Message) + std::marker::Send + Sync>;

/// The server's state.
pub struct Server {
    pub(crate) workspace: Workspace,
    send: Send,
    /// Files that were last sent diagnostics, per program folder.
    published: HashMap<PathBuf, BTreeSet<PathBuf>>,
    /// Declarations of every standard-library package, for completion.
    pub(crate) stdlib: Option<crate::workspace::Analysis>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server").field("workspace", &self.workspace.root).finish()
    }
}

/// The capabilities the server announces.
pub fn capabilities() -> ServerCapabilities {
    ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Kind(TextDocumentSyncKind::FULL)),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        definition_provider: Some(OneOf::Left(true)),
        references_provider: Some(OneOf::Left(true)),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some(vec![".".to_owned()]),
            ..CompletionOptions::default()
        }),
        document_symbol_provider: Some(OneOf::Left(true)),
        workspace_symbol_provider: Some(OneOf::Left(true)),
        document_formatting_provider: Some(OneOf::Left(true)),
        rename_provider: Some(OneOf::Right(RenameOptions {
            prepare_provider: Some(true),
            work_done_progress_options: WorkDoneProgressOptions::default(),
        })),
        semantic_tokens_provider: Some(SemanticTokensServerCapabilities::SemanticTokensOptions(
            SemanticTokensOptions {
                legend: SemanticTokensLegend {
                    token_types: features::TOKEN_TYPES.to_vec(),
                    token_modifiers: Vec::new(),
                },
                full: Some(SemanticTokensFullOptions::Bool(true)),
                range: None,
                work_done_progress_options: WorkDoneProgressOptions::default(),
            },
        )),
        code_lens_provider: Some(CodeLensOptions { resolve_provider: Some(false) }),
        execute_command_provider: Some(ExecuteCommandOptions {
            commands: vec![RUN_TESTS.to_owned()],
            work_done_progress_options: WorkDoneProgressOptions::default(),
        }),
        ..ServerCapabilities::default()
    }
}

/// Runs the server on a connection until the client asks it to exit.
pub fn run(connection: Connection) -> Result<(), Error> {
    let (id, params) = connection.initialize_start()?;
    let params: InitializeParams = serde_json::from_value(params).unwrap_or_default();
    let result = json!({
        "capabilities": capabilities(),
        "serverInfo": { "name": "ward", "version": env!("CARGO_PKG_VERSION") },
    });
    connection.initialize_finish(id, result)?;
    let sender = connection.sender.clone();
    let send: Send = Arc::new(move |message| {
        let _ = sender.send(message);
    });
    let mut server = Server::new(root_of(&params), send);
    let mut shut_down = false;
    for message in &connection.receiver {
        match message {
            // Some clients ask twice; each gets its answer.
            Message::Request(request) if request.method == "shutdown" => {
                shut_down = true;
                (server.send)(Message::Response(Response::new_ok(request.id, Value::Null)));
            }
            Message::Request(request) if shut_down => {
                let message = "the server is shutting down".to_owned();
                (server.send)(Message::Response(Response::new_err(
                    request.id,
                    ErrorCode::InvalidRequest as i32,
                    message,
                )));
            }
            Message::Request(request) => {
                let response = server.request_guarded(request);
                (server.send)(Message::Response(response));
            }
            Message::Notification(notification) if notification.method == "exit" => return Ok(()),
            Message::Notification(notification) => server.notification_guarded(notification),
            Message::Response(_) => {}
        }
    }
    Ok(())
}

#[expect(deprecated, reason = "older clients send only `rootUri`")]
fn root_of(params: &InitializeParams) -> Option<PathBuf> {
    params
        .workspace_folders
        .as_ref()
        .and_then(|f| f.first())
        .and_then(|f| uri_to_path(&f.uri))
        .or_else(|| params.root_uri.as_ref().and_then(uri_to_path))
}

impl Server {
    fn new(root: Option<PathBuf>, send: Send) -> Server {
        let workspace = Workspace { root, stdlib_dir: materialise_stdlib(), ..Workspace::default() };
        Server { workspace, send, published: HashMap::new(), stdlib: None }
    }

    fn log(&self, kind: MessageType, message: &str) {
        let params = json!({ "type": kind, "message": message });
        (self.send)(Message::Notification(Notification::new("window/logMessage".to_owned(), params)));
    }

    fn request_guarded(&mut self, request: Request) -> Response {
        let id = request.id.clone();
        let method = request.method.clone();
        match catch_unwind(AssertUnwindSafe(|| self.request(request))) {
            Ok(Ok(value)) => Response::new_ok(id, value),
            Ok(Err((code, message))) => Response::new_err(id, code as i32, message),
            Err(payload) => {
                let message = format!("internal error in `{method}`: {}", panic_message(&payload));
                eprintln!("ward lsp: {message}");
                self.log(MessageType::ERROR, &message);
                Response::new_err(id, ErrorCode::InternalError as i32, message)
            }
        }
    }

    fn notification_guarded(&mut self, notification: Notification) {
        let method = notification.method.clone();
        if let Err(payload) = catch_unwind(AssertUnwindSafe(|| self.notification(notification))) {
            let message = format!("internal error in `{method}`: {}", panic_message(&payload));
            eprintln!("ward lsp: {message}");
            self.log(MessageType::ERROR, &message);
        }
    }

    fn notification(&mut self, notification: Notification) {
        let params = notification.params;
        match notification.method.as_str() {
            "textDocument/didOpen" => {
                let (Some(path), Some(text)) =
                    (uri_field(&params, "/textDocument/uri"), str_field(&params, "/textDocument/text"))
                else {
                    return;
                };
                self.workspace.open.insert(path.clone(), text);
                self.refresh(&path);
            }
            "textDocument/didChange" => {
                let Some(path) = uri_field(&params, "/textDocument/uri") else { return };
                let changes = params.pointer("/contentChanges").and_then(Value::as_array);
                // Full synchronisation: the last change holds the whole text.
                let Some(text) = changes.and_then(|c| c.last()).and_then(|c| c.get("text")).and_then(Value::as_str)
                else {
                    return;
                };
                self.workspace.open.insert(path.clone(), text.to_owned());
                self.refresh(&path);
            }
            "textDocument/didSave" => {
                if let Some(path) = uri_field(&params, "/textDocument/uri") {
                    self.refresh(&path);
                }
            }
            "textDocument/didClose" => {
                if let Some(path) = uri_field(&params, "/textDocument/uri") {
                    self.workspace.open.remove(&path);
                    self.refresh(&path);
                }
            }
            "workspace/didChangeWatchedFiles" => {
                let dirs: Vec<PathBuf> = self.workspace.analyses.keys().cloned().collect();
                for dir in dirs {
                    self.publish(&dir);
                }
            }
            _ => {}
        }
    }

    /// Re-analyses the program of `path` and publishes its diagnostics.
    fn refresh(&mut self, path: &Path) {
        let dir = self.workspace.program_of(path);
        self.publish(&dir);
    }

    fn publish(&mut self, dir: &Path) {
        let analysis = self.workspace.analyse(dir);
        let mut by_file: HashMap<PathBuf, Vec<lsp_types::Diagnostic>> = HashMap::new();
        for (id, _) in analysis.compilation.sources.iter() {
            if !analysis.is_stdlib(id) {
                by_file.entry(analysis.path(id).to_path_buf()).or_default();
            }
        }
        for d in &analysis.compilation.diagnostics {
            let span = d.span();
            let mut message = d.message.clone();
            if let Some(label) = d.labels.first().map(|l| l.message.as_str()).filter(|m| !m.is_empty()) {
                message.push_str(&format!("\n{label}"));
            }
            if let Some(help) = &d.help {
                message.push_str(&format!("\nhelp: {help}"));
            }
            let related: Vec<DiagnosticRelatedInformation> = d
                .labels
                .iter()
                .skip(1)
                .filter_map(|l| {
                    Some(DiagnosticRelatedInformation {
                        location: Location {
                            uri: path_to_uri(analysis.path(l.span.file))?,
                            range: analysis.range(l.span),
                        },
                        message: if l.message.is_empty() { d.message.clone() } else { l.message.clone() },
                    })
                })
                .collect();
            let severity = match d.severity {
                Severity::Error => lsp_types::DiagnosticSeverity::ERROR,
                Severity::Warning => lsp_types::DiagnosticSeverity::WARNING,
            };
            by_file.entry(analysis.path(span.file).to_path_buf()).or_default().push(lsp_types::Diagnostic {
                range: analysis.range(span),
                severity: Some(severity),
                code: Some(NumberOrString::String(d.code.as_str().to_owned())),
                source: Some("ward".to_owned()),
                message,
                related_information: (!related.is_empty()).then_some(related),
                ..lsp_types::Diagnostic::default()
            });
        }
        let now: BTreeSet<PathBuf> = by_file.keys().cloned().collect();
        let before = self.published.insert(dir.to_path_buf(), now.clone()).unwrap_or_default();
        for gone in before.difference(&now) {
            by_file.insert(gone.clone(), Vec::new());
        }
        for (path, diagnostics) in by_file {
            let Some(uri) = path_to_uri(&path) else { continue };
            let params = json!({ "uri": uri, "diagnostics": diagnostics });
            (self.send)(Message::Notification(Notification::new("textDocument/publishDiagnostics".to_owned(), params)));
        }
    }

    fn request(&mut self, request: Request) -> Result<Value, (ErrorCode, String)> {
        let params = request.params;
        let invalid = |e: serde_json::Error| (ErrorCode::InvalidParams, e.to_string());
        macro_rules! parse {
            () => {
                serde_json::from_value(params).map_err(invalid)?
            };
        }
        let value = match request.method.as_str() {
            "textDocument/hover" => to_value(features::hover(self, &parse!())),
            "textDocument/definition" => to_value(features::definition(self, &parse!())),
            "textDocument/references" => to_value(features::references(self, &parse!())),
            "textDocument/completion" => to_value(features::completion(self, &parse!())),
            "textDocument/documentSymbol" => to_value(features::document_symbols(self, &parse!())),
            "workspace/symbol" => to_value(features::workspace_symbols(self, &parse!())),
            "textDocument/formatting" => to_value(features::formatting(self, &parse!())),
            "textDocument/prepareRename" => to_value(features::prepare_rename(self, &parse!())),
            "textDocument/rename" => to_value(features::rename(self, &parse!())?),
            "textDocument/semanticTokens/full" => to_value(features::semantic_tokens(self, &parse!())),
            "textDocument/codeLens" => to_value(features::code_lenses(self, &parse!())),
            "workspace/executeCommand" => {
                let params: lsp_types::ExecuteCommandParams = parse!();
                self.execute(&params)?
            }
            "ward/debugPanic" => debug_panic(),
            other => return Err((ErrorCode::MethodNotFound, format!("unknown method `{other}`"))),
        };
        Ok(value)
    }

    fn execute(&mut self, params: &lsp_types::ExecuteCommandParams) -> Result<Value, (ErrorCode, String)> {
        if params.command != RUN_TESTS {
            return Err((ErrorCode::InvalidParams, format!("unknown command `{}`", params.command)));
        }
        let path = params
            .arguments
            .first()
            .and_then(Value::as_str)
            .and_then(|u| u.parse::<Uri>().ok())
            .and_then(|u| uri_to_path(&u))
            .ok_or((ErrorCode::InvalidParams, "expected the URI of a file".to_owned()))?;
        let exe = std::env::current_exe().map_err(|e| (ErrorCode::InternalError, e.to_string()))?;
        let program = self.workspace.program_of(&path);
        let send = Arc::clone(&self.send);
        // Tests may take a while: run them off the message loop.
        std::thread::spawn(move || {
            let (kind, summary, log) = run_tests(&exe, &program, &path);
            let log = json!({ "type": MessageType::LOG, "message": log });
            send(Message::Notification(Notification::new("window/logMessage".to_owned(), log)));
            let show = json!({ "type": kind, "message": summary });
            send(Message::Notification(Notification::new("window/showMessage".to_owned(), show)));
        });
        Ok(Value::Null)
    }
}

/// Runs `ward test` on the program (as saved) and summarises the tests
/// declared in `file`: message type, summary, full output.
fn run_tests(exe: &Path, program: &Path, file: &Path) -> (MessageType, String, String) {
    let name = file.file_name().map_or_else(|| file.display().to_string(), |n| n.to_string_lossy().into_owned());
    let output = std::process::Command::new(exe).arg("test").arg(program).args(["--format", "json"]).output();
    let out = match output {
        Ok(out) => out,
        Err(e) => return (MessageType::ERROR, format!("cannot run `ward test`: {e}"), String::new()),
    };
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let log = format!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    let Ok(report) = serde_json::from_str::<Value>(&stdout) else {
        let last = log.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("").trim().to_owned();
        return (MessageType::ERROR, format!("ward test {name}: could not run the tests. {last}"), log);
    };
    let own = file.to_string_lossy();
    let tests: Vec<&Value> = report["tests"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|t| t["location"].as_str().and_then(|l| l.rsplit_once(':')).is_some_and(|(f, _)| f == own))
        .collect();
    let failed: Vec<&str> =
        tests.iter().filter(|t| t["passed"] != Value::Bool(true)).filter_map(|t| t["name"].as_str()).collect();
    let passed = tests.len() - failed.len();
    if failed.is_empty() {
        (MessageType::INFO, format!("ward test {name}: {passed} passed"), log)
    } else {
        let names = failed.iter().map(|n| format!("\"{n}\"")).collect::<Vec<_>>().join(", ");
        (MessageType::ERROR, format!("ward test {name}: {passed} passed, {} failed: {names}", failed.len()), log)
    }
}

/// Deliberately fails, so that tests can check that the server survives a
/// panicking handler.
#[expect(clippy::panic, reason = "the point of this request")]
fn debug_panic() -> Value {
    panic!("deliberate panic requested by the client")
}

fn to_value<T: serde::Serialize>(value: T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

fn uri_field(params: &Value, pointer: &str) -> Option<PathBuf> {
    params.pointer(pointer).and_then(Value::as_str).and_then(|u| u.parse::<Uri>().ok()).and_then(|u| uri_to_path(&u))
}

fn str_field(params: &Value, pointer: &str) -> Option<String> {
    params.pointer(pointer).and_then(Value::as_str).map(str::to_owned)
}

fn panic_message(payload: &Box<dyn std::any::Any + std::marker::Send>) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned())
}
