"""Pod garbage collector: the pods a pass looks at come from sets its pod handler keeps (and
the pods' node-name index), not from a walk over every pod. For every sequence of pod and
node writes, they are the ones a full walk finds, in the same order."""

from __future__ import annotations

import fakekube
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from fakekube.controllers.podgc import PodGCController, _is_terminating, is_terminated

NODES = ("n1", "n2")
PODS = ("a", "b")


def full_walk(gc: PodGCController) -> tuple[list[dict], list[dict], list[dict]]:
    """The pass's pods as the walk over every pod found them (the oracle)."""
    terminated, terminating, nodeless = [], [], []
    nodes = gc.nodes.table.objects
    for key, pod in sorted(gc.pods.table.objects.items()):
        if is_terminated(pod):
            terminated.append(pod)
        if _is_terminating(pod):
            terminating.append(pod)
        node_name = (pod.get("spec") or {}).get("nodeName")
        if node_name and ("", node_name) not in nodes:
            nodeless.append(pod)
    return terminated, terminating, nodeless


def node(name: str) -> dict:
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}}


def pod(name: str, node_name: str | None) -> dict:
    spec: dict = {"containers": [{"name": "c", "image": "nginx"}]}
    if node_name:
        spec["nodeName"] = node_name
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "finalizers": ["example.com/keep"]}, "spec": spec}


step = st.one_of(
    st.tuples(st.just("create"), st.sampled_from(PODS), st.sampled_from((None,) + NODES)),
    st.tuples(st.just("phase"), st.sampled_from(PODS),
              st.sampled_from(("Pending", "Running", "Succeeded", "Failed", "Unknown"))),
    st.tuples(st.just("delete"), st.sampled_from(PODS), st.sampled_from((0, 30))),
    st.tuples(st.just("release"), st.sampled_from(PODS), st.none()),
    st.tuples(st.just("add_node"), st.sampled_from(NODES), st.none()),
    st.tuples(st.just("del_node"), st.sampled_from(NODES), st.none()),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(step, max_size=30))
@example([("create", "a", None), ("delete", "a", 0), ("release", "a", None)])
@example([("create", "a", "n2"), ("phase", "a", "Failed"), ("add_node", "n2", None),
          ("del_node", "n2", None), ("delete", "a", 0), ("release", "a", None)])
def test_pass_candidates_match_a_full_walk(steps):
    c = fakekube.Cluster(nodes=0)
    gc = next(x for x in c.manager.controllers if isinstance(x, PodGCController))
    c.create(node("n1"))
    for op, name, arg in steps:
        try:
            if op == "create":
                c.create(pod(name, arg))
            elif op == "phase":
                p = c.get("Pod", name)
                p["status"]["phase"] = arg
                c.replace(p, subresource="status")
            elif op == "delete":
                c.delete("Pod", name, grace_period_seconds=arg)
            elif op == "release":
                c.patch("Pod", name, {"metadata": {"finalizers": None}})
            elif op == "add_node":
                c.create(node(name))
            else:
                c.delete("Node", name)
        except fakekube.ApiError:
            pass  # absent, already there, or refused: the state is what counts
        assert gc._candidates() == full_walk(gc)
