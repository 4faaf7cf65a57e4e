# -*- coding: utf-8 -*-
# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host ports and subnets of the tenants of one host: the decisions, as pure functions.

The module ``voiceops.avr.tenant_allocation`` reads the allocation file ``<root>/tenants.json`` and
the host's state (listening sockets, ephemeral port range, routes) and calls ``decide``; this module
reads no file and writes nothing, so every rule here can be tested on plain data. Standard library
only (it runs on the managed host).

The allocation file::

    {"schema": 1,
     "tenants": {"<name>": {"subnet": "10.201.0.0/24", "state": "present" | "absent",
                            "ports": [{"service": ..., "container": "5060" | "10000-10050",
                                       "protocol": "tcp" | "udp" | "sctp", "purpose": ..., "size": 1,
                                       "follows_host": false, "host": "H" | "A-B"}, ...]}}}

Every message of ``AllocationError`` is one line naming the field (or the file's entry) and the value.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import bisect
import ipaddress
import json
import re

SCHEMA = 1
FILE_NAME = "tenants.json"
LOCK_NAME = ".tenants.lock"
FILE_MODE = 0o644
ROOT_MODE = 0o755

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
NAME_MAX = 63
PORT_RE = re.compile(r"^([0-9]{1,5})(?:-([0-9]{1,5}))?$")
PROTOCOLS = ("tcp", "udp", "sctp")
STATES = ("present", "absent")
NEED_FIELDS = ("service", "container", "protocol", "purpose", "size", "follows_host", "host")

#: TCP state LISTEN in /proc/net/tcp{,6}
TCP_LISTEN = "0A"


class AllocationError(Exception):
    """A refused input, a damaged allocation file or no room left: one line naming the field and value."""


# -- inputs ---------------------------------------------------------------------------------------


def check_name(field, value):
    if not isinstance(value, str) or not NAME_RE.match(value) or len(value) > NAME_MAX:
        raise AllocationError("%s: %r is not a safe name (lowercase letters, digits, '_' and '-', starting with a "
                              "letter or digit, at most %d characters)" % (field, value, NAME_MAX))
    return value


def parse_range(field, value, require_range=False):
    """``'5060'`` -> (5060, 5060), ``'10000-10050'`` -> (10000, 10050); ports 1..65535, first <= last."""
    match = PORT_RE.match(value) if isinstance(value, str) else None
    if match is None or (require_range and match.group(2) is None):
        raise AllocationError("%s: %r is not %s" % (
            field, value, "a port range 'START-END'" if require_range else "a port or a port range like '10000-10050'"))
    first = int(match.group(1))
    last = int(match.group(2) or first)
    if not 1 <= first <= last <= 65535:
        raise AllocationError("%s: %r is not a range of ports between 1 and 65535 (first <= last)" % (field, value))
    return first, last


def text_range(first, last):
    return "%d" % first if first == last else "%d-%d" % (first, last)


def check_blocks(blocks, ephemeral=None):
    """``{purpose: 'START-END'}`` -> ``{purpose: (start, end)}``; blocks may not overlap each other, and a
    block wholly inside the host's ephemeral range (no port of it could ever be given) is refused."""
    if not isinstance(blocks, dict) or not blocks:
        raise AllocationError("port_blocks: %r is not a mapping of purpose to 'START-END'" % (blocks,))
    parsed = {}
    for purpose in sorted(blocks):
        check_name("port_blocks", purpose)
        parsed[purpose] = parse_range("port_blocks.%s" % purpose, blocks[purpose], require_range=True)
    names = sorted(parsed, key=lambda p: parsed[p])
    for before, after in zip(names, names[1:]):
        if parsed[after][0] <= parsed[before][1]:
            raise AllocationError("port_blocks: %s %r overlaps %s %r" % (
                before, blocks[before], after, blocks[after]))
    if ephemeral is not None:
        for purpose in names:
            first, last = parsed[purpose]
            if ephemeral[0] <= first and last <= ephemeral[1]:
                raise AllocationError(
                    "port_blocks.%s: %r lies wholly inside the host's ephemeral port range %d-%d "
                    "(net.ipv4.ip_local_port_range), so no port of it can be given" % (
                        purpose, blocks[purpose], ephemeral[0], ephemeral[1]))
    return parsed


def check_pool(pool, prefix):
    """The IPv4 network ``pool`` and the prefix length of the subnets taken from it."""
    try:
        network = ipaddress.IPv4Network(pool, strict=True) if isinstance(pool, str) else None
    except ValueError as exc:
        raise AllocationError("subnet_pool: %r is not an IPv4 network (%s)" % (pool, exc)) from None
    if network is None:
        raise AllocationError("subnet_pool: %r is not an IPv4 network like '10.201.0.0/16'" % (pool,))
    if isinstance(prefix, bool) or not isinstance(prefix, int) or not network.prefixlen <= prefix <= 30:
        raise AllocationError("subnet_prefix: %r must be between the pool's prefix length %d and 30"
                              % (prefix, network.prefixlen))
    return network


def check_tenants(tenants, blocks):
    """The listed tenants, checked and completed: the sizes given or derived, every need identified.

    ``tenants`` are dicts with name, state, free and ports (needs with service, container, protocol,
    purpose, size or None, follows_host), as the module's argument spec gives them.
    """
    seen = set()
    out = []
    for index, tenant in enumerate(tenants):
        name = check_name("tenants[%d].name" % index, tenant.get("name"))
        if name in seen:
            raise AllocationError("tenants[%d].name: %r is listed twice" % (index, name))
        seen.add(name)
        state = tenant.get("state") or "present"
        if state not in STATES:
            raise AllocationError("tenants[%d].state: %r is not one of %s" % (index, state, ", ".join(STATES)))
        needs = []
        keys = set()
        for number, need in enumerate(tenant.get("ports") or []):
            field = "tenants[%d].ports[%d]" % (index, number)
            service = check_name(field + ".service", need.get("service"))
            container = need.get("container")
            first, last = parse_range(field + ".container", container)
            protocol = need.get("protocol") or "tcp"
            if protocol not in PROTOCOLS:
                raise AllocationError("%s.protocol: %r is not one of %s" % (field, protocol, ", ".join(PROTOCOLS)))
            purpose = need.get("purpose")
            if purpose not in blocks:
                raise AllocationError("%s.purpose: %r is not a purpose of port_blocks (%s)" % (
                    field, purpose, ", ".join(sorted(blocks))))
            follows = bool(need.get("follows_host"))
            size = need.get("size")
            count = last - first + 1
            if size is None:
                size = count
            if isinstance(size, bool) or not isinstance(size, int) or size < 1:
                raise AllocationError("%s.size: %r is not a whole number of ports >= 1" % (field, size))
            if not follows and size != count:
                raise AllocationError(
                    "%s.size: %r does not match container %r (%d port%s); a host range maps onto a container "
                    "range of the same size unless follows_host is true" % (
                        field, size, container, count, "" if count == 1 else "s"))
            key = (service, text_range(first, last), protocol)
            if key in keys:
                raise AllocationError("%s: service %r container %r protocol %r is listed twice for tenant %r" % (
                    field, service, container, protocol, name))
            keys.add(key)
            needs.append({"service": service, "container": key[1], "protocol": protocol, "purpose": purpose,
                          "size": size, "follows_host": follows})
        out.append({"name": name, "state": state, "free": bool(tenant.get("free")), "ports": needs})
    return out


# -- the host -------------------------------------------------------------------------------------


def held_ports(tables):
    """Port numbers bound on the host, from the text of /proc/net tables ``{'tcp': text, 'udp6': text, ...}``.

    TCP sockets count when listening, UDP sockets and SCTP endpoints (``sctp/eps``) whenever bound; any
    address, any protocol (a port bound for UDP is not given for TCP either)."""
    ports = set()
    for table, text in tables.items():
        for line in (text or "").splitlines()[1:]:
            fields = line.split()
            if table.startswith("sctp"):
                # ENDPT SOCK STY SST HBKT LPORT UID INODE LADDRS: the local port in decimal
                if len(fields) > 5 and fields[5].isdigit() and int(fields[5]):
                    ports.add(int(fields[5]))
                continue
            if len(fields) < 4 or ":" not in fields[1]:
                continue
            if table.startswith("tcp") and fields[3].upper() != TCP_LISTEN:
                continue
            try:
                port = int(fields[1].rsplit(":", 1)[1], 16)
            except ValueError:
                continue
            if port:
                ports.add(port)
    return ports


def ephemeral_range(text):
    """The ephemeral range from the text of /proc/sys/net/ipv4/ip_local_port_range, or None."""
    try:
        first, last = (int(x) for x in (text or "").split())
    except ValueError:
        return None
    return (first, last) if first <= last else None


def routes(text):
    """The IPv4 networks of the host's routes (the text of /proc/net/route), without the default route."""
    out = []
    for line in (text or "").splitlines()[1:]:
        fields = line.split()
        if len(fields) < 8:
            continue
        try:
            dest = ipaddress.IPv4Address(bytes(reversed(bytes.fromhex(fields[1]))))
            mask = ipaddress.IPv4Address(bytes(reversed(bytes.fromhex(fields[7]))))
            network = ipaddress.IPv4Network("%s/%s" % (dest, mask), strict=False)
        except ValueError:
            continue
        if network.prefixlen:
            out.append(network)
    return out


# -- the allocation file --------------------------------------------------------------------------


def empty():
    return {"schema": SCHEMA, "tenants": {}}


def dump(state):
    """The file's text: JSON, sorted keys, indent 2, a trailing newline."""
    return json.dumps(state, sort_keys=True, indent=2) + "\n"


def _bad(path, where, value, problem):
    return AllocationError("%s: %s %r %s; fix or remove the file" % (path, where, value, problem))


def load(text, path):
    """The allocation file's content, checked: its shape, and never two tenants on one port or subnet."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise AllocationError("%s: not JSON (%s); fix or remove the file" % (path, exc)) from None
    if not isinstance(data, dict) or not isinstance(data.get("tenants"), dict):
        raise AllocationError("%s: not an allocation file (an object with 'schema' and 'tenants'); "
                              "fix or remove the file" % path)
    if data.get("schema") != SCHEMA:
        raise AllocationError("%s: schema %r is not %d, the one this collection reads" % (
            path, data.get("schema"), SCHEMA))
    owners = []  # (first, last, tenant, index)
    subnets = []
    for name in sorted(data["tenants"]):
        entry = data["tenants"][name]
        where = "tenants.%s" % name
        if not isinstance(name, str) or not NAME_RE.match(name) or len(name) > NAME_MAX:
            raise _bad(path, "tenant name", name, "is not a safe name")
        if not isinstance(entry, dict) or set(entry) != {"subnet", "state", "ports"}:
            raise _bad(path, where, entry if not isinstance(entry, dict) else sorted(entry),
                       "is not an object with subnet, state and ports")
        if entry["state"] not in STATES:
            raise _bad(path, where + ".state", entry["state"], "is not present or absent")
        try:
            subnet = ipaddress.IPv4Network(entry["subnet"], strict=True)
        except (ValueError, TypeError):
            raise _bad(path, where + ".subnet", entry["subnet"], "is not an IPv4 network") from None
        subnets.append((subnet, name))
        if not isinstance(entry["ports"], list):
            raise _bad(path, where + ".ports", entry["ports"], "is not a list")
        keys = set()
        for index, port in enumerate(entry["ports"]):
            field = "%s.ports[%d]" % (where, index)
            if not isinstance(port, dict) or set(port) != set(NEED_FIELDS):
                raise _bad(path, field, port, "does not have exactly the fields %s" % ", ".join(NEED_FIELDS))
            try:
                check_name("service", port["service"])
                check_name("purpose", port["purpose"])
                container = parse_range("container", port["container"])
                first, last = parse_range("host", port["host"])
            except AllocationError as exc:
                raise _bad(path, field, port, "is not valid (%s)" % exc) from None
            if port["protocol"] not in PROTOCOLS or not isinstance(port["follows_host"], bool) \
                    or isinstance(port["size"], bool) or port["size"] != last - first + 1 \
                    or (not port["follows_host"] and container[1] - container[0] != last - first):
                raise _bad(path, field, port, "is not valid (protocol, follows_host, or a size that is not "
                                              "the host range's)")
            key = (port["service"], port["container"], port["protocol"])
            if key in keys:
                raise _bad(path, field, port, "is recorded twice for the tenant")
            keys.add(key)
            owners.append((first, last, name, index))
    owners.sort()
    for (first, last, name, index), (nfirst, nlast, nname, nindex) in zip(owners, owners[1:]):
        if nfirst <= last:
            raise AllocationError("%s: tenants %s (ports[%d], %s) and %s (ports[%d], %s) hold the same host "
                                  "ports; fix or remove the file" % (path, name, index, text_range(first, last),
                                                                     nname, nindex, text_range(nfirst, nlast)))
    subnets.sort()
    widest = None  # the subnet reaching furthest so far, in address order
    for subnet, name in subnets:
        if widest is not None and subnet.network_address <= widest[0].broadcast_address:
            raise AllocationError("%s: tenants %s (%s) and %s (%s) hold overlapping subnets; fix or remove "
                                  "the file" % (path, widest[1], widest[0], name, subnet))
        if widest is None or subnet.broadcast_address > widest[0].broadcast_address:
            widest = (subnet, name)
    return data


# -- decisions ------------------------------------------------------------------------------------


def lowest_run(first, last, size, busy):
    """The first port of the lowest run of ``size`` ports in first..last for which ``busy`` is false."""
    start = first
    while start + size - 1 <= last:
        for port in range(start + size - 1, start - 1, -1):
            if busy(port):
                start = port + 1
                break
        else:
            return start
    return None


class Disjoint(object):
    """Disjoint IPv4 networks as sorted address intervals: whether a network overlaps one, in log time."""

    def __init__(self, networks=()):
        self.starts, self.ends = [], []
        for network in networks:
            self.add(network)

    def overlaps(self, network):
        first, last = int(network.network_address), int(network.broadcast_address)
        index = bisect.bisect_right(self.starts, last) - 1
        return index >= 0 and self.ends[index] >= first

    def add(self, network):
        first = int(network.network_address)
        index = bisect.bisect_right(self.starts, first)
        self.starts.insert(index, first)
        self.ends.insert(index, int(network.broadcast_address))


def _identity(need):
    return (need["service"], need["container"], need["protocol"])


def decide(current, tenants, blocks, blocks_text, pool, prefix, held=(), ephemeral=None, host_routes=()):
    """The new allocation file's content for the checked ``tenants``, with the names added and freed.

    ``current`` is the loaded file (not changed). Tenants are taken in list order; a recorded tenant
    keeps its subnet and every recorded need's host ports. Ports or subnets freed in this run are not
    given to another tenant in the same run (their containers may still hold them).
    """
    state = json.loads(json.dumps(current))
    recorded = state["tenants"]
    taken = set()
    for entry in recorded.values():
        for port in entry["ports"]:
            first, last = parse_range("host", port["host"])
            taken.update(range(first, last + 1))
    used_subnets = Disjoint(ipaddress.IPv4Network(entry["subnet"]) for entry in recorded.values())
    candidates = pool.subnets(new_prefix=prefix)  # one pass for the whole run: a subnet passed over stays taken
    held = set(held)

    def busy(port):
        return port in taken or port in held or (ephemeral is not None and ephemeral[0] <= port <= ephemeral[1])

    added, freed = [], []
    floors = {}
    for tenant in tenants:
        name = tenant["name"]
        entry = recorded.get(name)
        if tenant["state"] == "absent":
            if entry is None:
                continue
            if tenant["free"]:
                del recorded[name]
                freed.append(name)
            else:
                entry["state"] = "absent"
            continue
        if entry is None:
            subnet = None
            for candidate in candidates:
                if used_subnets.overlaps(candidate) or any(candidate.overlaps(route) for route in host_routes):
                    continue
                subnet = candidate
                break
            if subnet is None:
                raise AllocationError("tenants: no /%d subnet of subnet_pool %s is left for tenant %r (every one is "
                                      "a tenant's or overlaps a route of the host)" % (prefix, pool, name))
            used_subnets.add(subnet)
            entry = recorded[name] = {"subnet": str(subnet), "state": "present", "ports": []}
            added.append(name)
        entry["state"] = "present"
        listed = set(_identity(need) for need in tenant["ports"])
        by_key = dict((_identity(port), port) for port in entry["ports"])
        for need in tenant["ports"]:
            port = by_key.get(_identity(need))
            if port is not None and port["purpose"] == need["purpose"] and port["size"] == need["size"]:
                port["follows_host"] = need["follows_host"]
                continue
            first, last = blocks[need["purpose"]]
            # below the block's floor every port is busy (busy ports only grow in a run): start there
            floor = floors.get(need["purpose"], first)
            while floor <= last and busy(floor):
                floor += 1
            floors[need["purpose"]] = floor
            start = lowest_run(floor, last, need["size"], busy)
            if start is None:
                raise AllocationError(
                    "tenants: no room for tenant %r, service %r, container port %s/%s: %d free consecutive "
                    "port%s of purpose %r wanted in port block %s (every other port there is a tenant's, held on "
                    "the host or in its ephemeral range)" % (
                        name, need["service"], need["container"], need["protocol"], need["size"],
                        "" if need["size"] == 1 else "s", need["purpose"], blocks_text[need["purpose"]]))
            taken.update(range(start, start + need["size"]))
            new = dict(need, host=text_range(start, start + need["size"] - 1))
            if port is not None:  # its purpose or size changed: new host ports, in the same place
                entry["ports"][entry["ports"].index(port)] = new
            else:
                entry["ports"].append(new)
        if tenant["free"]:
            entry["ports"] = [port for port in entry["ports"] if _identity(port) in listed]
    return state, added, freed


def spec(port):
    """The compose published-port spec of a recorded need: ``H:H``/``A-B:A-B`` when it follows the host
    (the service is configured with its host ports), else ``H:C``/``A-B:C-D``; ``/udp`` or ``/sctp``."""
    container = port["host"] if port["follows_host"] else port["container"]
    suffix = "" if port["protocol"] == "tcp" else "/" + port["protocol"]
    return "%s:%s%s" % (port["host"], container, suffix)


def view(state, tenants):
    """What the module returns per listed tenant: subnet, state, ports per service, needs per purpose."""
    out = {}
    for tenant in tenants:
        entry = state["tenants"].get(tenant["name"])
        result = {"subnet": None, "state": tenant["state"], "ports": {}, "by_purpose": {}}
        out[tenant["name"]] = result
        if entry is None:
            continue
        result["subnet"] = entry["subnet"]
        result["state"] = entry["state"]
        by_key = dict((_identity(port), port) for port in entry["ports"])
        for need in tenant["ports"]:
            port = by_key.get(_identity(need))
            if port is None:
                continue
            result["ports"].setdefault(port["service"], []).append(spec(port))
            first, last = parse_range("host", port["host"])
            result["by_purpose"].setdefault(port["purpose"], []).append({
                "service": port["service"], "container": port["container"], "protocol": port["protocol"],
                "host_start": first, "host_end": last})
    return out
