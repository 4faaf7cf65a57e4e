"""voiceops.avr.tenant_needs: the allocation module's tenants list from the role's tenants and their plans."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.voiceops.avr.plugins.filter.tenant_needs import tenant_needs

SIP = {"service": "avr-asterisk", "container": "5060", "protocol": "tcp", "purpose": "sip", "size": 1,
       "follows_host": True}
RTP = {"service": "avr-asterisk", "container": "10000-10050", "protocol": "udp", "purpose": "rtp", "size": 51,
       "follows_host": True}
CORE = {"service": "avr-core", "container": "5001", "protocol": "tcp", "purpose": "core", "size": 1,
        "follows_host": False}
PLANS = {"a": {"port_needs": [SIP, RTP, CORE], "registry_version": "2026.06", "msg": ""}}


def test_keeps_only_the_allocation_keys_and_the_order() -> None:
    tenants = [{"name": "a", "state": "present", "free": False, "template": "openai",
                "secrets": {"X": "not-for-the-allocation"}, "provider_keys": {"openai": "sk-no"}},
               {"name": "b", "state": "absent", "free": True, "secrets": {"X": "no"}}]
    out = tenant_needs(tenants, PLANS)
    assert out == [{"name": "a", "state": "present", "free": False, "ports": [SIP, RTP, CORE]},
                   {"name": "b", "state": "absent", "free": True, "ports": []}]
    assert "not-for-the-allocation" not in repr(out) and "sk-no" not in repr(out)


def test_extra_keys_of_a_need_are_dropped() -> None:
    plans = {"a": {"port_needs": [dict(CORE, host="16001", address="127.0.0.1")]}}
    assert tenant_needs([{"name": "a"}], plans)[0]["ports"] == [CORE]


def test_rtp_ports_sizes_the_rtp_range_only() -> None:
    out = tenant_needs([{"name": "a", "rtp_ports": 20}], PLANS)[0]["ports"]
    assert out == [SIP, dict(RTP, container="10000-10019", size=20), CORE]
    assert tenant_needs([{"name": "a", "rtp_ports": 1}], PLANS)[0]["ports"][1]["container"] == "10000"


@pytest.mark.parametrize("value", [0, -1, 10001, "20", True, 2.5])
def test_rtp_ports_out_of_range_is_refused(value: object) -> None:
    with pytest.raises(AnsibleFilterError, match=r"tenant a: rtp_ports: .* is not a number of ports from 1 to 10000"):
        tenant_needs([{"name": "a", "rtp_ports": value}], PLANS)


@pytest.mark.parametrize("tenants, plans, message", [
    ("a", PLANS, "expected a list of tenants, got str"),
    ({"name": "a"}, PLANS, "expected a list of tenants, got dict"),
    ([{"template": "openai"}], PLANS, r"tenants\[0\]: expected a mapping with a name"),
    ([{"name": "missing"}], PLANS, "tenant missing: no plan with port_needs"),
    ([{"name": "a"}], [], "plans: expected a mapping"),
])
def test_bad_input(tenants: object, plans: object, message: str) -> None:
    with pytest.raises(AnsibleFilterError, match=message):
        tenant_needs(tenants, plans)  # type: ignore[arg-type]
