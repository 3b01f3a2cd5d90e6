"""The kit's version, in the bottom layer so that every layer can read it without climbing.

`billing_kit.__version__` re-exports it; pyproject.toml's `version` is the same string.
"""

from __future__ import annotations

__version__ = "0.1.0"
