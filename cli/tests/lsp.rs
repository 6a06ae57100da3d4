//! Protocol tests: the real `ward lsp` process driven over JSON-RPC.

#![allow(clippy::expect_used, clippy::panic, reason = "a test fails by panicking")]

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const TIMEOUT: Duration = Duration::from_secs(60);

/// A client talking to a `ward lsp` child process.
struct Client {
    child: Child,
    stdin: ChildStdin,
    messages: Receiver<Value>,
    /// Notifications received while waiting for something else.
    notifications: Vec<Value>,
    next_id: i64,
}

impl Client {
    fn start(root: &Path) -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ward"))
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("ward lsp starts");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            loop {
                let mut length = 0usize;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let line = line.trim();
                    if line.is_empty() {
                        break;
                    }
                    if let Some(n) = line.strip_prefix("Content-Length: ") {
                        length = n.parse().expect("length");
                    }
                }
                let mut body = vec![0; length];
                if reader.read_exact(&mut body).is_err() {
                    return;
                }
                let value: Value = serde_json::from_slice(&body).expect("JSON message");
                if tx.send(value).is_err() {
                    return;
                }
            }
        });
        let mut client = Client { child, stdin, messages: rx, notifications: Vec::new(), next_id: 1 };
        let root_uri = uri(root);
        let result = client.request(
            "initialize",
            json!({
                "processId": null,
                "rootUri": root_uri,
                "workspaceFolders": [{ "uri": root_uri, "name": "test" }],
                "capabilities": {},
            }),
        );
        assert!(result["capabilities"]["hoverProvider"].as_bool().unwrap_or(false), "{result}");
        client.notify("initialized", json!({}));
        client
    }

    fn send(&mut self, message: Value) {
        let body = message.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).expect("write");
        self.stdin.flush().expect("flush");
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    /// Sends a request and returns the whole response.
    fn call(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let message = self.next(deadline).unwrap_or_else(|| panic!("no response to {method}"));
            if message.get("id") == Some(&json!(id)) && message.get("method").is_none() {
                return message;
            }
            if message.get("method").is_some() {
                self.notifications.push(message);
            }
        }
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        let response = self.call(method, params);
        assert!(response.get("error").is_none(), "{method} failed: {response}");
        response["result"].clone()
    }

    fn next(&mut self, deadline: Instant) -> Option<Value> {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.messages.recv_timeout(left) {
            Ok(m) => Some(m),
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => None,
        }
    }

    /// Waits for a notification matching `pred`, consuming earlier ones it skips.
    fn wait_for(&mut self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.notifications.iter().position(&pred) {
            return self.notifications.remove(i);
        }
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let message = self.next(deadline).unwrap_or_else(|| panic!("timed out waiting for {what}"));
            if pred(&message) {
                return message;
            }
            self.notifications.push(message);
        }
    }

    /// The latest diagnostics published for `uri` that satisfy `pred`.
    fn diagnostics(&mut self, uri: &str, pred: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let uri = uri.to_owned();
        let found = self.wait_for("diagnostics", |m| {
            m["method"] == "textDocument/publishDiagnostics"
                && m["params"]["uri"] == uri.as_str()
                && pred(m["params"]["diagnostics"].as_array().map(Vec::as_slice).unwrap_or(&[]))
        });
        found["params"]["diagnostics"].as_array().cloned().unwrap_or_default()
    }

    fn open(&mut self, path: &Path) {
        let text = std::fs::read_to_string(path).expect("read");
        self.notify(
            "textDocument/didOpen",
            json!({ "textDocument": { "uri": uri(path), "languageId": "ward", "version": 1, "text": text } }),
        );
    }

    fn change(&mut self, path: &Path, version: i64, text: &str) {
        self.notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": uri(path), "version": version }, "contentChanges": [{ "text": text }] }),
        );
    }

    fn shutdown(mut self) {
        self.request("shutdown", Value::Null);
        self.notify("exit", Value::Null);
        let deadline = Instant::now() + TIMEOUT;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                assert!(status.success(), "ward lsp exited with {status}");
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        panic!("ward lsp did not exit");
    }
}

fn uri(path: &Path) -> String {
    let mut out = String::from("file://");
    for b in path.to_string_lossy().bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn path_of(uri: &str) -> PathBuf {
    let rest = uri.strip_prefix("file://").expect("file URI");
    let mut bytes = Vec::new();
    let raw = rest.as_bytes();
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'%' {
            bytes.push(u8::from_str_radix(&rest[i + 1..i + 3], 16).expect("hex"));
            i += 3;
        } else {
            bytes.push(raw[i]);
            i += 1;
        }
    }
    PathBuf::from(String::from_utf8(bytes).expect("utf-8"))
}

const SCHEMA: &str = r#"package acme

/// Sensitivity, lowest first.
level Tier = low < high

enum Zone { corp, home }

entity Team {}

/// A human user.
entity User in [Team] {
  /// How far the user is trusted.
  clearance: Tier,
  name: String,
  mfa_age: Duration?,
}

entity Doc {
  tier: Tier,
}

action read { principal: User, resource: Doc }

context {
  zone: Zone,
}

/// Record the access.
obligation audit(note: String)

/// Whether `a` is at least `b`.
def dominates(a: Tier, b: Tier) -> Bool = a >= b;
"#;

const RULES: &str = r#"package acme.rules

import acme.{User, Doc, Tier, Zone, read, audit, dominates}
import ward.identity

// Zugriff für Menschen — 🙂 über alles.
@id("R-1")
permit (principal: User, action: read, resource: Doc)
  when dominates(principal.clearance, resource.tier) && context.zone == Zone.corp
  when principal has mfa_age && identity.mfa_fresh(principal.mfa_age, 15m)
  obligate audit(note: "read");
"#;

/// A fresh workspace: `schema.ward` at the root, `rules/access.ward` below it.
fn workspace(name: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("lsp-{name}"));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(root.join("rules")).expect("mkdir");
    std::fs::write(root.join("schema.ward"), SCHEMA).expect("write");
    std::fs::write(root.join("rules/access.ward"), RULES).expect("write");
    root
}

/// The LSP position (UTF-16 column) of the `n`th occurrence of `needle` in `text`, plus `shift` characters.
fn pos(text: &str, needle: &str, n: usize, shift: usize) -> Value {
    let offset = text.match_indices(needle).nth(n).map(|(i, _)| i).expect("needle");
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let line = text[..offset].matches('\n').count();
    let column: usize = text[line_start..offset].chars().map(char::len_utf16).sum::<usize>() + shift;
    json!({ "line": line, "character": column })
}

fn at(path: &Path, position: Value) -> Value {
    json!({ "textDocument": { "uri": uri(path) }, "position": position })
}

#[test]
fn diagnostics_match_check_and_clear_when_fixed() {
    let root = workspace("diagnostics");
    let rules = root.join("rules/access.ward");
    let mut client = Client::start(&root);
    client.open(&rules);
    let clean = client.diagnostics(&uri(&rules), <[Value]>::is_empty);
    assert!(clean.is_empty());

    // An unknown attribute, as `ward check` reports it.
    let broken = RULES.replace("principal.clearance", "principal.clearence");
    client.change(&rules, 2, &broken);
    let diagnostics = client.diagnostics(&uri(&rules), |d| !d.is_empty());
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    let d = &diagnostics[0];
    assert_eq!(d["code"], "E0102");
    assert_eq!(d["severity"], 1);
    assert!(d["message"].as_str().unwrap_or("").starts_with("unknown attribute `clearence`"), "{d}");
    assert!(d["message"].as_str().unwrap_or("").contains("help: a declared attribute has a similar name: `clearance`"));
    assert_eq!(d["range"]["start"], pos(&broken, "clearence", 0, 0));
    assert_eq!(d["range"]["end"], pos(&broken, "clearence", 0, 9));

    // The same diagnostic from `ward check` on the same files.
    std::fs::write(&rules, &broken).expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_ward"))
        .args(["check", "--format", "json"])
        .arg(&root)
        .output()
        .expect("ward check");
    let check: Vec<Value> = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(check.len(), 1);
    assert_eq!(check[0]["code"], d["code"]);
    assert!(d["message"].as_str().unwrap_or("").starts_with(check[0]["message"].as_str().unwrap_or("?")));
    std::fs::write(&rules, RULES).expect("write");

    // A syntax error in another file of the program, with related spans.
    let schema = root.join("schema.ward");
    client.open(&schema);
    let twice = SCHEMA.replace("entity Team {}", "entity Team {}\nentity Team {}");
    client.change(&schema, 2, &twice);
    let diagnostics = client.diagnostics(&uri(&schema), |d| !d.is_empty());
    let duplicate = diagnostics.iter().find(|d| d["code"] == "E0103").expect("duplicate declaration");
    assert_eq!(duplicate["relatedInformation"][0]["message"], "first declared here");

    // Fixed: the diagnostics are cleared.
    client.change(&schema, 3, SCHEMA);
    client.change(&rules, 3, RULES);
    client.diagnostics(&uri(&schema), <[Value]>::is_empty);
    client.diagnostics(&uri(&rules), <[Value]>::is_empty);
    client.shutdown();
}

#[test]
fn navigation_across_files_and_into_the_standard_library() {
    let root = workspace("navigation");
    let rules = root.join("rules/access.ward");
    let schema = root.join("schema.ward");
    let mut client = Client::start(&root);
    client.open(&rules);
    client.diagnostics(&uri(&rules), <[Value]>::is_empty);

    // Hover on an attribute: its declaration and docs.
    let hover = client.request("textDocument/hover", at(&rules, pos(RULES, "clearance", 0, 2)));
    let text = hover["contents"]["value"].as_str().unwrap_or("");
    assert!(text.contains("clearance: Tier"), "{text}");
    assert!(text.contains("How far the user is trusted."), "{text}");
    // Hover on a standard-library function: its docs.
    let hover = client.request("textDocument/hover", at(&rules, pos(RULES, "mfa_fresh", 0, 1)));
    let text = hover["contents"]["value"].as_str().unwrap_or("");
    assert!(text.contains("def mfa_fresh(age: Duration, max: Duration) -> Bool"), "{text}");
    assert!(text.contains("standard library"), "{text}");
    // Hover on an expression without a name: its type.
    let hover = client.request("textDocument/hover", at(&rules, pos(RULES, "15m", 0, 1)));
    assert!(hover["contents"]["value"].as_str().unwrap_or("").contains("Duration"), "{hover}");

    // Go to definition: a type in another file, an enum value, a def, a stdlib def, an import.
    let cases: [(&str, usize, &str, &str, usize); 6] = [
        ("User, action", 0, "schema.ward", "User in", 0),
        ("corp", 0, "schema.ward", "corp", 0),
        ("dominates(", 0, "schema.ward", "dominates(", 0),
        ("tier)", 0, "schema.ward", "tier: Tier", 0),
        ("read,", 1, "schema.ward", "read {", 0),
        ("mfa_fresh", 0, "identity.ward", "\ndef mfa_fresh(", 5),
    ];
    for (needle, n, file, target, shift) in cases {
        let result = client.request("textDocument/definition", at(&rules, pos(RULES, needle, n, 0)));
        let location = &result[0];
        let path = path_of(location["uri"].as_str().unwrap_or(""));
        assert!(path.ends_with(file), "{needle}: {result}");
        let text = std::fs::read_to_string(&path).expect("target file");
        let expected = pos(&text, target, 0, 0);
        let expected = if shift == 0 {
            expected
        } else {
            json!({ "line": expected["line"].as_u64().unwrap_or(0) + 1, "character": shift - 1 })
        };
        assert_eq!(location["range"]["start"], expected, "{needle}");
    }
    let import = client.request("textDocument/definition", at(&rules, pos(RULES, "identity", 0, 0)));
    assert!(path_of(import[0]["uri"].as_str().unwrap_or("")).ends_with("identity.ward"), "{import}");

    // Find references: the declaration and its uses in both files.
    let refs = client.request(
        "textDocument/references",
        json!({ "textDocument": { "uri": uri(&schema) }, "position": pos(SCHEMA, "Tier", 0, 0), "context": { "includeDeclaration": true } }),
    );
    let refs = refs.as_array().cloned().unwrap_or_default();
    let in_rules = refs.iter().filter(|r| path_of(r["uri"].as_str().unwrap_or("")) == rules).count();
    let in_schema = refs.iter().filter(|r| path_of(r["uri"].as_str().unwrap_or("")) == schema).count();
    assert_eq!((in_schema, in_rules), (5, 1), "{refs:?}");

    // Symbols.
    let symbols = client.request("textDocument/documentSymbol", json!({ "textDocument": { "uri": uri(&schema) } }));
    let names: Vec<&str> = symbols.as_array().into_iter().flatten().filter_map(|s| s["name"].as_str()).collect();
    for expected in ["acme", "Tier", "Zone", "Team", "User", "Doc", "read", "context", "audit", "dominates"] {
        assert!(names.contains(&expected), "{expected} missing from {names:?}");
    }
    let user = symbols.as_array().into_iter().flatten().find(|s| s["name"] == "User").expect("User");
    let attrs: Vec<&str> =
        user["children"].as_array().into_iter().flatten().filter_map(|s| s["name"].as_str()).collect();
    assert_eq!(attrs, ["clearance", "name", "mfa_age"]);
    let found = client.request("workspace/symbol", json!({ "query": "domin" }));
    assert!(found.as_array().into_iter().flatten().any(|s| s["name"] == "dominates"), "{found}");
    client.shutdown();
}

const TESTS: &str = r#"package acme.rules

import acme.{User, Doc, read}

fixture alice = User::"alice" { clearance: high, name: "Alice", mfa_age: 5m };

test "alice reads" {
  request: { principal: alice, action: read, resource: Doc::"d" { tier: low }, context: { zone: corp } },
  expect: allow,
}

test "stale mfa" {
  request: { principal: alice with { mfa_age: 1h }, action: read, resource: Doc::"d" { tier: low }, context: { zone: corp } },
  expect: deny,
}
"#;

#[test]
fn names_in_tests_navigate_and_rename_with_the_schema() {
    let root = workspace("tests");
    let tests = root.join("rules/tests.ward");
    let schema = root.join("schema.ward");
    std::fs::write(&tests, TESTS).expect("write");
    let mut client = Client::start(&root);
    client.open(&tests);
    client.diagnostics(&uri(&tests), <[Value]>::is_empty);

    // Entity types, attribute names, enum values and actions in test data
    // lead to their declarations.
    let cases: [(&str, usize, &str); 6] = [
        ("User::", 0, "User in"),
        ("clearance: high", 0, "clearance"),
        ("high, name", 0, "high"),
        ("tier: low", 0, "tier: Tier"),
        ("corp", 0, "corp"),
        ("mfa_age: 1h", 0, "mfa_age"),
    ];
    for (needle, n, target) in cases {
        let result = client.request("textDocument/definition", at(&tests, pos(TESTS, needle, n, 0)));
        let location = &result[0];
        assert_eq!(path_of(location["uri"].as_str().unwrap_or("")), schema, "{needle}: {result}");
        assert_eq!(location["range"]["start"], pos(SCHEMA, target, 0, 0), "{needle}");
    }
    let read = client.request("textDocument/definition", at(&tests, pos(TESTS, "read, resource", 0, 0)));
    assert_eq!(read[0]["range"]["start"], pos(SCHEMA, "read {", 0, 0), "{read}");

    // Renaming an attribute renames it in the tests too, so they keep
    // testing what they tested.
    let mut params = at(&schema, pos(SCHEMA, "mfa_age", 0, 0));
    params["newName"] = json!("mfa_age_seconds");
    let edit = client.request("textDocument/rename", params);
    let changes = edit["changes"].as_object().cloned().unwrap_or_default();
    let test_edits = changes.get(&uri(&tests)).and_then(Value::as_array).cloned().unwrap_or_default();
    let starts: Vec<&Value> = test_edits.iter().map(|e| &e["range"]["start"]).collect();
    assert_eq!(starts, [&pos(TESTS, "mfa_age", 0, 0), &pos(TESTS, "mfa_age", 1, 0)], "{edit}");
    client.shutdown();
}

#[test]
fn completion_follows_the_receiver_type() {
    let root = workspace("completion");
    let rules = root.join("rules/access.ward");
    let mut client = Client::start(&root);
    client.open(&rules);
    client.diagnostics(&uri(&rules), <[Value]>::is_empty);
    let labels = |result: &Value| -> Vec<String> {
        result.as_array().into_iter().flatten().filter_map(|i| i["label"].as_str().map(str::to_owned)).collect()
    };

    // `principal.` in an unfinished rule.
    let unfinished =
        format!("{RULES}\n@id(\"R-2\")\npermit (principal: User, action: read, resource: Doc)\n  when principal.");
    client.change(&rules, 2, &unfinished);
    let end = pos(&unfinished, "when principal.", 0, "when principal.".len());
    let items = labels(&client.request("textDocument/completion", at(&rules, end)));
    for expected in ["clearance", "name", "mfa_age"] {
        assert!(items.contains(&expected.to_owned()), "{expected} not in {items:?}");
    }
    // `resource.` and `context.`.
    for (receiver, expected) in [("resource.", "tier"), ("context.", "zone")] {
        let text = unfinished.replace("when principal.", &format!("when {receiver}"));
        client.change(&rules, 3, &text);
        let end = pos(&text, &format!("when {receiver}"), 0, 5 + receiver.len());
        let items = labels(&client.request("textDocument/completion", at(&rules, end)));
        assert!(items.contains(&expected.to_owned()), "{receiver}: {items:?}");
    }
    // Enum values and level values.
    let text = unfinished.replace("when principal.", "when context.zone == Zone.");
    client.change(&rules, 4, &text);
    let items = labels(&client.request("textDocument/completion", at(&rules, pos(&text, "Zone.", 1, 5))));
    assert_eq!(items, ["corp", "home"]);
    // A package's declarations.
    let text = unfinished.replace("when principal.", "when identity.");
    client.change(&rules, 5, &text);
    let items = labels(&client.request("textDocument/completion", at(&rules, pos(&text, "when identity.", 0, 14))));
    assert!(items.contains(&"mfa_fresh".to_owned()), "{items:?}");
    // Anywhere else: keywords, declared types, actions, defs and the standard library.
    let text = unfinished.replace("when principal.", "when ");
    client.change(&rules, 6, &text);
    let end = pos(&text, "when ", 2, 5);
    let items = labels(&client.request("textDocument/completion", at(&rules, end)));
    for expected in
        ["permit", "User", "Tier", "read", "dominates", "audit", "identity.mfa_fresh", "data.Classification"]
    {
        assert!(items.contains(&expected.to_owned()), "{expected} not in completion");
    }
    client.shutdown();
}

#[test]
fn rename_across_files_formatting_tokens_and_lenses() {
    let root = workspace("rename");
    let rules = root.join("rules/access.ward");
    let schema = root.join("schema.ward");
    let mut client = Client::start(&root);
    client.open(&schema);
    client.diagnostics(&uri(&schema), <[Value]>::is_empty);

    // Rename an attribute declared in one file and read in another.
    let prepared = client.request("textDocument/prepareRename", at(&schema, pos(SCHEMA, "clearance", 0, 1)));
    assert_eq!(prepared["start"], pos(SCHEMA, "clearance", 0, 0));
    let mut params = at(&schema, pos(SCHEMA, "clearance", 0, 1));
    params["newName"] = json!("trust");
    let edit = client.request("textDocument/rename", params);
    let changes = edit["changes"].as_object().cloned().unwrap_or_default();
    assert_eq!(changes.len(), 2, "{edit}");
    assert_eq!(changes[&uri(&schema)].as_array().map(Vec::len), Some(1));
    let rule_edits = changes[&uri(&rules)].as_array().cloned().unwrap_or_default();
    assert_eq!(rule_edits.len(), 1);
    assert_eq!(rule_edits[0]["range"]["start"], pos(RULES, "clearance", 0, 0));
    assert_eq!(rule_edits[0]["newText"], "trust");
    // Rename an enum type used in both files.
    let mut params = at(&schema, pos(SCHEMA, "Zone", 0, 0));
    params["newName"] = json!("Network");
    let edit = client.request("textDocument/rename", params);
    let count: usize =
        edit["changes"].as_object().into_iter().flatten().map(|(_, e)| e.as_array().map_or(0, Vec::len)).sum();
    assert_eq!(count, 4, "{edit}");
    // Standard-library declarations and invalid names are refused.
    let mut params = at(&rules, pos(RULES, "mfa_fresh", 0, 0));
    params["newName"] = json!("fresh");
    assert!(client.call("textDocument/rename", params).get("error").is_some());
    let mut params = at(&schema, pos(SCHEMA, "name:", 0, 0));
    params["newName"] = json!("not valid");
    assert!(client.call("textDocument/rename", params).get("error").is_some());

    // Formatting: `ward fmt`'s canonical text, comments kept.
    let messy = "package acme\n\n// teams\nentity   Team {}  // none yet\n";
    client.change(&schema, 2, messy);
    let edits = client.request(
        "textDocument/formatting",
        json!({ "textDocument": { "uri": uri(&schema) }, "options": { "tabSize": 2, "insertSpaces": true } }),
    );
    assert_eq!(edits[0]["newText"], "package acme\n\n// teams\nentity Team {} // none yet\n", "{edits}");
    client.change(&schema, 3, SCHEMA);

    // Semantic tokens: keywords, types, attributes, enum members, comments.
    let tokens = client.request("textDocument/semanticTokens/full", json!({ "textDocument": { "uri": uri(&rules) } }));
    let data: Vec<u64> = tokens["data"].as_array().into_iter().flatten().filter_map(Value::as_u64).collect();
    assert_eq!(data.len() % 5, 0);
    let mut decoded = Vec::new();
    let (mut line, mut col) = (0u64, 0u64);
    for t in data.chunks(5) {
        line += t[0];
        col = if t[0] == 0 { col + t[1] } else { t[1] };
        decoded.push((line, col, t[2], t[3]));
    }
    let kind_at = |needle: &str, n: usize| {
        let p = pos(RULES, needle, n, 0);
        decoded.iter().find(|(l, c, _, _)| *l == p["line"] && *c == p["character"]).map(|(_, _, len, k)| (*len, *k))
    };
    assert_eq!(kind_at("permit", 0), Some((6, 0)));
    assert_eq!(kind_at("clearance", 0), Some((9, 8)));
    assert_eq!(kind_at("corp", 0), Some((4, 7)));
    assert_eq!(kind_at("User", 1), Some((4, 5)));
    // The comment's length counts UTF-16 units.
    let comment = RULES.lines().find(|l| l.starts_with("// Zugriff")).unwrap_or("");
    assert_eq!(kind_at("// Zugriff", 0), Some((comment.chars().map(char::len_utf16).sum::<usize>() as u64, 3)));

    client.shutdown();
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir").flatten() {
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &to.join(entry.file_name()));
        } else {
            std::fs::copy(entry.path(), to.join(entry.file_name())).expect("copy");
        }
    }
}

#[test]
fn code_lens_runs_the_tests_of_a_file() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/model-gateway");
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("lsp-tests");
    let _ = std::fs::remove_dir_all(&root);
    copy_dir(&example.join("policy"), &root.join("policy"));
    copy_dir(&example.join("tests"), &root.join("tests"));
    let tests = root.join("tests/access.ward");
    let schema = root.join("policy/schema.ward");
    let text = std::fs::read_to_string(&tests).expect("read");
    let mut client = Client::start(&root);
    // The tests and the policy they test are one program.
    client.open(&tests);
    client.diagnostics(&uri(&tests), <[Value]>::is_empty);

    let lenses = client.request("textDocument/codeLens", json!({ "textDocument": { "uri": uri(&tests) } }));
    assert_eq!(lenses[0]["command"]["command"], "ward.runTests", "{lenses}");
    assert_eq!(lenses[0]["range"]["start"], pos(&text, "test \"", 0, 0));
    let count = text.matches("\ntest \"").count();
    assert!(lenses[0]["command"]["title"].as_str().unwrap_or("").contains(&count.to_string()), "{lenses}");
    let none = client.request("textDocument/codeLens", json!({ "textDocument": { "uri": uri(&schema) } }));
    assert_eq!(none, json!([]));

    let result =
        client.call("workspace/executeCommand", json!({ "command": "ward.runTests", "arguments": [uri(&tests)] }));
    assert!(result.get("error").is_none(), "{result}");
    let shown = client.wait_for("test result", |m| m["method"] == "window/showMessage");
    assert_eq!(shown["params"]["message"], format!("ward test access.ward: {count} passed"), "{shown}");
    assert_eq!(shown["params"]["type"], 3);
    client.shutdown();
}

#[test]
fn survives_panics_and_broken_input() {
    let root = workspace("robust");
    let rules = root.join("rules/access.ward");
    let mut client = Client::start(&root);
    client.open(&rules);
    client.diagnostics(&uri(&rules), <[Value]>::is_empty);

    let response = client.call("ward/debugPanic", json!({}));
    assert_eq!(response["error"]["code"], -32603, "{response}");
    let logged = client.wait_for("log", |m| m["method"] == "window/logMessage");
    assert!(logged["params"]["message"].as_str().unwrap_or("").contains("deliberate panic"));

    // Every prefix of the file, and garbage: answers, never a crash.
    let step = RULES.len() / 17;
    for (version, cut) in (0..RULES.len()).step_by(step.max(1)).enumerate() {
        let mut cut = cut;
        while !RULES.is_char_boundary(cut) {
            cut -= 1;
        }
        let text = &RULES[..cut];
        client.change(&rules, version as i64 + 2, text);
        let end = pos(&format!("{text}$"), "$", 0, 0);
        for method in ["textDocument/hover", "textDocument/completion", "textDocument/definition"] {
            let response = client.call(method, at(&rules, end.clone()));
            assert!(response.get("error").is_none(), "{method} at {cut}: {response}");
        }
        client.request("textDocument/semanticTokens/full", json!({ "textDocument": { "uri": uri(&rules) } }));
        client.request("textDocument/documentSymbol", json!({ "textDocument": { "uri": uri(&rules) } }));
    }
    client.change(&rules, 100, "permit ( \u{1F600} \"unterminated\n/* open");
    let diagnostics = client.diagnostics(&uri(&rules), |d| !d.is_empty());
    assert!(!diagnostics.is_empty());
    // Positions past the end of a line or the file are clamped.
    let response = client.call("textDocument/hover", at(&rules, json!({ "line": 99, "character": 99 })));
    assert!(response.get("error").is_none());
    client.change(&rules, 101, RULES);
    client.diagnostics(&uri(&rules), <[Value]>::is_empty);
    client.shutdown();
}
