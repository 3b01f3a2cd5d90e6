// The Customers API written the way a team writes it on Express 5, at Express's defaults:
// `express.json()` (body-parser: 100kb limit, strict, `application/json` only) and
// Express's own final error handler for what the parser refuses.
//
//   node tests/stacks/express/server.mjs --port 8005 --keys sk_test_a=org_1,sk_live_b=org_1 --contract contract.json
//
// What the team added, as the contract asks: Bearer API keys, hand-written validation of
// the body (typeof checks, `.length` limits, the common email regex) answering problem+json,
// 405 with Allow, a nesting-depth check, and Idempotency-Key replays kept in memory.

import crypto from "node:crypto";
import fs from "node:fs";
import { parseArgs } from "node:util";
import express from "express";

const { values: opts } = parseArgs({
  options: {
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string" },
    keys: { type: "string" },
    contract: { type: "string" },
  },
});
if (!opts.port || !opts.keys || !opts.contract) {
  process.stderr.write("Error: --port, --keys and --contract are required\n");
  process.exit(2);
}
const C = JSON.parse(fs.readFileSync(opts.contract, "utf8"));
const environmentOf = (key) => Object.entries(C.key_prefixes).find(([prefix]) => key.startsWith(prefix))?.[1];
const apiKeys = new Map(
  opts.keys.split(",").map((item) => {
    const [key, org] = item.split("=");
    return [key, { key, org, environment: environmentOf(key) }];
  }),
);

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function problem(res, status, title, detail, errors = []) {
  const body = { type: "about:blank", title, status, detail };
  if (errors.length) body.errors = errors;
  res.status(status).type("application/problem+json").send(JSON.stringify(body));
}

function validate(body) {
  const errors = [];
  const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
  if (!isObject(body)) return [{ pointer: "", detail: "the body must be a JSON object" }];
  for (const field of Object.keys(body)) {
    if (!C.fields.includes(field)) errors.push({ pointer: `/${field}`, detail: "unknown field" });
  }
  for (const field of C.fields) {
    const value = body[field];
    if (value === undefined) {
      if (C.required.includes(field)) errors.push({ pointer: `/${field}`, detail: "required" });
    } else if (C.object_fields.includes(field)) {
      if (!isObject(value)) errors.push({ pointer: `/${field}`, detail: "must be an object" });
    } else if (typeof value !== "string") {
      errors.push({ pointer: `/${field}`, detail: "must be a string" });
    } else if (C.required.includes(field) && !EMAIL.test(value)) {
      errors.push({ pointer: `/${field}`, detail: "not a valid email address" });
    } else if (field in C.max_lengths && value.length > C.max_lengths[field]) {
      errors.push({ pointer: `/${field}`, detail: `longer than ${C.max_lengths[field]} characters` });
    }
  }
  return errors;
}

function depth(value) {
  if (value === null || typeof value !== "object") return 0;
  let deepest = 0;
  for (const child of Object.values(value)) deepest = Math.max(deepest, depth(child));
  return deepest + 1;
}

const replays = new Map(); // API key + "\n" + Idempotency-Key -> {fingerprint, customer}
const app = express();

app.all(C.customers_path, (req, res, next) => {
  if (req.method === "POST") return next();
  res.set("Allow", "POST");
  problem(res, 405, "Method Not Allowed", "only POST is allowed");
});

app.post(
  C.customers_path,
  (req, res, next) => {
    const match = /^Bearer (\S+)$/.exec(req.get("authorization") ?? "");
    req.who = match ? apiKeys.get(match[1]) : undefined;
    if (req.who) return next();
    res.set("WWW-Authenticate", "Bearer");
    problem(res, 401, "Unauthorized", "a valid API key is required as a Bearer token");
  },
  express.json(),
  (req, res) => {
    const errors = validate(req.body);
    if (errors.length) return problem(res, 400, "Bad Request", "the request body is invalid", errors);
    if (depth(req.body) > C.depth_limit) {
      return problem(res, 400, "Bad Request", `nesting deeper than ${C.depth_limit} levels`, [{ pointer: "/metadata", detail: "too deep" }]);
    }
    const idemKey = req.get("idempotency-key");
    if (idemKey !== undefined && (idemKey.length < 1 || idemKey.length > C.idempotency_key_max_length)) {
      return problem(res, 400, "Bad Request", `Idempotency-Key must be 1 to ${C.idempotency_key_max_length} characters`);
    }
    const scope = `${req.who.key}\n${idemKey}`;
    const fingerprint = crypto.createHash("sha256").update(JSON.stringify(req.body)).digest("hex");
    if (idemKey !== undefined && replays.has(scope)) {
      const seen = replays.get(scope);
      if (seen.fingerprint !== fingerprint) return problem(res, 409, "Conflict", "this Idempotency-Key was used with another body");
      return res.status(201).json(seen.customer);
    }
    const now = new Date().toISOString();
    const customer = {
      id: C.id_prefix + crypto.randomBytes(12).toString("hex"),
      org_id: req.who.org,
      email: req.body.email,
      name: req.body.name ?? null,
      external_id: req.body.external_id ?? null,
      metadata: req.body.metadata ?? {},
      environment: req.who.environment,
      created_at: now,
      updated_at: now,
    };
    if (idemKey !== undefined) replays.set(scope, { fingerprint, customer });
    res.status(201).json(customer);
  },
);

const server = app.listen(Number(opts.port), opts.host, () => {
  console.log(`express stack on http://${opts.host}:${opts.port}`);
});
for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => server.close(() => process.exit(0)));
