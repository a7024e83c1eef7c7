"""ControllerRevisions of a StatefulSet: how templates are recorded, named and compared.

Follows kubernetes/kubernetes ``pkg/controller/history/controller_history.go`` and the
revision parts of ``stateful_set_utils.go`` (``getPatch``, ``newRevision``, ``ApplyRevision``):
a revision records only ``spec.template``, as the strategic merge patch
``{"spec": {"template": {..., "$patch": "replace"}}}``; it is named ``<set>-<hash>``, where
the hash is FNV-32a over the recorded data (and the collision count, when there were
collisions), written with the alphabet of ``rand.SafeEncodeString``. The hash is stable for
one template and differs between templates; it need not equal upstream's bytes (SS-23).
"""

from __future__ import annotations

import json
from typing import Iterable

from ...api.objects import NAME_ALPHABET, deep_copy

__all__ = ["HASH_LABEL", "revision_data", "hash_revision", "new_revision", "equal_revision",
           "template_of", "apply_revision", "sort_revisions", "next_revision"]

HASH_LABEL = "controller.kubernetes.io/hash"


def revision_data(sset: dict) -> dict:
    template = deep_copy((sset.get("spec") or {}).get("template") or {})
    template["$patch"] = "replace"
    return {"spec": {"template": template}}


def _fnv32a(data: bytes, h: int = 0x811C9DC5) -> int:
    for b in data:
        h ^= b
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h


def hash_revision(data: dict, collision_count: int | None) -> str:
    raw = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
    h = _fnv32a(raw)
    if collision_count:
        h = _fnv32a(str(collision_count).encode(), h)
    return "".join(NAME_ALPHABET[b % len(NAME_ALPHABET)] for b in str(h).encode())


def new_revision(sset: dict, revision: int, collision_count: int) -> dict:
    """The ControllerRevision that records ``sset``'s template (``newRevision``)."""
    m = sset["metadata"]
    data = revision_data(sset)
    h = hash_revision(data, collision_count)
    tlabels = (((sset.get("spec") or {}).get("template") or {}).get("metadata") or {}).get(
        "labels") or {}
    meta: dict = {"name": f"{m['name']}-{h}", "namespace": m["namespace"],
                  "labels": {**tlabels, HASH_LABEL: h},
                  "ownerReferences": [{"apiVersion": "apps/v1", "kind": "StatefulSet",
                                       "name": m["name"], "uid": m["uid"], "controller": True,
                                       "blockOwnerDeletion": True}]}
    if m.get("annotations"):
        meta["annotations"] = dict(m["annotations"])
    return {"apiVersion": "apps/v1", "kind": "ControllerRevision", "metadata": meta,
            "data": data, "revision": revision}


def equal_revision(a: dict, b: dict) -> bool:
    """``history.EqualRevision``: same recorded data (and the same hash label if both have
    one)."""
    ha = (a["metadata"].get("labels") or {}).get(HASH_LABEL)
    hb = (b["metadata"].get("labels") or {}).get(HASH_LABEL)
    if ha and hb and ha != hb:
        return False
    return a.get("data") == b.get("data")


def template_of(revision: dict) -> dict:
    data = deep_copy(((revision.get("data") or {}).get("spec") or {}).get("template") or {})
    data.pop("$patch", None)
    return data


def apply_revision(sset: dict, revision: dict) -> dict:
    """The set as it was at ``revision`` (``ApplyRevision``): only the template differs.
    Shares everything but ``spec`` with ``sset``; read-only."""
    out = dict(sset)
    out["spec"] = dict(sset.get("spec") or {}, template=template_of(revision))
    return out


def sort_revisions(revisions: Iterable[dict]) -> list[dict]:
    """By revision number, then creation, then name (``SortControllerRevisions``)."""
    return sorted(revisions, key=lambda r: (r.get("revision", 0),
                                            r["metadata"].get("creationTimestamp", ""),
                                            r["metadata"]["name"]))


def next_revision(revisions: list[dict]) -> int:
    return (revisions[-1].get("revision", 0) + 1) if revisions else 1
