// A Ward decision-module host in plain JavaScript, written from spec/abi.md.
//
// It loads a decision module with Node's built-in WebAssembly, validates
// requests against the module's manifest, encodes them into the module's
// memory, calls the module and builds the decision. Every failure is a deny.
//
//   import { loadModule } from "./ward-host.mjs";
//   const module = loadModule(bytes);          // throws HostError on refusal
//   const decision = module.decideJson(text);  // or module.decide(value)
//
// JSON is parsed with a parser of our own (parseJson) so that integers keep
// every digit: they become BigInts, and numbers with a fraction or an
// exponent become JsonFloat values. decide() also accepts plain JavaScript
// values (numbers, objects, arrays).

/** The ABI versions this host was written for. */
export const SUPPORTED_ABI_VERSIONS = [2];

/** The name of the custom section holding the manifest. */
export const MANIFEST_SECTION = "ward.manifest";

/** Why a module was refused. */
export class HostError extends Error {
  constructor(message) {
    super(message);
    this.name = "HostError";
  }
}

// ---------------------------------------------------------------------------
// JSON without loss of integer precision
// ---------------------------------------------------------------------------

/** A JSON number written with a fraction or an exponent. */
export class JsonFloat {
  constructor(text) {
    this.text = text;
    this.value = Number(text);
  }
  toString() {
    return this.text;
  }
}

/** Keys that occur more than once in a parsed object (the last one wins). */
export const DUPLICATE_KEYS = Symbol("ward.duplicateKeys");

class JsonSyntaxError extends Error {}

/** The deepest nesting of arrays and objects a document may have. */
export const MAX_JSON_DEPTH = 127;

/**
 * Parses JSON text (RFC 8259). Integers become BigInts, other numbers
 * JsonFloat; objects have a null prototype. Lone surrogates in strings are
 * refused (they are not Unicode text), and so are documents nested deeper
 * than `maxDepth` (default MAX_JSON_DEPTH, as deep as the runtime's JSON
 * parser goes). Throws an Error.
 */
export function parseJson(text, { maxDepth = MAX_JSON_DEPTH } = {}) {
  let i = 0;
  const n = text.length;
  const fail = (what) => {
    throw new JsonSyntaxError(`${what} at character ${i}`);
  };
  const ws = () => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) i++;
      else break;
    }
  };
  // `depth` counts the arrays and objects around the value.
  const value = (depth) => {
    ws();
    if (i >= n) fail("unexpected end of input");
    const c = text[i];
    if ((c === "{" || c === "[") && depth >= maxDepth) fail(`nesting deeper than ${maxDepth}`);
    if (c === "{") {
      i++;
      const obj = Object.create(null);
      let dups = null;
      ws();
      if (text[i] === "}") {
        i++;
        return obj;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail("expected a key");
        const key = string();
        ws();
        if (text[i] !== ":") fail("expected `:`");
        i++;
        const v = value(depth + 1);
        if (Object.hasOwn(obj, key)) (dups ??= new Set()).add(key);
        obj[key] = v;
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "}") {
          i++;
          break;
        }
        fail("expected `,` or `}`");
      }
      if (dups) Object.defineProperty(obj, DUPLICATE_KEYS, { value: dups });
      return obj;
    }
    if (c === "[") {
      i++;
      const arr = [];
      ws();
      if (text[i] === "]") {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(value(depth + 1));
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "]") {
          i++;
          break;
        }
        fail("expected `,` or `]`");
      }
      return arr;
    }
    if (c === '"') return string();
    if (text.startsWith("true", i)) {
      i += 4;
      return true;
    }
    if (text.startsWith("false", i)) {
      i += 5;
      return false;
    }
    if (text.startsWith("null", i)) {
      i += 4;
      return null;
    }
    return number();
  };
  const numberPattern = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;
  const number = () => {
    numberPattern.lastIndex = i;
    const m = numberPattern.exec(text);
    if (!m || m[0].length === 0) fail("unexpected character");
    i += m[0].length;
    if (m[1] === undefined && m[2] === undefined) return BigInt(m[0]);
    return new JsonFloat(m[0]);
  };
  const string = () => {
    i++; // opening quote
    let out = "";
    let start = i;
    for (;;) {
      if (i >= n) fail("unterminated string");
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        out += text.slice(start, i);
        i++;
        break;
      }
      if (c < 0x20) fail("control character in string");
      if (c === 0x5c) {
        out += text.slice(start, i);
        i++;
        const e = text[i++];
        switch (e) {
          case '"': out += '"'; break;
          case "\\": out += "\\"; break;
          case "/": out += "/"; break;
          case "b": out += "\b"; break;
          case "f": out += "\f"; break;
          case "n": out += "\n"; break;
          case "r": out += "\r"; break;
          case "t": out += "\t"; break;
          case "u": {
            const hex = text.slice(i, i + 4);
            if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail("invalid \\u escape");
            out += String.fromCharCode(parseInt(hex, 16));
            i += 4;
            break;
          }
          default:
            fail("invalid escape");
        }
        start = i;
        continue;
      }
      i++;
    }
    if (!out.isWellFormed()) fail("lone surrogate in string");
    return out;
  };
  const v = value(0);
  ws();
  if (i !== n) fail("trailing characters");
  return v;
}

/** Compact JSON text; BigInts and JsonFloats keep their digits. */
export function stringifyJson(v) {
  if (v === null || v === undefined) return "null";
  if (typeof v === "bigint") return v.toString();
  if (v instanceof JsonFloat) return v.text;
  if (typeof v === "number") {
    if (!Number.isFinite(v)) return "null";
    return Number.isInteger(v) && Math.abs(v) < 1e21 ? BigInt(v).toString() : JSON.stringify(v);
  }
  if (typeof v === "string" || typeof v === "boolean") return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(stringifyJson).join(",")}]`;
  return `{${Object.keys(v)
    .map((k) => `${JSON.stringify(k)}:${stringifyJson(v[k])}`)
    .join(",")}}`;
}

// ---------------------------------------------------------------------------
// Byte strings
// ---------------------------------------------------------------------------

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder("utf-8", { fatal: true });

/** Compares two byte arrays lexicographically. */
export function compareBytes(a, b) {
  const len = Math.min(a.length, b.length);
  for (let k = 0; k < len; k++) {
    if (a[k] !== b[k]) return a[k] - b[k];
  }
  return a.length - b.length;
}

/** Compares two strings by their UTF-8 bytes (not by UTF-16 code units). */
export function compareUtf8(a, b) {
  if (a === b) return 0;
  return compareBytes(utf8Encoder.encode(a), utf8Encoder.encode(b));
}

const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v) && !(v instanceof JsonFloat);

// ---------------------------------------------------------------------------
// Value text formats (types/src/values.rs)
// ---------------------------------------------------------------------------

const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;
const inI64 = (v) => v >= I64_MIN && v <= I64_MAX;

const DURATION_UNITS = { d: 86_400_000n, h: 3_600_000n, m: 60_000n, s: 1_000n, ms: 1n };

/** Duration text (`15m`, `1h30m`, `500ms`, `-2d`) to milliseconds (BigInt), or null. */
export function parseDuration(text) {
  let body = text;
  let negative = false;
  if (body.startsWith("-")) {
    negative = true;
    body = body.slice(1);
  }
  if (body.length === 0) return null;
  let total = 0n;
  let i = 0;
  while (i < body.length) {
    const start = i;
    while (i < body.length && body[i] >= "0" && body[i] <= "9") i++;
    if (i === start) return null;
    const number = BigInt(body.slice(start, i));
    if (!inI64(number)) return null;
    let unit;
    if (body.startsWith("ms", i)) unit = "ms";
    else if (i < body.length) unit = body[i];
    else return null;
    const size = Object.hasOwn(DURATION_UNITS, unit) ? DURATION_UNITS[unit] : undefined;
    if (size === undefined) return null;
    const part = number * size;
    if (!inI64(part)) return null;
    total += part;
    if (!inI64(total)) return null;
    i += unit.length;
  }
  if (negative) {
    total = -total;
    if (!inI64(total)) return null;
  }
  return total;
}

/** Writes milliseconds as canonical duration text. */
export function formatDuration(millis) {
  let ms = BigInt(millis);
  if (ms === 0n) return "0s";
  let out = ms < 0n ? "-" : "";
  if (ms < 0n) ms = -ms;
  for (const [unit, size] of Object.entries(DURATION_UNITS)) {
    const count = ms / size;
    if (count > 0n) {
      out += `${count}${unit}`;
      ms %= size;
    }
  }
  return out;
}

const floorDiv = (a, b) => {
  const q = Math.trunc(a / b);
  return a % b !== 0 && (a < 0) !== (b < 0) ? q - 1 : q;
};

function daysFromCivil(year, month, day) {
  const y = month <= 2 ? year - 1 : year;
  const era = floorDiv(y, 400);
  const yoe = y - era * 400;
  const mp = (month + 9) % 12;
  const doy = Math.trunc((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.trunc(yoe / 4) - Math.trunc(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

function daysInMonth(year, month) {
  if (month === 4 || month === 6 || month === 9 || month === 11) return 30;
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return 31;
}

const isDigit = (b) => b >= 0x30 && b <= 0x39;

function digitsAt(bytes, from, to) {
  if (to > bytes.length || from >= to) return null;
  let v = 0;
  for (let k = from; k < to; k++) {
    if (!isDigit(bytes[k])) return null;
    v = v * 10 + (bytes[k] - 0x30);
  }
  return v;
}

/**
 * RFC 3339 text (`2026-01-31T09:30:00Z`, optional fraction of up to nine
 * digits, `Z` or `±HH:MM`) to milliseconds since the epoch (BigInt), or null.
 * Fractions below a millisecond are truncated.
 */
export function parseTimestamp(text) {
  const b = utf8Encoder.encode(text);
  const ch = (k) => (k < b.length ? b[k] : -1);
  if (b.length < 20 || ch(4) !== 0x2d || ch(7) !== 0x2d || (ch(10) !== 0x54 && ch(10) !== 0x74) || ch(13) !== 0x3a || ch(16) !== 0x3a) {
    return null;
  }
  const year = digitsAt(b, 0, 4);
  const month = digitsAt(b, 5, 7);
  const day = digitsAt(b, 8, 10);
  const hour = digitsAt(b, 11, 13);
  const minute = digitsAt(b, 14, 16);
  const second = digitsAt(b, 17, 19);
  if ([year, month, day, hour, minute, second].includes(null)) return null;
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) {
    return null;
  }
  let i = 19;
  let millis = 0;
  if (ch(i) === 0x2e) {
    const start = i + 1;
    i = start;
    while (i < b.length && isDigit(b[i])) i++;
    const len = i - start;
    if (len === 0 || len > 9) return null;
    for (let k = 0; k < 3; k++) millis = millis * 10 + (k < len ? b[start + k] - 0x30 : 0);
  }
  let offsetMinutes;
  const c = ch(i);
  if ((c === 0x5a || c === 0x7a) && i + 1 === b.length) {
    offsetMinutes = 0;
  } else if ((c === 0x2b || c === 0x2d) && i + 6 === b.length && b[i + 3] === 0x3a) {
    const h = digitsAt(b, i + 1, i + 3);
    const m = digitsAt(b, i + 4, i + 6);
    if (h === null || m === null || h > 23 || m > 59) return null;
    offsetMinutes = (c === 0x2d ? -1 : 1) * (h * 60 + m);
  } else {
    return null;
  }
  const days = BigInt(daysFromCivil(year, month, day));
  const seconds = days * 86_400n + BigInt(hour * 3_600 + minute * 60 + second - offsetMinutes * 60);
  return seconds * 1_000n + BigInt(millis);
}

/** `HH:MM` or `HH:MM:SS` to milliseconds since midnight (BigInt), or null. */
export function parseTimeOfDay(text) {
  const b = utf8Encoder.encode(text);
  let h;
  let m;
  let s = 0;
  if (b.length === 5 && b[2] === 0x3a) {
    h = digitsAt(b, 0, 2);
    m = digitsAt(b, 3, 5);
  } else if (b.length === 8 && b[2] === 0x3a && b[5] === 0x3a) {
    h = digitsAt(b, 0, 2);
    m = digitsAt(b, 3, 5);
    s = digitsAt(b, 6, 8);
  } else {
    return null;
  }
  if (h === null || m === null || s === null || h > 23 || m > 59 || s > 59) return null;
  return BigInt((h * 3_600 + m * 60 + s) * 1_000);
}

// Address parsing follows the grammar of Rust's `std::net::IpAddr` parser:
// IPv4 is four decimal octets without leading zeros; IPv6 is up to eight
// groups of one to four hex digits, with at most one `::` and an optional
// trailing embedded IPv4 address; no zone, no brackets.

class AddrParser {
  constructor(text) {
    this.s = text;
    this.p = 0;
  }
  atomically(f) {
    const save = this.p;
    const r = f();
    if (r === null) this.p = save;
    return r;
  }
  givenChar(c) {
    return this.atomically(() => {
      if (this.s[this.p] === c) {
        this.p++;
        return true;
      }
      return null;
    });
  }
  number(radix, maxDigits, allowZeroPrefix, max) {
    return this.atomically(() => {
      let result = 0;
      let count = 0;
      const leadingZero = this.s[this.p] === "0";
      for (;;) {
        const c = this.s[this.p];
        const d = c === undefined ? NaN : parseInt(c, radix);
        if (Number.isNaN(d) || !/^[0-9a-fA-F]$/.test(c)) break;
        this.p++;
        result = result * radix + d;
        if (result > max) return null;
        count++;
        if (count > maxDigits) return null;
      }
      if (count === 0) return null;
      if (!allowZeroPrefix && leadingZero && count > 1) return null;
      return result;
    });
  }
  separator(sep, index, inner) {
    return this.atomically(() => {
      if (index > 0 && this.givenChar(sep) === null) return null;
      return inner();
    });
  }
  ipv4() {
    return this.atomically(() => {
      const octets = [];
      for (let k = 0; k < 4; k++) {
        const o = this.separator(".", k, () => this.number(10, 3, false, 255));
        if (o === null) return null;
        octets.push(o);
      }
      return octets;
    });
  }
  groups(groups, limit) {
    for (let k = 0; k < limit; k++) {
      if (k < limit - 1) {
        const v4 = this.separator(":", k, () => this.ipv4());
        if (v4 !== null) {
          groups[k] = (v4[0] << 8) | v4[1];
          groups[k + 1] = (v4[2] << 8) | v4[3];
          return [k + 2, true];
        }
      }
      const g = this.separator(":", k, () => this.number(16, 4, true, 0xffff));
      if (g === null) return [k, false];
      groups[k] = g;
    }
    return [limit, false];
  }
  ipv6() {
    return this.atomically(() => {
      const head = new Array(8).fill(0);
      const [headSize, headV4] = this.groups(head, 8);
      if (headSize === 8) return head;
      if (headV4) return null;
      if (this.givenChar(":") === null || this.givenChar(":") === null) return null;
      const tail = new Array(7).fill(0);
      const [tailSize] = this.groups(tail, 8 - (headSize + 1));
      for (let k = 0; k < tailSize; k++) head[8 - tailSize + k] = tail[k];
      return head;
    });
  }
}

/**
 * An IPv4 or IPv6 address: `{version: 4|6, hi, lo}` with `hi`, `lo` the
 * first and last 8 bytes read big-endian (IPv4: hi 0, lo the address), or null.
 */
export function parseIp(text) {
  const v4 = new AddrParser(text);
  const octets = v4.ipv4();
  if (octets !== null && v4.p === text.length) {
    return { version: 4, hi: 0n, lo: BigInt(((octets[0] << 24) >>> 0) + (octets[1] << 16) + (octets[2] << 8) + octets[3]) };
  }
  const v6 = new AddrParser(text);
  const groups = v6.ipv6();
  if (groups !== null && v6.p === text.length) {
    let hi = 0n;
    let lo = 0n;
    for (let k = 0; k < 4; k++) hi = (hi << 16n) | BigInt(groups[k]);
    for (let k = 4; k < 8; k++) lo = (lo << 16n) | BigInt(groups[k]);
    return { version: 6, hi, lo };
  }
  return null;
}

/** `address/prefix` to `{version, prefix, hi, lo}` with host bits cleared, or null. */
export function parseCidr(text) {
  const slash = text.indexOf("/");
  if (slash < 0) return null;
  const addrText = text.slice(0, slash);
  const prefixText = text.slice(slash + 1);
  if (!/^[0-9]{1,3}$/.test(prefixText)) return null;
  const prefix = Number(prefixText);
  if (prefix > 255) return null;
  const addr = parseIp(addrText);
  if (addr === null) return null;
  if (addr.version === 4) {
    if (prefix > 32) return null;
    const mask = prefix === 0 ? 0n : ((1n << 32n) - 1n) ^ ((1n << BigInt(32 - prefix)) - 1n);
    return { version: 4, prefix, hi: 0n, lo: addr.lo & mask };
  }
  if (prefix > 128) return null;
  const full = (addr.hi << 64n) | addr.lo;
  const mask = prefix === 0 ? 0n : ((1n << 128n) - 1n) ^ ((1n << BigInt(128 - prefix)) - 1n);
  const net = full & mask;
  return { version: 6, prefix, hi: net >> 64n, lo: net & ((1n << 64n) - 1n) };
}

// ---------------------------------------------------------------------------
// Module shape
// ---------------------------------------------------------------------------

const REQUIRED_FUNCTIONS = {
  ward_abi_version: [0, 1],
  ward_input: [1, 1],
  ward_evaluate: [1, 1],
  ward_output: [0, 1],
};

/** Reads the signatures (i32-only check) of exported functions from the binary. */
function exportedSignatures(bytes) {
  let p = 8;
  const u8 = () => {
    if (p >= bytes.length) throw new HostError("truncated module");
    return bytes[p++];
  };
  const leb = () => {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = u8();
      result += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if ((b & 0x80) === 0) return result;
      if (shift > 35) throw new HostError("malformed module");
    }
  };
  let types = null;
  let funcs = null;
  const exports = new Map();
  while (p < bytes.length) {
    const id = u8();
    const size = leb();
    const end = p + size;
    if (id === 1) {
      types = [];
      const count = leb();
      for (let k = 0; k < count; k++) {
        if (u8() !== 0x60) {
          types.push(null); // not a plain function type
          p = end;
          break;
        }
        const params = [];
        for (let c = leb(); c > 0; c--) params.push(u8());
        const results = [];
        for (let c = leb(); c > 0; c--) results.push(u8());
        types.push({ params, results });
      }
    } else if (id === 3) {
      funcs = [];
      for (let c = leb(); c > 0; c--) funcs.push(leb());
    } else if (id === 7) {
      for (let c = leb(); c > 0; c--) {
        const nameLen = leb();
        const name = new TextDecoder().decode(bytes.subarray(p, p + nameLen));
        p += nameLen;
        const kind = u8();
        const index = leb();
        exports.set(name, { kind, index });
      }
    }
    p = end;
  }
  const signatures = new Map();
  for (const [name, e] of exports) {
    if (e.kind !== 0) continue;
    const type = funcs && types ? types[funcs[e.index]] : undefined;
    signatures.set(name, type ?? null);
  }
  return signatures;
}

// ---------------------------------------------------------------------------
// The manifest
// ---------------------------------------------------------------------------

const TYPE_SIZES = { bool: 4, enum: 4, int: 8, duration: 8, timestamp: 8, time_of_day: 8, string: 12, entity: 16, set: 8, ip: 24, cidr: 24 };
const ENTITY_HEADER = 24;
const SET_ELEMENT_KINDS = new Set(["int", "duration", "timestamp", "time_of_day", "string", "enum", "entity"]);

const typeSize = (t) => (t.kind === "record" ? t.size : TYPE_SIZES[t.kind]);

/** Checks the manifest's shape and consistency; throws HostError. */
function checkManifest(m) {
  const bad = (what) => {
    throw new HostError(`invalid manifest: ${what}`);
  };
  const u32 = (v, what) => {
    if (typeof v !== "bigint" || v < 0n || v > 0xffffffffn) bad(`${what} is not an unsigned 32-bit integer`);
    return Number(v);
  };
  const i64 = (v, what) => {
    if (typeof v !== "bigint" || !inI64(v)) bad(`${what} is not a 64-bit integer`);
    return v;
  };
  const str = (v, what) => {
    if (typeof v !== "string") bad(`${what} is not a string`);
    return v;
  };
  const arr = (v, what) => {
    if (!Array.isArray(v)) bad(`${what} is not an array`);
    return v;
  };
  const obj = (v, what) => {
    if (!isObject(v)) bad(`${what} is not an object`);
    return v;
  };
  const has = (o, k, what) => {
    if (!Object.hasOwn(o, k)) bad(`${what}.${k} is missing`);
    return o[k];
  };

  obj(m, "the manifest");
  const abiVersion = u32(has(m, "abi_version", "manifest"), "abi_version");
  const packages = arr(has(m, "packages", "manifest"), "packages").map((p, k) => str(p, `packages[${k}]`));
  const sourceHash = str(has(m, "source_hash", "manifest"), "source_hash");
  const s = obj(has(m, "schema", "manifest"), "schema");
  const strings = arr(has(m, "strings", "manifest"), "strings").map((x, k) => str(x, `strings[${k}]`));

  const enums = arr(has(s, "enums", "schema"), "schema.enums").map((e, k) => {
    const w = `schema.enums[${k}]`;
    obj(e, w);
    return { name: str(has(e, "name", w), `${w}.name`), values: arr(has(e, "values", w), `${w}.values`).map((v, j) => str(v, `${w}.values[${j}]`)) };
  });
  const rawTypes = arr(has(s, "entity_types", "schema"), "schema.entity_types");
  const typeCount = rawTypes.length;
  const typeIndex = (v, what) => {
    const k = u32(v, what);
    if (k >= typeCount) bad(`${what}: entity type ${k} out of range`);
    return k;
  };

  const layout = (t, w) => {
    obj(t, w);
    const kind = str(has(t, "kind", w), `${w}.kind`);
    switch (kind) {
      case "bool":
      case "string":
      case "duration":
      case "timestamp":
      case "time_of_day":
      case "ip":
      case "cidr":
        return { kind };
      case "int": {
        const min = Object.hasOwn(t, "min") && t.min !== null ? i64(t.min, `${w}.min`) : null;
        const max = Object.hasOwn(t, "max") && t.max !== null ? i64(t.max, `${w}.max`) : null;
        return { kind, min, max };
      }
      case "enum": {
        const id = u32(has(t, "enum", w), `${w}.enum`);
        if (id >= enums.length) bad(`${w}: enum ${id} out of range`);
        return { kind, enum: id };
      }
      case "entity":
        return { kind, types: arr(has(t, "types", w), `${w}.types`).map((x, k) => typeIndex(x, `${w}.types[${k}]`)) };
      case "set": {
        const element = layout(has(t, "element", w), `${w}.element`);
        if (!SET_ELEMENT_KINDS.has(element.kind)) bad(`${w}: the ABI defines no order for sets of ${element.kind}`);
        return { kind, element };
      }
      case "record": {
        const size = u32(has(t, "size", w), `${w}.size`);
        return { kind, size, fields: fieldList(has(t, "fields", w), `${w}.fields`, 0, size) };
      }
      default:
        return bad(`${w}: unknown kind \`${kind}\``);
    }
  };

  // Fields at their offsets inside [start, size): within bounds, no overlap.
  function fieldList(list, w, start, size, reserved = []) {
    const fields = arr(list, w).map((f, k) => {
      const fw = `${w}[${k}]`;
      obj(f, fw);
      const field = {
        name: str(has(f, "name", fw), `${fw}.name`),
        type: layout(has(f, "type", fw), `${fw}.type`),
        offset: u32(has(f, "offset", fw), `${fw}.offset`),
        presentOffset: Object.hasOwn(f, "present_offset") && f.present_offset !== null ? u32(f.present_offset, `${fw}.present_offset`) : null,
      };
      return field;
    });
    const spans = [...reserved];
    for (const f of fields) {
      spans.push([f.offset, f.offset + typeSize(f.type), f.name]);
      if (f.presentOffset !== null) spans.push([f.presentOffset, f.presentOffset + 4, `${f.name} (presence flag)`]);
    }
    for (const [a, b, name] of spans) {
      if (a < start || b > size) bad(`${w}: \`${name}\` lies outside its container`);
    }
    spans.sort((x, y) => x[0] - y[0]);
    for (let k = 1; k < spans.length; k++) {
      if (spans[k][0] < spans[k - 1][1]) bad(`${w}: \`${spans[k - 1][2]}\` and \`${spans[k][2]}\` overlap`);
    }
    const names = new Set();
    for (const f of fields) {
      if (names.has(f.name)) bad(`${w}: \`${f.name}\` is declared twice`);
      names.add(f.name);
    }
    return fields;
  }

  const fixedSize = u32(has(s, "fixed_size", "schema"), "schema.fixed_size");
  const principalOffset = u32(has(s, "principal_offset", "schema"), "schema.principal_offset");
  const resourceOffset = u32(has(s, "resource_offset", "schema"), "schema.resource_offset");
  const contextOffset = u32(has(s, "context_offset", "schema"), "schema.context_offset");

  const entityTypes = rawTypes.map((e, k) => {
    const w = `schema.entity_types[${k}]`;
    obj(e, w);
    return {
      name: str(has(e, "name", w), `${w}.name`),
      ancestorTypes: arr(has(e, "ancestor_types", w), `${w}.ancestor_types`).map((x, j) => typeIndex(x, `${w}.ancestor_types[${j}]`)),
      fields: fieldList(has(e, "fields", w), `${w}.fields`, 0, Infinity, [[0, ENTITY_HEADER, "the entity header"]]),
    };
  });
  // The entity block: header plus the fields of every type.
  let blockSize = ENTITY_HEADER;
  for (const t of entityTypes) {
    for (const f of t.fields) {
      blockSize = Math.max(blockSize, f.offset + typeSize(f.type));
      if (f.presentOffset !== null) blockSize = Math.max(blockSize, f.presentOffset + 4);
    }
  }
  const context = fieldList(has(s, "context", "schema"), "schema.context", 0, Infinity);
  let contextSize = 0;
  for (const f of context) {
    contextSize = Math.max(contextSize, f.offset + typeSize(f.type));
    if (f.presentOffset !== null) contextSize = Math.max(contextSize, f.presentOffset + 4);
  }
  const regions = [
    [0, 4, "the action"],
    [principalOffset, principalOffset + blockSize, "the principal block"],
    [resourceOffset, resourceOffset + blockSize, "the resource block"],
    [contextOffset, contextOffset + contextSize, "the context"],
  ].filter(([a, b]) => b > a);
  for (const [a, b, name] of regions) {
    if (b > fixedSize) bad(`${name} lies outside fixed_size`);
  }
  regions.sort((x, y) => x[0] - y[0]);
  for (let k = 1; k < regions.length; k++) {
    if (regions[k][0] < regions[k - 1][1]) bad(`${regions[k - 1][2]} and ${regions[k][2]} overlap`);
  }

  const actions = arr(has(s, "actions", "schema"), "schema.actions").map((a, k) => {
    const w = `schema.actions[${k}]`;
    obj(a, w);
    return {
      name: str(has(a, "name", w), `${w}.name`),
      principals: arr(has(a, "principals", w), `${w}.principals`).map((x, j) => typeIndex(x, `${w}.principals[${j}]`)),
      resources: arr(has(a, "resources", w), `${w}.resources`).map((x, j) => typeIndex(x, `${w}.resources[${j}]`)),
    };
  });

  const obligations = arr(has(m, "obligations", "manifest"), "obligations").map((o, k) => {
    const w = `obligations[${k}]`;
    obj(o, w);
    return { name: str(has(o, "name", w), `${w}.name`), params: arr(has(o, "params", w), `${w}.params`).map((x, j) => str(x, `${w}.params[${j}]`)) };
  });
  const declared = new Map(obligations.map((o) => [o.name, o]));

  const rules = arr(has(m, "rules", "manifest"), "rules").map((r, k) => {
    const w = `rules[${k}]`;
    obj(r, w);
    const effect = str(has(r, "effect", w), `${w}.effect`);
    if (effect !== "permit" && effect !== "forbid") bad(`${w}.effect is neither permit nor forbid`);
    const reason = Object.hasOwn(r, "reason") && r.reason !== null ? str(r.reason, `${w}.reason`) : null;
    const obls = arr(has(r, "obligations", w), `${w}.obligations`).map((o, j) => {
      const ow = `${w}.obligations[${j}]`;
      obj(o, ow);
      const name = str(has(o, "name", ow), `${ow}.name`);
      const args = obj(has(o, "args", ow), `${ow}.args`);
      const decl = declared.get(name);
      if (!decl) bad(`${ow}: obligation \`${name}\` is not declared`);
      const keys = Object.keys(args);
      if (keys.length !== decl.params.length || !keys.every((key) => decl.params.includes(key))) {
        bad(`${ow}: the arguments of \`${name}\` do not match its parameters`);
      }
      return canonicalObligation(name, args);
    });
    return { id: str(has(r, "id", w), `${w}.id`), effect, reason, obligations: obls };
  });

  return {
    abiVersion,
    packages,
    sourceHash,
    strings,
    schema: { entityTypes, enums, actions, principalOffset, resourceOffset, contextOffset, context, fixedSize },
    obligations,
    rules,
  };
}

/** An obligation with its arguments in parameter-name (UTF-8 byte) order and its sort key. */
function canonicalObligation(name, args) {
  const keys = Object.keys(args).sort(compareUtf8);
  const sorted = Object.create(null);
  for (const k of keys) sorted[k] = args[k];
  return {
    name,
    args: sorted,
    nameBytes: utf8Encoder.encode(name),
    pairs: keys.map((k) => [utf8Encoder.encode(k), utf8Encoder.encode(stringifyJson(args[k]))]),
  };
}

function compareObligations(a, b) {
  const c = compareBytes(a.nameBytes, b.nameBytes);
  if (c !== 0) return c;
  const len = Math.min(a.pairs.length, b.pairs.length);
  for (let k = 0; k < len; k++) {
    const ck = compareBytes(a.pairs[k][0], b.pairs[k][0]);
    if (ck !== 0) return ck;
    const cv = compareBytes(a.pairs[k][1], b.pairs[k][1]);
    if (cv !== 0) return cv;
  }
  return a.pairs.length - b.pairs.length;
}

// ---------------------------------------------------------------------------
// Decisions
// ---------------------------------------------------------------------------

const failClosed = (errors) => ({ decision: "deny", rules: [], reasons: [], obligations: [], errors });
const error = (kind, path, message) => (path === null ? { kind, message } : { kind, path, message });

// ---------------------------------------------------------------------------
// Request validation
// ---------------------------------------------------------------------------

/** The JS value as an integer BigInt, or a string saying why it is not one. */
function integerOf(v) {
  if (typeof v === "bigint") return inI64(v) ? v : "integer_out_of_range";
  if (v instanceof JsonFloat) return "not_an_integer";
  if (!Number.isInteger(v)) return "not_an_integer";
  const b = BigInt(v);
  return inI64(b) ? b : "integer_out_of_range";
}

const isNumber = (v) => typeof v === "bigint" || typeof v === "number" || v instanceof JsonFloat;

function jsonKind(v) {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (isNumber(v)) return "a number";
  if (typeof v === "object") return "an object";
  return `a ${typeof v}`;
}

/** Checks the document's structure (the request format); returns an error message or null. */
function structureProblem(doc) {
  const fields = (o, allowed, required, where) => {
    if (!isObject(o)) return `${where} is ${jsonKind(o)}, not an object`;
    const dups = o[DUPLICATE_KEYS];
    if (dups && dups.size > 0) return `${where} has a duplicate field \`${[...dups][0]}\``;
    for (const k of Object.keys(o)) if (!allowed.includes(k)) return `${where} has an unknown field \`${k}\``;
    for (const k of required) if (!Object.hasOwn(o, k)) return `${where} lacks the field \`${k}\``;
    return null;
  };
  const stringField = (o, k, where) => (typeof o[k] === "string" ? null : `${where}.${k} is ${jsonKind(o[k])}, not a string`);
  const entityRef = (o, where) => fields(o, ["type", "id"], ["type", "id"], where) ?? stringField(o, "type", where) ?? stringField(o, "id", where);
  const entity = (o, where) => {
    const p = fields(o, ["type", "id", "attributes", "ancestors"], ["type", "id"], where) ?? stringField(o, "type", where) ?? stringField(o, "id", where);
    if (p) return p;
    if (Object.hasOwn(o, "attributes") && !isObject(o.attributes)) return `${where}.attributes is ${jsonKind(o.attributes)}, not an object`;
    if (Object.hasOwn(o, "ancestors")) {
      if (!Array.isArray(o.ancestors)) return `${where}.ancestors is ${jsonKind(o.ancestors)}, not an array`;
      for (let k = 0; k < o.ancestors.length; k++) {
        const q = entityRef(o.ancestors[k], `${where}.ancestors[${k}]`);
        if (q) return q;
      }
    }
    return null;
  };
  return (
    fields(doc, ["principal", "action", "resource", "context"], ["principal", "action", "resource"], "the request") ??
    entity(doc.principal, "principal") ??
    (typeof doc.action === "string" ? null : `action is ${jsonKind(doc.action)}, not a string`) ??
    entity(doc.resource, "resource") ??
    (!Object.hasOwn(doc, "context") || isObject(doc.context) ? null : `context is ${jsonKind(doc.context)}, not an object`)
  );
}

/** Whether every string in the document is valid Unicode (no lone surrogates). */
function wellFormed(v) {
  if (typeof v === "string") return v.isWellFormed();
  if (Array.isArray(v)) return v.every(wellFormed);
  if (isObject(v)) return Object.keys(v).every((k) => k.isWellFormed() && wellFormed(v[k]));
  return true;
}

class Validator {
  constructor(manifest) {
    this.m = manifest;
    this.errors = [];
  }
  report(kind, path, message) {
    this.errors.push(error(kind, path, message));
  }

  // Checks `value` against type `t`; returns the typed value, or undefined after reporting.
  value(v, t, path) {
    if (v === null) return this.report("null_value", path, "the value is null"), undefined;
    const wrong = (what) => this.report("wrong_type", path, `expected ${what}, found ${jsonKind(v)}`);
    switch (t.kind) {
      case "bool":
        if (typeof v !== "boolean") return wrong("a boolean"), undefined;
        return v;
      case "int": {
        if (!isNumber(v)) return wrong("an integer"), undefined;
        const n = integerOf(v);
        if (typeof n === "string") {
          this.report(n, path, n === "not_an_integer" ? "the number is not an integer" : "the integer does not fit in 64 bits");
          return undefined;
        }
        if ((t.min !== null && n < t.min) || (t.max !== null && n > t.max)) {
          this.report("out_of_declared_range", path, `${n} is outside ${t.min ?? ""}..${t.max ?? ""}`);
          return undefined;
        }
        return n;
      }
      case "string":
        if (typeof v !== "string") return wrong("a string"), undefined;
        return v;
      case "duration":
      case "timestamp":
      case "time_of_day":
      case "ip":
      case "cidr": {
        if (typeof v !== "string") return wrong(`${t.kind} text`), undefined;
        const parsed = PARSERS[t.kind](v);
        if (parsed === null) return this.report("invalid_value", path, `\`${v}\` is not a valid ${t.kind}`), undefined;
        return parsed;
      }
      case "enum": {
        if (typeof v !== "string") return wrong("a value name"), undefined;
        const index = this.m.schema.enums[t.enum].values.indexOf(v);
        if (index < 0) {
          this.report("unknown_enum_value", path, `\`${v}\` is not a value of ${this.m.schema.enums[t.enum].name}`);
          return undefined;
        }
        return index;
      }
      case "entity": {
        const keys = isObject(v) ? Object.keys(v) : null;
        if (!keys || keys.length !== 2 || typeof v.type !== "string" || typeof v.id !== "string") {
          return wrong('an entity {"type", "id"}'), undefined;
        }
        const index = this.m.schema.entityTypes.findIndex((e) => e.name === v.type);
        if (index < 0) {
          this.report("unknown_entity_type", path, `unknown entity type \`${v.type}\``);
          return undefined;
        }
        if (!t.types.includes(index)) {
          this.report("wrong_type", path, `an entity of type \`${v.type}\` is not allowed here`);
          return undefined;
        }
        return { type: index, id: v.id };
      }
      case "set": {
        if (!Array.isArray(v)) return wrong("an array"), undefined;
        const out = [];
        let ok = true;
        v.forEach((e, k) => {
          const x = this.value(e, t.element, `${path}[${k}]`);
          if (x === undefined) ok = false;
          else out.push(x);
        });
        return ok ? out : undefined;
      }
      case "record": {
        if (!isObject(v)) return wrong("an object"), undefined;
        return this.fields(v, t.fields, path);
      }
      default:
        throw new Error(`unreachable kind ${t.kind}`);
    }
  }

  // Checks an attribute map against fields; returns Map name -> typed value.
  fields(attrs, fields, prefix) {
    const out = new Map();
    let ok = true;
    for (const f of fields) {
      const path = `${prefix}.${f.name}`;
      if (!Object.hasOwn(attrs, f.name)) {
        if (f.presentOffset === null) {
          this.report("missing_attribute", path, "the attribute is required");
          ok = false;
        }
        continue;
      }
      const x = this.value(attrs[f.name], f.type, path);
      if (x === undefined) ok = false;
      else out.set(f.name, x);
    }
    return ok ? out : undefined;
  }

  entity(e, role, action) {
    const types = this.m.schema.entityTypes;
    const index = types.findIndex((t) => t.name === e.type);
    if (index < 0) {
      this.report("unknown_entity_type", `${role}.type`, `unknown entity type \`${e.type}\``);
    } else if (action !== null) {
      const allowed = role === "principal" ? action.principals : action.resources;
      if (!allowed.includes(index)) {
        this.report("action_not_applicable", `${role}.type`, `the action \`${action.name}\` does not apply to a ${role} of type \`${e.type}\``);
      }
    }
    const ancestors = [];
    (e.ancestors ?? []).forEach((a, k) => {
      const path = `${role}.ancestors[${k}]`;
      const ai = types.findIndex((t) => t.name === a.type);
      if (ai < 0) this.report("unknown_entity_type", path, `unknown entity type \`${a.type}\``);
      else if (index >= 0 && !types[index].ancestorTypes.includes(ai)) {
        this.report("invalid_ancestor", path, `a \`${a.type}\` cannot contain a \`${e.type}\``);
      } else ancestors.push({ type: ai, id: a.id });
    });
    if (index < 0) return undefined;
    const attrs = this.fields(e.attributes ?? {}, types[index].fields, role);
    return { type: index, id: e.id, ancestors, attrs };
  }
}

const PARSERS = { duration: parseDuration, timestamp: parseTimestamp, time_of_day: parseTimeOfDay, ip: parseIp, cidr: parseCidr };

// ---------------------------------------------------------------------------
// Request encoding
// ---------------------------------------------------------------------------

class Buffer8 {
  constructor(size) {
    this.bytes = new Uint8Array(Math.max(64, size * 2));
    this.len = size;
    this.view = new DataView(this.bytes.buffer);
  }
  reserve(extra) {
    const need = this.len + extra;
    if (need > this.bytes.length) {
      const bigger = new Uint8Array(Math.max(need, this.bytes.length * 2));
      bigger.set(this.bytes.subarray(0, this.len));
      this.bytes = bigger;
      this.view = new DataView(bigger.buffer);
    }
  }
  // Appends `size` zero bytes at an `align`-aligned end; returns their offset.
  alloc(size, align) {
    const pad = (align - (this.len % align)) % align;
    this.reserve(pad + size);
    const at = this.len + pad;
    this.len = at + size;
    return at;
  }
  i32(at, v) {
    this.view.setInt32(at, v, true);
  }
  i64(at, v) {
    this.view.setBigInt64(at, v, true);
  }
  u64(at, v) {
    this.view.setBigUint64(at, v, true);
  }
}

function compareElements(kind) {
  switch (kind) {
    case "string":
      return (a, b) => compareBytes(a.bytes, b.bytes);
    case "entity":
      return (a, b) => a.type - b.type || compareBytes(a.idBytes, b.idBytes);
    case "enum":
      return (a, b) => a - b;
    default:
      return (a, b) => (a < b ? -1 : a > b ? 1 : 0);
  }
}

class Encoder {
  constructor(manifest) {
    this.m = manifest;
    this.buf = new Buffer8(manifest.schema.fixedSize);
  }
  internId(text) {
    return this.m.stringIds.get(text) ?? 0;
  }
  string(at, text, bytes = utf8Encoder.encode(text)) {
    const b = this.buf;
    const where = b.alloc(bytes.length, 1);
    b.bytes.set(bytes, where);
    b.i32(at, this.internId(text));
    b.i32(at + 4, where);
    b.i32(at + 8, bytes.length);
  }
  entityRef(at, e) {
    this.buf.i32(at, e.type);
    this.string(at + 4, e.id, e.idBytes);
  }
  set(at, elements, t) {
    let items = elements;
    if (t.kind === "string") items = elements.map((s) => ({ text: s, bytes: utf8Encoder.encode(s) }));
    else if (t.kind === "entity") items = elements.map((e) => ({ ...e, idBytes: utf8Encoder.encode(e.id) }));
    const cmp = compareElements(t.kind);
    items = [...items].sort(cmp).filter((x, k, all) => k === 0 || cmp(all[k - 1], x) !== 0);
    const size = typeSize(t);
    const start = this.buf.alloc(size * items.length, 8);
    items.forEach((x, k) => {
      const slot = start + k * size;
      if (t.kind === "string") this.string(slot, x.text, x.bytes);
      else if (t.kind === "entity") this.entityRef(slot, x);
      else this.value(slot, x, t);
    });
    this.buf.i32(at, items.length === 0 ? 0 : start);
    this.buf.i32(at + 4, items.length);
  }
  value(at, v, t) {
    const b = this.buf;
    switch (t.kind) {
      case "bool":
        b.i32(at, v ? 1 : 0);
        break;
      case "enum":
        b.i32(at, v);
        break;
      case "int":
      case "duration":
      case "timestamp":
      case "time_of_day":
        b.i64(at, v);
        break;
      case "string":
        this.string(at, v);
        break;
      case "entity":
        this.entityRef(at, { type: v.type, id: v.id, idBytes: utf8Encoder.encode(v.id) });
        break;
      case "ip":
        b.i32(at, v.version);
        b.u64(at + 8, v.hi);
        b.u64(at + 16, v.lo);
        break;
      case "cidr":
        b.i32(at, v.version);
        b.i32(at + 4, v.prefix);
        b.u64(at + 8, v.hi);
        b.u64(at + 16, v.lo);
        break;
      case "set":
        this.set(at, v, t.element);
        break;
      case "record":
        this.fields(at, v, t.fields);
        break;
      default:
        throw new Error(`unreachable kind ${t.kind}`);
    }
  }
  fields(at, values, fields) {
    for (const f of fields) {
      if (!values.has(f.name)) continue;
      if (f.presentOffset !== null) this.buf.i32(at + f.presentOffset, 1);
      this.value(at + f.offset, values.get(f.name), f.type);
    }
  }
  entity(at, e) {
    this.buf.i32(at, e.type);
    this.string(at + 4, e.id);
    this.set(at + 16, e.ancestors, { kind: "entity" });
    this.fields(at, e.attrs, this.m.schema.entityTypes[e.type].fields);
  }
  encode(actionIndex, principal, resource, context) {
    const s = this.m.schema;
    this.buf.i32(0, actionIndex);
    this.entity(s.principalOffset, principal);
    this.entity(s.resourceOffset, resource);
    this.fields(s.contextOffset, context, s.context);
    return this.buf.bytes.subarray(0, this.buf.len);
  }
}

// ---------------------------------------------------------------------------
// Request decoding (for tests: compares encodings without depending on where
// the variable part puts things)
// ---------------------------------------------------------------------------

/**
 * Reads an encoded request back into a canonical tree: every slot's value in
 * the order it is encoded (set elements are not re-sorted), strings with
 * their ids. Records layout violations (misaligned sets, non-zero bytes where
 * the spec says zero, references outside the buffer) in the tree as well, so
 * two encodings compare equal exactly when they mean the same request.
 */
export function decodeRequest(manifest, bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const s = manifest.schema;
  const problems = [];
  const inside = (at, size, what) => {
    if (at < 0 || at + size > bytes.length) {
      problems.push(`${what} lies outside the buffer`);
      return false;
    }
    return true;
  };
  const zero = (at, size) => {
    for (let k = at; k < at + size && k < bytes.length; k++) if (bytes[k] !== 0) return false;
    return true;
  };
  const string = (at, what) => {
    if (!inside(at, 12, what)) return null;
    const id = view.getInt32(at, true);
    const off = view.getInt32(at + 4, true);
    const len = view.getInt32(at + 8, true);
    if (len === 0) return [id, ""];
    if (!inside(off, len, `${what} bytes`)) return [id, null];
    let text;
    try {
      text = utf8Decoder.decode(bytes.subarray(off, off + len));
    } catch {
      text = `invalid UTF-8 ${Buffer.from(bytes.subarray(off, off + len)).toString("hex")}`;
    }
    return [id, text];
  };
  const value = (at, t, what) => {
    const size = typeSize(t);
    if (!inside(at, size, what)) return null;
    switch (t.kind) {
      case "bool":
      case "enum":
        return view.getInt32(at, true);
      case "int":
      case "duration":
      case "timestamp":
      case "time_of_day":
        return view.getBigInt64(at, true).toString();
      case "string":
        return string(at, what);
      case "entity":
        return [view.getInt32(at, true), string(at + 4, `${what} id`)];
      case "ip":
        return [view.getInt32(at, true), view.getInt32(at + 4, true), view.getBigUint64(at + 8, true).toString(16), view.getBigUint64(at + 16, true).toString(16)];
      case "cidr":
        return [view.getInt32(at, true), view.getInt32(at + 4, true), view.getBigUint64(at + 8, true).toString(16), view.getBigUint64(at + 16, true).toString(16)];
      case "set": {
        const off = view.getInt32(at, true);
        const count = view.getInt32(at + 4, true);
        if (count === 0) return [];
        if (off % 8 !== 0) problems.push(`${what}: set elements at ${off}, not 8-byte aligned`);
        const es = typeSize(t.element);
        if (count < 0 || !inside(off, es * count, `${what} elements`)) return null;
        const out = [];
        for (let k = 0; k < count; k++) out.push(value(off + k * es, t.element, `${what}[${k}]`));
        return out;
      }
      case "record":
        return fields(at, t.fields, what);
      default:
        return null;
    }
  };
  const fields = (at, list, what) => {
    const out = {};
    for (const f of list) {
      const where = `${what}.${f.name}`;
      if (f.presentOffset !== null) {
        const flag = inside(at + f.presentOffset, 4, where) ? view.getInt32(at + f.presentOffset, true) : null;
        if (flag === 0) {
          out[f.name] = zero(at + f.offset, typeSize(f.type)) ? "absent" : "absent, but its slot is not zero";
          continue;
        }
        if (flag !== 1) problems.push(`${where}: presence flag ${flag}`);
      }
      out[f.name] = value(at + f.offset, f.type, where);
    }
    return out;
  };
  const entity = (at, what) => {
    if (!inside(at, ENTITY_HEADER, what)) return null;
    const type = view.getInt32(at, true);
    const out = { type, id: string(at + 4, `${what}.id`), ancestors: value(at + 16, { kind: "set", element: { kind: "entity" } }, `${what}.ancestors`) };
    // Bytes the entity's own type uses; other types' fields may share them
    // (the layout gives equal attributes of different types one slot).
    const own = new Set();
    const claim = (from, size) => {
      for (let k = from; k < from + size; k++) own.add(k);
    };
    claim(0, ENTITY_HEADER);
    const ownType = s.entityTypes[type];
    if (ownType) {
      for (const f of ownType.fields) {
        claim(f.offset, typeSize(f.type));
        if (f.presentOffset !== null) claim(f.presentOffset, 4);
      }
    }
    s.entityTypes.forEach((t, k) => {
      if (k === type) out.fields = fields(at, t.fields, what);
      else {
        for (const f of t.fields) {
          const spans = [[f.offset, typeSize(f.type)]];
          if (f.presentOffset !== null) spans.push([f.presentOffset, 4]);
          for (const [from, size] of spans) {
            for (let b = from; b < from + size; b++) {
              if (!own.has(b) && at + b < bytes.length && bytes[at + b] !== 0) {
                problems.push(`${what}: field ${t.name}.${f.name} of another type is not zero`);
                break;
              }
            }
          }
        }
      }
    });
    return out;
  };
  if (bytes.length < s.fixedSize) problems.push("the buffer is shorter than fixed_size");
  const tree = {
    action: inside(0, 4, "action") ? view.getInt32(0, true) : null,
    principal: entity(s.principalOffset, "principal"),
    resource: entity(s.resourceOffset, "resource"),
    context: fields(s.contextOffset, s.context, "context"),
    problems,
  };
  return tree;
}

// ---------------------------------------------------------------------------
// The loaded module
// ---------------------------------------------------------------------------

/** A decision module loaded and checked; decides requests one at a time. */
export class DecisionModule {
  constructor(manifest, instance, options) {
    this.manifest = manifest;
    this.instance = instance;
    this.exports = instance.exports;
    this.maxMemoryBytes = options.maxMemoryBytes ?? 256 * 1024 * 1024;
    this.busy = false;
  }

  /**
   * Validates and encodes a request. Returns `{bytes}` or `{errors}`.
   */
  encode(request) {
    if (!wellFormed(request)) {
      return { errors: [error("malformed_request", null, "the request contains a string that is not valid Unicode")] };
    }
    const problem = structureProblem(request);
    if (problem) return { errors: [error("malformed_request", null, `the request is not a valid request document: ${problem}`)] };
    const s = this.manifest.schema;
    const v = new Validator(this.manifest);
    const actionIndex = s.actions.findIndex((a) => a.name === request.action);
    if (actionIndex < 0) v.report("unknown_action", "action", `unknown action \`${request.action}\``);
    const action = actionIndex < 0 ? null : s.actions[actionIndex];
    const principal = v.entity(request.principal, "principal", action);
    const resource = v.entity(request.resource, "resource", action);
    const context = v.fields(request.context ?? {}, s.context, "context");
    if (v.errors.length > 0) return { errors: v.errors };
    return { bytes: new Encoder(this.manifest).encode(actionIndex, principal, resource, context) };
  }

  /** Decides a request given as JSON text (or UTF-8 bytes). */
  decideJson(text) {
    let doc;
    try {
      const str = typeof text === "string" ? text : utf8Decoder.decode(text);
      doc = parseJson(str);
    } catch (e) {
      return failClosed([error("malformed_request", null, `the request is not a valid request document: ${e.message}`)]);
    }
    return this.decide(doc);
  }

  /** Decides a request given as a JSON value. */
  decide(request) {
    try {
      const encoded = this.encode(request);
      if (encoded.errors) return failClosed(encoded.errors);
      return this.evaluate(encoded.bytes);
    } catch (e) {
      return failClosed([error("malformed_request", null, `the host failed: ${e && e.message}`)]);
    }
  }

  /** Calls the module on an encoded request and builds the decision. */
  evaluate(bytes) {
    if (this.busy) return failClosed([error("malformed_request", null, "the module is already deciding a request")]);
    this.busy = true;
    try {
      return this.call(bytes);
    } catch (e) {
      return failClosed([error("malformed_request", null, `the module trapped: ${e && e.message}`)]);
    } finally {
      this.busy = false;
    }
  }

  call(bytes) {
    const x = this.exports;
    const len = bytes.length;
    if (len > 0x7fffffff) return failClosed([error("malformed_request", null, "request too large")]);
    const ptr = x.ward_input(len) >>> 0;
    if (ptr === 0) return failClosed([error("malformed_request", null, "request too large")]);
    let memory = new Uint8Array(x.memory.buffer);
    if (memory.length > this.maxMemoryBytes) {
      return failClosed([error("budget_exceeded", null, "the module's memory exceeds the host's cap")]);
    }
    if (ptr + len > memory.length) return failClosed([error("malformed_request", null, "the input buffer lies outside memory")]);
    memory.set(bytes, ptr);
    const status = x.ward_evaluate(len);
    // Only statuses 0, 1 and 3 come with rule indices; for the others
    // there is no answer to read (the runtime does not call ward_output).
    if (status !== 0 && status !== 1 && status !== 3) return this.build(status, []);
    // ward_output points at the answer slot, which holds the answer's address.
    const slot = x.ward_output() >>> 0;
    const view = new DataView(x.memory.buffer);
    memory = null;
    if (slot + 4 > view.byteLength) return failClosed([error("malformed_request", null, "the answer slot lies outside memory")]);
    const out = view.getUint32(slot, true);
    if (out + 4 > view.byteLength) return failClosed([error("malformed_request", null, "the answer lies outside memory")]);
    const count = view.getInt32(out, true);
    if (count < 0 || out + 4 + 4 * count > view.byteLength) {
      return failClosed([error("malformed_request", null, "the answer lies outside memory")]);
    }
    const indices = [];
    for (let k = 0; k < count; k++) indices.push(view.getInt32(out + 4 + 4 * k, true));
    return this.build(status, indices);
  }

  /** Builds the decision from a status and rule indices. */
  build(status, indices) {
    const rules = this.manifest.rules;
    const inconsistent = (why) => failClosed([error("malformed_request", null, `the module's answer is inconsistent: ${why}`)]);
    if (indices.some((k) => k < 0 || k >= rules.length)) return inconsistent("a rule index is out of range");
    const chosen = indices.map((k) => rules[k]);
    switch (status) {
      case 0:
      case 1: {
        const effect = status === 0 ? "permit" : "forbid";
        if (chosen.length === 0) return inconsistent(`status ${status} without rules`);
        if (chosen.some((r) => r.effect !== effect)) return inconsistent(`status ${status} names a rule that is not a ${effect}`);
        const byId = new Map();
        for (const r of chosen) if (!byId.has(r.id)) byId.set(r.id, r);
        const ids = [...byId.keys()].sort(compareUtf8);
        const reasons = [];
        for (const id of ids) {
          // Every rule with this id contributes its reason once.
          const seen = new Set();
          for (const r of chosen) {
            if (r.id === id && r.reason !== null && !seen.has(r.reason)) {
              seen.add(r.reason);
              reasons.push(r.reason);
            }
          }
        }
        const obligations = chosen.flatMap((r) => r.obligations).sort(compareObligations);
        const distinct = obligations.filter((o, k) => k === 0 || compareObligations(obligations[k - 1], o) !== 0);
        return {
          decision: status === 0 ? "allow" : "deny",
          rules: ids,
          reasons,
          obligations: distinct.map((o) => ({ name: o.name, args: o.args })),
          errors: [],
        };
      }
      case 2:
        return failClosed([]);
      case 3: {
        if (chosen.length === 0) return inconsistent("status 3 without rules");
        const ids = [...new Set(chosen.map((r) => r.id))].sort(compareUtf8);
        return failClosed(ids.map((id) => ({ kind: "overflow", rule: id, message: "integer overflow" })));
      }
      case 4:
        return failClosed([error("malformed_request", null, "the module could not read the request")]);
      default:
        return failClosed([error("malformed_request", null, `the module returned the unknown status ${status}`)]);
    }
  }
}

/**
 * Loads a decision module from its bytes. Refuses (throws HostError) a
 * module that imports anything, lacks an export, has no valid manifest, or
 * whose ABI version is not supported or disagrees with its manifest.
 * Options: `maxMemoryBytes` (default 256 MiB).
 */
export function loadModule(bytes, options = {}) {
  const wasm = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let module;
  try {
    module = new WebAssembly.Module(wasm);
  } catch (e) {
    throw new HostError(`not a WebAssembly module: ${e.message}`);
  }
  const imports = WebAssembly.Module.imports(module);
  if (imports.length > 0) {
    throw new HostError(`the module imports \`${imports[0].module}.${imports[0].name}\`; decision modules import nothing`);
  }
  const exports = new Map(WebAssembly.Module.exports(module).map((e) => [e.name, e.kind]));
  if (exports.get("memory") !== "memory") throw new HostError("the module does not export `memory`");
  const signatures = exportedSignatures(wasm);
  for (const [name, [params, results]] of Object.entries(REQUIRED_FUNCTIONS)) {
    if (exports.get(name) !== "function") throw new HostError(`the module does not export the function \`${name}\``);
    const sig = signatures.get(name);
    const i32s = (list, count) => list.length === count && list.every((t) => t === 0x7f);
    if (!sig || !i32s(sig.params, params) || !i32s(sig.results, results)) {
      throw new HostError(`\`${name}\` has the wrong signature`);
    }
  }

  const sections = WebAssembly.Module.customSections(module, MANIFEST_SECTION);
  if (sections.length === 0) throw new HostError(`the module has no \`${MANIFEST_SECTION}\` section`);
  if (sections.length > 1) throw new HostError(`the module has more than one \`${MANIFEST_SECTION}\` section`);
  let raw;
  try {
    raw = parseJson(utf8Decoder.decode(new Uint8Array(sections[0])));
  } catch (e) {
    throw new HostError(`the manifest is not UTF-8 JSON: ${e.message}`);
  }
  const manifest = checkManifest(raw);
  if (!SUPPORTED_ABI_VERSIONS.includes(manifest.abiVersion)) {
    throw new HostError(`the module's manifest is for ABI version ${manifest.abiVersion}; this host supports version ${SUPPORTED_ABI_VERSIONS.join(", ")}`);
  }
  manifest.stringIds = new Map();
  manifest.strings.forEach((s, k) => {
    if (!manifest.stringIds.has(s)) manifest.stringIds.set(s, k + 1);
  });

  let instance;
  try {
    instance = new WebAssembly.Instance(module, {});
  } catch (e) {
    throw new HostError(`the module cannot be instantiated: ${e.message}`);
  }
  let exported;
  try {
    exported = instance.exports.ward_abi_version();
  } catch (e) {
    throw new HostError(`ward_abi_version trapped: ${e.message}`);
  }
  if (exported !== manifest.abiVersion) {
    throw new HostError(`ward_abi_version() is ${exported} but the manifest says ABI version ${manifest.abiVersion}`);
  }
  return new DecisionModule(manifest, instance, options);
}

/** Writes a decision as compact JSON text (fields in the documented order). */
export function decisionToJson(d) {
  return stringifyJson({
    decision: d.decision,
    rules: d.rules,
    reasons: d.reasons,
    obligations: d.obligations,
    errors: d.errors,
  });
}
