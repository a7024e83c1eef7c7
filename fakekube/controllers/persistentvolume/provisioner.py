"""The built-in CSI external-provisioner: provisions and deletes volumes for every driver.

Stands for kubernetes-csi/external-provisioner (``pkg/controller/controller.go``: the PV it
builds) running on ``kubernetes-sigs/sig-storage-lib-external-provisioner:controller/controller.go``
(``shouldProvision``, ``provisionClaimOperation``, ``provisionVolumeErrorHandling``,
``rescheduleProvisioning``, ``handleProtectionFinalizer``, ``shouldDelete``,
``deleteVolumeOperation``) and ``controller/volume_store.go`` (the ``ProvisioningSucceeded``
event), with a simulated CSI driver behind it. SPEC.md VOL-9 and VOL-10.

It serves claims the PV controller annotated with ``volume.kubernetes.io/storage-provisioner``
for any provisioner except ``kubernetes.io/no-provisioner``; a WaitForFirstConsumer claim
also needs the scheduler's ``volume.kubernetes.io/selected-node``. The volume it creates:

- is named ``pvc-<claim uid>``, annotated ``pv.kubernetes.io/provisioned-by: <provisioner>``,
  with ``claimRef`` pre-set (the PV controller then binds the pair);
- has the class's reclaim policy and mount options, the claim's access modes and volume mode,
  the class name, capacity = the requested bytes (as the driver reports them: binary SI);
- is ``spec.csi: {driver: <provisioner>, volumeHandle: <claim uid>, fsType?,
  volumeAttributes: {storage.kubernetes.io/csiProvisionerIdentity}}``;
- with reclaim policy Delete, carries ``external-provisioner.volume.kubernetes.io/finalizer``
  (the admission plugin adds ``kubernetes.io/pv-protection``);
- gets node affinity as DESIGN.md "Storage" says: none for an Immediate class without
  ``allowedTopologies``; the first zone listed for one with them; the selected node's zone for
  WaitForFirstConsumer (none if the node has no zone label); the selected node itself when a
  WaitForFirstConsumer class has the parameter ``fakekube.io/topology: node``. That parameter
  on an Immediate class fails provisioning (``ProvisioningFailed``).

The simulated driver creates the volume's data on the cluster's disks
(``ctx.volumes``, keyed by :func:`fakekube.kubelet.volumes.volume_id`) and deletes it when it
deletes the volume. A failed provisioning is not retried on a timer: a change to the claim or
its class tries again.
"""

from __future__ import annotations

from ...api.quantity import BINARY_SI, format_quantity
from ...api.store import DELETED, WatchEvent
from ...errors import AlreadyExists
from ...kubelet.volumes import volume_id
from ...runtime import Controller, EventRecorder, Result
from .common import (ANN_BETA_STORAGE_PROVISIONER, ANN_DYNAMICALLY_PROVISIONED,
                     ANN_SELECTED_NODE, ANN_STORAGE_PROVISIONER, NOT_SUPPORTED_PROVISIONER,
                     PV_DELETION_FINALIZER, WAIT_FOR_FIRST_CONSUMER, annotations_of,
                     claim_class, claim_reference, finalizers, storage_request)

__all__ = ["CSIProvisioner", "ProvisioningError", "volume_topology", "TOPOLOGY_PARAMETER",
           "ZONE_LABEL", "HOSTNAME_LABEL"]

TOPOLOGY_PARAMETER = "fakekube.io/topology"
ZONE_LABEL = "topology.kubernetes.io/zone"
HOSTNAME_LABEL = "kubernetes.io/hostname"
FSTYPE_PARAMETERS = ("csi.storage.k8s.io/fstype", "fsType", "fstype")
IDENTITY_ATTRIBUTE = "storage.kubernetes.io/csiProvisionerIdentity"
_EMPTY: dict = {}


class ProvisioningError(Exception):
    """The simulated driver refused to create the volume (a gRPC error's text)."""


def _affinity(key: str, value: str) -> dict:
    return {"required": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": key, "operator": "In", "values": [value]}]}]}}


def _first_allowed_zone(sc: dict) -> str | None:
    for term in sc.get("allowedTopologies") or ():
        for expr in term.get("matchLabelExpressions") or ():
            if expr.get("key") == ZONE_LABEL and expr.get("values"):
                return expr["values"][0]
    return None


def volume_topology(sc: dict, node: dict | None) -> dict | None:
    """The ``nodeAffinity`` of a volume provisioned for class ``sc`` (for the selected
    ``node`` under WaitForFirstConsumer), or None for a volume every node can reach. Raises
    :class:`ProvisioningError` for a request the driver cannot serve."""
    topology = (sc.get("parameters") or _EMPTY).get(TOPOLOGY_PARAMETER, "zone")
    wffc = sc.get("volumeBindingMode") == WAIT_FOR_FIRST_CONSUMER
    if topology not in ("zone", "node"):
        raise ProvisioningError(
            f'rpc error: code = InvalidArgument desc = invalid parameter '
            f'"{TOPOLOGY_PARAMETER}": "{topology}" (supported: "zone", "node")')
    if topology == "node":
        if not wffc or node is None:
            raise ProvisioningError(
                "rpc error: code = InvalidArgument desc = a node-local volume needs a selected "
                f'node: StorageClass "{sc["metadata"]["name"]}" must have volumeBindingMode '
                "WaitForFirstConsumer")
        return _affinity(HOSTNAME_LABEL, node["metadata"]["name"])
    if wffc:
        zone = (node["metadata"].get("labels") or _EMPTY).get(ZONE_LABEL) if node else None
        return _affinity(ZONE_LABEL, zone) if zone else None
    zone = _first_allowed_zone(sc)
    return _affinity(ZONE_LABEL, zone) if zone else None


def _provisioner_of(claim: dict) -> str:
    ann = annotations_of(claim)
    return ann.get(ANN_STORAGE_PROVISIONER) or ann.get(ANN_BETA_STORAGE_PROVISIONER) or ""


def _serves(provisioner: str) -> bool:
    return bool(provisioner) and provisioner != NOT_SUPPORTED_PROVISIONER


class CSIProvisioner(Controller):
    """Keys: ``("claim", namespace, name)`` to provision, ``("volume", name)`` to keep the
    finalizer and delete released volumes."""

    name = "csi-provisioner"

    def setup(self) -> None:
        ctx = self.ctx
        self.claims = ctx.informer("PersistentVolumeClaim")
        self.volumes = ctx.informer("PersistentVolume")
        self.classes = ctx.informer("StorageClass")
        self.nodes = ctx.informer("Node")
        self._recorders: dict[str, EventRecorder] = {}
        self._identities: dict[str, str] = {}
        self._rng = ctx.derive_rng("csi-provisioner")
        self._started_ms = int(self.clock.now() * 1000)
        for claim in self.claims:
            self._queue_claim(claim)
        for pv in self.volumes:
            self._queue_volume(pv)
        self.claims.table.handlers.append(self._on_claim)
        self.volumes.table.handlers.append(self._on_volume)
        self.classes.table.handlers.append(self._on_class)

    # -- events -> keys --------------------------------------------------------------------

    def _queue_claim(self, claim: dict) -> None:
        if _serves(_provisioner_of(claim)) and not (claim.get("spec") or _EMPTY).get(
                "volumeName"):
            m = claim["metadata"]
            self.queue.add(("claim", m["namespace"], m["name"]))

    def _on_claim(self, ev: WatchEvent) -> None:
        if ev.type != DELETED:
            self._queue_claim(ev.obj)

    def _on_class(self, ev: WatchEvent) -> None:
        if ev.type == DELETED:
            return
        name = ev.obj["metadata"]["name"]
        for claim in self.claims:
            if claim_class(claim) == name:
                self._queue_claim(claim)

    def _queue_volume(self, pv: dict) -> None:
        if self._is_ours(pv) and self._needs_attention(pv):
            self.queue.add(("volume", pv["metadata"]["name"]))

    def _on_volume(self, ev: WatchEvent) -> None:
        if ev.type != DELETED:
            self._queue_volume(ev.obj)

    # -- store access ----------------------------------------------------------------------

    def recorder(self, provisioner: str) -> EventRecorder:
        rec = self._recorders.get(provisioner)
        if rec is None:
            rec = self._recorders[provisioner] = self.ctx.recorder(provisioner)
        return rec

    def identity(self, provisioner: str) -> str:
        """``<start ms>-<random>-<driver>``, as the external-provisioner stamps its volumes."""
        ident = self._identities.get(provisioner)
        if ident is None:
            ident = self._identities[provisioner] = (
                f"{self._started_ms}-{self._rng.randrange(10000)}-{provisioner}")
        return ident

    # -- reconcile -------------------------------------------------------------------------

    def reconcile(self, key: tuple) -> Result | None:
        if key[0] == "claim":
            claim = self.claims.get(key[2], key[1])
            if claim is not None:
                self.provision(claim)
        else:
            pv = self.volumes.get(key[1])
            if pv is not None:
                self.sync_volume(pv)
        return None

    def should_provision(self, claim: dict, sc: dict | None) -> bool:
        """``shouldProvision`` (with the class already looked up)."""
        if (claim.get("spec") or _EMPTY).get("volumeName") or sc is None:
            return False
        provisioner = _provisioner_of(claim)
        if not _serves(provisioner) or sc.get("provisioner") != provisioner:
            return False
        if sc.get("volumeBindingMode") == WAIT_FOR_FIRST_CONSUMER:
            return bool(annotations_of(claim).get(ANN_SELECTED_NODE))
        return True

    def provision(self, claim: dict) -> None:
        """``provisionClaimOperation``."""
        class_name = claim_class(claim)
        sc = self.classes.get(class_name) if class_name else None
        if not self.should_provision(claim, sc):
            return
        pv_name = "pvc-" + claim["metadata"]["uid"]
        if self.volumes.get(pv_name) is not None:
            return  # already provisioned: the PV controller binds it
        provisioner = sc["provisioner"]
        rec = self.recorder(provisioner)
        node = None
        node_name = annotations_of(claim).get(ANN_SELECTED_NODE)
        if node_name:
            node = self.nodes.get(node_name)
            if node is None:
                rec.event(claim, "Warning", "ProvisioningFailed", f'node "{node_name}" not found')
                self.reschedule(claim)
                return
        m = claim["metadata"]
        rec.event(claim, "Normal", "Provisioning",
                  f'External provisioner is provisioning volume for claim "{m["namespace"]}/'
                  f'{m["name"]}"')
        try:
            pv = self.build_volume(claim, sc, node, pv_name)
        except ProvisioningError as exc:
            rec.event(claim, "Warning", "ProvisioningFailed",
                      f'failed to provision volume with StorageClass "{class_name}": {exc}')
            return
        vid = volume_id(pv)
        if vid is not None:
            self.ctx.volumes.get(vid)  # CreateVolume: the disk exists from now on
        try:
            self.client.create(pv)
        except AlreadyExists:
            return
        rec.event(claim, "Normal", "ProvisioningSucceeded",
                  f"Successfully provisioned volume {pv_name}")

    def build_volume(self, claim: dict, sc: dict, node: dict | None, pv_name: str) -> dict:
        """The PersistentVolume object for a newly created volume."""
        provisioner = sc["provisioner"]
        claim_spec = claim.get("spec") or _EMPTY
        policy = sc.get("reclaimPolicy") or "Delete"
        params = sc.get("parameters") or _EMPTY
        affinity = volume_topology(sc, node)
        size = storage_request(claim)
        whole = -((-size.numerator) // size.denominator)
        csi = {"driver": provisioner, "volumeHandle": claim["metadata"]["uid"],
               "volumeAttributes": {IDENTITY_ATTRIBUTE: self.identity(provisioner)}}
        mode = claim_spec.get("volumeMode") or "Filesystem"
        if mode == "Filesystem":
            for key in FSTYPE_PARAMETERS:
                if params.get(key):
                    csi["fsType"] = params[key]
                    break
        spec = {"accessModes": list(claim_spec.get("accessModes") or ()),
                "capacity": {"storage": format_quantity(whole, BINARY_SI)},
                "claimRef": claim_reference(claim), "csi": csi,
                "persistentVolumeReclaimPolicy": policy,
                "storageClassName": claim_class(claim), "volumeMode": mode}
        if sc.get("mountOptions"):
            spec["mountOptions"] = list(sc["mountOptions"])
        if affinity is not None:
            spec["nodeAffinity"] = affinity
        meta = {"name": pv_name, "annotations": {ANN_DYNAMICALLY_PROVISIONED: provisioner}}
        if policy == "Delete":
            meta["finalizers"] = [PV_DELETION_FINALIZER]
        return {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": meta, "spec": spec}

    def reschedule(self, claim: dict) -> None:
        """``rescheduleProvisioning``: drop the selected node so the scheduler picks again."""
        new = dict(claim)
        meta = new["metadata"] = dict(claim["metadata"])
        meta["annotations"] = {k: v for k, v in annotations_of(claim).items()
                               if k != ANN_SELECTED_NODE}
        self.client.update(new)

    # -- volumes ---------------------------------------------------------------------------

    def _is_ours(self, pv: dict) -> bool:
        """``isProvisionerForVolume``: provisioned by a provisioner we serve, or a static CSI
        volume of a driver we serve."""
        by = annotations_of(pv).get(ANN_DYNAMICALLY_PROVISIONED)
        if by:
            return _serves(by) and not by.startswith("kubernetes.io/")
        csi = (pv.get("spec") or _EMPTY).get("csi")
        return csi is not None and _serves(csi.get("driver", ""))

    def _needs_attention(self, pv: dict) -> bool:
        policy = (pv.get("spec") or _EMPTY).get("persistentVolumeReclaimPolicy")
        has = PV_DELETION_FINALIZER in finalizers(pv)
        deleting = bool(pv["metadata"].get("deletionTimestamp"))
        phase = (pv.get("status") or _EMPTY).get("phase")
        if policy == "Delete":
            if not has and not deleting and phase == "Bound":
                return True
            return phase == "Released" and (has or not deleting)
        return has

    def sync_volume(self, pv: dict) -> None:
        """``syncVolume``: ``handleProtectionFinalizer``, then delete if ``shouldDelete``."""
        if not self._is_ours(pv):
            return
        pv = self.handle_protection_finalizer(pv)
        if self.should_delete(pv):
            self.delete_volume(pv)

    def _set_finalizers(self, pv: dict, fins: list[str]) -> dict:
        new = dict(pv)
        meta = new["metadata"] = dict(pv["metadata"])
        if fins:
            meta["finalizers"] = fins
        else:
            meta.pop("finalizers", None)
        return self.client.update(new)

    def handle_protection_finalizer(self, pv: dict) -> dict:
        """Add the deletion finalizer to a bound Delete volume; drop it when the policy is no
        longer Delete."""
        policy = (pv.get("spec") or _EMPTY).get("persistentVolumeReclaimPolicy")
        fins = finalizers(pv)
        if policy == "Delete":
            if (PV_DELETION_FINALIZER not in fins and not pv["metadata"].get("deletionTimestamp")
                    and (pv.get("status") or _EMPTY).get("phase") == "Bound"):
                return self._set_finalizers(pv, [*fins, PV_DELETION_FINALIZER])
        elif PV_DELETION_FINALIZER in fins:
            return self._set_finalizers(pv, [f for f in fins if f != PV_DELETION_FINALIZER])
        return pv

    @staticmethod
    def should_delete(pv: dict) -> bool:
        """``shouldDelete``: a Released volume with reclaim policy Delete whose backing volume
        has not been deleted yet."""
        if PV_DELETION_FINALIZER not in finalizers(pv) and pv["metadata"].get("deletionTimestamp"):
            return False
        return ((pv.get("status") or _EMPTY).get("phase") == "Released"
                and (pv.get("spec") or _EMPTY).get("persistentVolumeReclaimPolicy") == "Delete")

    def delete_volume(self, pv: dict) -> None:
        """``deleteVolumeOperation``: DeleteVolume on the driver (the data goes), delete the
        PersistentVolume, then release it from our finalizer."""
        vid = volume_id(pv)
        if vid is not None:
            self.ctx.volumes.delete(vid)
        name = pv["metadata"]["name"]
        self.client.delete("PersistentVolume", name)
        current = self.volumes.get(name)
        if current is not None and PV_DELETION_FINALIZER in finalizers(current):
            self._set_finalizers(current, [f for f in finalizers(current)
                                           if f != PV_DELETION_FINALIZER])
