"""Volume data: what is on each simulated disk.

A :class:`VolumeStore` stands for the storage backends of the cluster (the CSI drivers'
disks, local disks): it holds one :class:`VolumeData` (a mutable mapping from path to bytes)
per volume, keyed by the volume's identity (``volume_id``: a CSI driver and volume handle, a
local path on a node...). The provisioner creates a volume's data when it creates the volume;
the data lives as long as the PersistentVolume does, whichever pod or node uses it, and is
gone with it. Tests reach it through ``cluster.volume(claim)``; simulated workloads read and
write it from "inside" the pods that mount it.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Iterator

__all__ = ["VolumeData", "VolumeStore", "volume_id"]


class VolumeData(MutableMapping):
    """The contents of one volume: ``path -> bytes``.

    >>> d = VolumeData("csi.example.com^vol-1")
    >>> d["/data/x"] = b"1"
    >>> dict(d)
    {'/data/x': b'1'}
    """

    def __init__(self, volume_id: str) -> None:
        self.volume_id = volume_id
        self._files: dict[str, bytes] = {}
        self.deleted = False

    def __getitem__(self, path: str) -> bytes:
        return self._files[path]

    def __setitem__(self, path: str, data: bytes) -> None:
        if self.deleted:
            raise RuntimeError(f"volume {self.volume_id} has been deleted")
        if not isinstance(path, str):
            raise TypeError("a volume path is a str")
        if isinstance(data, str):
            raise TypeError("volume data is bytes; encode text first (e.g. 'x'.encode())")
        self._files[path] = bytes(data)

    def __delitem__(self, path: str) -> None:
        del self._files[path]

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._files))

    def __len__(self) -> int:
        return len(self._files)

    def __repr__(self) -> str:
        return f"<VolumeData {self.volume_id}: {len(self._files)} file(s)>"


def volume_id(pv: dict) -> str | None:
    """The identity of the disk behind a PersistentVolume, or None for kinds of volume whose
    data fakekube does not keep."""
    spec = pv.get("spec") or {}
    csi = spec.get("csi")
    if csi:
        return f"{csi.get('driver', '')}^{csi.get('volumeHandle', '')}"
    local = spec.get("local")
    if local:
        return f"local^{local.get('path', '')}^{_pinned_node(spec)}"
    host = spec.get("hostPath")
    if host:
        return f"hostPath^{host.get('path', '')}^{_pinned_node(spec)}"
    nfs = spec.get("nfs")
    if nfs:
        return f"nfs^{nfs.get('server', '')}:{nfs.get('path', '')}"
    return f"pv^{pv['metadata']['name']}"


def _pinned_node(spec: dict) -> str:
    for term in (((spec.get("nodeAffinity") or {}).get("required") or {})
                 .get("nodeSelectorTerms") or ()):
        for expr in term.get("matchExpressions") or ():
            if expr.get("key") == "kubernetes.io/hostname" and expr.get("values"):
                return expr["values"][0]
    return ""


class VolumeStore:
    """Every volume's data, by volume identity."""

    def __init__(self) -> None:
        self._volumes: dict[str, VolumeData] = {}

    def get(self, vid: str, create: bool = True) -> VolumeData | None:
        data = self._volumes.get(vid)
        if data is None and create:
            data = self._volumes[vid] = VolumeData(vid)
        return data

    def delete(self, vid: str) -> None:
        data = self._volumes.pop(vid, None)
        if data is not None:
            data._files.clear()
            data.deleted = True

    def __contains__(self, vid: str) -> bool:
        return vid in self._volumes

    def __len__(self) -> int:
        return len(self._volumes)
