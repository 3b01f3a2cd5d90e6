"""One judging session: exchanges in, live lines and a capture out, reports at the end.

Shared by `billing-kit proxy` (exchanges from the wire) and `billing-kit judge`
(exchanges from a HAR file or a capture), so both give the same verdicts on the
same traffic.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import IO

from billing_kit.conformance.contract import Contract
from billing_kit.conformance.model import RunResult
from billing_kit.conformance.reproduce import curl_command
from billing_kit.conformance.traffic import capture, masked
from billing_kit.conformance.traffic.judge import Judged, TrafficJudge, pseudonym
from billing_kit.conformance.traffic.record import Seen
from billing_kit.conformance.traffic.verdicts import Tally, live_line

_BEARER_TOKEN = re.compile(r"Bearer\s+(\S+)", re.IGNORECASE)


class Session:
    def __init__(
        self,
        contract: Contract,
        origin: str,
        *,
        mode: str,
        strict: bool = False,
        out: IO[str] | None = None,
        capture_to: IO[str] | None = None,
    ) -> None:
        self.contract = contract
        self.judge = TrafficJudge(contract, origin)
        self.tally = Tally(contract, origin, strict=strict, mode=mode)
        self.tally.skipped = self.judge.skipped
        self.out = out
        self.capture_to = capture_to
        self.internal_errors: list[str] = []
        self._stand_ins = 0

    def secrets(self, seen: Seen) -> dict[str, str]:
        """Every key this exchange carries -> the stand-in a capture keeps."""
        found = set(self.judge.query_keys(seen))
        header = seen.header("authorization")
        if header is not None:
            match = _BEARER_TOKEN.match(header)
            if match and len(match.group(1)) >= 8:
                found.add(match.group(1))
        return {token: pseudonym(token) for token in sorted(found, key=len, reverse=True) if "~" not in token}

    def take(self, seen: Seen) -> None:
        if self.capture_to is not None:
            capture.write(self.capture_to, seen, self.secrets(seen))
        hidden = masked.masked_headers(seen)
        if hidden and not self.tally.masked and self.out is not None:
            self.out.write(masked.headline(hidden) + "\n")
        try:
            judged = self.judge.judge(self._unmasked(seen) if hidden else seen)
        except Exception as exc:  # a judging bug must not stop the traffic
            if len(self.internal_errors) < 10:
                self.internal_errors.append(f"judging {seen.method} {seen.path}: {type(exc).__name__}: {exc}")
            return
        if hidden:
            judged = self._without_masked(judged, hidden, seen)
        self._tally(judged)
        for late in self.judge.take_released():
            self._tally(late, held=True)

    def _unmasked(self, seen: Seen) -> Seen:
        """A masked key becomes a key never seen before, so the rest of the exchange is judged as any new key's."""
        self._stand_ins += 1
        prefix = next(iter(self.contract.key_prefixes))
        return masked.stand_in(seen, f"{prefix}masked{self._stand_ins:012d}")

    def _without_masked(self, judged: Judged, hidden: set[str], seen: Seen) -> Judged:
        """Drop what depends on a masked header; findings keep the recorded (masked) headers as evidence."""
        unknown = masked.unknown_clauses(seen, hidden)
        self.tally.masked.update(hidden)
        self.tally.masked_clauses.update(unknown)
        findings = [f for f in judged.findings if f.clause not in unknown]
        for finding in findings:
            if finding.exchange is not None:
                request = finding.exchange.request
                request.headers = masked.as_recorded(request.headers, seen)
                if finding.reproduce:
                    finding.reproduce = curl_command(request)
        return Judged(findings, judged.clauses - unknown)

    def _tally(self, judged: Judged, *, held: bool = False) -> None:
        self.tally.add(judged, held=held)
        if self.out is not None:
            for finding in judged.findings:
                self.out.write(live_line(finding) + "\n")
            if judged.findings:
                self.out.flush()

    def close(self) -> None:
        """Flush and close the capture (the judge process ends with os._exit)."""
        if self.capture_to is not None:
            self.capture_to.close()
            self.capture_to = None

    def result(self) -> RunResult:
        for late in self.judge.release_all():  # 409s whose first request never showed an overlapping create
            self._tally(late, held=True)
        result = self.tally.result(self.contract.sha256, self.contract.origin)
        result.internal_errors = list(self.internal_errors)
        return result

    @property
    def judged_any(self) -> bool:
        return any(self.tally.exercised.values())


def write_reports(result: RunResult, reports: dict[str, Path | None]) -> None:
    """Raises OSError when a report cannot be written."""
    from billing_kit.conformance.reports import html, json_report, junit

    writers = {"json": json_report.write, "junit": junit.write, "html": html.write}
    for name, path in reports.items():
        if path is not None:
            writers[name](result, path)
