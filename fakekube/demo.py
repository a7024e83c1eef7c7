"""``fakekube demo``: a database replica outlives its node, told step by step.

A 3-replica StatefulSet ``db`` with a headless Service and a claim per pod comes up in order;
the node of ``db-1`` fails; the pod is evicted and stays Terminating until the operator marks
the node out of service (upstream's non-graceful node shutdown procedure:
https://kubernetes.io/docs/concepts/cluster-administration/node-shutdown/); ``db-1`` is reborn
on another node with the same name, claim, volume (detached and re-attached), data and DNS
name, and a new IP; scaling down removes pods in reverse order. Every value printed is read
from the cluster at that step (objects, Events, the watch API, DNS answers), and every fact
the story tells is checked: if one does not hold, the demo says which and exits non-zero,
which makes it the README's smoke test. It ends by writing the HTML timeline
(:mod:`fakekube.trace`).

:func:`run` tells the story; :func:`add_parser` plugs ``demo`` into the ``fakekube`` command.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from typing import Any, TextIO

from .clock import EPOCH

__all__ = ["run", "add_parser", "MANIFEST"]

#: The story's workload: a headless Service and a StatefulSet with a claim per pod.
MANIFEST = """\
apiVersion: v1
kind: Service
metadata:
  name: db
  labels: {app: db}
spec:
  clusterIP: None            # headless: a DNS name per pod, db-N.db.default.svc.cluster.local
  selector: {app: db}
  ports: [{name: pg, port: 5432}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
spec:
  serviceName: db
  replicas: 3
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers:
      - name: db
        image: postgres:16
        ports: [{name: pg, containerPort: 5432}]
        volumeMounts: [{name: data, mountPath: /var/lib/db}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 1Gi}}
"""

OUT_OF_SERVICE = {"key": "node.kubernetes.io/out-of-service", "value": "nodeshutdown",
                  "effect": "NoExecute"}
MARKER, DATA = "/var/lib/db/marker", b"written by db-1 before its node failed"
_QUIET_REASONS = {"Pulled", "Created", "Started", "Killing", "ExternalProvisioning",
                  "Provisioning"}


class FactFailed(Exception):
    """A fact the story tells did not hold."""


class _Story:
    """Prints the account and checks its facts."""

    def __init__(self, cluster: Any, out: TextIO) -> None:
        self.c = cluster
        self.out = out
        self.step_no = 0
        self.facts = 0
        self.rv = 0  # Events newer than this are not told yet

    def t(self, when: float | None = None) -> str:
        return f"+{round((self.c.now if when is None else when) - EPOCH, 3):g}s"

    def say(self, text: str = "", when: str = "") -> None:
        print(f"{when:>7}  {text}".rstrip() if when or text else "", file=self.out)

    def step(self, text: str) -> None:
        self.step_no += 1
        print(file=self.out)
        self.say(f"{self.step_no}. {text}", self.t())

    def detail(self, text: str) -> None:
        self.say(f"   {text}")

    def check(self, ok: Any, fact: str, seen: str = "") -> None:
        if not ok:
            raise FactFailed(fact + (f"\n          what the cluster shows: {seen}" if seen
                                     else ""))
        self.facts += 1
        self.say(f"   ok  {fact}")

    def events(self, quiet: bool = True, only: tuple[str, ...] = (),
               reasons: tuple[str, ...] = (), tell: bool = True) -> list[dict]:
        """Tell the Events recorded (or repeated) since the last call, oldest first: those
        about objects named in ``only`` and with a reason in ``reasons`` when given, and
        without the routine container ones when ``quiet``."""
        new = [e for e in self.c.events() if int(e["metadata"]["resourceVersion"]) > self.rv]
        self.rv = int(self.c.list("Event")["metadata"]["resourceVersion"])
        for e in new if tell else ():
            obj = e["involvedObject"]
            if (quiet and e["reason"] in _QUIET_REASONS) or (
                    only and obj.get("name") not in only) or (
                    reasons and e["reason"] not in reasons):
                continue
            when = _parse(e.get("lastTimestamp") or e.get("firstTimestamp"))
            msg = e["message"] if len(e["message"]) <= 96 else e["message"][:93] + "..."
            self.say(f"   {e['reason']:<22} {obj.get('kind', '').lower()}/"
                     f"{obj.get('name', '')}: {msg}", self.t(when) if when else "")
        return new


def _parse(stamp: str | None) -> float | None:
    from .api.objects import parse_rfc3339

    return parse_rfc3339(stamp) if stamp else None


def _ready(pod: dict) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (pod.get("status") or {}).get("conditions") or ())


def _attachments(c: Any, pv: str) -> list[dict]:
    return [a for a in c.list("VolumeAttachment")["items"]
            if (a["spec"].get("source") or {}).get("persistentVolumeName") == pv]


def _resolve(c: Any, name: str) -> list[str] | str:
    from .dns import NXDomain

    try:
        return c.dns.resolve(name)
    except NXDomain:
        return "NXDOMAIN"


def _short(name: str, n: int = 12) -> str:
    return name if len(name) <= n + 3 else name[:n] + "..."


def run(out: TextIO | None = None, html_path: str | os.PathLike | None = "fakekube-demo.html",
        seed: int = 0) -> int:
    """Tell the story on ``out`` (default stdout) and write the HTML timeline to ``html_path``
    (None: no file). Returns 0 when every fact held, 1 otherwise."""
    import fakekube

    from . import trace

    out = out or sys.stdout
    cluster = fakekube.Cluster(nodes=3, zones=["a", "b", "c"], seed=seed)
    trace.record(cluster)
    story = _Story(cluster, out)
    print("fakekube demo: a database replica outlives its node "
          f"(seed {seed}; times are virtual, from the cluster's start)", file=out)
    status = 0
    try:
        _tell(story)
    except FactFailed as exc:
        print(f"\nFAILED at step {story.step_no}: {exc}", file=out)
        status = 1
    except Exception:  # the smoke test must say what broke, not just die
        print(f"\nFAILED at step {story.step_no} with an error:", file=out)
        traceback.print_exc(file=out)
        status = 1
    if html_path is not None:
        text = trace.export(cluster, html_path, format="html",
                            title=f"fakekube demo: a database replica outlives its node "
                                  f"(seed {seed})")
        print(file=out)
        print(f"Timeline: {os.fspath(html_path)} ({len(text) // 1024} kB; open it in a "
              "browser): a row per node, pod incarnations coloured by state, failure periods "
              "shaded.\ncluster.trace('trace.json') writes the same history for "
              "ui.perfetto.dev.", file=out)
    if status == 0:
        print(f"\nAll {story.facts} facts held, in {story.t()} of virtual time.", file=out)
    return status


def _tell(s: _Story) -> None:
    from . import trace

    c = s.c
    # 1. The cluster.
    nodes = c.list("Node")["items"]
    s.step(f"A cluster of {len(nodes)} nodes in zones "
           + ", ".join(sorted({n["metadata"]["labels"].get("topology.kubernetes.io/zone", "-")
                               for n in nodes})))
    for n in nodes:
        s.detail(f"{n['metadata']['name']}  zone "
                 f"{n['metadata']['labels'].get('topology.kubernetes.io/zone', '-')}  "
                 f"pod CIDR {n['spec'].get('podCIDR', '-')}")
    s.events(tell=False)  # the nodes' start-up events: not part of the story
    start_rv = c.list("Pod")["metadata"]["resourceVersion"]

    # 2. The workload comes up, one replica after another.
    s.step('Apply a headless Service "db" and a StatefulSet "db": 3 replicas, each with a '
           'claim from the template "data"')
    c.apply(MANIFEST)
    used = c.settle()
    s.events(reasons=("SuccessfulCreate", "Scheduled", "SuccessfulAttachVolume"))
    s.detail(f"settled after {used:g} virtual seconds")
    created: list[str] = []
    ready_when_next_created = []
    last: dict[str, dict] = {}
    for typ, pod in c.watch("Pod", resource_version=start_rv):
        name = pod["metadata"]["name"]
        if typ == "ADDED":
            if created:
                ready_when_next_created.append(_ready(last[created[-1]]))
            created.append(name)
        last[name] = pod
    s.check(created == ["db-0", "db-1", "db-2"],
            "the pods were created in ordinal order: " + ", ".join(created), str(created))
    s.check(all(ready_when_next_created),
            "each was created only once the one before it was Ready (OrderedReady)")
    pods = {p["metadata"]["name"]: p for p in c.list("Pod", "default",
                                                      label_selector="app=db")["items"]}
    for name in ("db-0", "db-1", "db-2"):
        p = pods[name]
        claim = next(v["persistentVolumeClaim"]["claimName"] for v in p["spec"]["volumes"]
                     if v.get("persistentVolumeClaim"))
        pvc = c.get("PersistentVolumeClaim", claim)
        pv = pvc["spec"].get("volumeName", "")
        att = _attachments(c, pv)
        on = ", ".join(a["spec"]["nodeName"] for a in att if a["status"].get("attached"))
        s.detail(f"{name}  on {p['spec']['nodeName']}  IP {p['status'].get('podIP')}  "
                 f"claim {claim} -> volume {_short(pv)} attached to {on or '-'}")
        s.check(_ready(p) and pvc["status"].get("phase") == "Bound"
                and on == p["spec"]["nodeName"],
                f"{name} is Ready, {claim} is Bound, its volume is attached to "
                f"{p['spec']['nodeName']}", on)
    old = pods["db-1"]
    old_node, old_ip, old_uid = old["spec"]["nodeName"], old["status"]["podIP"], \
        old["metadata"]["uid"]
    dns_name = "db-1.db.default.svc.cluster.local"
    answer = _resolve(c, dns_name)
    s.check(answer == [old_ip], f"DNS: {dns_name} -> {old_ip}", str(answer))
    pv = c.get("PersistentVolumeClaim", "data-db-1")["spec"]["volumeName"]
    (old_att,) = _attachments(c, pv)

    # 3. Data.
    s.step(f"Write into db-1's volume: {MARKER} = {DATA!r}")
    c.volume("data-db-1")[MARKER] = DATA
    s.detail(f"the bytes live in the PersistentVolume {pv}, not in the pod")

    # 4. The node fails.
    s.step(f"{old_node}, db-1's node, fails: its kubelet goes silent (no lease renewals, no "
           "status)")
    c.fail_node(old_node)
    used = c.settle()
    s.events(only=(old_node, "db-1", "db", "data-db-1"))
    s.detail(f"settle() returned after {used:g} virtual seconds: nothing more happens by "
             "itself")
    stuck = c.get("Pod", "db-1")
    s.check(stuck["metadata"]["uid"] == old_uid and stuck["metadata"].get("deletionTimestamp"),
            f"db-1 was evicted and stays Terminating on {old_node}: no kubelet there confirms "
            "its containers stopped",
            f"uid {stuck['metadata']['uid']}, deletionTimestamp "
            f"{stuck['metadata'].get('deletionTimestamp')}")
    count = len(c.list("Pod", "default", field_selector="metadata.name=db-1")["items"])
    s.check(count == 1, "there is no second db-1: the StatefulSet never runs two pods with "
            "one identity", f"{count} pods named db-1")
    atts = _attachments(c, pv)
    s.check([a["spec"]["nodeName"] for a in atts] == [old_node]
            and atts[0]["status"].get("attached"),
            f"the volume is still attached to {old_node} "
            f"(VolumeAttachment {_short(old_att['metadata']['name'])})",
            str([(a["spec"]["nodeName"], a["status"]) for a in atts]))
    answer = _resolve(c, dns_name)
    s.check(answer == "NXDOMAIN" or old_ip not in answer,
            f"DNS: {dns_name} no longer answers (the pod is not Ready): {answer}", str(answer))

    # 5. The operator lets it go.
    s.step(f"The operator confirms {old_node} is down for good and taints it "
           f"{OUT_OF_SERVICE['key']}={OUT_OF_SERVICE['value']}:{OUT_OF_SERVICE['effect']}")
    node = c.get("Node", old_node)
    c.patch("Node", old_node, {"spec": {"taints": [*(node["spec"].get("taints") or ()),
                                                   OUT_OF_SERVICE]}})
    used = c.settle()
    s.events(only=(old_node, "db-1", "db", "data-db-1"))
    s.detail(f"settled after {used:g} virtual seconds")
    new = c.get("Pod", "db-1")
    new_node, new_ip = new["spec"]["nodeName"], new["status"].get("podIP")
    timeline = trace.build(c)  # when things ended: from the store's event history
    gone = next((p.end for p in timeline.incarnations if p.uid == old_uid), None)
    s.check(gone is not None and new["metadata"]["uid"] != old_uid,
            f"the old db-1 (uid {old_uid[:8]}...) was deleted at {s.t(gone) if gone else '-'}; "
            f"a new db-1 exists (uid {new['metadata']['uid'][:8]}...)")
    s.check(new_node != old_node and _ready(new),
            f"db-1 is Ready on another node: {new_node} (was {old_node})", new_node)
    s.check(new_ip and new_ip != old_ip, f"with a new IP: {new_ip} (was {old_ip})",
            str(new_ip))
    claims = [v["persistentVolumeClaim"]["claimName"] for v in new["spec"]["volumes"]
              if v.get("persistentVolumeClaim")]
    now_pv = c.get("PersistentVolumeClaim", "data-db-1")["spec"]["volumeName"]
    s.check(claims == ["data-db-1"] and now_pv == pv,
            f"the same claim data-db-1 and the same volume {_short(pv)}", f"{claims} {now_pv}")
    atts = _attachments(c, pv)
    lives = {a.name: a for row in timeline.rows for a in row.attachments}
    before = lives.get(old_att["metadata"]["name"])
    after = lives.get(atts[0]["metadata"]["name"]) if atts else None
    attached = next((t for state, t in after.states if state == "attached"), None) if (
        after) else None
    s.check([a["spec"]["nodeName"] for a in atts] == [new_node]
            and atts[0]["status"].get("attached") and before is not None
            and before.end is not None and attached is not None and attached >= before.end,
            f"the volume was detached from {old_node} "
            f"({s.t(before.end) if before and before.end else '-'}), then attached to "
            f"{new_node} ({s.t(attached) if attached else '-'})",
            str([(a["spec"]["nodeName"], a["status"]) for a in atts]))
    got = c.volume("data-db-1").get(MARKER)
    s.check(got == DATA, f"the same data: {MARKER} = {got!r}", repr(got))
    answer = _resolve(c, dns_name)
    s.check(answer == [new_ip], f"the same DNS name: {dns_name} -> {new_ip}", str(answer))

    # 6. Scale down.
    c.advance(60)
    s.step("A minute later, scale the StatefulSet down to 1 replica")
    rv = c.list("Pod")["metadata"]["resourceVersion"]
    c.scale("StatefulSet", "db", 1)
    used = c.settle()
    s.events(quiet=False, only=("db", "db-1", "db-2"))
    order: list[str] = []
    began_after_gone = True
    for typ, pod in c.watch("Pod", resource_version=rv):
        name = pod["metadata"]["name"]
        if typ == "DELETED":
            order.append(name)
        elif pod["metadata"].get("deletionTimestamp") and order == [] and name == "db-1":
            began_after_gone = False  # db-1's deletion began while db-2 was still there
    s.check(order == ["db-2", "db-1"], "the pods were removed in reverse order: "
            + ", then ".join(order), str(order))
    s.check(began_after_gone, "db-1 was deleted only once db-2 was gone")
    left = [p["metadata"]["name"] for p in c.list("Pod", "default",
                                                   label_selector="app=db")["items"]]
    s.check(left == ["db-0"], "db-0 remains", str(left))
    kept = [p["metadata"]["name"] for p in c.list("PersistentVolumeClaim", "default")["items"]]
    s.check(kept == ["data-db-0", "data-db-1", "data-db-2"],
            "the claims stay (persistentVolumeClaimRetentionPolicy Retain): scaling up again "
            "finds the data", str(kept))


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``demo`` to the ``fakekube`` command's subparsers."""
    p = subparsers.add_parser("demo", help="a database replica outlives its node, told step "
                                           "by step, with an HTML timeline")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--html", default="fakekube-demo.html", metavar="PATH",
                   help="where to write the HTML timeline (default: fakekube-demo.html)")
    p.add_argument("--no-html", action="store_true", help="do not write the timeline")
    p.set_defaults(func=_main)
    return p


def _main(args: argparse.Namespace) -> int:
    return run(html_path=None if args.no_html else args.html, seed=args.seed)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m fakekube.demo")
    sub = parser.add_subparsers(dest="command", required=False)
    add_parser(sub)
    sys.exit(_main(parser.parse_args(["demo", *sys.argv[1:]])))
