"""Server-side printing: ``meta.k8s.io/v1`` Tables for ``kubectl get``.

kubectl asks for ``Accept: application/json;as=Table;v=v1;g=meta.k8s.io`` and prints what the
server sends: column definitions and one row of cells per object. The server always fills
the wide (``priority: 1``) columns; kubectl drops them unless ``-o wide``. Rows carry the
object's metadata as ``PartialObjectMetadata`` (``includeObject=Metadata``, the default), the
whole object (``Object``) or nothing (``None``).

Column sets and cell rules follow ``kubernetes/kubernetes:pkg/printers/internalversion/
printers.go`` (one printer per kind) and ``staging/src/k8s.io/apimachinery/pkg/util/duration/
duration.go`` (``HumanDuration``, the AGE column); kinds without a printer get Name and Age
(``staging/src/k8s.io/apiserver/pkg/registry/rest/table.go``). Ages are measured on the
cluster's virtual clock.
"""

from __future__ import annotations

from typing import Any, Callable

from ..api.objects import parse_rfc3339
from ..api.selectors import SelectorError, label_selector_from_dict

__all__ = ["human_duration", "to_table", "columns_for", "row_object"]

Col = dict[str, Any]


def _col(name: str, type_: str = "string", priority: int = 0, fmt: str = "",
         description: str = "") -> Col:
    return {"name": name, "type": type_, "format": fmt,
            "description": description or f"{name} of the object", "priority": priority}


_NAME = _col("Name", fmt="name", description="Name must be unique within a namespace. Is "
             "required when creating resources, although some resources may allow a client "
             "to request the generation of an appropriate name automatically.")
_AGE = _col("Age", description="CreationTimestamp is a timestamp representing the server "
            "time when this object was created.")


# --------------------------------------------------------------------------------------------
# helpers


def human_duration(seconds: float) -> str:
    """``duration.HumanDuration``: ``119s``, ``5m30s``, ``7h59m``, ``2d``, ``3y``..."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        sec = s % 60
        return f"{minutes}m" if sec == 0 else f"{minutes}m{sec}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        m = minutes % 60
        return f"{hours}h" if m == 0 else f"{hours}h{m}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        h = hours % 24
        return f"{hours // 24}d" if h == 0 else f"{hours // 24}d{h}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        dy = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if dy == 0 else f"{hours // 24 // 365}y{dy}d"
    return f"{hours // 24 // 365}y"


def _since(ts: Any, now: float) -> str:
    if not ts or not isinstance(ts, str):
        return "<unknown>"
    try:
        return human_duration(now - parse_rfc3339(ts))
    except (ValueError, OverflowError):
        return "<unknown>"


def _age(obj: dict, now: float) -> str:
    return _since(obj["metadata"].get("creationTimestamp"), now)


def _d(obj: Any, *path: str) -> Any:
    cur = obj
    for p in path:
        if not isinstance(cur, dict):
            return None
        cur = cur.get(p)
    return cur


def _list(v: Any) -> list:
    return v if isinstance(v, list) else []


def _selector_string(sel: Any) -> str:
    """metav1.FormatLabelSelector."""
    if not isinstance(sel, dict):
        return "<none>"
    try:
        s = str(label_selector_from_dict(sel))
    except (SelectorError, TypeError, ValueError, AttributeError):
        return "<error>"
    return s or "<none>"


def _format_labels(labels: Any) -> str:
    if not isinstance(labels, dict) or not labels:
        return "<none>"
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def _containers_images(template_spec: Any) -> tuple[str, str]:
    cs = _list(_d(template_spec, "containers"))
    names = ",".join(str(c.get("name", "")) for c in cs if isinstance(c, dict))
    images = ",".join(str(c.get("image", "")) for c in cs if isinstance(c, dict))
    return names, images


_ACCESS = {"ReadWriteOnce": "RWO", "ReadOnlyMany": "ROX", "ReadWriteMany": "RWX",
           "ReadWriteOncePod": "RWOP"}


def _access_modes(modes: Any) -> str:
    modes = _list(modes)
    out = []
    for key in ("ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod"):
        if key in modes:
            out.append(_ACCESS[key])
    return ",".join(out)


def _int(v: Any) -> int:
    return v if isinstance(v, int) and not isinstance(v, bool) else 0


# --------------------------------------------------------------------------------------------
# printers: (columns, cells(obj, now) -> list)

def _pod_cells(pod: dict, now: float) -> list:
    spec = pod.get("spec") if isinstance(pod.get("spec"), dict) else {}
    status = pod.get("status") if isinstance(pod.get("status"), dict) else {}
    meta = pod["metadata"]
    containers = _list(spec.get("containers"))
    init_specs = _list(spec.get("initContainers"))
    restartable = {c.get("name") for c in init_specs
                   if isinstance(c, dict) and c.get("restartPolicy") == "Always"}
    total = len(containers) + len(restartable)
    ready = 0
    restarts = 0
    last_restart: float | None = None
    reason = status.get("phase") or ""
    if status.get("reason"):
        reason = status["reason"]
    for c in _list(status.get("conditions")):
        if isinstance(c, dict) and c.get("type") == "PodScheduled" and c.get(
                "reason") == "SchedulingGated":
            reason = "SchedulingGated"

    def note_restart(cs: dict) -> None:
        nonlocal last_restart
        fin = _d(cs, "lastState", "terminated", "finishedAt")
        if isinstance(fin, str):
            try:
                t = parse_rfc3339(fin)
            except ValueError:
                return
            if last_restart is None or t > last_restart:
                last_restart = t

    initializing = False
    init_statuses = _list(status.get("initContainerStatuses"))
    for i, cs in enumerate(init_statuses):
        if not isinstance(cs, dict):
            continue
        restarts += _int(cs.get("restartCount"))
        if _int(cs.get("restartCount")):
            note_restart(cs)
        state = cs.get("state") if isinstance(cs.get("state"), dict) else {}
        term = state.get("terminated")
        waiting = state.get("waiting")
        if isinstance(term, dict) and _int(term.get("exitCode")) == 0:
            continue
        if cs.get("name") in restartable and cs.get("started"):
            if cs.get("ready"):
                ready += 1
            continue
        if isinstance(term, dict):
            if term.get("reason"):
                reason = "Init:" + str(term["reason"])
            elif _int(term.get("signal")):
                reason = f"Init:Signal:{_int(term.get('signal'))}"
            else:
                reason = f"Init:ExitCode:{_int(term.get('exitCode'))}"
        elif isinstance(waiting, dict) and waiting.get("reason") and waiting.get(
                "reason") != "PodInitializing":
            reason = "Init:" + str(waiting["reason"])
        else:
            reason = f"Init:{i}/{len(init_specs)}"
        initializing = True
        break
    if not initializing:
        restarts = 0
        for cs in init_statuses:
            if isinstance(cs, dict) and cs.get("name") in restartable:
                restarts += _int(cs.get("restartCount"))
                if _int(cs.get("restartCount")):
                    note_restart(cs)
        has_running = False
        for cs in reversed(_list(status.get("containerStatuses"))):
            if not isinstance(cs, dict):
                continue
            restarts += _int(cs.get("restartCount"))
            if _int(cs.get("restartCount")):
                note_restart(cs)
            state = cs.get("state") if isinstance(cs.get("state"), dict) else {}
            waiting, term, running = state.get("waiting"), state.get("terminated"), state.get(
                "running")
            if isinstance(waiting, dict) and waiting.get("reason"):
                reason = str(waiting["reason"])
            elif isinstance(term, dict) and term.get("reason"):
                reason = str(term["reason"])
            elif isinstance(term, dict):
                if _int(term.get("signal")):
                    reason = f"Signal:{_int(term.get('signal'))}"
                else:
                    reason = f"ExitCode:{_int(term.get('exitCode'))}"
            elif cs.get("ready") and running is not None:
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            pod_ready = any(isinstance(c, dict) and c.get("type") == "Ready"
                            and c.get("status") == "True"
                            for c in _list(status.get("conditions")))
            reason = "Running" if pod_ready else "NotReady"
    if meta.get("deletionTimestamp") and status.get("reason") == "NodeLost":
        reason = "Unknown"
    elif meta.get("deletionTimestamp") and status.get("phase") not in ("Succeeded", "Failed"):
        reason = "Terminating"
    restarts_text = str(restarts)
    if restarts and last_restart is not None:
        restarts_text = f"{restarts} ({human_duration(now - last_restart)} ago)"
    ips = _list(status.get("podIPs"))
    ip = (ips[0].get("ip") if ips and isinstance(ips[0], dict) else None) or "<none>"
    gates = _list(spec.get("readinessGates"))
    gates_text = "<none>"
    if gates:
        conds = {c.get("type"): c.get("status") for c in _list(status.get("conditions"))
                 if isinstance(c, dict)}
        true = sum(1 for g in gates if isinstance(g, dict)
                   and conds.get(g.get("conditionType")) == "True")
        gates_text = f"{true}/{len(gates)}"
    return [meta["name"], f"{ready}/{total}", reason, restarts_text, _age(pod, now), ip,
            spec.get("nodeName") or "<none>", status.get("nominatedNodeName") or "<none>",
            gates_text]


def _pod_conditions(pod: dict) -> list | None:
    phase = _d(pod, "status", "phase")
    if phase == "Succeeded":
        return [{"type": "Completed", "status": "True", "reason": "Succeeded",
                 "message": "The pod has completed successfully."}]
    if phase == "Failed":
        return [{"type": "Completed", "status": "True", "reason": "Failed",
                 "message": "The pod failed."}]
    return None


def _node_cells(node: dict, now: float) -> list:
    status = node.get("status") if isinstance(node.get("status"), dict) else {}
    text = "Unknown"
    for c in _list(status.get("conditions")):
        if isinstance(c, dict) and c.get("type") == "Ready":
            text = "Ready" if c.get("status") == "True" else "NotReady"
    if _d(node, "spec", "unschedulable"):
        text += ",SchedulingDisabled"
    roles = set()
    for k, v in (node["metadata"].get("labels") or {}).items():
        if k.startswith("node-role.kubernetes.io/") and k[len("node-role.kubernetes.io/"):]:
            roles.add(k[len("node-role.kubernetes.io/"):])
        elif k == "kubernetes.io/role" and v:
            roles.add(v)
    info = status.get("nodeInfo") if isinstance(status.get("nodeInfo"), dict) else {}

    def address(kind: str) -> str:
        for a in _list(status.get("addresses")):
            if isinstance(a, dict) and a.get("type") == kind:
                return a.get("address") or "<none>"
        return "<none>"

    return [node["metadata"]["name"], text, ",".join(sorted(roles)) or "<none>",
            _age(node, now), info.get("kubeletVersion", ""), address("InternalIP"),
            address("ExternalIP"), info.get("osImage") or "<unknown>",
            info.get("kernelVersion") or "<unknown>",
            info.get("containerRuntimeVersion") or "<unknown>"]


def _service_cells(svc: dict, now: float) -> list:
    spec = svc.get("spec") if isinstance(svc.get("spec"), dict) else {}
    typ = spec.get("type") or "ClusterIP"
    ips = _list(spec.get("clusterIPs"))
    cluster_ip = (ips[0] if ips else spec.get("clusterIP")) or "<none>"
    external = _list(spec.get("externalIPs"))
    if typ in ("ClusterIP", "NodePort"):
        ext = ",".join(str(x) for x in external) or "<none>"
    elif typ == "LoadBalancer":
        ingress = set()
        for ing in _list(_d(svc, "status", "loadBalancer", "ingress")):
            if isinstance(ing, dict):
                if ing.get("ip"):
                    ingress.add(ing["ip"])
                elif ing.get("hostname"):
                    ingress.add(ing["hostname"])
        all_ips = sorted(ingress) + [str(x) for x in external]
        ext = ",".join(all_ips) if all_ips else "<pending>"
    elif typ == "ExternalName":
        ext = spec.get("externalName") or "<none>"
    else:
        ext = "<unknown>"
    ports = []
    for p in _list(spec.get("ports")):
        if not isinstance(p, dict):
            continue
        proto = p.get("protocol") or "TCP"
        if p.get("nodePort"):
            ports.append(f"{p.get('port')}:{p.get('nodePort')}/{proto}")
        else:
            ports.append(f"{p.get('port')}/{proto}")
    return [svc["metadata"]["name"], typ, cluster_ip, ext, ",".join(ports) or "<none>",
            _age(svc, now), _format_labels(spec.get("selector"))]


def _endpoints_cells(ep: dict, now: float) -> list:
    out: list[str] = []
    count = 0
    for subset in _list(ep.get("subsets")):
        if not isinstance(subset, dict):
            continue
        addrs = [a.get("ip", "") for a in _list(subset.get("addresses")) if isinstance(a, dict)]
        ports = [p.get("port") for p in _list(subset.get("ports")) if isinstance(p, dict)]
        if not ports:
            for a in addrs:
                count += 1
                if len(out) < 3:
                    out.append(a)
            continue
        for port in ports:
            for a in addrs:
                count += 1
                if len(out) < 3:
                    out.append(f"[{a}]:{port}" if ":" in a else f"{a}:{port}")
    text = ",".join(out) if out else "<none>"
    if count > 3:
        text += f" + {count - 3} more..."
    return [ep["metadata"]["name"], text, _age(ep, now)]


def _pv_cells(pv: dict, now: float) -> list:
    spec = pv.get("spec") if isinstance(pv.get("spec"), dict) else {}
    status = pv.get("status") if isinstance(pv.get("status"), dict) else {}
    ref = spec.get("claimRef") if isinstance(spec.get("claimRef"), dict) else None
    claim = f"{ref.get('namespace', '')}/{ref.get('name', '')}" if ref else ""
    phase = status.get("phase") or ""
    if pv["metadata"].get("deletionTimestamp"):
        phase = "Terminating"
    sc = spec.get("storageClassName") or (pv["metadata"].get("annotations") or {}).get(
        "volume.beta.kubernetes.io/storage-class", "")
    return [pv["metadata"]["name"], str(_d(spec, "capacity", "storage") or ""),
            _access_modes(spec.get("accessModes")),
            spec.get("persistentVolumeReclaimPolicy") or "", phase, claim, sc,
            spec.get("volumeAttributesClassName") or "<unset>", status.get("reason") or "",
            _age(pv, now), spec.get("volumeMode") or "<unset>"]


def _pvc_cells(pvc: dict, now: float) -> list:
    spec = pvc.get("spec") if isinstance(pvc.get("spec"), dict) else {}
    status = pvc.get("status") if isinstance(pvc.get("status"), dict) else {}
    phase = status.get("phase") or ""
    if pvc["metadata"].get("deletionTimestamp"):
        phase = "Terminating"
    volume = spec.get("volumeName") or ""
    capacity = access = ""
    if volume:
        capacity = str(_d(status, "capacity", "storage") or "")
        access = _access_modes(status.get("accessModes"))
    sc = spec.get("storageClassName") or (pvc["metadata"].get("annotations") or {}).get(
        "volume.beta.kubernetes.io/storage-class", "")
    return [pvc["metadata"]["name"], phase, volume, capacity, access, sc,
            spec.get("volumeAttributesClassName") or "<unset>", _age(pvc, now),
            spec.get("volumeMode") or "<unset>"]


def _event_cells(ev: dict, now: float) -> list:
    first = ev.get("firstTimestamp") or ev.get("eventTime")
    last = ev.get("lastTimestamp") or first
    count = _int(ev.get("count"))
    series = ev.get("series") if isinstance(ev.get("series"), dict) else None
    if series:
        last = series.get("lastObservedTime") or last
        count = _int(series.get("count"))
    if count == 0:
        count = 1
    obj = ev.get("involvedObject") if isinstance(ev.get("involvedObject"), dict) else {}
    kind = str(obj.get("kind") or "").lower()
    target = f"{kind}/{obj.get('name')}" if obj.get("name") else kind
    src = ev.get("source") if isinstance(ev.get("source"), dict) else {}
    component = src.get("component") or ev.get("reportingComponent") or ""
    host = src.get("host") or ev.get("reportingInstance") or ""
    source = f"{component}, {host}" if host else component
    return [_since(last, now), ev.get("type") or "", ev.get("reason") or "", target,
            str(ev.get("message") or "").strip(), obj.get("fieldPath") or "", source,
            _since(first, now), count, ev["metadata"]["name"]]


def _deployment_cells(d: dict, now: float) -> list:
    spec = d.get("spec") if isinstance(d.get("spec"), dict) else {}
    status = d.get("status") if isinstance(d.get("status"), dict) else {}
    names, images = _containers_images(_d(spec, "template", "spec"))
    replicas = spec.get("replicas", 1) if isinstance(spec.get("replicas"), int) else 1
    return [d["metadata"]["name"], f"{_int(status.get('readyReplicas'))}/{replicas}",
            _int(status.get("updatedReplicas")), _int(status.get("availableReplicas")),
            _age(d, now), names, images, _selector_string(spec.get("selector"))]


def _replicaset_cells(rs: dict, now: float) -> list:
    spec = rs.get("spec") if isinstance(rs.get("spec"), dict) else {}
    status = rs.get("status") if isinstance(rs.get("status"), dict) else {}
    names, images = _containers_images(_d(spec, "template", "spec"))
    replicas = spec.get("replicas", 1) if isinstance(spec.get("replicas"), int) else 1
    return [rs["metadata"]["name"], replicas, _int(status.get("replicas")),
            _int(status.get("readyReplicas")), _age(rs, now), names, images,
            _selector_string(spec.get("selector"))]


def _statefulset_cells(s: dict, now: float) -> list:
    spec = s.get("spec") if isinstance(s.get("spec"), dict) else {}
    status = s.get("status") if isinstance(s.get("status"), dict) else {}
    names, images = _containers_images(_d(spec, "template", "spec"))
    replicas = spec.get("replicas", 1) if isinstance(spec.get("replicas"), int) else 1
    return [s["metadata"]["name"], f"{_int(status.get('readyReplicas'))}/{replicas}",
            _age(s, now), names, images]


def _revision_cells(cr: dict, now: float) -> list:
    controller = "<none>"
    for ref in _list(cr["metadata"].get("ownerReferences")):
        if isinstance(ref, dict) and ref.get("controller"):
            group = str(ref.get("apiVersion") or "").rpartition("/")[0]
            kind = str(ref.get("kind") or "").lower()
            controller = f"{kind}.{group}/{ref.get('name')}" if group else (
                f"{kind}/{ref.get('name')}")
    return [cr["metadata"]["name"], controller, str(_int(cr.get("revision"))), _age(cr, now)]


def _storageclass_cells(sc: dict, now: float) -> list:
    name = sc["metadata"]["name"]
    ann = sc["metadata"].get("annotations") or {}
    if ann.get("storageclass.kubernetes.io/is-default-class") == "true" or ann.get(
            "storageclass.beta.kubernetes.io/is-default-class") == "true":
        name += " (default)"
    return [name, sc.get("provisioner") or "", sc.get("reclaimPolicy") or "Delete",
            sc.get("volumeBindingMode") or "Immediate", bool(sc.get("allowVolumeExpansion")),
            _age(sc, now)]


def _attachment_cells(va: dict, now: float) -> list:
    spec = va.get("spec") if isinstance(va.get("spec"), dict) else {}
    return [va["metadata"]["name"], spec.get("attacher") or "",
            _d(spec, "source", "persistentVolumeName") or "", spec.get("nodeName") or "",
            bool(_d(va, "status", "attached")), _age(va, now)]


def _slice_cells(es: dict, now: float) -> list:
    ports = []
    plist = _list(es.get("ports"))
    for p in plist[:3]:
        if not isinstance(p, dict):
            continue
        if p.get("port") is None:
            ports.append(str(p.get("name")) if p.get("name") else "*")
        else:
            ports.append(str(p["port"]))
    ports_text = ",".join(ports) if plist else "<unset>"
    if len(plist) > 3:
        ports_text += f" + {len(plist) - 3} more..."
    addrs = []
    count = 0
    for e in _list(es.get("endpoints")):
        for a in _list(e.get("addresses") if isinstance(e, dict) else None):
            count += 1
            if len(addrs) < 3:
                addrs.append(str(a))
    addr_text = ",".join(addrs) if addrs else "<unset>"
    if count > 3:
        addr_text += f" + {count - 3} more..."
    return [es["metadata"]["name"], es.get("addressType") or "", ports_text, addr_text,
            _age(es, now)]


def _pdb_cells(pdb: dict, now: float) -> list:
    spec = pdb.get("spec") if isinstance(pdb.get("spec"), dict) else {}
    min_a = spec.get("minAvailable")
    max_u = spec.get("maxUnavailable")
    return [pdb["metadata"]["name"], "N/A" if min_a is None else str(min_a),
            "N/A" if max_u is None else str(max_u),
            _int(_d(pdb, "status", "disruptionsAllowed")), _age(pdb, now)]


def _scale_cells(sc: dict, now: float) -> list:
    return [sc["metadata"]["name"], _int(_d(sc, "spec", "replicas")),
            _int(_d(sc, "status", "replicas")), _age(sc, now)]


def _default_cells(obj: dict, now: float) -> list:
    return [obj["metadata"]["name"], _age(obj, now)]


Printer = tuple[list[Col], Callable[[dict, float], list]]

_CONTAINERS = _col("Containers", priority=1,
                   description="Names of each container in the template.")
_IMAGES = _col("Images", priority=1, description="Images referenced by each container in the "
               "template.")
_SELECTOR = _col("Selector", priority=1, description="Label selector for pods.")

PRINTERS: dict[str, Printer] = {
    "Pod": ([_NAME, _col("Ready", description="The aggregate readiness state of this pod for "
                         "accepting traffic."),
             _col("Status", description="The aggregate status of the containers in this pod."),
             _col("Restarts", description="The number of times the containers in this pod "
                  "have been restarted and when the last container in this pod has "
                  "restarted."), _AGE,
             _col("IP", priority=1, description="IP address allocated to the pod."),
             _col("Node", priority=1, description="Name of the node the pod is assigned to."),
             _col("Nominated Node", priority=1, description="Name of the node the pod is "
                  "nominated to."),
             _col("Readiness Gates", priority=1, description="Pod readiness gates.")],
            _pod_cells),
    "Node": ([_NAME, _col("Status", description="The status of the node"),
              _col("Roles", description="The roles of the node"), _AGE,
              _col("Version", description="Kubelet Version reported by the node."),
              _col("Internal-IP", priority=1), _col("External-IP", priority=1),
              _col("OS-Image", priority=1), _col("Kernel-Version", priority=1),
              _col("Container-Runtime", priority=1)], _node_cells),
    "Namespace": ([_NAME, _col("Status", description="The status of the namespace"), _AGE],
                  lambda o, now: [o["metadata"]["name"], _d(o, "status", "phase") or "",
                                  _age(o, now)]),
    "Service": ([_NAME, _col("Type"), _col("Cluster-IP"), _col("External-IP"),
                 _col("Port(s)"), _AGE, _col("Selector", priority=1)], _service_cells),
    "Endpoints": ([_NAME, _col("Endpoints"), _AGE], _endpoints_cells),
    "PersistentVolume": ([_NAME, _col("Capacity"), _col("Access Modes"),
                          _col("Reclaim Policy"), _col("Status"), _col("Claim"),
                          _col("StorageClass"), _col("VolumeAttributesClass"),
                          _col("Reason"), _AGE, _col("VolumeMode", priority=1)], _pv_cells),
    "PersistentVolumeClaim": ([_NAME, _col("Status"), _col("Volume"), _col("Capacity"),
                               _col("Access Modes"), _col("StorageClass"),
                               _col("VolumeAttributesClass"), _AGE,
                               _col("VolumeMode", priority=1)], _pvc_cells),
    "ConfigMap": ([_NAME, _col("Data", "integer"), _AGE],
                  lambda o, now: [o["metadata"]["name"],
                                  len(o.get("data") or {}) + len(o.get("binaryData") or {}),
                                  _age(o, now)]),
    "Secret": ([_NAME, _col("Type"), _col("Data", "integer"), _AGE],
               lambda o, now: [o["metadata"]["name"], o.get("type") or "",
                               len(o.get("data") or {}), _age(o, now)]),
    "ServiceAccount": ([_NAME, _col("Secrets", "integer"), _AGE],
                       lambda o, now: [o["metadata"]["name"], len(_list(o.get("secrets"))),
                                       _age(o, now)]),
    "Event": ([_col("Last Seen"), _col("Type"), _col("Reason"), _col("Object"),
               _col("Message"), _col("Subobject", priority=1), _col("Source", priority=1),
               _col("First Seen", priority=1), _col("Count", "integer", priority=1),
               _col("Name", priority=1, fmt="name")], _event_cells),
    "Deployment": ([_NAME, _col("Ready"), _col("Up-to-date", "integer"),
                    _col("Available", "integer"), _AGE, _CONTAINERS, _IMAGES, _SELECTOR],
                   _deployment_cells),
    "ReplicaSet": ([_NAME, _col("Desired", "integer"), _col("Current", "integer"),
                    _col("Ready", "integer"), _AGE, _CONTAINERS, _IMAGES, _SELECTOR],
                   _replicaset_cells),
    "StatefulSet": ([_NAME, _col("Ready"), _AGE, _CONTAINERS, _IMAGES], _statefulset_cells),
    "ControllerRevision": ([_NAME, _col("Controller"), _col("Revision"), _AGE],
                           _revision_cells),
    "StorageClass": ([_NAME, _col("Provisioner"), _col("ReclaimPolicy"),
                      _col("VolumeBindingMode"), _col("AllowVolumeExpansion"), _AGE],
                     _storageclass_cells),
    "VolumeAttachment": ([_NAME, _col("Attacher"), _col("PV"), _col("Node"),
                          _col("Attached"), _AGE], _attachment_cells),
    "EndpointSlice": ([_NAME, _col("AddressType"), _col("Ports"), _col("Endpoints"), _AGE],
                      _slice_cells),
    "Lease": ([_NAME, _col("Holder"), _AGE],
              lambda o, now: [o["metadata"]["name"], _d(o, "spec", "holderIdentity") or "",
                              _age(o, now)]),
    "PodDisruptionBudget": ([_NAME, _col("Min Available"), _col("Max Unavailable"),
                             _col("Allowed Disruptions", "integer"), _AGE], _pdb_cells),
    "Scale": ([_NAME, _col("Desired", "integer"), _col("Available", "integer"), _AGE],
              _scale_cells),
}
_DEFAULT: Printer = ([_NAME, _AGE], _default_cells)


def columns_for(kind: str) -> list[Col]:
    return PRINTERS.get(kind, _DEFAULT)[0]


def row_object(obj: dict, include: str) -> dict | None:
    """The ``object`` of a row for ``includeObject`` (``Metadata``, ``Object``, ``None``)."""
    if include == "None":
        return None
    if include == "Object":
        return obj
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
            "metadata": obj["metadata"]}


def to_row(kind: str, obj: dict, now: float, include: str = "Metadata") -> dict:
    cells_of = PRINTERS.get(kind, _DEFAULT)[1]
    try:
        cells = cells_of(obj, now)
    except (KeyError, TypeError, ValueError, AttributeError):
        # An object this printer cannot read (only reachable with odd stored data): the
        # generic row, rather than no answer.
        cells = _default_cells(obj, now)
        cells += [""] * (len(PRINTERS.get(kind, _DEFAULT)[0]) - len(cells))
    row: dict[str, Any] = {"cells": cells}
    if kind == "Pod":
        conds = _pod_conditions(obj)
        if conds:
            row["conditions"] = conds
    ro = row_object(obj, include)
    if ro is not None:
        row["object"] = ro
    return row


def to_table(kind: str, objects: list[dict], now: float, *, list_meta: dict | None = None,
             include: str = "Metadata", api_version: str = "meta.k8s.io/v1",
             with_columns: bool = True) -> dict:
    """A Table of ``objects`` (one row each)."""
    table: dict[str, Any] = {"kind": "Table", "apiVersion": api_version,
                             "metadata": dict(list_meta or {})}
    if with_columns:
        table["columnDefinitions"] = columns_for(kind)
    else:
        table["columnDefinitions"] = None
    table["rows"] = [to_row(kind, o, now, include) for o in objects]
    return table
