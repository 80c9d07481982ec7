"""Merging two streams of (key, row hash), each sorted by key, into the comparison's counts.

Memory stays bounded whatever the table's size: only the first ``keep`` differing keys are
kept (their values are fetched later); everything else is counted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

Key = tuple[Any, ...]


class Kind(StrEnum):
    ONLY_SOURCE = "only in source"
    ONLY_TARGET = "only in target"
    DIFFERENT = "different"


class OutOfOrder(Exception):
    """A server sent its keys in another order than the client compares them: merging would
    report rows as missing that are not, so the table is not compared."""


@dataclass
class MergeResult:
    source_rows: int = 0
    target_rows: int = 0
    identical: int = 0
    only_source: int = 0
    only_target: int = 0
    different: int = 0
    shown: list[tuple[Kind, Key]] = field(default_factory=list)  # the first ``keep``, in key order

    @property
    def differences(self) -> int:
        return self.only_source + self.only_target + self.different


def _groups(
    rows: Iterable[tuple], side: str, count: Callable[[], None]
) -> Iterator[tuple[Key, list]]:
    """(key, [hashes]) per distinct key; a key smaller than the one before raises OutOfOrder."""
    current: Key | None = None
    hashes: list = []
    for row in rows:
        count()
        key, digest = tuple(row[:-1]), row[-1]
        if key == current:
            hashes.append(digest)
            continue
        if current is not None:
            if key < current:
                raise OutOfOrder(f"the {side} sent {key!r} after {current!r}")
            yield current, hashes
        current, hashes = key, [digest]
    if current is not None:
        yield current, hashes


def merge_sorted(
    source: Iterable[tuple],
    target: Iterable[tuple],
    keep: int,
    tick: Callable[[int], None] | None = None,
) -> MergeResult:
    """Compare rows given as (key..., hash), each side sorted by key.

    A key found once on each side is identical or different by its hash. A key found several
    times (a target without the source's key, or a multiset where the key is the hash itself)
    pairs equal hashes first; what is left pairs up as different, the rest is only on one side.
    """
    result = MergeResult()

    def counted(side: str) -> Callable[[], None]:
        def count() -> None:
            if side == "source":
                result.source_rows += 1
                if tick and result.source_rows % 10_000 == 0:
                    tick(result.source_rows)
            else:
                result.target_rows += 1

        return count

    def note(kind: Kind, key: Key, n: int = 1) -> None:
        if kind == Kind.ONLY_SOURCE:
            result.only_source += n
        elif kind == Kind.ONLY_TARGET:
            result.only_target += n
        else:
            result.different += n
        for _ in range(min(n, keep - len(result.shown))):
            result.shown.append((kind, key))

    src = _groups(source, "source", counted("source"))
    tgt = _groups(target, "target", counted("target"))
    s, t = next(src, None), next(tgt, None)
    while s is not None or t is not None:
        if t is None or (s is not None and s[0] < t[0]):
            note(Kind.ONLY_SOURCE, s[0], len(s[1]))
            s = next(src, None)
        elif s is None or t[0] < s[0]:
            note(Kind.ONLY_TARGET, t[0], len(t[1]))
            t = next(tgt, None)
        else:
            key, left, right = s[0], s[1], t[1]
            if len(left) == 1 and len(right) == 1:  # the usual case, kept cheap
                if left[0] == right[0]:
                    result.identical += 1
                else:
                    note(Kind.DIFFERENT, key)
            else:
                lc, rc = Counter(left), Counter(right)
                same = sum((lc & rc).values())
                result.identical += same
                extra_left, extra_right = len(left) - same, len(right) - same
                paired = min(extra_left, extra_right)
                if paired:
                    note(Kind.DIFFERENT, key, paired)
                if extra_left - paired:
                    note(Kind.ONLY_SOURCE, key, extra_left - paired)
                if extra_right - paired:
                    note(Kind.ONLY_TARGET, key, extra_right - paired)
            s, t = next(src, None), next(tgt, None)
    return result
