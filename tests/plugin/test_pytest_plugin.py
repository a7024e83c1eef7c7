"""The pytest plugin: fixtures, marker, options, seeds, the failure story, cheap import."""

import re
import subprocess
import sys

import pytest

pytest_plugins = ["pytester"]


def test_kube_fixture_and_marker(pytester):
    pytester.makepyfile("""
        import pytest

        def test_default(kube):
            assert [n["metadata"]["name"] for n in kube.list("Node")["items"]] == [
                "node-1", "node-2", "node-3"]

        @pytest.mark.fakekube(nodes=2, zones=["a", "b"], node_monitor_grace_period=50)
        def test_marked(kube):
            assert len(kube.list("Node")["items"]) == 2
            assert kube.config.node_monitor_grace_period == 50

        def test_factory(kube_factory):
            a, b = kube_factory(nodes=1), kube_factory(nodes=4)
            assert (len(a.list("Node")["items"]), len(b.list("Node")["items"])) == (1, 4)
            assert a.seed != b.seed
    """)
    result = pytester.runpytest()
    result.assert_outcomes(passed=3)


def test_options_and_ini(pytester):
    pytester.makeini("[pytest]\nfakekube_nodes = 5\n")
    pytester.makepyfile("""
        def test_nodes(kube):
            assert len(kube.list("Node")["items"]) == 5

        def test_zones(kube):
            zones = {n["metadata"]["labels"].get("topology.kubernetes.io/zone")
                     for n in kube.list("Node")["items"]}
            assert zones == {"x", "y"}
    """)
    result = pytester.runpytest("--fakekube-zones=x,y",
                                "-k", "zones or nodes")
    result.assert_outcomes(passed=2)


def test_seeds_follow_the_test_id_and_base_seed(pytester):
    pytester.makepyfile("""
        SEEN = {}

        def test_a(kube):
            print("SEED", kube.seed)

        def test_b(kube):
            print("SEED", kube.seed)
    """)
    runs = []
    for base in ("0", "0", "7"):
        result = pytester.runpytest("-s", f"--fakekube-seed={base}")
        runs.append(re.findall(r"SEED (\d+)", result.stdout.str()))
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]
    assert len(set(runs[0])) == 2  # two tests, two seeds


def test_failure_report_tells_the_story(pytester):
    pytester.makepyfile("""
        def test_fails(kube):
            kube.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                         "spec": {"nodeName": "node-1",
                                  "containers": [{"name": "c", "image": "nginx"}]}})
            kube.settle()
            kube.fail_node("node-1")
            assert False, "boom"
    """)
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    text = result.stdout.str()
    assert "fakekube" in text and "seed:" in text
    assert "node-1:" in text and "default/p created" in text
    assert "failed: node-1" in text
    assert "Started" in text  # the last events


def test_plugin_import_does_not_import_fakekube():
    code = ("import sys, pytest_fakekube; "
            "print('fakekube' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "False"


def test_xdist_workers_get_the_serial_seeds(pytester, monkeypatch):
    pytest.importorskip("xdist")
    pytester.makepyfile("""
        import os, pathlib
        import pytest

        @pytest.mark.parametrize("i", range(6))
        def test_seed(kube, i):
            out = pathlib.Path(os.environ["SEED_DIR"]) / f"{i}.txt"
            out.write_text(f"{kube.seed} {kube.get('Node', 'node-1')['metadata']['uid']}")
    """)
    runs = []
    for name, args in (("serial", ()), ("xdist", ("-n", "2"))):
        seed_dir = pytester.path / name
        seed_dir.mkdir()
        monkeypatch.setenv("SEED_DIR", str(seed_dir))
        result = pytester.runpytest_subprocess(*args)
        result.assert_outcomes(passed=6)
        runs.append({f.name: f.read_text() for f in seed_dir.iterdir()})
    assert len(runs[0]) == 6
    assert runs[0] == runs[1]  # each worker builds the same cluster a serial run builds


def test_a_tests_clusters_are_let_go_after_its_teardown(pytester):
    """The session keeps every test item to its end; the clusters a test built must not
    stay alive with it (a suite would hold them all, and every full garbage collection
    would walk them)."""
    pytester.makepyfile("""
        import gc
        import weakref

        REFS = []

        def test_kube(kube):
            REFS.append(weakref.ref(kube))

        def test_factory(kube_factory):
            REFS.append(weakref.ref(kube_factory(nodes=1)))

        def test_served(kube_server, kube):
            REFS.append(weakref.ref(kube))

        def test_zz_all_gone():
            gc.collect()
            assert len(REFS) == 3
            assert [r() for r in REFS] == [None, None, None]
    """)
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=4)
