"""``helper.DefaultNormalizeScore`` (``kubernetes/kubernetes:pkg/scheduler/framework/plugins/helper/normalize_score.go``):
scale scores to [0, max] by the highest score, optionally reversed."""

from __future__ import annotations


def default_normalize_score(max_priority: int, reverse: bool, scores: list[int]) -> None:
    """Scale ``scores`` in place: ``max_priority * score // max(scores)`` (Go's integer
    division truncates; scores are non-negative here), reversed as ``max - score``. When every
    score is 0 they stay 0, or all become ``max_priority`` when reversed."""
    max_count = 0
    for s in scores:
        if s > max_count:
            max_count = s
    if max_count == 0:
        if reverse:
            for i in range(len(scores)):
                scores[i] = max_priority
        return
    for i, s in enumerate(scores):
        s = max_priority * s // max_count
        scores[i] = max_priority - s if reverse else s
