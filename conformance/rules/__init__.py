"""The rules: pure judging functions, one module per clause family.

Given an exchange (or, for the clauses across exchanges, a stream of creates) a
rule returns what it finds; it holds no context and does no I/O. Every front
door (the checks, the deep rounds, the proxy, `judge`, replay) calls them, so a
clause is judged the same way wherever its evidence comes from.

- `exercised`: whether an exchange was answered, usable, judged; what a 5xx breaks.
- `across`: RES-ID-2 (ids never repeat) and RES-ORG-1 (one org_id per key) over a stream of creates.
- `accepted`: the response clauses a created customer is judged on.
- `idempotency`: IDEM-1..4, what a second create with one Idempotency-Key must get (the suite's retries and traffic's).
- `echo`: RES-ECHO-1's leeway for numbers outside I-JSON.
- `masked`: the clauses a header hidden by a recorder leaves unknown.
- `sizes`: a 413 to a valid create within the body limit (RES-1).

They import only the contract and transport layers (tests/test_layers.py).
"""
