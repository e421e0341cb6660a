"""Models of the Speech category (REFERENCE §4.10, endpoints 62-63)."""

from __future__ import annotations

import attrs

from ._base import Model

__all__ = ["Transcription"]


@attrs.frozen
class Transcription(Model):
    """The text recognised in an audio file."""

    text: str
