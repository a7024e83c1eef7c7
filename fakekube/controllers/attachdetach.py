"""The attach/detach controller: attaches the CSI volumes of scheduled pods to their nodes
through VolumeAttachments, and detaches them when no pod there needs them any more.

Follows kubernetes/kubernetes:

- ``pkg/controller/volume/attachdetach/attach_detach_controller.go``: the pod, node and claim
  handlers (``podAdd``/``podUpdate``/``podDelete``, ``nodeAdd``/``nodeUpdate``/``nodeDelete``
  with ``processVolumesInUse``, the PVC worker), ``populateActualStateOfWorld``;
- ``.../attachdetach/util/util.go``: ``ProcessPodVolumes``, ``DetermineVolumeAction``,
  ``CreateVolumeSpec`` (a claim must be Bound, its PV's claimRef must carry the claim's UID, a
  generic ephemeral volume's claim ``<pod>-<volume>`` must be controlled by the pod);
- ``.../cache/desired_state_of_world.go`` and ``actual_state_of_world.go``: the two caches
  (a new attachment is assumed mounted until the node's ``volumesInUse`` says otherwise; the
  multi-attach error is reported once per volume and node);
- ``.../reconciler/reconciler.go``: ``reconcile`` (detaches first, then attaches; one
  operation at a time for a volume that cannot be multi-attached, per node otherwise; a
  mounted volume is detached only when ``forceDetach`` (node not Ready and
  ``maxWaitForUnmountDuration`` passed since the detach was first requested, unless
  ``disable_force_detach_on_timeout``) or the node has the ``node.kubernetes.io/out-of-service``
  taint), ``reportMultiAttachError``, ``syncStates`` (every
  ``attach_detach_reconcile_sync_period``: an attachment whose VolumeAttachment is gone or not
  attached is forgotten, so it is attached again if still wanted);
- ``.../statusupdater/node_status_updater.go``: ``status.volumesAttached`` of each node;
- ``pkg/volume/util/operationexecutor/operation_executor.go`` and ``operation_generator.go``:
  the event messages (``generateVolumeMsg``: ``"%v for volume %q %v"``, so the attach success
  message ends in a space, as upstream's);
- ``pkg/volume/csi/csi_attacher.go``: ``Attach`` creates the VolumeAttachment
  ``getAttachmentName`` names and waits for ``status.attached``; ``Detach`` deletes it and
  waits until it is gone;
- ``pkg/volume/util/util.go``: ``IsPodTerminated``, ``IsMultiAttachAllowed``.

Time, as DESIGN.md "Determinism and time" asks: upstream's reconciler polls every 100 ms and
its populator every minute; here every change is handled when it happens, the force detach is
a deadline at exactly ``maxWaitForUnmountDuration`` after the detach was requested (upstream:
at the first 100 ms tick after it), and the state sync is a heartbeat that only acts (through
a deadline at its next tick) after an attachment it relies on went away behind its back.
Upstream's populator would also notice a bound PersistentVolume up to 3 minutes late when no
claim event announced it; here a PV event re-processes the claim's pods at once.
"""

from __future__ import annotations

import functools
import hashlib
from typing import Iterable

import attrs

from ..api.objects import deep_copy
from ..api.store import ADDED, DELETED, WatchEvent
from ..clock import Timer
from ..errors import ApiError
from ..kubelet.kubelet import unique_volume_name
from ..runtime import Controller, EventRecorder, Result

__all__ = ["AttachDetachController", "VolumeSpec", "attachment_name", "is_pod_terminated",
           "is_multi_attach_allowed", "CONTROLLER_MANAGED_ANNOTATION",
           "KEEP_TERMINATED_POD_VOLUMES_ANNOTATION", "TAINT_OUT_OF_SERVICE"]

CONTROLLER_MANAGED_ANNOTATION = "volumes.kubernetes.io/controller-managed-attach-detach"
KEEP_TERMINATED_POD_VOLUMES_ANNOTATION = "volumes.kubernetes.io/keep-terminated-pod-volumes"
TAINT_OUT_OF_SERVICE = "node.kubernetes.io/out-of-service"
EVENT_COMPONENT = "attachdetach-controller"
SYNC = ("sync",)


@functools.lru_cache(maxsize=8192)
def attachment_name(volume_handle: str, driver: str, node: str) -> str:
    """``getAttachmentName``: ``csi-`` and the hex SHA-256 of handle, driver and node name,
    concatenated (remembered: each attachment's name is asked for at every step of it)."""
    digest = hashlib.sha256(f"{volume_handle}{driver}{node}".encode()).hexdigest()
    return "csi-" + digest


def _not_running(statuses: Iterable[dict] | None) -> bool:
    """Every status is terminated or waiting (or there is none)."""
    for s in statuses or ():
        state = s.get("state") or {}
        if "terminated" not in state and "waiting" not in state:
            return False
    return True


def is_pod_terminated(pod: dict) -> bool:
    """``IsPodTerminated``: phase Failed or Succeeded, or being deleted with no container
    running. A pod stuck Terminating on an unreachable node still shows running containers
    (nobody updates them), so it is not terminated."""
    status = pod.get("status") or {}
    if status.get("phase") in ("Failed", "Succeeded"):
        return True
    return bool(pod["metadata"].get("deletionTimestamp")) and _not_running(
        status.get("initContainerStatuses")) and _not_running(
        status.get("containerStatuses")) and _not_running(
        status.get("ephemeralContainerStatuses"))


def is_multi_attach_allowed(pv: dict) -> bool:
    """``IsMultiAttachAllowed`` for a PersistentVolume: not when any access mode is
    ReadWriteOnce or ReadWriteOncePod; allowed when no access mode is given."""
    modes = (pv.get("spec") or {}).get("accessModes") or ()
    return not any(m in ("ReadWriteOnce", "ReadWriteOncePod") for m in modes)


def _ready(node: dict | None) -> bool:
    """``IsNodeReady``."""
    if node is None:
        return False
    for c in (node.get("status") or {}).get("conditions") or ():
        if c.get("type") == "Ready":
            return c.get("status") == "True"
    return False


def _out_of_service(node: dict | None) -> bool:
    """``TaintKeyExists(node.spec.taints, out-of-service)``, any effect."""
    if node is None:
        return False
    return any(t.get("key") == TAINT_OUT_OF_SERVICE
               for t in (node.get("spec") or {}).get("taints") or ())


def _claim_volumes(pod: dict) -> list[tuple[str, bool]]:
    """(claim name, is a generic ephemeral volume) for each of the pod's claim volumes."""
    out = []
    for vol in (pod.get("spec") or {}).get("volumes") or ():
        pvc = vol.get("persistentVolumeClaim")
        if pvc is not None:
            out.append((pvc.get("claimName", ""), False))
        elif vol.get("ephemeral") is not None:
            out.append((f"{pod['metadata']['name']}-{vol['name']}", True))
    return out


def _has_claims(pod: dict) -> bool:
    for vol in (pod.get("spec") or {}).get("volumes") or ():
        if "persistentVolumeClaim" in vol or "ephemeral" in vol:
            return True
    return False


@attrs.frozen
class VolumeSpec:
    """What the controller needs of an attachable volume: a CSI PersistentVolume."""

    unique_name: str   # kubernetes.io/csi/<driver>^<handle>
    pv_name: str
    driver: str
    handle: str
    multi_attach: bool

    def attachment(self, node: str) -> str:
        return attachment_name(self.handle, self.driver, node)


@attrs.define
class _ToAttach:
    """Desired state: one volume wanted on one node, by these pods."""

    spec: VolumeSpec
    pods: dict[str, tuple[str, str]] = attrs.field(factory=dict)  # uid -> (namespace, name)
    multi_attach_reported: bool = False


@attrs.define
class _Attached:
    """Actual state: one volume attached to one node."""

    spec: VolumeSpec
    mounted: bool = True                 # assumed, until the node's volumesInUse says
    detach_requested_at: float | None = None
    reported: bool = True                # listed in the node's status.volumesAttached
    force_timer: Timer | None = None


@attrs.define
class _Operation:
    """An attach or detach in flight: its VolumeAttachment has not answered yet."""

    kind: str  # "attach" | "detach"
    spec: VolumeSpec
    pods: tuple[tuple[str, str, str], ...] = ()  # (namespace, name, uid) when it started


@attrs.define
class _PodVolumes:
    uid: str
    node: str
    volumes: set[str] = attrs.field(factory=set)


class AttachDetachController(Controller):
    """Keys: ``("pod", namespace, name)``, ``("volume", unique name)``, ``("node", name)``
    (its ``status.volumesAttached``) and ``("sync",)``."""

    name = "persistentvolume-attach-detach-controller"

    def setup(self) -> None:
        ctx, cfg = self.ctx, self.config
        self.pods = ctx.informer("Pod")
        self.nodes = ctx.informer("Node")
        self.claims = ctx.informer("PersistentVolumeClaim")
        self.pvs = ctx.informer("PersistentVolume")
        self.vas = ctx.informer("VolumeAttachment")
        self.recorder: EventRecorder = ctx.recorder(EVENT_COMPONENT)
        self.max_wait = float(cfg.max_wait_for_unmount_duration)
        # desired state of the world
        self.managed: dict[str, bool] = {}   # managed nodes -> keep terminated pod volumes
        self.desired: dict[str, dict[str, _ToAttach]] = {}   # volume -> node -> pods
        self.pod_volumes: dict[tuple[str, str], _PodVolumes] = {}
        self.claim_pods: dict[tuple[str, str], set[str]] = {}  # (ns, claim) -> pod names
        self.pod_claims: dict[tuple[str, str], tuple[str, ...]] = {}
        # actual state of the world
        self.attached: dict[str, dict[str, _Attached]] = {}  # volume -> node -> attachment
        self.node_volumes: dict[str, set[str]] = {}          # node -> attached volumes
        self.ops: dict[str, dict[str, _Operation]] = {}      # volume -> node -> operation
        self.va_volume: dict[str, str] = {}                  # VolumeAttachment -> volume
        self.suspects: set[tuple[str, str]] = set()          # (volume, node) to verify
        # node -> volumes attached there since its last event: every other attachment's
        # ``mounted`` agrees with the volumesInUse that event left
        self.fresh: dict[str, set[str]] = {}
        self._sync_timer: Timer | None = None
        period = float(cfg.attach_detach_reconcile_sync_period)
        self._sync_hb = self.clock.call_every(period, self._on_sync_tick,
                                              label=f"{self.name} sync") if period >= 1 else None
        self.pods.table.handlers.append(self._on_pod)
        self.nodes.table.handlers.append(self._on_node)
        self.claims.table.handlers.append(self._on_claim)
        self.pvs.table.handlers.append(self._on_pv)
        self.vas.table.handlers.append(self._on_va)
        self._populate()

    def _populate(self) -> None:
        """Added to a running cluster: ``populateActualStateOfWorld`` (from the attached
        VolumeAttachments) and ``populateDesiredStateOfWorld`` (every pod)."""
        for node in self.nodes:
            self._note_node(node)
        for va in self.vas:
            spec = va.get("spec") or {}
            pv = self.pvs.get((spec.get("source") or {}).get("persistentVolumeName") or "")
            node_name = spec.get("nodeName", "")
            if pv is None or not (va.get("status") or {}).get("attached"):
                continue
            vspec = self._spec_of(pv)
            if vspec is None or vspec.attachment(node_name) != va["metadata"]["name"]:
                continue
            node = self.nodes.get(node_name)
            in_use = (node.get("status") or {}).get("volumesInUse") or () if node else ()
            self._add_attached(vspec, node_name, mounted=vspec.unique_name in in_use)
            self.queue.add(("volume", vspec.unique_name))
        for pod in self.pods:
            if _has_claims(pod):
                m = pod["metadata"]
                self.queue.add(("pod", m["namespace"], m["name"]))

    # -- event handlers (memory and keys only) -------------------------------------------

    def _on_pod(self, ev: WatchEvent) -> None:
        pod = ev.obj
        m = pod["metadata"]
        key = (m["namespace"], m["name"])
        if ev.type == DELETED:
            if key in self.pod_volumes or key in self.pod_claims:
                self.queue.add(("pod", *key))
            return
        if not _has_claims(pod):
            return
        if ev.type != ADDED:
            old = ev.old
            if (old.get("spec") or {}).get("nodeName") == (pod.get("spec") or {}).get(
                    "nodeName") and is_pod_terminated(old) == is_pod_terminated(pod):
                return
        self.queue.add(("pod", *key))

    def _wake_claim_users(self, namespace: str, claim: str) -> None:
        for name in sorted(self.claim_pods.get((namespace, claim), ())):
            self.queue.add(("pod", namespace, name))

    def _on_claim(self, ev: WatchEvent) -> None:
        if ev.type != DELETED:
            m = ev.obj["metadata"]
            self._wake_claim_users(m["namespace"], m["name"])

    def _on_pv(self, ev: WatchEvent) -> None:
        if ev.type != DELETED:
            ref = (ev.obj.get("spec") or {}).get("claimRef")
            if ref:
                self._wake_claim_users(ref.get("namespace", ""), ref.get("name", ""))

    def _note_node(self, node: dict) -> bool:
        """``addNodeToDswp``: a node with the controller-managed annotation is managed.
        Returns whether that changed what the node's pods need."""
        name = node["metadata"]["name"]
        ann = node["metadata"].get("annotations") or {}
        if CONTROLLER_MANAGED_ANNOTATION not in ann:
            return False
        keep = ann.get(KEEP_TERMINATED_POD_VOLUMES_ANNOTATION) == "true"
        before = self.managed.get(name)
        self.managed[name] = keep
        return before is None or before != keep

    def _on_node(self, ev: WatchEvent) -> None:
        node = ev.obj
        name = node["metadata"]["name"]
        volumes = self.node_volumes.get(name, ())
        fresh = self.fresh.pop(name, ())
        if ev.type == DELETED:
            if not any(name in nodes for nodes in self.desired.values()):
                self.managed.pop(name, None)  # DeleteNode fails while volumes are wanted
            for v in sorted(volumes):
                self.queue.add(("volume", v))
            return
        if self._note_node(node):
            for pod in self.pods.by_field("spec.nodeName", name):
                if _has_claims(pod):
                    m = pod["metadata"]
                    self.queue.add(("pod", m["namespace"], m["name"]))
        if ev.type == ADDED:
            self.queue.add(("node", name))  # SetNodeStatusUpdateNeeded
        # processVolumesInUse
        in_use = set((node.get("status") or {}).get("volumesInUse") or ())
        old = ev.old
        health_changed = old is None or _ready(old) != _ready(node) or _out_of_service(
            old) != _out_of_service(node)
        attached = self.attached
        if not health_changed:
            # Only the volumes whose mount state moved need a look. The node's last event
            # set every attachment's ``mounted`` from the old volumesInUse: only the
            # volumes that came into it or left it, and those attached since (assumed
            # mounted), can disagree with the new one.
            moved = in_use.symmetric_difference((old.get("status") or {}).get("volumesInUse")
                                                or ())
            volumes = [v for v in moved.union(fresh) if v in volumes
                       and attached[v][name].mounted != (v in in_use)]
        for v in sorted(volumes):
            attached[v][name].mounted = v in in_use
            self.queue.add(("volume", v))

    def _on_va(self, ev: WatchEvent) -> None:
        va = ev.obj
        vname = self.va_volume.get(va["metadata"]["name"])
        if vname is None:
            return
        self.queue.add(("volume", vname))
        node = (va.get("spec") or {}).get("nodeName", "")
        if ev.type == DELETED or not (va.get("status") or {}).get("attached"):
            if node in self.attached.get(vname, {}) and node not in self.ops.get(vname, {}):
                self.suspects.add((vname, node))
                self._sync_at_next_tick()

    # -- the state sync ------------------------------------------------------------------

    def _on_sync_tick(self) -> None:
        if self.suspects:
            self.queue.add(SYNC)

    def _sync_at_next_tick(self) -> None:
        """An attachment lost its VolumeAttachment: the next sync will notice; that sync
        is a deadline."""
        hb = self._sync_hb
        if hb is None:
            return
        t = self._sync_timer
        if t is not None and not t.cancelled and t.when == hb.when:
            return
        self._sync_timer = self.clock.call_at(hb.when, self._on_sync_tick,
                                              label=f"{self.name} next sync")

    def _sync_states(self) -> None:
        """``syncStates``/``VerifyVolumesAreAttached``: forget attachments whose
        VolumeAttachment is gone or not attached."""
        suspects, self.suspects = sorted(self.suspects), set()
        for vname, node in suspects:
            att = self.attached.get(vname, {}).get(node)
            if att is None or node in self.ops.get(vname, {}):
                continue
            va = self.vas.get(att.spec.attachment(node))
            if va is None or not (va.get("status") or {}).get("attached"):
                self._remove_attached(vname, node)
                self.queue.add(("node", node))
                self.queue.add(("volume", vname))

    # -- reconcile -----------------------------------------------------------------------

    def reconcile(self, key: tuple) -> Result | None:
        kind = key[0]
        if kind == "volume":
            self._reconcile_volume(key[1])
        elif kind == "pod":
            self._sync_pod(key[1], key[2])
        elif kind == "node":
            self._update_node_status(key[1])
        elif kind == "sync":
            self._sync_states()
        return None

    # -- desired state: pods -------------------------------------------------------------

    def _sync_pod(self, namespace: str, name: str) -> None:
        """``podAdd``/``podUpdate``/``podDelete``: ``ProcessPodVolumes`` with the action
        ``DetermineVolumeAction`` gives."""
        key = (namespace, name)
        pod = self.pods.get(name, namespace)
        have = self.pod_volumes.get(key)
        if have is not None and (pod is None or pod["metadata"]["uid"] != have.uid):
            self._remove_pod(key)
            have = None
        node = (pod.get("spec") or {}).get("nodeName") if pod is not None else None
        terminated = pod is not None and is_pod_terminated(pod)
        if not node or terminated:
            self._track_claims(key, ())
        if pod is None or not node:
            return
        if terminated and not self.managed.get(node, False):
            if have is not None:
                self._remove_pod(key)
            return
        claims = _claim_volumes(pod)
        if not terminated:
            self._track_claims(key, tuple(c for c, _ in claims))
        if node not in self.managed:
            return  # the node is not managed by this controller (yet)
        uid = pod["metadata"]["uid"]
        for claim, ephemeral in claims:
            spec = self._claim_spec(pod, claim, ephemeral)
            if spec is None:
                continue
            vname = spec.unique_name
            if have is None:
                have = self.pod_volumes[key] = _PodVolumes(uid, node)
            if vname in have.volumes:
                continue
            have.volumes.add(vname)
            entry = self.desired.setdefault(vname, {}).get(node)
            if entry is None:
                entry = self.desired[vname][node] = _ToAttach(spec)
            entry.pods[uid] = key
            self.queue.add(("volume", vname))

    def _remove_pod(self, key: tuple[str, str]) -> None:
        have = self.pod_volumes.pop(key)
        for vname in sorted(have.volumes):
            nodes = self.desired.get(vname)
            entry = nodes.get(have.node) if nodes else None
            if entry is None:
                continue
            entry.pods.pop(have.uid, None)
            if not entry.pods:
                del nodes[have.node]
                if not nodes:
                    del self.desired[vname]
            self.queue.add(("volume", vname))

    def _track_claims(self, key: tuple[str, str], claims: tuple[str, ...]) -> None:
        """The claims a scheduled, running pod waits for (their changes wake it)."""
        old = self.pod_claims.get(key, ())
        if old == claims:
            return
        ns, name = key
        for c in old:
            users = self.claim_pods.get((ns, c))
            if users is not None:
                users.discard(name)
                if not users:
                    del self.claim_pods[(ns, c)]
        for c in claims:
            self.claim_pods.setdefault((ns, c), set()).add(name)
        if claims:
            self.pod_claims[key] = claims
        else:
            self.pod_claims.pop(key, None)

    def _claim_spec(self, pod: dict, claim_name: str, ephemeral: bool) -> VolumeSpec | None:
        """``CreateVolumeSpec`` for a claim volume, or None when it is not (yet) an
        attachable volume: claim missing, not Bound, not the pod's own ephemeral claim, its
        PV missing or bound to another claim, or not a CSI volume."""
        ns = pod["metadata"]["namespace"]
        claim = self.claims.get(claim_name, ns)
        if claim is None:
            return None
        if ephemeral and not any(
                r.get("controller") and r.get("uid") == pod["metadata"]["uid"]
                for r in claim["metadata"].get("ownerReferences") or ()):
            return None
        pv_name = (claim.get("spec") or {}).get("volumeName")
        if not pv_name or (claim.get("status") or {}).get("phase") != "Bound":
            return None
        pv = self.pvs.get(pv_name)
        if pv is None:
            return None
        ref = (pv.get("spec") or {}).get("claimRef") or {}
        if ref.get("uid") != claim["metadata"]["uid"]:
            return None
        return self._spec_of(pv)

    @staticmethod
    def _spec_of(pv: dict) -> VolumeSpec | None:
        csi = (pv.get("spec") or {}).get("csi")
        if not csi:
            return None
        return VolumeSpec(unique_volume_name(pv), pv["metadata"]["name"],
                          csi.get("driver", ""), csi.get("volumeHandle", ""),
                          is_multi_attach_allowed(pv))

    # -- actual state --------------------------------------------------------------------

    def _add_attached(self, spec: VolumeSpec, node: str, mounted: bool = True) -> None:
        self.attached.setdefault(spec.unique_name, {})[node] = _Attached(spec, mounted=mounted)
        self.fresh.setdefault(node, set()).add(spec.unique_name)
        self.node_volumes.setdefault(node, set()).add(spec.unique_name)
        self.va_volume[spec.attachment(node)] = spec.unique_name

    def _remove_attached(self, vname: str, node: str) -> None:
        nodes = self.attached.get(vname)
        att = nodes.pop(node, None) if nodes else None
        if att is None:
            return
        if att.force_timer is not None:
            att.force_timer.cancel()
        if not nodes:
            del self.attached[vname]
        vols = self.node_volumes.get(node)
        if vols is not None:
            vols.discard(vname)
            if not vols:
                del self.node_volumes[node]
        if node not in self.ops.get(vname, {}):
            self.va_volume.pop(att.spec.attachment(node), None)

    def _start(self, vname: str, node: str, op: _Operation) -> None:
        self.ops.setdefault(vname, {})[node] = op
        self.va_volume[op.spec.attachment(node)] = vname

    def _finish(self, vname: str, node: str) -> None:
        ops = self.ops[vname]
        op = ops.pop(node)
        if not ops:
            del self.ops[vname]
        if node not in self.attached.get(vname, {}):
            self.va_volume.pop(op.spec.attachment(node), None)

    # -- the reconciler ------------------------------------------------------------------

    def _reconcile_volume(self, vname: str) -> None:
        """One volume's share of upstream's ``reconcile``: finished operations first, then
        detaches, then attaches."""
        for node in sorted(self.ops.get(vname, {})):
            self._check_operation(vname, node)
        desired = self.desired.get(vname, {})
        attached = self.attached.get(vname, {})
        for node in sorted(attached):
            if node not in desired:
                self._maybe_detach(vname, node, attached[node])
        for node in sorted(desired):
            self._maybe_attach(vname, node, desired[node])

    def _busy(self, vname: str, node: str, spec: VolumeSpec) -> bool:
        """``IsOperationPending``: per volume and node for a multi-attachable volume, per
        volume otherwise."""
        ops = self.ops.get(vname)
        if not ops:
            return False
        return node in ops if spec.multi_attach else True

    def _check_operation(self, vname: str, node: str) -> None:
        op = self.ops[vname][node]
        va = self.vas.get(op.spec.attachment(node))
        if op.kind == "detach":
            if va is None:  # waitForVolumeDetachment: gone
                self._finish(vname, node)
                self._remove_attached(vname, node)
            return
        if va is None:  # deleted under us: attach again
            self._finish(vname, node)
            return
        if va["metadata"].get("deletionTimestamp") or not (va.get("status") or {}).get(
                "attached"):
            return  # still waiting for the attacher
        self._finish(vname, node)
        msg = f'AttachVolume.Attach succeeded for volume "{op.spec.pv_name}" '
        for ns, name, uid in op.pods:
            self.recorder.event(self._pod_ref(ns, name, uid), "Normal",
                                "SuccessfulAttachVolume", msg)
        self._add_attached(op.spec, node)
        self.queue.add(("node", node))

    def _maybe_detach(self, vname: str, node: str, att: _Attached) -> None:
        if self._busy(vname, node, att.spec):
            return
        now = self.clock.now()
        if att.detach_requested_at is None:
            att.detach_requested_at = now
        deadline = att.detach_requested_at + self.max_wait
        expired = now >= deadline
        node_obj = self.nodes.get(node)
        healthy = _ready(node_obj)
        force_timeout = expired and not self.config.disable_force_detach_on_timeout
        force = not healthy and force_timeout
        oos = self.config.gate("NodeOutOfServiceVolumeDetach") and _out_of_service(node_obj)
        if att.mounted and not force and not oos:
            # Still mounted: wait for the unmount, or for the force detach if the node is
            # unhealthy (re-examined whenever the node changes).
            if (not healthy and not expired and not self.config.disable_force_detach_on_timeout
                    and (att.force_timer is None or att.force_timer.cancelled)):
                att.force_timer = self.clock.call_at(
                    deadline, lambda: self.queue.add(("volume", vname)),
                    label=f"{self.name} force detach {att.spec.pv_name} from {node}")
            return
        if att.force_timer is not None:
            att.force_timer.cancel()
            att.force_timer = None
        # Report the volume as no longer attached before detaching it; if the node status
        # cannot be written, do not detach.
        att.reported = False
        try:
            self._update_node_status(node)
        except ApiError:
            att.reported = True
            raise  # retried with backoff
        self._start(vname, node, _Operation("detach", att.spec))
        self.client.delete("VolumeAttachment", att.spec.attachment(node))
        self._check_operation(vname, node)

    def _maybe_attach(self, vname: str, node: str, entry: _ToAttach) -> None:
        spec = entry.spec
        if self._busy(vname, node, spec):
            return
        att = self.attached.get(vname, {}).get(node)
        if att is not None:  # attached: "touch" it (a pending detach is off)
            att.detach_requested_at = None
            if att.force_timer is not None:
                att.force_timer.cancel()
                att.force_timer = None
            return
        if not spec.multi_attach:
            others = [n for n in self.attached.get(vname, {}) if n != node]
            if others:
                if not entry.multi_attach_reported:
                    self._report_multi_attach(vname, entry, others)
                    entry.multi_attach_reported = True
                return
        pods = tuple((ns, name, uid) for uid, (ns, name) in entry.pods.items())
        self._start(vname, node, _Operation("attach", spec, pods))
        va_name = spec.attachment(node)
        if self.vas.get(va_name) is None:
            self.client.create({
                "apiVersion": "storage.k8s.io/v1", "kind": "VolumeAttachment",
                "metadata": {"name": va_name},
                "spec": {"attacher": spec.driver, "nodeName": node,
                         "source": {"persistentVolumeName": spec.pv_name}},
                "status": {"attached": False}})
        self._check_operation(vname, node)

    def _report_multi_attach(self, vname: str, entry: _ToAttach, others: list[str]) -> None:
        """``reportMultiAttachError``: name the pods that use the volume on the other nodes,
        those in each waiting pod's own namespace only."""
        users: list[tuple[str, str]] = []
        for n in sorted(others):
            other = self.desired.get(vname, {}).get(n)
            if other is not None:
                users.extend(other.pods.values())
        head = f'Multi-Attach error for volume "{entry.spec.pv_name}" '
        for uid, (ns, name) in list(entry.pods.items()):
            if not users:
                detail = ("Volume is already exclusively attached to one node and can't be "
                          "attached to another")
            else:
                local = [n for pns, n in users if pns == ns]
                elsewhere = len(users) - len(local)
                if local:
                    detail = "Volume is already used by pod(s) " + ", ".join(local)
                    if elsewhere:
                        detail += f" and {elsewhere} pod(s) in different namespaces"
                else:
                    detail = f"Volume is already used by {elsewhere} pod(s) in different namespaces"
            self.recorder.event(self._pod_ref(ns, name, uid), "Warning", "FailedAttachVolume",
                                head + detail)

    def _pod_ref(self, namespace: str, name: str, uid: str) -> dict:
        pod = self.pods.get(name, namespace)
        if pod is not None and pod["metadata"]["uid"] == uid:
            return pod
        return {"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": name, "namespace": namespace, "uid": uid}}

    # -- node status ---------------------------------------------------------------------

    def _update_node_status(self, node_name: str) -> None:
        """``status.volumesAttached``: the volumes attached to the node and not being
        detached. A missing node is skipped; a write error (a conflict) is retried."""
        node = self.nodes.get(node_name)
        if node is None:
            return
        want = [{"name": v, "devicePath": ""}
                for v in sorted(self.node_volumes.get(node_name, ()))
                if self.attached[v][node_name].reported]
        status = node.get("status") or {}
        if (status.get("volumesAttached") or []) == want:
            return
        new_status = deep_copy(status)
        if want:
            new_status["volumesAttached"] = want
        else:
            new_status.pop("volumesAttached", None)
        body = {"apiVersion": "v1", "kind": "Node", "metadata": dict(node["metadata"]),
                "status": new_status}
        self.client.update_status(body)
