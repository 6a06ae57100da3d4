#!/usr/bin/env node
// Decides requests with the Node.js host and compares the decisions with
// expected ones.
//
//   node check.mjs [--errors=presence|kinds|exact] MODULE.wasm CASES.json
//   node check.mjs --refuse MODULE.wasm
//
// CASES.json is an array of {"request": <request>, "expected": <decision>}
// (or "request_text": "<JSON text>" instead of "request", for documents that
// are not JSON or whose numbers need their exact digits); an optional "name"
// labels the case. Decision, rules, reasons and obligations must be equal;
// errors are compared according to --errors:
//   presence  both decisions have errors, or neither has
//   kinds     the same multiset of error kinds
//   exact     the same multiset of (kind, path, rule); messages are free text
// Prints one line per mismatch and a closing `N passed, N failed`; exits 1 on
// any failure.
//
// With --refuse, checks that the host refuses the module, prints why, and
// exits 0 when it does (1 when it loads it).

import { readFileSync } from "node:fs";
import { HostError, loadModule, parseJson, stringifyJson } from "./ward-host.mjs";

function usage() {
  console.error("usage: node check.mjs [--errors=presence|kinds|exact] MODULE.wasm CASES.json\n       node check.mjs --refuse MODULE.wasm");
  process.exit(2);
}

const args = process.argv.slice(2);
let errorMode = "presence";
let refuse = false;
const positional = [];
for (const a of args) {
  if (a === "--refuse") refuse = true;
  else if (a.startsWith("--errors=")) errorMode = a.slice("--errors=".length);
  else if (a.startsWith("--")) usage();
  else positional.push(a);
}
if (!["presence", "kinds", "exact"].includes(errorMode)) usage();

if (refuse) {
  if (positional.length !== 1) usage();
  try {
    loadModule(readFileSync(positional[0]));
  } catch (e) {
    if (e instanceof HostError) {
      console.log(`refused: ${e.message}`);
      process.exit(0);
    }
    throw e;
  }
  console.log(`FAIL: the host loads ${positional[0]}`);
  process.exit(1);
}

if (positional.length !== 2) usage();
const [modulePath, casesPath] = positional;

let module;
try {
  module = loadModule(readFileSync(modulePath));
} catch (e) {
  console.log(`FAIL: the host refuses ${modulePath}: ${e.message}`);
  console.log("0 passed, 1 failed");
  process.exit(1);
}

const cases = parseJson(readFileSync(casesPath, "utf8"));
if (!Array.isArray(cases)) {
  console.error(`${casesPath}: expected an array of cases`);
  process.exit(2);
}

// Obligations compare as canonical JSON (object keys sorted).
function canonical(v) {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v !== null && typeof v === "object" && v.constructor !== Object && Object.getPrototypeOf(v) !== null) return stringifyJson(v);
  if (v !== null && typeof v === "object") {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`)
      .join(",")}}`;
  }
  return stringifyJson(v);
}

const errorKey = (e) => {
  if (errorMode === "kinds") return e.kind;
  return `${e.kind}@${e.path ?? ""}#${e.rule ?? ""}`;
};
const multiset = (list) => (list ?? []).map(errorKey).sort().join(" | ");

function differences(actual, expected) {
  const out = [];
  const same = (field, a, b) => {
    const ta = canonical(a ?? []);
    const tb = canonical(b ?? []);
    if (ta !== tb) out.push(`${field}: node ${ta}, runtime ${tb}`);
  };
  if (actual.decision !== expected.decision) out.push(`decision: node ${actual.decision}, runtime ${expected.decision}`);
  same("rules", actual.rules, expected.rules);
  same("reasons", actual.reasons, expected.reasons);
  same("obligations", actual.obligations, expected.obligations);
  const ae = actual.errors ?? [];
  const ee = expected.errors ?? [];
  const errorsDiffer = errorMode === "presence" ? ae.length > 0 !== ee.length > 0 : multiset(ae) !== multiset(ee);
  if (errorsDiffer) out.push(`errors: node ${canonical(ae)}, runtime ${canonical(ee)}`);
  return out;
}

let passed = 0;
let failed = 0;
cases.forEach((c, k) => {
  const label = c.name ?? `case ${k}`;
  let actual;
  if (Object.hasOwn(c, "request_text")) actual = module.decideJson(c.request_text);
  else actual = module.decide(c.request);
  const diff = differences(actual, c.expected);
  if (diff.length === 0) {
    passed++;
    return;
  }
  failed++;
  const request = Object.hasOwn(c, "request_text") ? c.request_text : stringifyJson(c.request);
  console.log(`MISMATCH ${label}: ${diff.join("; ")}\n  request: ${request}`);
});
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
