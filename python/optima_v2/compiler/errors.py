"""The one exception type of the compiler."""

from __future__ import annotations


class CompileError(ValueError):
    """A model cannot be compiled; the message names every tensor, node or setting at fault."""
