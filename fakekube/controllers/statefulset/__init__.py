"""The StatefulSet controller, split as upstream's: the shell (events, adoption, sync:
:mod:`.shell`), the policy (pure rules: :mod:`.policy`, revisions: :mod:`.history`), the
control loop (:mod:`.control`) and the pod and claim writes (:mod:`.pods`)."""

from .shell import StatefulSetController

__all__ = ["StatefulSetController"]
