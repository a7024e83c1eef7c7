"""The API layer: every verb of the Kubernetes API over the store, one pipeline for all writers.

Every write, whoever makes it (a test, a controller, the scheduler, a kubelet, an HTTP request),
goes through the same steps, as in the real API server::

    decode (typed copy in) -> default -> strategy -> admission -> validate -> store

and every read hands out copies, so that nothing outside aliases stored state. This module is
the protocol-free backend of both the in-process API (:class:`fakekube.Cluster`) and the HTTP
facade: it speaks resource types and dicts, never URLs or bytes.

Internal callers (controllers, kubelets, the scheduler) may pass ``copy_out=False`` to receive
the stored object itself (read-only by contract, as client-go's informer caches are) and, when
they hand over an object they will not touch again, ``owned=True`` to skip the copy in.
"""

from __future__ import annotations

import base64
import json
import random
from typing import Any, Callable, Iterable

from .. import errors
from ..clock import VirtualClock
from ..config import Config
from ..errors import FieldError
from . import admission as _admission
from .apply import ignored_fields, server_side_apply, track_update
from .kinds import Strategy, strategies as _strategies
from .kinds.core import STATUS_WRITE_DEFAULTS, pending_pod_status
from .kinds.other import validate_binding as _validate_binding, validate_scale as _validate_scale
from .kinds.storage import set_persistent_volume_phase_transition_time as set_pv_phase_time
from .names import is_valid_path_segment_name
from .objects import deep_copy, new_uids, random_suffix, rfc3339
from .patch import PatchError, json_patch, merge_patch, strategic_merge_patch
from .registry import REGISTRY, Registry, ResourceType
from .schema import DecodeError, decode
from .selectors import (FieldSelector, LabelSelector, SelectorError, label_selector_from_dict,
                        label_selector_from_set,
                        parse_field_selector, parse_label_selector,
                        unknown_field_selector_message, unsupported_field_label_message)
from .store import Store, Table
from .templates import PodTemplates
from .watch import ERROR, Watcher

__all__ = ["ApiServer", "PATCH_TYPES"]

PATCH_TYPES = {"merge", "strategic", "json", "apply"}
FIELD_VALIDATION = ("Ignore", "Warn", "Strict")
PROPAGATION = ("Orphan", "Background", "Foreground")

_SYSTEM_META = ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds",
                "resourceVersion", "selfLink", "generation")
_SYSTEM_META_SET = frozenset(_SYSTEM_META)
# What an update takes from the stored object's metadata whatever the body says (besides the
# resourceVersion, which it checks first).
_SERVER_META = ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds",
                "generation", "selfLink")
# What a status write keeps of the body it is sent (the rest comes from the stored object),
# and the metadata fields its kind's status strategy keeps as stored.
_STATUS_BODY_KEYS = frozenset(("status", "metadata", "apiVersion", "kind"))
_STATUS_AND_META = frozenset(("status", "metadata"))
_STATUS_PROTECTED_META = {"Pod": ("ownerReferences",), "Deployment": ("labels",)}
_CREATE, _UPDATE = _admission.CREATE, _admission.UPDATE


def _status_success(rt: ResourceType, obj: dict) -> dict:
    m = obj["metadata"]
    details = {"name": m["name"], "group": rt.group, "kind": rt.plural, "uid": m.get("uid", "")}
    if not rt.group:
        del details["group"]
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
            "details": details}


class _Narrowed:
    """A plugin list narrowed to each kind of write: :func:`admission.plugins_for` leaves
    out the plugins whose marks say they would return at once (most concern one or two
    kinds), remembered per (op, group, kind, namespaced) while the list holds the plugins
    it was made from (tests append their own)."""

    __slots__ = ("seen", "by_key")

    def __init__(self) -> None:
        self.seen: list = []
        self.by_key: dict[tuple, tuple] = {}

    def get(self, plugins: list, op: str, rt: ResourceType) -> tuple:
        if plugins != self.seen:
            self.seen = list(plugins)
            self.by_key.clear()
        key = (op, rt.group, rt.kind, rt.namespaced)
        got = self.by_key.get(key)
        if got is None:
            got = self.by_key[key] = _admission.plugins_for(self.seen, op, rt)
        return got


class ApiServer:
    """The verbs of the Kubernetes API over one :class:`~fakekube.api.store.Store`."""

    def __init__(self, store: Store, clock: VirtualClock, rng: random.Random, config: Config,
                 registry: Registry = REGISTRY) -> None:
        self.store = store
        self.clock = clock
        self.config = config
        self.options = config
        self.registry = registry
        self.gates = config.gates
        self._uid_rng = random.Random(rng.getrandbits(64))
        # UIDs drawn ahead from _uid_rng, a batch at a time (the same sequence as one
        # new_uid per create; nothing else draws from it), the next one last.
        self._uids: list[str] = []
        self._name_rng = random.Random(rng.getrandbits(64))
        self._strategies = _strategies()
        # The stored specs of pods made from one template (None: every create is decoded,
        # defaulted and admitted in full).
        self.pod_templates: PodTemplates | None = PodTemplates()
        self.admission: list[_admission.Plugin] = list(_admission.DEFAULT_PLUGINS)
        # Validating admission runs after the kind's validation (upstream's order).
        self.validating_admission: list[_admission.Plugin] = list(
            _admission.DEFAULT_VALIDATING_PLUGINS)
        # Each list narrowed to one kind of write (see _Narrowed).
        self._admission_for = _Narrowed()
        self._validating_for = _Narrowed()
        self.tables: dict[str, Table] = {}
        for rt in registry.kinds:
            self.tables[rt.group_resource] = store.table(rt.group_resource, rt.indexed_fields)
        self._ns_table = self.tables["namespaces"]
        self._pod_rt: ResourceType | None = None  # looked up on the first binding
        self.warnings: list[str] = []
        self._stamp_at: float | None = None  # see now()
        self._stamp = ""
        # Event recorders share these: repeated events are counted on the first one, and
        # names stay unique when many events happen at one virtual instant.
        self.event_index: dict[tuple, str] = {}
        self._event_seq = 0
        # Hooks other parts register, by group resource: ``create_hooks`` are called with
        # (new, None) right before a create is stored and with (None, old) after a delete;
        # ``begin_hooks`` run before validation, as upstream's BeginCreate/BeginUpdate
        # (Service IP and port allocation): called with (new, old or None, dry_run), they
        # return finish(success), called once the write is stored or has failed.
        self.create_hooks: dict[str, list[Callable[..., None]]] = {}
        self.begin_hooks: dict[str, list[Callable[..., Callable[[bool], None]]]] = {}
        from .service_alloc import install as _install_service_alloc

        _install_service_alloc(self, random.Random(rng.getrandbits(64)))

    # -- helpers ---------------------------------------------------------------------------

    def table(self, rt: ResourceType) -> Table:
        return self.tables[rt.group_resource]

    def strategy(self, rt: ResourceType) -> Strategy:
        return self._strategies.get(rt.kind) or _EMPTY_STRATEGY

    def namespace_object(self, name: str) -> dict | None:
        return self._ns_table.objects.get(("", name))

    def default_storage_class(self) -> str | None:
        """The name of the default StorageClass (the newest if several), or None."""
        best = None
        for obj in self.tables["storageclasses.storage.k8s.io"].objects.values():
            ann = obj["metadata"].get("annotations") or {}
            if ann.get("storageclass.kubernetes.io/is-default-class") == "true" or ann.get(
                    "storageclass.beta.kubernetes.io/is-default-class") == "true":
                if best is None or (obj["metadata"]["creationTimestamp"], obj["metadata"]["name"]) > (
                        best["metadata"]["creationTimestamp"], best["metadata"]["name"]):
                    best = obj
        return best["metadata"]["name"] if best else None

    def next_event_seq(self) -> int:
        self._event_seq += 1
        return self._event_seq

    def now(self) -> str:
        """The virtual time as metav1.Time text (the last instant's text remembered: every
        create and many updates stamp the same instant)."""
        t = self.clock.now()
        if t != self._stamp_at:
            self._stamp = rfc3339(t)
            self._stamp_at = t
        return self._stamp

    def _key(self, rt: ResourceType, name: str, namespace: str | None) -> tuple[str, str]:
        if rt.namespaced:
            if not namespace:
                raise errors.BadRequest("an empty namespace may not be set when a resource "
                                        "name is provided")
            return (namespace, name)
        return ("", name)

    def _decode(self, rt: ResourceType, obj: Any, field_validation: str, owned: bool,
                schema: str | None = None, dropped: list[str] | None = None) -> dict:
        if field_validation not in FIELD_VALIDATION:
            raise errors.invalid("CreateOptions", "meta.k8s.io", "", [
                FieldError.not_supported("fieldValidation", field_validation,
                                         ["", "Ignore", "Strict", "Warn"])])
        if not isinstance(obj, dict):
            raise errors.BadRequest(
                f"{rt.kind} in version \"{rt.version}\" cannot be handled as a {rt.kind}: json: "
                f"cannot unmarshal {json_kind(obj)} into Go value of type "
                f"{rt.group or 'core'}.{rt.kind}")
        api_version = obj.get("apiVersion")
        kind = obj.get("kind")
        if schema is None:
            want_kind = rt.kind
            want_version = rt.api_version
        else:
            got = _SCHEMA_TARGETS.get(schema)
            if got is None:
                got = _SCHEMA_TARGETS[schema] = _schema_target(schema)
            want_kind, want_version = got
            if want_version is None:
                want_version = rt.api_version
        if kind not in (None, "") and kind != want_kind:
            raise errors.BadRequest(
                f"{kind} in version \"{_version_of(api_version)}\" cannot be handled as a "
                f"{want_kind}: no kind \"{kind}\" is registered for version \"{api_version}\"")
        if api_version not in (None, "") and api_version != want_version:
            raise errors.BadRequest(
                f"the API version in the data ({api_version}) does not match the expected API "
                f"version ({want_version})")
        if owned and field_validation == "Ignore":
            body = obj
        else:
            try:
                body, unknown = decode(obj, schema or rt.schema,
                                       strict=field_validation == "Strict")
            except DecodeError as exc:
                raise errors.BadRequest(
                    f"{want_kind} in version \"{rt.version}\" cannot be handled as a "
                    f"{want_kind}: {exc.message}" if not exc.message.startswith("strict")
                    else exc.message) from None
            if unknown:
                if field_validation == "Warn":
                    self.warnings.extend(f'unknown field "{u}"' for u in unknown)
                if dropped is not None:
                    dropped.extend(unknown)
        body["apiVersion"] = want_version
        body["kind"] = want_kind
        meta = body.get("metadata")
        if meta is None:
            body["metadata"] = {}
        return body

    def _validate(self, rt: ResourceType, name: str, errs: list[FieldError]) -> None:
        if errs:
            raise errors.invalid(rt.kind, rt.group, name, errs)

    def _admit(self, op: str, rt: ResourceType, obj: dict, old: dict | None) -> None:
        for plugin in self._plugins(op, rt):
            plugin(op, rt, obj, old, self)

    def _plugins(self, op: str, rt: ResourceType) -> tuple:
        """The mutating admission plugins that can act on an ``op`` of ``rt``, in order."""
        return self._admission_for.get(self.admission, op, rt)

    def _validating_plugins(self, op: str, rt: ResourceType) -> tuple:
        """The validating admission plugins that can act on an ``op`` of ``rt``, in order."""
        return self._validating_for.get(self.validating_admission, op, rt)

    # -- create ----------------------------------------------------------------------------

    def create(self, rt: ResourceType, obj: Any, namespace: str | None = None, *,
               dry_run: bool = False, field_validation: str = "Strict",
               field_manager: str | None = None, owned: bool = False,
               copy_out: bool = True) -> dict:
        """Create an object; return the stored object (a copy unless ``copy_out=False``)."""
        with self.store.lock:
            if (rt.kind == "Pod" and rt.group == "" and not dry_run and type(obj) is dict
                    and self.pod_templates is not None):
                stored = self._create_pod(rt, obj, namespace, field_validation, owned,
                                          field_manager)
            else:
                body = self._decode(rt, obj, field_validation, owned)
                stored = self._create(rt, body, namespace, dry_run=dry_run,
                                      field_manager=field_manager)
            return deep_copy(stored) if copy_out else stored

    def _create_pod(self, rt: ResourceType, obj: dict, namespace: str | None,
                    field_validation: str, owned: bool, field_manager: str | None) -> dict:
        """A Pod create, its spec served from (or remembered in) :attr:`pod_templates`."""
        templates = self.pod_templates
        decoded = not (owned and field_validation == "Ignore")
        key = templates.key(self, self._strategies.get("Pod") or _EMPTY_STRATEGY,
                            self._plugins(_CREATE, rt), obj, decoded)
        if key is None:
            body = self._decode(rt, obj, field_validation, owned)
            return self._create(rt, body, namespace, field_manager=field_manager)
        found = templates.get(key)
        if found is None:
            dropped: list[str] = []
            body = self._decode(rt, obj, field_validation, owned, dropped=dropped)
            stored = self._create(rt, body, namespace, field_manager=field_manager)
            if not dropped:
                templates.remember(key, stored)
            return stored
        # The spec is known good: decode the rest, a stand-in keeping the spec's place (a
        # spec sent as null is dropped by decoding, and defaulting adds one at the end).
        if decoded and obj.get("spec") is not None:
            obj = {**obj, "spec": _NO_SPEC}
        body = self._decode(rt, obj, field_validation, owned)
        return self._create(rt, body, namespace, field_manager=field_manager, template=found)

    def _create(self, rt: ResourceType, body: dict, namespace: str | None, *,
                dry_run: bool = False, field_manager: str | None = None,
                template: tuple[dict, str] | None = None) -> dict:
        meta = body["metadata"]
        if rt.namespaced:
            ns = meta.get("namespace") or ""
            if namespace and ns and ns != namespace:
                raise errors.BadRequest("the namespace of the provided object does not match "
                                        "the namespace sent on the request")
            ns = ns or namespace or ""
            if not ns:
                raise errors.BadRequest("an empty namespace may not be set during creation")
            meta["namespace"] = ns
        else:
            meta.pop("namespace", None)
        if not _SYSTEM_META_SET.isdisjoint(meta):
            for f in _SYSTEM_META:
                meta.pop(f, None)
        if rt.has_status and rt.kind != "Node":
            body.pop("status", None)
        strategy = self._strategies.get(rt.kind) or _EMPTY_STRATEGY
        if template is None:
            if strategy.default is not None:
                strategy.default(body)
            if strategy.prepare_for_create is not None:
                strategy.prepare_for_create(body, self.gates)
            if rt.kind == "PersistentVolume":
                set_pv_phase_time(body, None, self.now())
            plugins = self._plugins(_CREATE, rt)
        else:
            # A pod from a remembered template: its stored spec is known, defaulted,
            # prepared and admitted; only the status is its own.
            spec, qos = template
            body["spec"] = spec
            body["status"] = pending_pod_status(spec, qos)
            plugins = self.pod_templates.rest
        generate = not meta.get("name") and meta.get("generateName")
        if generate:
            meta["name"] = self._generate_name(meta["generateName"])
        for plugin in plugins:
            plugin(_CREATE, rt, body, None, self)
        group_resource = rt.group_resource
        finishers = (self._begin(rt, body, None, dry_run) if self.begin_hooks.get(group_resource)
                     else _NO_FINISHERS)
        try:
            stored = self._create_tail(rt, strategy, body, generate, dry_run, field_manager,
                                       group_resource)
        except BaseException:
            for finish in finishers:
                finish(False)
            raise
        for finish in finishers:
            finish(True)
        return stored

    def _begin(self, rt: ResourceType, new: dict, old: dict | None, dry_run: bool) -> list:
        hooks = self.begin_hooks.get(rt.group_resource)
        if not hooks:
            return _NO_FINISHERS
        finishers: list = []
        try:
            for begin in hooks:
                finishers.append(begin(new, old, dry_run))
        except BaseException:
            for finish in finishers:
                finish(False)
            raise
        return finishers

    def _create_tail(self, rt: ResourceType, strategy: Strategy, body: dict, generate: Any,
                     dry_run: bool, field_manager: str | None,
                     group_resource: str | None = None) -> dict:
        if group_resource is None:
            group_resource = rt.group_resource
        meta = body["metadata"]
        errs = strategy.validate(body, self.gates)
        if errs:
            raise errors.invalid(rt.kind, rt.group, meta.get("name", ""), errs)
        for plugin in self._validating_plugins(_CREATE, rt):
            plugin(_CREATE, rt, body, None, self)
        # The storage key (NamespaceKeyFunc): catches the names of kinds whose validation
        # leaves them unchecked (core/v1 Event).
        name = meta.get("name")
        if not name:
            raise errors.BadRequest("Name parameter required.")
        if name == "." or name == ".." or "/" in name or "%" in name:
            bad = is_valid_path_segment_name(name)
            quoted = json.dumps(name, ensure_ascii=False)
            raise errors.BadRequest(f"Name parameter invalid: {quoted}: {';'.join(bad)}")
        if field_manager:
            self._track(rt, None, body, field_manager, None)
        table = self.tables[group_resource]
        key = (meta.get("namespace", ""), name)
        if key in table.objects:
            if not generate:
                err = errors.already_exists(rt.plural, rt.group, meta["name"])
                if table.objects[key]["metadata"].get("deletionTimestamp"):
                    err.message = "object is being deleted: " + err.message
                raise err
            for _ in range(7 if self.gates.get("RetryGenerateName") else 0):
                meta["name"] = self._generate_name(meta["generateName"])
                key = (key[0], meta["name"])
                if key not in table.objects:
                    break
            else:
                raise errors.generate_name_exhausted(rt.plural, rt.group, meta["name"])
        uids = self._uids
        meta["uid"] = uids.pop() if uids else self._more_uids()
        meta["creationTimestamp"] = self.now()
        if rt.tracks_generation:
            meta["generation"] = 1
        hooks = self.create_hooks.get(group_resource)
        if hooks:
            for hook in hooks:
                hook(body, None, dry_run=dry_run)
        if dry_run:
            return body
        self.store.insert(table, body)
        return body

    def _more_uids(self) -> str:
        """The next UID, after drawing the next batch."""
        uids = self._uids = new_uids(self._uid_rng, _UID_BATCH)
        return uids.pop()

    def _generate_name(self, prefix: str) -> str:
        return prefix[:58] + random_suffix(self._name_rng)

    # -- get / list ------------------------------------------------------------------------

    def get(self, rt: ResourceType, name: str, namespace: str | None = None, *,
            resource_version: str | None = None, copy_out: bool = True) -> dict:
        with self.store.lock:
            if resource_version not in (None, "", "0"):
                rv = self._parse_rv(resource_version)
                if rv > self.store.rv:
                    raise errors.too_large_resource_version(rv, self.store.rv)
            obj = self.table(rt).objects.get(self._key(rt, name, namespace))
            if obj is None:
                raise errors.not_found(rt.plural, rt.group, name)
            return deep_copy(obj) if copy_out else obj

    @staticmethod
    def _parse_rv(text: Any) -> int:
        """A resourceVersion as an integer. Upstream answers a malformed one with a 500
        without a reason (kubernetes/kubernetes#113939), and so do we."""
        if isinstance(text, str) and text.isdigit() and text.isascii():
            return int(text)
        raise errors.InternalError(f'resourceVersion: Invalid value: "{text}": strconv.ParseUint: '
                                   f'parsing "{text}": invalid syntax', None, reason="")

    def parse_selectors(self, rt: ResourceType, label_selector: Any, field_selector: Any
                        ) -> tuple[LabelSelector | None, FieldSelector | None]:
        ls = fs = None
        try:
            if label_selector not in (None, ""):
                if isinstance(label_selector, dict) and set(label_selector) - {
                        "matchLabels", "matchExpressions"}:
                    # A plain label map ({"app": "web"}), as a Service's selector is.
                    ls = label_selector_from_set(label_selector, validate=True)
                elif isinstance(label_selector, dict):
                    ls = label_selector_from_dict(label_selector)
                elif isinstance(label_selector, str):
                    ls = parse_label_selector(label_selector)
                else:
                    raise errors.BadRequest("labelSelector must be a string")
            if field_selector not in (None, ""):
                if not isinstance(field_selector, str):
                    raise errors.BadRequest("fieldSelector must be a string")
                fs = parse_field_selector(field_selector)
        except SelectorError as exc:
            raise errors.BadRequest(str(exc)) from None
        if fs is not None:
            for f in sorted(fs.fields()):
                if rt.field_getter(f) is None:
                    raise errors.BadRequest(unsupported_field_label_message(f)
                                            if rt.field_selectors
                                            else unknown_field_selector_message(f))
        if ls is not None and ls.empty:
            ls = None
        return ls, fs

    def matcher(self, rt: ResourceType, namespace: str | None, ls: LabelSelector | None,
                fs: FieldSelector | None) -> Callable[[dict], bool]:
        getters = {f: rt.field_getter(f) for f in fs.fields()} if fs is not None else {}

        def matches(obj: dict) -> bool:
            m = obj["metadata"]
            if namespace and m.get("namespace") != namespace:
                return False
            if ls is not None and not ls.matches(m.get("labels")):
                return False
            if fs is not None and not fs.matches({f: g(obj) for f, g in getters.items()}):
                return False
            return True
        return matches

    def select(self, rt: ResourceType, namespace: str | None, ls: LabelSelector | None,
               fs: FieldSelector | None, objects: dict | None = None,
               start: tuple[str, str] | None = None) -> Iterable[dict]:
        """Matching objects in (namespace, name) order, narrowed by an index when a selector
        term allows it. ``objects`` is a snapshot to read instead of the live table."""
        table = self.table(rt)
        if objects is not None:
            keys: Iterable = sorted(k for k in objects if (namespace is None or k[0] == namespace)
                                    and (start is None or k > start))
            source = objects
        else:
            source = table.objects
            candidates = None
            if ls is not None:
                for lk, values in ls.index_terms():
                    found = table.keys_with_label(lk, values)
                    candidates = found if candidates is None else candidates & found
                    if not candidates:
                        return []
            if fs is not None:
                for f in table.field_getters:
                    v = fs.equality_value(f)
                    if v is not None:
                        found = table.keys_with_field(f, v)
                        candidates = found if candidates is None else candidates & found
                        if not candidates:
                            return []
            if candidates is not None:
                keys = sorted(k for k in candidates if (namespace is None or k[0] == namespace)
                              and (start is None or k > start))
            else:
                keys = table.iter_keys(namespace, start)
        if ls is None and fs is None:
            return (source[k] for k in keys)
        match = self.matcher(rt, None, ls, fs)
        return (o for o in (source[k] for k in keys) if match(o))

    def list(self, rt: ResourceType, namespace: str | None = None, *,
             label_selector: Any = None, field_selector: Any = None, limit: int | None = None,
             continue_: str | None = None, resource_version: str | None = None,
             resource_version_match: str | None = None, copy_out: bool = True) -> dict:
        """A wire-format ``<Kind>List``; ``limit``/``continue_`` page through one consistent
        snapshot as etcd does."""
        with self.store.lock:
            ls, fs = self.parse_selectors(rt, label_selector, field_selector)
            ns = namespace if rt.namespaced and namespace else None
            table = self.table(rt)
            snapshot_rv = self.store.rv
            start = None
            objects = None
            self._validate_list_options(resource_version, resource_version_match, continue_)
            if continue_:
                if resource_version not in (None, "", "0") or resource_version_match:
                    raise errors.BadRequest("specifying resource version is not allowed when "
                                            "using continue")
                snapshot_rv, start = self._decode_continue(continue_)
                if snapshot_rv > self.store.rv:
                    raise errors.BadRequest("continue key is not valid: incorrect encoded "
                                            "start resourceVersion (version meta.k8s.io/v1)")
                if table.last_rv > snapshot_rv:
                    objects = table.state_at(snapshot_rv)
                    if objects is None:
                        raise errors.expired(
                            "The provided continue parameter is too old to display a "
                            "consistent list result. You can start a new list without the "
                            "continue parameter, or use the continue token in this response "
                            "to retrieve the remainder of the results. Continuing with the "
                            "provided token results in an inconsistent list - objects that "
                            "were created, modified, or deleted between the time the first "
                            "chunk was returned and now may show up in the list.")
            elif resource_version not in (None, "", "0"):
                rv = self._parse_rv(resource_version)
                if rv > self.store.rv:
                    raise errors.too_large_resource_version(rv, self.store.rv)
                if resource_version_match == "Exact":
                    snapshot_rv = rv
                    if table.last_rv > rv:
                        objects = table.state_at(rv)
                        if objects is None:
                            raise errors.expired("The resourceVersion for the provided list is "
                                                 "too old.")
            items_iter = self.select(rt, ns, ls, fs, objects, start)
            items: list[dict] = []
            more = False
            last_key = None
            for obj in items_iter:
                if limit is not None and limit > 0 and len(items) >= limit:
                    more = True
                    break
                items.append(deep_copy(obj) if copy_out else obj)
                m = obj["metadata"]
                last_key = (m.get("namespace", ""), m["name"])
            list_meta: dict[str, Any] = {"resourceVersion": str(snapshot_rv)}
            if more and last_key is not None:
                list_meta["continue"] = self._encode_continue(snapshot_rv, last_key)
                list_meta["remainingItemCount"] = sum(1 for _ in items_iter) + 1 if (
                    ls is None and fs is None) else None
                if list_meta["remainingItemCount"] is None:
                    del list_meta["remainingItemCount"]
            return {"apiVersion": rt.api_version, "kind": rt.list_kind, "metadata": list_meta,
                    "items": items}

    @staticmethod
    def _validate_list_options(rv: str | None, match: str | None, continue_: str | None) -> None:
        """ListOptions validation (apimachinery ``internalversion/validation``): 422."""
        errs: list[FieldError] = []
        if match:
            if continue_:
                errs.append(FieldError.forbidden(
                    "resourceVersionMatch",
                    "resourceVersionMatch is forbidden when continue is provided"))
            elif not rv:
                errs.append(FieldError.forbidden(
                    "resourceVersionMatch",
                    "resourceVersionMatch is forbidden unless resourceVersion is provided"))
            elif match not in ("Exact", "NotOlderThan"):
                errs.append(FieldError.not_supported("resourceVersionMatch", match,
                                                     ["Exact", "NotOlderThan", ""]))
            elif match == "Exact" and rv == "0":
                errs.append(FieldError.forbidden(
                    "resourceVersionMatch",
                    'resourceVersionMatch "exact" is forbidden for resourceVersion "0"'))
        if errs:
            raise errors.invalid("ListOptions", "meta.k8s.io", "", errs)

    @staticmethod
    def _encode_continue(rv: int, key: tuple[str, str]) -> str:
        start = (f"{key[0]}/{key[1]}" if key[0] else key[1]) + "\x00"
        raw = json.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": start},
                         separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @staticmethod
    def _decode_continue(token: str) -> tuple[int, tuple[str, str]]:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            data = json.loads(raw)
            if data.get("v") != "meta.k8s.io/v1":
                raise ValueError
            rv = int(data["rv"])
            start = str(data["start"]).rstrip("\x00")
            ns, _, name = start.rpartition("/")
            return rv, (ns, name)
        except (ValueError, KeyError, TypeError, json.JSONDecodeError):
            raise errors.BadRequest(f"invalid continue token: continue key is not valid: "
                                    f"{token!r}") from None

    # -- update ----------------------------------------------------------------------------

    def update(self, rt: ResourceType, obj: Any, name: str | None = None,
               namespace: str | None = None, *, subresource: str | None = None,
               dry_run: bool = False, field_validation: str = "Strict",
               field_manager: str | None = None, owned: bool = False,
               copy_out: bool = True) -> dict:
        """Replace an object (PUT), or its status with ``subresource="status"``."""
        with self.store.lock:
            body = self._decode(rt, obj, field_validation, owned)
            stored = self._update(rt, body, name, namespace, subresource, dry_run=dry_run,
                                  field_manager=field_manager)
            return deep_copy(stored) if copy_out else stored

    def _update(self, rt: ResourceType, body: dict, name: str | None, namespace: str | None,
                subresource: str | None, *, dry_run: bool = False,
                field_manager: str | None = None) -> dict:
        if subresource not in (None, "", "status"):
            raise errors.resource_not_found()
        if subresource == "status" and not rt.has_status:
            raise errors.resource_not_found()
        meta = body["metadata"]
        body_name = meta.get("name") or ""
        if name is None:
            name = body_name
        elif body_name and body_name != name:
            raise errors.BadRequest(f"the name of the object ({body_name}) does not match the "
                                    f"name on the URL ({name})")
        if not name:
            raise errors.BadRequest("resource name may not be empty")
        if rt.namespaced:
            ns = meta.get("namespace") or ""
            if namespace and ns and ns != namespace:
                raise errors.BadRequest("the namespace of the provided object does not match "
                                        "the namespace sent on the request")
            namespace = ns or namespace
            meta["namespace"] = namespace
        else:
            meta.pop("namespace", None)
        meta["name"] = name
        old = self.tables[rt.group_resource].objects.get(self._key(rt, name, namespace))
        body_rv = meta.get("resourceVersion") or ""
        if old is None:
            if rt.allow_create_on_update and not subresource and not body_rv:
                return self._create(rt, body, namespace, dry_run=dry_run,
                                    field_manager=field_manager)
            raise errors.not_found(rt.plural, rt.group, name)
        if body_rv:
            # One equal to the stored (well-formed) resourceVersion is well-formed: only
            # another needs parsing, which answers a malformed one with its 500 first.
            if body_rv != old["metadata"]["resourceVersion"]:
                self._parse_rv(body_rv)
                raise errors.conflict(rt.plural, rt.group, name)
        elif not rt.allow_unconditional_update:
            # store.go: the GroupKind here is built from the resource name.
            raise errors.invalid(rt.plural, rt.group, name, [FieldError.invalid(
                "metadata.resourceVersion", _GoHex(0), "must be specified for an update")])
        return self._write_update(rt, body, old, subresource, dry_run=dry_run,
                                  field_manager=field_manager)

    def _write_update(self, rt: ResourceType, new: dict, old: dict, subresource: str | None,
                      *, dry_run: bool = False, field_manager: str | None = None) -> dict:
        """The shared tail of update and patch: ``new`` is a private decoded body for the
        object whose stored state is ``old``."""
        meta = new["metadata"]
        ometa = old["metadata"]
        if meta is ometa:
            # A handed-over body that kept the stored metadata itself: the fields set below
            # (resourceVersion first) must not reach the stored version.
            meta = new["metadata"] = dict(meta)
        # System fields are the server's.
        for f in _SERVER_META:
            if f in ometa:
                meta[f] = ometa[f]
            elif f in meta:
                del meta[f]
        meta["resourceVersion"] = ometa["resourceVersion"]
        status_write = subresource == "status"
        strategy = self._strategies.get(rt.kind) or _EMPTY_STRATEGY
        # Default the body as sent (decoding defaults it upstream), before the parts the
        # write may not change are taken from the stored object: those are shared, never
        # to be touched.
        default = strategy.default
        if default is not None:
            if status_write:
                # Only what defaulting does to the status and metadata of a status write
                # survives it (the rest is replaced by the stored object's, just below): a
                # kind may name a defaulter that does only that part.
                default = STATUS_WRITE_DEFAULTS.get(default, default)
            default(new)
        if status_write:
            if not _STATUS_BODY_KEYS.issuperset(new):
                for k in list(new):
                    if k not in _STATUS_BODY_KEYS:
                        del new[k]
            for k, v in old.items():
                if k not in _STATUS_AND_META:
                    new[k] = v
            # Status strategies keep spec; most keep the metadata a status write sends, but a
            # Pod's ownerReferences and a Deployment's labels stay as they were.
            for f in _STATUS_PROTECTED_META.get(rt.kind, ()):
                if f in ometa:
                    meta[f] = ometa[f]
                else:
                    meta.pop(f, None)
            if rt.kind == "PersistentVolume":
                set_pv_phase_time(new, old, self.now())
        else:
            if rt.has_status:
                if "status" in old:
                    new["status"] = old["status"]
                else:
                    new.pop("status", None)
            if strategy.prepare_for_update is not None:
                strategy.prepare_for_update(new, old, self.gates)
        for plugin in self._plugins(_UPDATE, rt):
            plugin(_UPDATE, rt, new, old, self)
        group_resource = rt.group_resource
        if status_write or not self.begin_hooks.get(group_resource):
            return self._update_tail(rt, strategy, new, old, subresource, dry_run,
                                     field_manager, group_resource)
        finishers = self._begin(rt, new, old, dry_run)
        try:
            stored = self._update_tail(rt, strategy, new, old, subresource, dry_run,
                                       field_manager, group_resource)
        except BaseException:
            for finish in finishers:
                finish(False)
            raise
        for finish in finishers:
            finish(True)
        return stored

    def _update_tail(self, rt: ResourceType, strategy: Strategy, new: dict, old: dict,
                     subresource: str | None, dry_run: bool,
                     field_manager: str | None, group_resource: str | None = None) -> dict:
        meta = new["metadata"]
        status_write = subresource == "status"
        if status_write:
            errs = strategy.validate_status_update(new, old, self.gates)
        else:
            errs = strategy.validate_update(new, old, self.gates)
        if errs:
            raise errors.invalid(rt.kind, rt.group, meta["name"], errs)
        if not status_write:
            for plugin in self._validating_plugins(_UPDATE, rt):
                plugin(_UPDATE, rt, new, old, self)
        if field_manager:
            self._track(rt, old, new, field_manager, subresource)
        if rt.tracks_generation and not status_write and _generation_changed(rt, new, old):
            meta["generation"] = old["metadata"].get("generation", 0) + 1
        if new == old:
            return old  # an update that changes nothing: no write, no event, same rv
        if dry_run:
            return new
        table = self.tables[group_resource or rt.group_resource]
        if (meta.get("deletionTimestamp") and not meta.get("finalizers")
                and not meta.get("deletionGracePeriodSeconds")
                and not (rt.kind == "Namespace" and (new.get("spec") or {}).get("finalizers"))):
            # The last finalizer is gone from an object being deleted: it goes now.
            self.store.remove(table, old)
            self._after_delete(rt, old)
            return new
        self.store.replace(table, new, old)
        return new

    # -- patch -----------------------------------------------------------------------------

    def patch(self, rt: ResourceType, name: str, patch: Any, namespace: str | None = None, *,
              patch_type: str = "merge", subresource: str | None = None,
              dry_run: bool = False, field_manager: str | None = None, force: bool = False,
              field_validation: str = "Strict", copy_out: bool = True) -> dict:
        """Patch an object: ``patch_type`` is merge, strategic, json or apply."""
        with self.store.lock:
            if patch_type not in PATCH_TYPES:
                raise errors.UnsupportedMediaType(
                    f"the body of the request was in an unknown format - accepted media types "
                    f"include: application/json-patch+json, application/merge-patch+json, "
                    f"application/apply-patch+yaml, application/strategic-merge-patch+json")
            if patch_type == "apply" and subresource in (None, "", "status"):
                return server_side_apply(self, rt, name, namespace, patch,
                                         field_manager=field_manager, force=force,
                                         dry_run=dry_run, field_validation=field_validation,
                                         subresource=subresource, copy_out=copy_out)
            if subresource == "scale":
                result = self._patch_scale(rt, name, namespace, patch, patch_type,
                                           dry_run=dry_run)
                return result
            if subresource not in (None, "", "status"):
                raise errors.resource_not_found()
            table = self.table(rt)
            key = self._key(rt, name, namespace)
            old = table.objects.get(key)
            if old is None:
                raise errors.not_found(rt.plural, rt.group, name)
            patched = self._apply_patch(rt, old, patch, patch_type, field_validation)
            if not isinstance(patched, dict):
                raise errors.BadRequest("the patch produced something that is not an object")
            body = self._decode(rt, patched, field_validation, owned=False)
            bmeta = body["metadata"]
            if bmeta.get("name", name) != name:
                raise errors.BadRequest(f"the name of the object ({bmeta.get('name')}) does not "
                                        f"match the name on the URL ({name})")
            if rt.namespaced and bmeta.get("namespace", key[0]) != key[0]:
                raise errors.BadRequest("the namespace of the provided object does not match "
                                        "the namespace sent on the request")
            bmeta["name"] = name
            if rt.namespaced:
                bmeta["namespace"] = key[0]
            patch_rv = _patch_resource_version(patch, patch_type)
            if patch_rv and patch_rv != old["metadata"]["resourceVersion"]:
                raise errors.conflict(rt.plural, rt.group, name)
            stored = self._write_update(rt, body, old, subresource or None, dry_run=dry_run,
                                        field_manager=field_manager)
            return deep_copy(stored) if copy_out else stored

    def _track(self, rt: ResourceType, old: dict | None, new: dict, manager: str,
               subresource: str | None) -> None:
        """managedFields: record an Update by ``manager`` (see :mod:`fakekube.api.apply`)."""
        track_update(old, new, manager=manager, api_version=rt.api_version,
                     type_name=rt.schema, now=self.now(),
                     ignored=ignored_fields(rt, subresource, new), subresource=subresource or "")

    def _apply_patch(self, rt: ResourceType, old: dict, patch: Any, patch_type: str,
                     field_validation: str = "Strict", schema: str | None = None) -> Any:
        """Apply a patch to the stored object (never changing it); PatchError becomes the
        Status upstream answers (:mod:`fakekube.api.patch` documents the mapping)."""
        try:
            if patch_type == "json":
                return json_patch(old, patch, field_validation=field_validation)
            if patch_type == "merge":
                return merge_patch(old, patch, field_validation=field_validation)
            # strategic (and an apply to /scale, which takes the applied intent as a patch)
            if not isinstance(patch, dict):
                raise errors.BadRequest(
                    f"json: cannot unmarshal {json_kind(patch)} into Go value of type "
                    "map[string]interface {}")
            return strategic_merge_patch(old, patch, schema or rt.schema)
        except PatchError as exc:
            raise exc.to_api_error() from None

    # -- delete ----------------------------------------------------------------------------

    def delete(self, rt: ResourceType, name: str, namespace: str | None = None, *,
               grace_period_seconds: int | None = None, propagation_policy: str | None = None,
               preconditions: dict | None = None, orphan_dependents: bool | None = None,
               dry_run: bool = False, copy_out: bool = True) -> dict:
        """Delete an object. Returns the object when it still exists afterwards (finalizers,
        graceful deletion) or when the kind's REST storage returns it; else a Status."""
        with self.store.lock:
            if propagation_policy is not None and propagation_policy not in PROPAGATION:
                raise errors.invalid("DeleteOptions", "meta.k8s.io", "", [
                    FieldError.not_supported("propagationPolicy", propagation_policy,
                                             ["Foreground", "Background", "Orphan", "nil"])])
            if orphan_dependents is not None and propagation_policy is not None:
                raise errors.invalid("DeleteOptions", "meta.k8s.io", "", [
                    FieldError.invalid("propagationPolicy", propagation_policy,
                                       "orphanDependents and deletionPropagation cannot be both "
                                       "set")])
            if grace_period_seconds is not None and not isinstance(grace_period_seconds, int):
                raise errors.BadRequest("gracePeriodSeconds must be an integer")
            table = self.table(rt)
            key = self._key(rt, name, namespace)
            old = table.objects.get(key)
            if old is None:
                raise errors.not_found(rt.plural, rt.group, name)
            if rt.kind == "Namespace" and name in _admission.IMMORTAL_NAMESPACES:
                raise errors.forbidden(rt.plural, rt.group, name,
                                       "this namespace may not be deleted")
            if preconditions:
                self._check_preconditions(rt, old, preconditions)
            if orphan_dependents is not None:
                propagation_policy = "Orphan" if orphan_dependents else "Background"
            result = self._delete(rt, old, grace_period_seconds, propagation_policy,
                                  dry_run=dry_run)
            if result is None:
                return deep_copy(old) if rt.returns_deleted_object else _status_success(rt, old)
            return deep_copy(result) if copy_out else result

    @staticmethod
    def _check_preconditions(rt: ResourceType, old: dict, pre: dict) -> None:
        m = old["metadata"]
        # NewConflict is given the Kind as the resource here (rest/delete.go).
        uid = pre.get("uid")
        if uid and uid != m.get("uid"):
            raise errors.conflict(
                rt.kind, rt.group, m["name"],
                f"the UID in the precondition ({uid}) does not match the UID in record "
                f"({m.get('uid')}). The object might have been deleted and then recreated")
        rv = pre.get("resourceVersion")
        if rv and rv != m.get("resourceVersion"):
            raise errors.conflict(
                rt.kind, rt.group, m["name"],
                f"the ResourceVersion in the precondition ({rv}) does not match the "
                f"ResourceVersion in record ({m.get('resourceVersion')}). The object might "
                "have been modified")

    def _delete(self, rt: ResourceType, old: dict, grace: int | None, policy: str | None, *,
                dry_run: bool = False) -> dict | None:
        """Delete ``old``; return what remains (being deleted) or None if it is gone.

        Follows ``registry/generic/registry/store.go`` (``Delete``,
        ``updateForGracefulDeletionAndFinalizers``) and ``registry/rest/delete.go``
        (``BeforeDelete``): GC finalizers from the propagation policy, graceful deletion for
        pods, finalizers keep the object with a deletionTimestamp.
        """
        ometa = old["metadata"]
        table = self.table(rt)
        is_pod = rt.kind == "Pod" and rt.group == ""
        grace_value = 0
        if is_pod:
            spec = old.get("spec") or {}
            status = old.get("status") or {}
            grace_value = grace if grace is not None else spec.get(
                "terminationGracePeriodSeconds", 30)
            if not spec.get("nodeName") or status.get("phase") in ("Failed", "Succeeded"):
                grace_value = 0
            if grace_value < 0:
                grace_value = 1
        old_fins = list(ometa.get("finalizers") or [])
        finalizers = old_fins
        if rt.kind != "Event":  # events do not take part in garbage collection
            keep = [f for f in old_fins if f not in ("foregroundDeletion", "orphan")]
            if policy == "Orphan":
                finalizers = keep + ["orphan"]
            elif policy == "Foreground":
                finalizers = keep + ["foregroundDeletion"]
            elif policy == "Background":
                finalizers = keep
        ns_pending = rt.kind == "Namespace" and bool((old.get("spec") or {}).get("finalizers"))
        now = self.clock.now()

        if ometa.get("deletionTimestamp"):
            # Already being deleted: a graceful period may only get shorter.
            changes: dict[str, Any] = {}
            current = ometa.get("deletionGracePeriodSeconds")
            if is_pod and current and grace_value < current:
                from .objects import parse_rfc3339

                when = parse_rfc3339(ometa["deletionTimestamp"]) - current + grace_value
                if when < now:
                    when = now
                    if grace_value:
                        grace_value = 1
                changes["deletionTimestamp"] = rfc3339(when)
                changes["deletionGracePeriodSeconds"] = grace_value
            if finalizers != old_fins:
                changes["finalizers"] = finalizers or None
            gone_grace = not current or (is_pod and grace_value == 0)
            if not finalizers and gone_grace and not ns_pending:
                return self._remove(rt, table, old, dry_run)
            if not changes:
                return old
            new = self._with_meta(old, **changes)
            if dry_run:
                return new
            self.store.replace(table, new, old)
            return new

        if grace_value == 0 and not finalizers and not ns_pending:
            return self._remove(rt, table, old, dry_run)
        changes = {"finalizers": finalizers or None}
        if grace_value:
            changes["deletionTimestamp"] = rfc3339(now + grace_value)
            changes["deletionGracePeriodSeconds"] = grace_value
        else:
            changes["deletionTimestamp"] = rfc3339(now)
            if rt.kind != "Namespace":
                changes["deletionGracePeriodSeconds"] = 0
        if ometa.get("generation", 0) > 0:
            changes["generation"] = ometa["generation"] + 1
        new = self._with_meta(old, **changes)
        if rt.kind == "Namespace":
            new["status"] = dict(new.get("status") or {}, phase="Terminating")
        if dry_run:
            return new
        self.store.replace(table, new, old)
        return new

    def _remove(self, rt: ResourceType, table: Table, old: dict, dry_run: bool) -> None:
        if not dry_run:
            self.store.remove(table, old)
            self._after_delete(rt, old)
        return None

    @staticmethod
    def _with_meta(obj: dict, **changes: Any) -> dict:
        new = dict(obj)
        meta = dict(obj["metadata"])
        for k, v in changes.items():
            if v is None:
                meta.pop(k, None)
            else:
                meta[k] = v
        new["metadata"] = meta
        return new

    def _after_delete(self, rt: ResourceType, old: dict) -> None:
        for hook in self.create_hooks.get(rt.group_resource, ()):
            hook(None, old)

    def delete_collection(self, rt: ResourceType, namespace: str | None = None, *,
                          label_selector: Any = None, field_selector: Any = None,
                          grace_period_seconds: int | None = None,
                          propagation_policy: str | None = None, dry_run: bool = False
                          ) -> dict:
        """Delete every matching object; returns the ``<Kind>List`` of what was deleted."""
        with self.store.lock:
            ls, fs = self.parse_selectors(rt, label_selector, field_selector)
            ns = namespace if rt.namespaced and namespace else None
            victims = list(self.select(rt, ns, ls, fs))
            items = []
            for obj in victims:
                m = obj["metadata"]
                try:
                    self.delete(rt, m["name"], m.get("namespace"),
                                grace_period_seconds=grace_period_seconds,
                                propagation_policy=propagation_policy, dry_run=dry_run)
                except errors.NotFound:
                    continue
                items.append(deep_copy(obj))
            return {"apiVersion": rt.api_version, "kind": rt.list_kind,
                    "metadata": {"resourceVersion": str(self.store.rv)}, "items": items}

    # -- watch -----------------------------------------------------------------------------

    def watch(self, rt: ResourceType, namespace: str | None = None, *,
              resource_version: str | None = None, label_selector: Any = None,
              field_selector: Any = None, allow_bookmarks: bool = False,
              send_initial_events: bool | None = None) -> Watcher:
        """Open a watch. Without a resourceVersion (or "0") it starts with ADDED events for
        the current objects; from resourceVersion N it replays every change after N, or
        delivers one ERROR 410 Expired if the history no longer reaches back to N."""
        with self.store.lock:
            ls, fs = self.parse_selectors(rt, label_selector, field_selector)
            ns = namespace if rt.namespaced and namespace else None
            table = self.table(rt)
            matches = self.matcher(rt, ns, ls, fs)
            w = Watcher(table, matches, kind=rt.kind, api_version=rt.api_version,
                        allow_bookmarks=allow_bookmarks,
                        on_close=lambda w_: self._unwatch(table, w_))
            current = self.store.rv
            rv = None
            if resource_version not in (None, "", "0"):
                rv = self._parse_rv(resource_version)
            if send_initial_events:
                if not allow_bookmarks:
                    raise errors.invalid("ListOptions", "meta.k8s.io", "", [FieldError.forbidden(
                        "allowWatchBookmarks",
                        "allowWatchBookmarks must be set to true when sendInitialEvents is "
                        "set")])
                if rv is not None and rv > current:
                    raise errors.too_large_resource_version(rv, current)
                for obj in self.select(rt, ns, ls, fs):
                    w.push("ADDED", obj, int(obj["metadata"]["resourceVersion"]))
                w.bookmark(current, initial_events_end=True)
            elif rv is None:
                for obj in self.select(rt, ns, ls, fs):
                    w.push("ADDED", obj, int(obj["metadata"]["resourceVersion"]))
            else:
                if rv > current:
                    raise errors.too_large_resource_version(rv, current)
                later = table.events_after(rv)
                if later is None:
                    st = errors.too_old_resource_version(rv, table.oldest_retained()).status
                    w.push(ERROR, st, 0)
                    return w
                for ev in later:
                    w.offer(ev)
            table.watchers.append(w)
            return w

    def _unwatch(self, table: Table, w: Watcher) -> None:
        with self.store.lock:
            try:
                table.watchers.remove(w)
            except ValueError:
                pass

    # -- subresources: scale, binding, eviction, finalize -----------------------------------

    def get_scale(self, rt: ResourceType, name: str, namespace: str | None) -> dict:
        if "scale" not in rt.subresources:
            raise errors.resource_not_found()
        with self.store.lock:
            obj = self.get(rt, name, namespace, copy_out=False)
            return self._scale_of(rt, obj)

    @staticmethod
    def _scale_of(rt: ResourceType, obj: dict) -> dict:
        m = obj["metadata"]
        selector = ""
        sel = (obj.get("spec") or {}).get("selector")
        if sel:
            try:
                selector = str(label_selector_from_dict(sel))
            except SelectorError:
                selector = ""
        meta = {"name": m["name"], "namespace": m.get("namespace", ""), "uid": m["uid"],
                "resourceVersion": m["resourceVersion"],
                "creationTimestamp": m["creationTimestamp"]}
        replicas = (obj.get("spec") or {}).get("replicas", 0)
        return {"kind": "Scale", "apiVersion": "autoscaling/v1", "metadata": meta,
                "spec": {"replicas": replicas} if replicas else {},
                "status": {"replicas": (obj.get("status") or {}).get("replicas", 0),
                           "selector": selector}}

    def update_scale(self, rt: ResourceType, name: str, namespace: str | None, scale: Any, *,
                     dry_run: bool = False, field_validation: str = "Strict") -> dict:
        if "scale" not in rt.subresources:
            raise errors.resource_not_found()
        with self.store.lock:
            body = self._decode(rt, scale, field_validation, owned=False,
                                schema="autoscaling_v1.Scale")
            return self._write_scale(rt, name, namespace, body, dry_run=dry_run)

    def _patch_scale(self, rt: ResourceType, name: str, namespace: str | None, patch: Any,
                     patch_type: str, *, dry_run: bool = False) -> dict:
        if "scale" not in rt.subresources:
            raise errors.resource_not_found()
        current = self._scale_of(rt, self.get(rt, name, namespace, copy_out=False))
        patched = self._apply_patch(rt, current, patch, patch_type,
                                    schema="autoscaling_v1.Scale")
        body = self._decode(rt, patched, "Strict", owned=False, schema="autoscaling_v1.Scale")
        if not _patch_resource_version(patch, patch_type):
            body["metadata"].pop("resourceVersion", None)
        return self._write_scale(rt, name, namespace, body, dry_run=dry_run)

    def _write_scale(self, rt: ResourceType, name: str, namespace: str | None, body: dict, *,
                     dry_run: bool) -> dict:
        meta = body["metadata"]
        if meta.get("name") and meta["name"] != name:
            raise errors.BadRequest(f"the name of the object ({meta['name']}) does not match "
                                    f"the name on the URL ({name})")
        errs = _validate_scale(body)
        if errs:
            raise errors.invalid("Scale", "autoscaling", name, errs)
        old = self.get(rt, name, namespace, copy_out=False)
        rv = meta.get("resourceVersion")
        if rv and rv != old["metadata"]["resourceVersion"]:
            raise errors.conflict(rt.plural, rt.group, name)
        uid = meta.get("uid")
        if uid and uid != old["metadata"]["uid"]:
            raise errors.conflict(f"{rt.plural}/scale", rt.group, name,
                                  f"Precondition failed: UID in precondition: {uid}, UID in "
                                  f"object meta: {old['metadata']['uid']}")
        new = deep_copy(old)
        new.setdefault("spec", {})["replicas"] = (body.get("spec") or {}).get("replicas", 0)
        stored = self._write_update(rt, new, old, None, dry_run=dry_run)
        return self._scale_of(rt, stored)

    def bind(self, name: str, namespace: str, binding: Any, *, dry_run: bool = False) -> dict:
        """``POST pods/<name>/binding``: assign a pod to a node, as the scheduler does."""
        rt = self._pod_rt
        if rt is None:
            rt = self._pod_rt = self.registry.by_kind("Pod")
        with self.store.lock:
            body = self._decode(rt, binding, "Strict", owned=False, schema="core_v1.Binding")
            bmeta = body["metadata"]
            if bmeta.get("name") and bmeta["name"] != name:
                raise errors.BadRequest("name in URL does not match name in Binding object")
            bmeta.setdefault("name", name)
            bmeta.setdefault("namespace", namespace)
            errs = _validate_binding(body)
            if errs:
                raise errors.invalid("Binding", "", name, errs)
            table = self.tables[rt.group_resource]
            old = table.objects.get(self._key(rt, name, namespace))
            if old is None:
                raise errors.not_found(rt.plural, rt.group, name)
            m = old["metadata"]
            target = body["target"].get("name", "")
            if m.get("deletionTimestamp"):
                raise errors.conflict("pods/binding", "", name,
                                      f"pod {name} is being deleted, cannot be assigned to a "
                                      "host")
            node_name = (old.get("spec") or {}).get("nodeName")
            if node_name:
                raise errors.conflict("pods/binding", "", name,
                                      f"pod {name} is already assigned to node \"{node_name}\"")
            bu = bmeta.get("uid")
            if bu and bu != m["uid"]:
                raise errors.conflict("pods/binding", "", name,
                                      f"Precondition failed: UID in precondition: {bu}, UID in "
                                      f"object meta: {m['uid']}")
            new = dict(old)
            new["spec"] = dict(old.get("spec") or {}, nodeName=target)
            status = dict(old.get("status") or {})
            conds = list(status.get("conditions") or [])
            scheduled = {"type": "PodScheduled", "status": "True",
                         "lastTransitionTime": self.now()}
            for i, c in enumerate(conds):
                if c.get("type") == "PodScheduled":
                    if c.get("status") == "True" and c.get("lastTransitionTime"):
                        scheduled["lastTransitionTime"] = c["lastTransitionTime"]
                    conds[i] = scheduled
                    break
            else:
                conds.append(scheduled)
            status["conditions"] = conds
            new["status"] = status
            new["metadata"] = dict(m)
            ann = (bmeta.get("annotations") or {})
            if ann:
                new["metadata"]["annotations"] = {**(m.get("annotations") or {}), **ann}
            if not dry_run:
                self.store.replace(table, new, old)
            return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                    "code": 201}

    def evict(self, name: str, namespace: str, body: Any, *, dry_run: bool = False) -> dict:
        """``POST pods/<name>/eviction``; see :mod:`fakekube.api.eviction`."""
        from .eviction import evict

        return evict(self, name, namespace, body, dry_run=dry_run)

    def finalize_namespace(self, name: str, body: Any) -> dict:
        """``PUT namespaces/<name>/finalize``: only ``spec.finalizers`` changes."""
        rt = self.registry.by_kind("Namespace")
        with self.store.lock:
            new_body = self._decode(rt, body, "Strict", owned=False)
            old = self.get(rt, name, None, copy_out=False)
            rv = new_body["metadata"].get("resourceVersion")
            if rv and rv != old["metadata"]["resourceVersion"]:
                raise errors.conflict(rt.plural, rt.group, name)
            new = dict(old)
            new["spec"] = dict(old.get("spec") or {})
            fins = (new_body.get("spec") or {}).get("finalizers")
            if fins:
                new["spec"]["finalizers"] = list(fins)
            else:
                new["spec"].pop("finalizers", None)
            table = self.table(rt)
            m = old["metadata"]
            if m.get("deletionTimestamp") and not new["spec"].get("finalizers") and not m.get(
                    "finalizers"):
                self.store.remove(table, old)
                self._after_delete(rt, old)
                return deep_copy(new)
            if new != old:
                self.store.replace(table, new, old)
            return deep_copy(new)


_EMPTY_STRATEGY = Strategy()
_NO_SPEC: dict = {}  # the stand-in for a remembered spec while the rest is decoded
_UID_BATCH = 64
_NO_FINISHERS: list = []


class _GoHex(int):
    """An unsigned integer printed as Go's ``%#v`` prints a uint64 (``0x0``)."""

    def __str__(self) -> str:
        return hex(self)


_SCHEMA_TARGETS: dict[str, tuple[str, str | None]] = {}


def _schema_target(schema: str) -> tuple[str, str | None]:
    """The kind a subresource body decoded as ``schema`` must name (``core_v1.Binding`` ->
    ``Binding``), and its apiVersion when that is not the parent resource's (None)."""
    want_kind = schema.split(".", 1)[1]
    if schema.startswith("autoscaling_v1."):
        return want_kind, "autoscaling/v1"
    if schema.startswith("policy_v1."):
        return want_kind, "policy/v1"
    return want_kind, None


def _generation_changed(rt: ResourceType, new: dict, old: dict) -> bool:
    """Whether an update bumps metadata.generation: a spec change; for a Deployment also an
    annotation change; for an EndpointSlice anything outside metadata, or its labels."""
    if rt.kind == "EndpointSlice":
        if new["metadata"].get("labels") != old["metadata"].get("labels"):
            return True
        return any(new.get(k) != old.get(k) for k in set(new) | set(old) if k != "metadata")
    if new.get("spec") != old.get("spec"):
        return True
    if rt.kind == "Deployment":
        return new["metadata"].get("annotations") != old["metadata"].get("annotations")
    return False


def _patch_resource_version(patch: Any, patch_type: str) -> str | None:
    if patch_type == "json" or not isinstance(patch, dict):
        return None
    meta = patch.get("metadata")
    if isinstance(meta, dict):
        rv = meta.get("resourceVersion")
        return rv if isinstance(rv, str) and rv else None
    return None


def json_kind(v: Any) -> str:
    """How encoding/json names a decoded JSON value in its unmarshal errors."""
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    if v is None:
        return "null"
    return "object"


def _version_of(api_version: Any) -> str:
    if not isinstance(api_version, str):
        return ""
    return api_version.rpartition("/")[2]
