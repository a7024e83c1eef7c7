"""The simulated kubelet's pod lifecycle, written as data (KWOK's stages: match -> delay -> act).

A pod on a healthy node is in exactly one stage at a time, the first of :data:`POD_STAGES`
whose ``match`` holds. When a pod enters a stage the kubelet waits the stage's delay (drawn
from the profile, on the virtual clock) and then performs the stage's action. The actions are
names the kubelet implements (:mod:`fakekube.kubelet.kubelet`); the order and the conditions
live here, so the lifecycle can be read top to bottom:

========================  =====================================  ==========================
stage                     when                                   then
========================  =====================================  ==========================
pod-delete                the pod has a deletionTimestamp        stop containers, delete
                                                                 with grace 0
pod-wait-volumes          a volume is not attached yet           ContainerCreating
pod-create                no sandbox yet (no IP)                 pod IP, pull, create,
                                                                 start containers
pod-restart               a container is waiting out its         restart it
                          CrashLoopBackOff
pod-exit                  a running container is due to exit     terminate it (exit code)
pod-ready                 readiness differs from what it shows   report it
========================  =====================================  ==========================

Profiles give each stage its delay: ``FAST`` (no delays: the default for tests) and
``REALISTIC`` (image pull, container start and readiness take virtual seconds, drawn
uniformly from the ranges below, as KWOK's "general" stages do). A pod can pick its own
profile with the annotation ``fakekube.io/profile: fast|realistic``.
"""

from __future__ import annotations

from typing import Callable

import attrs

__all__ = ["Stage", "Profile", "FAST", "REALISTIC", "POD_STAGES", "PROFILES",
           "PROFILE_ANNOTATION"]

PROFILE_ANNOTATION = "fakekube.io/profile"


@attrs.frozen
class Stage:
    """One step of the lifecycle: ``match(pod, runtime)`` says whether the pod is in it;
    ``action`` names what the kubelet then does."""

    name: str
    match: Callable[[dict, "object"], bool]
    action: str


@attrs.frozen
class Profile:
    """Delays per stage, as (min, max) virtual seconds."""

    name: str
    delays: dict[str, tuple[float, float]] = attrs.field(factory=dict)

    def delay(self, stage: str, rng) -> float:
        lo, hi = self.delays.get(stage, (0.0, 0.0))
        if hi <= lo:
            return lo
        return round(rng.uniform(lo, hi), 3)


def _deleting(pod: dict, rt) -> bool:
    return bool(pod["metadata"].get("deletionTimestamp"))


def _volumes_pending(pod: dict, rt) -> bool:
    return bool(rt.unattached)


def _no_sandbox(pod: dict, rt) -> bool:
    return rt.ip is None


# (The container checks are plain loops rather than ``any()`` over a generator: every sync
# of every pod runs them, and a pod has a container or two.)

def _backing_off(pod: dict, rt) -> bool:
    for c in rt.containers:
        if c.state == "waiting" and c.reason == "CrashLoopBackOff":
            return True
    return False


def _exit_due(pod: dict, rt) -> bool:
    for c in rt.containers:
        if c.state == "running" and c.exit_at is not None:
            return True
    return False


def _readiness_stale(pod: dict, rt) -> bool:
    for c in rt.containers:
        if c.state == "running" and c.ready != c.want_ready:
            return True
    return False


POD_STAGES: tuple[Stage, ...] = (
    Stage("pod-delete", _deleting, "terminate"),
    Stage("pod-wait-volumes", _volumes_pending, "wait_for_volumes"),
    Stage("pod-create", _no_sandbox, "start"),
    Stage("pod-restart", _backing_off, "restart"),
    Stage("pod-exit", _exit_due, "exit"),
    Stage("pod-ready", _readiness_stale, "report_ready"),
)

FAST = Profile("fast")
REALISTIC = Profile("realistic", {
    "pod-delete": (1.0, 3.0),   # SIGTERM to exit, capped by the grace period
    "pod-create": (2.0, 6.0),   # sandbox, image pull, container create and start
    "pod-ready": (1.0, 5.0),    # first successful readiness probe
})
PROFILES = {"fast": FAST, "realistic": REALISTIC}
