"""The reconcile contract (controller-runtime's ``pkg/reconcile``).

Reconciliation is level-based: ``reconcile(key)`` reads the current state of the cluster and
moves it one step toward the desired state, whatever event brought the key there. It returns
a :class:`Result`, or None for "done until something changes":

- ``Result(requeue_after=t)``: run this key again ``t`` virtual seconds from now, because
  something will change then (a grace period ends, a pod becomes available). The run loop
  treats it as a deadline: ``settle()`` jumps to it.
- raising :class:`~fakekube.errors.ApiError` (a conflict, say): retried with per-key
  exponential backoff.
- raising :class:`~fakekube.errors.TerminalError`: dropped and recorded, not retried.
"""

from __future__ import annotations

import attrs

__all__ = ["Result", "Key"]

Key = tuple  # a controller's own key shape; usually (namespace, name)


@attrs.frozen
class Result:
    requeue_after: float | None = None
