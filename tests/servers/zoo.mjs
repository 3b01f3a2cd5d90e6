// A second Customers API implementation, in Node.js 20 with no npm packages.
//
//   node tests/servers/zoo.mjs --port 8002 --keys sk_test_a,sk_live_b --contract contract.json [--defect NAME]
//
// `--contract` is the spec's values as JSON (tests/servers/zoo_contract.py prints them).
// Its MAY choices are JavaScript's natural ones, the lenient side: JSON.parse keeps the
// last of duplicate keys, a leading BOM is dropped by TextDecoder, huge numbers become
// doubles (1e999999 is echoed as null), quoted, non-ASCII, IP-literal and single-label
// addresses are accepted, U+0000 is stored as sent. `--defect NAME` injects one defect
// listed for the server "node" in defects.json.

import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const { values: opts } = parseArgs({
  options: {
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string" },
    keys: { type: "string" },
    org: { type: "string", default: "org_zoo_node" },
    contract: { type: "string" },
    defect: { type: "string" },
  },
});
const table = JSON.parse(fs.readFileSync(path.join(HERE, "defects.json"), "utf8"));
const known = table.defects.filter((d) => d.server === "node").map((d) => d.name);
if (!opts.port || !opts.keys || !opts.contract) fail("--port, --keys and --contract are required");
if (opts.defect && !known.includes(opts.defect)) fail(`unknown defect ${opts.defect}; one of ${known.join(", ")}`);

const C = JSON.parse(fs.readFileSync(opts.contract, "utf8"));
const on = (name) => opts.defect === name;
const keys = new Map();
for (const item of opts.keys.split(",").filter(Boolean)) {
  const [key, org] = item.trim().split("=");
  const env = environmentOf(key);
  if (!env) fail(`key ${key.slice(0, 8)}… has none of the prefixes ${Object.keys(C.key_prefixes)}`);
  keys.set(key, { key, environment: env, org: org || opts.org });
}
// auth-prototype-lookup: the same keys in a plain object, where `constructor`, `__proto__`,
// `toString`... are found in every table (they live on Object.prototype).
const keyTable = {};
for (const [key, who] of keys) keyTable[key] = who;
const replays = new Map(); // API key + "\n" + Idempotency-Key -> {at, fingerprint, answer|null}
const IDEM_TTL_MS = 24 * 3600 * 1000;

function fail(message) {
  process.stderr.write(`Error: ${message}\n`);
  process.exit(2);
}

function environmentOf(key) {
  for (const [prefix, env] of Object.entries(C.key_prefixes)) if (key.startsWith(prefix)) return env;
  return null;
}

class Reject extends Error {
  constructor(status, title, detail, errors = [], headers = {}) {
    super(detail);
    Object.assign(this, { status, title, detail, errors, headers });
  }
}
const badRequest = (detail, pointer = "") => new Reject(400, "Bad Request", detail, [[pointer, detail]]);

// -- request --------------------------------------------------------------------
function authenticate(req) {
  const header = req.headers.authorization;
  const challenge = on("auth-no-www-authenticate") ? {} : { "WWW-Authenticate": 'Bearer realm="customers"' };
  const refuse = (detail) => new Reject(401, "Unauthorized", detail, [], challenge);
  if (header === undefined) throw refuse("an API key is required as a Bearer token");
  const match = /^bearer +(\S+) *$/i.exec(header);
  if (!match) throw refuse("use `Authorization: Bearer <key>`");
  const who = on("auth-prototype-lookup") ? keyTable[match[1]] : keys.get(match[1]);
  if (!who) throw refuse("unknown API key");
  return who;
}

function checkMediaType(req) {
  const value = req.headers["content-type"];
  const unsupported = (detail) => new Reject(415, "Unsupported Media Type", detail);
  if (value === undefined) throw unsupported("send the body as application/json");
  const [type, ...params] = value.split(";").map((p) => p.trim());
  if (type.toLowerCase() !== "application/json") throw unsupported("send the body as application/json");
  for (const param of params) {
    const [name, raw = ""] = param.split("=");
    const charset = raw.replace(/"/g, "").trim().toLowerCase();
    if (name.trim().toLowerCase() === "charset" && charset !== "utf-8" && charset !== "utf8") {
      throw unsupported("the body must be UTF-8");
    }
  }
}

function checkDepth(text) {
  let depth = 0;
  let inString = false;
  let escaped = false;
  for (const ch of text) {
    if (inString) {
      if (escaped) escaped = false;
      else if (ch === "\\") escaped = true;
      else if (ch === '"') inString = false;
    } else if (ch === '"') inString = true;
    else if (ch === "[" || ch === "{") {
      if (++depth > C.depth_limit) throw badRequest(`nesting deeper than ${C.depth_limit} levels`);
    } else if (ch === "]" || ch === "}") depth--;
  }
}

function parseBody(raw) {
  let text;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(raw); // drops a leading BOM: our MAY choice
  } catch {
    throw badRequest("the body is not UTF-8");
  }
  // The defect: no depth limit, so the recursive store below (`stored`) overflows Node's stack on
  // nesting thousands deep: 201 up to a few thousand levels, then a 500 ("Maximum call stack size exceeded").
  if (!on("deep-nesting-overflows-store")) checkDepth(text);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw badRequest(`malformed JSON: ${error.message.slice(0, 80)}`);
  }
}

const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
const codePoints = (s) => (on("len-utf16-units") ? s.length : [...s].length);

function wellFormed(value) {
  if (typeof value === "string") return value.isWellFormed();
  if (Array.isArray(value)) return value.every(wellFormed);
  if (isObject(value)) return Object.entries(value).every(([k, v]) => k.isWellFormed() && wellFormed(v));
  return true;
}

function validate(doc) {
  if (!isObject(doc)) throw badRequest(`the body is a JSON ${Array.isArray(doc) ? "array" : typeof doc}, not an object`);
  const errors = [];
  for (const name of Object.keys(doc)) if (!C.fields.includes(name)) errors.push([`/${name}`, "unknown field"]);
  for (const name of C.required) if (!(name in doc)) errors.push([`/${name}`, "required"]);
  for (const name of C.fields) {
    if (!(name in doc)) continue;
    const value = doc[name];
    if (C.object_fields.includes(name)) {
      if (!isObject(value)) errors.push([`/${name}`, "not an object"]);
    } else if (typeof value !== "string") errors.push([`/${name}`, "not a string"]);
    else if (C.required.includes(name)) {
      if (!validEmail(value)) errors.push([`/${name}`, "not a valid email address"]);
    } else if (name in C.max_lengths && codePoints(value) > C.max_lengths[name]) {
      errors.push([`/${name}`, `longer than ${C.max_lengths[name]} characters`]);
    }
  }
  if (!on("accepts-lone-surrogate") && !wellFormed(doc)) errors.push(["", "contains a lone surrogate"]);
  if (errors.length) throw new Reject(400, "Bad Request", errors.map(([p, d]) => `${p || "/"}: ${d}`).join("; "), errors);
  return doc;
}

function validEmail(address) {
  if (!address || /[\s\p{Cc}]/u.test(address)) return false;
  let local;
  let domain;
  if (address.startsWith('"')) {
    let end = 1;
    while (end < address.length && address[end] !== '"') end += address[end] === "\\" ? 2 : 1;
    if (end >= address.length || address[end + 1] !== "@") return false;
    [local, domain] = [address.slice(0, end + 1), address.slice(end + 2)];
    if (domain.includes("@")) return false;
  } else {
    const parts = address.split("@");
    if (parts.length !== 2) return false;
    [local, domain] = parts;
  }
  if (!local || local === '""' || !domain) return false;
  if (domain.startsWith("[") && domain.endsWith("]")) return net.isIP(domain.slice(1, -1).replace(/^ipv6:/i, "")) !== 0;
  return domain.split(".").every((label) => /^[\p{L}\p{N}_-]+$/u.test(label));
}

// -- response -------------------------------------------------------------------
function stored(value) {
  if (typeof value === "string") {
    const text = on("accepts-lone-surrogate") ? value.toWellFormed() : value;
    return on("echo-trim") ? text.trim() : text;
  }
  if (Array.isArray(value)) return value.map(stored);
  if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, stored(v)]));
  return value;
}

function create(who, fields) {
  const now = new Date().toISOString();
  const token = crypto.randomBytes(12).toString("hex");
  const customer = {
    id: on("id-wrong-prefix") ? `customer_${token}` : `${C.id_prefix}${token}`,
    org_id: who.org,
    email: stored(fields.email),
    name: "name" in fields ? stored(fields.name) : null,
    external_id: "external_id" in fields ? stored(fields.external_id) : null,
    metadata: "metadata" in fields ? stored(fields.metadata) : {},
    environment: who.environment,
    created_at: now,
    updated_at: now,
  };
  return { status: on("status-200") ? 200 : 201, body: customer };
}

function idempotencyKey(req) {
  const key = req.headers["idempotency-key"];
  if (key === undefined) return null;
  if (key.length < 1 || key.length > C.idempotency_key_max_length) {
    throw new Reject(400, "Bad Request", `Idempotency-Key must be 1 to ${C.idempotency_key_max_length} characters`, [
      ["", "invalid Idempotency-Key header"],
    ]);
  }
  return key;
}

function withIdempotency(who, idemKey, raw, make) {
  if (idemKey === null) return make();
  const scope = on("idem-not-scoped") ? idemKey : `${who.key}\n${idemKey}`; // the defect: one key space for all
  const fingerprint = crypto.createHash("sha256").update(raw).digest("hex");
  const now = Date.now();
  for (const [k, r] of replays) if (now - r.at > IDEM_TTL_MS) replays.delete(k);
  const seen = replays.get(scope);
  if (seen) {
    if (seen.fingerprint !== fingerprint) return conflict("This Idempotency-Key was used with a different request body");
    return seen.answer;
  }
  const answer = make(); // synchronous: no other request runs in between, so no in-progress state
  if (answer.status < 300) replays.set(scope, { at: now, fingerprint, answer });
  return answer;
}

const conflict = (detail) => ({
  status: 409,
  body: { type: "about:blank", title: "Conflict", status: 409, detail },
  type: "application/problem+json",
});

function send(res, status, body, type, headers = {}, close = false) {
  const data = Buffer.from(JSON.stringify(body), "utf8");
  const all = { "Content-Type": type, "Content-Length": data.length, ...headers };
  if (close) all.Connection = "close";
  res.writeHead(status, all);
  res.end(res.req.method === "HEAD" ? undefined : data);
}

function problem(res, refusal, close) {
  const body = { type: "about:blank", title: refusal.title, status: refusal.status, detail: refusal.detail };
  if (refusal.errors.length) body.errors = refusal.errors.map(([pointer, detail]) => ({ pointer, detail }));
  send(res, refusal.status, body, "application/problem+json", refusal.headers, close);
}

function internalError(res, error) {
  console.error(error);
  res.writeHead(500, { "Content-Type": "text/plain", Connection: "close" });
  res.end("Internal Server Error");
}

// -- the server -----------------------------------------------------------------
function handle(req, res) {
  const tooLarge = () => new Reject(413, "Payload Too Large", `the body is larger than ${C.body_limit} bytes`);
  const refuse = (refusal) => {
    problem(res, refusal, !req.complete);
    req.resume(); // discard the rest (Node reads it to keep the connection in step, or closes)
  };
  try {
    if (new URL(req.url, "http://zoo").pathname !== C.customers_path) throw new Reject(404, "Not Found", "no such resource");
    if (req.method !== "POST") {
      throw new Reject(405, "Method Not Allowed", "only POST is allowed on /customers", [], { Allow: "POST" });
    }
    const who = authenticate(req);
    checkMediaType(req);
    const declared = Number(req.headers["content-length"] ?? 0);
    if (declared > C.body_limit) throw tooLarge();
    const idemKey = idempotencyKey(req);
    const chunks = [];
    let total = 0;
    let refused = false;
    req.on("data", (chunk) => {
      if (refused) return;
      total += chunk.length;
      if (total > C.body_limit) {
        refused = true;
        refuse(tooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => {
      if (refused) return;
      try {
        const raw = Buffer.concat(chunks);
        const fields = validate(parseBody(raw));
        const answer = withIdempotency(who, idemKey, raw, () => create(who, fields));
        send(res, answer.status, answer.body, answer.type ?? "application/json");
      } catch (error) {
        if (error instanceof Reject) problem(res, error, false);
        else internalError(res, error);
      }
    });
  } catch (error) {
    if (error instanceof Reject) refuse(error);
    else internalError(res, error);
  }
}

const server = http.createServer(handle);
server.headersTimeout = C.header_timeout_seconds * 1000;
server.requestTimeout = (C.header_timeout_seconds + C.body_timeout_seconds) * 1000;
// Node's default answer to a request its parser refuses (a 64 KiB header: 431) destroys the
// socket at once, and unread bytes turn the close into a reset the client may see first.
// Answer, stop writing, read what is in flight, then close.
server.on("clientError", (error, socket) => {
  const status = error.code === "HPE_HEADER_OVERFLOW" ? 431 : error.code === "ERR_HTTP_REQUEST_TIMEOUT" ? 408 : 400;
  if (socket.writable && !socket._httpMessage?.headersSent) {
    socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  }
  socket.resume();
  setTimeout(() => socket.destroy(), 2000).unref();
});
server.on("checkContinue", (req, res) => {
  // An oversized body is refused before the client sends it: no `100 Continue`.
  if (Number(req.headers["content-length"] ?? 0) <= C.body_limit) res.writeContinue();
  handle(req, res);
});
server.listen(Number(opts.port), opts.host, () => {
  console.log(`zoo.mjs (lenient, defect: ${opts.defect ?? "none"}) on http://${opts.host}:${opts.port}`);
});
for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => server.close(() => process.exit(0)) && setTimeout(() => process.exit(0), 500));
