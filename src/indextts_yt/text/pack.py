"""Pack the sentences of one paragraph into as few segments as fit, avoiding fragments.

Greedy filling ("add sentences while they fit") is almost right, but it can strand a
short sentence between two full segments where it is read as a clipped fragment. A
small dynamic programme over the paragraph's pieces finds, among all packings within
the limit, the one with the fewest segments shorter than ``min_chars``, then the
fewest segments, then (on ties) the fullest early segments, which is what greedy
filling would have produced whenever it was already optimal. Each piece is only
tried with the few that fit after it, so the cost stays linear in the paragraph.

Two neighbouring pieces are only joined when the first ends in punctuation: a list
item or a hard-wrapped fragment gives the engine no cue for a pause, and running it
into the next piece would read as one breathless phrase.
"""

from __future__ import annotations

from .chars import ends_with_punctuation


def pack(text: str, pieces: list[tuple[int, int]], max_chars: int, min_chars: int) -> list[tuple[int, int]]:
    """Group consecutive ``pieces`` (``(start, end)`` offsets into ``text``, each at most
    ``max_chars`` long) into segments; a segment spans from its first piece's start to
    its last piece's end, keeping the original spacing between them."""
    n = len(pieces)
    if n == 0:
        return []
    joinable = [ends_with_punctuation(text[s:e]) for s, e in pieces]
    # cost[i]: (short segments, segments) for packing pieces[i:]; take[i]: how many.
    cost: list[tuple[int, int]] = [(0, 0)] * (n + 1)
    take = [1] * n
    for i in range(n - 1, -1, -1):
        best = None
        for j in range(i + 1, n + 1):
            length = pieces[j - 1][1] - pieces[i][0]
            if j > i + 1 and (length > max_chars or not joinable[j - 2]):
                break
            rest = cost[j]
            candidate = (rest[0] + (length < min_chars), rest[1] + 1)
            if best is None or candidate <= best:
                best = candidate
                take[i] = j - i
        cost[i] = best
    segments = []
    i = 0
    while i < n:
        j = i + take[i]
        segments.append((pieces[i][0], pieces[j - 1][1]))
        i = j
    return segments
