"""The response clauses of a created customer: which a 201 is judged on, written once.

`RESPONSE` is every RES clause an answer to a valid create can break; `BODY` those
its body alone shows (what any 2xx of the run is judged on); `ONE_ANSWER` what one
accepted request shows in the generic phase (no clock clause, AUTH-1 for the key);
`ACCEPTED` what the traffic judge reads of an accepted request.
"""

from __future__ import annotations

BODY = ("RES-1", "RES-ID-1", "RES-ENV-1", "RES-TIME-1", "RES-ORG-1")
RESPONSE = ("RES-1", "RES-ID-1", "RES-ECHO-1", "RES-ENV-1", "RES-TIME-1", "RES-TIME-2", "RES-ORG-1")
KEY_ACCEPTED = "AUTH-1"
ACCEPTED = (*RESPONSE, KEY_ACCEPTED)
ONE_ANSWER = frozenset(ACCEPTED) - {"RES-TIME-2"}
