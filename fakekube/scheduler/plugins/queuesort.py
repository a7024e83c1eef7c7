"""PrioritySort: the order of the scheduling queue's active pods.

Follows ``kubernetes/kubernetes:pkg/scheduler/framework/plugins/queuesort/priority_sort.go``
(v1.31): higher ``spec.priority`` first, then the earlier queue timestamp. fakekube breaks the
remaining ties by the order pods entered the queue, so that a run is reproducible.
"""

from __future__ import annotations

NAME = "PrioritySort"


class PrioritySort:
    NAME = NAME

    def __init__(self, handle: object = None) -> None:
        self.handle = handle

    @staticmethod
    def sort_key(priority: int, timestamp: float, seq: int) -> tuple[int, float, int]:
        """A heap key that orders pods as ``PrioritySort.Less``."""
        return (-priority, timestamp, seq)
