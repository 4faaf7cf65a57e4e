"""CPU and memory resources per image: a catalog field, in the snapshot (and so the digest) only when set, and
emitted under ``deploy.resources`` of the Swarm stack file. Released generations keep their digests
(test_snapshot.py RELEASED): no built-in image sets resources."""

from __future__ import annotations

from typing import Any, Dict

import pytest

from ansible_collections.voiceops.avr.plugins.module_utils.registry.catalog import effective_registry
from ansible_collections.voiceops.avr.plugins.module_utils.registry.generations import generations
from ansible_collections.voiceops.avr.plugins.module_utils.registry.model import RegistryError, Resources, memory_bytes
from ansible_collections.voiceops.avr.plugins.module_utils.registry.registry import builtin, image_data
from ansible_collections.voiceops.avr.plugins.module_utils.registry.snapshot import load
from ansible_collections.voiceops.avr.plugins.plugin_utils.emitters import swarm
from ansible_collections.voiceops.avr.plugins.plugin_utils.render import Inputs, resolve

LIMITED = {"cpus": "0.5", "memory": "512M", "reserve_memory": "128M"}


def catalog(**resources: Any) -> Dict[str, Any]:
    entry: Dict[str, Any] = {"role": "llm", "name": "avr-llm-openai", "image": "example/llm", "port": 6002}
    if resources:
        entry["resources"] = resources
    return {"images": [entry]}


def test_no_builtin_image_sets_resources() -> None:
    for version in generations():
        assert all(img.resources is None for img in builtin(version).images.values())
        assert all("resources" not in image_data(img) for img in builtin(version).images.values())


def test_a_catalog_image_sets_resources_and_the_snapshot_keeps_them() -> None:
    registry = effective_registry(catalog(**LIMITED), "2026.06")
    img = registry.images["llm/avr-llm-openai"]
    assert img.resources == Resources(cpus="0.5", memory="512M", reserve_memory="128M")
    assert registry.snapshot()["images"]["llm/avr-llm-openai"]["resources"] == LIMITED
    loaded = load(registry.snapshot())
    assert loaded.images["llm/avr-llm-openai"].resources == img.resources
    assert loaded.snapshot_text() == registry.snapshot_text() and loaded.digest == registry.digest
    more = dict(LIMITED)
    more["cpus"] = "1"
    other = effective_registry(catalog(**more), "2026.06")
    assert other.digest != registry.digest, "resources are part of the digest"
    plain = effective_registry(catalog(), "2026.06")
    assert "resources" not in plain.snapshot()["images"]["llm/avr-llm-openai"]


def test_resources_reach_the_stack_file() -> None:
    registry = effective_registry(catalog(**LIMITED), "2026.06")
    deployment = resolve(registry, registry.template("openai"), Inputs(deployment="openai", allow_missing=True))
    spec = swarm.emit(deployment, version_key=b"k" * 32).document["services"]["avr-llm-openai"]
    assert spec["deploy"]["resources"] == {"limits": {"cpus": "0.5", "memory": "512M"},
                                           "reservations": {"memory": "128M"}}


@pytest.mark.parametrize("resources, message", [
    ({"cpus": "half"}, r"^catalog\.images\[0\]\.resources\.cpus: String should match pattern"),
    ({"memory": "512 MB"}, r"^catalog\.images\[0\]\.resources\.memory: String should match pattern"),
    ({"cpus": 1}, r"^catalog\.images\[0\]\.resources\.cpus: Input should be a valid string"),
    ({"cpus": "0"}, r"^catalog\.images\[0\]\.resources\.cpus: '0' is no CPU at all"),
    ({"memory": "256M", "reserve_memory": "1G"},
     r"^catalog\.images\[0\]\.resources\.reserve_memory: '1G' is more than the limit memory '256M'"),
    ({"cpus": "0.5", "reserve_cpus": "2"}, r"^catalog\.images\[0\]\.resources\.reserve_cpus: '2' is more than"),
    ({"gpus": "1"}, r"^catalog\.images\[0\]\.resources\.gpus: Extra inputs are not permitted"),
])
def test_bad_resources_are_refused_naming_the_field_and_the_value(resources: Dict[str, Any], message: str) -> None:
    with pytest.raises(RegistryError, match=message) as exc:
        effective_registry(catalog(**resources), "2026.06")
    assert "\n" not in str(exc.value)


def test_a_snapshot_with_unknown_resources_is_refused() -> None:
    doc = effective_registry(catalog(**LIMITED), "2026.06").snapshot()
    doc["images"]["llm/avr-llm-openai"]["resources"] = {"cpus": "1", "gpus": "1"}
    with pytest.raises(RegistryError, match=r"images\.llm/avr-llm-openai\.resources: unknown field 'gpus'"):
        load(doc)


@pytest.mark.parametrize("text, size", [("512", 512), ("1k", 1024), ("512M", 512 << 20), ("2g", 2 << 30)])
def test_memory_sizes(text: str, size: int) -> None:
    assert memory_bytes(text) == size


def file_env_catalog(**var: Any) -> Dict[str, Any]:
    env = dict({"name": "OPENAI_API_KEY", "secret": True, "provider": "openai", "required": True}, **var)
    return {"images": [{"role": "llm", "name": "avr-llm-openai", "image": "example/llm", "port": 6002,
                        "env": [env]}]}


def test_a_secret_variable_read_from_a_file_is_catalog_and_snapshot_data() -> None:
    registry = effective_registry(file_env_catalog(file_env="OPENAI_API_KEY_FILE"), "2026.06")
    var = registry.images["llm/avr-llm-openai"].var("OPENAI_API_KEY")
    assert var is not None and var.file_env == "OPENAI_API_KEY_FILE"
    assert registry.snapshot()["images"]["llm/avr-llm-openai"]["env"][0]["file_env"] == "OPENAI_API_KEY_FILE"
    assert load(registry.snapshot()).digest == registry.digest
    plain = effective_registry(file_env_catalog(), "2026.06")
    assert "file_env" not in plain.snapshot()["images"]["llm/avr-llm-openai"]["env"][0]
    for version in generations():
        assert all(v.file_env is None for img in builtin(version).images.values() for v in img.env)


@pytest.mark.parametrize("var, message", [
    ({"secret": False, "provider": None, "file_env": "X_FILE"},
     r"file_env: 'X_FILE' is for a secret variable, and OPENAI_API_KEY is not one"),
    ({"file_env": "OPENAI_API_KEY"}, r"file_env: 'OPENAI_API_KEY' is the variable itself"),
    ({"file_env": "not a name"}, r"file_env: String should match pattern"),
])
def test_a_bad_file_env_is_refused_naming_the_field(var: Dict[str, Any], message: str) -> None:
    with pytest.raises(RegistryError, match=r"^catalog\.images\[0\]\.env\[0\]\.%s" % message):
        effective_registry(file_env_catalog(**var), "2026.06")
