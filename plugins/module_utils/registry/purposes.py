# -*- coding: utf-8 -*-
# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Port purposes: which block of host ports a published port of a template is taken from.

When several tenants share one host, each published port of a tenant's template gets a host port
from the block of its purpose (SIP, the RTP range, AMI, ARI, core, web). The purpose is registry
data: decided by the service's role and the container port, never by an image's name, and the same
in every generation.

It is not part of the registry snapshot (``Registry.snapshot``) and so not of the digest: a purpose
only decides the block a new allocation is taken from, and the allocation is recorded on the host;
a recorded allocation renders the same compose file whatever this table says later, so changing it
does not change what an existing deployment renders.

``follows_host``: the container port equals the host port. True for SIP and RTP, because the stack
role renders Asterisk's configuration (pjsip bind and external_signaling_port, rtp.conf) from the
allocated numbers; for the other purposes only the host side moves.

``mounts``: configuration files the service must mount for its container port to follow the host port,
when its image does not mount them already: the AVR examples mount pjsip.conf but not rtp.conf (the
image's own rtp.conf says 10000-10050), so a tenant's RTP range needs the role's rtp.conf mounted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Tuple

from .model import PORT_SPEC_RE, Image, Role, Template


@dataclass(frozen=True)
class Purpose:
    name: str
    follows_host: bool
    description: str
    #: mounts (SOURCE:TARGET, a project file) a service needs for its port of this purpose to follow the host
    mounts: Tuple[str, ...] = ()


#: Every purpose, in the order the host-port blocks are listed.
PURPOSES: Tuple[Purpose, ...] = (
    Purpose("sip", True, "Asterisk's SIP signalling port (pjsip binds and advertises the allocated port)"),
    Purpose("rtp", True, "Asterisk's RTP media range (rtp.conf takes the allocated range)",
            mounts=("./asterisk/conf/rtp.conf:/etc/asterisk/rtp.conf",)),
    Purpose("ami", False, "Asterisk Manager Interface, and the AMI service"),
    Purpose("ari", False, "Asterisk REST Interface (HTTP and HTTPS)"),
    Purpose("core", False, "the core service"),
    Purpose("web", False, "any other published port: web UIs, apps, databases, supporting services"),
)

BY_NAME: Mapping[str, Purpose] = {purpose.name: purpose for purpose in PURPOSES}

#: (role, container port) -> purpose, for a single port of any protocol.
PORT_PURPOSES: Mapping[Tuple[Role, str], str] = {
    ("asterisk", "5060"): "sip",
    ("asterisk", "5038"): "ami",
    ("asterisk", "8088"): "ari",
    ("asterisk", "8089"): "ari",
}

#: (role, protocol) -> purpose of a port RANGE of that protocol (any range: an image may publish another one).
RANGE_PURPOSES: Mapping[Tuple[Role, str], str] = {
    ("asterisk", "udp"): "rtp",
}

#: role -> purpose of the role's other ports.
ROLE_PURPOSES: Mapping[Role, str] = {
    "core": "core",
    "ami": "ami",
}

#: The purpose of any port the tables above do not name.
DEFAULT_PURPOSE = "web"

_CONTAINER_ONLY = re.compile(r"^(?P<container>[0-9]+(?:-[0-9]+)?)(?P<proto>/(?:tcp|udp|sctp))?$")


def purpose_of(role: Role, container: str, protocol: str) -> str:
    """The purpose of container port (or range) ``container``/``protocol`` of a service of ``role``."""
    if "-" in container:
        found = RANGE_PURPOSES.get((role, protocol))
        if found is not None:
            return found
    found = PORT_PURPOSES.get((role, container))
    if found is not None:
        return found
    return ROLE_PURPOSES.get(role, DEFAULT_PURPOSE)


def _size(container: str) -> int:
    first, last = container.partition("-")[::2]
    return int(last) - int(first) + 1 if last else 1


def _parse(spec: str) -> Optional[Tuple[str, str]]:
    """(container, protocol) of a published-port spec: [ADDRESS:]HOST:CONTAINER[/proto], or CONTAINER[/proto]."""
    match = PORT_SPEC_RE.fullmatch(spec) or _CONTAINER_ONLY.fullmatch(spec)
    if match is None:
        return None
    return match.group("container"), (match.group("proto") or "/tcp")[1:]


def port_need(img: Image, spec: str) -> Optional[Dict[str, Any]]:
    """What published port ``spec`` of ``img`` needs from the host (None for a spec that is not a port)."""
    parsed = _parse(spec)
    if parsed is None:
        return None
    container, protocol = parsed
    purpose = BY_NAME[purpose_of(img.role, container, protocol)]
    mounts = [spec for spec in purpose.mounts if spec.split(":", 1)[1] not in {v.split(":")[1] for v in img.volumes}]
    return {"service": img.service_name, "container": container, "protocol": protocol, "purpose": purpose.name,
            "size": _size(container), "follows_host": purpose.follows_host, "mounts": mounts}


def port_needs(template: Template) -> List[Dict[str, Any]]:
    """One entry per port ``template`` publishes (image or template ports, minus an unset), in service order
    then port order: ``{service, container, protocol, purpose, size, follows_host, mounts}`` (plain JSON data;
    ``mounts``: what the service must mount for the port to follow the host, see ``Purpose.mounts``).

    ``service`` is the registry service name (the key the ``ports`` option of voice_compose takes); an
    address part of a spec is left out (the address comes from publish_address/management_address).
    """
    needs = []
    for img in template.images:
        for spec in template.published_ports(img):
            need = port_need(img, spec)
            if need is not None:
                needs.append(need)
    return needs


__all__ = ["PURPOSES", "Purpose", "port_needs", "purpose_of"]
