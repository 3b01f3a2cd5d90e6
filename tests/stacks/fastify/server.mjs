// The Customers API written the way a team writes it on Fastify 5, at Fastify's defaults:
// its JSON parser (secure-json-parse, refusing `__proto__` and `constructor.prototype`),
// its 1 MiB body limit, its `text/plain` parser, and its Ajv with the default options
// (coerceTypes: "array", removeAdditional: true, ajv-formats' `email`).
//
//   node tests/stacks/fastify/server.mjs --port 8003 --keys sk_test_a=org_1,sk_live_b=org_1 --contract contract.json
//
// What the team added, as the contract asks: the route's body schema (built from the
// spec's values in `--contract`), Bearer API keys, problem+json errors from one error
// handler, 405 with Allow, a nesting-depth check, and Idempotency-Key replays kept in memory.

import crypto from "node:crypto";
import fs from "node:fs";
import { STATUS_CODES } from "node:http";
import { parseArgs } from "node:util";
import Fastify from "fastify";

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

// The body schema, as the team wrote it from openapi.yaml's CustomerCreate.
const properties = {};
for (const field of C.fields) {
  if (C.object_fields.includes(field)) properties[field] = { type: "object", additionalProperties: true };
  else if (C.required.includes(field)) properties[field] = { type: "string", format: "email" };
  else properties[field] = { type: "string", maxLength: C.max_lengths[field] };
}
const bodySchema = { type: "object", additionalProperties: false, required: C.required, properties };

class Problem extends Error {
  constructor(status, title, detail, errors = [], headers = {}) {
    super(detail);
    Object.assign(this, { statusCode: status, title, detail, errors, headers });
  }
}

const app = Fastify({ logger: false });

app.setErrorHandler((error, request, reply) => {
  const status = error.statusCode && error.statusCode >= 400 ? error.statusCode : 500;
  if (status >= 500) console.error(error);
  const errors =
    error.errors ??
    (error.validation ?? []).map((v) => ({
      pointer: v.instancePath || (v.params?.missingProperty ? `/${v.params.missingProperty}` : ""),
      detail: v.message,
    }));
  const body = {
    type: "about:blank",
    title: error.title ?? STATUS_CODES[status],
    status,
    detail: status >= 500 ? "internal error" : error.message,
  };
  if (errors.length) body.errors = errors;
  reply.code(status).headers(error.headers ?? {}).type("application/problem+json").send(body);
});

app.setNotFoundHandler((request, reply) => {
  reply.code(404).type("application/problem+json").send({ type: "about:blank", title: "Not Found", status: 404, detail: "no such resource" });
});

function authenticate(request) {
  const match = /^Bearer (\S+)$/.exec(request.headers.authorization ?? "");
  const who = match ? apiKeys.get(match[1]) : undefined;
  if (!who) {
    throw new Problem(401, "Unauthorized", "a valid API key is required as a Bearer token", [], {
      "WWW-Authenticate": "Bearer",
    });
  }
  request.who = who;
}

function depth(value) {
  if (value === null || typeof value !== "object") return 0;
  let deepest = 0;
  for (const child of Object.values(value)) deepest = Math.max(deepest, depth(child));
  return deepest + 1;
}

const replays = new Map(); // API key + "\n" + Idempotency-Key -> {fingerprint, customer}

function create(who, body) {
  const now = new Date().toISOString();
  return {
    id: C.id_prefix + crypto.randomBytes(12).toString("hex"),
    org_id: who.org,
    email: body.email,
    name: body.name ?? null,
    external_id: body.external_id ?? null,
    metadata: body.metadata ?? {},
    environment: who.environment,
    created_at: now,
    updated_at: now,
  };
}

const notAllowed = (request, reply) => {
  reply.code(405).header("Allow", "POST").type("application/problem+json");
  reply.send({ type: "about:blank", title: "Method Not Allowed", status: 405, detail: "only POST is allowed" });
};
app.route({ method: ["GET", "PUT", "PATCH", "DELETE"], url: C.customers_path, handler: notAllowed });

app.post(C.customers_path, { onRequest: async (request) => authenticate(request), schema: { body: bodySchema } }, async (request, reply) => {
  if (depth(request.body) > C.depth_limit) throw new Problem(400, "Bad Request", `nesting deeper than ${C.depth_limit} levels`);
  const idemKey = request.headers["idempotency-key"];
  if (idemKey !== undefined && (idemKey.length < 1 || idemKey.length > C.idempotency_key_max_length)) {
    throw new Problem(400, "Bad Request", `Idempotency-Key must be 1 to ${C.idempotency_key_max_length} characters`);
  }
  const scope = `${request.who.key}\n${idemKey}`;
  const fingerprint = crypto.createHash("sha256").update(JSON.stringify(request.body)).digest("hex");
  if (idemKey !== undefined && replays.has(scope)) {
    const seen = replays.get(scope);
    if (seen.fingerprint !== fingerprint) throw new Problem(409, "Conflict", "this Idempotency-Key was used with another body");
    return reply.code(201).send(seen.customer);
  }
  const customer = create(request.who, request.body);
  if (idemKey !== undefined) replays.set(scope, { fingerprint, customer });
  return reply.code(201).send(customer);
});

await app.listen({ port: Number(opts.port), host: opts.host });
console.log(`fastify stack on http://${opts.host}:${opts.port}`);
for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => app.close().then(() => process.exit(0)));
