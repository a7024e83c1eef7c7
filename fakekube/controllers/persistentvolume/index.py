"""Matching claims to volumes: ``FindMatchingVolume`` and the PV controller's volume index.

Follows ``kubernetes/kubernetes:staging/src/k8s.io/component-helpers/storage/volume/pv_helpers.go``
(``FindMatchingVolume``, ``IsVolumeBoundToClaim``, ``CheckVolumeModeMismatches``,
``CheckAccessModes``), ``kubernetes/kubernetes:pkg/controller/volume/persistentvolume/index.go``
(``findByClaim``, ``allPossibleMatchingAccessModes``) and ``checkVolumeSatisfyClaim`` of
``kubernetes/kubernetes:pkg/controller/volume/persistentvolume/pv_controller.go``.

The rules (SPEC.md VOL-4): a volume whose claimRef names another claim is skipped (with a
claimRef UID, the UID must match too); capacity must cover the request, the volume mode must
match and the volume must not be being deleted; a volume pre-bound to the claim is taken at
once; otherwise it must be ``Available``, match the claim's selector and have the same class
(``""`` matches only ``""``), and the smallest such volume wins. The PV controller searches
volumes grouped by their access-mode set, smallest sets first, and only sets that contain
every mode the claim asks for.

:class:`VolumeIndex` answers the same question as upstream's linear scan without scanning: it
keeps unbound volumes sorted by capacity per (access-mode set, class), and volumes with a
claimRef by the claim they name. Ties between equally small volumes (a random pick upstream)
go to the first by name.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Callable, Iterable

from sortedcontainers import SortedList

from ...api.selectors import SelectorError, label_selector_from_dict
from .common import (claim_class, claim_volume_mode, quantity_of, storage_capacity,
                     storage_request, volume_class, volume_volume_mode)

__all__ = ["access_modes_key", "check_access_modes", "check_node_affinity",
           "check_volume_satisfy_claim", "find_matching_volume", "is_volume_bound_to_claim",
           "volume_mode_mismatch", "VolumeIndex"]

_EMPTY: dict = {}
_SHORT = {"ReadWriteOnce": "RWO", "ReadOnlyMany": "ROX", "ReadWriteMany": "RWX",
          "ReadWriteOncePod": "RWOP"}
_ORDER = ("ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod")


def access_modes_key(modes: Iterable[str] | None) -> str:
    """``GetAccessModesAsString``: the distinct modes in canonical order, abbreviated and
    comma-joined (``"RWO,ROX"``)."""
    present = set(modes or ())
    return ",".join(_SHORT[m] for m in _ORDER if m in present)


def is_volume_bound_to_claim(pv: dict, claim: dict) -> bool:
    """``IsVolumeBoundToClaim``: the claimRef names this claim (and its UID, when set)."""
    ref = (pv.get("spec") or _EMPTY).get("claimRef")
    if not ref:
        return False
    m = claim["metadata"]
    if ref.get("name") != m["name"] or ref.get("namespace") != m["namespace"]:
        return False
    uid = ref.get("uid")
    return not uid or uid == m.get("uid")


def volume_mode_mismatch(claim: dict, pv: dict) -> bool:
    """``CheckVolumeModeMismatches`` (an unset mode counts as Filesystem)."""
    return claim_volume_mode(claim) != volume_volume_mode(pv)


def check_access_modes(claim: dict, pv: dict) -> bool:
    """``CheckAccessModes``: the volume offers every mode the claim asks for."""
    offered = set((pv.get("spec") or _EMPTY).get("accessModes") or ())
    return all(m in offered for m in (claim.get("spec") or _EMPTY).get("accessModes") or ())


def check_volume_satisfy_claim(pv: dict, claim: dict) -> str | None:
    """``checkVolumeSatisfyClaim``: why a requested volume cannot serve the claim, or None.
    The reasons are upstream's, in its order."""
    if pv["metadata"].get("deletionTimestamp"):
        return f'the volume is marked for deletion "{pv["metadata"]["name"]}"'
    # Quantity.Value() rounds up to whole bytes on both sides.
    if _ceil(storage_capacity(pv)) < _ceil(storage_request(claim)):
        return "requested PV is too small"
    if volume_class(pv) != claim_class(claim):
        return "storageClassName does not match"
    if volume_mode_mismatch(claim, pv):
        return "incompatible volumeMode"
    if not check_access_modes(claim, pv):
        return "incompatible accessMode"
    return None


def _ceil(q: Fraction) -> int:
    return -((-q.numerator) // q.denominator)


def _requirement_matches(expr: dict, labels: dict) -> bool:
    op = expr.get("operator")
    key = expr.get("key", "")
    values = expr.get("values") or ()
    if op == "In":
        return key in labels and labels[key] in values
    if op == "NotIn":
        return key not in labels or labels[key] not in values
    if op == "Exists":
        return key in labels
    if op == "DoesNotExist":
        return key not in labels
    if op in ("Gt", "Lt") and key in labels and len(values) == 1:
        try:
            have, want = int(labels[key]), int(values[0])
        except ValueError:
            return False
        return have > want if op == "Gt" else have < want
    return False


def check_node_affinity(pv: dict, node_labels: dict | None) -> bool:
    """``CheckNodeAffinity``: a volume without required node affinity fits every node;
    otherwise one of its node selector terms must match all its expressions."""
    required = ((pv.get("spec") or _EMPTY).get("nodeAffinity") or _EMPTY).get("required")
    if not required:
        return True
    labels = node_labels or _EMPTY
    for term in required.get("nodeSelectorTerms") or ():
        exprs = term.get("matchExpressions") or ()
        if (exprs or term.get("matchFields")) and all(
                _requirement_matches(e, labels) for e in exprs):
            return True
    return False


def _selector_of(claim: dict):
    sel = (claim.get("spec") or _EMPTY).get("selector")
    if sel is None:
        return None
    try:
        return label_selector_from_dict(sel)
    except SelectorError:
        return False  # upstream: an error, and no match


def _is_candidate(pv: dict, claim: dict, request: Fraction) -> bool:
    """The checks every match needs: capacity, volume mode, not being deleted."""
    return (storage_capacity(pv) >= request and not volume_mode_mismatch(claim, pv)
            and not pv["metadata"].get("deletionTimestamp"))


def find_matching_volume(claim: dict, volumes: Iterable[dict], node_labels: dict | None = None,
                         excluded: Iterable[str] = (), delay_binding: bool = False
                         ) -> dict | None:
    """``FindMatchingVolume`` over ``volumes`` (in the given order, smallest capacity first
    among the rest). ``node_labels`` is given only on the scheduler's path: node affinity and
    access modes are then checked too. ``delay_binding`` (PV controller path only) skips
    volumes that are not pre-bound to the claim."""
    request = storage_request(claim)
    selector = _selector_of(claim)
    if selector is False:
        return None
    wanted_class = claim_class(claim)
    skip = set(excluded)
    best, best_qty = None, None
    for pv in volumes:
        if pv["metadata"]["name"] in skip:
            continue
        ref = (pv.get("spec") or _EMPTY).get("claimRef")
        bound_here = is_volume_bound_to_claim(pv, claim)
        if ref and not bound_here:
            continue
        if not _is_candidate(pv, claim, request):
            continue
        affinity_ok = node_labels is None or check_node_affinity(pv, node_labels)
        if bound_here:
            return pv if affinity_ok else None
        if node_labels is None and delay_binding:
            continue
        if (pv.get("status") or _EMPTY).get("phase") != "Available":
            continue
        if selector is not None and not selector.matches(pv["metadata"].get("labels")):
            continue
        if volume_class(pv) != wanted_class or not affinity_ok:
            continue
        if node_labels is not None and not check_access_modes(claim, pv):
            continue
        qty = storage_capacity(pv)
        if best is None or best_qty > qty:
            best, best_qty = pv, qty
    return best


class _Entry:
    __slots__ = ("modes", "cls", "capacity", "ref")

    def __init__(self, modes: str, cls: str, capacity: Fraction,
                 ref: tuple[str, str] | None) -> None:
        self.modes, self.cls, self.capacity, self.ref = modes, cls, capacity, ref

    def same(self, other: "_Entry") -> bool:
        return (self.modes == other.modes and self.cls == other.cls
                and self.capacity == other.capacity and self.ref == other.ref)


class VolumeIndex:
    """The PV controller's index of volumes (upstream's ``persistentVolumeOrderedIndex``),
    fed from PersistentVolume watch events; :meth:`find_best_match_for_claim` gives what
    ``findBestMatchForClaim`` gives."""

    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}
        self._unbound: dict[tuple[str, str], SortedList] = {}
        self._by_claim: dict[tuple[str, str], set[str]] = {}
        self._mode_count: dict[str, int] = {}
        self._mode_sets: dict[str, frozenset[str]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def upsert(self, pv: dict) -> None:
        spec = pv.get("spec") or _EMPTY
        ref = spec.get("claimRef")
        entry = _Entry(access_modes_key(spec.get("accessModes")), volume_class(pv),
                       quantity_of((spec.get("capacity") or _EMPTY).get("storage")),
                       (ref.get("namespace", ""), ref.get("name", "")) if ref else None)
        name = pv["metadata"]["name"]
        old = self._entries.get(name)
        if old is not None:
            if old.same(entry):
                return
            self._drop(name, old)
        self._entries[name] = entry
        n = self._mode_count.get(entry.modes, 0)
        self._mode_count[entry.modes] = n + 1
        if not n:
            self._mode_sets[entry.modes] = frozenset(entry.modes.split(",")) if entry.modes \
                else frozenset()
        if entry.ref is None:
            bucket = self._unbound.get((entry.modes, entry.cls))
            if bucket is None:
                bucket = self._unbound[(entry.modes, entry.cls)] = SortedList()
            bucket.add((entry.capacity, name))
        else:
            self._by_claim.setdefault(entry.ref, set()).add(name)

    def remove(self, name: str) -> None:
        old = self._entries.pop(name, None)
        if old is not None:
            self._drop(name, old)

    def _drop(self, name: str, old: _Entry) -> None:
        self._entries.pop(name, None)
        n = self._mode_count[old.modes] - 1
        if n:
            self._mode_count[old.modes] = n
        else:
            del self._mode_count[old.modes]
            del self._mode_sets[old.modes]
        if old.ref is None:
            bucket = self._unbound[(old.modes, old.cls)]
            bucket.remove((old.capacity, name))
            if not bucket:
                del self._unbound[(old.modes, old.cls)]
        else:
            names = self._by_claim[old.ref]
            names.discard(name)
            if not names:
                del self._by_claim[old.ref]

    def claimed_by(self, namespace: str, claim: str) -> list[str]:
        """Names of the volumes whose claimRef names this claim (any UID), sorted."""
        names = self._by_claim.get((namespace, claim))
        return sorted(names) if names else []

    def _mode_order(self, wanted: set[str]) -> list[str]:
        """``allPossibleMatchingAccessModes``: the indexed mode sets that contain every
        wanted mode, fewest modes first."""
        wanted_short = {_SHORT.get(m, m) for m in wanted}
        keys = [k for k, s in self._mode_sets.items() if wanted_short <= s]
        keys.sort(key=lambda k: (len(self._mode_sets[k]), k))
        return keys

    def find_best_match_for_claim(self, claim: dict, delay_binding: bool,
                                  get: Callable[[str], dict | None]) -> dict | None:
        """The volume the PV controller would bind this claim to, or None. ``get`` reads a
        volume by name (the informer)."""
        spec = claim.get("spec") or _EMPTY
        keys = self._mode_order(set(spec.get("accessModes") or ()))
        if not keys:
            return None
        request = storage_request(claim)
        m = claim["metadata"]
        prebound: dict[str, dict] = {}
        for name in self.claimed_by(m["namespace"], m["name"]):
            pv = get(name)
            entry = self._entries.get(name)
            if pv is None or entry is None or entry.modes in prebound:
                continue
            if is_volume_bound_to_claim(pv, claim) and _is_candidate(pv, claim, request):
                prebound[entry.modes] = pv
        selector = None
        wanted_class = claim_class(claim)
        for key in keys:
            pv = prebound.get(key)
            if pv is not None:
                return pv
            if delay_binding:
                continue
            bucket = self._unbound.get((key, wanted_class))
            if not bucket:
                continue
            if selector is None:
                selector = _selector_of(claim)
                if selector is False:
                    return None
                if selector is None:
                    selector = True
            for _, name in bucket.irange((request, ""), None):
                pv = get(name)
                if pv is None:
                    continue
                if (pv.get("status") or _EMPTY).get("phase") != "Available":
                    continue
                if pv["metadata"].get("deletionTimestamp") or volume_mode_mismatch(claim, pv):
                    continue
                if selector is not True and not selector.matches(pv["metadata"].get("labels")):
                    continue
                return pv
        return None
