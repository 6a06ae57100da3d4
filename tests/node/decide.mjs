#!/usr/bin/env node
// Decides one request with the Node.js host and prints the decision.
//
//   node decide.mjs MODULE.wasm REQUEST.json    (or `-` for standard input)
//   node decide.mjs --encoding MODULE.wasm REQUEST.json
//
// With --encoding, prints the request's encoding read back slot by slot
// instead (or its validation errors). Exits 0 on allow, 1 on deny, 2 when
// the module is refused or the arguments are wrong.

import { readFileSync } from "node:fs";
import { decisionToJson, decodeRequest, loadModule, parseJson, stringifyJson } from "./ward-host.mjs";

const args = process.argv.slice(2);
const encoding = args[0] === "--encoding";
if (encoding) args.shift();
if (args.length !== 2) {
  console.error("usage: node decide.mjs [--encoding] MODULE.wasm REQUEST.json|-");
  process.exit(2);
}
let module;
try {
  module = loadModule(readFileSync(args[0]));
} catch (e) {
  console.error(`refused: ${e.message}`);
  process.exit(2);
}
const text = readFileSync(args[1] === "-" ? 0 : args[1], "utf8");
if (encoding) {
  let request;
  try {
    request = parseJson(text);
  } catch (e) {
    console.log(`not JSON: ${e.message}`);
    process.exit(1);
  }
  const encoded = module.encode(request);
  if (encoded.errors) console.log(stringifyJson({ errors: encoded.errors }));
  else console.log(stringifyJson({ length: encoded.bytes.length, ...decodeRequest(module.manifest, encoded.bytes) }));
  process.exit(encoded.errors ? 1 : 0);
}
const decision = module.decideJson(text);
console.log(decisionToJson(decision));
process.exit(decision.decision === "allow" ? 0 : 1);
