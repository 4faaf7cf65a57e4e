# -*- coding: utf-8 -*-
# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
name: tenant_needs
short_description: The host ports every tenant needs, as voiceops.avr.tenant_allocation takes them
version_added: 0.6.0
description:
  - Takes the role's tenants (each with C(name), C(state), C(free) and optionally C(rtp_ports)) and the
    RV(voiceops.avr.voice_compose#module:port_needs) of each present tenant's plan, and returns the
    O(voiceops.avr.tenant_allocation#module:tenants) list, in the tenants' order.
  - Only the allocation's own keys are kept, so no template, env, key or secret of a tenant reaches the
    allocation module.
  - C(rtp_ports) sets the size of a tenant's RTP range (a port need of purpose C(rtp) whose container
    port follows the host port), so many tenants fit in the RTP block.
author:
  - voiceops.avr contributors
options:
  _input:
    description: The tenants, each a mapping with C(name) and C(state) (V(present) or V(absent)).
    type: list
    elements: dict
    required: true
  plans:
    description: Tenant name to the result of its plan (a mapping with C(port_needs)); absent tenants need none.
    type: dict
    required: true
"""

EXAMPLES = r"""
---
- name: Allocate host ports and subnets for the tenants
  voiceops.avr.tenant_allocation:
    root: /srv/avr
    tenants: "{{ tenants | voiceops.avr.tenant_needs(plans) }}"
    port_blocks: {sip: 5060-5259, rtp: 20000-29999, ami: 15038-15237, ari: 18088-18287, core: 16001-16200,
                  web: 8080-8279}
"""

RETURN = r"""
---
_value:
  description: One C({name, state, free, ports}) per tenant, C(ports) being its port needs.
  type: list
  elements: dict
"""

from typing import Any, Dict, List, Mapping, Sequence

from ansible.errors import AnsibleFilterError

from ansible_collections.voiceops.avr.plugins.module_utils.registry.catalog import type_name

#: The keys of a port need (voiceops.avr.voice_compose port_needs, voiceops.avr.tenant_allocation tenants[].ports).
NEED_KEYS = ("service", "container", "protocol", "purpose", "size", "follows_host")


def _fail(message: str) -> AnsibleFilterError:
    return AnsibleFilterError("voiceops.avr.tenant_needs: %s" % message)


def _rtp(need: Dict[str, Any], ports: Any, name: str) -> Dict[str, Any]:
    """``need`` with a range of ``ports`` ports when it is a tenant's RTP range (its container follows the host)."""
    if ports is None or need.get("purpose") != "rtp" or not need.get("follows_host"):
        return need
    if isinstance(ports, bool) or not isinstance(ports, int) or not 1 <= ports <= 10000:
        raise _fail("tenant %s: rtp_ports: %r is not a number of ports from 1 to 10000" % (name, ports))
    start = int(str(need["container"]).split("-", 1)[0])
    container = str(start) if ports == 1 else "%d-%d" % (start, start + ports - 1)
    return dict(need, container=container, size=ports)


def tenant_needs(tenants: Sequence[Mapping[str, Any]], plans: Mapping[str, Any]) -> List[Dict[str, Any]]:
    if isinstance(tenants, (str, Mapping)) or not isinstance(tenants, Sequence):
        raise _fail("expected a list of tenants, got %s" % type_name(tenants))
    if not isinstance(plans, Mapping):
        raise _fail("plans: expected a mapping of tenant name to its plan, got %s" % type_name(plans))
    out = []
    for index, tenant in enumerate(tenants):
        if not isinstance(tenant, Mapping) or not isinstance(tenant.get("name"), str):
            raise _fail("tenants[%d]: expected a mapping with a name, got %s" % (index, type_name(tenant)))
        name = tenant["name"]
        state = tenant.get("state", "present")
        needs: List[Dict[str, Any]] = []
        if state == "present":
            plan = plans.get(name)
            if not isinstance(plan, Mapping) or not isinstance(plan.get("port_needs"), list):
                raise _fail("tenant %s: no plan with port_needs" % name)
            for need in plan["port_needs"]:
                kept = {key: need[key] for key in NEED_KEYS if key in need}
                needs.append(_rtp(kept, tenant.get("rtp_ports"), name))
        out.append({"name": name, "state": state, "free": bool(tenant.get("free", False)), "ports": needs})
    return out


class FilterModule(object):
    def filters(self) -> Dict[str, Any]:
        return {"tenant_needs": tenant_needs}
