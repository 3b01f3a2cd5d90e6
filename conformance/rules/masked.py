"""What a header a recorder masked hides: the clauses whose verdict on an exchange depends on its value.

A masked value (`Authorization: [Filtered]`) is unknown, neither absent nor wrong, so these
clauses are not judged on that exchange (`traffic/masked.py` recognises the masks).
"""

from __future__ import annotations

# Each header a recorder is known to mask -> the clauses whose verdict depends on its value.
NEEDED_BY = {
    "authorization": frozenset({"AUTH-1", "AUTH-2", "AUTH-3", "RES-ENV-1", "IDEM-1", "IDEM-2", "IDEM-3", "IDEM-4"}),
    # A repeated id may be the replay of a key the recording hides.
    "idempotency-key": frozenset({"IDEM-1", "IDEM-2", "IDEM-3", "IDEM-4", "RES-ID-2"}),
    "www-authenticate": frozenset({"AUTH-3"}),
}
# A refusal of a request whose header was masked may be right (the hidden value may be what broke the contract):
# the clauses that say a valid request must be accepted, and what the refusal must say (ERR-3 names the
# field that broke), are not judged on it.
IF_REFUSED = frozenset(
    {"ERR-3", "RES-1", "RES-ID-1", "RES-ECHO-1", "RES-ENV-1", "RES-TIME-1", "RES-TIME-2", "RES-ORG-1", "REQ-EMAIL-2",
     "REQ-LEN-1", "REQ-META-1"}
)  # fmt: skip
