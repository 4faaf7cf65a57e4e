"""Readiness probes of the health gate are image data: derived from an image's ports or health check,
set per image in a catalog, and returned per deployed service by voice_compose (``gate``)."""

from __future__ import annotations

from typing import Any, Dict

import pytest

from ansible_collections.voiceops.avr.plugins.action.voice_compose import gate_data
from ansible_collections.voiceops.avr.plugins.module_utils.registry.catalog import effective_registry
from ansible_collections.voiceops.avr.plugins.module_utils.registry.model import (
    CoreImage, Healthcheck, Probe, RegistryError, readiness,
)
from ansible_collections.voiceops.avr.plugins.module_utils.registry.registry import builtin, image_data
from ansible_collections.voiceops.avr.plugins.plugin_utils.render import Inputs, render

BUILTIN = builtin("2025.09")  # these tests read generation 2025.09 facts


def core(**fields: Any) -> CoreImage:
    return CoreImage(name="c", image="example/c", description="", **fields)


@pytest.mark.parametrize("image, probes", [
    (core(port=5001, ports=("5001:5001",)), (Probe("tcp", 5001),)),
    (core(ports=("5038:5038", "5060:5060")), (Probe("tcp", 5038),)),
    (core(ports=("127.0.0.1:15038:5038/tcp",)), (Probe("tcp", 5038),)),
    (core(ports=("10000-10050:10000-10050/udp", "3000:3000")), (Probe("tcp", 3000),)),
    (core(ports=("5060:5060/udp",)), ()),
    (core(), ()),
    (core(port=6000, healthcheck=Healthcheck(test=("CMD", "true"))), (Probe("health"),)),
    (core(port=6000, probes=(Probe("tcp", 7000), Probe("health"))), (Probe("tcp", 7000), Probe("health"))),
    (core(port=6000, probes=()), ()),
])
def test_readiness_is_derived_from_the_image_data_unless_the_image_sets_it(image: CoreImage, probes: Any) -> None:
    assert readiness(image) == probes


def test_every_builtin_image_that_listens_has_a_probe() -> None:
    by_key = {key: readiness(img) for key, img in BUILTIN.images.items()}
    assert by_key["core/avr-core"] == (Probe("tcp", 5001),)
    assert by_key["asterisk/avr-asterisk"] == (Probe("tcp", 5038),)
    assert by_key["database/mysql"] == (Probe("health"),)
    for key, img in BUILTIN.images.items():
        if img.port or img.ports or img.healthcheck:
            assert by_key[key], key


def catalog_core(**fields: Any) -> Dict[str, Any]:
    entry: Dict[str, Any] = {"role": "asr", "name": "x", "image": "example/x", "port": 5001}
    entry.update(fields)
    return {"images": [entry]}


def test_a_catalog_image_sets_its_probes() -> None:
    reg = effective_registry(catalog_core(probes=[{"type": "tcp", "port": 7001}, {"type": "health"}]))
    assert readiness(reg.images["asr/x"]) == (Probe("tcp", 7001), Probe("health"))
    assert readiness(effective_registry(catalog_core(probes=[])).images["asr/x"]) == ()
    assert readiness(effective_registry(catalog_core()).images["asr/x"]) == (Probe("tcp", 5001),)


@pytest.mark.parametrize("probes, message", [
    ([{"type": "udp", "port": 1}], r"^catalog\.images\[0\]\.probes\[0\]\.type: Input should be 'tcp' or 'health'"),
    ([{"type": "tcp"}], r"^catalog\.images\[0\]\.probes\[0\]: a tcp probe needs a port"),
    ([{"type": "health", "port": 5001}], r"^catalog\.images\[0\]\.probes\[0\]: .*health probe takes none"),
    ([{"type": "tcp", "port": 0}], r"^catalog\.images\[0\]\.probes\[0\]\.port: Input should be greater than"),
    ([{"type": "tcp", "port": 80, "path": "/"}], r"^catalog\.images\[0\]\.probes\[0\]\.path: Extra inputs"),
    ("tcp", r"^catalog\.images\[0\]\.probes: Input should be a valid list"),
])
def test_a_bad_catalog_probe_names_the_field(probes: Any, message: str) -> None:
    with pytest.raises(RegistryError, match=message):
        effective_registry(catalog_core(probes=probes))


def test_voice_compose_returns_per_deployed_service_its_container_network_and_probes() -> None:
    template = BUILTIN.templates["app"]
    rendered = render(BUILTIN, template, Inputs("support", "sup", allow_missing=True))
    document = rendered.document
    services = list(document["services"])
    gate = gate_data(document, template.images, services)
    assert sorted(gate) == sorted(services)
    networks = [net["name"] for net in document["networks"].values()]
    by_key = dict(zip((img.key for img in template.images), services))
    for key, img in zip(by_key, template.images):
        name = by_key[key]
        assert gate[name]["container"] == document["services"][name]["container_name"]
        assert gate[name]["network"] in networks
        assert gate[name]["probes"] == [{"type": p.type, "port": p.port} for p in readiness(img)]
    assert gate[by_key["database/mysql"]]["probes"] == [{"type": "health", "port": None}]
    assert gate[by_key["app/avr-app"]]["probes"] == [{"type": "tcp", "port": 3000}]


def test_catalog_probes_round_trip_through_image_data_and_count_in_the_digest() -> None:
    core = image_data(builtin("2025.09").images["core/avr-core"])
    del core["key"]
    assert core["probes"] is None  # derived from the image data
    core["probes"] = [{"type": "tcp", "port": 6000}]
    reg = effective_registry({"images": [core]}, "2025.09")
    assert image_data(reg.images["core/avr-core"])["probes"] == [{"type": "tcp", "port": 6000}]
    core["probes"] = [{"type": "tcp", "port": 6001}]
    assert effective_registry({"images": [core]}, "2025.09").digest != reg.digest
