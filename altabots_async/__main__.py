"""``python -m altabots_async`` and the ``altabots-async`` command (see ``altabots_async.cli``)."""

from __future__ import annotations

import sys

from .cli import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
