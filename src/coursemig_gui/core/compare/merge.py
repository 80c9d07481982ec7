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


def _groups(rows: Iterable[tuple], side: str) -> Iterator[tuple[Key, list]]:
    """(key, [hashes]) per distinct key; a key smaller than the one before raises OutOfOrder."""
    it = iter(rows)
    first = next(it, None)
    if first is None:
        return
    key, hashes = first[:-1], [first[-1]]
    for row in it:
        k = row[:-1]
        if k == key:
            hashes.append(row[-1])
            continue
        if k < key:
            raise OutOfOrder(f"the {side} sent {k!r} after {key!r}")
        yield key, hashes
        key, hashes = k, [row[-1]]
    yield key, hashes


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

    def note(kind: Kind, key: Key, n: int = 1) -> None:
        if kind == Kind.ONLY_SOURCE:
            result.only_source += n
        elif kind == Kind.ONLY_TARGET:
            result.only_target += n
        else:
            result.different += n
        for _ in range(min(n, keep - len(result.shown))):
            result.shown.append((kind, key))

    src, tgt = _groups(source, "source"), _groups(target, "target")
    s, t = next(src, None), next(tgt, None)
    identical = source_rows = target_rows = 0
    steps = 0
    while s is not None and t is not None:
        steps += 1
        if tick and steps % 10_000 == 0:
            tick(source_rows)
        skey, left = s
        tkey, right = t
        if skey == tkey:
            if len(left) == 1 and len(right) == 1:  # the usual case, kept cheap
                source_rows += 1
                target_rows += 1
                if left[0] == right[0]:
                    identical += 1
                else:
                    note(Kind.DIFFERENT, skey)
            else:
                source_rows += len(left)
                target_rows += len(right)
                identical += _pair(skey, left, right, note)
            s, t = next(src, None), next(tgt, None)
        elif skey < tkey:
            source_rows += len(left)
            note(Kind.ONLY_SOURCE, skey, len(left))
            s = next(src, None)
        else:
            target_rows += len(right)
            note(Kind.ONLY_TARGET, tkey, len(right))
            t = next(tgt, None)
    while s is not None:
        source_rows += len(s[1])
        note(Kind.ONLY_SOURCE, s[0], len(s[1]))
        s = next(src, None)
    while t is not None:
        target_rows += len(t[1])
        note(Kind.ONLY_TARGET, t[0], len(t[1]))
        t = next(tgt, None)
    result.identical, result.source_rows, result.target_rows = identical, source_rows, target_rows
    return result


def _pair(key: Key, left: list, right: list, note: Callable) -> int:
    """Rows sharing one key: equal hashes are identical (returned), the rest pair up as
    different, and what is still left is on one side only."""
    same = sum((Counter(left) & Counter(right)).values())
    extra_left, extra_right = len(left) - same, len(right) - same
    paired = min(extra_left, extra_right)
    if paired:
        note(Kind.DIFFERENT, key, paired)
    if extra_left - paired:
        note(Kind.ONLY_SOURCE, key, extra_left - paired)
    if extra_right - paired:
        note(Kind.ONLY_TARGET, key, extra_right - paired)
    return same
