"""The Deployment controller, split as upstream's ``pkg/controller/deployment``:

- :mod:`.controller`: the shell (events to keys, ``syncDeployment``, the writes);
- :mod:`.rolling`, :mod:`.recreate`: the two strategies as pure plans;
- :mod:`.sync`: proportional scaling, the new ReplicaSet's body, the status;
- :mod:`.progress`: the Progressing condition and the progress deadline;
- :mod:`.history`: revisions, rollback, and the cleanup of old ReplicaSets;
- :mod:`.util`: ``deployment_util.go`` and the pod-template hash.
"""

from .controller import DeploymentController

__all__ = ["DeploymentController"]
