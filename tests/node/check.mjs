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
// labels the case, and an optional "known_difference" (a sentence) marks a
// documented disagreement, which is printed but not counted. Decision, rules, reasons and obligations must be equal;
// errors are compared according to --errors:
//   presence  both decisions have errors, or neither has
//   kinds     the same multiset of error kinds
//   exact     the same multiset of (kind, path, rule); messages are free text
// Prints one line per mismatch and a closing `N passed, N failed`; exits 1 on
// any failure.
//
// A case may also carry "runtime_encoding": the runtime's encoding of the
// request, in hexadecimal. Both encodings are then read back slot by slot
// (decodeRequest) and must mean the same thing: same values, string ids,
// set elements in the same order, the same zeros; where the variable part
// puts string bytes and set elements may differ.
//
// With --refuse, checks that the host refuses the module, prints why, and
// exits 0 when it does (1 when it loads it).

import { readFileSync } from "node:fs";
import { HostError, decodeRequest, loadModule, parseJson, stringifyJson } from "./ward-host.mjs";

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

const cases = parseJson(readFileSync(casesPath, "utf8"), { maxDepth: Infinity });
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

// The first place where two decoded trees differ, or null.
function treeDifference(a, b, path = "") {
  if (typeof a !== "object" || a === null || typeof b !== "object" || b === null) {
    return stringifyJson(a) === stringifyJson(b) ? null : `${path || "the request"}: node ${stringifyJson(a)}, runtime ${stringifyJson(b)}`;
  }
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
  for (const k of keys) {
    const d = treeDifference(a[k], b[k], Array.isArray(a) ? `${path}[${k}]` : path ? `${path}.${k}` : k);
    if (d) return d;
  }
  return null;
}

function encodingDifference(c) {
  const request = Object.hasOwn(c, "request_text") ? parseJson(c.request_text, { maxDepth: Infinity }) : c.request;
  const mine = module.encode(request);
  if (mine.errors) return `encoding: node refuses the request (${mine.errors.map((e) => e.kind).join(", ")}), the runtime encodes it`;
  const theirs = Uint8Array.from(Buffer.from(c.runtime_encoding, "hex"));
  const a = decodeRequest(module.manifest, mine.bytes);
  const b = decodeRequest(module.manifest, theirs);
  if (a.problems.length > 0) return `encoding: node's encoding breaks the layout: ${a.problems.join("; ")}`;
  const d = treeDifference(a, b);
  return d ? `encoding differs at ${d}` : null;
}

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
let known = 0;
cases.forEach((c, k) => {
  const label = c.name ?? `case ${k}`;
  let actual;
  if (Object.hasOwn(c, "request_text")) actual = module.decideJson(c.request_text);
  else actual = module.decide(c.request);
  const diff = differences(actual, c.expected);
  if (Object.hasOwn(c, "runtime_encoding")) {
    const d = encodingDifference(c);
    if (d) diff.push(d);
  }
  const full = Object.hasOwn(c, "request_text") ? c.request_text : stringifyJson(c.request);
  const request = full.length > 2000 ? `${full.slice(0, 2000)}… (${full.length} characters)` : full;
  if (Object.hasOwn(c, "known_difference")) {
    // A documented disagreement: reported, not counted as a failure.
    known++;
    const state = diff.length === 0 ? "no longer differs" : diff.join("; ");
    console.log(`KNOWN ${label} (${c.known_difference}): ${state}\n  request: ${request}`);
    return;
  }
  if (diff.length === 0) {
    passed++;
    return;
  }
  failed++;
  console.log(`MISMATCH ${label}: ${diff.join("; ")}\n  request: ${request}`);
});
if (known > 0) console.log(`${known} known differences`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
