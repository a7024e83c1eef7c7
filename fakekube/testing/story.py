"""A cluster's story in text: what a failing test's report shows.

:func:`failure_story` tells the seed that reproduces the run, the virtual time, a timeline of
pod incarnations per node (from the event history the store keeps), the last events, and what
had not settled (queued work and pending deadlines).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..api.objects import parse_rfc3339

if TYPE_CHECKING:
    from ..cluster import Cluster

__all__ = ["failure_story", "pod_timeline"]

EPOCH = 1735689600.0


def _t(seconds: float) -> str:
    return f"+{seconds - EPOCH:g}s"


def pod_timeline(cluster: "Cluster") -> dict[str, list[str]]:
    """Per node, one line per pod incarnation: created, its IP, terminating, gone."""
    table = cluster.api.table(cluster.api.registry.by_kind("Pod"))
    lives: dict[str, dict] = {}
    order: list[str] = []
    for ev in table.history:
        m = ev.obj["metadata"]
        uid = m["uid"]
        life = lives.get(uid)
        if life is None:
            life = lives[uid] = {"name": f"{m['namespace']}/{m['name']}", "node": "",
                                 "created": parse_rfc3339(m["creationTimestamp"]),
                                 "terminating": None, "gone": None, "ip": ""}
            order.append(uid)
        spec, status = ev.obj.get("spec") or {}, ev.obj.get("status") or {}
        life["node"] = spec.get("nodeName") or life["node"]
        life["ip"] = status.get("podIP") or life["ip"]
        if m.get("deletionTimestamp") and life["terminating"] is None:
            life["terminating"] = parse_rfc3339(m["deletionTimestamp"]) - (
                m.get("deletionGracePeriodSeconds") or 0)
        if ev.type == "DELETED":
            life["gone"] = True
    out: dict[str, list[str]] = {}
    for uid in order:
        life = lives[uid]
        parts = [f"{life['name']} created {_t(life['created'])}"]
        if life["ip"]:
            parts.append(f"ip {life['ip']}")
        if life["terminating"] is not None:
            parts.append(f"terminating {_t(life['terminating'])}")
        if life["gone"]:
            parts.append("gone")
        out.setdefault(life["node"] or "(unscheduled)", []).append(", ".join(parts))
    return out


def failure_story(cluster: "Cluster", events: int = 20) -> str:
    lines = [f"seed: {cluster.seed}   (fakekube.Cluster(seed={cluster.seed}, ...) replays it)",
             f"virtual time: {_t(cluster.now)}"]
    nodes = cluster.list("Node")["items"]
    failed = sorted(n for n, a in cluster.kubelets.agents.items() if a.failed)
    lines.append(f"nodes: {', '.join(n['metadata']['name'] for n in nodes) or '-'}"
                 + (f"   failed: {', '.join(failed)}" if failed else ""))
    lines.append("")
    lines.append("pods, by node:")
    for node, lives in sorted(pod_timeline(cluster).items()):
        lines.append(f"  {node}:")
        lines.extend(f"    {line}" for line in lives[-15:])
    lines.append("")
    lines.append(f"last {events} events:")
    for e in cluster.events()[-events:]:
        obj = e["involvedObject"]
        lines.append(f"  {e.get('lastTimestamp', '')} {e['type']:<7} {e['reason']:<24} "
                     f"{obj.get('kind', '').lower()}/{obj.get('name', '')}: {e['message']}")
    busy = cluster.manager.busy()
    pending = [t for t in cluster.clock.timers() if t.pending]
    lines.append("")
    if busy or pending:
        lines.append("not settled:")
        for name, keys in busy:
            lines.append(f"  {name}: {len(keys)} queued key(s)")
        for t in pending[:10]:
            lines.append(f"  deadline {_t(t.when)}: {t.label or t.callback}")
    else:
        lines.append("settled: nothing queued, no deadline pending")
    return "\n".join(lines)
