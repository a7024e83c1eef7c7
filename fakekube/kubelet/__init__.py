"""Simulated node agents: one kubelet per node, its pod lifecycle written as data
(:mod:`fakekube.kubelet.stages`), and the runtime memory it keeps."""

from .kubelet import EXIT_AFTER_ANNOTATION, EXIT_CODE_ANNOTATION, KubeletController, NodeAgent
from .stages import FAST, POD_STAGES, PROFILES, REALISTIC

__all__ = ["EXIT_AFTER_ANNOTATION", "EXIT_CODE_ANNOTATION", "FAST", "KubeletController",
           "NodeAgent", "POD_STAGES", "PROFILES", "REALISTIC"]
