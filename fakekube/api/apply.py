"""Server-side apply and field ownership: ``metadata.managedFields`` as upstream keeps it.

This module owns what ``PATCH`` with ``application/apply-patch+yaml`` does, and the
bookkeeping every other write does to ``managedFields`` (an ``Update`` entry per manager):

- **field sets** in the ``FieldsV1`` wire form (``{"f:spec": {"f:replicas": {}}}``): ``f:``
  a struct field or map key, ``k:{"name":"web"}`` an item of a list keyed by its list-map
  keys (sorted by key name), ``v:"x"`` an item of a set, ``.`` the node itself when it also
  has children. A set *is* its FieldsV1 dict here, so nothing is converted on the way out;
- **the merge** of an applied configuration into the live object, by the type of each
  field: structs and granular maps merge per key, associative lists (``listType=map``, or a
  ``patchStrategy=merge`` list with a ``patchMergeKey``) merge per item key, sets of scalars
  merge per value, everything else (atomic lists, ``structType=atomic`` structs,
  ``mapType=atomic`` maps, untyped values) is replaced whole. The item order of merged
  lists follows structured-merge-diff's interleaving of the live and applied orders;
- **ownership**: the applier's set becomes exactly what it sent; fields it sent before and
  no longer sends are removed unless another manager owns them; a field another manager
  owns and whose value the apply would change is a conflict (409 ``Apply failed with N
  conflict(s)``), unless ``force`` takes it over; fields an update removes leave every
  manager's set;
- **updates** (create, PUT, merge/strategic/json patches, subresource writes): the writer's
  ``Update`` entry gains what it added or changed and loses what it removed, and other
  managers lose what it removed.

Managers are identified as upstream does: ``(manager, operation, subresource)`` for appliers
(every apiVersion is the same applier) and ``(manager, operation, apiVersion, subresource)``
for updaters. The system fields of ``metadata`` (name, namespace, uid, resourceVersion,
generation, creationTimestamp, managedFields, ...) and the fields the write may not change
(``status`` on the main resource of a kind with a status subresource; everything but
``status`` and ``metadata`` on ``/status``) are owned by nobody.

Upstream (facts; the code is our own): ``sigs.k8s.io/structured-merge-diff``
``merge/update.go`` (Updater.Apply/Update/prune, conflicts), ``merge/conflict.go``,
``typed/merge.go`` (list order), ``typed/tofieldset.go``, ``typed/remove.go``,
``fieldpath/serialize-pe.go`` and ``fieldpath/element.go`` (FieldsV1 and path strings);
``kubernetes/kubernetes:staging/src/k8s.io/apimachinery/pkg/util/managedfields/internal/``
(``conflict.go``: the 409 message, ``stripmeta.go``, ``managedfields.go``: manager
identifiers, ``fieldmanager.go``: entry order), ``.../endpoints/handlers/patch.go``
(``applyPatcher``: the version check, create on apply).

Wiring into :class:`fakekube.api.server.ApiServer`: see :func:`server_side_apply` and
:func:`track_update`.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Iterable

from .. import errors
from ._schema import TYPES
from .patch import MERGE_KEYS

if TYPE_CHECKING:
    from .registry import ResourceType
    from .server import ApiServer

__all__ = ["field_set", "merge", "server_side_apply", "track_update", "apply_to",
           "ignored_fields",
           "Conflicts", "path_strings", "union", "difference", "intersection"]

FieldSet = dict  # FieldsV1 form: {"f:spec": {"f:replicas": {}}, ".": {}}

# -- schema facts beyond the patch tags ------------------------------------------------------

# Associative lists whose list-map keys are more than the patch merge key (+listMapKey).
_LIST_MAP_KEYS: dict[tuple[str, str], tuple[str, ...]] = {
    ("core_v1.Container", "ports"): ("containerPort", "protocol"),
    ("core_v1.EphemeralContainer", "ports"): ("containerPort", "protocol"),
    ("core_v1.ServiceSpec", "ports"): ("port", "protocol"),
    ("core_v1.PodSpec", "topologySpreadConstraints"): ("topologyKey", "whenUnsatisfiable"),
}
# Default values of list-map key fields a client may leave out (OpenAPI defaults).
_KEY_DEFAULTS = {"protocol": "TCP"}
# +structType=atomic
_ATOMIC_STRUCTS = {"meta_v1.LabelSelector", "core_v1.ObjectReference",
                   "core_v1.LocalObjectReference", "core_v1.TypedLocalObjectReference"}
# +mapType=atomic
_ATOMIC_MAPS = {("core_v1.PodSpec", "nodeSelector"), ("core_v1.ServiceSpec", "selector"),
                ("core_v1.ReplicationControllerSpec", "selector")}

ATOMIC, MAP_LIST, SET_LIST, STRUCT, MAP, LEAF = "atomic", "maplist", "set", "struct", "map", "leaf"


def _list_kind(parent: str | None, field: str) -> tuple[str, tuple[str, ...]]:
    if parent is None:
        return ATOMIC, ()
    keys = _LIST_MAP_KEYS.get((parent, field))
    if keys:
        return MAP_LIST, keys
    tag = MERGE_KEYS.get((parent, field))
    if tag and "merge" in tag[0].split(","):
        if tag[1]:
            return MAP_LIST, (tag[1],)
        return SET_LIST, ()
    return ATOMIC, ()


class _T:
    """How one value is merged: ``kind`` and, for containers, the element type."""

    __slots__ = ("kind", "name", "elem", "keys")

    def __init__(self, kind: str, name: str | None = None, elem: str | None = None,
                 keys: tuple[str, ...] = ()) -> None:
        self.kind, self.name, self.elem, self.keys = kind, name, elem, keys


_LEAF = _T(LEAF)
_CACHE: dict[tuple, _T] = {}


def _resolve(t: str | None, parent: str | None = None, field: str = "") -> _T:
    """The merge type of a field of type ``t`` (``parent.field``)."""
    key = (t, parent, field)
    got = _CACHE.get(key)
    if got is not None:
        return got
    if t is None or t not in TYPES and t[0] not in "[{":
        got = _LEAF
    elif t[0] == "[":
        kind, keys = _list_kind(parent, field)
        got = _T(kind, elem=t[1:], keys=keys)
    elif t[0] == "{":
        got = _T(ATOMIC if (parent, field) in _ATOMIC_MAPS else MAP, elem=t[1:])
    elif t in _ATOMIC_STRUCTS:
        got = _T(ATOMIC, name=t)
    else:
        got = _T(STRUCT, name=t)
    _CACHE[key] = got
    return got


def _child(tt: _T, key: str) -> _T:
    if tt.kind == STRUCT:
        return _resolve(TYPES[tt.name].get(key), tt.name, key)
    if tt.kind == MAP:
        return _resolve(tt.elem)
    return _LEAF


def _item_type(tt: _T) -> _T:
    return _resolve(tt.elem)


# -- path elements -----------------------------------------------------------------------------

def _jdump(v: Any) -> str:
    return json.dumps(v, separators=(",", ":"), ensure_ascii=False)


def _item_pe(tt: _T, item: Any, index: int) -> str:
    if tt.kind == MAP_LIST and isinstance(item, dict):
        fields = {}
        for k in sorted(tt.keys):
            v = item.get(k, _KEY_DEFAULTS.get(k))
            if v is None:
                continue
            fields[k] = v
        if not fields:
            raise errors.Invalid(
                f"associative list with keys has an element that omits key field "
                f"{_jdump(tt.keys[0])} (and doesn't have default value)", {})
        return "k:" + _jdump(fields)
    if tt.kind == SET_LIST:
        return "v:" + _jdump(item)
    return f"i:{index}"


# -- sets --------------------------------------------------------------------------------------

def _member(node: dict) -> bool:
    return not node or "." in node


def _node(member: bool, children: dict) -> dict:
    if not children:
        return {} if member else None  # type: ignore[return-value]
    out = {".": {}} if member else {}
    out.update(children)
    return out


def _children(node: dict) -> Iterable[tuple[str, dict]]:
    return ((k, v) for k, v in node.items() if k != ".")


def union(a: FieldSet | None, b: FieldSet | None) -> FieldSet:
    if not a:
        return _copy(b or {})
    if not b:
        return _copy(a)
    return _union_node(a, b, top=True) or {}


def _union_node(a: dict, b: dict, top: bool = False) -> dict:
    member = (not top) and (_member(a) or _member(b))
    kids = {}
    for k, v in _children(a):
        kids[k] = _union_node(v, b[k]) if k in b else _copy(v)
    for k, v in _children(b):
        if k not in kids:
            kids[k] = _copy(v)
    if top:
        return kids
    return _node(member, kids)


def difference(a: FieldSet | None, b: FieldSet | None) -> FieldSet:
    if not a:
        return {}
    if not b:
        return _copy(a)
    return _diff_node(a, b, top=True) or {}


def _diff_node(a: dict, b: dict, top: bool = False) -> dict | None:
    member = (not top) and _member(a) and not _member(b)
    kids = {}
    for k, v in _children(a):
        if k in b:
            r = _diff_node(v, b[k])
            if r is not None:
                kids[k] = r
        else:
            kids[k] = _copy(v)
    if top:
        return kids
    return _node(member, kids)


def intersection(a: FieldSet | None, b: FieldSet | None) -> FieldSet:
    if not a or not b:
        return {}
    return _inter_node(a, b, top=True) or {}


def _inter_node(a: dict, b: dict, top: bool = False) -> dict | None:
    member = (not top) and _member(a) and _member(b)
    kids = {}
    for k, v in _children(a):
        if k in b:
            r = _inter_node(v, b[k])
            if r is not None:
                kids[k] = r
    if top:
        return kids
    return _node(member, kids)


def _copy(node: dict) -> dict:
    return {k: _copy(v) for k, v in node.items()}


def _add_path(s: FieldSet, path: list[str]) -> None:
    node = s
    for i, pe in enumerate(path):
        nxt = node.get(pe)
        last = i == len(path) - 1
        if nxt is None:
            nxt = node[pe] = {}
        elif not last and not nxt:
            # it was a bare member: it now has children too
            nxt["."] = {}
        elif last and nxt and "." not in nxt:
            nxt["."] = {}
        node = nxt


def path_strings(s: FieldSet, prefix: str = "") -> list[str]:
    """Every member of ``s`` as upstream prints a path: ``.spec.containers[name="a"].image``."""
    out = []
    for k, v in _children(s):
        p = prefix + _pe_string(k)
        if _member(v):
            out.append(p)
        out.extend(path_strings(v, p))
    return out


def _pe_string(pe: str) -> str:
    kind, _, rest = pe.partition(":")
    if kind == "f":
        return "." + rest
    if kind == "k":
        fields = json.loads(rest)
        return "[" + ",".join(f"{k}={_jdump(v)}" for k, v in fields.items()) + "]"
    if kind == "v":
        return f"[={rest}]"
    return f"[{rest}]"


_PE_ORDER = {"f": 0, "k": 1, "v": 2, "i": 3}


def _pe_key(pe: str) -> tuple[int, str]:
    return _PE_ORDER.get(pe[0], 4), pe


def _sorted(s: FieldSet) -> FieldSet:
    """A copy of ``s`` in upstream's serialization order: ``.`` first, then the children by
    the kind of their path element (``f:``, ``k:``, ``v:``, ``i:``), then by text."""
    out = {".": {}} if "." in s else {}
    keys = [k for k in s if k != "."]
    if len(keys) > 1:
        head = keys[0][0]
        if all(k[0] == head for k in keys):
            keys.sort()  # one kind of element (the usual case): text order is the order
        else:
            keys.sort(key=_pe_key)
    for k in keys:
        v = s[k]
        out[k] = _sorted(v) if v else {}
    return out


# -- the field set of a value -----------------------------------------------------------------

_STRIP_META = {"name", "namespace", "creationTimestamp", "selfLink", "uid", "generation",
               "managedFields", "resourceVersion", "clusterName", "deletionTimestamp",
               "deletionGracePeriodSeconds"}


def field_set(obj: dict, type_name: str) -> FieldSet:
    """The fields ``obj`` sets, as a FieldsV1 set (``apiVersion``, ``kind`` and the system
    fields of ``metadata`` left out)."""
    out: FieldSet = {}
    tt = _resolve(type_name)
    for k, v in obj.items():
        if k in ("apiVersion", "kind"):
            continue
        ct = _child(tt, k)
        if k == "metadata" and isinstance(v, dict):
            mt = ct
            kids = {}
            for mk, mv in v.items():
                if mk in _STRIP_META:
                    continue
                n = _value_set(mv, _child(mt, mk), mk, mt)
                if n is not None:
                    kids["f:" + mk] = n
            if kids:
                out["f:metadata"] = kids
            continue
        n = _value_set(v, ct, k, tt)
        if n is not None:
            out["f:" + k] = n
    return out


def _value_set(v: Any, tt: _T, key: str, parent: _T) -> dict | None:
    """The node for a field holding ``v``: a member leaf, or a container of children."""
    kind = tt.kind
    if kind in (LEAF, ATOMIC) or v is None:
        return {}
    if kind in (STRUCT, MAP):
        if not isinstance(v, dict):
            return {}
        kids = {}
        for k, x in v.items():
            n = _value_set(x, _child(tt, k), k, tt)
            if n is None:
                continue
            if kind == MAP and n and "." not in n:
                n = dict(n)
                n["."] = {}
            kids["f:" + k] = n
        if not kids:
            return None if kind == STRUCT and parent.kind == STRUCT else {}
        return kids
    if kind in (MAP_LIST, SET_LIST):
        if not isinstance(v, list):
            return {}
        it = _item_type(tt)
        kids = {}
        for i, item in enumerate(v):
            pe = _item_pe(tt, item, i)
            if kind == SET_LIST:
                kids[pe] = {}
                continue
            sub = _value_set(item, it, "", tt) or {}
            if sub:
                sub = dict(sub)
                sub["."] = {}
            kids[pe] = sub
        return kids if kids else {}
    return {}


# -- merge -------------------------------------------------------------------------------------

def merge(live: Any, config: Any, type_name: str) -> Any:
    """The applied configuration merged into the live object (neither is changed)."""
    return _merge(live, config, _resolve(type_name))


def _merge(lhs: Any, rhs: Any, tt: _T) -> Any:
    if rhs is _ABSENT:
        return lhs
    if lhs is _ABSENT:
        return rhs
    kind = tt.kind
    if kind in (STRUCT, MAP) and isinstance(lhs, dict) and isinstance(rhs, dict):
        out = dict(lhs)
        for k, v in rhs.items():
            out[k] = _merge(lhs.get(k, _ABSENT), v, _child(tt, k)) if k in lhs else v
        return out
    if kind in (MAP_LIST, SET_LIST) and isinstance(lhs, list) and isinstance(rhs, list) and (
            lhs or rhs):
        return _merge_lists(lhs, rhs, tt)
    return rhs


_ABSENT = object()


def _index(items: list, tt: _T) -> tuple[list[str], dict[str, Any]]:
    order: list[str] = []
    seen: dict[str, Any] = {}
    for i, item in enumerate(items):
        pe = _item_pe(tt, item, i)
        if pe in seen:
            if tt.kind == SET_LIST:
                continue
            raise errors.Invalid(f"duplicate entries for key {_pe_string(pe)}", {})
        seen[pe] = item
        order.append(pe)
    return order, seen


def _merge_lists(lhs: list, rhs: list, tt: _T) -> list:
    """structured-merge-diff's order: live items keep their places, applied items that are
    new go where the applied order puts them, shared items follow the applied order."""
    it = _item_type(tt)
    r_order, r_seen = _index(rhs, tt)
    l_order, l_seen = _index(lhs, tt)
    shared = [pe for pe in r_order if pe in l_seen]
    si = 0
    next_shared = shared[0] if shared else None
    out = []
    li = ri = 0
    while li < len(l_order) or ri < len(r_order):
        if li < len(l_order) and ri < len(r_order):
            pe = l_order[li]
            if pe == r_order[ri]:
                out.append(_merge(l_seen[pe], r_seen[pe], it))
                li += 1
                ri += 1
                si += 1
                next_shared = shared[si] if si < len(shared) else None
                continue
            if pe in r_seen and next_shared is not None and next_shared != pe:
                li += 1
                continue
        if li < len(l_order):
            pe = l_order[li]
            if pe not in r_seen:
                out.append(l_seen[pe])
                li += 1
                continue
        if ri < len(r_order):
            pe = r_order[ri]
            out.append(_merge(l_seen.get(pe, _ABSENT), r_seen[pe], it))
            ri += 1
            if next_shared is not None and next_shared == pe:
                si += 1
                next_shared = shared[si] if si < len(shared) else None
    return out


# -- removing fields ---------------------------------------------------------------------------

def _remove(obj: Any, s: FieldSet, tt: _T) -> Any:
    """``obj`` without the members of ``s`` (whole subtrees); containers emptied by the
    removal go too. Returns _ABSENT when ``obj`` itself goes."""
    if not s:
        return obj
    if isinstance(obj, dict) and tt.kind in (STRUCT, MAP):
        out = {}
        for k, v in obj.items():
            node = s.get("f:" + k)
            if node is None:
                out[k] = v
                continue
            if _member(node) and tt.kind == STRUCT or (_member(node) and tt.kind == MAP):
                continue
            r = _remove(v, node, _child(tt, k))
            if r is not _ABSENT:
                out[k] = r
        if not out and obj:
            return _ABSENT
        return out
    if isinstance(obj, list) and tt.kind in (MAP_LIST, SET_LIST):
        it = _item_type(tt)
        out_l = []
        for i, item in enumerate(obj):
            pe = _item_pe(tt, item, i)
            node = s.get(pe)
            if node is None:
                out_l.append(item)
                continue
            if _member(node):
                continue
            r = _remove(item, node, it)
            if r is not _ABSENT:
                out_l.append(r)
        if not out_l and obj:
            return _ABSENT
        return out_l
    return obj


def _remove_top(obj: dict, s: FieldSet, type_name: str) -> dict:
    tt = _resolve(type_name)
    out = {}
    for k, v in obj.items():
        node = s.get("f:" + k)
        if node is None or k in ("apiVersion", "kind"):
            out[k] = v
            continue
        if k == "metadata":
            meta = {}
            for mk, mv in v.items():
                mnode = node.get("f:" + mk)
                if mnode is None or mk in _STRIP_META:
                    meta[mk] = mv
                    continue
                if _member(mnode):
                    continue
                r = _remove(mv, mnode, _child(_child(tt, "metadata"), mk))
                if r is not _ABSENT:
                    meta[mk] = r
            out[k] = meta
            continue
        if _member(node):
            continue
        r = _remove(v, node, _child(tt, k))
        if r is not _ABSENT:
            out[k] = r
    return out


# -- comparing ---------------------------------------------------------------------------------

def _compare(old: Any, new: Any, tt: _T, path: list[str], added: FieldSet, modified: FieldSet,
             removed: FieldSet, top: bool = False) -> None:
    kind = tt.kind
    if kind in (STRUCT, MAP) and isinstance(old, dict) and isinstance(new, dict):
        for k, v in new.items():
            if top and k in ("apiVersion", "kind"):
                continue
            ct = _child(tt, k)
            p = path + ["f:" + k]
            if top and k == "metadata":
                _compare_meta(old.get(k) or {}, v, ct, p, added, modified, removed)
                continue
            if k in old:
                if old[k] != v:
                    _compare(old[k], v, ct, p, added, modified, removed)
            else:
                _graft(added, p, _value_set(v, ct, k, tt))
        for k, v in old.items():
            if k not in new and not (top and k in ("apiVersion", "kind")):
                _graft(removed, path + ["f:" + k], _value_set(v, _child(tt, k), k, tt))
        return
    if kind in (MAP_LIST, SET_LIST) and isinstance(old, list) and isinstance(new, list):
        it = _item_type(tt)
        try:
            _, lo = _index(old, tt)
            _, ro = _index(new, tt)
        except errors.ApiError:
            _add_path(modified, path)
            return
        for pe, v in ro.items():
            p = path + [pe]
            if pe in lo:
                if lo[pe] != v and kind == MAP_LIST:
                    _compare(lo[pe], v, it, p, added, modified, removed)
            else:
                n = {} if kind == SET_LIST else (_value_set(v, it, "", tt) or {})
                if n:
                    n = dict(n, **{".": {}})
                _graft(added, p, n)
        for pe, v in lo.items():
            if pe not in ro:
                n = {} if kind == SET_LIST else (_value_set(v, it, "", tt) or {})
                if n:
                    n = dict(n, **{".": {}})
                _graft(removed, path + [pe], n)
        return
    if old != new:
        _add_path(modified, path)


def _compare_meta(old: dict, new: dict, mt: _T, path: list[str], added: FieldSet,
                  modified: FieldSet, removed: FieldSet) -> None:
    for k, v in new.items():
        if k in _STRIP_META:
            continue
        p = path + ["f:" + k]
        ct = _child(mt, k)
        if k in old:
            if old[k] != v:
                _compare(old[k], v, ct, p, added, modified, removed)
        else:
            _graft(added, p, _value_set(v, ct, k, mt))
    for k, v in old.items():
        if k not in new and k not in _STRIP_META:
            _graft(removed, path + ["f:" + k], _value_set(v, _child(mt, k), k, mt))


def _graft(s: FieldSet, path: list[str], node: dict | None) -> None:
    if node is None:
        return
    cur = s
    for pe in path[:-1]:
        nxt = cur.get(pe)
        if nxt is None:
            nxt = cur[pe] = {"\0": {}}  # placeholder: an intermediate, not a member
        elif not nxt:
            nxt["."] = {}
        cur = nxt
    last = path[-1]
    if last in cur:
        merged = union({"x": cur[last]}, {"x": node})["x"]
        cur[last] = merged
    else:
        cur[last] = node if node else {}
    _clean(s)


def _clean(s: dict) -> None:
    s.pop("\0", None)
    for k, v in list(s.items()):
        if k == ".":
            continue
        if "\0" in v:
            v.pop("\0")
            _clean(v)
            if not v:
                del s[k]
        else:
            _clean(v)


def _compare_top(old: dict | None, new: dict, type_name: str) -> tuple[FieldSet, FieldSet,
                                                                      FieldSet]:
    added: FieldSet = {}
    modified: FieldSet = {}
    removed: FieldSet = {}
    if old is None:
        return field_set(new, type_name), modified, removed
    _compare(old, new, _resolve(type_name), [], added, modified, removed, top=True)
    return added, modified, removed


# -- managers ----------------------------------------------------------------------------------

class _Manager:
    __slots__ = ("manager", "operation", "api_version", "subresource", "time", "fields")

    def __init__(self, manager: str, operation: str, api_version: str, subresource: str,
                 time: str | None, fields: FieldSet) -> None:
        self.manager, self.operation = manager, operation
        self.api_version, self.subresource = api_version, subresource
        self.time, self.fields = time, fields

    @property
    def ident(self) -> str:
        key = (self.manager, self.operation, self.api_version, self.subresource)
        got = _IDENTS.get(key)
        if got is None:
            d: dict[str, Any] = {"manager": self.manager, "operation": self.operation}
            if self.operation != "Apply":
                d["apiVersion"] = self.api_version
            if self.subresource:
                d["subresource"] = self.subresource
            got = _jdump(d)
            if len(_IDENTS) >= 4096:
                _IDENTS.clear()
            _IDENTS[key] = got
        return got

    def describe(self) -> str:
        """``printManager``: how a conflict names this manager."""
        s = _jdump(self.manager)
        if self.subresource:
            s += f" with subresource {_jdump(self.subresource)}"
        if self.operation == "Update":
            s += f" using {self.api_version}"
        return s

    def entry(self) -> dict:
        e: dict[str, Any] = {"manager": self.manager, "operation": self.operation,
                             "apiVersion": self.api_version}
        if self.time:
            e["time"] = self.time
        e["fieldsType"] = "FieldsV1"
        e["fieldsV1"] = _sorted(self.fields)
        if self.subresource:
            e["subresource"] = self.subresource
        return e


# (manager, operation, apiVersion, subresource) -> the manager's identifier (its JSON text)
_IDENTS: dict[tuple[str, str, str, str], str] = {}


def _managers(meta: dict) -> dict[str, _Manager]:
    out: dict[str, _Manager] = {}
    for e in meta.get("managedFields") or ():
        if not isinstance(e, dict) or e.get("fieldsType", "FieldsV1") != "FieldsV1":
            continue
        m = _Manager(str(e.get("manager", "")), str(e.get("operation", "Update")),
                     str(e.get("apiVersion", "")), str(e.get("subresource", "") or ""),
                     e.get("time"), _copy(e.get("fieldsV1") or {}))
        prev = out.get(m.ident)
        if prev is not None:
            prev.fields = union(prev.fields, m.fields)
        else:
            out[m.ident] = m
    return out


def _encode(managers: dict[str, _Manager]) -> list[dict] | None:
    live = [m for m in managers.values() if m.fields]
    if not live:
        return None
    live.sort(key=lambda m: (m.operation, m.time or "", m.manager, m.api_version,
                             m.subresource))
    return [m.entry() for m in live]


def ignored_fields(rt: "ResourceType", subresource: str | None, obj: dict) -> FieldSet:
    """Fields this write may not change (the strategy's reset fields)."""
    if subresource == "status":
        return {"f:" + k: {} for k in obj if k not in ("status", "metadata", "apiVersion",
                                                      "kind")} | {"f:spec": {}}
    if rt.has_status:
        return {"f:status": {}}
    return {}


# -- conflicts -------------------------------------------------------------------------------------

class Conflicts(errors.Conflict):
    """The 409 of an apply that would change fields other managers own."""


def _conflict_error(conflicts: list[tuple[_Manager, str]]) -> errors.Conflict:
    causes = [{"reason": "FieldManagerConflict", "message": f"conflict with {m.describe()}",
               "field": p} for m, p in conflicts]
    if len(conflicts) == 1:
        m, p = conflicts[0]
        msg = f"Apply failed with 1 conflict: conflict with {m.describe()}: {p}"
    else:
        by: dict[str, tuple[_Manager, list[str]]] = {}
        for m, p in conflicts:
            by.setdefault(m.describe(), (m, []))[1].append(p)
        lines = []
        for name in sorted(by, key=lambda d: by[d][0].ident):
            lines.append(f"conflicts with {name}:")
            lines.extend(f"- {p}" for p in by[name][1])
        msg = f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(lines)
    return Conflicts(msg, {"causes": causes})


# -- the operations ----------------------------------------------------------------------------

def apply_to(live: dict | None, config: dict, *, manager: str, api_version: str,
             type_name: str, force: bool, now: str, ignored: FieldSet | None = None,
             subresource: str = "") -> dict:
    """The object after ``manager`` applies ``config`` to ``live`` (None: absent), with
    ``metadata.managedFields`` updated; raises the 409 of a conflict unless ``force``."""
    base = live if live is not None else {"apiVersion": config.get("apiVersion"),
                                          "kind": config.get("kind"), "metadata": {}}
    managers = _managers(base.get("metadata") or {})
    me = _Manager(manager, "Apply", api_version, subresource, now, {})
    last = managers.get(me.ident)
    new_set = difference(field_set(config, type_name), ignored)
    merged = merge(_without_managed(base), config, type_name)
    others = [m for k, m in managers.items() if k != me.ident]
    # prune what this manager applied before and nobody owns now
    if last is not None and last.fields:
        owned = new_set
        for m in others:
            owned = union(owned, m.fields)
        gone = difference(last.fields, owned)
        if gone:
            merged = _remove_top(merged, gone, type_name)
    added, modified, removed = _compare_top(_without_managed(base) if live is not None
                                            else None, merged, type_name)
    changed = difference(union(added, modified), ignored)
    conflicts: list[tuple[_Manager, str]] = []
    for m in others:
        hit = intersection(m.fields, changed)
        if hit:
            conflicts.extend((m, p) for p in path_strings(hit))
    if conflicts and not force:
        raise _conflict_error(conflicts)
    for m in others:
        m.fields = difference(m.fields, changed) if force else m.fields
        if removed:
            m.fields = difference(m.fields, removed)
    if last is not None and last.fields == new_set and not (added or modified or removed):
        me.time = last.time
    me.fields = new_set
    managers[me.ident] = me
    meta = dict(merged.get("metadata") or {})
    entries = _encode(managers)
    if entries:
        meta["managedFields"] = entries
    else:
        meta.pop("managedFields", None)
    merged["metadata"] = meta
    return merged


def _without_managed(obj: dict) -> dict:
    meta = obj.get("metadata")
    if isinstance(meta, dict) and "managedFields" in meta:
        obj = dict(obj)
        obj["metadata"] = {k: v for k, v in meta.items() if k != "managedFields"}
    return obj


def track_update(old: dict | None, new: dict, *, manager: str | None, api_version: str,
                 type_name: str, now: str, ignored: FieldSet | None = None,
                 subresource: str = "") -> None:
    """Record an Update by ``manager`` in ``new["metadata"]["managedFields"]`` (in place;
    ``new`` must be the caller's private copy). ``old`` is the stored object (None for a
    create). Managed fields a client sent itself are kept as the starting point, as
    upstream honours them; an empty list clears them."""
    meta = new.setdefault("metadata", {})
    sent = meta.get("managedFields", _ABSENT)
    old_meta = (old or {}).get("metadata") or {}
    if sent is not _ABSENT and sent != old_meta.get("managedFields"):
        if not sent:
            meta.pop("managedFields", None)
            return
        base_meta = meta
    else:
        base_meta = old_meta
    managers = _managers(base_meta)
    if not manager:
        entries = _encode(managers)
        if entries:
            meta["managedFields"] = entries
        else:
            meta.pop("managedFields", None)
        return
    if old is None and not managers:
        # A create with no managed fields to start from (the usual create): the writer
        # owns exactly what the object sets, and is the only manager.
        fields = field_set(new, type_name)
        if ignored:
            fields = difference(fields, ignored)
        if fields:
            meta["managedFields"] = [_Manager(manager, "Update", api_version, subresource, now,
                                              fields).entry()]
        else:
            meta.pop("managedFields", None)
        return
    added, modified, removed = _compare_top(_without_managed(old) if old is not None else None,
                                            _without_managed(new), type_name)
    if ignored:
        added, modified, removed = (difference(added, ignored), difference(modified, ignored),
                                    difference(removed, ignored))
    me = _Manager(manager, "Update", api_version, subresource, now, {})
    prev = managers.get(me.ident)
    changed = union(added, modified)
    fields = difference(union(prev.fields if prev else {}, changed), removed)
    for k, m in managers.items():
        if k != me.ident and removed:
            m.fields = difference(m.fields, removed)
    if prev is not None and not changed and not removed:
        me.time = prev.time
    me.fields = fields
    managers[me.ident] = me
    entries = _encode(managers)
    if entries:
        meta["managedFields"] = entries
    else:
        meta.pop("managedFields", None)


def server_side_apply(api: "ApiServer", rt: "ResourceType", name: str, namespace: str | None,
                      patch: Any, *, field_manager: str | None, force: bool = False,
                      dry_run: bool = False, field_validation: str = "Strict",
                      subresource: str | None = None, copy_out: bool = True) -> dict:
    """``PATCH`` with ``application/apply-patch+yaml``: create the object when it is absent
    (main resource only), else apply; run the usual write pipeline; return what is stored.

    Call it from ``ApiServer.patch`` for ``patch_type == "apply"`` (it takes the store
    lock itself, which is re-entrant)."""
    if not field_manager:
        raise errors.invalid("PatchOptions", "meta.k8s.io", "", [errors.FieldError.required(
            "fieldManager", "is required for apply patch")])
    if not isinstance(patch, dict):
        raise errors.BadRequest("error decoding patch: the apply configuration must be an "
                                "object")
    if subresource not in (None, "", "status"):
        raise errors.resource_not_found()
    with api.store.lock:
        gv = patch.get("apiVersion")
        if gv != rt.api_version:
            raise errors.BadRequest(
                f"Incorrect version specified in apply patch. Specified patch version: "
                f"{gv if isinstance(gv, str) else ''}, expected: {rt.api_version}")
        kind = patch.get("kind")
        if kind != rt.kind:
            raise errors.BadRequest(
                f"Incorrect kind specified in apply patch. Specified patch kind: "
                f"{kind if isinstance(kind, str) else ''}, expected: {rt.kind}")
        config = api._decode(rt, patch, field_validation, owned=False)
        cmeta = config["metadata"]
        if cmeta.get("name") and cmeta["name"] != name:
            raise errors.BadRequest(f"the name of the object ({cmeta['name']}) does not match "
                                    f"the name on the URL ({name})")
        cmeta["name"] = name
        if rt.namespaced and cmeta.get("namespace") and namespace and (
                cmeta["namespace"] != namespace):
            raise errors.BadRequest("the namespace of the provided object does not match the "
                                    "namespace sent on the request")
        cmeta.pop("managedFields", None)
        table = api.table(rt)
        key = api._key(rt, name, namespace)
        live = table.objects.get(key)
        sub = subresource or ""
        if live is None:
            if sub:
                raise errors.not_found(rt.plural, rt.group, name)
            body = apply_to(None, config, manager=field_manager, api_version=rt.api_version,
                            type_name=rt.schema, force=force, now=api.now(),
                            ignored=ignored_fields(rt, None, config))
            body = api._decode(rt, body, "Ignore", owned=False)
            stored = api._create(rt, body, namespace, dry_run=dry_run)
        else:
            body = apply_to(live, config, manager=field_manager, api_version=rt.api_version,
                            type_name=rt.schema, force=force, now=api.now(),
                            ignored=ignored_fields(rt, sub or None, live), subresource=sub)
            body = api._decode(rt, body, "Ignore", owned=False)
            stored = api._write_update(rt, body, live, sub or None, dry_run=dry_run)
        return _copy_out(stored) if copy_out else stored


def _copy_out(obj: dict) -> dict:
    from .objects import deep_copy

    return deep_copy(obj)
