"""module_utils/allocation.py: the pure parts (the host's /proc tables read, runs of free ports, specs, decisions)."""

from __future__ import annotations

import ipaddress

import pytest

from ansible_collections.voiceops.avr.plugins.module_utils import allocation as alloc

TCP = """  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:13C4 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0
   1: 0100007F:1F90 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 2 1 0 20 4 30 10 -1
"""
TCP6 = """  sl  local_address                         remote_address                        st tx_queue rx_queue
   0: 00000000000000000000000000000000:1388 00000000000000000000000000000000:0000 0A 00000000:00000000
"""
UDP = """   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
  12: 0100007F:2710 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 3 2 0 0
"""
SCTP = """ ENDPT     SOCK   STY SST HBKT LPORT   UID INODE LADDRS
ffff8a0c 0000ffff 2   10  29   3868      0 12345 0.0.0.0
"""
ROUTE = """Iface	Destination	Gateway 	Flags	RefCnt	Use	Metric	Mask		MTU	Window	IRTT
eth0	00000000	010200C0	0003	0	0	0	00000000	0	0	0
docker0	000011AC	00000000	0001	0	0	0	0000FFFF	0	0	0
br-x	0001C90A	00000000	0001	0	0	0	00FFFFFF	0	0	0
"""


def test_held_ports_are_tcp_listeners_and_bound_udp_sockets_of_any_address() -> None:
    # 5060 (0x13C4) listening, 8080 (0x1F90) only connected, 5000 (0x1388) listening on IPv6, 10000 (0x2710) UDP
    assert alloc.held_ports({"tcp": TCP, "tcp6": TCP6, "udp": UDP, "udp6": ""}) == {5060, 5000, 10000}
    assert alloc.held_ports({"sctp/eps": SCTP}) == {3868}


def test_routes_are_read_without_the_default_route() -> None:
    assert alloc.routes(ROUTE) == [ipaddress.ip_network("172.17.0.0/16"), ipaddress.ip_network("10.201.1.0/24")]


def test_ephemeral_range() -> None:
    assert alloc.ephemeral_range("32768\t60999\n") == (32768, 60999)
    assert alloc.ephemeral_range("") is None


@pytest.mark.parametrize("busy, size, expected", [
    (set(), 3, 10), ({10}, 3, 11), ({12}, 3, 13), ({11, 15}, 3, 12), ({11, 14, 17}, 3, 18),
    ({11, 14, 17, 19}, 3, None), ({10}, 11, None),
])
def test_lowest_run_of_free_ports(busy: set, size: int, expected: object) -> None:
    assert alloc.lowest_run(10, 20, size, busy.__contains__) == expected


@pytest.mark.parametrize("port, expected", [
    ({"host": "5061", "container": "5060", "protocol": "tcp", "follows_host": True}, "5061:5061"),
    ({"host": "5061", "container": "5060", "protocol": "tcp", "follows_host": False}, "5061:5060"),
    ({"host": "20000-20099", "container": "10000-10050", "protocol": "udp", "follows_host": True},
     "20000-20099:20000-20099/udp"),
    ({"host": "20000-20050", "container": "10000-10050", "protocol": "udp", "follows_host": False},
     "20000-20050:10000-10050/udp"),
    ({"host": "3868", "container": "3868", "protocol": "sctp", "follows_host": False}, "3868:3868/sctp"),
])
def test_published_specs(port: dict, expected: str) -> None:
    assert alloc.spec(port) == expected


def _decide(current: dict, names: list, held: set = frozenset(), ephemeral: object = None, routes: tuple = ()) -> tuple:
    text = {"sip": "5060-5069"}
    blocks = alloc.check_blocks(text)
    need = {"service": "avr-asterisk", "container": "5060", "protocol": "tcp", "purpose": "sip", "follows_host": True}
    tenants = alloc.check_tenants([{"name": n, "ports": [need]} for n in names], blocks)
    return alloc.decide(current, tenants, blocks, text, alloc.check_pool("10.201.0.0/16", 24), 24, held, ephemeral,
                        routes)


def test_a_subnet_on_a_route_and_a_held_port_are_passed_over() -> None:
    route = ipaddress.ip_network("10.201.0.0/23")
    state, added, _freed = _decide(alloc.empty(), ["a", "b"], held={5060}, routes=(route,))
    assert added == ["a", "b"]
    assert [state["tenants"][n]["subnet"] for n in "ab"] == ["10.201.2.0/24", "10.201.3.0/24"]
    assert [state["tenants"][n]["ports"][0]["host"] for n in "ab"] == ["5061", "5062"]


def test_a_recorded_tenant_keeps_its_ports_though_the_host_now_holds_them() -> None:
    state, _added, _freed = _decide(alloc.empty(), ["a"])
    again, added, _freed = _decide(state, ["a", "b"], held={5060, 5061})
    assert again["tenants"]["a"] == state["tenants"]["a"] and added == ["b"]
    assert again["tenants"]["b"]["ports"][0]["host"] == "5062"
    # the file round-trips
    assert alloc.load(alloc.dump(again), "tenants.json") == again
