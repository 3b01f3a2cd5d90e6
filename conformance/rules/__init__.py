"""The rules: pure judging functions, one module per clause family.

Given an exchange (or, for the clauses across exchanges, a stream of creates) a
rule returns what it finds; it holds no context and does no I/O. Every front
door (the checks, the deep rounds, the proxy, `judge`, replay) calls them, so a
clause is judged the same way wherever its evidence comes from.

- `exercised`: whether an exchange was answered, usable, judged; what a 5xx breaks.
- `across`: RES-ID-2 (ids never repeat) and RES-ORG-1 (one org_id per key) over a stream of creates.
- `accepted`: the response clauses a created customer is judged on.
- `created`: what the body of a created customer breaks: its fields (RES-1, RES-ID-1, RES-ENV-1, RES-ORG-1,
  RES-TIME-1), its echo (RES-ECHO-1) and its clock (RES-TIME-2).
- `idempotency`: IDEM-1..4, what a second create with one Idempotency-Key must get (the suite's retries and traffic's).
- `auth`: AUTH-1..3, a valid key accepted in its environment, a refusal's status; a key in the query.
- `errors`: ERR-1..4 by name; a MUST-breaking request not rejected (ERR-1).
- `shows`: which clauses one request and its answer show (an accepted create, a 4xx, a 401, another method).
- `echo`: RES-ECHO-1's leeway for numbers outside I-JSON.
- `masked`: the clauses a header hidden by a recorder leaves unknown.
- `sizes`: a 413 to a valid create within the body limit (RES-1).

They import only the contract and transport layers (tests/test_layers.py).
"""
