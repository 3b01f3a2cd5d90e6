"""What a person sees while a run goes: a live line on a terminal, plain lines elsewhere.

The runner takes a `Progress` as an argument of `run()`: it calls `started(ctx)`
once the run's context exists and `line(text)` when a check ends. The live display
does not wait for those calls to move: a refresh thread (rich's) reads the running
check (`ctx.current`) and the client's request counter (`ctx.client.sent`) several
times a second, so a long phase (Schemathesis's) ticks as its requests go out.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol, TextIO

import click

if TYPE_CHECKING:
    from rich.console import RenderableType
    from rich.live import Live

    from billing_kit.conformance.context import CheckContext


class Progress(Protocol):
    def started(self, ctx: CheckContext) -> None:
        """The run began: from now on `ctx.current` and `ctx.client.sent` change as it goes."""

    def ready(self) -> None:
        """The first create showed the target is the API: print the run's announcement now."""

    def line(self, text: str) -> None:
        """A check ended, or a note worth keeping in the log."""

    def stop(self) -> None:
        """The run is over (or failed): leave the terminal clean."""


class PlainProgress:
    """One line per finished check: for logs, pipes and CI (stdout is not a terminal)."""

    def __init__(self, out: TextIO, preamble: Sequence[str] = ()) -> None:
        self.out = out
        self.preamble = list(preamble)

    def started(self, ctx: CheckContext) -> None:
        return None

    def ready(self) -> None:
        for text in self.preamble:
            click.echo(text, file=self.out)
        self.preamble = []

    def line(self, text: str) -> None:
        click.echo(f"  {text}", file=self.out)

    def stop(self) -> None:
        return None


class _Status:
    """The live line, rendered afresh on every refresh: phase, requests sent, elapsed time."""

    def __init__(self, ctx: CheckContext, since: float) -> None:
        self.ctx = ctx
        self.since = since
        self.begun = False

    def __rich__(self) -> RenderableType:
        from rich.spinner import Spinner
        from rich.text import Text

        current = self.ctx.current
        if current is not None:
            self.begun = True
            phase = f"{current.name} [{', '.join(current.clauses)}]"
        else:
            phase = "verdicts" if self.begun else "starting"
        # Counts first, the phase last and cut to one line: a narrow terminal still shows them tick.
        text = Text.assemble(
            f"{self.ctx.client.sent} requests sent · {time.monotonic() - self.since:.1f} s · ",
            (phase, "bold"),
            no_wrap=True,
            overflow="ellipsis",
        )
        return Spinner("dots", text=text)


class LiveProgress:
    """A live status line under the log of finished checks (rich, stdout a terminal)."""

    REFRESHES_PER_SECOND = 8

    def __init__(self, out: TextIO, preamble: Sequence[str] = ()) -> None:
        from rich.console import Console

        self.console = Console(file=out, highlight=False)
        self.preamble = list(preamble)
        self.since = time.monotonic()
        self._live: Live | None = None
        self._status: _Status | None = None

    def started(self, ctx: CheckContext) -> None:
        from rich.live import Live

        self._status = _Status(ctx, self.since)
        self._live = Live(
            self._status,
            console=self.console,
            refresh_per_second=self.REFRESHES_PER_SECOND,
            transient=True,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._live.start()

    def ready(self) -> None:
        for text in self.preamble:
            self.console.print(text, markup=False)
        self.preamble = []

    def line(self, text: str) -> None:
        self.console.print(f"  {text}", style="dim", markup=False)

    def stop(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None


def for_output(out: Any, preamble: Sequence[str] = ()) -> Progress:
    """Live on a terminal, plain lines otherwise; `preamble` is printed at `ready()` (never before an error)."""
    return LiveProgress(out, preamble) if out.isatty() else PlainProgress(out, preamble)
