"""Hypothesis strategies for valid Kubernetes manifests, node layouts and operation sequences.

This module owns the generators a property test draws its world from:

- building blocks: :func:`dns_labels`, :func:`dns_subdomains`, :func:`label_keys`,
  :func:`label_values`, :func:`labels`, :func:`images`, :func:`port_names`,
  :func:`container_ports`, :func:`resources`, :func:`env_vars`, :func:`containers`,
  :func:`pod_specs`;
- objects in wire format that the API server accepts (and so would real Kubernetes v1.31):
  :func:`pods`, :func:`services`, :func:`claim_templates`, :func:`statefulsets`,
  :func:`deployments`;
- the ``nodes`` argument of :class:`fakekube.Cluster`: :func:`node_layouts`;
- consistent bundles: :func:`applications` (a headless Service and the StatefulSet that names
  it, or a ClusterIP Service in front of a Deployment) and :func:`application_lists`;
- what happens to them: :func:`operations` draws lists of operation records (plain tuples,
  see :data:`OPERATIONS`) and :func:`run_operation` applies one to a cluster, skipping what
  cannot apply (a missing object, no node to act on) instead of failing.

Every strategy is built from Hypothesis primitives (no ``filter`` that rejects often, no
regex generation; the strategies drawn inside others are built once), so it is deterministic
under Hypothesis's seed, cheap, and shrinks toward the simplest manifest: optional fields
to absent, names to ``web``, replicas to the lower bound. Each draw returns fresh dicts that
the test may mutate.

The rules the strategies respect are upstream's validation, v1.31:
``kubernetes/kubernetes:staging/src/k8s.io/apimachinery/pkg/util/validation/validation.go``
(DNS labels and subdomains, qualified names, label values, IANA port names, C identifiers),
``kubernetes/kubernetes:pkg/apis/core/validation/validation.go`` (containers, ports,
resources with limits >= requests, env, tolerations, node affinity, Services),
``kubernetes/kubernetes:pkg/apis/apps/validation/validation.go`` (StatefulSet and Deployment
specs: selector matches template labels, partition >= 0, maxSurge / maxUnavailable not both
zero, progressDeadlineSeconds > minReadySeconds) and
``kubernetes/kubernetes:pkg/apis/apps/v1/defaults.go`` for what may be left out.

Example::

    from hypothesis import given
    from fakekube import Cluster
    from fakekube.testing import invariants, strategies as kst

    @given(app=kst.applications(kinds=["StatefulSet"], min_replicas=1))
    def test_sets_come_up(app):
        cluster = Cluster(nodes=3, zones=["a", "b", "c"])
        cluster.apply(app.manifests)
        cluster.settle()
        invariants.statefulset_ordinals(cluster, app.name)
"""

from __future__ import annotations

import functools
import string
from typing import Any, Callable, Sequence

import attrs
from hypothesis import strategies as st

from .. import errors

__all__ = [
    "APP_LABEL", "IMAGES", "OPERATIONS", "Application",
    "dns_labels", "dns_subdomains", "label_keys", "label_values", "labels", "images",
    "port_names", "container_ports", "resources", "env_vars", "containers", "pod_specs",
    "pods", "services", "claim_templates", "statefulsets", "deployments",
    "deployment_strategies", "node_layouts", "node_labels", "applications",
    "application_lists", "operation", "operations", "run_operation",
]

SearchStrategy = st.SearchStrategy

#: The label key a workload's selector is built on (``app: <name>``). :func:`labels` never
#: draws it, so generated standalone pods are never adopted by a generated workload.
APP_LABEL = "app"

#: A small pool of realistic image references (tags, registries, a digest).
IMAGES: tuple[str, ...] = (
    "nginx:1.27",
    "busybox:1.36",
    "redis:7.2",
    "postgres:16.4",
    "nginx:1.27-alpine",
    "registry.k8s.io/pause:3.9",
    "docker.io/library/alpine:3.20",
    "ghcr.io/example/app:v1.2.3",
    "quay.io/prometheus/node-exporter:v1.8.2",
    "nginx@sha256:" + "4c0fdaa8b6341bfdeca5f18f7837462c80cff90527ee35ef185571e1c327beac",
)

#: Operation records :func:`operations` draws and :func:`run_operation` applies.
OPERATIONS: dict[str, str] = {
    "settle": '("settle",): cluster.settle()',
    "advance": '("advance", seconds): cluster.advance(seconds)',
    "scale": '("scale", kind, name, replicas): the scale subresource',
    "update_image": '("update_image", kind, name, image): the first container\'s image in '
                    "the pod template (a rollout)",
    "partition": '("partition", name, n): a StatefulSet\'s RollingUpdate partition',
    "delete_pod": '("delete_pod", kind, name, index): delete the index-th pod of the '
                  "workload (modulo their count; by ordinal for a StatefulSet)",
    "force_delete": '("force_delete", kind, name, index): delete with grace period 0 the '
                    "index-th pod of the workload, terminating pods first",
    "fail_node": '("fail_node", index): the index-th live node (sorted by name) fails',
    "restore_node": '("restore_node", index): the index-th failed node comes back',
    "remove_node": '("remove_node", index): delete the index-th node, failed nodes first',
    "add_node": '("add_node", zone): add node node-<k> (the first free k) in zone',
}

_LOWER = string.ascii_lowercase
_DIGITS = string.digits
_ALNUM_LOWER = _LOWER + _DIGITS
_ALNUM = string.ascii_letters + _DIGITS

_COMMON_NAMES = ("web", "db", "api", "cache", "redis", "queue", "worker", "frontend",
                 "backend", "zk", "kafka", "etcd")
_LABEL_PREFIXES = ("example.com", "app.example.com", "acme.io", "team.example.org")
_LABEL_KEY_POOL = ("tier", "team", "env", "version", "component", "track",
                   "example.com/owner", "acme.io/cost-center")
_LABEL_VALUE_POOL = ("", "true", "v1", "prod", "blue", "frontend", "2024-01")
#: Keys the controllers set on pods themselves, or that workload selectors use.
_RESERVED_LABEL_KEYS = frozenset({APP_LABEL, "pod-template-hash", "controller-revision-hash",
                                  "statefulset.kubernetes.io/pod-name",
                                  "apps.kubernetes.io/pod-index"})
_PORT_NAME_POOL = ("http", "web", "grpc", "metrics", "admin", "peer", "client", "https")
_PORT_NUMBER_POOL = (80, 8080, 443, 9090, 5432, 6379, 2379, 8443, 53)
_ENV_NAME_POOL = ("LOG_LEVEL", "PORT", "MODE", "DATA_DIR", "JAVA_OPTS")
_ENV_VALUE_ALPHABET = string.ascii_letters + _DIGITS + " -_./:=,"
_ENV_FIELD_PATHS = ("metadata.name", "metadata.namespace", "status.podIP", "spec.nodeName")
_CLAIM_NAME_POOL = ("data", "www", "logs", "wal", "state")
_EMPTYDIR_NAMES = ("scratch", "cache", "tmp", "run")
_ABSENT_KEY = "fakekube.example/absent"
#: Labels every fakekube node carries, whatever its description.
_UNIVERSAL_NODE_LABELS = {"kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
                          "beta.kubernetes.io/os": "linux", "beta.kubernetes.io/arch": "amd64"}
_ZONE = "topology.kubernetes.io/zone"
_REGION = "topology.kubernetes.io/region"
_HOSTNAME = "kubernetes.io/hostname"
_SCHEDULING_MODES = ("none", "satisfiable", "any")


def _maybe(strategy: SearchStrategy) -> SearchStrategy:
    """``None`` (the field is left out; shrinks there) or a value of ``strategy``."""
    return st.one_of(st.none(), strategy)


def _maybe_of(*values: Any) -> SearchStrategy:
    """``None`` or one of ``values`` (the first is the simplest)."""
    return _maybe(st.sampled_from(values))


def _put(d: dict, key: str, value: Any) -> None:
    """Set ``d[key]`` unless the drawn value is ``None`` or empty (an absent field)."""
    if value is not None and value != {} and value != []:
        d[key] = value


def _meta(name: str, namespace: str | None, labels_: dict | None = None) -> dict:
    meta: dict[str, Any] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    if labels_:
        meta["labels"] = dict(labels_)
    return meta


# Strategies drawn over and over inside the composites below are built once: building a
# strategy costs far more than drawing from it.
_BOOL = st.booleans()
_INT_0_2 = st.integers(0, 2)
_INT_1_2 = st.integers(1, 2)
_WEIGHT = st.integers(1, 100)
_TOPOLOGY_KEYS = st.sampled_from((_HOSTNAME, _ZONE))
_SPREAD_KEYS = st.sampled_from((_ZONE, _HOSTNAME))

# --------------------------------------------------------------------------------------------
# Names and labels


def _join_label(head: str, rest: str) -> str:
    return head + rest.rstrip("-")


@functools.lru_cache(maxsize=None)
def dns_labels(max_size: int = 20) -> SearchStrategy[str]:
    """DNS-1123 labels that start with a letter, so they are also DNS-1035 labels (what a
    Service name must be): lower-case alphanumerics and ``-``, at most ``max_size`` (<= 63)
    characters. Common workload names (``web``, ``db``, ...) come first when shrinking.

    >>> dns_labels(12).example()  # doctest: +SKIP
    'web'
    """
    if not 1 <= max_size <= 63:
        raise ValueError("a DNS-1123 label has 1 to 63 characters")
    generated = st.builds(_join_label, st.sampled_from(_LOWER),
                          st.text(_ALNUM_LOWER + "-", max_size=max_size - 1))
    pool = [n for n in _COMMON_NAMES if len(n) <= max_size]
    return st.one_of(st.sampled_from(pool), generated) if pool else generated


@functools.lru_cache(maxsize=None)
def dns_subdomains(max_size: int = 63) -> SearchStrategy[str]:
    """DNS-1123 subdomains: one to three dot-separated :func:`dns_labels`, at most
    ``max_size`` (5 to 253) characters in all.

    >>> dns_subdomains().example()  # doctest: +SKIP
    'web.example'
    """
    if not 5 <= max_size <= 253:
        raise ValueError("dns_subdomains takes max_size between 5 and 253")
    part = min(63, (max_size - 2) // 3)
    return st.lists(dns_labels(part), min_size=1, max_size=3).map(".".join)


@functools.lru_cache(maxsize=None)
def _name_part(max_size: int) -> SearchStrategy[str]:
    """The name part of a qualified name (and a non-empty label value): alphanumerics at
    both ends, ``-``, ``_`` and ``.`` between."""
    return st.builds(lambda h, r: h + r.rstrip("-_."), st.sampled_from(_ALNUM),
                     st.text(_ALNUM + "-_.", max_size=max_size - 1))


def _prefixed(prefix: str | None, name: str) -> str:
    return f"{prefix}/{name}" if prefix else name


@functools.lru_cache(maxsize=None)
def label_keys() -> SearchStrategy[str]:
    """Label keys (qualified names): an optional DNS-subdomain prefix from a small pool and a
    name of at most 20 characters. Never :data:`APP_LABEL`, a key the controllers set on
    pods (``pod-template-hash``, ``controller-revision-hash``, ...), or a ``kubernetes.io``
    key.

    >>> label_keys().example()  # doctest: +SKIP
    'example.com/owner'
    """
    generated = st.builds(_prefixed, _maybe_of(*_LABEL_PREFIXES), _name_part(20))
    return st.one_of(st.sampled_from(_LABEL_KEY_POOL), generated).filter(
        lambda k: k not in _RESERVED_LABEL_KEYS)


@functools.lru_cache(maxsize=None)
def label_values(max_size: int = 20) -> SearchStrategy[str]:
    """Label values: empty, or alphanumerics at both ends with ``-_.`` between, at most
    ``max_size`` (<= 63) characters.

    >>> label_values().example()  # doctest: +SKIP
    'prod'
    """
    if not 1 <= max_size <= 63:
        raise ValueError("a label value has at most 63 characters")
    return st.one_of(st.sampled_from(_LABEL_VALUE_POOL), _name_part(max_size))


@functools.lru_cache(maxsize=None)
def labels(min_size: int = 0, max_size: int = 3) -> SearchStrategy[dict[str, str]]:
    """Label maps of :func:`label_keys` to :func:`label_values` (never :data:`APP_LABEL`).

    >>> labels(max_size=2).example()  # doctest: +SKIP
    {'tier': 'frontend'}
    """
    return st.dictionaries(label_keys(), label_values(), min_size=min_size, max_size=max_size)


_label_maps = labels  # for functions whose ``labels`` parameter hides the strategy

# --------------------------------------------------------------------------------------------
# Containers


@functools.lru_cache(maxsize=None)
def _images(pool: tuple[str, ...]) -> SearchStrategy[str]:
    return st.sampled_from(pool)


def images(pool: Sequence[str] = IMAGES) -> SearchStrategy[str]:
    """An image reference from ``pool`` (default :data:`IMAGES`); shrinks to the first.

    >>> images().example()  # doctest: +SKIP
    'redis:7.2'
    """
    return _images(tuple(pool))


@functools.lru_cache(maxsize=None)
def port_names() -> SearchStrategy[str]:
    """IANA service names, as a named container port must be: at most 15 lower-case
    alphanumerics and single inner hyphens, with at least one letter.

    >>> port_names().example()  # doctest: +SKIP
    'metrics'
    """
    word = st.builds(lambda h, r: h + r, st.sampled_from(_LOWER),
                     st.text(_ALNUM_LOWER, max_size=6))
    generated = st.builds(lambda a, b: f"{a}-{b}" if b else a, word,
                          _maybe(st.text(_ALNUM_LOWER, min_size=1, max_size=6)))
    return st.one_of(st.sampled_from(_PORT_NAME_POOL), generated)


def _port(name: str, number: int, protocol: str | None) -> dict:
    p: dict[str, Any] = {"name": name, "containerPort": number}
    _put(p, "protocol", protocol)
    return p


def _port_key(p: dict) -> tuple[int, str]:
    return (p["containerPort"], p.get("protocol", "TCP"))


@functools.lru_cache(maxsize=None)
def container_ports(min_size: int = 0, max_size: int = 3) -> SearchStrategy[list[dict]]:
    """Lists of named container ports (TCP, or UDP), names and (port, protocol) unique.

    >>> container_ports(1, 2).example()  # doctest: +SKIP
    [{'name': 'http', 'containerPort': 80}]
    """
    one = st.builds(_port, port_names(),
                    st.one_of(st.sampled_from(_PORT_NUMBER_POOL), st.integers(1024, 65535)),
                    _maybe_of("TCP", "UDP"))
    return st.lists(one, min_size=min_size, max_size=max_size,
                    unique_by=(lambda p: p["name"], _port_key))


def _cpu(millis: int) -> str:
    return f"{millis // 1000}" if millis % 1000 == 0 else f"{millis}m"


def _memory(mib: int) -> str:
    return f"{mib // 1024}Gi" if mib % 1024 == 0 else f"{mib}Mi"


_RESOURCE_SHAPES = st.sampled_from(("none", "requests", "both", "limits"))
_RESOURCE_NAMES = st.sampled_from((("cpu",), ("cpu", "memory"), ("memory",)))
_RESOURCE_BASES = {"cpu": (st.sampled_from((100, 50, 250, 10, 500)), _cpu),
                   "memory": (st.sampled_from((64, 128, 32, 256, 16)), _memory)}
_LIMIT_FACTORS = st.sampled_from((1, 2, 4))


def _draw_resources(draw: st.DrawFn) -> dict:
    shape = draw(_RESOURCE_SHAPES)
    if shape == "none":
        return {}
    requests: dict[str, str] = {}
    limits: dict[str, str] = {}
    for name in draw(_RESOURCE_NAMES):
        base_strategy, fmt = _RESOURCE_BASES[name]
        base = draw(base_strategy)
        if shape in ("requests", "both"):
            requests[name] = fmt(base)
        if shape == "both":
            limits[name] = fmt(base * draw(_LIMIT_FACTORS))
        elif shape == "limits":
            limits[name] = fmt(base)
    out: dict[str, Any] = {}
    _put(out, "requests", requests)
    _put(out, "limits", limits)
    return out


_RESOURCES = st.composite(_draw_resources)()


def resources() -> SearchStrategy[dict]:
    """Container ``resources``: nothing, requests, limits, or both with every limit >= its
    request. A container requests at most 500m CPU and 256Mi memory, so a few replicas of a
    few applications fit on fakekube's default nodes (4 CPU, 8Gi).

    >>> resources().example()  # doctest: +SKIP
    {'requests': {'cpu': '100m'}, 'limits': {'cpu': '200m'}}
    """
    return _RESOURCES


@functools.lru_cache(maxsize=None)
def env_vars(max_size: int = 3) -> SearchStrategy[list[dict]]:
    """Container ``env`` lists, names unique C identifiers: literal values, or the downward
    API (``valueFrom.fieldRef``: the pod's name, namespace, IP or node).

    >>> env_vars().example()  # doctest: +SKIP
    [{'name': 'LOG_LEVEL', 'value': 'debug'}]
    """
    generated = st.builds(lambda h, r: h + r, st.sampled_from(string.ascii_uppercase + "_"),
                          st.text(string.ascii_uppercase + _DIGITS + "_", max_size=10))
    names = st.one_of(st.sampled_from(_ENV_NAME_POOL), generated)
    literal = st.builds(lambda n, v: {"name": n, "value": v}, names,
                        st.text(_ENV_VALUE_ALPHABET, max_size=16))
    field = st.builds(lambda n, p: {"name": n, "valueFrom": {"fieldRef": {"fieldPath": p}}},
                      names, st.sampled_from(_ENV_FIELD_PATHS))
    return st.lists(st.one_of(literal, field), max_size=max_size, unique_by=lambda e: e["name"])


_PROBE_PERIODS = _maybe_of(10, 5, 1)
_PROBE_DELAYS = _maybe_of(0, 5)
_ARGS = _maybe(st.lists(st.sampled_from(("--verbose", "--port=8080", "serve",
                                         "--config=/etc/app.yaml")), min_size=1, max_size=2))
_PULL_POLICIES = _maybe_of("IfNotPresent", "Always")


def _draw_probe(draw: st.DrawFn, ports: list[dict]) -> dict:
    tcp = [p for p in ports if p.get("protocol", "TCP") == "TCP"]
    if tcp and draw(_BOOL):
        probe: dict[str, Any] = {"httpGet": {"path": "/healthz", "port": tcp[0]["name"]}}
    elif tcp and draw(_BOOL):
        probe = {"tcpSocket": {"port": tcp[0]["containerPort"]}}
    else:
        probe = {"exec": {"command": ["true"]}}
    _put(probe, "periodSeconds", draw(_PROBE_PERIODS))
    _put(probe, "initialDelaySeconds", draw(_PROBE_DELAYS))
    return probe


def _draw_container(draw: st.DrawFn, name: str, ports: list[dict], mounts: list[dict],
                    image_pool: SearchStrategy[str]) -> dict:
    c: dict[str, Any] = {"name": name, "image": draw(image_pool)}
    _put(c, "ports", ports)
    _put(c, "resources", draw(_RESOURCES))
    _put(c, "env", draw(env_vars()))
    _put(c, "args", draw(_ARGS))
    _put(c, "imagePullPolicy", draw(_PULL_POLICIES))
    if draw(_BOOL):
        c["readinessProbe"] = _draw_probe(draw, ports)
    _put(c, "volumeMounts", mounts)
    return c


@st.composite
def containers(draw: st.DrawFn, name: SearchStrategy[str] | None = None,
               min_ports: int = 0, max_ports: int = 2,
               image_pool: Sequence[str] = IMAGES) -> dict:
    """One container: a DNS-label name (or one from ``name``), an image from
    ``image_pool``, named :func:`container_ports`, :func:`resources`, :func:`env_vars`, and
    optionally args, an imagePullPolicy and a readiness probe (on one of its own ports).

    >>> containers().example()  # doctest: +SKIP
    {'name': 'web', 'image': 'nginx:1.27', 'ports': [{'name': 'http', 'containerPort': 80}]}
    """
    cname = draw(name if name is not None else dns_labels(15))
    ports = draw(container_ports(min_ports, max_ports))
    return _draw_container(draw, cname, ports, [], images(image_pool))


# --------------------------------------------------------------------------------------------
# Scheduling constraints


def node_labels(node: dict | str) -> dict[str, str]:
    """The labels a fakekube Node built from this description (an entry of the ``nodes``
    argument of :class:`fakekube.Cluster`, or a bare name) carries.

    >>> node_labels({"name": "n1", "zone": "a"})["topology.kubernetes.io/zone"]
    'a'
    """
    if isinstance(node, str):
        node = {"name": node}
    out = dict(_UNIVERSAL_NODE_LABELS)
    out[_HOSTNAME] = node["name"]
    if node.get("zone"):
        out[_ZONE] = str(node["zone"])
    if node.get("region"):
        out[_REGION] = str(node["region"])
    out.update(node.get("labels") or {})
    return out


def _toleration_for(taint: dict, exists: bool) -> dict:
    """A toleration of exactly this taint (operator Exists, or Equal on its value)."""
    tol: dict[str, Any] = {"key": taint["key"]}
    if exists or not taint.get("value"):
        tol["operator"] = "Exists"
    else:
        tol["operator"] = "Equal"
        tol["value"] = taint["value"]
    tol["effect"] = taint["effect"]
    return tol


_TOLERATION_EFFECTS = st.sampled_from(("NoSchedule", "", "PreferNoSchedule", "NoExecute"))
_TOLERATION_SECONDS = st.sampled_from((60, 300, 0))
_EQUAL = _maybe(st.just("Equal"))


def _draw_tolerations(draw: st.DrawFn, seconds: bool) -> list[dict]:
    """0..2 valid tolerations; ``tolerationSeconds`` (NoExecute only) when ``seconds``."""
    out = []
    for _ in range(draw(_INT_0_2)):
        tol: dict[str, Any] = {"key": draw(label_keys())}
        if draw(_BOOL):
            tol["operator"] = "Exists"
        else:
            _put(tol, "operator", draw(_EQUAL))
            tol["value"] = draw(label_values())
        effect = draw(_TOLERATION_EFFECTS)
        _put(tol, "effect", effect or None)
        if seconds and effect == "NoExecute" and draw(_BOOL):
            tol["tolerationSeconds"] = draw(_TOLERATION_SECONDS)
        out.append(tol)
    return out


_TERM_KINDS = st.sampled_from(("In", "Exists", "NotIn", "DoesNotExist"))
_EXTRA_VALUES = st.lists(label_values(), max_size=2)
_SELECTOR_VALUES = st.lists(label_values(), min_size=1, max_size=2, unique=True)


def _draw_required_term(draw: st.DrawFn, target: dict[str, str]) -> dict:
    """A nodeSelectorTerm that a node with labels ``target`` matches."""
    kind = draw(_TERM_KINDS)
    if kind == "DoesNotExist":
        return {"matchExpressions": [{"key": _ABSENT_KEY, "operator": "DoesNotExist"}]}
    key = draw(st.sampled_from(sorted(target)))
    if kind == "In":
        values = list(dict.fromkeys([target[key], *(v for v in draw(_EXTRA_VALUES) if v)]))
        expr: dict[str, Any] = {"key": key, "operator": "In", "values": values}
    elif kind == "NotIn":
        expr = {"key": key, "operator": "NotIn", "values": ["x" if target[key] != "x" else "y"]}
    else:
        expr = {"key": key, "operator": "Exists"}
    return {"matchExpressions": [expr]}


def _draw_any_term(draw: st.DrawFn) -> dict:
    """A valid nodeSelectorTerm (or preference) that may match no node."""
    op = draw(_TERM_KINDS)
    expr: dict[str, Any] = {"key": draw(label_keys()), "operator": op}
    if op in ("In", "NotIn"):
        expr["values"] = draw(_SELECTOR_VALUES)
    return {"matchExpressions": [expr]}


def _draw_scheduling(draw: st.DrawFn, mode: str, nodes: Sequence[dict | str] | None,
                     pod_labels: dict | None) -> dict:
    """The scheduling fields of a pod spec (``nodeSelector``, ``tolerations``,
    ``affinity``, ``topologySpreadConstraints``) for ``mode`` (see :func:`pod_specs`)."""
    spec: dict[str, Any] = {}
    if mode == "none":
        return spec
    satisfiable = mode == "satisfiable"
    target: dict[str, str] = {}
    if satisfiable:
        taints: list[dict] = []
        if nodes:
            node = draw(st.sampled_from(list(nodes)))
            target = node_labels(node)
            if isinstance(node, dict):
                taints = list(node.get("taints") or ())
        else:
            target = dict(_UNIVERSAL_NODE_LABELS)
        if draw(_BOOL):
            keys = sorted(target)
            chosen = draw(st.lists(st.sampled_from(keys), min_size=1, max_size=2, unique=True))
            spec["nodeSelector"] = {k: target[k] for k in chosen}
        # Tolerate the target's taints (no tolerationSeconds: an eviction after N seconds
        # and a return to the same node would never settle), and maybe a few more.
        tolerations = [_toleration_for(t, draw(_BOOL)) for t in taints]
        tolerations += _draw_tolerations(draw, seconds=False)
    else:
        _put(spec, "nodeSelector", draw(labels(max_size=2)))
        tolerations = _draw_tolerations(draw, seconds=True)
    _put(spec, "tolerations", tolerations)

    affinity: dict[str, Any] = {}
    node_affinity: dict[str, Any] = {}
    if draw(_BOOL):
        term = _draw_required_term(draw, target) if satisfiable else _draw_any_term(draw)
        node_affinity["requiredDuringSchedulingIgnoredDuringExecution"] = {
            "nodeSelectorTerms": [term]}
    if draw(_BOOL):
        node_affinity["preferredDuringSchedulingIgnoredDuringExecution"] = [{
            "weight": draw(_WEIGHT), "preference": _draw_any_term(draw)}]
    _put(affinity, "nodeAffinity", node_affinity)
    if draw(_BOOL):
        selector = dict(pod_labels) if pod_labels else draw(labels(min_size=1, max_size=2))
        affinity["podAntiAffinity"] = {"preferredDuringSchedulingIgnoredDuringExecution": [{
            "weight": draw(_WEIGHT),
            "podAffinityTerm": {"labelSelector": {"matchLabels": selector},
                                "topologyKey": draw(_TOPOLOGY_KEYS)}}]}
    if not satisfiable and draw(_BOOL):
        affinity["podAffinity"] = {"requiredDuringSchedulingIgnoredDuringExecution": [{
            "labelSelector": {"matchLabels": draw(labels(min_size=1, max_size=2))},
            "topologyKey": _HOSTNAME}]}
    _put(spec, "affinity", affinity)

    if pod_labels and draw(_BOOL):
        spec["topologySpreadConstraints"] = [{
            "maxSkew": draw(_INT_1_2),
            "topologyKey": draw(_SPREAD_KEYS),
            "whenUnsatisfiable": "ScheduleAnyway" if satisfiable or draw(_BOOL)
            else "DoNotSchedule",
            "labelSelector": {"matchLabels": dict(pod_labels)}}]
    return spec


# --------------------------------------------------------------------------------------------
# Pods


def _check_mode(scheduling: str) -> None:
    if scheduling not in _SCHEDULING_MODES:
        raise ValueError(f"scheduling must be one of {', '.join(_SCHEDULING_MODES)}, not "
                         f"{scheduling!r}")


_EMPTYDIR = _maybe_of(*_EMPTYDIR_NAMES)
_GRACE = _maybe_of(30, 5, 0)
_DNS_POLICIES = _maybe_of("ClusterFirst", "Default")
_FS_GROUPS = st.sampled_from((2000, 1000))


def _draw_pod_spec(draw: st.DrawFn, *, min_containers: int = 1, max_containers: int = 2,
                   min_ports: int = 0, nodes: Sequence[dict | str] | None = None,
                   scheduling: str = "satisfiable", labels: dict | None = None,
                   claim_mounts: Sequence[str] = (),
                   restart_policies: SearchStrategy = st.none(),
                   image_pool: SearchStrategy[str] = _images(IMAGES)) -> dict:
    n = draw(st.integers(min_containers, max_containers))
    names = draw(st.lists(dns_labels(15), min_size=n, max_size=n, unique=True))
    first_ports = draw(container_ports(min_ports, 2))
    more_ports = draw(container_ports(0, 2)) if n > 1 else []
    taken_names = {p["name"] for p in first_ports}
    taken_ports = {_port_key(p) for p in first_ports}
    more_ports = [p for p in more_ports
                  if p["name"] not in taken_names and _port_key(p) not in taken_ports]
    spec: dict[str, Any] = {}
    mounts = [{"name": m, "mountPath": f"/var/lib/{m}"} for m in claim_mounts]
    volume = draw(_EMPTYDIR)
    if volume is not None and volume not in claim_mounts:
        spec["volumes"] = [{"name": volume, "emptyDir": {}}]
        mounts.append({"name": volume, "mountPath": f"/tmp/{volume}"})
    spec["containers"] = [
        _draw_container(draw, cname, first_ports if i == 0 else more_ports if i == 1 else [],
                        mounts if i == 0 else [], image_pool)
        for i, cname in enumerate(names)]
    _put(spec, "restartPolicy", draw(restart_policies))
    _put(spec, "terminationGracePeriodSeconds", draw(_GRACE))
    _put(spec, "dnsPolicy", draw(_DNS_POLICIES))
    if draw(_BOOL):
        spec["securityContext"] = {"runAsNonRoot": True, "runAsUser": 1000,
                                   "fsGroup": draw(_FS_GROUPS)}
    spec.update(_draw_scheduling(draw, scheduling, nodes, labels))
    return spec


_WORKLOAD_RESTART = _maybe(st.just("Always"))
_POD_RESTART = _maybe_of("Always", "OnFailure", "Never")


@st.composite
def pod_specs(draw: st.DrawFn, *, min_containers: int = 1, max_containers: int = 2,
              min_ports: int = 0, nodes: Sequence[dict | str] | None = None,
              scheduling: str = "satisfiable", labels: dict | None = None,
              claim_mounts: Sequence[str] = (), any_restart_policy: bool = False,
              image_pool: Sequence[str] = IMAGES) -> dict:
    """Pod specs: ``min_containers`` to ``max_containers`` containers (unique names; ports
    unique across the pod, the first container with at least ``min_ports``), an optional
    emptyDir volume the first container mounts, and optional pod-level fields (grace
    period, DNS policy, security context, restartPolicy: Always, or any with
    ``any_restart_policy``).

    ``claim_mounts`` names volumes the first container mounts without the spec declaring
    them: a StatefulSet's claim templates.

    ``scheduling`` says which constraints to draw:

    - ``"none"``: no nodeSelector, affinity, tolerations or spread constraints;
    - ``"satisfiable"`` (default): constraints that some node satisfies: one of ``nodes`` (a
      :func:`node_layouts` layout: its labels, zone, region and taints count) or, without
      ``nodes``, any fakekube node (``kubernetes.io/os=linux`` and the like). Preferences,
      anti-affinity and spread constraints are soft. Capacity is not considered;
    - ``"any"``: valid constraints that may match no node (the pod then stays Pending).

    ``labels`` are the pod's labels, when known: anti-affinity and topology spread select on
    them.

    >>> pod_specs(scheduling="none").example()  # doctest: +SKIP
    {'containers': [{'name': 'web', 'image': 'nginx:1.27'}]}
    """
    _check_mode(scheduling)
    return _draw_pod_spec(draw, min_containers=min_containers, max_containers=max_containers,
                          min_ports=min_ports, nodes=nodes, scheduling=scheduling,
                          labels=labels, claim_mounts=claim_mounts,
                          restart_policies=_POD_RESTART if any_restart_policy
                          else _WORKLOAD_RESTART, image_pool=images(image_pool))


@st.composite
def pods(draw: st.DrawFn, *, name: str | None = None, namespace: str | None = None,
         labels: dict | None = None, nodes: Sequence[dict | str] | None = None,
         scheduling: str = "satisfiable") -> dict:
    """Standalone Pods: a DNS-label name (or ``name``), :func:`labels` (never
    :data:`APP_LABEL`, so no generated workload adopts them) and a :func:`pod_specs` spec
    with any restart policy. ``nodes`` and ``scheduling`` as for :func:`pod_specs`.

    >>> cluster.create(pods(scheduling="none").example())  # doctest: +SKIP
    """
    _check_mode(scheduling)
    pod_labels = dict(labels) if labels is not None else draw(_label_maps())
    spec = _draw_pod_spec(draw, nodes=nodes, scheduling=scheduling, labels=pod_labels or None,
                          restart_policies=_POD_RESTART)
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": _meta(name or draw(dns_labels(30)), namespace, pod_labels),
            "spec": spec}


# --------------------------------------------------------------------------------------------
# Services


def _pod_ports(spec: dict) -> list[dict]:
    return [p for c in spec.get("containers") or () for p in c.get("ports") or ()]


_CLUSTER_IP_TYPE = _maybe(st.just("ClusterIP"))
_SESSION_AFFINITY = _maybe_of("None", "ClientIP")
_PUBLISH_NOT_READY = _maybe(st.booleans())


def _draw_service(draw: st.DrawFn, name: str | None, namespace: str | None,
                  selector: dict | None, ports: list[dict] | None, headless: bool | None
                  ) -> dict:
    is_headless = draw(_BOOL) if headless is None else headless
    sel = dict(selector) if selector is not None else draw(labels(max_size=2))
    source = ports if ports is not None else draw(container_ports(0 if is_headless else 1, 2))
    if not is_headless and not source:
        raise ValueError("a ClusterIP Service needs at least one port")
    spec: dict[str, Any] = {}
    if is_headless:
        spec["clusterIP"] = "None"
    else:
        _put(spec, "type", draw(_CLUSTER_IP_TYPE))
    _put(spec, "selector", sel)
    named_target = draw(_BOOL)
    service_ports = []
    for p in source:
        sp: dict[str, Any] = {"name": p["name"], "port": p["containerPort"],
                              "targetPort": p["name"] if named_target else p["containerPort"]}
        _put(sp, "protocol", p.get("protocol"))
        service_ports.append(sp)
    _put(spec, "ports", service_ports)
    if is_headless:
        _put(spec, "publishNotReadyAddresses", draw(_PUBLISH_NOT_READY))
    else:
        _put(spec, "sessionAffinity", draw(_SESSION_AFFINITY))
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": _meta(name or draw(dns_labels(30)), namespace), "spec": spec}


@st.composite
def services(draw: st.DrawFn, *, name: str | None = None, namespace: str | None = None,
             selector: dict | None = None, ports: list[dict] | None = None,
             headless: bool | None = None) -> dict:
    """Services: ClusterIP (the IP allocated) or headless (``clusterIP: None``), with named
    ports. ``selector`` (default: drawn :func:`labels`, possibly none); ``ports``, when
    given, are container ports (as in a pod spec) the Service exposes one to one, targeting
    them by name or number; otherwise up to two ports are drawn. ``headless=None`` draws
    either kind.

    >>> services(selector={"app": "web"}, headless=True).example()  # doctest: +SKIP
    {'apiVersion': 'v1', 'kind': 'Service', 'metadata': {'name': 'web'},
     'spec': {'clusterIP': 'None', 'selector': {'app': 'web'}}}
    """
    return _draw_service(draw, name, namespace, selector, ports, headless)


# --------------------------------------------------------------------------------------------
# Workloads


def _claim(tname: str, mode: str, size: str, sc: str | None, fs: bool) -> dict:
    spec: dict[str, Any] = {"accessModes": [mode], "resources": {"requests": {"storage": size}}}
    _put(spec, "storageClassName", sc)
    if fs:
        spec["volumeMode"] = "Filesystem"
    return {"metadata": {"name": tname}, "spec": spec}


@functools.lru_cache(maxsize=None)
def _claim_templates(storage_classes: tuple[str, ...]) -> SearchStrategy[dict]:
    names = st.one_of(st.sampled_from(_CLAIM_NAME_POOL),
                      dns_labels(12).filter(lambda n: n not in _EMPTYDIR_NAMES))
    classes = _maybe_of(*storage_classes) if storage_classes else st.none()
    return st.builds(_claim, names, st.sampled_from(("ReadWriteOnce", "ReadWriteOncePod")),
                     st.sampled_from(("1Gi", "2Gi", "500Mi", "5Gi", "10Gi")), classes, _BOOL)


def claim_templates(storage_classes: Sequence[str] | None = ("standard",)
                    ) -> SearchStrategy[dict]:
    """A StatefulSet ``volumeClaimTemplates`` entry: a short DNS-label name, ReadWriteOnce
    (or ReadWriteOncePod), a size like ``1Gi``, and a ``storageClassName`` from
    ``storage_classes`` or none (the cluster's default class). Pass the cluster's classes:
    ``[sc["metadata"]["name"] for sc in cluster.list("StorageClass")["items"]]``.

    >>> claim_templates().example()  # doctest: +SKIP
    {'metadata': {'name': 'data'}, 'spec': {'accessModes': ['ReadWriteOnce'],
     'resources': {'requests': {'storage': '1Gi'}}, 'storageClassName': 'standard'}}
    """
    return _claim_templates(tuple(storage_classes or ()))


def _draw_selector_labels(draw: st.DrawFn, name: str, given: dict | None
                          ) -> tuple[dict, dict]:
    """(selector matchLabels, template labels that include them)."""
    selector = dict(given) if given is not None else {APP_LABEL: name}
    return selector, {**draw(labels(max_size=2)), **selector}


_POD_MANAGEMENT = _maybe_of("OrderedReady", "Parallel")
_STS_STRATEGIES = st.sampled_from(("default", "RollingUpdate", "partition", "OnDelete"))
_MIN_READY = _maybe_of(0, 5, 10)
_RETENTION = st.sampled_from(("Retain", "Delete"))
_START_ORDINAL = _maybe(st.integers(0, 3))


def _draw_statefulset(draw: st.DrawFn, *, name: str | None = None,
                      service_name: str | None = None, namespace: str | None = None,
                      labels: dict | None = None, min_replicas: int = 0,
                      max_replicas: int = 3,
                      storage_classes: Sequence[str] | None = ("standard",),
                      max_claims: int = 2, nodes: Sequence[dict | str] | None = None,
                      scheduling: str = "satisfiable", min_ports: int = 0,
                      image_pool: Sequence[str] = IMAGES) -> dict:
    set_name = name or draw(dns_labels(20))
    selector, template_labels = _draw_selector_labels(draw, set_name, labels)
    replicas = draw(st.integers(min_replicas, max_replicas))
    templates = draw(st.lists(claim_templates(storage_classes), max_size=max_claims,
                              unique_by=lambda t: t["metadata"]["name"]))
    pod_spec = _draw_pod_spec(draw, nodes=nodes, scheduling=scheduling, labels=template_labels,
                              min_ports=min_ports, image_pool=images(image_pool),
                              claim_mounts=[t["metadata"]["name"] for t in templates],
                              restart_policies=_WORKLOAD_RESTART)
    spec: dict[str, Any] = {
        "replicas": replicas,
        "selector": {"matchLabels": selector},
        "serviceName": service_name if service_name is not None else draw(dns_labels(20)),
        "template": {"metadata": {"labels": template_labels}, "spec": pod_spec},
    }
    _put(spec, "podManagementPolicy", draw(_POD_MANAGEMENT))
    strategy = draw(_STS_STRATEGIES)
    if strategy == "RollingUpdate":
        spec["updateStrategy"] = {"type": "RollingUpdate"}
    elif strategy == "partition":
        spec["updateStrategy"] = {"type": "RollingUpdate", "rollingUpdate": {
            "partition": draw(st.integers(0, max(replicas, 1)))}}
    elif strategy == "OnDelete":
        spec["updateStrategy"] = {"type": "OnDelete"}
    _put(spec, "minReadySeconds", draw(_MIN_READY))
    _put(spec, "revisionHistoryLimit", draw(_maybe_of(10, 1)))
    if draw(_BOOL):
        spec["persistentVolumeClaimRetentionPolicy"] = {
            "whenDeleted": draw(_RETENTION), "whenScaled": draw(_RETENTION)}
    start = draw(_START_ORDINAL)
    if start is not None:
        spec["ordinals"] = {"start": start}
    _put(spec, "volumeClaimTemplates", templates)
    return {"apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": _meta(set_name, namespace), "spec": spec}


@st.composite
def statefulsets(draw: st.DrawFn, *, name: str | None = None,
                 service_name: str | None = None, namespace: str | None = None,
                 labels: dict | None = None, min_replicas: int = 0, max_replicas: int = 3,
                 storage_classes: Sequence[str] | None = ("standard",), max_claims: int = 2,
                 nodes: Sequence[dict | str] | None = None, scheduling: str = "satisfiable",
                 min_ports: int = 0, image_pool: Sequence[str] = IMAGES) -> dict:
    """StatefulSets: selector ``{app: <name>}`` (or ``labels``) that the template's labels
    include, ``serviceName`` (``service_name`` or a drawn name), ``min_replicas`` to
    ``max_replicas`` replicas, and optional podManagementPolicy, updateStrategy (OnDelete,
    RollingUpdate with or without a partition), minReadySeconds, revisionHistoryLimit,
    persistentVolumeClaimRetentionPolicy and ordinals.start; 0 to ``max_claims``
    :func:`claim_templates` (classes from ``storage_classes``) that the first container
    mounts. The template is a :func:`pod_specs` spec (``nodes``, ``scheduling``,
    ``min_ports``, ``image_pool`` as there).

    >>> statefulsets(name="web", service_name="nginx", min_replicas=1).example()
    ... # doctest: +SKIP
    """
    _check_mode(scheduling)
    return _draw_statefulset(draw, name=name, service_name=service_name, namespace=namespace,
                             labels=labels, min_replicas=min_replicas,
                             max_replicas=max_replicas, storage_classes=storage_classes,
                             max_claims=max_claims, nodes=nodes, scheduling=scheduling,
                             min_ports=min_ports, image_pool=image_pool)


_DEPLOYMENT_KINDS = st.sampled_from(("default", "RollingUpdate", "Recreate"))
_SURGE = _maybe_of(1, 0, 2, "25%", "0%", "50%", "100%")


def _draw_deployment_strategy(draw: st.DrawFn) -> dict | None:
    kind = draw(_DEPLOYMENT_KINDS)
    if kind == "default":
        return None
    if kind == "Recreate":
        return {"type": "Recreate"}
    surge, unavailable = draw(_SURGE), draw(_SURGE)
    if surge in (0, "0%") and unavailable in (0, "0%"):
        unavailable = 1  # both zero is invalid: nothing could ever move
    rolling: dict[str, Any] = {}
    _put(rolling, "maxSurge", surge)
    _put(rolling, "maxUnavailable", unavailable)
    out: dict[str, Any] = {"type": "RollingUpdate"}
    _put(out, "rollingUpdate", rolling)
    return out


_DEPLOYMENT_STRATEGIES = st.composite(_draw_deployment_strategy)()


def deployment_strategies() -> SearchStrategy[dict | None]:
    """A Deployment ``strategy``: None (left out: RollingUpdate 25%/25%), Recreate, or
    RollingUpdate with maxSurge and maxUnavailable (integers or percentages, maxUnavailable
    at most 100%, each possibly left out) that are not both zero.

    >>> deployment_strategies().example()  # doctest: +SKIP
    {'type': 'RollingUpdate', 'rollingUpdate': {'maxSurge': 1, 'maxUnavailable': 0}}
    """
    return _DEPLOYMENT_STRATEGIES


_HISTORY_LIMIT = _maybe_of(10, 2, 0)
_PROGRESS_DEADLINE = _maybe_of(600, 120)  # both > the largest minReadySeconds drawn


def _draw_deployment(draw: st.DrawFn, *, name: str | None = None,
                     namespace: str | None = None, labels: dict | None = None,
                     min_replicas: int = 0, max_replicas: int = 3,
                     nodes: Sequence[dict | str] | None = None,
                     scheduling: str = "satisfiable", min_ports: int = 0,
                     image_pool: Sequence[str] = IMAGES) -> dict:
    dep_name = name or draw(dns_labels(20))
    selector, template_labels = _draw_selector_labels(draw, dep_name, labels)
    pod_spec = _draw_pod_spec(draw, nodes=nodes, scheduling=scheduling, labels=template_labels,
                              min_ports=min_ports, image_pool=images(image_pool),
                              restart_policies=_WORKLOAD_RESTART)
    spec: dict[str, Any] = {
        "replicas": draw(st.integers(min_replicas, max_replicas)),
        "selector": {"matchLabels": selector},
        "template": {"metadata": {"labels": template_labels}, "spec": pod_spec},
    }
    _put(spec, "strategy", draw(_DEPLOYMENT_STRATEGIES))
    _put(spec, "minReadySeconds", draw(_MIN_READY))
    _put(spec, "revisionHistoryLimit", draw(_HISTORY_LIMIT))
    _put(spec, "progressDeadlineSeconds", draw(_PROGRESS_DEADLINE))
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": _meta(dep_name, namespace), "spec": spec}


@st.composite
def deployments(draw: st.DrawFn, *, name: str | None = None, namespace: str | None = None,
                labels: dict | None = None, min_replicas: int = 0, max_replicas: int = 3,
                nodes: Sequence[dict | str] | None = None, scheduling: str = "satisfiable",
                min_ports: int = 0, image_pool: Sequence[str] = IMAGES) -> dict:
    """Deployments: selector ``{app: <name>}`` (or ``labels``) that the template's labels
    include, ``min_replicas`` to ``max_replicas`` replicas, a
    :func:`deployment_strategies` strategy, and optional minReadySeconds,
    revisionHistoryLimit and progressDeadlineSeconds (> minReadySeconds). The template is a
    :func:`pod_specs` spec (``nodes``, ``scheduling``, ``min_ports``, ``image_pool`` as
    there).

    >>> deployments(name="api", min_replicas=1).example()  # doctest: +SKIP
    """
    _check_mode(scheduling)
    return _draw_deployment(draw, name=name, namespace=namespace, labels=labels,
                            min_replicas=min_replicas, max_replicas=max_replicas, nodes=nodes,
                            scheduling=scheduling, min_ports=min_ports, image_pool=image_pool)


# --------------------------------------------------------------------------------------------
# Nodes


_TAINT_EFFECTS = st.sampled_from(("NoSchedule", "PreferNoSchedule", "NoExecute"))
_NODE_NAMES = st.one_of(st.builds("node-{}".format, st.integers(1, 99)), dns_labels(20))
_NODE_CPU = _maybe_of("4", "8", "2", "16")
_NODE_MEMORY = _maybe_of("8Gi", "16Gi", "4Gi")
_NODE_PODS = _maybe_of(110, 250, 32)


def _draw_taints(draw: st.DrawFn) -> list[dict]:
    """0..2 taints, unique by (key, effect) as validation requires."""
    out: dict[tuple[str, str], dict] = {}
    for _ in range(draw(_INT_0_2)):
        taint: dict[str, Any] = {"key": draw(label_keys())}
        _put(taint, "value", draw(label_values()) or None)
        taint["effect"] = draw(_TAINT_EFFECTS)
        out.setdefault((taint["key"], taint["effect"]), taint)
    return list(out.values())


@st.composite
def node_layouts(draw: st.DrawFn, *, min_nodes: int = 1, max_nodes: int = 4,
                 zones: Sequence[str] | None = ("a", "b", "c"), region: str | None = "region-1",
                 taints: bool = True, min_untainted: int = 1) -> list[dict]:
    """The ``nodes`` argument of :class:`fakekube.Cluster`: ``min_nodes`` to ``max_nodes``
    node descriptions with unique names, each in a zone from ``zones`` (if any), in
    ``region`` (the whole layout or none of it), with optional cpu / memory / pods
    capacity, custom labels and (with ``taints``) up to two taints. The first
    ``min_untainted`` nodes carry no taint, so pods that tolerate nothing can run.

    >>> Cluster(nodes=node_layouts(max_nodes=3).example())  # doctest: +SKIP
    """
    names = draw(st.lists(_NODE_NAMES, min_size=min_nodes, max_size=max_nodes, unique=True))
    zone_strategy = st.sampled_from(tuple(zones)) if zones else None
    with_region = region is not None and zone_strategy is not None and draw(_BOOL)
    out = []
    for i, node_name in enumerate(names):
        node: dict[str, Any] = {"name": node_name}
        if zone_strategy is not None:
            node["zone"] = draw(zone_strategy)
            if with_region:
                node["region"] = region
        _put(node, "cpu", draw(_NODE_CPU))
        _put(node, "memory", draw(_NODE_MEMORY))
        _put(node, "pods", draw(_NODE_PODS))
        _put(node, "labels", draw(labels(max_size=2)))
        if taints and i >= min_untainted:
            _put(node, "taints", _draw_taints(draw))
        out.append(node)
    return out


# --------------------------------------------------------------------------------------------
# Applications


@attrs.frozen
class Application:
    """A consistent bundle: ``workload`` (a StatefulSet or Deployment named ``name``) and
    the ``service`` in front of it (headless for a StatefulSet, whose ``serviceName`` it
    is; ClusterIP for a Deployment), whose ports are the workload's named ports."""

    kind: str
    name: str
    service: dict
    workload: dict

    @property
    def manifests(self) -> list[dict]:
        """The Service, then the workload: ready for ``cluster.apply``."""
        return [self.service, self.workload]

    @property
    def service_name(self) -> str:
        return self.service["metadata"]["name"]

    @property
    def replicas(self) -> int:
        return self.workload["spec"].get("replicas", 1)

    @property
    def selector(self) -> dict:
        """The workload's (and the Service's) ``matchLabels``."""
        return self.workload["spec"]["selector"]["matchLabels"]


def _draw_application(draw: st.DrawFn, kinds: tuple[str, ...], name: str | None,
                      namespace: str | None, min_replicas: int, max_replicas: int,
                      storage_classes: Sequence[str] | None,
                      nodes: Sequence[dict | str] | None, scheduling: str,
                      image_pool: Sequence[str]) -> Application:
    kind = draw(st.sampled_from(kinds))
    app_name = name or draw(dns_labels(20))
    suffix = "-headless" if kind == "StatefulSet" else "-svc"
    svc_name = draw(st.sampled_from((app_name, app_name + suffix)))
    common: dict[str, Any] = {
        "name": app_name, "namespace": namespace, "min_replicas": min_replicas,
        "max_replicas": max_replicas, "nodes": nodes, "scheduling": scheduling,
        "image_pool": image_pool}
    if kind == "StatefulSet":
        workload = _draw_statefulset(draw, service_name=svc_name,
                                     storage_classes=storage_classes, **common)
    else:
        workload = _draw_deployment(draw, min_ports=1, **common)
    service = _draw_service(draw, svc_name, namespace,
                            workload["spec"]["selector"]["matchLabels"],
                            _pod_ports(workload["spec"]["template"]["spec"]),
                            kind == "StatefulSet")
    return Application(kind=kind, name=app_name, service=service, workload=workload)


def _check_kinds(kinds: Sequence[str]) -> tuple[str, ...]:
    kinds = tuple(kinds)
    bad = [k for k in kinds if k not in ("StatefulSet", "Deployment")]
    if bad or not kinds:
        raise ValueError(f"applications are StatefulSets or Deployments, not {bad or kinds}")
    return kinds


@st.composite
def applications(draw: st.DrawFn, *, kinds: Sequence[str] = ("StatefulSet", "Deployment"),
                 name: str | None = None, namespace: str | None = None,
                 min_replicas: int = 0, max_replicas: int = 3,
                 storage_classes: Sequence[str] | None = ("standard",),
                 nodes: Sequence[dict | str] | None = None,
                 scheduling: str = "satisfiable",
                 image_pool: Sequence[str] = IMAGES) -> Application:
    """An :class:`Application`: a headless Service and a :func:`statefulsets` StatefulSet
    whose ``serviceName`` it is, or a ClusterIP Service and a :func:`deployments`
    Deployment (whose first container then has a port). The Service selects the workload's
    selector ``{app: <name>}`` and exposes the pod's named ports. Options as for
    :func:`statefulsets` and :func:`deployments`.

    >>> app = applications(kinds=["StatefulSet"]).example()  # doctest: +SKIP
    >>> cluster.apply(app.manifests); cluster.settle()  # doctest: +SKIP
    """
    _check_mode(scheduling)
    return _draw_application(draw, _check_kinds(kinds), name, namespace, min_replicas,
                             max_replicas, storage_classes, nodes, scheduling, image_pool)


def application_lists(min_size: int = 1, max_size: int = 3, **options: Any
                      ) -> SearchStrategy[list[Application]]:
    """Lists of :func:`applications` (``options`` as there, but no ``name``) that can live
    in one namespace: workload and Service names unique, so their selectors are disjoint.

    >>> apps = application_lists(max_size=2).example()  # doctest: +SKIP
    >>> cluster.apply([m for app in apps for m in app.manifests])  # doctest: +SKIP
    """
    if "name" in options:
        raise TypeError("application_lists draws the names; it takes no name")
    return st.lists(applications(**options), min_size=min_size, max_size=max_size,
                    unique_by=(lambda a: a.name, lambda a: a.service_name))


# --------------------------------------------------------------------------------------------
# Operations


_ADVANCE_SECONDS = (1, 5, 30, 60, 300)


def operation(set_names: Sequence[str] = (), deployment_names: Sequence[str] = (), *,
              max_replicas: int = 3, image_pool: Sequence[str] = IMAGES,
              zones: Sequence[str] | None = None, node_ops: bool = True,
              max_index: int = 4) -> SearchStrategy[tuple]:
    """One operation record (see :data:`OPERATIONS`) on the StatefulSets ``set_names`` and
    the Deployments ``deployment_names`` (names of objects that need not exist: a missing
    one is skipped) and, with ``node_ops``, on the nodes (``add_node`` in one of ``zones``).
    Replica counts and partitions go up to ``max_replicas``, pod and node indices up to
    ``max_index``, images come from ``image_pool``. Simpler operations (settle, advance)
    come first when shrinking.

    >>> operation(["web"], ["api"]).example()  # doctest: +SKIP
    ('scale', 'StatefulSet', 'web', 2)
    """
    refs = [("StatefulSet", n) for n in set_names] + [("Deployment", n)
                                                     for n in deployment_names]
    index = st.integers(0, max_index)
    options: list[SearchStrategy[tuple]] = [
        st.just(("settle",)),
        st.builds(lambda s: ("advance", s), st.sampled_from(_ADVANCE_SECONDS)),
    ]
    if refs:
        ref = st.sampled_from(refs)
        options += [
            st.builds(lambda r, n: ("scale", *r, n), ref, st.integers(0, max_replicas)),
            st.builds(lambda r, i: ("update_image", *r, i), ref,
                      st.sampled_from(tuple(image_pool))),
            st.builds(lambda r, i: ("delete_pod", *r, i), ref, index),
            st.builds(lambda r, i: ("force_delete", *r, i), ref, index),
        ]
    if set_names:
        options.append(st.builds(lambda n, p: ("partition", n, p),
                                 st.sampled_from(tuple(set_names)),
                                 st.integers(0, max_replicas)))
    if node_ops:
        options += [
            st.builds(lambda i: ("fail_node", i), index),
            st.builds(lambda i: ("restore_node", i), index),
            st.builds(lambda i: ("remove_node", i), index),
            st.builds(lambda z: ("add_node", z),
                      st.sampled_from(tuple(zones)) if zones else st.none()),
        ]
    return st.one_of(options)


def operations(set_names: Sequence[str] = (), deployment_names: Sequence[str] = (), *,
               min_size: int = 0, max_size: int = 12, **options: Any
               ) -> SearchStrategy[list[tuple]]:
    """Lists of :func:`operation` records (``options`` as there: ``max_replicas``,
    ``image_pool``, ``zones``, ``node_ops``, ``max_index``). Apply them with
    :func:`run_operation`:

    >>> @given(ops=operations(["web"], ["api"], zones=["a", "b"]))  # doctest: +SKIP
    ... def test_chaos(ops):
    ...     cluster = make_cluster()
    ...     for op in ops:
    ...         run_operation(cluster, op)
    ...     cluster.settle()
    """
    return st.lists(operation(set_names, deployment_names, **options), min_size=min_size,
                    max_size=max_size)


def _agents(cluster: Any) -> dict:
    return cluster.kubelets.agents


def _workload_pods(cluster: Any, kind: str, name: str, namespace: str) -> list[dict]:
    obj = cluster.get(kind, name, namespace)
    selector = (obj.get("spec") or {}).get("selector")
    if not selector:
        return []
    pods_ = cluster.list("Pod", namespace, label_selector=selector)["items"]
    if kind == "StatefulSet":
        def ordinal(p: dict) -> tuple[int, str]:
            head, _, tail = p["metadata"]["name"].rpartition("-")
            return (int(tail) if head == name and tail.isdigit() else -1,
                    p["metadata"]["name"])
        return sorted(pods_, key=ordinal)
    return sorted(pods_, key=lambda p: p["metadata"]["name"])


def _op_settle(cluster: Any, namespace: str) -> bool:
    cluster.settle()
    return True


def _op_advance(cluster: Any, namespace: str, seconds: float) -> bool:
    cluster.advance(seconds)
    return True


def _op_scale(cluster: Any, namespace: str, kind: str, name: str, replicas: int) -> bool:
    cluster.scale(kind, name, replicas, namespace)
    return True


def _op_update_image(cluster: Any, namespace: str, kind: str, name: str, image: str) -> bool:
    obj = cluster.get(kind, name, namespace)
    spec_containers = obj["spec"]["template"]["spec"].get("containers") or []
    if not spec_containers:
        return False
    cluster.patch(kind, name, {"spec": {"template": {"spec": {"containers": [
        {"name": spec_containers[0]["name"], "image": image}]}}}}, namespace,
        patch_type="strategic")
    return True


def _op_partition(cluster: Any, namespace: str, name: str, partition: int) -> bool:
    cluster.patch("StatefulSet", name, {"spec": {"updateStrategy": {
        "type": "RollingUpdate", "rollingUpdate": {"partition": partition}}}}, namespace)
    return True


def _op_delete_pod(cluster: Any, namespace: str, kind: str, name: str, index: int) -> bool:
    pods_ = _workload_pods(cluster, kind, name, namespace)
    if not pods_:
        return False
    cluster.delete("Pod", pods_[index % len(pods_)]["metadata"]["name"], namespace)
    return True


def _op_force_delete(cluster: Any, namespace: str, kind: str, name: str, index: int) -> bool:
    pods_ = _workload_pods(cluster, kind, name, namespace)
    if not pods_:
        return False
    pods_.sort(key=lambda p: not p["metadata"].get("deletionTimestamp"))  # stable
    cluster.delete("Pod", pods_[index % len(pods_)]["metadata"]["name"], namespace,
                   grace_period_seconds=0)
    return True


def _op_fail_node(cluster: Any, namespace: str, index: int) -> bool:
    live = sorted(n for n, a in _agents(cluster).items() if not a.failed)
    if not live:
        return False
    cluster.fail_node(live[index % len(live)])
    return True


def _op_restore_node(cluster: Any, namespace: str, index: int) -> bool:
    failed = sorted(n for n, a in _agents(cluster).items() if a.failed)
    if not failed:
        return False
    cluster.restore_node(failed[index % len(failed)])
    return True


def _op_remove_node(cluster: Any, namespace: str, index: int) -> bool:
    agents = _agents(cluster)
    names = [n["metadata"]["name"] for n in cluster.list("Node")["items"]]
    if not names:
        return False
    names.sort(key=lambda n: (not (n in agents and agents[n].failed), n))
    cluster.remove_node(names[index % len(names)])
    return True


def _op_add_node(cluster: Any, namespace: str, zone: str | None) -> bool:
    taken = {n["metadata"]["name"] for n in cluster.list("Node")["items"]} | set(
        _agents(cluster))
    k = 1
    while f"node-{k}" in taken:
        k += 1
    cluster.add_node(f"node-{k}", zone=zone)
    return True


_HANDLERS: dict[str, Callable[..., bool]] = {
    "settle": _op_settle, "advance": _op_advance, "scale": _op_scale,
    "update_image": _op_update_image, "partition": _op_partition,
    "delete_pod": _op_delete_pod, "force_delete": _op_force_delete,
    "fail_node": _op_fail_node, "restore_node": _op_restore_node,
    "remove_node": _op_remove_node, "add_node": _op_add_node,
}


def run_operation(cluster: Any, op: Sequence[Any], namespace: str = "default") -> bool:
    """Apply one operation record (see :data:`OPERATIONS`) to ``cluster``; return whether
    it applied. What cannot apply is skipped (False): a workload or pod that does not exist
    (any :class:`fakekube.NotFound`), a node action with no node to act on. An unknown
    operation is a ``ValueError``; ``("settle",)`` lets :class:`fakekube.SettleTimeout`
    through (a cluster that cannot settle is a finding). Nothing else is expected to raise.

    >>> run_operation(cluster, ("scale", "StatefulSet", "web", 2))  # doctest: +SKIP
    True
    >>> run_operation(cluster, ("restore_node", 0))  # no failed node  # doctest: +SKIP
    False
    """
    if not op:
        raise ValueError("an operation record is a non-empty tuple, e.g. ('settle',)")
    handler = _HANDLERS.get(op[0])
    if handler is None:
        raise ValueError(f"unknown operation {op[0]!r}; operations: "
                         f"{', '.join(sorted(_HANDLERS))}")
    try:
        return handler(cluster, namespace, *op[1:])
    except errors.NotFound:
        return False
