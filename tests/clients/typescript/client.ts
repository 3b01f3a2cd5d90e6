// One pass of the generated TypeScript client (openapi-typescript types + openapi-fetch) against a
// server: a create, a body error, an unknown key, headers past the server's cap. Each call's
// answer is printed as one JSON document for tests/test_generated_clients.py to judge; `tsc`
// type-checks this file against the types generated from openapi.yaml before it runs.
import createClient from "openapi-fetch";
import type { components, paths } from "./generated/schema.js";

type Customer = components["schemas"]["Customer"];
type Environment = components["schemas"]["Environment"];
type Metadata = components["schemas"]["Metadata"];
type Problem = components["schemas"]["Problem"];

type Seen =
  | { status: number; kind: "customer"; body: Customer; environment: Environment; metadata: Metadata }
  | { status: number; kind: "problem"; body: Problem; pointers: string[] }
  | { status: number; kind: "text"; body: string }
  | { kind: "crash"; error: string };

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

const client = createClient<paths>({ baseUrl: env("BASE_URL") });
const bearer = (key: string) => ({ Authorization: `Bearer ${key}` });

async function create(
  body: paths["/customers"]["post"]["requestBody"]["content"]["application/json"],
  headers: Record<string, string>,
): Promise<Seen> {
  try {
    const { data, error, response } = await client.POST("/customers", { body, headers });
    if (data !== undefined) {
      const environment: Environment = data.environment;
      const metadata: Metadata = data.metadata;
      return { status: response.status, kind: "customer", body: data, environment, metadata };
    }
    if (typeof error === "string") return { status: response.status, kind: "text", body: error };
    const problem: Problem = error;
    const pointers = (problem.errors ?? []).map((e) => e.pointer);
    return { status: response.status, kind: "problem", body: problem, pointers };
  } catch (exc) {
    return { kind: "crash", error: String(exc) };
  }
}

const key = env("API_KEY");
const email = env("EMAIL");
const padding = "a".repeat(Number(env("HEADER_BYTES")) + 1);
const seen = {
  created: await create({ email, name: "Jane Doe", external_id: "usr_12345", metadata: { plan: "pro" } }, bearer(key)),
  bad_email: await create({ email: "not-an-address" }, bearer(key)),
  unknown_key: await create({ email }, bearer(env("UNKNOWN_KEY"))),
  long_headers: await create({ email }, { ...bearer(key), "X-Padding": padding }),
};
console.log(JSON.stringify(seen));
