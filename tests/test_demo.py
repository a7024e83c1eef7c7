"""``fakekube demo``: the README's first command, and its smoke test."""

from __future__ import annotations

import argparse
import io
import re

import pytest

from fakekube import demo


@pytest.fixture(scope="module")
def told(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "timeline.html"
    out = io.StringIO()
    status = demo.run(out=out, html_path=path)
    return status, out.getvalue(), path


def test_the_story_holds(told):
    status, text, _ = told
    assert status == 0, text
    assert "FAILED" not in text
    assert re.search(r"All \d+ facts held", text)


@pytest.mark.parametrize("step", [
    "1. A cluster of 3 nodes in zones a, b, c",
    '2. Apply a headless Service "db" and a StatefulSet "db"',
    "3. Write into db-1's volume",
    "4. node-1, db-1's node, fails",
    "5. The operator confirms node-1 is down for good",
    "6. A minute later, scale the StatefulSet down to 1 replica",
])
def test_every_step_is_told(told, step):
    assert step in told[1]


def test_the_account_carries_real_values_and_virtual_times(told):
    text = told[1]
    for fact in (
        "ok  the pods were created in ordinal order: db-0, db-1, db-2",
        "ok  DNS: db-1.db.default.svc.cluster.local -> 10.244.1.2",
        "+350s     TaintManagerEviction   pod/db-1: Marking for deletion Pod default/db-1",
        "SuccessfulAttachVolume pod/db-1",
        "ok  db-1 is Ready on another node: node-3 (was node-1)",
        "ok  with a new IP: 10.244.3.3 (was 10.244.1.2)",
        "ok  the same DNS name: db-1.db.default.svc.cluster.local -> 10.244.3.3",
        "SuccessfulDelete       statefulset/db: delete Pod db-2",
        "ok  the pods were removed in reverse order: db-2, then db-1",
    ):
        assert fact in text, fact
    assert text.index("delete Pod db-2") < text.index("delete Pod db-1")


def test_the_timeline_is_written(told):
    path = told[2]
    page = path.read_text(encoding="utf-8")
    assert len(page) > 10_000
    assert "<svg" in page and "db-1 10.244.3.3" in page and "Ready=Unknown" in page
    assert str(path) in told[1]


def test_the_same_seed_tells_the_same_story(told):
    out = io.StringIO()
    assert demo.run(out=out, html_path=None) == 0
    def story(text):
        return [line for line in text.splitlines()
                if line and not line.startswith(("Timeline:", "cluster.trace("))]

    assert story(out.getvalue()) == story(told[1])


def test_a_fact_that_fails_is_said_and_exits_non_zero(monkeypatch, tmp_path):
    # A taint that does not mark the node out of service: db-1 stays Terminating for ever.
    monkeypatch.setattr(demo, "OUT_OF_SERVICE", {"key": "example.com/maintenance",
                                                 "value": "yes", "effect": "NoSchedule"})
    out = io.StringIO()
    path = tmp_path / "t.html"
    assert demo.run(out=out, html_path=path) == 1
    text = out.getvalue()
    assert "FAILED at step 5: the old db-1" in text
    assert "All " not in text
    assert path.exists()  # the timeline helps to see why


def test_the_subcommand(tmp_path, capsys):
    parser = argparse.ArgumentParser(prog="fakekube")
    demo.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["demo", "--no-html", "--seed", "0"])
    assert args.func(args) == 0
    assert "6. A minute later" in capsys.readouterr().out
    args = parser.parse_args(["demo", "--html", str(tmp_path / "x.html")])
    assert args.html == str(tmp_path / "x.html") and not args.no_html
