"""CPU time of a server's process tree, and the machine the figures come from (Linux /proc)."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

PROC = Path("/proc")
TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int, tid: int | None = None) -> list[str] | None:
    path = PROC / str(pid) / "stat" if tid is None else PROC / str(pid) / "task" / str(tid) / "stat"
    try:
        raw = path.read_text()
    except OSError:  # the process ended between listing and reading
        return None
    # The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    return raw[raw.rindex(")") + 2 :].split()


def descendants(root: int) -> list[int]:
    """`root` and every live process below it (uvicorn's workers included)."""
    children: dict[int, list[int]] = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat_fields(int(entry.name))
        if fields is not None:
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def tree_cpu_seconds(root: int) -> float:
    """User + system CPU of `root` and its live descendants, all threads, plus reaped children."""
    return tree_cpu_split(root)[0]


def tree_cpu_split(root: int) -> tuple[float, float]:
    """(all threads, main threads only) CPU seconds of the tree.

    A server's main thread runs its event loop (HTTP parsing, the app, the framework);
    the other threads are the database pool, so the split shows which side is busy.
    """
    ticks = main_ticks = 0
    for pid in descendants(root):
        fields = _stat_fields(pid)
        main = _stat_fields(pid, pid)
        if fields is not None:
            # After the name: state(0) ppid(1) … utime(11) stime(12) cutime(13) cstime(14).
            ticks += sum(int(fields[i]) for i in (11, 12, 13, 14))
        if main is not None:
            main_ticks += int(main[11]) + int(main[12])
    return ticks / TICKS_PER_SECOND, main_ticks / TICKS_PER_SECOND


def load_average() -> float:
    """The 1-minute load average: other work on the machine shows up here."""
    return os.getloadavg()[0]


def checkout() -> str:
    """The commit measured, `+dirty` when the working tree differs from it."""
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True)  # fmt: skip
    except OSError:
        return "unknown"
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def machine() -> dict[str, object]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu_model": model,
        "loadavg_at_start": load_average(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "kernel": platform.release(),
        "checkout": checkout(),
    }
