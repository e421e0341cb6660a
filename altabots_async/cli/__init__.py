"""The ``altabots-async`` command line: ``demo``, ``agent``, ``chat``, ``batch``, ``quota``.

Implementation modules are private; :func:`main` is the entry point.
"""

from ._app import main

__all__ = ["main"]
