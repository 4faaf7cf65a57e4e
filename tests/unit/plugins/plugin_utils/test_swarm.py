"""The Swarm emitter (plugins/plugin_utils/emitters/swarm.py): every template of both generations, bare and with
every key, to a legacy v3 stack file that holds no secret value, with versioned secret and config names.

The schema itself is checked by ``docker stack config`` in tests/integration/test_swarm_stack.py.
"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any, Dict, List, Tuple

import pytest
import yaml

from ansible_collections.voiceops.avr.plugins.module_utils.registry.generations import generations
from ansible_collections.voiceops.avr.plugins.module_utils.registry.model import Resources
from ansible_collections.voiceops.avr.plugins.module_utils.registry.purposes import BY_NAME, purpose_of
from ansible_collections.voiceops.avr.plugins.module_utils.registry.registry import builtin
from ansible_collections.voiceops.avr.plugins.plugin_utils.deployment import Deployment
from ansible_collections.voiceops.avr.plugins.plugin_utils.emitters import swarm
from ansible_collections.voiceops.avr.plugins.plugin_utils.render import resolve

from test_golden import inputs as golden_inputs  # the golden files' inputs (every key)

KEY = b"k" * 32
CASES: List[Tuple[str, str]] = [(version, tid) for version in generations()
                                for tid in sorted(builtin(version).templates)]
#: a configuration file holding a secret marker, and one holding none
CONFIG_SECRET = "[avr]\nsecret = conf-marker-%s\n"
CONFIG_PLAIN = "[transport-udp]\ntype = transport\n"


def description(version: str, tid: str, variant: str, **changes: Any) -> Deployment:
    registry = builtin(version)
    tpl = registry.template(tid)
    given = golden_inputs(registry, tpl, variant)
    if variant == "full":  # Swarm publishes on every address: the emitter refuses an address (see below)
        given = dataclasses.replace(given, publish_address=None, management_address=None)
    return resolve(registry, tpl, dataclasses.replace(given, **changes))


def configs_of(deployment: Deployment, marker: str = "1") -> Dict[str, str]:
    """A text for every project file a service mounts one by one under asterisk/conf (as the role's templates)."""
    paths = sorted({m.path for svc in deployment.services for m in svc.mounts
                    if m.kind == "project" and m.path.startswith("asterisk/conf/")})
    return {path: (CONFIG_SECRET % marker if path.endswith("manager.conf") else CONFIG_PLAIN) for path in paths}


def secret_texts(deployment: Deployment) -> List[str]:
    """Every secret value of a full render, as given and as compose would escape it."""
    values = list(deployment.secret_values.values()) + list(deployment.file_values.values())
    return [v for value in values for v in (value, value.replace("$", "$$"))]


def follows_host(svc: Any) -> bool:
    return any(BY_NAME[purpose_of(svc.role, p.container, p.protocol)].follows_host for p in svc.ports)


@pytest.mark.parametrize("variant", ["bare", "full"])
@pytest.mark.parametrize("version, template_id", CASES)
def test_every_template_is_a_v3_stack_file(version: str, template_id: str, variant: str) -> None:
    deployment = description(version, template_id, variant)
    rendered = swarm.emit(deployment, configs_of(deployment), version_key=KEY, secret_texts=["conf-marker-1"],
                          placement="node-1" if variant == "full" else None)
    doc = yaml.safe_load(rendered.content)
    assert doc == rendered.document
    assert rendered.content.startswith("# Rendered by voiceops.avr.voice_compose (engine swarm, "
                                       "for docker stack deploy)")
    assert "# registry: %s sha256:%s\n" % (version, deployment.digest) in rendered.content
    assert doc["version"] == "3.8" and "name" not in doc
    assert list(doc["services"]) == [svc.deployed for svc in deployment.services]
    net = doc["networks"][deployment.network.key]
    assert net["driver"] == "overlay" and net["attachable"] is True
    assert net.get("ipam", {}).get("config") == ([{"subnet": deployment.network.subnet}]
                                                 if deployment.network.subnet else None)
    for svc in deployment.services:
        spec = doc["services"][svc.deployed]
        assert not {"container_name", "restart", "platform", "name"} & set(spec), svc.deployed
        assert spec["image"] == svc.image
        deploy = spec["deploy"]
        assert deploy["replicas"] == 1 and deploy["restart_policy"]["condition"] in ("any", "none", "on-failure")
        assert deploy["update_config"]["failure_action"] == "rollback"
        assert deploy["update_config"]["monitor"] and deploy["update_config"]["order"] in ("start-first", "stop-first")
        assert deploy["rollback_config"]["order"] == deploy["update_config"]["order"]
        if svc.depends_on:
            assert spec["depends_on"] == [target for target, _condition in svc.depends_on]
        if svc.healthcheck is not None:
            assert spec["healthcheck"]["test"] == list(svc.healthcheck.test)
        ports = spec.get("ports", [])
        assert all(isinstance(p, dict) for p in ports), "long syntax only"
        assert len(ports) == sum(p.size for p in svc.ports), "one entry per port"
        pinned = (deploy.get("placement") or {}).get("constraints")
        if follows_host(svc):
            assert ports and {p["mode"] for p in ports} == {"host"}, svc.deployed
            assert pinned == ["node.hostname == node-1" if variant == "full" else "node.role == manager"]
            assert deploy["update_config"]["order"] == "stop-first", "host ports cannot be held twice"
        else:
            assert {p["mode"] for p in ports} <= {"ingress"}
        for value in svc.env:
            if value.secret is not None:
                assert value.name not in spec.get("environment", {}), "a secret variable is never inline"
                assert {"source": _key_of(doc, spec, value.secret.name), "target": value.secret.name} in spec["secrets"]
    for text in secret_texts(deployment):
        assert text not in rendered.content
    assert "conf-marker" not in rendered.content
    for entry in doc.get("secrets", {}).values():
        assert entry["name"].startswith(deployment.name + "_") and len(entry["name"]) <= 64
        assert entry.get("external") is True or entry["file"].startswith("./%s/" % swarm.SECRET_FILES_DIR)
    for entry in doc.get("configs", {}).values():
        assert entry["file"].startswith("./%s/" % swarm.CONFIG_FILES_DIR)
        assert "conf-marker" not in rendered.files[entry["file"][2:]], "a config with a secret is a secret"
    assert set(rendered.files) == {e["file"][2:] for kind in ("secrets", "configs")
                                   for e in doc.get(kind, {}).values() if "file" in e}


def _key_of(doc: Dict[str, Any], spec: Dict[str, Any], target: str) -> str:
    return next(entry["source"] for entry in spec["secrets"] if entry["target"] == target)


def test_given_secrets_are_files_and_missing_ones_external() -> None:
    full = description("2026.06", "openai", "full")
    rendered = swarm.emit(full, configs_of(full), version_key=KEY, secret_texts=["conf-marker-1"])
    given = {name: path for name, path in rendered.secrets.items() if path}
    assert given and all(path.startswith(swarm.SECRET_FILES_DIR + "/") for path in given.values())
    assert sorted(rendered.files[path] for name, path in given.items() if "api_key" in name) == sorted(
        v for k, v in full.secret_values.items() if k.endswith("API_KEY"))
    assert any("manager_conf" in name for name in given), "manager.conf holds a secret: a Swarm secret"
    assert any("pjsip_conf" in name for name in rendered.configs)
    bare = description("2026.06", "openai", "bare")
    doc = swarm.emit(bare, version_key=KEY).document
    assert doc["secrets"]["openai_api_key"] == {"name": "openai_openai_api_key", "external": True}


def test_output_is_deterministic_for_a_version_key() -> None:
    one = description("2026.06", "app", "full")
    two = description("2026.06", "app", "full")
    assert swarm.emit(one, configs_of(one), version_key=KEY).content == swarm.emit(two, configs_of(two),
                                                                                   version_key=KEY).content


def _names(rendered: swarm.Rendered) -> Dict[str, str]:
    return {key: entry["name"] for kind in ("secrets", "configs")
            for key, entry in rendered.document.get(kind, {}).items()}


def test_a_name_changes_when_and_only_when_its_value_changes() -> None:
    base = description("2026.06", "openai", "full")
    keys = dict(golden_inputs(builtin("2026.06"), builtin("2026.06").template("openai"), "full").provider_keys)
    marks = ["conf-marker-1", "conf-marker-2"]
    before = swarm.emit(base, configs_of(base), version_key=KEY, secret_texts=marks)
    after_key = swarm.emit(description("2026.06", "openai", "full", provider_keys=dict(keys, openai="rotated")),
                           configs_of(base), version_key=KEY, secret_texts=marks)
    after_conf = swarm.emit(base, configs_of(base, marker="2"), version_key=KEY, secret_texts=marks)
    changed = set(before.secrets) ^ set(after_key.secrets)
    assert changed and all("openai_api_key" in n for n in changed), changed
    assert set(before.configs) == set(after_key.configs)
    assert set(before.secrets) ^ set(after_conf.secrets) and all(
        "manager_conf" in n for n in set(before.secrets) ^ set(after_conf.secrets))
    same = swarm.emit(base, configs_of(base), version_key=KEY, secret_texts=marks)
    assert _names(same) == _names(before)


def test_a_version_is_not_a_function_of_the_value_alone() -> None:
    deployment = description("2026.06", "openai", "full")
    one = swarm.emit(deployment, version_key=b"a" * 32).secrets
    two = swarm.emit(deployment, version_key=b"b" * 32).secrets
    assert set(one) & set(two) == set()
    value = deployment.secret_values["OPENAI_API_KEY"]
    plain = {hashlib.new(alg, value.encode()).hexdigest()[:swarm.VERSION_CHARS] for alg in ("sha1", "sha256", "md5")}
    assert not any(name.endswith(tuple(plain)) for name in one)


def test_an_address_is_refused_in_one_line() -> None:
    registry = builtin("2026.06")
    tpl = registry.template("openai")
    deployment = resolve(registry, tpl, golden_inputs(registry, tpl, "full"))
    with pytest.raises(swarm.SwarmError) as exc:
        swarm.emit(deployment, version_key=KEY)
    assert "\n" not in str(exc.value) and "'192.0.2.10'" in str(exc.value) and "publish_address" in str(exc.value)


def test_a_bad_placement_is_refused_in_one_line() -> None:
    with pytest.raises(swarm.SwarmError, match=r"^placement: 'a b' is not"):
        swarm.emit(description("2026.06", "openai", "bare"), version_key=KEY, placement="a b")


def test_resources_go_under_deploy_resources() -> None:
    deployment = description("2026.06", "openai", "bare")
    core = deployment.services[0]
    limited = dataclasses.replace(core, resources=Resources(cpus="0.5", memory="512M", reserve_memory="128M"))
    deployment = dataclasses.replace(deployment, services=(limited,) + deployment.services[1:])
    spec = swarm.emit(deployment, version_key=KEY).document["services"][core.deployed]
    assert spec["deploy"]["resources"] == {"limits": {"cpus": "0.5", "memory": "512M"},
                                           "reservations": {"memory": "128M"}}
    assert "resources" not in swarm.emit(description("2026.06", "openai", "bare"),
                                         version_key=KEY).document["services"][core.deployed]["deploy"]


def test_a_variable_read_from_a_file_points_at_the_secret() -> None:
    deployment = description("2026.06", "openai", "full")
    llm = next(svc for svc in deployment.services if svc.value("OPENAI_API_KEY"))
    rendered = swarm.emit(deployment, version_key=KEY, file_env={llm.name: {"OPENAI_API_KEY": "OPENAI_API_KEY_FILE"}})
    assert rendered.document["services"][llm.deployed]["environment"]["OPENAI_API_KEY_FILE"] == \
        "/run/secrets/OPENAI_API_KEY"
    assert llm.deployed not in rendered.file_only
    plain = swarm.emit(deployment, version_key=KEY)
    assert plain.file_only[llm.deployed] == ["OPENAI_API_KEY"]


def test_a_public_default_of_a_secret_variable_is_a_secret_too() -> None:
    deployment = description("2026.06", "openai", "bare")
    ami = next(svc for svc in deployment.services for v in svc.env
               if v.secret is not None and v.origin == "image" and v.value)
    value = next(v for v in ami.env if v.secret is not None and v.value)
    spec = swarm.emit(deployment, version_key=KEY).document["services"][ami.deployed]
    assert value.name not in spec.get("environment", {})
    assert value.secret.name in [entry["target"] for entry in spec["secrets"]]


@pytest.mark.parametrize("variant", ["bare", "full"])
def test_a_long_deployment_name_still_makes_swarm_names_of_64_characters_at_most(variant: str) -> None:
    deployment = description("2026.06", "app", variant, deployment="d" * 63)
    rendered = swarm.emit(deployment, configs_of(deployment), version_key=KEY)
    names = list(rendered.secrets) + list(rendered.configs)
    assert len(names) > 3 and all(len(n) <= 64 and n[-1].isalnum() for n in names), names
    assert len(set(names)) == len(names), "shortened names stay distinct"
    assert len(rendered.document["secrets"]) + len(rendered.document.get("configs", {})) == len(names)
