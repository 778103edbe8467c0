"""Run a model repeatedly and keep each run's profile entries and wall-clock latency."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Optional

from .entry import Entry, to_entries


@dataclass
class ProfileRun:
    """One finished inference: its profile entries and its latency (infer() to wait()) in seconds."""

    entries: list[Entry]
    latency: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


def collect(model: Any, runs: int, inputs: Optional[Any] = None, *, warmup: int = 1) -> list[ProfileRun]:
    """Infer ``model`` ``warmup + runs`` times on one request; return the last ``runs`` runs.

    ``inputs`` is anything ``InferRequest.set_inputs`` accepts (None: keep the request's contents).
    The context must have been created with ``enable_profile=True`` (the default).
    """
    if runs < 1:
        raise ValueError(f"runs must be at least 1, got {runs}")
    if warmup < 0:
        raise ValueError(f"warmup must not be negative, got {warmup}")
    request = model.create_request()
    if inputs is not None:
        request.set_inputs(inputs)
    result = []
    for i in range(warmup + runs):
        begin = time.perf_counter()
        request.infer()
        request.wait()
        latency = time.perf_counter() - begin
        if i >= warmup:
            entries = to_entries(request.profile_data)
            if not entries:
                raise ValueError("the request recorded no profile data: create the Context with enable_profile=True")
            result.append(ProfileRun(entries, latency))
    return result
