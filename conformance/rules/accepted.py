"""The response clauses of a created customer: which a 201 is judged on, written once.

`RESPONSE` is every RES clause an answer to a valid create can break; `BODY` those
its body alone shows (what any 2xx of the run is judged on); `ACCEPTED` what one
accepted request shows (AUTH-1 for the key beside them), in the generic phase, the
deep rounds and the traffic judge alike.
"""

from __future__ import annotations

BODY = ("RES-1", "RES-ID-1", "RES-ENV-1", "RES-TIME-1", "RES-ORG-1")
RESPONSE = ("RES-1", "RES-ID-1", "RES-ECHO-1", "RES-ENV-1", "RES-TIME-1", "RES-TIME-2", "RES-ORG-1")
KEY_ACCEPTED = "AUTH-1"
ACCEPTED = (*RESPONSE, KEY_ACCEPTED)
