//! `ward init NAME`: scaffold a policy project that checks, is formatted and
//! passes its tests with full rule coverage from the first run.

use std::path::Path;

use crate::output::{self, Failure, describe_io};
use crate::{Outcome, status};

/// Runs `ward init NAME`.
pub fn run(dir: &Path) -> Outcome {
    if dir.exists() && std::fs::read_dir(dir).map(|mut d| d.next().is_some()).unwrap_or(true) {
        return Err(Failure::new(format!("`{}` already exists and is not empty", dir.display()))
            .help("choose a new directory name; `ward init` never overwrites files"));
    }
    let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or("policies");
    let package = package_name(name);
    for (path, text) in files(&package, name) {
        let path = dir.join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| Failure::new(format!("cannot create `{}`: {}", parent.display(), describe_io(&e))))?;
        }
        std::fs::write(&path, text)
            .map_err(|e| Failure::new(format!("cannot write `{}`: {}", path.display(), describe_io(&e))))?;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let script = dir.join("ci.sh");
        let _ = std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755));
    }
    let shown = dir.display();
    output::stdout(&format!(
        "created policy project `{shown}` (package `{package}`)\n\n  \
         ward check {shown}\n  ward test {shown} --coverage\n  ward build {shown}/policy -o {name}.wasm\n"
    ));
    Ok(status::ok())
}

/// A package name from a directory name: lower case, runs of other
/// characters as `_`, starting with a letter.
fn package_name(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    let out = out.trim_matches('_').to_owned();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        format!("policies_{out}").trim_end_matches('_').to_owned()
    } else if ward_compiler::syntax::lexer::KEYWORDS.contains(&out.as_str()) {
        format!("{out}_policies")
    } else {
        out
    }
}

fn files(package: &str, name: &str) -> Vec<(&'static str, String)> {
    let schema = SCHEMA.replace("PACKAGE", package);
    let rules = RULES.replace("PACKAGE", package);
    let tests = TESTS.replace("PACKAGE", package);
    let readme = README.replace("NAME", name);
    vec![
        ("policy/schema.ward", schema),
        ("policy/rules.ward", rules),
        ("tests/rules.ward", tests),
        ("README.md", readme),
        ("ci.sh", CI.to_owned()),
    ]
}

const SCHEMA: &str = r#"package PACKAGE

import ward.data.{Classification}

/// A person signed in through the identity provider.
entity User {
  clearance: Classification,
  roles: Set<String>,
  /// Time since the last multi-factor authentication; absent without MFA.
  mfa_age: Duration?,
}

/// A model served behind the gateway.
entity Model { tier: Classification }

action infer { principal: User, resource: Model }

context {
  /// Behaviour-analysis risk score of the session.
  risk: Int[0..100],
}

/// Raise an alert with the security team.
obligation alert(reason: String)
"#;

const RULES: &str = r#"package PACKAGE

import ward.data.{dominates}

@id("ACCESS-001")
permit (principal: User, action: infer, resource: Model)
  when dominates(principal.clearance, resource.tier);

@id("ZT-001") @reason("MFA missing or older than 15 minutes")
forbid (principal: User, action, resource)
  unless principal has mfa_age && principal.mfa_age <= 15m;

@id("RISK-001") @reason("session risk is critical")
forbid (principal, action, resource)
  when context.risk >= 90
  obligate alert(reason: "critical session risk");
"#;

const TESTS: &str = r#"package PACKAGE

fixture analyst_infer = {
  principal: User::"alice" { clearance: confidential, roles: ["analyst"], mfa_age: 5m },
  action: infer,
  resource: Model::"assistant" { tier: internal },
  context: { risk: 10 },
};

test "a cleared analyst infers" {
  request: analyst_infer,
  expect: allow,
  rules: ["ACCESS-001"],
}

test "clearance below the model's tier is denied" {
  request: analyst_infer with { resource.tier: restricted },
  expect: deny,
  rules: [],
}

test "stale MFA is denied" {
  request: analyst_infer with { principal.mfa_age: 1h },
  expect: deny,
  rules: ["ZT-001"],
}

test "critical risk is denied with an alert" {
  request: analyst_infer with { context.risk: 95 },
  expect: deny,
  rules: ["RISK-001"],
  obligations: [alert(reason: "critical session risk")],
}

test "a risk score out of range is invalid input" {
  request: analyst_infer with { context.risk: 250 },
  expect: deny,
  errors: [out_of_declared_range(path: "context.risk")],
}
"#;

const README: &str = r#"# NAME

Zero-trust policies written in Ward.

- `policy/`: the schema and the rules — what `ward build` compiles into a
  decision module.
- `tests/`: fixtures and tests, run by `ward test` against the compiled module.

```sh
ward check .                       # type-check
ward fmt --check .                 # formatting
ward test . --min-coverage 100     # tests, with every rule exercised
ward build policy -o NAME.wasm     # the decision module gateways load
```

`ci.sh` runs the first three; call it from your CI pipeline.
"#;

const CI: &str = r#"#!/bin/sh
# Checks, formatting and tests of these policies; fails on the first problem.
set -eu
cd "$(dirname "$0")"
WARD="${WARD:-ward}"
"$WARD" check .
"$WARD" fmt --check .
"$WARD" test . --min-coverage 100 --junit ward-tests.xml
"#;

#[cfg(test)]
mod tests {
    use super::package_name;

    #[test]
    fn package_names_are_identifiers() {
        assert_eq!(package_name("acme-gateway"), "acme_gateway");
        assert_eq!(package_name("Acme Gateway 2"), "acme_gateway_2");
        assert_eq!(package_name("42"), "policies_42");
        assert_eq!(package_name("--"), "policies");
        assert_eq!(package_name("test"), "test_policies");
    }
}
