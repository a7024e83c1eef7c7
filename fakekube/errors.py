"""Every error fakekube raises, with upstream's codes, reasons and words.

API errors carry the exact ``metav1.Status`` body a real API server answers with
(``k8s.io/apimachinery/pkg/api/errors/errors.go``), so the same object serves the in-process
API, the HTTP facade and the official clients that parse it. Field errors follow
``k8s.io/apimachinery/pkg/util/validation/field/errors.go``: one ``FieldError`` per problem,
rendered as ``<field>: <type>: <value>: <detail>``.
"""

from __future__ import annotations

import json
from typing import Any, Iterable

import attrs

__all__ = [
    "ApiError", "BadRequest", "Unauthorized", "Forbidden", "NotFound", "MethodNotAllowed",
    "AlreadyExists", "Conflict", "Gone", "Expired", "RequestEntityTooLarge",
    "UnsupportedMediaType", "Invalid", "TooManyRequests", "InternalError",
    "ServiceUnavailable", "Timeout", "FieldError", "SettleTimeout", "VolumeNotBound",
    "TerminalError", "OMIT",
]


# --------------------------------------------------------------------------------------------
# metav1.Status errors


class ApiError(Exception):
    """An error answered by the API, as a ``metav1.Status``.

    ``status`` is the Status dict real clients receive; ``code``, ``reason`` and ``message`` are
    its fields. Subclasses exist per reason so that callers can write ``except NotFound:``.
    """

    code = 500
    reason = "InternalError"

    def __init__(self, message: str, details: dict | None = None, *, code: int | None = None,
                 reason: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        if reason is not None:
            self.reason = reason
        self.message = message
        self.details = details

    @property
    def status(self) -> dict:
        body: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": {},
                                "status": "Failure", "message": self.message}
        if self.reason:
            body["reason"] = self.reason
        if self.details is not None:
            body["details"] = json.loads(json.dumps(self.details))
        body["code"] = self.code
        return body

    def __str__(self) -> str:
        return f"({self.code} {self.reason}) {self.message}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class BadRequest(ApiError):
    code, reason = 400, "BadRequest"


class Unauthorized(ApiError):
    code, reason = 401, "Unauthorized"


class Forbidden(ApiError):
    code, reason = 403, "Forbidden"


class NotFound(ApiError):
    code, reason = 404, "NotFound"


class MethodNotAllowed(ApiError):
    code, reason = 405, "MethodNotAllowed"


class AlreadyExists(ApiError):
    code, reason = 409, "AlreadyExists"


class Conflict(ApiError):
    code, reason = 409, "Conflict"


class Gone(ApiError):
    code, reason = 410, "Gone"


class Expired(ApiError):
    code, reason = 410, "Expired"


class RequestEntityTooLarge(ApiError):
    code, reason = 413, "RequestEntityTooLarge"


class UnsupportedMediaType(ApiError):
    code, reason = 415, "UnsupportedMediaType"


class Invalid(ApiError):
    code, reason = 422, "Invalid"


class TooManyRequests(ApiError):
    code, reason = 429, "TooManyRequests"


class InternalError(ApiError):
    code, reason = 500, "InternalError"


class ServiceUnavailable(ApiError):
    code, reason = 503, "ServiceUnavailable"


class Timeout(ApiError):
    code, reason = 504, "Timeout"


def qualified(resource_or_kind: str, group: str) -> str:
    """``GroupResource.String()`` / ``GroupKind.String()``: ``pods``, ``statefulsets.apps``."""
    return f"{resource_or_kind}.{group}" if group else resource_or_kind


def _details(name: str, group: str, kind: str, uid: str | None = None) -> dict:
    d: dict[str, Any] = {}
    if name:
        d["name"] = name
    if group:
        d["group"] = group
    if kind:
        d["kind"] = kind
    if uid:
        d["uid"] = uid
    return d


def not_found(resource: str, group: str, name: str) -> NotFound:
    return NotFound(f"{qualified(resource, group)} {_quote(name)} not found",
                    _details(name, group, resource))


def resource_not_found() -> NotFound:
    """What the server says for a path or kind it does not serve."""
    return NotFound("the server could not find the requested resource", {})


def already_exists(resource: str, group: str, name: str) -> AlreadyExists:
    return AlreadyExists(f"{qualified(resource, group)} {_quote(name)} already exists",
                         _details(name, group, resource))


def generate_name_exhausted(resource: str, group: str, name: str) -> AlreadyExists:
    return AlreadyExists(
        f"{qualified(resource, group)} {_quote(name)} already exists, the server was not able "
        "to generate a unique name for the object", _details(name, group, resource))


OPTIMISTIC_LOCK_MSG = ("the object has been modified; please apply your changes to the latest "
                       "version and try again")


def conflict(resource: str, group: str, name: str, why: str = OPTIMISTIC_LOCK_MSG) -> Conflict:
    return Conflict(f"Operation cannot be fulfilled on {qualified(resource, group)} "
                    f"{_quote(name)}: {why}", _details(name, group, resource))


def forbidden(resource: str, group: str, name: str, why: str, causes: list | None = None) -> Forbidden:
    q = qualified(resource, group)
    msg = f"{q} {_quote(name)} is forbidden: {why}" if name else f"{q} is forbidden: {why}"
    d = _details(name, group, resource)
    if causes:
        d["causes"] = causes
    return Forbidden(msg, d)


def invalid(kind: str, group: str, name: str, errors: Iterable["FieldError"]) -> Invalid:
    """``NewInvalid``: 422 with one cause per field error and the aggregated message."""
    errs = list(errors)
    causes = [{"reason": e.reason, "message": e.body(), "field": e.field} for e in errs]
    q = qualified(kind, group)
    agg = aggregate([e.message() for e in errs])
    msg = f"{q} {_quote(name)} is invalid" + (f": {agg}" if agg else "")
    d = _details(name, group, kind)
    d["causes"] = causes
    return Invalid(msg, d)


def expired(message: str) -> Expired:
    return Expired(message, None)


def too_old_resource_version(requested: int, oldest: int) -> Expired:
    return Expired(f"too old resource version: {requested} ({oldest})", None)


def too_large_resource_version(requested: int, current: int) -> Timeout:
    return Timeout(f"Too large resource version: {requested}, current: {current}",
                   {"causes": [{"reason": "ResourceVersionTooLarge",
                                "message": "Too large resource version"}],
                    "retryAfterSeconds": 1})


def aggregate(messages: list[str]) -> str:
    """``utilerrors.NewAggregate(...).Error()``: one message as is, several as ``[a, b]``,
    duplicates dropped."""
    seen: list[str] = []
    for m in messages:
        if m not in seen:
            seen.append(m)
    if not seen:
        return ""
    if len(seen) == 1:
        return seen[0]
    return "[" + ", ".join(seen) + "]"


def _quote(s: str) -> str:
    """Go's ``%q`` for the strings we print (names, values)."""
    return json.dumps(s, ensure_ascii=False)


# --------------------------------------------------------------------------------------------
# Field errors (k8s.io/apimachinery/pkg/util/validation/field)

OMIT = object()  # a FieldError whose value is not printed (field.OmitValueType)

_TYPE_TEXT = {
    "FieldValueNotFound": "Not found",
    "FieldValueRequired": "Required value",
    "FieldValueDuplicate": "Duplicate value",
    "FieldValueInvalid": "Invalid value",
    "FieldValueNotSupported": "Unsupported value",
    "FieldValueForbidden": "Forbidden",
    "FieldValueTooLong": "Too long",
    "FieldValueTooMany": "Too many",
    "InternalError": "Internal error",
    "FieldValueTypeInvalid": "Invalid value",
}
_NO_VALUE = {"FieldValueRequired", "FieldValueForbidden", "FieldValueTooLong", "InternalError"}


def go_value(value: Any) -> str:
    """How ``field.Error`` prints a bad value: ``%v`` for numbers and bools, ``%q`` for strings,
    ``null`` for nil, and a JSON-ish rendering for composite values."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, str):
        return _quote(value)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "[]string{" + ", ".join(_quote(v) for v in value) + "}"
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


@attrs.frozen
class FieldError:
    """One validation problem at one field path, as ``field.Error``.

    ``reason`` is the cause type (``FieldValueInvalid``, ``FieldValueRequired``, ...).
    """

    reason: str
    field: str
    value: Any = OMIT
    detail: str = ""

    def body(self) -> str:
        text = _TYPE_TEXT.get(self.reason, self.reason)
        if self.reason in _NO_VALUE or self.value is OMIT:
            s = text
        else:
            s = f"{text}: {go_value(self.value)}"
        if self.detail:
            s += f": {self.detail}"
        return s

    def message(self) -> str:
        return f"{self.field}: {self.body()}"

    # Constructors named as upstream's field.Invalid / field.Required / ...

    @classmethod
    def invalid(cls, field: str, value: Any, detail: str) -> "FieldError":
        return cls("FieldValueInvalid", field, value, detail)

    @classmethod
    def required(cls, field: str, detail: str = "") -> "FieldError":
        return cls("FieldValueRequired", field, OMIT, detail)

    @classmethod
    def forbidden(cls, field: str, detail: str) -> "FieldError":
        return cls("FieldValueForbidden", field, OMIT, detail)

    @classmethod
    def duplicate(cls, field: str, value: Any) -> "FieldError":
        return cls("FieldValueDuplicate", field, value, "")

    @classmethod
    def not_found(cls, field: str, value: Any) -> "FieldError":
        return cls("FieldValueNotFound", field, value, "")

    @classmethod
    def not_supported(cls, field: str, value: Any, valid: Iterable[str]) -> "FieldError":
        quoted = [_quote(v) for v in valid]
        detail = "supported values: " + ", ".join(quoted) if quoted else ""
        return cls("FieldValueNotSupported", field, value, detail)

    @classmethod
    def too_long(cls, field: str, value: Any, max_length: int) -> "FieldError":
        return cls("FieldValueTooLong", field, value,
                   f"may not be more than {max_length} bytes" if max_length >= 0
                   else "value is too long")

    @classmethod
    def too_many(cls, field: str, actual: int, max_count: int) -> "FieldError":
        return cls("FieldValueTooMany", field, actual,
                   f"must have at most {max_count} items")

    @classmethod
    def type_invalid(cls, field: str, value: Any, detail: str) -> "FieldError":
        return cls("FieldValueTypeInvalid", field, value, detail)


# --------------------------------------------------------------------------------------------
# Errors of the emulator itself (not API errors)


class SettleTimeout(RuntimeError):
    """``Cluster.settle()`` hit its bound on virtual time or on the number of reconciles.

    The message names the controllers and keys that were still busy and the deadlines that
    were still pending, which is where a livelock or a missing fixed point hides.
    """


class VolumeNotBound(LookupError):
    """``Cluster.volume()`` was asked for the data of a claim that is not bound to a volume yet.
    Let the cluster settle first, or check why the claim is Pending (its events say)."""


class TerminalError(Exception):
    """Raised by a reconciler for an error that retrying cannot fix: the key is dropped and the
    error recorded, instead of being requeued with backoff (controller-runtime's
    ``reconcile.TerminalError``)."""
