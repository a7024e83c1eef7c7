"""Property tests of Deployments (SPEC.md DEP-1, DEP-2), for any sequence of rollouts (good
and crash-looping versions), pod deletions and passing time:

- a pod name is never used twice;
- at every write, a Deployment runs at most ``replicas + maxSurge`` active pods (``replicas``
  for Recreate), as upstream's rolling update guarantees;
- once a good version is rolled out and the cluster settles, exactly ``replicas`` active
  pods run, all of the latest template, and the Deployment is complete.
"""

from __future__ import annotations

import fakekube
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fakekube.api.store import ADDED
from fakekube.controllers.deployment.util import max_surge


def make_cluster(seed: int) -> fakekube.Cluster:
    return fakekube.Cluster(nodes=3, seed=seed)


count_or_percent = st.one_of(st.integers(0, 2), st.sampled_from(["0%", "25%", "50%", "100%"]))


@st.composite
def strategies(draw):
    if draw(st.booleans()):
        surge = draw(count_or_percent)
        unavailable = draw(count_or_percent)
        if str(surge).rstrip("%") == "0" and str(unavailable).rstrip("%") == "0":
            unavailable = 1
        return {"type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": surge, "maxUnavailable": unavailable}}
    return {"type": "Recreate"}


steps = st.lists(st.one_of(
    st.tuples(st.just("rollout"), st.booleans()),
    st.tuples(st.just("delete"), st.integers(0, 10)),
    st.tuples(st.just("advance"), st.sampled_from([0.5, 3, 15, 40]))), max_size=8)


@given(replicas=st.integers(1, 5), strategy=strategies(), min_ready=st.sampled_from([0, 0, 4]),
       plan=steps, seed=st.integers(0, 3))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_rollouts_respect_surge_never_reuse_names_and_converge(replicas, strategy, min_ready,
                                                               plan, seed):
    c = make_cluster(seed)
    body = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"replicas": replicas, "strategy": strategy, "minReadySeconds": min_ready,
                     "selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}},
                                  "spec": {"containers": [{"name": "c", "image": "app:0"}]}}}}
    d = c.create(body)
    limit = replicas + max_surge(d)
    pod_table = c.api.table(c.api.registry.by_kind("Pod"))
    names: list[str] = []
    worst = {"active": 0}

    def observe(ev) -> None:
        if ev.type == ADDED:
            names.append(ev.obj["metadata"]["name"])
        n = sum(1 for p in pod_table.objects.values()
                if not p["metadata"].get("deletionTimestamp")
                and (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed"))
        worst["active"] = max(worst["active"], n)

    pod_table.handlers.append(observe)
    version = 0
    for step in plan:
        if step[0] == "rollout":
            version += 1
            template: dict = {"spec": {"containers": [{"name": "c", "image": f"app:{version}"}]}}
            if not step[1]:  # a version whose containers crash: its pods never get Ready
                template["metadata"] = {"annotations": {"fakekube.io/exit-after-seconds": "0",
                                                        "fakekube.io/exit-code": "1"}}
            else:
                template["metadata"] = {"annotations": {"fakekube.io/exit-after-seconds": None,
                                                        "fakekube.io/exit-code": None}}
            c.patch("Deployment", "web", {"spec": {"template": template}},
                    patch_type="strategic")
            c.manager.run_until_idle(100_000)
        elif step[0] == "delete":
            live = sorted(p["metadata"]["name"] for p in pod_table.objects.values()
                          if not p["metadata"].get("deletionTimestamp"))
            if live:
                c.delete("Pod", live[step[1] % len(live)])
                c.manager.run_until_idle(100_000)
        else:
            c.advance(step[1])
        assert worst["active"] <= limit
    version += 1
    c.patch("Deployment", "web", {"spec": {"template": {
        "metadata": {"annotations": {"fakekube.io/exit-after-seconds": None,
                                     "fakekube.io/exit-code": None}},
        "spec": {"containers": [{"name": "c", "image": f"app:{version}"}]}}}},
        patch_type="strategic")
    c.settle()
    assert worst["active"] <= limit
    assert len(names) == len(set(names)), "a pod name was used twice"
    live = [p for p in pod_table.objects.values() if not p["metadata"].get("deletionTimestamp")
            and (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")]
    assert len(live) == replicas
    assert {p["spec"]["containers"][0]["image"] for p in live} == {f"app:{version}"}
    status = c.get("Deployment", "web")["status"]
    assert (status.get("replicas"), status.get("updatedReplicas"),
            status.get("availableReplicas")) == (replicas, replicas, replicas)
    progressing = next(x for x in status["conditions"] if x["type"] == "Progressing")
    assert progressing["reason"] == "NewReplicaSetAvailable"
