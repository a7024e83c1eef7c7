"""DefaultBinder: binds a pod to its node through the ``pods/binding`` subresource.

Follows ``kubernetes/kubernetes:pkg/scheduler/framework/plugins/defaultbinder/default_binder.go``
(v1.31): a ``Binding`` with the pod's name, namespace and UID, whose target is the node.
"""

from __future__ import annotations

from ... import errors
from ..framework import CycleState, Status, error
from ..types import PodInfo

NAME = "DefaultBinder"


class DefaultBinder:
    NAME = NAME

    def __init__(self, handle) -> None:
        self.handle = handle

    def bind(self, state: CycleState, pod: PodInfo, node_name: str) -> Status | None:
        binding = {"apiVersion": "v1", "kind": "Binding",
                   "metadata": {"name": pod.name, "namespace": pod.namespace, "uid": pod.uid},
                   "target": {"apiVersion": "v1", "kind": "Node", "name": node_name}}
        try:
            self.handle.api.bind(pod.name, pod.namespace, binding)
        except errors.ApiError as exc:
            return error(str(exc))
        return None
