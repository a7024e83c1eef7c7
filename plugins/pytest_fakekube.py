"""fakekube's pytest plugin (entry point ``pytest11: fakekube``).

Fixtures:

- ``kube``: a fresh :class:`fakekube.Cluster` for the test, seeded from the test's node id and
  ``--fakekube-seed`` (so a test has the same history in a serial run and under xdist);
- ``kube_server``: that cluster served over HTTP (with its DNS port), torn down after the test;
- ``kube_client``: an official ``kubernetes`` client (``ApiClient``) for ``kube_server``
  (skipped when the ``kubernetes`` package is not installed);
- ``kube_factory``: a function building more clusters, for tests that need several.

Configure with the marker ``@pytest.mark.fakekube(nodes=3, zones=["a", "b"],
profile="realistic", **cluster_options)``, or for a whole run with the ini options / command
line options ``fakekube_nodes`` / ``--fakekube-nodes``, ``fakekube_zones`` /
``--fakekube-zones`` (comma-separated), ``fakekube_profile`` / ``--fakekube-profile`` and
``fakekube_seed`` / ``--fakekube-seed``.

When a test that used a cluster fails, its report gets a ``fakekube`` section: the seed that
reproduces it, a timeline of pod lifecycles per node, the last events, and what had not
settled.

This module lives at the top level so that pytest can load it without importing fakekube;
fakekube is imported only when a fixture is used.
"""

from __future__ import annotations

import zlib
from typing import Any, Callable

import pytest

_OPTIONS = (
    ("nodes", "number of nodes of each test cluster", None),
    ("zones", "zones of the nodes, comma-separated", None),
    ("profile", "simulated kubelet profile: fast or realistic", None),
    ("seed", "base seed; each test's seed is derived from it and the test's node id", "0"),
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("fakekube", "fakekube: Kubernetes in the test process")
    for name, help_, default in _OPTIONS:
        group.addoption(f"--fakekube-{name}", dest=f"fakekube_{name}", default=None,
                        help=help_)
        parser.addini(f"fakekube_{name}", help_, default=default)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "fakekube(nodes=3, zones=None, profile='fast', seed=None, **options): "
        "configure the kube fixture's Cluster")


def _option(config: pytest.Config, name: str) -> Any:
    value = config.getoption(f"fakekube_{name}")
    if value is None:
        value = config.getini(f"fakekube_{name}")
    return value if value not in ("", None) else None


def _seed_for(config: pytest.Config, nodeid: str, index: int = 0) -> int:
    base = _option(config, "seed") or "0"
    return zlib.crc32(f"{base}:{nodeid}:{index}".encode()) & 0x7FFFFFFF


def _cluster_kwargs(request: pytest.FixtureRequest) -> dict[str, Any]:
    config = request.config
    kwargs: dict[str, Any] = {}
    nodes = _option(config, "nodes")
    if nodes is not None:
        kwargs["nodes"] = int(nodes)
    zones = _option(config, "zones")
    if zones is not None:
        kwargs["zones"] = [z.strip() for z in str(zones).split(",") if z.strip()]
    profile = _option(config, "profile")
    if profile is not None:
        kwargs["profile"] = profile
    marker = request.node.get_closest_marker("fakekube")
    if marker is not None:
        if marker.args:
            raise pytest.UsageError("@pytest.mark.fakekube takes keyword arguments only, "
                                    "e.g. @pytest.mark.fakekube(nodes=3)")
        kwargs.update(marker.kwargs)
    return kwargs


class _Clusters:
    """The clusters a test built, for the failure report."""

    def __init__(self) -> None:
        self.items: list[Any] = []


_CLUSTERS_KEY = pytest.StashKey[_Clusters]()


def _remember(request: pytest.FixtureRequest, cluster: Any) -> None:
    node = request.node
    clusters = node.stash.get(_CLUSTERS_KEY, None)
    if clusters is None:
        clusters = node.stash[_CLUSTERS_KEY] = _Clusters()
    clusters.items.append(cluster)


@pytest.fixture
def kube_factory(request: pytest.FixtureRequest) -> Callable[..., Any]:
    """Build clusters: ``kube_factory(nodes=5, zones=["a"])``; each gets its own seed
    derived from the test's, unless ``seed=`` is given."""
    import fakekube

    counter = iter(range(1, 1 << 30))
    defaults = _cluster_kwargs(request)

    def make(**options: Any) -> Any:
        kwargs = {**defaults, **options}
        kwargs.setdefault("seed", _seed_for(request.config, request.node.nodeid, next(counter)))
        cluster = fakekube.Cluster(**kwargs)
        _remember(request, cluster)
        return cluster

    return make


@pytest.fixture
def kube(request: pytest.FixtureRequest) -> Any:
    """A fresh cluster for this test (configured by ``@pytest.mark.fakekube``); closed
    after the test, so its memory goes back at once."""
    import fakekube

    kwargs = _cluster_kwargs(request)
    kwargs.setdefault("seed", _seed_for(request.config, request.node.nodeid))
    cluster = fakekube.Cluster(**kwargs)
    _remember(request, cluster)
    yield cluster
    if cluster._served is None:  # the report of a failed call was made already
        cluster.close()


@pytest.fixture
def kube_server(kube: Any) -> Any:
    """``kube`` served on loopback: ``.url``, ``.kubeconfig``, ``.dns``, ``.api_client()``."""
    with kube.serve() as endpoint:
        yield endpoint


@pytest.fixture
def kube_client(kube_server: Any) -> Any:
    """An official ``kubernetes.client.ApiClient`` talking to ``kube_server`` over HTTP."""
    kubernetes = pytest.importorskip("kubernetes", reason="kube_client needs the kubernetes "
                                     "package (pip install kubernetes)")
    client = kubernetes.config.new_client_from_config(config_file=kube_server.kubeconfig)
    yield client
    client.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    report = yield
    if call.when == "teardown":
        # The reports that describe the clusters are made; the item (which the session
        # keeps to its end) must not keep them alive: a suite would otherwise hold every
        # test's cluster, and each full garbage collection would walk them all.
        if _CLUSTERS_KEY in item.stash:
            del item.stash[_CLUSTERS_KEY]
        return report
    if report.failed and call.when in ("call", "setup"):
        clusters = item.stash.get(_CLUSTERS_KEY, None)
        if clusters is not None and clusters.items:
            from fakekube.testing.story import failure_story

            for i, cluster in enumerate(clusters.items):
                title = "fakekube" if len(clusters.items) == 1 else f"fakekube cluster {i + 1}"
                try:
                    text = failure_story(cluster)
                except Exception as exc:  # noqa: BLE001 - the report must not hide the failure
                    text = f"(could not describe the cluster: {exc!r})"
                report.sections.append((title, text))
    return report
