"""`make bench`: the benchmark's single entry point (see bench/harness.py, `--help`)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.harness import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
