"""Deployment controller policy, as pure functions (no cluster): the pod-template hash,
fenceposts and rounding, proportional scaling, the rolling and recreate plans, revisions,
history cleanup, status, and the progress deadline."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fakekube.api.objects import rfc3339
from fakekube.controllers.deployment import history, progress, recreate, rolling, sync
from fakekube.controllers.deployment.util import (
    DESIRED_REPLICAS, HASH_LABEL, MAX_REPLICAS, REVISION, REVISION_HISTORY, Scale,
    compute_hash, deployment_timed_out, equal_ignore_hash, find_active_or_latest, find_new_rs,
    get_proportion, max_surge, max_unavailable, new_rs_new_replicas, resolve_fenceposts,
    round_half_away, safe_encode, timestamp)

T0 = 1_735_689_600.0


def deployment(replicas=10, surge="25%", unavailable="25%", strategy="RollingUpdate",
               status=None, generation=1, template=None, **spec) -> dict:
    d = {"metadata": {"name": "web", "namespace": "default", "uid": "d-uid",
                      "generation": generation},
         "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                  "template": template or {"metadata": {"labels": {"app": "web"}},
                                           "spec": {"containers": [{"name": "c",
                                                                    "image": "nginx:1"}]}},
                  "strategy": {"type": strategy}, "progressDeadlineSeconds": 600,
                  "revisionHistoryLimit": 10},
         "status": status or {}}
    if strategy == "RollingUpdate":
        d["spec"]["strategy"]["rollingUpdate"] = {"maxSurge": surge, "maxUnavailable": unavailable}
    d["spec"].update(spec)
    return d


def rs(name, replicas, available=None, created=0, revision=None, annotations=None,
       status_replicas=None, generation=1, observed=1, ready=None):
    ann = dict(annotations or {})
    if revision is not None:
        ann[REVISION] = str(revision)
    available = replicas if available is None else available
    return {"metadata": {"name": name, "namespace": "default", "uid": f"uid-{name}",
                         "creationTimestamp": rfc3339(T0 + created), "annotations": ann,
                         "generation": generation},
            "spec": {"replicas": replicas},
            "status": {"replicas": replicas if status_replicas is None else status_replicas,
                       "readyReplicas": available if ready is None else ready,
                       "availableReplicas": available, "observedGeneration": observed}}


# -- hash ----------------------------------------------------------------------------------


def test_safe_encode_maps_digits_into_the_alphabet():
    assert safe_encode("0123456789") == "456789bcdf"  # as in "web-5d9c7b4f8"


def test_compute_hash_is_deterministic_and_template_sensitive():
    t = deployment()["spec"]["template"]
    h = compute_hash(t, None)
    assert re.fullmatch("[bcdfghjklmnpqrstvwxz2456789]{1,10}", h)
    assert compute_hash({**t}, None) == h
    other = {"metadata": t["metadata"], "spec": {"containers": [{"name": "c", "image": "x"}]}}
    assert compute_hash(other, None) != h
    assert compute_hash(t, 1) != h and compute_hash(t, 1) != compute_hash(t, 2)
    # dict order does not matter
    assert compute_hash({"spec": t["spec"], "metadata": t["metadata"]}, None) == h


@given(st.dictionaries(st.text(min_size=1, max_size=5), st.text(max_size=5), max_size=4),
       st.one_of(st.none(), st.integers(0, 2 ** 31 - 1)))
@settings(max_examples=80)
def test_compute_hash_alphabet_and_length(labels, collisions):
    h = compute_hash({"metadata": {"labels": labels}}, collisions)
    assert 1 <= len(h) <= 10 and set(h) <= set("456789bcdf")


def test_equal_ignore_hash():
    a = {"metadata": {"labels": {"app": "web", HASH_LABEL: "abc"}}, "spec": {"x": []}}
    b = {"metadata": {"labels": {"app": "web"}}, "spec": {}}
    assert equal_ignore_hash(a, b)
    assert not equal_ignore_hash(a, {"metadata": {"labels": {"app": "db"}}, "spec": {}})


# -- fenceposts ----------------------------------------------------------------------------


@pytest.mark.parametrize("surge,unavailable,desired,expected", [
    ("25%", "25%", 4, (1, 1)),
    ("25%", "25%", 10, (3, 2)),          # surge rounds up, unavailable down
    ("35%", "35%", 10, (4, 3)),
    ("0%", "1%", 2, (0, 1)),             # both 0 after rounding: unavailable becomes 1
    ("1%", "25%", 1, (1, 0)),
    (0, 0, 5, (0, 1)),
    (2, 3, 5, (2, 3)),
    (None, None, 3, (0, 1)),
])
def test_resolve_fenceposts(surge, unavailable, desired, expected):
    assert resolve_fenceposts(surge, unavailable, desired) == expected


def test_max_unavailable_is_capped_and_zero_for_recreate():
    assert max_unavailable(deployment(replicas=2, unavailable=5, surge=0)) == 2
    assert max_unavailable(deployment(replicas=0)) == 0
    assert max_unavailable(deployment(strategy="Recreate")) == 0
    assert max_surge(deployment(strategy="Recreate")) == 0
    assert max_surge(deployment(replicas=10, surge="25%")) == 3


def test_round_half_away_from_zero():
    assert [round_half_away(x) for x in (0.5, 1.5, 2.5, -0.5, -1.5, 1.49)] == [1, 2, 3, -1, -2, 1]


# -- new replica set sizes ---------------------------------------------------------------


def test_new_rs_new_replicas_rolling_and_recreate():
    d = deployment(replicas=10, surge="30%")  # surge 3
    new = rs("new", 0)
    assert new_rs_new_replicas(d, [rs("old", 10), new], new) == 3
    assert new_rs_new_replicas(d, [rs("old", 13), new], new) == 0
    grown = rs("new", 8)
    assert new_rs_new_replicas(d, [rs("old", 2), grown], grown) == 10  # never above replicas
    assert new_rs_new_replicas(deployment(replicas=4, strategy="Recreate"), [new], new) == 4


def test_proportional_scaling_matches_the_documented_example():
    # kubernetes.io "Proportional scaling": 10 replicas, maxSurge 3, mid-rollout with 8 old
    # and 5 new; scaled to 15: 3 more go to the old ReplicaSet and 2 to the new one.
    ann = {DESIRED_REPLICAS: "10", MAX_REPLICAS: "13"}
    old = rs("old", 8, annotations=ann, created=0)
    new = rs("new", 5, annotations=ann, created=10)
    d = deployment(replicas=15, surge=3, unavailable=2, template=None)
    d["status"] = {"replicas": 13}
    steps = sync.plan_scale(d, new, [old])
    assert {s.rs["metadata"]["name"]: s.replicas for s in steps} == {"old": 11, "new": 7}
    assert all(s.operation == "up" and s.always for s in steps)
    # scaling down to 5 takes from the larger first, leftovers from the largest
    d5 = deployment(replicas=5, surge=3, unavailable=2)
    steps = sync.plan_scale(d5, new, [old])
    sizes = {s.rs["metadata"]["name"]: s.replicas for s in steps}
    assert sum(sizes.values()) == 8 and sizes["old"] >= sizes["new"]


def test_scale_with_one_active_replica_set_sets_it_to_the_full_size():
    d = deployment(replicas=7)
    only = rs("only", 3)
    assert sync.plan_scale(d, only, [rs("dead", 0)]) == [Scale(only, 7, "up")]
    assert sync.plan_scale(deployment(replicas=3), only, []) == []


@given(st.integers(0, 30), st.lists(st.integers(0, 20), min_size=2, max_size=4),
       st.integers(0, 5))
@settings(max_examples=150)
def test_proportional_scaling_reaches_the_allowed_size(target, sizes, surge):
    if sum(1 for s in sizes if s) < 2:
        return  # with one active ReplicaSet there is nothing to proportion
    before = sum(sizes)
    ann = {DESIRED_REPLICAS: "999", MAX_REPLICAS: str(max(before, 1))}  # never saturated
    rss = [rs(f"rs{i}", n, annotations=ann, created=i) for i, n in enumerate(sizes)]
    d = deployment(replicas=target, surge=surge, unavailable=1)
    d["status"] = {"replicas": before}
    steps = sync.plan_scale(d, rss[-1], rss[:-1])
    after = {s.rs["metadata"]["name"]: s.replicas for s in steps}
    assert all(v >= 0 for v in after.values())
    allowed = target + surge if target else 0
    total = sum(after.get(r["metadata"]["name"], r["spec"]["replicas"]) for r in rss)
    assert total == allowed or (total > allowed and min(after.values(), default=0) == 0)


def test_get_proportion_limits():
    d = deployment(replicas=10, surge=0, unavailable=1)
    assert get_proportion(None, d, 5, 0) == 0
    assert get_proportion(rs("a", 0), d, 5, 0) == 0
    assert get_proportion(rs("a", 5, annotations={MAX_REPLICAS: "5"}), d, 3, 0) == 3


def test_find_active_or_latest():
    a, b = rs("a", 0, created=0), rs("b", 0, created=5)
    assert find_active_or_latest(None, [a, b]) is b
    new = rs("n", 0, created=9)
    assert find_active_or_latest(new, [a]) is new
    active = rs("c", 2)
    assert find_active_or_latest(new, [a, active]) is active
    assert find_active_or_latest(rs("n2", 1), [active]) is None


def test_find_new_rs_is_the_oldest_with_the_template():
    d = deployment()
    t = dict(d["spec"]["template"], metadata={"labels": {"app": "web", HASH_LABEL: "h"}})
    r1 = dict(rs("r1", 1, created=10), spec={"replicas": 1, "template": t})
    r2 = dict(rs("r2", 1, created=1), spec={"replicas": 1, "template": t})
    assert find_new_rs(d, [r1, r2]) is r2


# -- rolling -------------------------------------------------------------------------------


def test_rolling_scales_up_first_within_surge():
    d = deployment(replicas=4, surge=1, unavailable=1)
    old, new = rs("old", 4, created=0), rs("new", 0, created=5, available=0)
    assert rolling.reconcile_new_rs(d, [old, new], new) == Scale(new, 1, "up")
    full = rs("new", 1, created=5, available=0)
    assert rolling.reconcile_new_rs(d, [old, full], full) is None  # 5 = 4 + surge


def test_rolling_scales_down_unavailable_old_pods_first():
    d = deployment(replicas=4, surge=1, unavailable=1)
    old = rs("old", 4, available=2, created=0)
    new = rs("new", 1, available=0, created=5)
    plan = rolling.reconcile_old_rss(d, [old, new], [old], new)
    # maxScaledDown = 5 - 3 - 1 = 1: one unhealthy old pod goes; available 2 < 3: no more
    assert plan.steps == [Scale(old, 3, "down")] and plan.scaled_down == 1


def test_rolling_scales_down_available_old_pods_as_new_ones_become_available():
    d = deployment(replicas=4, surge=1, unavailable=1)
    old = rs("old", 4, created=0)
    new = rs("new", 1, available=1, created=5)
    plan = rolling.reconcile_old_rss(d, [old, new], [old], new)
    assert plan.steps == [Scale(old, 2, "down")] and plan.scaled_down == 2  # 5 available - 3


def test_rolling_never_scales_down_below_min_available():
    d = deployment(replicas=4, surge=1, unavailable=0)
    old = rs("old", 4, created=0)
    new = rs("new", 1, available=0, created=5)
    assert rolling.reconcile_old_rss(d, [old, new], [old], new).steps == []


def test_rolling_cleanup_of_an_overfull_old_replica_set_breaks_the_plan():
    d = deployment(replicas=4, surge=1, unavailable=1)
    old = rs("old", 3, available=4, created=0)  # scaled down, its pods not gone yet
    new = rs("new", 1, available=1, created=5)
    plan = rolling.reconcile_old_rss(d, [old, new], [old], new)
    assert plan.broken is True and plan.steps == []


# -- recreate ------------------------------------------------------------------------------


def test_recreate_plans():
    a, b = rs("a", 3), rs("b", 0)
    assert recreate.scale_down_old_rss([a, b]) == [Scale(a, 0, "down")]
    new = rs("new", 0)
    running = {"uid-a": [{"status": {"phase": "Running"}}], "uid-new": []}
    assert recreate.old_pods_running(new, [rs("a", 0, status_replicas=0)], running)
    done = {"uid-a": [{"status": {"phase": "Succeeded"}}, {"status": {"phase": "Failed"}}]}
    assert not recreate.old_pods_running(new, [rs("a", 0, status_replicas=0)], done)
    assert recreate.old_pods_running(new, [rs("a", 0, status_replicas=1)], {})
    assert recreate.scale_up_new_rs(new, deployment(replicas=3, strategy="Recreate")) == Scale(
        new, 3, "up")


# -- history -------------------------------------------------------------------------------


def test_new_rs_annotations_revision_history_and_replicas():
    d = deployment(replicas=4, surge=1)
    d["metadata"]["annotations"] = {"kubernetes.io/change-cause": "v2", REVISION: "9",
                                    "kubectl.kubernetes.io/last-applied-configuration": "{}"}
    fresh = {"metadata": {"name": "x"}, "spec": {"replicas": 0}}
    assert history.set_new_rs_annotations(d, fresh, "3", exists=False)
    assert fresh["metadata"]["annotations"] == {
        "kubernetes.io/change-cause": "v2", REVISION: "3", DESIRED_REPLICAS: "4",
        MAX_REPLICAS: "5"}
    old = {"metadata": {"name": "y", "annotations": {REVISION: "1"}}, "spec": {"replicas": 0}}
    assert history.set_new_rs_annotations(d, old, "4", exists=True)
    assert old["metadata"]["annotations"][REVISION] == "4"
    assert old["metadata"]["annotations"][REVISION_HISTORY] == "1"
    assert history.set_new_rs_annotations(d, old, "6", exists=True)
    assert old["metadata"]["annotations"][REVISION_HISTORY] == "1,4"
    assert not history.set_new_rs_annotations(d, old, "5", exists=True)  # never lowered


def test_revision_history_annotation_is_capped():
    d = deployment()
    long = ",".join(str(i) for i in range(1000, 1400))  # ~2000 characters
    rs_ = {"metadata": {"annotations": {REVISION: "5000", REVISION_HISTORY: long}}}
    history.set_new_rs_annotations(d, rs_, "5001", exists=True)
    got = rs_["metadata"]["annotations"][REVISION_HISTORY]
    assert len(got) <= 2000 and got.endswith(",5000") and not got.startswith("1000,")


def test_cleanup_keeps_revision_history_limit_and_only_deletes_drained_sets():
    d = deployment(revisionHistoryLimit=1)
    olds = [rs("r1", 0, revision=1, status_replicas=0), rs("r2", 0, revision=2, status_replicas=0),
            rs("r3", 0, revision=3, status_replicas=0)]
    assert [r["metadata"]["name"] for r in history.replica_sets_to_clean_up(olds, d)] == [
        "r1", "r2"]
    busy = [rs("r1", 0, revision=1, status_replicas=1), rs("r2", 0, revision=2,
                                                           status_replicas=0, generation=3,
                                                           observed=2),
            rs("r3", 0, revision=3, status_replicas=0)]
    assert history.replica_sets_to_clean_up(busy, d) == []
    assert history.replica_sets_to_clean_up(olds, deployment(revisionHistoryLimit=5)) == []


def test_rollback_annotation():
    d = deployment()
    assert history.rollback_to(d) is None
    d["metadata"]["annotations"] = {"deprecated.deployment.rollback.to": "3"}
    assert history.rollback_to(d) == 3
    history.set_rollback_to(d, None)
    assert history.rollback_to(d) is None


# -- status and progress -------------------------------------------------------------------


def test_calculate_status_counts_and_availability():
    d = deployment(replicas=4, surge=1, unavailable=1)
    old = rs("old", 1, available=1)
    new = rs("new", 4, available=2)
    status = sync.calculate_status([old, new], new, d, rfc3339(T0))
    assert {k: v for k, v in status.items() if k != "conditions"} == {
        "observedGeneration": 1, "replicas": 5, "updatedReplicas": 4, "readyReplicas": 3,
        "availableReplicas": 3, "unavailableReplicas": 2}
    (cond,) = status["conditions"]
    assert (cond["type"], cond["status"], cond["reason"], cond["message"]) == (
        "Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability.")
    low = sync.calculate_status([rs("new", 4, available=2)], None, d, rfc3339(T0))
    assert low["conditions"][0]["reason"] == "MinimumReplicasUnavailable"
    assert low["conditions"][0]["message"] == "Deployment does not have minimum availability."
    assert "updatedReplicas" not in low


def _progressing(reason, status="True", at=T0):
    return {"type": "Progressing", "status": status, "reason": reason, "message": "m",
            "lastUpdateTime": rfc3339(at), "lastTransitionTime": rfc3339(at)}


def test_rollout_status_progress_complete_and_timeout():
    new = rs("web-abc", 3, available=1)
    d = deployment(replicas=3, status={"conditions": [_progressing("NewReplicaSetCreated")],
                                       "observedGeneration": 1})
    st1 = progress.rollout_status(d, [new], new, T0 + 5, rfc3339(T0 + 5), timestamp)
    cond = [c for c in st1["conditions"] if c["type"] == "Progressing"][0]
    assert (cond["reason"], cond["message"]) == ("ReplicaSetUpdated",
                                                 'ReplicaSet "web-abc" is progressing.')
    assert cond["lastTransitionTime"] == rfc3339(T0) and cond["lastUpdateTime"] == rfc3339(T0 + 5)
    d["status"] = st1
    same = progress.rollout_status(d, [new], new, T0 + 100, rfc3339(T0 + 100), timestamp)
    assert same == st1  # no progress, deadline not reached
    assert progress.stuck_requeue(d, same, T0 + 100, timestamp) == pytest.approx(506)
    late = progress.rollout_status(d, [new], new, T0 + 606, rfc3339(T0 + 606), timestamp)
    cond = [c for c in late["conditions"] if c["type"] == "Progressing"][0]
    assert (cond["status"], cond["reason"], cond["message"]) == (
        "False", "ProgressDeadlineExceeded", 'ReplicaSet "web-abc" has timed out progressing.')
    done = rs("web-abc", 3)
    fin = progress.rollout_status(d, [done], done, T0 + 7, rfc3339(T0 + 7), timestamp)
    cond = [c for c in fin["conditions"] if c["type"] == "Progressing"][0]
    assert (cond["reason"], cond["message"]) == (
        "NewReplicaSetAvailable", 'ReplicaSet "web-abc" has successfully progressed.')
    d["status"] = fin
    assert progress.stuck_requeue(d, fin, T0 + 8, timestamp) is None


def test_timed_out_is_strictly_after_the_deadline():
    d = deployment(progressDeadlineSeconds=60)
    st1 = {"conditions": [_progressing("ReplicaSetUpdated")]}
    assert not deployment_timed_out(d, st1, T0 + 60, timestamp)
    assert deployment_timed_out(d, st1, T0 + 60.5, timestamp)
    assert not deployment_timed_out(deployment(progressDeadlineSeconds=2 ** 31 - 1), st1,
                                    T0 + 10 ** 6, timestamp)


def test_replica_failure_is_promoted_from_the_new_replica_set():
    failing = rs("new", 3, available=0)
    failing["status"]["conditions"] = [{"type": "ReplicaFailure", "status": "True",
                                        "reason": "FailedCreate", "message": "quota",
                                        "lastTransitionTime": rfc3339(T0)}]
    d = deployment(replicas=3)
    st1 = progress.rollout_status(d, [failing], failing, T0, rfc3339(T0), timestamp)
    cond = [c for c in st1["conditions"] if c["type"] == "ReplicaFailure"][0]
    assert (cond["reason"], cond["message"], cond["lastUpdateTime"]) == (
        "FailedCreate", "quota", rfc3339(T0))
