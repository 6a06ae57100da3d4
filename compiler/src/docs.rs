//! Reference documentation: every declaration of a package with its
//! signature and its `///` doc comment (Markdown), as `ward doc` prints it.

use std::collections::BTreeMap;

use crate::span::SourceMap;
use crate::syntax::ast::{Effect, Item};
use crate::syntax::{parser, print};

/// Markdown reference pages by package name, for the files given as
/// `(name, text)`. Files that do not parse contribute what the parser
/// recovered.
pub fn markdown(files: &[(String, String)]) -> BTreeMap<String, String> {
    let mut sources = SourceMap::new();
    let mut packages: BTreeMap<String, Vec<Item>> = BTreeMap::new();
    for (name, text) in files {
        let id = sources.add(name.clone(), text.clone());
        let parsed = parser::parse(id, &sources.get(id).text).file;
        let package = parsed.package.as_ref().map(|p| p.dotted()).unwrap_or_default();
        packages.entry(package).or_default().extend(parsed.items);
    }
    packages.into_iter().map(|(package, items)| (package.clone(), page(&package, &items))).collect()
}

/// Sections in reading order: the vocabulary first, then what uses it.
const SECTIONS: &[&str] = &["Types", "Entities", "Actions", "Context", "Obligations", "Functions", "Rules"];

fn page(package: &str, items: &[Item]) -> String {
    let mut sections: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for item in items {
        let (section, entry) = match item {
            Item::Enum(d) => ("Types", declaration(&d.name.name, item, d.docs.as_deref())),
            Item::Level(d) => ("Types", declaration(&d.name.name, item, d.docs.as_deref())),
            Item::Type(d) => ("Types", declaration(&d.name.name, item, d.docs.as_deref())),
            Item::Entity(d) => ("Entities", declaration(&d.name.name, item, d.docs.as_deref())),
            Item::Action(d) => {
                let names: Vec<&str> = d.names.iter().map(|n| n.name.as_str()).collect();
                ("Actions", declaration(&names.join(", "), item, d.docs.as_deref()))
            }
            Item::Context(d) => ("Context", declaration("context", item, d.docs.as_deref())),
            Item::Obligation(d) => ("Obligations", declaration(&d.name.name, item, d.docs.as_deref())),
            Item::Def(d) => ("Functions", declaration(&d.name.name, item, d.docs.as_deref())),
            Item::Rule(r) => {
                let annotation = |name: &str| {
                    r.annotations
                        .iter()
                        .find(|a| a.name.name == name)
                        .and_then(|a| a.value.as_ref())
                        .map(|v| v.value.clone())
                };
                let effect = match r.effect {
                    Effect::Permit => "permit",
                    Effect::Forbid => "forbid",
                };
                let id = annotation("id").unwrap_or_else(|| "(no id)".to_owned());
                let mut entry = format!("- `{id}` ({effect})");
                if let Some(reason) = annotation("reason") {
                    entry.push_str(&format!(": {reason}"));
                }
                if let Some(docs) = &r.docs {
                    entry.push_str(&format!(" — {}", docs.replace('\n', " ")));
                }
                ("Rules", entry)
            }
            Item::Test(_) | Item::Fixture(_) | Item::Error(_) => continue,
        };
        sections.entry(section).or_default().push(entry);
    }
    let mut out = format!("# `{package}`\n");
    for section in SECTIONS {
        let Some(entries) = sections.get(section) else { continue };
        out.push_str(&format!("\n## {section}\n\n"));
        let separator = if *section == "Rules" { "\n" } else { "\n\n" };
        out.push_str(&entries.join(separator));
        out.push('\n');
    }
    out
}

fn declaration(name: &str, item: &Item, docs: Option<&str>) -> String {
    let mut out = format!("### `{name}`\n\n");
    if let Some(signature) = print::signature(item) {
        out.push_str(&format!("```ward\n{signature}\n```\n"));
    }
    match docs {
        Some(docs) => out.push_str(&format!("\n{}\n", demote_headings(docs))),
        None => out.push_str("\n*Undocumented.*\n"),
    }
    out.trim_end().to_owned()
}

/// Doc comments may use headings; nest them below the declaration's.
fn demote_headings(docs: &str) -> String {
    let mut in_code = false;
    docs.lines()
        .map(|line| {
            if line.trim_start().starts_with("```") {
                in_code = !in_code;
            }
            if !in_code && line.starts_with('#') { format!("###{line}") } else { line.to_owned() }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_declarations_with_signatures_and_docs() {
        let source = "package demo\n\n/// Sensitivity.\nlevel L = a < b\n\n/// Fresh?\ndef fresh(age: Duration, max: Duration) -> Bool = age <= max;\n\nobligation alert(urgency: String)\n\n@id(\"R-1\") @reason(\"why\")\nforbid (principal, action, resource) when true;\n\ntest \"t\" { request: x, expect: deny }\n";
        let pages = markdown(&[("demo.ward".into(), source.into())]);
        let page = &pages["demo"];
        assert!(page.starts_with("# `demo`\n"), "{page}");
        assert!(page.contains("## Types\n\n### `L`\n\n```ward\nlevel L = a < b\n```\n\nSensitivity."), "{page}");
        assert!(page.contains("```ward\ndef fresh(age: Duration, max: Duration) -> Bool\n```\n\nFresh?"), "{page}");
        assert!(
            page.contains("### `alert`\n\n```ward\nobligation alert(urgency: String)\n```\n\n*Undocumented.*"),
            "{page}"
        );
        assert!(page.contains("## Rules\n\n- `R-1` (forbid): why"), "{page}");
        assert!(!page.contains("test"), "tests are not documented: {page}");
        let types = page.find("## Types").unwrap_or(usize::MAX);
        assert!(types < page.find("## Obligations").unwrap_or(0), "sections in reading order");
    }
}
