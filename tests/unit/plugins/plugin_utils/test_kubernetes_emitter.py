"""The Kubernetes emitter (emitters/kubernetes.py): every template of every generation, bare and with every key,
validates strictly against three Kubernetes versions; no secret value reaches a resource; the output is
deterministic; host networking exactly where a port follows the host.

Validation uses kubernetes-validate's own strict schemas (the package's files) through one jsonschema validator
per version and kind, built once, instead of ``kubernetes_validate.validate`` per resource (which reads the
definitions file again for every call: a minute for these cases instead of seconds). That the cached validator is
the same check is tested: both refuse the same broken resource and accept the same good one.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from dataclasses import replace
from typing import Any, Dict, Iterator, List, Tuple

import jsonschema
import kubernetes_validate
import pytest
from kubernetes_validate import utils as kv_utils
from referencing import Registry as SchemaRegistry, Resource

from ansible_collections.voiceops.avr.plugins.module_utils.registry.generations import generations
from ansible_collections.voiceops.avr.plugins.module_utils.registry.model import Resources, readiness
from ansible_collections.voiceops.avr.plugins.module_utils.registry.purposes import port_needs
from ansible_collections.voiceops.avr.plugins.module_utils.registry.registry import builtin
from ansible_collections.voiceops.avr.plugins.plugin_utils.deployment import Port
from ansible_collections.voiceops.avr.plugins.plugin_utils.emitters import kubernetes
from ansible_collections.voiceops.avr.plugins.plugin_utils.render import Inputs, plan, resolve

from test_golden import CASES, inputs

VERSIONS = ("1.30", "1.33", "1.37")
SECRET_CONFIGS = ("manager.conf", "ari.conf")  # the role's templates that read voice_secrets


@functools.lru_cache(maxsize=None)
def _validator(version: str, kind: str, api_version: str) -> jsonschema.Draft202012Validator:
    """The validator kubernetes_validate.validate(strict=True) builds, built once per version and kind."""
    group = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    folder = "kubernetes-json-schema/v%s.0-local-strict" % version
    schema = kv_utils.schema_contents("%s/%s-%s.json" % (folder, kind.lower(), group), version)
    definitions = kv_utils.schema_contents("%s/_definitions.json" % folder, version)
    registry = Resource.from_contents(definitions) @ (Resource.from_contents(schema) @ SchemaRegistry())
    return jsonschema.Draft202012Validator(schema, registry=registry)


def validate(resource: Dict[str, Any], version: str) -> None:
    _validator(version, resource["kind"], resource["apiVersion"]).validate(resource)


def config_files(deployment: Any, marker: str = "") -> Dict[str, kubernetes.ConfigFile]:
    """A configuration file for every project file of the configuration folder a service mounts."""
    files = {}
    for svc in deployment.services:
        for mount in svc.mounts:
            if mount.kind == "project" and mount.path.startswith("asterisk/conf/"):
                secret = mount.path.rsplit("/", 1)[-1] in SECRET_CONFIGS
                files[mount.path] = kubernetes.ConfigFile(
                    path=mount.path, text="; %s\n[general]\nsecret = %s\n" % (mount.path, marker if secret else "none"),
                    secret=secret)
    return files


def emitted(version: str, tid: str, variant: str) -> Tuple[Any, kubernetes.Manifests, Inputs]:
    registry = builtin(version)
    tpl = registry.templates[tid]
    given = inputs(registry, tpl, variant)
    deployment = resolve(registry, tpl, given)
    probes = {img.service_name: readiness(img) for img in plan(registry, tpl).images}
    marker = "MARKER-config-ami-%s" % tid
    options = kubernetes.Options(probes=probes, image_pull_secrets=("pull-one",) if variant == "full" else ())
    return deployment, kubernetes.emit(deployment, config_files(deployment, marker), options), given


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)
    elif isinstance(value, str):
        yield value


@pytest.mark.parametrize("version, tid", CASES, ids=["%s-%s" % case for case in CASES])
@pytest.mark.parametrize("variant", ["bare", "full"])
def test_every_template_validates_strictly(version: str, tid: str, variant: str) -> None:
    _deployment, manifests, _given = emitted(version, tid, variant)
    kinds = [r["kind"] for r in manifests.resources]
    assert kinds.count("Deployment") == kinds.count("Service") == len(_deployment.services)
    for resource in manifests.resources:
        for k8s in VERSIONS:
            validate(resource, k8s)
        # what the schema cannot say: names Kubernetes takes, port names (IANA_SVC_NAME), unique per pod
        assert kubernetes.DNS_LABEL.fullmatch(resource["metadata"]["name"]), resource["metadata"]["name"]
        if resource["kind"] == "Deployment":
            ports = [p for c in resource["spec"]["template"]["spec"]["containers"] for p in c.get("ports", ())]
            names = [p["name"] for p in ports]
            assert len(set(names)) == len(names) and all(len(n) <= 15 and re.search("[a-z]", n) for n in names)
            assert resource["spec"]["selector"]["matchLabels"].items() <= \
                resource["spec"]["template"]["metadata"]["labels"].items()
        labels = resource["metadata"]["labels"]
        assert labels["app.kubernetes.io/managed-by"] == "voiceops.avr"
        assert labels["app.kubernetes.io/instance"] == _deployment.name
        assert resource["metadata"]["annotations"]["voiceops.avr/registry-digest"] == "sha256:" + _deployment.digest


def test_the_cached_validator_is_kubernetes_validate() -> None:
    """The cached validator refuses what kubernetes_validate.validate refuses (an unknown field, strict) and
    accepts what it accepts, in every version tested."""
    _deployment, manifests, _given = emitted("2026.06", "openai", "full")
    good = next(r for r in manifests.resources if r["kind"] == "Deployment")
    broken = copy.deepcopy(good)
    broken["spec"]["template"]["spec"]["containers"][0]["envFrm"] = []
    wrong_type = copy.deepcopy(good)
    wrong_type["spec"]["replicas"] = "one"
    for k8s in VERSIONS:
        kubernetes_validate.validate(good, k8s, strict=True)
        validate(good, k8s)
        for bad in (broken, wrong_type):
            with pytest.raises(kubernetes_validate.ValidationError):
                kubernetes_validate.validate(bad, k8s, strict=True)
            with pytest.raises(jsonschema.ValidationError):
                validate(bad, k8s)


@pytest.mark.parametrize("version, tid", CASES, ids=["%s-%s" % case for case in CASES])
def test_no_secret_value_in_any_resource(version: str, tid: str) -> None:
    registry = builtin(version)
    tpl = registry.templates[tid]
    stack = plan(registry, tpl)
    given = inputs(registry, tpl, "full")
    keys = {name: "MARKER-key-%s-%04d" % (name, n) for n, name in enumerate(sorted(given.provider_keys or {}))}
    secrets = {name: "MARKER-secret-%s" % name for name in sorted(given.secrets or {})}
    common = "password"  # a common word as a secret: no value of a resource may be it
    if secrets:
        secrets[sorted(secrets)[0]] = common
    deployment = resolve(registry, tpl, replace(given, provider_keys=keys, secrets=secrets))
    probes = {img.service_name: readiness(img) for img in stack.images}
    manifests = kubernetes.emit(deployment, config_files(deployment, "MARKER-config-secret"),
                                kubernetes.Options(probes=probes))
    text = manifests.content + json.dumps(manifests.resources) + json.dumps(manifests.references)
    assert "MARKER" not in text
    assert common not in set(strings(manifests.resources))
    secret_vars = {var.name for img in stack.images for var in img.env if var.secret}
    for resource in manifests.resources:
        if resource["kind"] != "Deployment":
            continue
        for container in resource["spec"]["template"]["spec"]["containers"]:
            for entry in container.get("env", ()):
                assert set(entry) == {"name", "valueFrom"}, entry  # never an inline value
                if entry["name"] in secret_vars:
                    assert entry["valueFrom"] == {"secretKeyRef": {"name": deployment.name + "-secrets",
                                                                   "key": entry["valueFrom"]["secretKeyRef"]["key"]}}
    for resource in manifests.resources:
        assert resource["kind"] != "Secret", "the manifests never make (and so never fill) a Secret"


def test_a_public_default_of_a_secret_is_still_a_reference() -> None:
    """AMI_PASSWORD has the image default 'avr' (origin image, secret set): a secretKeyRef, not the default."""
    _deployment, manifests, _given = emitted("2026.06", "openai", "bare")
    ami = next(r for r in manifests.resources if r["kind"] == "Deployment" and r["metadata"]["name"] == "avr-ami")
    env = {e["name"]: e["valueFrom"] for e in ami["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["AMI_PASSWORD"] == {"secretKeyRef": {"name": "openai-secrets", "key": "AMI_PASSWORD"}}
    env_map = next(r for r in manifests.resources if r["metadata"]["name"] == "avr-ami-env")
    assert "AMI_PASSWORD" not in env_map["data"]
    assert {"kind": "Secret", "name": "openai-secrets", "keys": ["AMI_PASSWORD", "DEEPGRAM_API_KEY",
                                                                 "OPENAI_API_KEY"]} in manifests.references


def test_secret_config_files_are_referenced_never_written() -> None:
    deployment, manifests, _given = emitted("2026.06", "openai", "full")
    config = next(r for r in manifests.resources
                  if r["kind"] == "ConfigMap" and r["metadata"]["name"].endswith("-config"))
    assert "asterisk-conf-pjsip.conf" in config["data"]
    assert not any(key.endswith(SECRET_CONFIGS) for key in config["data"])
    asterisk = next(r for r in manifests.resources if r["kind"] == "Deployment"
                    and r["metadata"]["labels"]["app.kubernetes.io/component"] == "asterisk")
    mounts = {m["mountPath"]: m for m in asterisk["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]}
    assert mounts["/etc/asterisk/my_manager.conf"] == {"name": "files", "mountPath": "/etc/asterisk/my_manager.conf",
                                                       "subPath": "asterisk-conf-manager.conf", "readOnly": True}
    assert mounts["/etc/asterisk/my_pjsip.conf"]["name"] == "config"
    volumes = {v["name"]: v for v in asterisk["spec"]["template"]["spec"]["volumes"]}
    assert volumes["files"] == {"name": "files", "secret": {"secretName": deployment.name + "-files"}}
    assert {"kind": "Secret", "name": deployment.name + "-files",
            "keys": ["asterisk-conf-ari.conf", "asterisk-conf-manager.conf"]} in manifests.references


def test_deterministic() -> None:
    first = [emitted(version, tid, "full")[1].content for version, tid in CASES]
    second = [emitted(version, tid, "full")[1].content for version, tid in CASES]
    assert first == second
    deployment, manifests, _given = emitted("2026.06", "openai", "full")
    files = config_files(deployment, "x")
    reordered = dict(reversed(list(files.items())))
    assert kubernetes.emit(deployment, reordered, kubernetes.Options()).content == \
        kubernetes.emit(deployment, files, kubernetes.Options()).content


@pytest.mark.parametrize("version, tid", CASES, ids=["%s-%s" % case for case in CASES])
def test_host_network_exactly_where_a_port_follows_the_host(version: str, tid: str) -> None:
    deployment, manifests, _given = emitted(version, tid, "bare")
    tpl = builtin(version).templates[tid]
    following = {need["service"] for need in port_needs(tpl) if need["follows_host"]}
    deployed = {svc.name: svc.deployed for svc in deployment.services}
    on_host = set()
    for resource in manifests.resources:
        if resource["kind"] != "Deployment":
            continue
        pod = resource["spec"]["template"]["spec"]
        if pod.get("hostNetwork"):
            on_host.add(resource["metadata"]["name"])
            assert pod["dnsPolicy"] == "ClusterFirstWithHostNet"
            assert resource["spec"]["strategy"] == {"type": "Recreate"}
        else:
            assert "dnsPolicy" not in pod and "strategy" not in resource["spec"]
    assert on_host == {deployed[name] for name in following}
    assert manifests.host_network == [svc.deployed for svc in deployment.services if svc.deployed in on_host]


def _with_port(deployment: Any, role: str, spec: str) -> Any:
    services = tuple(replace(svc, ports=svc.ports + (Port.parse(spec),)) if svc.role == role else svc
                     for svc in deployment.services)
    return replace(deployment, services=services)


def test_a_large_range_is_refused_off_the_host_network_and_left_to_the_node_on_it() -> None:
    deployment, _manifests, _given = emitted("2026.06", "openai", "bare")
    with pytest.raises(kubernetes.EmitError) as caught:
        kubernetes.emit(_with_port(deployment, "core", "20000-20200:20000-20200/udp"))
    assert str(caught.value) == ("ports.avr-core[1]: '20000-20200:20000-20200/udp' is a range of 201 ports; a "
                                 "Kubernetes Service takes at most 100 per range here (only a service on the host "
                                 "network, one publishing a port that follows the host, may publish more)")
    wide = kubernetes.emit(_with_port(deployment, "asterisk", "20000-29999:20000-29999/udp"))
    asterisk = next(r for r in wide.resources if r["kind"] == "Deployment" and r["metadata"]["name"] == "avr-asterisk")
    assert asterisk["spec"]["template"]["metadata"]["annotations"]["voiceops.avr/host-ports"] == "20000-29999/udp"
    numbers = [p["containerPort"] for p in asterisk["spec"]["template"]["spec"]["containers"][0]["ports"]]
    assert 20000 not in numbers and 10000 in numbers and 10050 in numbers  # the 51-port range is listed


def test_a_changed_config_file_rolls_only_the_pods_that_mount_it() -> None:
    deployment, _manifests, _given = emitted("2026.06", "openai", "full")
    files = config_files(deployment)
    changed = dict(files)
    changed["asterisk/conf/pjsip.conf"] = replace(files["asterisk/conf/pjsip.conf"], text="[changed]\n")

    def hashes(given: Any) -> Dict[str, str]:
        return {r["metadata"]["name"]: r["spec"]["template"]["metadata"]["annotations"]["voiceops.avr/config-sha256"]
                for r in kubernetes.emit(deployment, given).resources if r["kind"] == "Deployment"}
    before, after = hashes(files), hashes(changed)
    assert [name for name in before if before[name] != after[name]] == ["gold-avr-asterisk"]


def test_probes_resources_platform_and_pull_secrets() -> None:
    deployment, manifests, _given = emitted("2025.09", "app", "full")
    db = next(r for r in manifests.resources
              if r["kind"] == "Deployment" and r["metadata"]["name"] == "gold-avr-app-db")
    container = db["spec"]["template"]["spec"]["containers"][0]
    assert container["readinessProbe"] == {"exec": {"command": ["mysqladmin", "ping", "-h", "localhost"]},
                                           "timeoutSeconds": 20, "failureThreshold": 10}
    assert container["args"][0] == "mysqld"
    assert db["spec"]["template"]["spec"]["imagePullSecrets"] == [{"name": "pull-one"}]
    core = next(r for r in emitted("2026.06", "openai", "bare")[1].resources
                if r["kind"] == "Deployment" and r["metadata"]["name"] == "avr-core")
    assert core["spec"]["template"]["spec"]["containers"][0]["readinessProbe"] == {"tcpSocket": {"port": 5001}}
    sized = replace(deployment, services=tuple(
        replace(svc, resources=Resources(cpus="0.5", memory="512M", reserve_cpus="0.25", reserve_memory="1g"),
                platform="linux/arm64/v8") if svc.name == "avr-app-db" else svc for svc in deployment.services))
    db = next(r for r in kubernetes.emit(sized).resources if r["kind"] == "Deployment"
              and r["metadata"]["name"] == "gold-avr-app-db")
    assert db["spec"]["template"]["spec"]["containers"][0]["resources"] == {
        "limits": {"cpu": "0.5", "memory": "512Mi"}, "requests": {"cpu": "0.25", "memory": "1Gi"}}
    selector = db["spec"]["template"]["spec"]["nodeSelector"]
    assert selector == {"kubernetes.io/os": "linux", "kubernetes.io/arch": "arm64"}
    for k8s in VERSIONS:
        validate(db, k8s)
    docker_spelling = replace(sized, services=tuple(replace(svc, platform="linux/x86_64") for svc in sized.services))
    assert {r["spec"]["template"]["spec"]["nodeSelector"]["kubernetes.io/arch"]
            for r in kubernetes.emit(docker_spelling).resources if r["kind"] == "Deployment"} == {"amd64"}
    broken = replace(sized, services=tuple(replace(svc, resources=Resources(memory="lots")) for svc in sized.services))
    with pytest.raises(kubernetes.EmitError, match=r"^images\.app/avr-app\.resources\.memory: 'lots' is not a memory"):
        kubernetes.emit(broken)


def test_names_kubernetes_refuses_fail_in_one_line() -> None:
    registry = builtin("2026.06")
    deployment = resolve(registry, registry.templates["openai"], Inputs(deployment="my_stack", allow_missing=True))
    with pytest.raises(kubernetes.EmitError) as caught:
        kubernetes.emit(deployment)
    assert str(caught.value) == ("deployment: 'my_stack' is not a Kubernetes name (lower case letters, digits and "
                                 "'-', starting with a letter or digit and ending with a letter or digit, at most 63 "
                                 "characters)")
    prefixed = resolve(registry, registry.templates["openai"],
                       Inputs(deployment="ok", service_prefix="9x", allow_missing=True))
    with pytest.raises(kubernetes.EmitError, match=r"^service_prefix \(service avr-core\): '9x-avr-core' is not"):
        kubernetes.emit(prefixed)
    plain = resolve(registry, registry.templates["openai"], Inputs(deployment="ok", allow_missing=True))
    for options, message in ((kubernetes.Options(volume_size="lots"),
                              "volume_size: 'lots' is not a storage size like '1Gi' or '500Mi'"),
                             (kubernetes.Options(image_pull_secrets=("Pull_Me",)),
                              "image_pull_secrets: 'Pull_Me' is not a Kubernetes name")):
        with pytest.raises(kubernetes.EmitError) as caught:
            kubernetes.emit(plain, options=options)
        assert str(caught.value).startswith(message) and "\n" not in str(caught.value)
    with pytest.raises(kubernetes.EmitError, match=r"^namespace: 'Prod' is not a Kubernetes name"):
        kubernetes.emit(resolve(registry, registry.templates["openai"], Inputs(deployment="ok", allow_missing=True)),
                        options=kubernetes.Options(namespace="Prod"))


def test_an_existing_namespace_makes_no_namespace() -> None:
    deployment, _manifests, _given = emitted("2026.06", "openai", "bare")
    manifests = kubernetes.emit(deployment, options=kubernetes.Options(namespace="voice"))
    assert "Namespace" not in [r["kind"] for r in manifests.resources]
    assert {r["metadata"]["namespace"] for r in manifests.resources} == {"voice"}


def test_missing_plain_values_are_references_too() -> None:
    deployment, manifests, _given = emitted("2026.06", "ultravox", "bare")
    found = {ref["name"]: ref["keys"] for ref in manifests.references}
    assert found["ultravox-values"] == ["ULTRAVOX_AGENT_ID"]
    env_lists: List[Dict[str, Any]] = [e for r in manifests.resources if r["kind"] == "Deployment"
                                       for c in r["spec"]["template"]["spec"]["containers"] for e in c.get("env", ())]
    assert {"name": "ULTRAVOX_AGENT_ID",
            "valueFrom": {"configMapKeyRef": {"name": "ultravox-values", "key": "ULTRAVOX_AGENT_ID"}}} in env_lists
    assert generations()  # both generations are in CASES
