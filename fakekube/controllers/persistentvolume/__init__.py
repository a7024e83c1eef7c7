"""Storage: the PersistentVolume controllers of kube-controller-manager and the CSI sidecars
fakekube simulates for every driver.

- :mod:`.binder`: the PV controller (binding, phases, reclaim; upstream
  ``pkg/controller/volume/persistentvolume``), which also owns the simulated disks' lifetime;
- :mod:`.index`: matching claims to volumes (``FindMatchingVolume`` and the access-mode index);
- :mod:`.provisioner`: the CSI external-provisioner with a simulated driver;
- :mod:`.protection`: the PVC and PV protection controllers;
- :mod:`.expand`: claim expansion (expand controller, external-resizer, the kubelet's file
  system resize) and the ``PersistentVolumeClaimResize`` admission check.

:data:`STORAGE_CONTROLLERS` is their run order: bind before provisioning (the PV controller
annotates a claim for the provisioner), protection last (it acts on what the others decided).
"""

from __future__ import annotations

from .binder import PersistentVolumeController
from .expand import ExpandController, persistent_volume_claim_resize
from .index import VolumeIndex, find_matching_volume
from .protection import PVCProtectionController, PVProtectionController
from .provisioner import CSIProvisioner

__all__ = ["PersistentVolumeController", "CSIProvisioner", "ExpandController",
           "PVCProtectionController", "PVProtectionController", "STORAGE_CONTROLLERS",
           "VolumeIndex", "find_matching_volume", "persistent_volume_claim_resize"]

STORAGE_CONTROLLERS = (PersistentVolumeController, CSIProvisioner, ExpandController,
                       PVCProtectionController, PVProtectionController)
