"""list and watch: selectors, paging over one snapshot, resourceVersion semantics, 410s."""

import pytest

import fakekube
from fakekube.testing.builders import configmap, pod


@pytest.fixture
def pods(cluster):
    for i in range(6):
        cluster.create(pod(f"p{i}", labels={"app": "web" if i % 2 else "db", "i": str(i)},
                           node=f"n{i % 3}"))
    return cluster


def names(lst):
    return [o["metadata"]["name"] for o in lst["items"]]


def test_list_is_sorted_and_selectable(pods):
    assert names(pods.list("Pod")) == [f"p{i}" for i in range(6)]
    assert names(pods.list("Pod", label_selector="app=web")) == ["p1", "p3", "p5"]
    assert names(pods.list("Pod", label_selector="app in (web,db),i notin (1,2)")) == [
        "p0", "p3", "p4", "p5"]
    assert names(pods.list("Pod", label_selector="!app")) == []
    assert names(pods.list("Pod", field_selector="spec.nodeName=n1")) == ["p1", "p4"]
    assert names(pods.list("Pod", field_selector="spec.nodeName!=n1,metadata.name!=p0")) == [
        "p2", "p3", "p5"]
    assert names(pods.list("Pod", label_selector={"matchLabels": {"app": "db"}})) == [
        "p0", "p2", "p4"]
    assert pods.list("Pod", namespace="kube-system")["items"] == []


def test_list_shape(pods):
    lst = pods.list("Pod", namespace="default")
    assert lst["apiVersion"] == "v1" and lst["kind"] == "PodList"
    assert lst["metadata"] == {"resourceVersion": str(pods.store.rv)}


def test_bad_selectors_are_400(pods):
    with pytest.raises(fakekube.BadRequest):
        pods.list("Pod", label_selector="app in (web")
    with pytest.raises(fakekube.BadRequest) as e:
        pods.list("Pod", field_selector="spec.frob=1")
    assert e.value.message == "field label not supported: spec.frob"
    with pytest.raises(fakekube.BadRequest) as e:
        pods.list("ConfigMap", field_selector="data.x=1")
    assert e.value.message == ('"data.x" is not a known field selector: only "metadata.name", '
                               '"metadata.namespace"')


def test_kr8s_style_field_selectors_are_tolerated(pods):
    assert names(pods.list("Pod", field_selector="metadata.name=p2,metadata.name=p2")) == ["p2"]
    assert names(pods.list("Pod", field_selector="metadata.name=p2,")) == ["p2"]


def test_paging_is_one_consistent_snapshot(pods):
    first = pods.list("Pod", limit=2)
    assert names(first) == ["p0", "p1"]
    token = first["metadata"]["continue"]
    assert first["metadata"]["remainingItemCount"] == 4
    pods.delete("Pod", "p2", grace_period_seconds=0)
    pods.create(pod("p25"))
    second = pods.list("Pod", limit=3, continue_=token)
    assert names(second) == ["p2", "p3", "p4"]
    assert second["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]
    third = pods.list("Pod", limit=3, continue_=second["metadata"]["continue"])
    assert names(third) == ["p5"] and "continue" not in third["metadata"]


def test_expired_continue_token(cluster):
    c = fakekube.Cluster(nodes=0, event_history=20)
    for i in range(5):
        c.create(configmap(f"c{i}"))
    token = c.list("ConfigMap", limit=2)["metadata"]["continue"]
    for i in range(30):
        c.patch("ConfigMap", "c4", {"data": {"i": str(i)}})
    with pytest.raises(fakekube.Expired) as e:
        c.list("ConfigMap", continue_=token)
    assert e.value.code == 410
    assert e.value.message.startswith("The provided continue parameter is too old")


def test_list_resource_version_semantics(pods):
    rv = pods.store.rv
    pods.create(pod("late"))
    exact = pods.list("Pod", resource_version=str(rv), resource_version_match="Exact")
    assert "late" not in names(exact)
    assert exact["metadata"]["resourceVersion"] == str(rv)
    assert "late" in names(pods.list("Pod", resource_version="0"))
    with pytest.raises(fakekube.Timeout) as e:
        pods.list("Pod", resource_version=str(pods.store.rv + 10))
    assert e.value.code == 504
    assert e.value.message == f"Too large resource version: {pods.store.rv + 10}, current: {pods.store.rv}"
    with pytest.raises(fakekube.Invalid) as e:
        pods.list("Pod", resource_version_match="Exact")
    assert "resourceVersionMatch is forbidden unless resourceVersion is provided" in e.value.message
    with pytest.raises(fakekube.ApiError) as e:
        pods.list("Pod", resource_version="abc")
    assert e.value.code == 500


def test_watch_without_rv_starts_with_current_objects(pods):
    w = pods.watch("Pod", label_selector="app=web")
    assert [(t, o["metadata"]["name"]) for t, o in w] == [("ADDED", "p1"), ("ADDED", "p3"),
                                                          ("ADDED", "p5")]
    pods.create(pod("p7", labels={"app": "web"}))
    pods.create(pod("p8", labels={"app": "db"}))
    assert [(t, o["metadata"]["name"]) for t, o in w] == [("ADDED", "p7")]


def test_watch_from_rv_replays_and_follows_selector_transitions(cluster):
    cluster.create(configmap("a", labels={"tier": "x"}))
    rv = cluster.list("ConfigMap")["metadata"]["resourceVersion"]
    w = cluster.watch("ConfigMap", resource_version=rv, label_selector="tier=x")
    cluster.patch("ConfigMap", "a", {"metadata": {"labels": {"tier": "y"}}})
    cluster.create(configmap("b"))
    cluster.patch("ConfigMap", "b", {"metadata": {"labels": {"tier": "x"}}})
    cluster.delete("ConfigMap", "b")
    evs = [(t, o["metadata"]["name"]) for t, o in w]
    assert evs == [("DELETED", "a"), ("ADDED", "b"), ("DELETED", "b")]
    last_rv = int(cluster.store.rv)
    assert int(w.resource_version) == last_rv


def test_watch_deleted_event_carries_a_new_resource_version(cluster):
    made = cluster.create(configmap("a"))
    w = cluster.watch("ConfigMap", resource_version=made["metadata"]["resourceVersion"])
    cluster.delete("ConfigMap", "a")
    [(t, o)] = list(w)
    assert t == "DELETED"
    assert int(o["metadata"]["resourceVersion"]) > int(made["metadata"]["resourceVersion"])


def test_compacted_resource_version_gives_one_410_error_and_closes():
    c = fakekube.Cluster(nodes=0, event_history=10)
    c.create(configmap("a"))
    old_rv = c.list("ConfigMap")["metadata"]["resourceVersion"]
    for i in range(20):
        c.patch("ConfigMap", "a", {"data": {"i": str(i)}})
    w = c.watch("ConfigMap", resource_version=old_rv)
    evs = list(w)
    assert len(evs) == 1
    t, status = evs[0]
    assert t == "ERROR"
    assert status["code"] == 410 and status["reason"] == "Expired"
    assert status["message"].startswith(f"too old resource version: {old_rv} (")
    assert w.closed


def test_bookmarks_only_when_asked(cluster):
    cluster.create(configmap("a"))
    w = cluster.watch("Pod", allow_bookmarks=True, resource_version="1")
    cluster.create(pod("p"))
    cluster.create(configmap("b"))
    evs = list(w)
    assert [t for t, _ in evs] == ["ADDED", "BOOKMARK"]
    assert evs[-1][1]["metadata"]["resourceVersion"] == str(cluster.store.rv)
    w2 = cluster.watch("Pod", resource_version="1")
    cluster.create(configmap("c"))
    assert [t for t, _ in w2] == ["ADDED"]


def test_watch_list_ends_initial_events_with_a_bookmark(pods):
    w = pods.watch("Pod", label_selector="app=db", allow_bookmarks=True, send_initial_events=True)
    evs = list(w)
    assert [t for t, _ in evs] == ["ADDED", "ADDED", "ADDED", "BOOKMARK"]
    assert evs[-1][1]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}


def test_a_slow_watcher_loses_nothing(cluster):
    w = cluster.watch("ConfigMap", resource_version=str(cluster.store.rv))
    for i in range(5000):
        cluster.create(configmap(f"c{i}"))
    evs = list(w)
    assert len(evs) == 5000
    rvs = [int(o["metadata"]["resourceVersion"]) for _, o in evs]
    assert rvs == sorted(rvs) and len(set(rvs)) == 5000


def test_closed_watch_stops(cluster):
    w = cluster.watch("ConfigMap")
    w.close()
    cluster.create(configmap("a"))
    assert list(w) == []
