"""What a simulated node runs: pod sandboxes, containers and their state, and pod IPs.

This is the kubelet's private memory (what the container runtime knows), not API state: the
kubelet renders it into each pod's ``status`` and writes that through the API. When the node
fails, this memory stops; when it comes back, the kubelet reconciles it with the API.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress

from ..clock import Timer

__all__ = ["ContainerRuntime", "PodRuntime", "PodIPAllocator", "image_id"]


class ContainerRuntime:
    __slots__ = ("name", "image", "init", "state", "reason", "message", "exit_code",
                 "started_at", "finished_at", "restart_count", "last_terminated", "ready",
                 "want_ready", "container_id", "exit_at", "restart_at", "backoff",
                 "pending_exit_code")

    def __init__(self, name: str, image: str, init: bool = False) -> None:
        self.name = name
        self.image = image
        self.init = init
        self.state = "waiting"
        self.reason = "ContainerCreating"
        self.message = ""
        self.exit_code = 0
        self.started_at: float | None = None
        self.finished_at: float | None = None
        self.restart_count = 0
        self.last_terminated: dict | None = None
        self.ready = False
        self.want_ready = False
        self.container_id = ""
        self.exit_at: float | None = None
        self.restart_at: float | None = None
        self.backoff = 0.0
        self.pending_exit_code = 0


class PodRuntime:
    """One pod incarnation (one UID) on one node."""

    __slots__ = ("uid", "namespace", "name", "ip", "start_time", "containers", "init",
                 "unattached", "timer", "stage", "due", "accepted", "terminated")

    def __init__(self, uid: str, namespace: str, name: str) -> None:
        self.uid = uid
        self.namespace = namespace
        self.name = name
        self.ip: str | None = None
        self.start_time: float | None = None
        self.containers: list[ContainerRuntime] = []
        self.init: list[ContainerRuntime] = []
        self.unattached: list[str] = []
        self.timer: Timer | None = None
        self.stage: str | None = None
        self.due = 0.0
        self.accepted = False
        self.terminated = False

    def container(self, name: str) -> ContainerRuntime | None:
        for c in self.containers:
            if c.name == name:
                return c
        return None


class PodIPAllocator:
    """host-local style IPAM over a node's podCIDR: addresses from .2 on, handed out in
    order and wrapping around, never one that is live, so a re-created pod gets a new IP."""

    def __init__(self, cidr: str) -> None:
        net = ipaddress.ip_network(cidr, strict=False)
        self.cidr = cidr
        self.first = int(net.network_address) + 2
        self.last = int(net.broadcast_address) - 1
        self.next = self.first
        self.live: set[int] = set()
        self._text = _ipv4_text if net.version == 4 else _ip_text

    def allocate(self) -> str | None:
        span = self.last - self.first + 1
        if span <= 0:
            return None
        for i in range(span):
            cand = self.first + (self.next - self.first + i) % span
            if cand not in self.live:
                self.live.add(cand)
                self.next = cand + 1 if cand < self.last else self.first
                return self._text(cand)
        return None

    def release(self, ip: str) -> None:
        self.live.discard(int(ipaddress.ip_address(ip)))


def _ipv4_text(n: int) -> str:
    """``str(ipaddress.IPv4Address(n))``, without building the address object."""
    return f"{n >> 24}.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


def _ip_text(n: int) -> str:
    return str(ipaddress.ip_address(n))


@functools.lru_cache(maxsize=4096)
def image_id(image: str) -> str:
    """A stable image digest, as the container runtime reports it (remembered per image:
    every container status of every pod names one)."""
    repo = image.split("@", 1)[0].rsplit(":", 1)[0] if "/" not in image.rsplit(":", 1)[-1] else image
    if "/" not in repo:
        repo = "docker.io/library/" + repo
    elif repo.count("/") == 1 and "." not in repo.split("/", 1)[0]:
        repo = "docker.io/" + repo
    digest = hashlib.sha256(image.encode()).hexdigest()
    return f"{repo}@sha256:{digest}"
