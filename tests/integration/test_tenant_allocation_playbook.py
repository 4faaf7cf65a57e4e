"""voiceops.avr.tenant_allocation for real: ansible-playbook on localhost (or the module run as Ansible's
debug runner does, for concurrent and killed runs), the root under tmp_path, the host's real sockets,
ephemeral port range and routes; judged by the result and by the files on disk."""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import hashlib
import ipaddress
import json
import os
import select
import signal
import socket
import stat
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pytest

from test_playbooks import Ansible, Run  # the harness of the playbook tests (same directory)

ROOT_DIR = Path(__file__).resolve().parents[2]
MODULE = ROOT_DIR / "plugins" / "modules" / "tenant_allocation.py"
PLAYBOOK = "tenant_allocation.yml"
# ranges below the usual ephemeral range (32768-60999) that nothing of the tests' host publishes
BLOCKS = {"sip": "23000-23199", "rtp": "24000-25999", "ami": "26000-26199", "web": "27000-27199"}
POOL = "10.231.0.0/16"


@pytest.fixture
def ansible(tmp_path: Path, collections_path: Path) -> Ansible:
    return Ansible(tmp_path / "ansible", collections_path)


def needs(rtp: int = 100) -> List[Dict[str, Any]]:
    return [
        {"service": "avr-asterisk", "container": "5060", "protocol": "tcp", "purpose": "sip", "follows_host": True},
        {"service": "avr-asterisk", "container": "10000-10050", "protocol": "udp", "purpose": "rtp", "size": rtp,
         "follows_host": True},
        {"service": "avr-asterisk", "container": "5038", "protocol": "tcp", "purpose": "ami"},
        {"service": "avr-core", "container": "6001", "protocol": "tcp", "purpose": "web"},
    ]


def tenant(name: str, **extra: Any) -> Dict[str, Any]:
    return dict({"name": name, "ports": needs()}, **extra)


def options(root: Path, tenants: List[Dict[str, Any]], blocks: Optional[Dict[str, str]] = None,
            **extra: Any) -> Dict[str, Any]:
    return dict({"root": str(root), "tenants": tenants, "port_blocks": blocks or BLOCKS, "subnet_pool": POOL}, **extra)


def allocate(ansible: Ansible, root: Path, tenants: List[Dict[str, Any]], blocks: Optional[Dict[str, str]] = None,
             check: bool = False, diff: bool = False, fails: bool = False, **extra: Any) -> Dict[str, Any]:
    run: Run = ansible.run(PLAYBOOK, {"alloc": options(root, tenants, blocks, **extra)}, check=check, diff=diff)
    result = run.task("Allocate")
    if fails:
        assert run.rc != 0 and result.get("failed"), str(run)
    else:
        assert run.rc == 0 and not result.get("failed"), str(run)
    return result


def recorded(root: Path) -> Dict[str, Any]:
    return dict(json.loads((root / "tenants.json").read_text())["tenants"])


def tree(root: Path) -> Dict[str, Tuple[str, int, str]]:
    """Every path below ``root`` (and root itself): sha256 or link target, mtime_ns, mode."""
    out: Dict[str, Tuple[str, int, str]] = {}
    if not root.exists():
        return out
    for path in [root] + sorted(root.rglob("*")):
        st = path.lstat()
        if stat.S_ISLNK(st.st_mode):
            what = "-> " + os.readlink(path)
        elif stat.S_ISREG(st.st_mode):
            what = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            what = "dir"
        out[str(path.relative_to(root))] = (what, st.st_mtime_ns, "%04o" % stat.S_IMODE(st.st_mode))
    return out


def hosts(entry: Dict[str, Any]) -> List[int]:
    out = []
    for port in entry["ports"]:
        first, _sep, last = port["host"].partition("-")
        out.extend(range(int(first), int(last or first) + 1))
    return out


def assert_disjoint(entries: Dict[str, Any]) -> None:
    ports = [p for entry in entries.values() for p in hosts(entry)]
    assert len(ports) == len(set(ports)), "two tenants (or needs) share a host port: %s" % entries
    nets = [ipaddress.ip_network(entry["subnet"]) for entry in entries.values()]
    for i, net in enumerate(nets):
        assert net.subnet_of(ipaddress.ip_network(POOL)), net
        for other in nets[i + 1:]:
            assert not net.overlaps(other), (net, other)


# -- allocation and stability -----------------------------------------------------------------------


def test_three_tenants_then_a_fourth_moves_nothing_and_a_rerun_changes_nothing(
        ansible: Ansible, tmp_path: Path) -> None:
    root = tmp_path / "srv"
    first = allocate(ansible, root, [tenant("a"), tenant("b"), tenant("c")])
    assert first["changed"] is True and first["added"] == ["a", "b", "c"] and first["freed"] == []
    text = (root / "tenants.json").read_text()
    data = json.loads(text)
    assert text == json.dumps(data, sort_keys=True, indent=2) + "\n", "not sorted keys, indent 2, trailing newline"
    assert data["schema"] == 1 and stat.S_IMODE((root / "tenants.json").stat().st_mode) == 0o644
    assert stat.S_IMODE(root.stat().st_mode) == 0o755
    entries = data["tenants"]
    assert_disjoint(entries)
    # the lowest free runs, in list order; a tenant's own needs never share a port either
    assert [entries[n]["subnet"] for n in "abc"] == ["10.231.0.0/24", "10.231.1.0/24", "10.231.2.0/24"]
    assert first["tenants"]["a"]["ports"] == {"avr-asterisk": ["23000:23000", "24000-24099:24000-24099/udp",
                                                               "26000:5038"], "avr-core": ["27000:6001"]}
    assert first["tenants"]["c"]["ports"] == {"avr-asterisk": ["23002:23002", "24200-24299:24200-24299/udp",
                                                               "26002:5038"], "avr-core": ["27002:6001"]}
    assert first["tenants"]["b"]["by_purpose"]["rtp"] == [{"service": "avr-asterisk", "container": "10000-10050",
                                                           "protocol": "udp", "host_start": 24100, "host_end": 24199}]
    assert [p["service"] for p in entries["a"]["ports"]] == ["avr-asterisk"] * 3 + ["avr-core"]  # need order

    fourth = allocate(ansible, root, [tenant("a"), tenant("b"), tenant("c"), tenant("d")])
    assert fourth["changed"] is True and fourth["added"] == ["d"]
    after = recorded(root)
    assert {n: after[n] for n in "abc"} == entries, "adding a tenant changed the first three's entries"
    assert_disjoint(after)
    assert fourth["tenants"]["a"] == first["tenants"]["a"]

    before = tree(root)
    again = allocate(ansible, root, [tenant("a"), tenant("b"), tenant("c"), tenant("d")])
    assert again["changed"] is False and again["added"] == [] and again["tenants"] == fourth["tenants"]
    assert tree(root) == before, "an unchanged re-run rewrote the file (or touched the root)"


def test_a_new_need_of_a_recorded_tenant_is_appended_and_an_unlisted_one_stays_reserved_until_freed(
        ansible: Ansible, tmp_path: Path) -> None:
    root = tmp_path / "srv"
    allocate(ansible, root, [tenant("a")])
    old = recorded(root)["a"]
    extra = {"service": "avr-phone", "container": "8080", "protocol": "tcp", "purpose": "web"}
    grown = allocate(ansible, root, [{"name": "a", "ports": needs() + [extra]}])
    entry = recorded(root)["a"]
    assert entry["ports"][:4] == old["ports"] and entry["ports"][4]["host"] == "27001"
    assert grown["tenants"]["a"]["ports"]["avr-phone"] == ["27001:8080"]
    # no longer listed: kept (reserved) and not returned
    shrunk = allocate(ansible, root, [{"name": "a", "ports": needs()}, tenant("b")])
    assert recorded(root)["a"] == entry and "avr-phone" not in shrunk["tenants"]["a"]["ports"]
    assert shrunk["tenants"]["b"]["ports"]["avr-core"] == ["27002:6001"], "b got a port a still reserves"
    freed = allocate(ansible, root, [{"name": "a", "ports": needs(), "free": True}])
    assert recorded(root)["a"]["ports"] == old["ports"] and freed["changed"] is True


def test_absent_keeps_the_allocation_and_absent_free_frees_it_for_a_later_tenant(
        ansible: Ansible, tmp_path: Path) -> None:
    root = tmp_path / "srv"
    allocate(ansible, root, [tenant("a"), tenant("b")])
    kept_a = recorded(root)["a"]
    gone = allocate(ansible, root, [{"name": "a", "state": "absent"}, tenant("c")])
    assert gone["tenants"]["a"]["state"] == "absent" and gone["tenants"]["a"]["subnet"] == kept_a["subnet"]
    entries = recorded(root)
    assert dict(kept_a, state="absent") == entries["a"], "an absent tenant lost its allocation"
    assert not set(hosts(entries["c"])) & set(hosts(kept_a)) and entries["c"]["subnet"] == "10.231.2.0/24"
    # freed: out of the file; not given to another tenant in the same run
    free = allocate(ansible, root, [{"name": "a", "state": "absent", "free": True}, tenant("d")])
    nothing = {"subnet": None, "state": "absent", "ports": {}, "by_purpose": {}}
    assert free["freed"] == ["a"] and free["tenants"]["a"] == nothing
    entries = recorded(root)
    assert "a" not in entries and not set(hosts(entries["d"])) & set(hosts(kept_a))
    # a later run gives the freed ports and subnet to a new tenant
    later = allocate(ansible, root, [tenant("e")])
    assert recorded(root)["e"]["ports"] == kept_a["ports"] and recorded(root)["e"]["subnet"] == kept_a["subnet"]
    assert later["added"] == ["e"]


# -- the host ---------------------------------------------------------------------------------------


def _free_base(count: int) -> int:
    """A port below the ephemeral range with ``count`` ports from it free for TCP and UDP."""
    for base in range(23500, 23990, count):
        socks = []
        try:
            for port in range(base, base + count):
                for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
                    sock = socket.socket(socket.AF_INET, kind)
                    socks.append(sock)
                    sock.bind(("0.0.0.0", port))
            return base
        except OSError:
            continue
        finally:
            for sock in socks:
                sock.close()
    raise AssertionError("no free ports in 23500-23990")


def test_ports_held_by_a_listening_tcp_or_bound_udp_socket_are_skipped(ansible: Ansible, tmp_path: Path) -> None:
    base = _free_base(10)
    tcp = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        tcp.bind(("::", base))
        tcp.listen(1)
        udp.bind(("127.0.0.1", base + 1))
        blocks = dict(BLOCKS, sip="%d-%d" % (base, base + 9))
        result = allocate(ansible, tmp_path / "srv", [{"name": "a", "ports": [
            {"service": "avr-asterisk", "container": "5060", "protocol": "udp", "purpose": "sip", "follows_host": True},
            {"service": "avr-asterisk", "container": "5061", "protocol": "tcp", "purpose": "sip"}]}], blocks)
    finally:
        tcp.close()
        udp.close()
    # base: a TCP listener (IPv6, any address); base+1: a UDP socket on loopback; neither given, whatever the protocol
    assert result["tenants"]["a"]["ports"]["avr-asterisk"] == ["%d:%d/udp" % (base + 2, base + 2),
                                                               "%d:5061" % (base + 3)]


def _ephemeral() -> Tuple[int, int]:
    first, last = (int(x) for x in Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    return first, last


def test_the_ephemeral_range_is_skipped_and_a_block_wholly_inside_it_refused(ansible: Ansible, tmp_path: Path) -> None:
    low, high = _ephemeral()
    assert low > 1100 and high < 65500, "this test expects the ephemeral range inside 1100-65500: %d-%d" % (low, high)
    rtp = {"service": "avr-asterisk", "protocol": "udp", "purpose": "rtp", "size": 4, "follows_host": True}
    blocks = {"rtp": "%d-%d" % (low - 8, high + 10)}
    result = allocate(ansible, tmp_path / "srv", [{"name": "a", "ports": [
        dict(rtp, container="10000-10003"), dict(rtp, container="11000-11003"), dict(rtp, container="12000-12003")]}],
        blocks)
    assert [(x["host_start"], x["host_end"]) for x in result["tenants"]["a"]["by_purpose"]["rtp"]] == [
        (low - 8, low - 5), (low - 4, low - 1), (high + 1, high + 4)]
    inside = {"rtp": "%d-%d" % (low + 10, low + 20)}
    refused = allocate(ansible, tmp_path / "other", [tenant("a", ports=[])], inside, fails=True)
    assert refused["msg"].startswith("port_blocks.rtp: '%d-%d' lies wholly inside the host's ephemeral port range %d-%d"
                                     % (low + 10, low + 20, low, high)), refused["msg"]
    assert not (tmp_path / "other").exists()


def test_a_subnet_overlapping_a_route_of_the_host_is_skipped(ansible: Ansible, tmp_path: Path) -> None:
    routes = []
    for line in Path("/proc/net/route").read_text().splitlines()[1:]:
        fields = line.split()
        dest = ipaddress.IPv4Address(bytes(reversed(bytes.fromhex(fields[1]))))
        mask = ipaddress.IPv4Address(bytes(reversed(bytes.fromhex(fields[7]))))
        net = ipaddress.IPv4Network("%s/%s" % (dest, mask), strict=False)
        if net.prefixlen and net.prefixlen < 30:
            routes.append(net)
    assert routes, "this host has no route but the default one"
    # a route that is the lower half of its supernet, so that the pool's first subnet is the route's
    route = next((r for r in routes if r.network_address == r.supernet(1).network_address), routes[0])
    pool = route.supernet(1)
    outcome = allocate(ansible, tmp_path / "srv", [{"name": "a"}], subnet_pool=str(pool), subnet_prefix=route.prefixlen)
    subnet = ipaddress.ip_network(outcome["tenants"]["a"]["subnet"])
    assert subnet.subnet_of(pool) and not any(subnet.overlaps(r) for r in routes), (subnet, routes)
    # when every subnet of the pool overlaps a route: one line
    full = allocate(ansible, tmp_path / "full", [{"name": "a"}], subnet_pool=str(route), subnet_prefix=route.prefixlen,
                    fails=True)
    assert full["msg"] == ("tenants: no /%d subnet of subnet_pool %s is left for tenant 'a' (every one is a tenant's "
                           "or overlaps a route of the host)" % (route.prefixlen, route)), full["msg"]
    assert not (tmp_path / "full").exists()


# -- failures leave everything as it was ------------------------------------------------------------


def test_a_block_too_small_fails_in_one_line_and_leaves_the_file_as_it_was(ansible: Ansible, tmp_path: Path) -> None:
    root = tmp_path / "srv"
    small = dict(BLOCKS, rtp="24000-24150")
    allocate(ansible, root, [tenant("a")], small)
    before = tree(root)
    result = allocate(ansible, root, [tenant("a"), tenant("b")], small, fails=True)
    assert result["msg"] == ("tenants: no room for tenant 'b', service 'avr-asterisk', container port 10000-10050/udp: "
                             "100 free consecutive ports of purpose 'rtp' wanted in port block 24000-24150 (every "
                             "other port there is a tenant's, held on the host or in its ephemeral range)"), \
        result["msg"]
    assert tree(root) == before, "a refused run changed the root (bytes, mode, mtime or set of paths)"


def test_check_mode_creates_nothing_and_diff_shows_the_file(ansible: Ansible, tmp_path: Path) -> None:
    root = tmp_path / "srv"
    planned = allocate(ansible, root, [tenant("a")], check=True, diff=True)
    assert planned["changed"] is True and planned["added"] == ["a"] and not root.exists()
    assert planned["diff"]["before"] == "" and json.loads(planned["diff"]["after"])["tenants"]["a"]["subnet"]
    done = allocate(ansible, root, [tenant("a")], diff=True)
    assert done["diff"] == planned["diff"] and done["tenants"] == planned["tenants"]
    assert (root / "tenants.json").read_text() == done["diff"]["after"]
    # check mode on an existing root without a lock file: nothing created there either
    (root / ".tenants.lock").unlink()
    before = tree(root)
    more = allocate(ansible, root, [tenant("a"), tenant("b")], check=True, diff=True)
    assert more["changed"] is True and more["diff"]["before"] == done["diff"]["after"]
    assert json.loads(more["diff"]["after"])["tenants"]["a"] == recorded(root)["a"]
    assert tree(root) == before
    unchanged = allocate(ansible, root, [tenant("a")], diff=True)
    assert unchanged["changed"] is False and unchanged["diff"]["before"] == unchanged["diff"]["after"]


def test_a_symlinked_tenants_file_or_root_is_refused_and_its_target_untouched(ansible: Ansible, tmp_path: Path) -> None:
    root = tmp_path / "srv"
    allocate(ansible, root, [tenant("a")])
    target = tmp_path / "elsewhere.json"
    os.rename(root / "tenants.json", target)
    (root / "tenants.json").symlink_to(target)
    before, outside = tree(root), tree(target)
    result = allocate(ansible, root, [tenant("a"), tenant("b")], fails=True)
    assert result["msg"] == "%s: is a symlink (to %r); refusing to read or replace it through a link" % (
        root / "tenants.json", str(target)), result["msg"]
    assert tree(root) == before and tree(target) == outside
    link = tmp_path / "link"
    link.symlink_to(root)
    result = allocate(ansible, link, [tenant("b")], fails=True)
    assert result["msg"] == "root: %r is a symlink (to %r); give the directory itself" % (str(link), str(root))
    assert tree(root) == before


# -- concurrency, kills, a full disk ------------------------------------------------------------------


def _module(collections_path: Path, args_file: Path, args: Dict[str, Any]) -> subprocess.Popen:
    """The module run as Ansible's debug runner does (``python module.py args.json``), in a process of its own;
    its output goes to ``<args_file>.out`` (a pipe nobody reads could block it)."""
    args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    env = dict(os.environ, PYTHONPATH=str(collections_path))
    with open(str(args_file) + ".out", "wb") as out:
        return subprocess.Popen([sys.executable, str(MODULE), str(args_file)], env=env, stdout=out,
                                stderr=subprocess.STDOUT)


def _result(proc: subprocess.Popen) -> Dict[str, Any]:
    proc.wait(timeout=120)
    out = Path(proc.args[-1] + ".out").read_text()
    try:
        return dict(json.loads(out))
    except ValueError:
        raise AssertionError("module output is not JSON (rc %s): %s" % (proc.returncode, out[-3000:])) from None


def test_concurrent_runs_for_different_tenants_all_end_in_one_valid_file(
        tmp_path: Path, collections_path: Path) -> None:
    root = tmp_path / "srv"
    count = 6
    procs = [_module(collections_path, tmp_path / ("args%d.json" % i), options(root, [tenant("t%d" % i)]))
             for i in range(count)]
    results = [_result(proc) for proc in procs]
    assert all(proc.returncode == 0 for proc in procs) and all(r["changed"] for r in results), results
    entries = recorded(root)
    assert sorted(entries) == ["t%d" % i for i in range(count)]
    assert_disjoint(entries)
    # what each run returned is what the file holds for it
    for i, result in enumerate(results):
        assert result["tenants"]["t%d" % i]["subnet"] == entries["t%d" % i]["subnet"]
    assert sorted(entries[t]["subnet"] for t in entries) == ["10.231.%d.0/24" % i for i in range(count)]
    assert sorted(os.listdir(root)) == [".tenants.lock", "tenants.json"]


class _Inotify:
    """IN_CREATE events of one directory (libc's inotify: no polling gap to miss a short-lived file)."""

    def __init__(self, directory: Path):
        self.libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        self.fd = self.libc.inotify_init1(os.O_NONBLOCK)
        assert self.fd >= 0 and self.libc.inotify_add_watch(self.fd, str(directory).encode(), 0x100) >= 0

    def names(self, timeout: float) -> List[str]:
        ready, _w, _x = select.select([self.fd], [], [], timeout)
        if not ready:
            return []
        data = os.read(self.fd, 65536)
        out, offset = [], 0
        while offset + 16 <= len(data):
            length = struct.unpack_from("iIII", data, offset)[3]
            out.append(data[offset + 16:offset + 16 + length].rstrip(b"\0").decode(errors="replace"))
            offset += 16 + length
        return out

    def close(self) -> None:
        os.close(self.fd)


def test_a_run_killed_while_it_writes_leaves_the_old_file_and_the_next_run_cleans_up(
        tmp_path: Path, collections_path: Path) -> None:
    root = tmp_path / "srv"
    first = _module(collections_path, tmp_path / "first.json", options(root, [tenant("a")]))
    assert _result(first)["changed"] is True
    old = (root / "tenants.json").read_bytes()
    # a huge input (5000 tenants, a file of megabytes), so that writing it takes a while
    many = [tenant("a")] + [{"name": "t%d" % i, "ports": [needs()[0], needs()[2]]} for i in range(5000)]
    big = options(root, many, dict(BLOCKS, sip="1024-22999", ami="27200-32767"), subnet_pool="10.0.0.0/8")
    killed_mid_write = False
    for attempt in range(3):
        watch = _Inotify(root)
        proc = _module(collections_path, tmp_path / ("big%d.json" % attempt), big)
        try:
            end = time.monotonic() + 120
            while time.monotonic() < end and proc.poll() is None:
                if any(name.startswith(".tenants.json.") for name in watch.names(0.05)):
                    os.kill(proc.pid, signal.SIGKILL)
                    break
        finally:
            watch.close()
            proc.wait(timeout=60)
        temps = [n for n in os.listdir(root) if n.startswith(".tenants.json.")]
        if proc.returncode == -signal.SIGKILL and temps:
            killed_mid_write = True
            break
        assert (root / "tenants.json").read_bytes() == old, "a run that was not killed mid-write changed the file"
    assert killed_mid_write, "never killed the module between its temporary file and the rename"
    assert (root / "tenants.json").read_bytes() == old, "a killed run left the file neither old nor new"
    assert json.loads(old)["tenants"]["a"]
    # the next run that writes removes the leftover temporary file
    again = _module(collections_path, tmp_path / "again.json", options(root, [tenant("a"), tenant("b")]))
    assert _result(again)["changed"] is True
    assert sorted(os.listdir(root)) == [".tenants.lock", "tenants.json"]
    assert json.loads((root / "tenants.json").read_text())["tenants"]["a"] == json.loads(old)["tenants"]["a"]


@pytest.fixture
def small_disk(tmp_path: Path) -> Any:
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    mount = tmp_path / "disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k,mode=0755", "alloc-tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def test_a_full_disk_fails_cleanly_with_the_old_file_intact(ansible: Ansible, small_disk: Path) -> None:
    root = small_disk / "srv"
    allocate(ansible, root, [tenant("a")])
    filler = small_disk / "filler"
    fd = os.open(str(filler), os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(fd, b"\0" * 1024)
    except OSError as exc:
        assert exc.errno == errno.ENOSPC, exc
    finally:
        os.close(fd)
    before = tree(root)
    many = [tenant("a")] + [tenant("t%d" % i) for i in range(15)]
    result = allocate(ansible, root, many, fails=True)
    assert result["msg"] == "%s: cannot write it: No space left on device; the file was left as it was" % (
        root / "tenants.json"), result["msg"]
    assert tree(root) == before, "a failed write left a temporary file or changed the old one"
