"""The three patch types of the Kubernetes API, as pure functions over JSON-shaped values.

This module owns what the API server does with the body of a PATCH request before it decodes
the result into an object:

* ``merge_patch``            application/merge-patch+json (RFC 7386, as evanphx/json-patch v4
                             applies it), plus ``create_merge_patch``, its inverse;
* ``json_patch``             application/json-patch+json (RFC 6902, as evanphx/json-patch v4);
* ``strategic_merge_patch``  application/strategic-merge-patch+json, with the directives
                             ``$patch``, ``$retainKeys``, ``$setElementOrder/<list>`` and
                             ``$deleteFromPrimitiveList/<list>``, and lists merged by the
                             ``patchStrategy``/``patchMergeKey`` tags of the built-in Go types
                             (``MERGE_KEYS`` below).

Server-side apply (application/apply-patch+yaml) is not here.

Upstream files followed (facts only; the code is our own):

* ``kubernetes/kubernetes:staging/src/k8s.io/apiserver/pkg/endpoints/handlers/patch.go`` --
  decoding of the body, the 10000-operation limit, and how each failure becomes a Status;
* ``kubernetes/kubernetes:staging/src/k8s.io/apimachinery/pkg/util/strategicpatch/patch.go``
  (``StrategicMergeMapPatch`` with ``MergeParallelList`` and ``IgnoreUnmatchedNulls``);
* ``kubernetes/kubernetes:staging/src/k8s.io/apimachinery/pkg/util/mergepatch/errors.go``;
* ``evanphx/json-patch:merge.go`` and ``evanphx/json-patch:patch.go`` at v4.12.0, the version
  (``gopkg.in/evanphx/json-patch.v4``) that the v1.31 apiserver vendors;
* the struct tags of ``kubernetes/kubernetes:staging/src/k8s.io/api/{core,apps,policy,storage,
  discovery}/v1/types.go`` and ``.../apimachinery/pkg/apis/meta/v1/types.go``.

Contract
--------
No function mutates its inputs, and every result is built from fresh containers: it shares no
dict or list with ``original``, ``patch`` or ``operations``, so the caller may store or mutate it.
Unknown keys are kept; decoding the result into an object (and the 422 for a result that is not
one, e.g. a merge patch whose body is a list) is the caller's job.

Upstream quirks are kept on purpose, for example: a JSON-patch ``replace`` of a missing object
member adds it; ``copy`` from a missing member writes ``null``; a merge patch prunes nulls inside
arrays only where the target is absent or not an object; ``$deleteFromPrimitiveList/x`` on an
object without ``x`` sets ``x`` to the deletion list; a strategic patch list that replaces a
missing list keeps its ``$patch`` elements. Where the Go code would panic, ``PatchError`` says so
(``kind == "Panic"``).

Errors -- ``PatchError``: how the apiserver answers
---------------------------------------------------
Every failure raises ``PatchError`` with the Status fields the apiserver would send:

====== ======================= ================================================= =============
code   reason                  message                                           kind
====== ======================= ================================================= =============
400    BadRequest              the decode error (see below)                      BadRequest
413    RequestEntityTooLarge   ``Request entity too large: The allowed maximum   RequestEntity
                               operations in a JSON patch is 10000, got N``      TooLarge
422    Invalid                 ``the server rejected our request due to an error Invalid
                               in our request`` (details ``{}``; the library
                               error is only in ``.cause``)
500    (none)                  the library error text, e.g. ``map: map[image:x]  InternalError
                               does not contain declared merge key: name``
500    (plain text body)       ``This request caused apiserver to panic. Look in Panic
                               the logs for details.``
====== ======================= ================================================= =============

* json patch: body not decodable -> 400 (``error decoding patch: json: cannot unmarshal object
  into Go value of type []handlers.jsonPatchOp`` under fieldValidation Warn/Strict, the default;
  ``json: cannot unmarshal object into Go value of type jsonpatch.Patch`` under Ignore); more than
  10000 operations -> 413; any failure while applying (failed ``test``, missing path, bad index,
  unknown ``op``...) -> generic 422 (``errors.NewGenericServerResponse(422, ...)``, whose
  message hides the cause).
* merge patch: ``null`` or a non-object body -> 400 (``Invalid JSON Patch``, or under Warn/Strict
  ``error decoding patch: json: cannot unmarshal array into Go value of type map[string]interface
  {}`` for a non-object).
* strategic merge patch (``interpretStrategicMergePatchError``): a non-object body and the
  sentinels ``invalid JSON document``, ``invalid patch format of primitive list``, ``invalid patch
  format of retainKeys``, ``invalid patch format of setElementOrder list``, ``strategic merge
  patch format is not supported`` -> 400 BadRequest with that text; ``lists of lists are not
  supported`` and ``patch content doesn't match retainKeys list`` -> generic 422; every other
  error (missing merge key, bad ``$patch`` value, mismatched ``$setElementOrder`` ...) is a plain
  Go error, which ``responsewriters.ErrorToAPIStatus`` turns into a 500 with no reason and the
  error text as message (kubectl prints ``Error from server: <message>``).

``PatchError.to_api_error()`` gives the matching ``fakekube.errors.ApiError``.

Deviations, all in corners no client reaches: numbers compare by Python type and value where Go
compares the JSON text of scalars; a field of a known kind that the schema lacks is merged like
untyped data (upstream answers 500 ``unable to find api field in struct ...``); Go's
``DisallowDuplicateFields`` cannot be seen in parsed JSON; merge-key values that are objects or
arrays compare by identity (Go panics).
"""

from __future__ import annotations

import json
import re
from typing import Any, Callable

from fakekube.api._schema import TYPES

__all__ = [
    "PatchError",
    "MERGE_KEYS",
    "MAX_JSON_PATCH_OPERATIONS",
    "JSON_PATCH_MAX_COPY_BYTES",
    "merge_patch",
    "create_merge_patch",
    "json_patch",
    "json_patch_strict_errors",
    "strategic_merge_patch",
]

JSON = Any

# handlers/patch.go: maxJSONPatchOperations.
MAX_JSON_PATCH_OPERATIONS = 10000
# apiserver/pkg/server/config.go: JSONPatchMaxCopyBytes, installed as the json-patch package's
# AccumulatedCopySizeLimit when the GenericAPIServer is built.
JSON_PATCH_MAX_COPY_BYTES = 3 * 1024 * 1024

GENERIC_422_MESSAGE = "the server rejected our request due to an error in our request"
PANIC_MESSAGE = "This request caused apiserver to panic. Look in the logs for details."

# The patchStrategy / patchMergeKey struct tags of the built-in types, keyed by
# (entry of fakekube.api._schema.TYPES, JSON field). Strategies are written as in the tags:
# "merge" (with a merge key for lists of objects, None for lists of scalars), "merge,retainKeys",
# "retainKeys" (only guides clients; the server honours $retainKeys wherever it appears) and
# "replace" (the whole object is replaced). Lists not listed here are replaced atomically, also
# those with +listType=map: the server-side strategic merge reads only these tags.
MERGE_KEYS: dict[tuple[str, str], tuple[str, str | None]] = {
    # meta/v1
    ("meta_v1.ObjectMeta", "finalizers"): ("merge", None),
    ("meta_v1.ObjectMeta", "ownerReferences"): ("merge", "uid"),
    # core/v1
    ("core_v1.PodSpec", "volumes"): ("merge,retainKeys", "name"),
    ("core_v1.PodSpec", "initContainers"): ("merge", "name"),
    ("core_v1.PodSpec", "containers"): ("merge", "name"),
    ("core_v1.PodSpec", "ephemeralContainers"): ("merge", "name"),
    ("core_v1.PodSpec", "imagePullSecrets"): ("merge", "name"),
    ("core_v1.PodSpec", "hostAliases"): ("merge", "ip"),
    ("core_v1.PodSpec", "topologySpreadConstraints"): ("merge", "topologyKey"),
    ("core_v1.PodSpec", "schedulingGates"): ("merge", "name"),
    ("core_v1.PodSpec", "resourceClaims"): ("merge,retainKeys", "name"),
    ("core_v1.Container", "ports"): ("merge", "containerPort"),
    ("core_v1.Container", "env"): ("merge", "name"),
    ("core_v1.Container", "volumeMounts"): ("merge", "mountPath"),
    ("core_v1.Container", "volumeDevices"): ("merge", "devicePath"),
    ("core_v1.EphemeralContainer", "ports"): ("merge", "containerPort"),
    ("core_v1.EphemeralContainer", "env"): ("merge", "name"),
    ("core_v1.EphemeralContainer", "volumeMounts"): ("merge", "mountPath"),
    ("core_v1.EphemeralContainer", "volumeDevices"): ("merge", "devicePath"),
    ("core_v1.PodStatus", "conditions"): ("merge", "type"),
    ("core_v1.PodStatus", "hostIPs"): ("merge", "ip"),
    ("core_v1.PodStatus", "podIPs"): ("merge", "ip"),
    ("core_v1.PodStatus", "resourceClaimStatuses"): ("merge,retainKeys", "name"),
    ("core_v1.ContainerStatus", "volumeMounts"): ("merge", "mountPath"),
    ("core_v1.ContainerStatus", "allocatedResourcesStatus"): ("merge", "name"),
    ("core_v1.PersistentVolumeClaimStatus", "conditions"): ("merge", "type"),
    ("core_v1.ReplicationControllerStatus", "conditions"): ("merge", "type"),
    ("core_v1.ServiceSpec", "ports"): ("merge", "port"),
    ("core_v1.ServiceStatus", "conditions"): ("merge", "type"),
    ("core_v1.ServiceAccount", "secrets"): ("merge", "name"),
    ("core_v1.NodeSpec", "podCIDRs"): ("merge", None),
    ("core_v1.NodeStatus", "conditions"): ("merge", "type"),
    ("core_v1.NodeStatus", "addresses"): ("merge", "type"),
    ("core_v1.NamespaceStatus", "conditions"): ("merge", "type"),
    ("core_v1.ComponentStatus", "conditions"): ("merge", "type"),
    # apps/v1
    ("apps_v1.DeploymentSpec", "strategy"): ("retainKeys", None),
    ("apps_v1.DeploymentStatus", "conditions"): ("merge", "type"),
    ("apps_v1.StatefulSetStatus", "conditions"): ("merge", "type"),
    ("apps_v1.DaemonSetStatus", "conditions"): ("merge", "type"),
    ("apps_v1.ReplicaSetStatus", "conditions"): ("merge", "type"),
    # policy/v1
    ("policy_v1.PodDisruptionBudgetSpec", "selector"): ("replace", None),
    ("policy_v1.PodDisruptionBudgetStatus", "conditions"): ("merge", "type"),
    # storage/v1
    ("storage_v1.CSINodeSpec", "drivers"): ("merge", "name"),
    # discovery/v1, coordination/v1, autoscaling/v1 and events/v1 carry no patch tags.
}


# ---------------------------------------------------------------------------------------------
# Errors


class PatchError(Exception):
    """A patch the API server refuses, with the Status it answers.

    ``code`` (400, 413, 422 or 500), ``reason`` (``BadRequest``, ``RequestEntityTooLarge``,
    ``Invalid``, or ``""`` for a 500) and ``message`` are the Status fields. ``kind`` names the
    case: ``BadRequest``, ``RequestEntityTooLarge``, ``Invalid`` (generic 422, details ``{}``),
    ``InternalError`` (500 without a reason) or ``Panic`` (500 with a text/plain body).
    ``cause`` is the patch library's own error text where the Status hides it (422, panics).
    """

    def __init__(self, message: str, *, code: int, reason: str, kind: str,
                 cause: str | None = None, details: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.reason = reason
        self.kind = kind
        self.cause = cause
        self.details = details

    def __str__(self) -> str:
        if self.cause and self.cause != self.message:
            return f"{self.message} ({self.cause})"
        return self.message

    def __repr__(self) -> str:
        return f"PatchError({self.code}, {self.kind}, {self.message!r}, cause={self.cause!r})"

    def to_api_error(self):
        """The ``fakekube.errors.ApiError`` carrying the same Status."""
        from fakekube import errors

        if self.code == 400:
            return errors.BadRequest(self.message)
        if self.code == 413:
            return errors.RequestEntityTooLarge(self.message)
        if self.code == 422:
            return errors.Invalid(self.message, dict(self.details or {}))
        return errors.ApiError(self.message, code=self.code, reason=self.reason)


def _bad_request(message: str) -> PatchError:
    return PatchError(message, code=400, reason="BadRequest", kind="BadRequest")


def _unprocessable(cause: str) -> PatchError:
    return PatchError(GENERIC_422_MESSAGE, code=422, reason="Invalid", kind="Invalid",
                      cause=cause, details={})


def _internal(message: str) -> PatchError:
    return PatchError(message, code=500, reason="", kind="InternalError")


def _panic(cause: str) -> PatchError:
    return PatchError(PANIC_MESSAGE, code=500, reason="", kind="Panic", cause=cause)


# mergepatch sentinel errors and how interpretStrategicMergePatchError answers them.
_ERR_BAD_JSON_DOC = "invalid JSON document"
_ERR_NO_LIST_OF_LISTS = "lists of lists are not supported"
_ERR_BAD_PRIMITIVE_LIST = "invalid patch format of primitive list"
_ERR_BAD_RETAIN_KEYS = "invalid patch format of retainKeys"
_ERR_BAD_SET_ELEMENT_ORDER = "invalid patch format of setElementOrder list"


# ---------------------------------------------------------------------------------------------
# Go-flavoured rendering of values, for messages that upstream builds with fmt.


def _copy(value: JSON) -> JSON:
    """A deep copy of a JSON value (faster than copy.deepcopy)."""
    cls = type(value)
    if cls is dict:
        return {k: _copy(v) for k, v in value.items()}
    if cls is list:
        return [_copy(v) for v in value]
    return value


def _go_float(f: float) -> str:
    """``%v`` of a float64: strconv 'g' with the shortest digits, exponent form from 1e+06 on
    and below 1e-04."""
    if f == 0:
        return "0"
    sign = "-" if f < 0 else ""
    mantissa, _, exponent = repr(abs(f)).partition("e")  # repr gives the shortest digits
    whole, _, frac = mantissa.partition(".")
    digits = whole + frac
    significant = digits.lstrip("0")
    point = len(whole) + int(exponent or 0) - (len(digits) - len(significant))
    ds = significant.rstrip("0")
    exp10 = point - 1
    if exp10 < -4 or exp10 >= 6:
        m = ds[0] + ("." + ds[1:] if len(ds) > 1 else "")
        return f"{sign}{m}e{'-' if exp10 < 0 else '+'}{abs(exp10):02d}"
    if point <= 0:
        return f"{sign}0.{'0' * -point}{ds}"
    if point >= len(ds):
        return sign + ds + "0" * (point - len(ds))
    return f"{sign}{ds[:point]}.{ds[point:]}"


def _go_v(value: JSON) -> str:
    """``fmt.Sprintf("%v", value)`` for values decoded from JSON."""
    cls = type(value)
    if cls is str:
        return value
    if value is None:
        return "<nil>"
    if cls is bool:
        return "true" if value else "false"
    if cls is int:
        return str(value)
    if cls is float:
        return _go_float(value)
    if cls is list:
        return "[" + " ".join(_go_v(v) for v in value) + "]"
    if cls is dict:
        return "map[" + " ".join(f"{k}:{_go_v(value[k])}" for k in sorted(value)) + "]"
    return str(value)


def _go_type_name(value: JSON) -> str:
    """``reflect.TypeOf(value)`` printed with %s."""
    cls = type(value)
    if cls is dict:
        return "map[string]interface {}"
    if cls is list:
        return "[]interface {}"
    if cls is str:
        return "string"
    if cls is bool:
        return "bool"
    if cls is int:
        return "int64"
    if cls is float:
        return "float64"
    return "%!s(<nil>)"


def _go_s(value: JSON) -> str:
    """``%s`` of an interface value: strings as they are, anything else as a bad verb."""
    if type(value) is str:
        return value
    if value is None:
        return "%!s(<nil>)"
    return f"%!s({_go_type_name(value)}={_go_v(value)})"


def _json_type(value: JSON) -> str:
    """How encoding/json names a JSON value in an UnmarshalTypeError."""
    cls = type(value)
    if cls is dict:
        return "object"
    if cls is list:
        return "array"
    if cls is str:
        return "string"
    if cls is bool:
        return "bool"
    return "number"


def _go_quote(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)


def _err_bad_arg_type(expected: str, actual: JSON) -> PatchError:
    return _internal(f"expected a {expected}, but received a {_go_type_name(actual)}")


_MAP_T = "map[string]interface {}"
_SLICE_T = "[]interface {}"


def _err_no_merge_key(m: dict, key: str) -> PatchError:
    return _internal(f"map: {_go_v(m)} does not contain declared merge key: {key}")


def _err_bad_patch_type(directive: JSON, m: dict) -> PatchError:
    return _internal(f"unknown patch type: {_go_s(directive)} in map: {_go_v(m)}")


# ---------------------------------------------------------------------------------------------
# Go value semantics

_UNHASHABLE = (dict, list)


def _go_eq(a: JSON, b: JSON) -> bool:
    """Go ``==`` between two interface{} values holding decoded JSON (maps and slices of the
    same type cannot be compared: Go panics)."""
    if type(a) is not type(b):
        return False
    if type(a) in _UNHASHABLE:
        raise _panic(f"comparing uncomparable type {_go_type_name(a)}")
    return a == b


def _hkey(value: JSON) -> Any:
    """A key under which Go's map[interface{}] would file ``value`` (type and value). Objects
    and arrays get their identity; use ``_hkey_strict`` where Go would hash them."""
    cls = type(value)
    if cls in _UNHASHABLE:
        return (cls, id(value))
    return (cls, value)


def _hkey_strict(value: JSON) -> Any:
    """``_hkey`` for a value Go puts in a map key, which panics for maps and slices."""
    if type(value) in _UNHASHABLE:
        raise _panic(f"hash of unhashable type {_go_type_name(value)}")
    return (type(value), value)


def _json_equal(a: JSON, b: JSON) -> bool:
    """Structural equality as json-patch's ``test`` sees it: scalars of different JSON types
    (``1`` and ``1.0``, ``1`` and ``true``) differ."""
    cls = type(a)
    if cls is not type(b):
        return False
    if cls is dict:
        if len(a) != len(b):
            return False
        for k, v in a.items():
            if k not in b or not _json_equal(v, b[k]):
                return False
        return True
    if cls is list:
        return len(a) == len(b) and all(_json_equal(x, y) for x, y in zip(a, b))
    return a == b


# ---------------------------------------------------------------------------------------------
# JSON merge patch (RFC 7386) -- evanphx/json-patch v4 merge.go


def _prune(value: JSON) -> JSON:
    """A copy of ``value`` without nulls: object members and array elements that are null go."""
    cls = type(value)
    if cls is dict:
        return {k: _prune(v) for k, v in value.items() if v is not None}
    if cls is list:
        return [_prune(v) for v in value if v is not None]
    return value


def _merge_docs(doc: dict, patch: dict) -> None:
    for key, value in patch.items():
        if value is None:
            doc.pop(key, None)
            continue
        current = doc.get(key)
        if current is None:
            doc[key] = _prune(value)
        elif type(current) is not dict:
            doc[key] = _prune(value)
        elif type(value) is not dict:
            doc[key] = _copy(value)  # an object replaced by a non-object: nulls stay
        else:
            _merge_docs(current, value)


def merge_patch(original: JSON, patch: JSON, *, field_validation: str = "Warn") -> JSON:
    """Apply a JSON merge patch (RFC 7386) the way the apiserver does.

    Objects merge recursively, ``null`` deletes a member, anything else replaces. A patch that
    is not an object replaces the whole document (an array with its nulls dropped). A ``null``
    or scalar patch is refused with 400, and under ``field_validation`` ``Warn`` or ``Strict``
    (the apiserver's default is Warn) so is any non-object. Runtime: O(size of the result).

    >>> merge_patch({"a": 1, "b": {"c": 2}}, {"a": None, "b": {"d": 3}})
    {'b': {'c': 2, 'd': 3}}
    """
    if patch is None:
        raise _bad_request("Invalid JSON Patch")
    if type(patch) is not dict:
        if field_validation != "Ignore":
            raise _bad_request(f"error decoding patch: json: cannot unmarshal {_json_type(patch)}"
                               " into Go value of type map[string]interface {}")
        if type(patch) is not list:
            raise _bad_request("Invalid JSON Patch")
        if original is None:
            raise _internal("Invalid JSON Document")
        return _prune(patch)
    if original is None:
        raise _internal("Invalid JSON Document")
    if type(original) is not dict:
        return _prune(patch)
    doc = _copy(original)
    _merge_docs(doc, patch)
    return doc


def _same_kind(a: JSON, b: JSON) -> bool:
    """Whether two decoded values have the same Go type (all JSON numbers are float64)."""
    ta, tb = type(a), type(b)
    if ta is tb:
        return True
    return ta in (int, float) and tb in (int, float)


def _matches(a: JSON, b: JSON) -> bool:
    """evanphx ``matchesValue``: deep equality where a missing member equals null."""
    if not _same_kind(a, b):
        return False
    if type(a) is dict:
        return (all(_matches(v, b.get(k)) for k, v in a.items())
                and all(_matches(a.get(k), v) for k, v in b.items()))
    if type(a) is list:
        return len(a) == len(b) and all(_matches(x, y) for x, y in zip(a, b))
    return a == b


def _diff(original: dict, modified: dict) -> dict:
    into: dict = {}
    for key, new in modified.items():
        if key not in original:
            into[key] = _copy(new)
            continue
        old = original[key]
        if not _same_kind(old, new):
            into[key] = _copy(new)
        elif type(old) is dict:
            sub = _diff(old, new)
            if sub:
                into[key] = sub
        elif type(old) is list:
            if not _matches(old, new):
                into[key] = _copy(new)
        elif old is None:
            pass
        elif old != new:
            into[key] = new
    for key in original:
        if key not in modified:
            into[key] = None
    return into


def create_merge_patch(original: dict, modified: dict) -> dict:
    """The merge patch that turns ``original`` into ``modified`` (evanphx ``CreateMergePatch``).

    Changed members are set, removed members are ``null``, objects are diffed recursively and
    arrays are replaced whole when they differ. ``merge_patch(original, result) == modified``
    holds when ``modified`` contains no ``null`` (a merge patch cannot say "set to null") and
    ``original`` has no ``null`` inside arrays (upstream's comparison takes a missing member for
    a null one).

    >>> create_merge_patch({"a": 1, "b": [1]}, {"b": [1, 2], "c": {"d": True}})
    {'b': [1, 2], 'c': {'d': True}, 'a': None}
    """
    if type(original) is not dict or type(modified) is not dict:
        raise _internal("Invalid JSON Document")
    return _diff(original, modified)


# ---------------------------------------------------------------------------------------------
# JSON patch (RFC 6902) -- evanphx/json-patch v4 patch.go

_ATOI = re.compile(r"[+-]?[0-9]+\Z")
_POINTER_ESCAPE = re.compile(r"~[01]")
_INT64_MIN, _INT64_MAX = -(2 ** 63), 2 ** 63 - 1


class _OpError(Exception):
    """A failure inside one operation; its text is the library's error message."""


class _Missing(Exception):
    """An operation lacks a string member (``path`` or ``from``)."""


def _atoi(key: str) -> int:
    """strconv.Atoi."""
    if not _ATOI.match(key):
        raise _OpError(f"strconv.Atoi: parsing {_go_quote(key)}: invalid syntax")
    n = int(key)
    if not _INT64_MIN <= n <= _INT64_MAX:
        raise _OpError(f"strconv.Atoi: parsing {_go_quote(key)}: value out of range")
    return n


def _bad_index(idx: int) -> _OpError:
    return _OpError(f"Unable to access invalid index: {idx}: invalid index referenced")


def _unescape(token: str) -> str:
    if "~" not in token:
        return token
    return _POINTER_ESCAPE.sub(lambda m: "/" if m.group() == "~1" else "~", token)


def _c_get(container: dict | list, key: str) -> JSON:
    if type(container) is dict:
        return container.get(key)
    idx = _atoi(key)
    n = len(container)
    if idx < 0:
        if idx < -n:
            raise _bad_index(idx)
        idx += n
    if idx >= n:
        raise _bad_index(idx)
    return container[idx]


def _c_set(container: dict | list, key: str, value: JSON) -> None:
    if type(container) is dict:
        container[key] = value
        return
    idx = _atoi(key)
    if idx < 0:
        if idx < -len(container):
            raise _bad_index(idx)
        idx += len(container)
    container[idx] = value


def _c_add(container: dict | list, key: str, value: JSON) -> None:
    if type(container) is dict:
        container[key] = value
        return
    if key == "-":
        container.append(value)
        return
    try:
        idx = _atoi(key)
    except _OpError as e:
        raise _OpError(f"value was not a proper array index: '{key}': {e}") from None
    size = len(container) + 1
    if idx >= size:
        raise _bad_index(idx)
    if idx < 0:
        if idx < -size:
            raise _bad_index(idx)
        idx += size
    container.insert(idx, value)


def _c_remove(container: dict | list, key: str) -> None:
    if type(container) is dict:
        if key not in container:
            raise _OpError(f"Unable to remove nonexistent key: {key}: missing value")
        del container[key]
        return
    idx = _atoi(key)
    n = len(container)
    if idx >= n:
        raise _bad_index(idx)
    if idx < 0:
        if idx < -n:
            raise _bad_index(idx)
        idx += n
    del container[idx]


def _find(root: JSON, path: str) -> tuple[dict | list, str] | None:
    """evanphx ``findObject``: the container of the last token, and that token (decoded).

    The first token is ignored, so ``a/b`` works on ``/b``; ``""`` finds nothing."""
    tokens = path.split("/")
    if len(tokens) < 2:
        return None
    doc = root
    for token in tokens[1:-1]:
        try:
            doc = _c_get(doc, _unescape(token))
        except _OpError:
            return None
        if type(doc) is not dict and type(doc) is not list:
            return None
    return doc, _unescape(tokens[-1])


def _str_member(op: dict, name: str, missing: str) -> str:
    value = op.get(name)
    if value is None:
        raise _Missing(f"{missing}: missing value")
    if type(value) is not str:
        raise _Missing(f"json: cannot unmarshal {_json_type(value)} into Go value of type string")
    return value


def _json_size(value: JSON) -> int:
    """Bytes of ``json.Marshal(value)`` (HTML characters escaped as Go does)."""
    if value is None:
        return 0
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    extra = 5 * (text.count("<") + text.count(">") + text.count("&"))
    return len(text.encode()) + extra


class _PatchState:
    __slots__ = ("root", "copied")

    def __init__(self, root: JSON) -> None:
        self.root = root
        self.copied = 0


def _op_add(state: _PatchState, op: dict) -> None:
    try:
        path = _str_member(op, "path", "operation missing path field")
    except _Missing:
        raise _OpError("add operation failed to decode path: missing value") from None
    found = _find(state.root, path)
    if found is None:
        raise _OpError(f'add operation does not apply: doc is missing path: "{path}": '
                       "missing value")
    container, key = found
    try:
        _c_add(container, key, _copy(op.get("value")))
    except _OpError as e:
        raise _OpError(f"error in add for path: '{path}': {e}") from None


def _op_remove(state: _PatchState, op: dict) -> None:
    try:
        path = _str_member(op, "path", "operation missing path field")
    except _Missing:
        raise _OpError("remove operation failed to decode path: missing value") from None
    found = _find(state.root, path)
    if found is None:
        raise _OpError(f'remove operation does not apply: doc is missing path: "{path}": '
                       "missing value")
    container, key = found
    try:
        _c_remove(container, key)
    except _OpError as e:
        raise _OpError(f"error in remove for path: '{path}': {e}") from None


def _op_replace(state: _PatchState, op: dict) -> None:
    try:
        path = _str_member(op, "path", "operation missing path field")
    except _Missing as e:
        raise _OpError(f"replace operation failed to decode path: {e}") from None
    if path == "":
        if "value" not in op:
            raise _panic("replace of the whole document without a value")
        value = op["value"]
        # Anything but an object or array is silently ignored: upstream wraps a nil error.
        if type(value) is dict or type(value) is list:
            state.root = _copy(value)
        return
    found = _find(state.root, path)
    if found is None:
        raise _OpError(f"replace operation does not apply: doc is missing path: {path}: "
                       "missing value")
    container, key = found
    try:
        _c_get(container, key)
    except _OpError:
        raise _OpError(f"replace operation does not apply: doc is missing key: {path}: "
                       "missing value") from None
    try:
        _c_set(container, key, _copy(op.get("value")))
    except _OpError as e:
        raise _OpError(f"error in remove for path: '{path}': {e}") from None


def _op_move(state: _PatchState, op: dict) -> None:
    try:
        source = _str_member(op, "from", "operation, missing from field")
    except _Missing as e:
        raise _OpError(f"move operation failed to decode from: {e}") from None
    found = _find(state.root, source)
    if found is None:
        raise _OpError(f"move operation does not apply: doc is missing from path: {source}: "
                       "missing value")
    container, key = found
    try:
        value = _c_get(container, key)
        _c_remove(container, key)
    except _OpError as e:
        raise _OpError(f"error in move for path: '{key}': {e}") from None
    try:
        path = _str_member(op, "path", "operation missing path field")
    except _Missing as e:
        raise _OpError(f"move operation failed to decode path: {e}") from None
    found = _find(state.root, path)
    if found is None:
        raise _OpError(f"move operation does not apply: doc is missing destination path: {path}: "
                       "missing value")
    container, key = found
    try:
        _c_add(container, key, value)
    except _OpError as e:
        raise _OpError(f"error in move for path: '{path}': {e}") from None


def _op_test(state: _PatchState, op: dict) -> None:
    try:
        path = _str_member(op, "path", "operation missing path field")
    except _Missing as e:
        raise _OpError(f"test operation failed to decode path: {e}") from None
    failed = _OpError(f"testing value {path} failed: test failed")
    if path == "":
        if "value" not in op:
            raise _panic("test of the whole document without a value")
        if not _json_equal(state.root, op["value"]):
            raise failed
        return
    found = _find(state.root, path)
    if found is None:
        raise _OpError(f"test operation does not apply: is missing path: {path}: missing value")
    container, key = found
    try:
        current = _c_get(container, key)
    except _OpError as e:
        raise _OpError(f"error in test for path: '{path}': {e}") from None
    if "value" not in op:
        if current is None:
            raise _panic("test of a missing or null member without a value")
        raise failed
    expected = op["value"]
    if current is None:
        if expected is not None:
            raise failed
        return
    if not _json_equal(current, expected):
        raise failed


def _op_copy(state: _PatchState, op: dict) -> None:
    try:
        source = _str_member(op, "from", "operation, missing from field")
    except _Missing as e:
        raise _OpError(f"copy operation failed to decode from: {e}") from None
    found = _find(state.root, source)
    if found is None:
        raise _OpError(f"copy operation does not apply: doc is missing from path: {source}: "
                       "missing value")
    container, key = found
    try:
        value = _c_get(container, key)
    except _OpError as e:
        raise _OpError(f"error in copy for from: '{source}': {e}") from None
    try:
        path = _str_member(op, "path", "operation missing path field")
    except _Missing:
        raise _OpError("copy operation failed to decode path: missing value") from None
    found = _find(state.root, path)
    if found is None:
        raise _OpError(f"copy operation does not apply: doc is missing destination path: {path}: "
                       "missing value")
    container, key = found
    state.copied += _json_size(value)
    if state.copied > JSON_PATCH_MAX_COPY_BYTES:
        raise _OpError("Unable to complete the copy, the accumulated size increase of copy is "
                       f"{state.copied}, exceeding the limit {JSON_PATCH_MAX_COPY_BYTES}")
    try:
        _c_add(container, key, _copy(value))
    except _OpError as e:
        raise _OpError(f"error while adding value during copy: {e}") from None


_OPERATIONS: dict[str, Callable[[_PatchState, dict], None]] = {
    "add": _op_add, "remove": _op_remove, "replace": _op_replace,
    "move": _op_move, "test": _op_test, "copy": _op_copy,
}
_OP_FIELDS = ("op", "path", "from")
_OP_KNOWN_FIELDS = frozenset(("op", "path", "from", "value"))


def _decode_operations(operations: JSON, strict: bool) -> list:
    """Check the body as handlers/patch.go decodes it; return the list of operations."""
    if operations is None:
        return []
    if strict:
        prefix = "error decoding patch: "
        list_t, op_t = "[]handlers.jsonPatchOp", "handlers.jsonPatchOp"
    else:
        prefix, list_t, op_t = "", "jsonpatch.Patch", "jsonpatch.Operation"
    if type(operations) is not list:
        raise _bad_request(f"{prefix}json: cannot unmarshal {_json_type(operations)} into Go value "
                           f"of type {list_t}")
    for op in operations:
        if op is None:
            continue
        if type(op) is not dict:
            raise _bad_request(f"{prefix}json: cannot unmarshal {_json_type(op)} into Go value of "
                               f"type {op_t}")
        if strict:
            for name, value in op.items():
                if name in _OP_FIELDS and value is not None and type(value) is not str:
                    raise _bad_request(f"{prefix}json: cannot unmarshal {_json_type(value)} "
                                       f"into Go struct field jsonPatchOp.{name} of type string")
    return operations


def json_patch(original: JSON, operations: JSON, *, field_validation: str = "Warn") -> JSON:
    """Apply an RFC 6902 JSON patch the way the apiserver does.

    ``operations`` is the decoded body: a list of operation objects (``null`` means none).
    Paths are JSON pointers (``~1`` is ``/``, ``~0`` is ``~``); ``-`` appends to an array and
    negative indexes count from the end. ``field_validation`` (``Ignore``, ``Warn`` -- the
    apiserver's default -- or ``Strict``) only changes the wording of decode errors; see
    ``json_patch_strict_errors`` for the unknown-field errors that Warn/Strict report.
    Runtime: O(size of the document + size of the operations).

    >>> json_patch({"a": [1]}, [{"op": "add", "path": "/a/-", "value": 2}])
    {'a': [1, 2]}
    """
    ops = _decode_operations(operations, strict=field_validation != "Ignore")
    if len(ops) > MAX_JSON_PATCH_OPERATIONS:
        raise PatchError(f"Request entity too large: The allowed maximum operations in a JSON "
                         f"patch is {MAX_JSON_PATCH_OPERATIONS}, got {len(ops)}",
                         code=413, reason="RequestEntityTooLarge", kind="RequestEntityTooLarge")
    if not ops:
        return _copy(original)
    state = _PatchState(_copy(original))
    for op in ops:
        kind = op.get("op") if type(op) is dict else None
        if type(kind) is not str:
            kind = "unknown"
        apply = _OPERATIONS.get(kind)
        try:
            if apply is None:
                raise _OpError(f"Unexpected kind: {kind}")
            apply(state, op)
        except _OpError as e:
            raise _unprocessable(str(e)) from None
    return state.root


def json_patch_strict_errors(operations: JSON) -> list[str]:
    """The strict-decoding errors of a JSON patch body, as the apiserver words them.

    Under fieldValidation ``Warn`` they become warnings; under ``Strict`` a successful patch is
    refused with 422 Invalid (``strict decoding error: json patch unknown field "[0].foo"``).
    """
    errs: list[str] = []
    if type(operations) is not list:
        return errs
    for i, op in enumerate(operations):
        if type(op) is dict:
            for name in op:
                if name not in _OP_KNOWN_FIELDS:
                    errs.append(f"json patch unknown field {_go_quote(f'[{i}].{name}')}")
    return errs


# ---------------------------------------------------------------------------------------------
# Strategic merge patch -- k8s.io/apimachinery/pkg/util/strategicpatch/patch.go

_DIRECTIVE = "$patch"
_RETAIN_KEYS = "$retainKeys"
_DELETE_PREFIX = "$deleteFromPrimitiveList"
_ORDER_PREFIX = "$setElementOrder"
_MAP = "map"
_SCALAR = "scalar"
_GO_KINDS = {"string": "string", "int": "int64", "bool": "bool", "float": "float64",
             "quantity": "struct", "intorstr": "struct", "time": "struct", "any": "interface"}


def _normalized_strategy(tag: str) -> str:
    """The strategy once ``retainKeys`` is set aside (extractRetainKeysPatchStrategy)."""
    parts = [p for p in tag.split(",") if p and p != "retainKeys"]
    return parts[0] if parts else ""


_META = {k: (_normalized_strategy(s), mk) for k, (s, mk) in MERGE_KEYS.items()}


def _field_meta(t: str | None, key: str) -> tuple[str | None, str, str | None]:
    """(type of the field, strategy, merge key) as LookupPatchMetadata finds them."""
    if t is None:
        return None, "", None
    if t[0] == "{":
        return t[1:], "", None  # a map: every value has the element type, no strategy
    fields = TYPES.get(t)
    if fields is None:
        return None, "", None
    strategy, merge_key = _META.get((t, key), ("", None))
    return fields.get(key), strategy, merge_key


def _object_type(field_type: str | None) -> str | None:
    if field_type is not None and (field_type in TYPES or field_type[0] == "{"):
        return field_type
    return None


def _element_type(field_type: str | None) -> str | None:
    if field_type is not None and field_type[0] == "[":
        return field_type[1:]
    return None


def _extract_key(key: str, prefix: str) -> str:
    head, sep, rest = key.partition("/")
    if not sep or head != prefix:
        if prefix == _DELETE_PREFIX:
            raise _bad_request(_ERR_BAD_PRIMITIVE_LIST)
        raise _bad_request(_ERR_BAD_SET_ELEMENT_ORDER)
    return rest


def _slice_kind(*lists: list) -> str:
    """sliceElementType: every element has one type, which is not a list."""
    first: type | None = None
    for lst in lists:
        for v in lst:
            cls = type(v)
            if first is None:
                if v is None:
                    raise _panic("a null element in a merging list")
                if cls is list:
                    raise _unprocessable(_ERR_NO_LIST_OF_LISTS)
                first = cls
            elif cls is not first:
                raise _internal(f"list element types are not identical: {_go_v(list(lists))}")
    if first is None:
        raise _internal("no elements in any of the given slices")
    return _MAP if first is dict else _SCALAR


def _key_of(item: JSON, merge_key: str | None, kind: str) -> Any:
    if kind == _MAP:
        item = item.get(merge_key) if type(item) is dict else None
    return _hkey(item)


def _positions(order: list, merge_key: str | None, kind: str) -> dict:
    pos: dict = {}
    for i, item in enumerate(order):
        pos.setdefault(_key_of(item, merge_key, kind), i)
    return pos


def _check_merge_keys(merge_key: str | None, *lists: list) -> None:
    """validateMergeKeyInLists."""
    for lst in lists:
        for item in lst:
            if type(item) is not dict:
                raise _err_bad_arg_type(_MAP_T, item)
            if merge_key not in item:
                raise _err_no_merge_key(item, merge_key or "")


def _split_deletions(lst: list) -> tuple[list, list]:
    """extractToDeleteItems: (items to keep, items carrying ``$patch: delete``)."""
    keep, delete = [], []
    for item in lst:
        if type(item) is not dict:
            raise _err_bad_arg_type(_MAP_T, item)
        directive = item.get(_DIRECTIVE)
        (delete if type(directive) is str and directive == "delete" else keep).append(item)
    return keep, delete


def _go_stable_sort(items: list, less: Callable[[Any, Any], bool]) -> None:
    """Go's sort.SliceStable (insertion sort in blocks of 20, then SymMerge), in place.

    Needed because upstream's comparator is not a strict order when an item is missing from
    the order list, so only the same algorithm gives the same result."""

    def insertion(a: int, b: int) -> None:
        for i in range(a + 1, b):
            j = i
            while j > a and less(items[j], items[j - 1]):
                items[j], items[j - 1] = items[j - 1], items[j]
                j -= 1

    def sym_merge(a: int, m: int, b: int) -> None:
        if m - a == 1:
            i, j = m, b
            while i < j:
                h = (i + j) >> 1
                if less(items[h], items[a]):
                    i = h + 1
                else:
                    j = h
            items[a:i] = items[a + 1:i] + [items[a]]
            return
        if b - m == 1:
            i, j = a, m
            while i < j:
                h = (i + j) >> 1
                if not less(items[m], items[h]):
                    i = h + 1
                else:
                    j = h
            items[i:m + 1] = [items[m]] + items[i:m]
            return
        mid = (a + b) >> 1
        n = mid + m
        if m > mid:
            start, r = n - b, mid
        else:
            start, r = a, m
        p = n - 1
        while start < r:
            c = (start + r) >> 1
            if not less(items[p - c], items[c]):
                start = c + 1
            else:
                r = c
        end = n - start
        if start < m < end:
            items[start:end] = items[m:end] + items[start:m]
        if a < start < mid:
            sym_merge(a, start, mid)
        if mid < end < b:
            sym_merge(mid, end, b)

    n = len(items)
    block = 20
    a, b = 0, block
    while b <= n:
        insertion(a, b)
        a, b = b, b + block
    insertion(a, n)
    while block < n:
        a, b = 0, 2 * block
        while b <= n:
            sym_merge(a, a + block, b)
            a, b = b, b + 2 * block
        if a + block < n:
            sym_merge(a, a + block, n)
        block *= 2


def _sort_by_order(to_sort: list, order: list, merge_key: str | None, kind: str) -> list:
    """normalizeSliceOrder: ``to_sort`` in the order of ``order``, deletions last."""
    deletions: list = []
    if kind == _MAP:
        _check_merge_keys(merge_key, to_sort, order)
        to_sort, deletions = _split_deletions(to_sort)
    pos = _positions(order, merge_key, kind)
    ranks = [pos.get(_key_of(item, merge_key, kind), -1) for item in to_sort]
    if all(r >= 0 for r in ranks):
        ordered = [item for _, item in sorted(zip(ranks, to_sort), key=lambda ri: ri[0])]
    else:
        def less(x: JSON, y: JSON) -> bool:
            ix = pos.get(_key_of(x, merge_key, kind), -1)
            if ix >= 0:
                iy = pos.get(_key_of(y, merge_key, kind), -1)
                if iy >= 0:
                    return ix < iy
            return True

        ordered = list(to_sort)
        _go_stable_sort(ordered, less)
    return ordered + deletions


def _merge_sorted(left: list, right: list, server_order: list, merge_key: str | None,
                  kind: str) -> list:
    """mergeSortedSlice: interleave server-only items (left) with patch items (right)."""
    pos = _positions(server_order, merge_key, kind)
    out: list = []
    i = j = 0
    while i < len(left) or j < len(right):
        if i >= len(left):
            out.append(right[j])
            j += 1
        elif j >= len(right):
            out.append(left[i])
            i += 1
        else:
            li = pos.get(_key_of(left[i], merge_key, kind), -1)
            ri = pos.get(_key_of(right[j], merge_key, kind), -1)
            if li >= 0 and ri >= 0 and li < ri:
                out.append(left[i])
                i += 1
            else:
                out.append(right[j])
                j += 1
    return out


def _normalize_order(patch_items: list, server_only: list, patch_order: list, server_order: list,
                     merge_key: str | None, kind: str) -> list:
    """normalizeElementOrder: patch items in patch order, server-only items in server order,
    merged so both relative orders hold."""
    patch_items = _sort_by_order(patch_items, patch_order, merge_key, kind)
    server_only = _sort_by_order(server_only, server_order, merge_key, kind)
    return _merge_sorted(server_only, patch_items, server_order, merge_key, kind)


def _find_map(lst: list, merge_key: str, value: JSON) -> int:
    """findMapInSliceBasedOnKeyValue: index of the first map whose merge key equals ``value``."""
    for i, item in enumerate(lst):
        if type(item) is not dict:
            raise _internal(f"value for key {i} is not a map.")
        if merge_key in item and _go_eq(item[merge_key], value):
            return i
    return -1


def _partition(merged: list, by: list, merge_key: str | None) -> tuple[list, list]:
    """Split ``merged`` into (items present in ``by``, the others)."""
    present, absent = [], []
    if not merge_key:
        keys = {_hkey_strict(v) for v in by}
        for v in merged:
            (present if _hkey_strict(v) in keys else absent).append(v)
        return present, absent
    for v in merged:
        if type(v) is not dict:
            raise _err_bad_arg_type(_MAP_T, v)
        if merge_key not in v:
            raise _err_no_merge_key(v, merge_key)
        (present if _find_map(by, merge_key, v[merge_key]) >= 0 else absent).append(v)
    return present, absent


def _dedup_scalars(s: list) -> list:
    """deduplicateScalars, including the order it leaves behind."""
    length = len(s) - 1
    i = 0
    while i < length:
        j = i + 1
        while j <= length:
            if _go_eq(s[i], s[j]):
                s[j] = s[length]
                del s[length]
                length -= 1
                j -= 1
            j += 1
        i += 1
    return s


def _merge_special(original: list, patch: list, merge_key: str) -> tuple[list, list]:
    """mergeSliceWithSpecialElements: apply ``$patch`` elements; return (original, patch)."""
    plain: list = []
    replace = False
    for item in patch:
        if _DIRECTIVE not in item:
            plain.append(item)
            continue
        directive = item[_DIRECTIVE]
        directive = directive if type(directive) is str else None
        if directive == "delete":
            if merge_key not in item:
                raise _err_no_merge_key(item, merge_key)
            value = item[merge_key]
            original = list(original)
            while (i := _find_map(original, merge_key, value)) >= 0:
                del original[i]
        elif directive == "replace":
            replace = True
        elif directive == "merge":
            raise _internal("merging lists cannot yet be specified in the patch")
        else:
            raise _err_bad_patch_type(item[_DIRECTIVE], item)
    if replace:
        return plain, []
    return original, plain


def _merge_list(original: list, patch: list, elem_type: str | None, merge_key: str | None,
                is_delete_list: bool) -> list:
    """mergeSlice: a list with the merge strategy."""
    if not original and not patch:
        return original
    kind = _slice_kind(original, patch)
    if kind != _MAP:
        if is_delete_list:
            doomed = {_hkey_strict(v) for v in patch}
            return [v for v in original if _hkey_strict(v) not in doomed]
        merged = _dedup_scalars(original + patch)
    else:
        if not merge_key:
            go_kind = "struct" if elem_type in TYPES else _GO_KINDS.get(elem_type or "",
                                                                        "interface")
            raise _internal(f"cannot merge lists without merge key for type {go_kind}")
        original, patch = _merge_special(original, patch, merge_key)
        merged = list(original)
        for item in patch:
            if merge_key not in item:
                raise _err_no_merge_key(item, merge_key)
            i = _find_map(merged, merge_key, item[merge_key])
            if i >= 0:
                merged[i] = _merge_map(merged[i], item, elem_type)
            else:
                merged.append(item)
    present, absent = _partition(merged, patch, merge_key)
    return _normalize_order(present, absent, patch, original, merge_key, kind)


def _merge_list_field(original: list, patch: list, field_type: str | None, strategy: str,
                      merge_key: str | None, is_delete_list: bool) -> list:
    """mergeSliceHandler: merge by strategy, or take the patch list whole."""
    if strategy == "merge":
        return _merge_list(original, patch, _element_type(field_type), merge_key, is_delete_list)
    return patch


def _apply_retain_keys(original: dict, patch: dict) -> None:
    """applyRetainKeysDirective: keep only the listed keys of ``original``."""
    retain = patch.pop(_RETAIN_KEYS)
    if type(retain) is not list:
        raise _bad_request(_ERR_BAD_RETAIN_KEYS)
    keep = {_hkey_strict(v) for v in retain}
    for key, value in patch.items():
        if value is None or key.startswith(_DELETE_PREFIX) or key.startswith(_ORDER_PREFIX):
            continue
        if (str, key) not in keep:
            raise _bad_request(_ERR_BAD_RETAIN_KEYS)
    for key in [k for k in original if (str, k) not in keep]:
        del original[key]


def _apply_element_orders(original: dict, patch: dict, t: str | None) -> None:
    """mergePatchIntoOriginal: merge each list that has a ``$setElementOrder`` and order it.

    Precedence of order: $setElementOrder, then the patch list, then the live list."""
    for directive_key in [k for k in patch if k.startswith(_ORDER_PREFIX)]:
        order = patch.pop(directive_key)
        if type(order) is not list:
            raise _err_bad_arg_type(_SLICE_T, order)
        key = _extract_key(directive_key, _ORDER_PREFIX)
        in_original, in_patch = key in original, key in patch
        live = original.get(key) if in_original else []
        wanted = patch.get(key) if in_patch else []
        if in_original and type(live) is not list:
            raise _err_bad_arg_type(_SLICE_T, live)
        if in_patch and type(wanted) is not list:
            raise _err_bad_arg_type(_SLICE_T, wanted)
        field_type, strategy, merge_key = _field_meta(t, key)
        _check_order(wanted, order, merge_key)
        if in_original and in_patch:
            merged = _merge_list_field(live, wanted, field_type, strategy, merge_key, False)
        elif in_original:
            merged = live
        elif in_patch:
            merged = wanted
        else:
            continue
        present, absent = _partition(merged, order, merge_key)
        kind = _slice_kind(live, wanted)
        original[key] = _normalize_order(present, absent, order, live, merge_key, kind)
        patch.pop(key, None)


def _merge_key_equal(left: JSON, right: JSON, merge_key: str | None) -> bool:
    if not merge_key:
        return _go_eq(left, right)
    if type(left) is not dict:
        raise _err_bad_arg_type(_MAP_T, left)
    if type(right) is not dict:
        raise _err_bad_arg_type(_MAP_T, right)
    if merge_key not in left:
        raise _err_no_merge_key(left, merge_key)
    if merge_key not in right:
        raise _err_no_merge_key(right, merge_key)
    return _go_eq(left[merge_key], right[merge_key])


def _check_order(patch_list: list, order: list, merge_key: str | None) -> None:
    """validatePatchWithSetOrderList: patch items appear in $setElementOrder, in its order."""
    if not patch_list or not order:
        return
    items = _split_deletions(patch_list)[0] if merge_key else patch_list
    p = s = 0
    while p < len(items) and s < len(order):
        item = items[p]
        if type(item) is dict and _DIRECTIVE in item:
            p += 1
            continue
        if _merge_key_equal(item, order[s], merge_key):
            p += 1
        s += 1
    if p < len(items) and s >= len(order):
        raise _internal(f"The order in patch list:\n{_go_v(patch_list)}\n doesn't match "
                        f"{_ORDER_PREFIX} list:\n{_go_v(order)}\n")


def _merge_map(original: dict, patch: dict, t: str | None) -> dict:
    """mergeMap: merge ``patch`` into ``original`` (both owned by us; ``original`` is updated
    and returned, ``patch`` is consumed)."""
    if _DIRECTIVE in patch:
        directive = patch[_DIRECTIVE]
        if type(directive) is str and directive == "replace":
            del patch[_DIRECTIVE]
            return patch
        if type(directive) is str and directive == "delete":
            return {}
        raise _err_bad_patch_type(directive, patch)
    if _RETAIN_KEYS in patch:
        _apply_retain_keys(original, patch)
    if any(key.startswith(_ORDER_PREFIX) for key in patch):
        _apply_element_orders(original, patch, t)
    for key, value in list(patch.items()):
        is_delete_list = False
        if key.startswith(_DELETE_PREFIX):
            is_delete_list = True
            key = _extract_key(key, _DELETE_PREFIX) or key
        if value is None:
            original.pop(key, None)
            continue
        if key not in original:
            original[key] = value
            continue
        current = original[key]
        cls = type(current)
        if cls is not type(value):
            original[key] = value
            continue
        if cls is dict:
            field_type, strategy, _ = _field_meta(t, key)
            original[key] = (value if strategy == "replace"
                             else _merge_map(current, value, _object_type(field_type)))
        elif cls is list:
            field_type, strategy, merge_key = _field_meta(t, key)
            original[key] = _merge_list_field(current, value, field_type, strategy, merge_key,
                                              is_delete_list)
        else:
            original[key] = value
    return original


def strategic_merge_patch(original: dict, patch: JSON, type_name: str | None) -> dict:
    """Apply a strategic merge patch to an object of kind ``type_name`` (an entry of
    ``fakekube.api._schema.TYPES`` such as ``"core_v1.Pod"`` or ``"apps_v1.StatefulSet"``).

    Objects merge as in a JSON merge patch; lists tagged with a merge strategy in
    ``MERGE_KEYS`` merge by their merge key (lists of scalars as sets), other lists are
    replaced. Directives: ``$patch: replace|delete`` on an object or a list element (``merge``
    is refused), ``$retainKeys``, ``$setElementOrder/<list>`` and
    ``$deleteFromPrimitiveList/<list>``. An unknown ``type_name`` (or a field the schema does
    not know) merges objects and replaces lists, as upstream does for maps. A ``null`` patch
    changes nothing. Runtime: O(size of the result), plus O(n log n) per ordered list.

    >>> pod = {"spec": {"containers": [{"name": "app", "image": "a:1",
    ...                                 "ports": [{"containerPort": 80}]}]}}
    >>> strategic_merge_patch(pod, {"spec": {"containers": [{"name": "app", "image": "a:2"}]}},
    ...                       "core_v1.Pod")["spec"]["containers"]
    [{'name': 'app', 'image': 'a:2', 'ports': [{'containerPort': 80}]}]
    """
    if patch is None:
        return _copy(original) if original is not None else {}
    if type(patch) is not dict:
        raise _bad_request(f"json: cannot unmarshal {_json_type(patch)} into Go value of type "
                           "map[string]interface {}")
    if original is None:
        original = {}
    if type(original) is not dict:
        raise _bad_request(_ERR_BAD_JSON_DOC)
    t = type_name if type_name in TYPES else None
    return _merge_map(_copy(original), _copy(patch), t)
