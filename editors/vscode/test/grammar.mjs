// Tokenizes Ward files with the TextMate grammar, as VS Code does, and fails
// on what the grammar gets wrong:
//   - a region (string, block comment) still open at the end of a file,
//     unless the compiler's lexer also finds an unterminated comment there;
//   - a string still open at the end of a line;
//   - a non-blank character that no rule matches (only the base scope),
//     unless the compiler's lexer reports an invalid token in the file;
//   - a keyword (per the compiler's lexer) without a keyword scope.
//
// Usage: node test/grammar.mjs MANIFEST.json, where the manifest lists
// { path, open_at_eof, invalid_tokens, keywords: [[line, utf16 column, text]] }
// per file (the `ward` test suite writes it from the compiler's lexer).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const vsctm = require('vscode-textmate');
const oniguruma = require('vscode-oniguruma');

const here = dirname(fileURLToPath(import.meta.url));
const wasm = readFileSync(join(dirname(require.resolve('vscode-oniguruma')), 'onig.wasm'));
await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));

const registry = new vsctm.Registry({
  onigLib: Promise.resolve({
    createOnigScanner: (sources) => new oniguruma.OnigScanner(sources),
    createOnigString: (text) => new oniguruma.OnigString(text),
  }),
  loadGrammar: async (scope) => {
    if (scope !== 'source.ward') return null;
    const path = join(here, '..', 'syntaxes', 'ward.tmLanguage.json');
    return vsctm.parseRawGrammar(readFileSync(path, 'utf8'), path);
  },
});
const grammar = await registry.loadGrammar('source.ward');

const KEYWORD_SCOPES = /^(keyword|storage|variable\.language|constant\.language)\./;
const manifest = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const failures = [];
let tokens = 0;

for (const file of manifest) {
  const text = readFileSync(file.path, 'utf8');
  const lines = text.split('\n');
  let stack = vsctm.INITIAL;
  const scopesAt = new Map(); // "line:col" -> scopes of the token starting there
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].replace(/\r$/, '');
    const result = grammar.tokenizeLine(line, stack);
    for (const token of result.tokens) {
      tokens++;
      scopesAt.set(`${i}:${token.startIndex}`, token.scopes);
      const slice = line.slice(token.startIndex, token.endIndex);
      if (token.scopes.length === 1 && slice.trim() !== '' && !file.invalid_tokens) {
        failures.push(`${file.path}:${i + 1}:${token.startIndex + 1}: no rule matches \`${slice.trim()}\``);
      }
    }
    stack = result.ruleStack;
    const open = stackScopes(stack);
    if (open.some((s) => s.startsWith('string.'))) {
      failures.push(`${file.path}:${i + 1}: a string is still open at the end of the line`);
    }
  }
  const open = stackScopes(stack);
  if (open.length > 0 && !file.open_at_eof) {
    failures.push(`${file.path}: ends inside ${open.join(', ')}`);
  }
  if (open.length === 0 && file.open_at_eof) {
    failures.push(`${file.path}: the compiler finds an unterminated comment, the grammar does not`);
  }
  for (const [line, col, keyword] of file.keywords) {
    const scopes = scopesAt.get(`${line}:${col}`);
    if (!scopes || !scopes.some((s) => KEYWORD_SCOPES.test(s))) {
      failures.push(`${file.path}:${line + 1}:${col + 1}: keyword \`${keyword}\` has scopes ${JSON.stringify(scopes)}`);
    }
  }
}

// The scopes of the regions open in a rule stack, base scope excluded.
function stackScopes(stack) {
  const scopes = [];
  for (let s = stack; s && s.parent; s = s.parent) {
    const name = s.nameScopesList?.scopePath?.scopeName ?? s.contentNameScopesList?.scopePath?.scopeName;
    scopes.push(name ?? 'region');
  }
  return scopes;
}

if (failures.length > 0) {
  console.error(failures.join('\n'));
  console.error(`${failures.length} problem(s) in ${manifest.length} files`);
  process.exit(1);
}
console.log(`tokenized ${manifest.length} files (${tokens} tokens): no unmatched regions`);
