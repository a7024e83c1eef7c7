"""Properties of the store and the API layer that hold for all operation sequences."""

from hypothesis import given, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

import fakekube
from fakekube.api.objects import deep_copy
from fakekube.testing.builders import configmap

NAMES = st.sampled_from([f"o{i}" for i in range(6)])
LABELS = st.dictionaries(st.sampled_from(["app", "tier", "x"]), st.sampled_from(["a", "b"]),
                         max_size=2)

op = st.one_of(
    st.tuples(st.just("create"), NAMES, LABELS),
    st.tuples(st.just("label"), NAMES, LABELS),
    st.tuples(st.just("data"), NAMES, st.text(max_size=3)),
    st.tuples(st.just("delete"), NAMES, st.none()),
)


def apply_op(c, o):
    kind, name, arg = o
    try:
        if kind == "create":
            c.create(configmap(name, labels=arg))
        elif kind == "label":
            c.patch("ConfigMap", name, {"metadata": {"labels": arg or None}})
        elif kind == "data":
            c.patch("ConfigMap", name, {"data": {"k": arg}})
        else:
            c.delete("ConfigMap", name)
    except (fakekube.NotFound, fakekube.AlreadyExists):
        pass


@settings(max_examples=60)
@given(st.lists(op, max_size=25), st.lists(op, max_size=25))
def test_watch_replay_from_any_retained_rv_reproduces_the_changes_after_it(before, after):
    c = fakekube.Cluster(nodes=0)
    for o in before:
        apply_op(c, o)
    start = c.list("ConfigMap")
    state = {o["metadata"]["name"]: o for o in start["items"]}
    w = c.watch("ConfigMap", resource_version=start["metadata"]["resourceVersion"])
    for o in after:
        apply_op(c, o)
    last = int(start["metadata"]["resourceVersion"])
    for t, obj in w:
        rv = int(obj["metadata"]["resourceVersion"])
        assert rv > last  # strictly increasing
        last = rv
        if t == "DELETED":
            del state[obj["metadata"]["name"]]
        else:
            state[obj["metadata"]["name"]] = obj
    now = {o["metadata"]["name"]: o for o in c.list("ConfigMap")["items"]}
    assert state == now


@settings(max_examples=60)
@given(st.lists(op, max_size=30))
def test_nothing_returned_by_the_api_aliases_stored_state(ops):
    c = fakekube.Cluster(nodes=0)
    handed_out = []
    for o in ops:
        apply_op(c, o)
        handed_out.append(c.list("ConfigMap"))
    snapshot = deep_copy(c.list("ConfigMap"))
    for lst in handed_out:  # vandalize everything we were given
        for item in lst["items"]:
            item["metadata"]["labels"] = {"vandal": "yes"}
            item["data"] = {"evil": "1"}
            item["metadata"]["name"] = "renamed"
    assert c.list("ConfigMap") == snapshot


class StoreIndexes(RuleBasedStateMachine):
    """Random writes never leave the store's indexes disagreeing with its objects."""

    def __init__(self):
        super().__init__()
        self.c = fakekube.Cluster(nodes=0)

    @rule(o=op)
    def write(self, o):
        apply_op(self.c, o)

    @rule(name=NAMES, labels=LABELS)
    def create_pod(self, name, labels):
        try:
            self.c.create({"apiVersion": "v1", "kind": "Pod",
                           "metadata": {"name": name, "labels": labels,
                                        "ownerReferences": [{"apiVersion": "v1",
                                                             "kind": "ConfigMap", "name": "o1",
                                                             "uid": "u-1"}]},
                           "spec": {"nodeName": name[-1], "containers": [
                               {"name": "c", "image": "busybox"}]}})
        except fakekube.AlreadyExists:
            pass

    @invariant()
    def indexes_agree(self):
        for table in self.c.store.tables.values():
            objs = table.objects
            assert list(table.keys) == sorted(objs)
            labels = {}
            owners = {}
            for key, obj in objs.items():
                m = obj["metadata"]
                for k, v in (m.get("labels") or {}).items():
                    labels.setdefault((k, v), set()).add(key)
                for ref in m.get("ownerReferences") or ():
                    owners.setdefault(ref["uid"], set()).add(key)
            assert table.labels == labels
            assert table.owners == owners
            for field, getter in table.field_getters.items():
                idx = {}
                for key, obj in objs.items():
                    idx.setdefault(getter(obj), set()).add(key)
                assert table.fields[field] == idx

    @invariant()
    def resource_versions_are_unique_and_below_the_counter(self):
        seen = set()
        for table in self.c.store.tables.values():
            for obj in table.objects.values():
                rv = int(obj["metadata"]["resourceVersion"])
                assert rv <= self.c.store.rv and rv not in seen
                seen.add(rv)


TestStoreIndexes = StoreIndexes.TestCase
TestStoreIndexes.settings = settings(max_examples=40, stateful_step_count=30, deadline=None)
