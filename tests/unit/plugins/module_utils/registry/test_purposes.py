"""registry/purposes.py: which host-port block each published port of a template is taken from."""

from __future__ import annotations

import json
from typing import Any, Dict, List, Tuple

import pytest

from ansible_collections.voiceops.avr.plugins.module_utils.registry.catalog import effective_registry
from ansible_collections.voiceops.avr.plugins.module_utils.registry.purposes import (
    PURPOSES, port_needs, purpose_of,
)
from ansible_collections.voiceops.avr.plugins.module_utils.registry.registry import builtin
from ansible_collections.voiceops.avr.plugins.plugin_utils.render import Inputs, describe, render


def short(needs: List[Dict[str, Any]]) -> List[Tuple[str, str, str, str, int]]:
    return [(n["service"], n["container"], n["protocol"], n["purpose"], n["size"]) for n in needs]


def test_purposes_in_order_and_which_follow_the_host() -> None:
    assert [p.name for p in PURPOSES] == ["sip", "rtp", "ami", "ari", "core", "web"]
    assert {p.name for p in PURPOSES if p.follows_host} == {"sip", "rtp"}


def test_2026_ultravox_has_ari_twice_and_every_asterisk_purpose() -> None:
    needs = port_needs(builtin("2026.06").template("ultravox"))
    assert short(needs) == [
        ("avr-core", "5001", "tcp", "core", 1),
        ("avr-asterisk", "5038", "tcp", "ami", 1),
        ("avr-asterisk", "5060", "tcp", "sip", 1),
        ("avr-asterisk", "8088", "tcp", "ari", 1),
        ("avr-asterisk", "8089", "tcp", "ari", 1),
        ("avr-asterisk", "10000-10050", "udp", "rtp", 51),
        ("avr-ami", "6006", "tcp", "ami", 1),
        ("avr-phone", "80", "tcp", "web", 1),
    ]
    assert [n["follows_host"] for n in needs] == [False, False, True, False, False, True, False, False]
    assert json.loads(json.dumps(needs)) == needs, "plain JSON data"


def test_2025_app_publishes_web_ports_and_its_template_ports() -> None:
    """The app template overrides Asterisk's ports (no AMI port): the template's ports count, not the image's."""
    assert short(port_needs(builtin("2025.09").template("app"))) == [
        ("avr-app", "3000", "tcp", "web", 1),
        ("avr-app-db", "3306", "tcp", "web", 1),
        ("avr-asterisk", "5060", "tcp", "sip", 1),
        ("avr-asterisk", "10000-10050", "udp", "rtp", 51),
        ("avr-asterisk", "8088", "tcp", "ari", 1),
    ]


@pytest.mark.parametrize("gen", ["2025.09", "2026.06"])
def test_every_template_needs_what_its_bare_render_publishes(gen: str) -> None:
    """Same services, container ports and protocols, in the same order, as the compose file publishes."""
    reg = builtin(gen)
    for tid, tpl in sorted(reg.templates.items()):
        published = describe(render(reg, tpl, Inputs(tid, allow_missing=True)).document)["published"]
        assert [(p["service"], p["container"], p["protocol"]) for p in published] == \
            [(n["service"], n["container"], n["protocol"]) for n in port_needs(tpl)], tid


def test_a_catalog_image_gets_web_and_an_asterisk_range_of_udp_is_rtp() -> None:
    reg = effective_registry({
        "images": [
            {"role": "service", "name": "tenant-agent", "image": "example/agent:1", "ports": [
                "8080:8080", "127.0.0.1:9090:9090", "7000-7002:7000-7002/udp", "5060:5060", "9999"]},
            {"role": "asterisk", "name": "pbx", "image": "example/pbx:1", "ports": [
                "5060:5060/udp", "0.0.0.0:20000-20099:20000-20099/udp", "5038:5038", "30000-30001:30000-30001",
                "7777:7777"]},
        ],
        "templates": [{"id": "agent", "stack": "plain", "images": {"asterisk": "asterisk/pbx"},
                       "extras": ["service/tenant-agent"]}],
    }, "2026.06")
    needs = port_needs(reg.template("agent"))
    assert short(needs) == [  # service order: asterisk, ami, then supporting services
        ("pbx", "5060", "udp", "sip", 1),
        ("pbx", "20000-20099", "udp", "rtp", 100),
        ("pbx", "5038", "tcp", "ami", 1),
        ("pbx", "30000-30001", "tcp", "web", 2),
        ("pbx", "7777", "tcp", "web", 1),
        ("avr-ami", "6006", "tcp", "ami", 1),
        ("tenant-agent", "8080", "tcp", "web", 1),
        ("tenant-agent", "9090", "tcp", "web", 1),
        ("tenant-agent", "7000-7002", "udp", "web", 3),
        ("tenant-agent", "5060", "tcp", "web", 1),
        ("tenant-agent", "9999", "tcp", "web", 1),
    ]
    assert all(set(n) == {"service", "container", "protocol", "purpose", "size", "follows_host", "mounts"}
               for n in needs)
    # the RTP range needs the role's rtp.conf mounted (the image mounts none); no other port needs a mount
    assert [(n["purpose"], n["mounts"]) for n in needs if n["mounts"]] == [
        ("rtp", ["./asterisk/conf/rtp.conf:/etc/asterisk/rtp.conf"])]


def test_an_unset_of_ports_publishes_nothing() -> None:
    reg = effective_registry({"templates": [{"id": "quiet", "stack": "plain", "overrides": {
        "avr-asterisk": {"unset": ["ports"]}, "avr-ami": {"ports": ["16006:6006"]}}}]}, "2026.06")
    assert short(port_needs(reg.template("quiet"))) == [("avr-ami", "6006", "tcp", "ami", 1)]


@pytest.mark.parametrize("role, container, protocol, purpose", [
    ("asterisk", "5060", "udp", "sip"), ("asterisk", "10000-10050", "udp", "rtp"),
    ("asterisk", "10000-10050", "tcp", "web"), ("asterisk", "8089", "tcp", "ari"),
    ("core", "5001", "tcp", "core"), ("core", "9000", "tcp", "core"), ("ami", "6006", "tcp", "ami"),
    ("app", "5060", "tcp", "web"), ("sts", "6033", "tcp", "web"),
])
def test_purpose_of_is_keyed_by_role_and_port(role: Any, container: str, protocol: str, purpose: str) -> None:
    assert purpose_of(role, container, protocol) == purpose


def test_an_image_that_mounts_the_rtp_configuration_itself_needs_no_mount() -> None:
    reg = effective_registry({
        "images": [{"role": "asterisk", "name": "pbx", "image": "example/pbx:1.0.0",
                    "ports": ["10000-10020:10000-10020/udp"],
                    "volumes": ["./conf/rtp.conf:/etc/asterisk/rtp.conf"]}],
        "templates": [{"id": "pbx-only", "stack": "plain", "images": {"asterisk": "asterisk/pbx", "ami": None}}],
    }, "2026.06")
    needs = port_needs(reg.template("pbx-only"))
    assert [(n["purpose"], n["mounts"]) for n in needs] == [("rtp", [])]
