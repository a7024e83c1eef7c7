"""The controllers of kube-controller-manager that fakekube runs, one module each.

:func:`builtin_controllers` gives them in the order the run loop steps them.
"""

from __future__ import annotations


def builtin_controllers() -> list[type]:
    from .disruption import DisruptionController
    from .garbagecollector import GarbageCollector
    from .namespace import NamespaceController

    return [NamespaceController, GarbageCollector, DisruptionController]
