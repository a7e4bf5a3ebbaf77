"""Optimal one-to-one assignment (the Hungarian algorithm), in pure Python.

Used to match faces across providers (:func:`facekit.compare`): the pairs whose total score
(box IoU) is largest, each face in at most one pair. Greedy matching (best pair first) can pair
a face with its best neighbour and leave two other faces unmatched; this never does.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["best_assignment"]


def _minimum_cost(cost: Sequence[Sequence[float]]) -> list[tuple[int, int]]:
    """Rows -> columns of least total cost, every row assigned (needs rows <= columns).

    The shortest augmenting path form of the Hungarian algorithm (Kuhn-Munkres with
    potentials), O(rows^2 * columns).
    """
    rows, columns = len(cost), len(cost[0])
    infinity = float("inf")
    row_potential = [0.0] * (rows + 1)
    column_potential = [0.0] * (columns + 1)
    owner = [0] * (columns + 1)  # owner[j]: row (1-based) assigned to column j, 0 for none
    way = [0] * (columns + 1)
    for row in range(1, rows + 1):
        owner[0] = row
        free_column = 0
        slack = [infinity] * (columns + 1)
        used = [False] * (columns + 1)
        while True:
            used[free_column] = True
            current = owner[free_column]
            delta, next_column = infinity, 0
            for column in range(1, columns + 1):
                if used[column]:
                    continue
                reduced = cost[current - 1][column - 1] - row_potential[current] - column_potential[column]
                if reduced < slack[column]:
                    slack[column], way[column] = reduced, free_column
                if slack[column] < delta:
                    delta, next_column = slack[column], column
            for column in range(columns + 1):
                if used[column]:
                    row_potential[owner[column]] += delta
                    column_potential[column] -= delta
                else:
                    slack[column] -= delta
            free_column = next_column
            if owner[free_column] == 0:
                break
        while free_column:
            previous = way[free_column]
            owner[free_column] = owner[previous]
            free_column = previous
    return [(owner[column] - 1, column - 1) for column in range(1, columns + 1) if owner[column]]


def best_assignment(scores: Sequence[Sequence[float]], *, minimum: float = 0.0) -> list[tuple[int, int]]:
    """The one-to-one pairs ``(row, column)`` of largest total score, each score at least ``minimum``.

    Pairs scoring below ``minimum`` are not allowed (a face matched to nothing is better than to
    a face it barely overlaps), so the result maximises the total over allowed pairs.

    Args:
        scores: A rectangular matrix (e.g. box IoU, 0..1), rows and columns any size.
        minimum: Smallest score a pair may have (``scores >= minimum``).

    Returns:
        Pairs sorted by row.
    """
    if not scores or not scores[0]:
        return []
    allowed = [[value if _counts(value, minimum) else 0.0 for value in row] for row in scores]
    transposed = len(allowed) > len(allowed[0])
    if transposed:
        allowed = [list(column) for column in zip(*allowed, strict=True)]
    top = max(max(row) for row in allowed)
    pairs = _minimum_cost([[top - value for value in row] for row in allowed])
    if transposed:
        pairs = [(column, row) for row, column in pairs]
    return sorted((row, column) for row, column in pairs if _counts(scores[row][column], minimum))


def _counts(score: float, minimum: float) -> bool:
    """A pair counts when it scores at least ``minimum`` and above zero (no overlap is no match)."""
    return score >= minimum and score > 0.0
