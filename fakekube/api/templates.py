"""Pods made from one template: the spec part of a Pod create, remembered by the spec sent.

The pods of a workload (a ReplicaSet's, a Job's, a test's loop) arrive with one spec. What a
create makes of that spec is the same every time: decoding it, defaulting it
(``SetObjectDefaults_Pod``), the spec part of the pod strategy's ``PrepareForCreate`` (the
QoS class, fields of disabled gates dropped) and of the admission plugins that change pods
(ServiceAccount, DefaultTolerationSeconds, Priority) are a function of the spec sent, the
feature gates and the toleration options alone. :class:`PodTemplates` remembers the result
by the exact serialized form of the spec sent (``marshal``: types, values and key order, so
``1``, ``1.0`` and ``True`` are three different specs), and the pods made from it share that
one spec object.

Sharing is sound because nothing changes a stored object in place: informers and
controllers already read the stored objects themselves, and versions of one object already
share their unchanged parts (the test suite checks the rule for every test). It makes a pod
made from a remembered template cost about a third less to create, and 100,000 such pods hold one
spec between them instead of 100,000: far less memory, and far less for Python's cyclic
collector to walk (a stored pod's spec is most of its containers).

What depends on more than the spec takes the full path:

- a pod whose annotations name AppArmor profiles for containers (the strategy copies them
  into the containers' security contexts);
- a spec whose affinity terms have ``matchLabelKeys``/``mismatchLabelKeys`` (merged with the
  pod's labels), or whose decoding dropped unknown fields, is never remembered;
- and none is remembered or served while the API layer is not the stock one for pods:
  another Pod strategy, admission plugins other than the stock ones, or hooks on pod writes.

Bounded: past ``max_entries`` templates everything is forgotten at once. Pods that each have
a spec of their own (a StatefulSet's: hostname, claims) gain nothing and would pay for the
key, so after a run of misses only every few creates look for a template until one repeats.

The same bytes always read back as the same value, types and order included (format 4
marks objects shared within the value, which depends on reference counts: equal specs may
then differ in bytes, which costs a miss, never a wrong hit). ``marshal`` tells every JSON
type and value apart, but writes all bytes-like objects alike
(``b"x"`` and ``bytearray(b"x")``). No stored spec holds one: the decoder checks the type of
every leaf of a PodSpec but those of its one free-form field (an ephemeral volume's claim
template's ``managedFields``), which validation refuses; handed-over bodies are JSON by
contract. (``tests/api/test_pod_templates.py`` checks that this is still the only such
field.)
"""

from __future__ import annotations

import marshal
from typing import TYPE_CHECKING, Any

from . import admission
from .kinds.core import (APPARMOR_CONTAINER_PREFIX, affinity_uses_label_keys, default_pod,
                         prepare_pod_create)

if TYPE_CHECKING:
    from .kinds import Strategy
    from .server import ApiServer

__all__ = ["PodTemplates"]

# Admission plugins whose only effect on a pod create is a function of its spec (and of the
# toleration options): their effect is part of what is remembered.
_SPEC_ONLY_PLUGINS = frozenset((admission.service_account,
                                admission.default_toleration_seconds, admission.priority))
# Admission plugins that change nothing in a pod: they still run on every create.
_READ_ONLY_PLUGINS = frozenset((admission.namespace_lifecycle,))


def _names_apparmor_profiles(obj: dict) -> bool:
    """Whether a pod as sent has AppArmor container annotations (read before decoding: a
    malformed one is left to the full path, which reports it)."""
    meta = obj.get("metadata")
    ann = meta.get("annotations") if type(meta) is dict else None
    if not ann:
        return False
    if type(ann) is not dict:
        return True
    for k in ann:
        if type(k) is not str or k.startswith(APPARMOR_CONTAINER_PREFIX):
            return True
    return False


class PodTemplates:
    """The stored specs of Pod creates, by the spec sent (see the module's text)."""

    __slots__ = ("_entries", "_max_entries", "_gates", "_plugins", "_rest", "_options",
                 "_cold", "_skip")

    # After this many misses in a row (pods that each have a spec of their own, as a
    # StatefulSet's do), only every SKIP+1th create looks for a template: the others take
    # the full path without computing a key. A hit ends that at once.
    COLD = 128
    SKIP = 15

    def __init__(self, max_entries: int = 256) -> None:
        self._entries: dict[tuple, tuple[dict, str]] = {}
        self._max_entries = max_entries
        self._gates: dict[str, bool] | None = None
        self._plugins: tuple | None = None
        # The plugins that still run on a remembered create (None: the memo is off).
        self._rest: tuple | None = None
        self._options: tuple[Any, Any] | None = None
        self._cold = 0  # misses since the last hit
        self._skip = 0  # creates left to pass by

    def key(self, api: "ApiServer", strategy: "Strategy", plugins: tuple, obj: dict,
            decoded: bool) -> tuple | None:
        """The key of a Pod create of ``obj`` (a dict, as sent), or None when this create
        must take the full path. ``plugins`` are the mutating admission plugins of the
        write; ``decoded`` tells whether the body is decoded (a handed-over body is not:
        its templates are kept apart)."""
        if self._skip:
            self._skip -= 1
            return None
        if (strategy.default is not default_pod
                or strategy.prepare_for_create is not prepare_pod_create
                or api.create_hooks.get("pods") or api.begin_hooks.get("pods")):
            return None
        if plugins is not self._plugins:
            rest = tuple(p for p in plugins if p not in _SPEC_ONLY_PLUGINS)
            self._rest = None if any(p not in _READ_ONLY_PLUGINS for p in rest) else rest
            self._plugins = plugins
            self._entries.clear()
        if self._rest is None:
            return None
        options = api.options
        seconds = (options.default_not_ready_toleration_seconds,
                   options.default_unreachable_toleration_seconds)
        if seconds != self._options or api.gates != self._gates:
            self._options = seconds
            self._gates = dict(api.gates)
            self._entries.clear()
        if _names_apparmor_profiles(obj):
            return None
        try:
            sent = marshal.dumps(obj.get("spec"))
        except Exception:  # not marshalable (an object of another type): the full path
            return None
        return (sent, decoded)

    def get(self, key: tuple) -> tuple[dict, str] | None:
        """The stored spec and QoS class remembered for ``key``."""
        found = self._entries.get(key)
        if found is not None:
            self._cold = 0
        else:
            self._cold += 1
            if self._cold >= self.COLD:
                self._skip = self.SKIP
        return found

    @property
    def rest(self) -> tuple:
        """The admission plugins that still run on a create served from a template."""
        return self._rest or ()

    def remember(self, key: tuple, stored: dict) -> None:
        """Remember what a create on the full path stored for ``key``."""
        spec = stored["spec"]
        if affinity_uses_label_keys(spec):
            return
        if len(self._entries) >= self._max_entries:
            self._entries.clear()
        self._entries[key] = (spec, stored["status"]["qosClass"])
