"""An in-process fake Kubernetes API server for the tests: kmock's KubernetesEmulator on 127.0.0.1.

kmock (PyPI) serves API discovery (/api, /apis, /api/v1, /apis/<group>/<version>, /version, from the
resource list bundled with it) and keeps objects in memory: POST creates, GET fetches and lists, PATCH
merges the body into the object (dict merge, no strategic-merge semantics), DELETE removes. Two gaps
are filled here, and are this file's own code, not kmock's: a list answers with its ``kind``
(``DeploymentList``; kubernetes.core reads it) and honours ``labelSelector`` (equality terms only).

One controller step is this file's too: a Deployment the server returns (GET, list, the answer to a POST
or PATCH) carries the status a deployment controller would give it once it has acted, computed from the
stored object when it is returned:
``FakeCluster(available=...)`` decides per Deployment whether its pods became available (all replicas
available, condition Progressing reason NewReplicaSetAvailable) or not (all unavailable, Progressing
reason ReplicaSetUpdated); by default every Deployment is available. No pod is ever made.

It is not an API server: no validation, defaulting, admission, scheduling, real controllers (no pods, no
ReplicaSets, no rollout over time), dry-run, server-side apply, or cluster-scoped paths of the core group
such as /api/v1/namespaces (kmock 0.8 cannot parse them), so resources are rendered into an existing
namespace.
"""

from __future__ import annotations

import asyncio
import copy
import threading
from typing import Any, Callable, Dict, Optional

import kmock


DEPLOYMENTS = kmock.resource("apps/v1/deployments")
Available = Callable[[Dict[str, Any]], bool]


def deployment_status(obj: Dict[str, Any], available: bool) -> Dict[str, Any]:
    """``obj`` (a stored Deployment) as a deployment controller leaves it: generation observed, its replicas
    all available and the rollout complete, or all unavailable and the rollout still under way."""
    obj = copy.deepcopy(obj)
    meta = obj.setdefault("metadata", {})
    generation = meta.setdefault("generation", 1)
    replicas = (obj.get("spec") or {}).get("replicas", 1)
    status: Dict[str, Any] = {"observedGeneration": generation, "replicas": replicas, "updatedReplicas": replicas}
    if available:
        status.update(readyReplicas=replicas, availableReplicas=replicas, conditions=[
            {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"},
            {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"}])
    else:
        status.update(unavailableReplicas=replicas, conditions=[
            {"type": "Available", "status": "False", "reason": "MinimumReplicasUnavailable"},
            {"type": "Progressing", "status": "True", "reason": "ReplicaSetUpdated"}])
    obj["status"] = status
    return obj


class Emulator(kmock.KubernetesEmulator):
    #: whether a Deployment's pods become available (the controller step); FakeCluster sets it
    available: Available = staticmethod(lambda obj: True)

    def _controlled(self, request: Any, obj: Any) -> Any:
        if request.resource == DEPLOYMENTS and isinstance(obj, dict) and obj.get("kind", "Deployment") == "Deployment":
            return deployment_status(obj, self.available(obj))
        return obj

    async def _serve_fetch(self, request: Any) -> Any:
        return self._controlled(request, await super()._serve_fetch(request))

    async def _serve_create(self, request: Any) -> Any:
        return self._controlled(request, await super()._serve_create(request))

    async def _serve_update(self, request: Any) -> Any:
        return self._controlled(request, await super()._serve_update(request))

    async def _serve_list(self, request: Any) -> Any:
        payload = await super()._serve_list(request)
        items = [self._controlled(request, item) for item in payload["items"]]
        selector = request.params.get("labelSelector")
        if selector:
            wanted = dict(term.split("=", 1) for term in selector.split(","))
            items = [item for item in items
                     if wanted.items() <= ((item.get("metadata") or {}).get("labels") or {}).items()]
        resource = request.resource
        info = self.resources[resource]
        api_version = "%s/%s" % (resource.group, resource.version) if resource.group else resource.version
        return {"apiVersion": api_version, "kind": "%sList" % info.kind, "metadata": {"resourceVersion": "1"},
                "items": items}


class FakeCluster:
    """The emulator served from a thread of its own, with a kubeconfig that points at it."""

    def __init__(self, available: Optional[Available] = None) -> None:
        self.available = available
        self.emulator: Optional[Emulator] = None
        self.url = ""
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: Optional[asyncio.Event] = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._serve())

    async def _serve(self) -> None:
        self.emulator = Emulator()
        if self.available is not None:
            self.emulator.available = self.available
        self.emulator.resources.load_bundled()
        self._stop = asyncio.Event()
        async with self.emulator, kmock.Server(self.emulator) as server:
            self.url = str(server.url)
            self._ready.set()
            await self._stop.wait()

    def __enter__(self) -> "FakeCluster":
        self._thread.start()
        if not self._ready.wait(30):
            raise RuntimeError("the fake Kubernetes API server did not start")
        return self

    def __exit__(self, *exc: Any) -> None:
        assert self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)

    def kubeconfig(self) -> Dict[str, Any]:
        return {"apiVersion": "v1", "kind": "Config", "current-context": "fake",
                "clusters": [{"name": "fake", "cluster": {"server": self.url}}],
                "users": [{"name": "fake", "user": {"token": "fake-cluster-token"}}],
                "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "fake"}}]}

    def objects(self, plural: str, namespace: str) -> Dict[str, Dict[str, Any]]:
        """The stored objects of resource ``plural`` (``apps/v1/deployments``, ``v1/configmaps``) by name."""
        assert self.emulator is not None
        found = {}
        for (resource, ns, name), obj in list(self.emulator.objects.items()):
            if resource == kmock.resource(plural) and ns == namespace and not obj.deleted:
                found[name] = obj.raw
        return found

    def bodies(self) -> str:
        """Every request the server received, as text (method, path, query and body)."""
        assert self.emulator is not None
        return "\n".join("%s %s %s %s" % (r.method, r.url, dict(r.params), r.text) for r in self.emulator._requests)

    def create(self, plural: str, obj: Dict[str, Any]) -> None:
        """Store ``obj`` as if it had been created."""
        assert self.emulator is not None
        meta = obj["metadata"]
        self.emulator.objects[kmock.resource(plural), meta.get("namespace"), meta["name"]] = obj
