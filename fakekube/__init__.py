"""fakekube: a Kubernetes control plane inside a Python test process.

Build a :class:`Cluster`, apply manifests, break things, let virtual time pass, and check
what real Kubernetes would have done. See the README for a tour.
"""

from .clock import VirtualClock as VirtualClock
from .cluster import Cluster as Cluster
from .cluster import Watch as Watch
from .errors import AlreadyExists as AlreadyExists
from .errors import ApiError as ApiError
from .errors import BadRequest as BadRequest
from .errors import Conflict as Conflict
from .errors import Expired as Expired
from .errors import FieldError as FieldError
from .errors import Forbidden as Forbidden
from .errors import Gone as Gone
from .errors import InternalError as InternalError
from .errors import Invalid as Invalid
from .errors import MethodNotAllowed as MethodNotAllowed
from .errors import NotFound as NotFound
from .errors import RequestEntityTooLarge as RequestEntityTooLarge
from .errors import ServiceUnavailable as ServiceUnavailable
from .errors import SettleTimeout as SettleTimeout
from .errors import TerminalError as TerminalError
from .errors import Timeout as Timeout
from .errors import TooManyRequests as TooManyRequests
from .errors import Unauthorized as Unauthorized
from .errors import UnsupportedMediaType as UnsupportedMediaType
from .errors import VolumeNotBound as VolumeNotBound
from .kubelet.workloads import Workload as Workload
from .kubelet.workloads import register_workload as register_workload
from .kubelet.workloads import workload as workload

__version__ = "0.1.0"

__all__ = [
    "AlreadyExists", "ApiError", "BadRequest", "Cluster", "Conflict", "Expired", "FieldError",
    "Forbidden", "Gone", "InternalError", "Invalid", "MethodNotAllowed", "NotFound",
    "RequestEntityTooLarge", "ServiceUnavailable", "SettleTimeout", "TerminalError", "Timeout",
    "TooManyRequests", "Unauthorized", "UnsupportedMediaType", "VirtualClock", "VolumeNotBound",
    "Watch", "Workload", "register_workload", "workload",
]
