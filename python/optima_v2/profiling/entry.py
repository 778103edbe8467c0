"""A plain-Python copy of one ``rt.ProfileData`` (picklable, comparable, independent of the module)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

#: Kinds that span other entries (drawn as parents in traces).
SPAN_KINDS = ("ModelExecute", "SubgraphExecute")


@dataclass(frozen=True)
class Entry:
    """One profile entry; times in microseconds, ``start`` relative to the start of its infer()."""

    kind: str
    name: str
    time: int
    start: int = 0
    subgraph: str = ""


def _kind_name(kind: Any) -> str:
    name = getattr(kind, "name", None)
    return str(name) if name is not None else str(kind).rsplit(".", 1)[-1]


def to_entries(profile_data: Iterable[Any]) -> list[Entry]:
    """Copy ``rt.ProfileData`` objects (or anything with the same attributes) into :class:`Entry`."""
    entries = []
    for item in profile_data:
        if isinstance(item, Entry):
            entries.append(item)
            continue
        time = int(item.time)
        if time < 0:
            raise ValueError(f"profile entry {item.name!r}: negative time {time}")
        entries.append(
            Entry(
                kind=_kind_name(item.kind),
                name=str(item.name),
                time=time,
                start=int(getattr(item, "start", 0)),
                subgraph=str(getattr(item, "subgraph", "")),
            )
        )
    return entries
