//! Integration tests: the documents under `spec/` (and the README) say what
//! the compiler does.
//!
//! - Every ```` ```ward ```` block is a complete file and compiles without any
//!   diagnostic. ```` ```ward,fails ```` must produce an error;
//!   ```` ```ward,fails=E0203 ```` an error with that code;
//!   ```` ```ward,warns=W0001 ```` that warning and no error.
//! - Every ```` ```json request ```` block is a well-formed request and every
//!   ```` ```json decision ```` block a well-formed decision.
//! - The EBNF in `spec/language.md` defines exactly the nonterminals of
//!   `grammar.lalrpop`.
//! - The error index in `spec/language.md` lists exactly the catalogue's codes.

#![expect(clippy::expect_used, clippy::panic, reason = "a test fails by panicking")]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use ward_compiler::compile;
use ward_compiler::diagnostics::{Code, Severity};
use ward_types::{Decision, Request};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The documents whose code blocks are checked, relative to the root.
fn documents() -> Vec<String> {
    let mut docs: Vec<String> = std::fs::read_dir(root().join("spec"))
        .expect("the spec folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .map(|p| format!("spec/{}", p.file_name().expect("name").to_string_lossy()))
        .collect();
    docs.sort();
    docs.push("README.md".to_owned());
    docs
}

/// A fenced code block.
#[derive(Debug)]
struct Block {
    /// `spec/language.md:120`: where the block's text starts.
    place: String,
    /// The fence's info string: `ward,fails=E0203`.
    info: String,
    text: String,
}

impl Block {
    /// The info string's words: `ward,fails=E0203` and `ward fails=E0203`
    /// are both `["ward", "fails=E0203"]`.
    fn parts(&self) -> Vec<String> {
        self.info.split([',', ' ']).filter(|p| !p.is_empty()).map(str::to_owned).collect()
    }
}

fn blocks(document: &str) -> Vec<Block> {
    let text = std::fs::read_to_string(root().join(document)).unwrap_or_else(|e| panic!("{document}: {e}"));
    let mut out = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((index, line)) = lines.next() {
        let Some(info) = line.trim_start().strip_prefix("```") else {
            continue;
        };
        let indent = line.len() - line.trim_start().len();
        let mut body = String::new();
        for (_, line) in lines.by_ref() {
            if line.trim_start().starts_with("```") {
                break;
            }
            body.push_str(line.get(indent..).unwrap_or(line.trim_start()));
            body.push('\n');
        }
        out.push(Block { place: format!("{document}:{}", index + 2), info: info.trim().to_owned(), text: body });
    }
    out
}

fn all_blocks() -> Vec<Block> {
    documents().iter().flat_map(|d| blocks(d)).collect()
}

#[test]
fn ward_blocks_compile_as_documented() {
    let mut failures = Vec::new();
    let mut count = 0;
    for block in all_blocks() {
        let parts = block.parts();
        let mut parts = parts.iter().map(String::as_str);
        if parts.next() != Some("ward") {
            continue;
        }
        count += 1;
        let expectation = parts.next().unwrap_or("");
        let compilation = compile(vec![(block.place.clone(), block.text.clone())]);
        let codes: Vec<&str> = compilation.diagnostics.iter().map(|d| d.code.as_str()).collect();
        let errors = compilation.diagnostics.iter().filter(|d| d.severity == Severity::Error).count();
        let ok = match expectation.split_once('=') {
            _ if expectation.is_empty() => compilation.diagnostics.is_empty(),
            None if expectation == "fails" => errors > 0,
            Some(("fails", code)) => codes.contains(&code),
            Some(("warns", code)) => errors == 0 && codes.contains(&code),
            _ => {
                failures.push(format!("{}: unknown fence info `{}`", block.place, block.info));
                continue;
            }
        };
        if !ok {
            let rendered = ward_compiler::diagnostics::render(&compilation.sources, &compilation.diagnostics, false);
            let verdict = if expectation.is_empty() {
                "expected no diagnostics".to_owned()
            } else {
                format!("expected `{expectation}`")
            };
            failures.push(format!("{}: {verdict}, got {codes:?}\n{rendered}", block.place));
        }
    }
    assert!(count >= 10, "only {count} ward blocks found");
    assert!(failures.is_empty(), "{} of {count} blocks are wrong:\n\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn json_blocks_are_requests_and_decisions() {
    let mut requests = 0;
    let mut decisions = 0;
    for block in all_blocks() {
        match block.parts().join(" ").as_str() {
            "json request" => {
                requests += 1;
                if let Err(e) = Request::from_json(block.text.as_bytes()) {
                    panic!("{}: not a request: {e}", block.place);
                }
            }
            "json decision" => {
                decisions += 1;
                let decision: Decision = serde_json::from_str(&block.text)
                    .unwrap_or_else(|e| panic!("{}: not a decision: {e}", block.place));
                let round_trip: serde_json::Value = serde_json::to_value(&decision).expect("serialise");
                let written: serde_json::Value = serde_json::from_str(&block.text).expect("JSON");
                assert_eq!(round_trip, written, "{}: fields differ from the decision format", block.place);
            }
            _ => {}
        }
    }
    assert!(requests >= 2 && decisions >= 3, "requests: {requests}, decisions: {decisions}");
}

/// Nonterminals defined in the lalrpop grammar, macros included.
fn grammar_nonterminals() -> BTreeSet<String> {
    let text = std::fs::read_to_string(root().join("compiler/src/syntax/grammar.lalrpop")).expect("the grammar");
    let mut names = BTreeSet::new();
    for line in text.lines() {
        let line = line.strip_prefix("pub ").unwrap_or(line);
        let name: String = line.chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
        let rest = &line[name.len()..];
        let rest = match rest.strip_prefix('<') {
            Some(r) => r.split_once('>').map_or("", |(_, after)| after),
            None => rest,
        };
        if name.chars().next().is_some_and(|c| c.is_ascii_uppercase()) && rest.starts_with(": ") {
            names.insert(name);
        }
    }
    // `Sp<T>` only attaches a span to `T`; the EBNF writes `T`.
    names.remove("Sp");
    names
}

#[test]
fn ebnf_defines_the_grammars_nonterminals() {
    let mut defined = BTreeSet::new();
    for block in blocks("spec/language.md") {
        if block.info != "ebnf" {
            continue;
        }
        for line in block.text.lines() {
            if let Some((head, _)) = line.split_once("::=") {
                let name: String = head.trim().chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
                if !name.is_empty() && !line.starts_with(char::is_whitespace) {
                    defined.insert(name);
                }
            }
        }
    }
    let grammar = grammar_nonterminals();
    let missing: Vec<&String> = grammar.difference(&defined).collect();
    let extra: Vec<&String> = defined.difference(&grammar).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "spec/language.md's EBNF is out of step with grammar.lalrpop\n  not in the spec: {missing:?}\n  not in the grammar: {extra:?}"
    );
}

#[test]
fn error_index_lists_every_code() {
    let text = std::fs::read_to_string(root().join("spec/language.md")).expect("the language reference");
    let listed: Vec<(String, String)> = text
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.strip_prefix("| `")?.split('|').map(str::trim).collect();
            let code = cells.first()?.strip_suffix('`')?;
            let is_code = code.len() == 5 && (code.starts_with('E') || code.starts_with('W'));
            is_code.then(|| (code.to_owned(), cells.get(1).copied().unwrap_or_default().to_owned()))
        })
        .collect();
    let expected: Vec<(String, String)> =
        Code::ALL.iter().map(|c| (c.as_str().to_owned(), c.title().to_owned())).collect();
    assert_eq!(listed, expected, "the error index in spec/language.md differs from the catalogue");
}
