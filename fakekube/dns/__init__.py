"""The cluster's DNS, as the Kubernetes DNS specification (schema 1.1.0) describes it.

:class:`ClusterDNS` answers in process (``resolve``) and on loopback UDP and TCP
(``serve``); both read one :class:`~fakekube.dns.zone.Zone` kept in step with the store.
Lookups that find no records raise :class:`NXDomain` (a missing name in the cluster
domain) or :class:`Refused` (a name outside it); NODATA is an empty answer.
"""

from .resolver import ClusterDNS as ClusterDNS
from .resolver import ZoneResolver as ZoneResolver
from .zone import DNSLookupError as DNSLookupError
from .zone import NXDomain as NXDomain
from .zone import Refused as Refused
from .zone import Zone as Zone

__all__ = ["ClusterDNS", "DNSLookupError", "NXDomain", "Refused", "Zone", "ZoneResolver"]
