"""Node IPAM: every node gets a podCIDR from the cluster's pod CIDR.

Follows kubernetes/kubernetes ``pkg/controller/nodeipam/ipam/range_allocator.go`` and
``cidrset/cidr_set.go``: the cluster CIDR is cut into blocks of ``node_cidr_mask_size`` bits;
a new node gets the next free block after the last one handed out (index 0, the block that
holds the network address, stays unused), so the i-th node gets the i-th block; a removed
node's block is released and handed out again only once the search wraps around. A node for
which no block is left gets none, and the event ``CIDRNotAvailable``.
"""

from __future__ import annotations

import ipaddress

from ..api.store import ADDED, DELETED, WatchEvent
from ..runtime import Controller, Result


class CIDRSet:
    """The blocks of one cluster CIDR, handed out round-robin."""

    def __init__(self, cluster_cidr: str, mask_size: int) -> None:
        self.net = ipaddress.ip_network(cluster_cidr, strict=False)
        if mask_size < self.net.prefixlen:
            raise ValueError(f"node CIDR mask /{mask_size} is wider than the cluster CIDR "
                             f"{self.net}")
        self.mask = mask_size
        self.size = 1 << (mask_size - self.net.prefixlen)
        self.used: set[int] = set()
        self.next_candidate = 1 if self.size > 1 else 0

    def block(self, index: int) -> str:
        step = 1 << (self.net.max_prefixlen - self.mask)
        base = int(self.net.network_address) + index * step
        return f"{ipaddress.ip_address(base)}/{self.mask}"

    def index_of(self, cidr: str) -> int | None:
        try:
            net = ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            return None
        if net.prefixlen != self.mask or not net.subnet_of(self.net):  # type: ignore[arg-type]
            return None
        step = 1 << (self.net.max_prefixlen - self.mask)
        return (int(net.network_address) - int(self.net.network_address)) // step

    def allocate(self) -> str | None:
        first = 1 if self.size > 1 else 0
        candidates = self.size - first
        for i in range(candidates):
            idx = first + (self.next_candidate - first + i) % candidates
            if idx not in self.used:
                self.used.add(idx)
                self.next_candidate = idx + 1 if idx + 1 < self.size else first
                return self.block(idx)
        return None

    def occupy(self, cidr: str) -> None:
        idx = self.index_of(cidr)
        if idx is not None:
            self.used.add(idx)

    def release(self, cidr: str) -> None:
        idx = self.index_of(cidr)
        if idx is not None:
            self.used.discard(idx)


class NodeIpamController(Controller):
    name = "node-ipam-controller"

    def setup(self) -> None:
        self.cidrs = CIDRSet(self.config.pod_cidr, self.config.node_cidr_mask_size)
        self.recorder = self.ctx.recorder("cidrAllocator")
        self.nodes = self.ctx.informer("Node")
        self.nodes.table.handlers.append(self._on_node)

    def _on_node(self, ev: WatchEvent) -> None:
        cidr = (ev.obj.get("spec") or {}).get("podCIDR")
        if ev.type == DELETED:
            if cidr:
                self.cidrs.release(cidr)
            return
        if cidr:
            if ev.type == ADDED:
                self.cidrs.occupy(cidr)
            return
        self.queue.add(ev.obj["metadata"]["name"])

    def reconcile(self, key: str) -> Result | None:
        node = self.nodes.get(key)
        if node is None or (node.get("spec") or {}).get("podCIDR"):
            return None
        cidr = self.cidrs.allocate()
        if cidr is None:
            self.recorder.event(node, "Warning", "CIDRNotAvailable",
                                f"Node {key} status is now: CIDRNotAvailable")
            return None
        self.client.patch("Node", key, None, {"spec": {"podCIDR": cidr, "podCIDRs": [cidr]}})
        return None
