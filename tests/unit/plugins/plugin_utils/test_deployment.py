"""The neutral deployment description (render.resolve): what every emitter reads.

The compose emitter's output is pinned by the golden files (test_golden.py); these tests pin the description
itself: each value's origin, secrets only as references (their values apart and never shown), structured ports
and mounts, and that the compose emitter is a function of the description alone.
"""

from __future__ import annotations

import pytest

from ansible_collections.voiceops.avr.plugins.module_utils.registry.generations import generations
from ansible_collections.voiceops.avr.plugins.module_utils.registry.registry import builtin
from ansible_collections.voiceops.avr.plugins.plugin_utils.deployment import Mount, Port
from ansible_collections.voiceops.avr.plugins.plugin_utils.emitters import compose
from ansible_collections.voiceops.avr.plugins.plugin_utils.render import Inputs, render, resolve

from test_golden import CASES, inputs  # noqa: E402  (same folder: pytest puts it on sys.path)

NEWEST = sorted(generations())[-1]


def _openai(**kwargs):
    registry = builtin(NEWEST)
    tpl = registry.templates["openai"]
    base = dict(deployment="d1", provider_keys={"openai": "sk-marker-0001", "deepgram": "dg-marker-0002"},
                secrets={"AMI_PASSWORD": "password"})
    base.update(kwargs)
    return resolve(registry, tpl, Inputs(**base))


@pytest.mark.parametrize("version,tid", CASES)
@pytest.mark.parametrize("variant", ["bare", "full"])
def test_compose_is_emitted_from_the_description_alone(version, tid, variant):
    registry = builtin(version)
    tpl = registry.templates[tid]
    given = inputs(registry, tpl, variant)
    deployment = resolve(registry, tpl, given)
    assert compose.emit(deployment).content == render(registry, tpl, given).content
    given_secrets = set(deployment.secret_values.values()) | set(deployment.file_values.values())
    shown = repr(deployment)
    for value in given_secrets:
        assert value not in shown
    for svc in deployment.services:
        for value in svc.env:
            if value.origin == "secret":
                assert value.value is None and value.secret is not None and value.secret.given
            if value.value is not None:
                assert value.value not in given_secrets or value.origin not in ("env", "environment.json")


def test_each_value_names_the_layer_it_comes_from():
    deployment = _openai(env={"avr-core": {"INTERRUPT_LISTENING": "true"}},
                         stored_env={"avr-asr-deepgram": {"SPEECH_RECOGNITION_LANGUAGE": "it-IT"}})
    core = deployment.service("avr-core")
    assert core.value("ASR_URL").origin == "wiring"
    assert core.value("ASR_URL").value.startswith("http://avr-asr-deepgram:")
    assert core.value("INTERRUPT_LISTENING").origin == "env"
    asr = deployment.service("avr-asr-deepgram")
    assert asr.value("SPEECH_RECOGNITION_LANGUAGE").origin == "environment.json"
    key = asr.value("DEEPGRAM_API_KEY")
    assert key.origin == "secret" and key.value is None
    assert (key.secret.name, key.secret.kind, key.secret.source, key.secret.given) == \
        ("DEEPGRAM_API_KEY", "provider", "deepgram", True)
    assert deployment.secret_values["DEEPGRAM_API_KEY"] == "dg-marker-0002"
    origins = {v.origin for svc in deployment.services for v in svc.env}
    assert "image" in origins
    assert origins <= {"image", "template", "wiring", "environment.json", "env", "secret", "missing"}


def test_a_missing_value_is_a_placeholder_and_a_missing_secret_a_reference_not_given():
    registry = builtin(NEWEST)
    tpl = registry.templates["openai"]
    deployment = resolve(registry, tpl, Inputs(deployment="d1", allow_missing=True))
    key = deployment.service("avr-llm-openai").value("OPENAI_API_KEY")
    assert key.origin == "missing" and key.value is None and key.placeholder == "OPENAI_API_KEY"
    assert key.secret is not None and not key.secret.given
    assert deployment.secret_values == {}
    assert deployment.providers["openai"] == {"required": True, "present": False}


def test_ports_and_mounts_are_structured():
    deployment = _openai(publish_address="192.0.2.10", management_address="127.0.0.1")
    asterisk = next(svc for svc in deployment.services if svc.role == "asterisk")
    by_container = {port.container: port for port in asterisk.ports}
    rtp = next(port for port in asterisk.ports if port.protocol == "udp")
    assert rtp.size > 1 and rtp.host_range == rtp.container_range
    assert by_container["5038"].management and by_container["5038"].address == "127.0.0.1"
    assert not by_container["5060"].management and by_container["5060"].address == "192.0.2.10"
    assert all(mount.kind == "project" and mount.target.startswith("/etc/asterisk/") for mount in asterisk.mounts)
    assert deployment.network.subnet and deployment.network.name == "avr"


@pytest.mark.parametrize("spec,expected", [
    ("5060:5060", ("5060", "5060", "tcp", None)),
    ("10000-10050:10000-10050/udp", ("10000-10050", "10000-10050", "udp", None)),
    ("127.0.0.1:5038:5038", ("5038", "5038", "tcp", "127.0.0.1")),
    ("[::1]:8088:8088/tcp", ("8088", "8088", "tcp", "::1")),
    ("8080", ("", "8080", "tcp", None)),
])
def test_port_parse(spec, expected):
    port = Port.parse(spec)
    assert (port.host, port.container, port.protocol, port.address) == expected
    assert port.spec == spec


@pytest.mark.parametrize("spec,expected", [
    ("./asterisk/conf/pjsip.conf:/etc/asterisk/my_pjsip.conf", ("project", "/etc/asterisk/my_pjsip.conf", False)),
    ("/var/run/docker.sock:/var/run/docker.sock:ro", ("host", "/var/run/docker.sock", True)),
    ("n8n_data:/home/node/.n8n", ("volume", "/home/node/.n8n", False)),
    ("./db:/var/lib/mysql:rw,z", ("project", "/var/lib/mysql", False)),
])
def test_mount_parse(spec, expected):
    mount = Mount.parse(spec)
    assert (mount.kind, mount.target, mount.read_only) == expected
    assert mount.spec == spec
