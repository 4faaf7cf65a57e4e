"""modules/tenant_allocation.py: every refusal is one line naming the field and the value, and leaves the
root as it was (bytes, mode, mtime, set of paths; a missing root is not created). Run in-process as Ansible
runs a module."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path
from typing import Any, Dict, Tuple

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.voiceops.avr.plugins.modules import tenant_allocation

BLOCKS = {"sip": "23000-23199", "rtp": "24000-25999", "ami": "26000-26199"}
POOL = "10.231.0.0/16"
SIP = {"service": "avr-asterisk", "container": "5060", "protocol": "tcp", "purpose": "sip", "follows_host": True}
RTP = {"service": "avr-asterisk", "container": "10000-10050", "protocol": "udp", "purpose": "rtp", "size": 100,
       "follows_host": True}


def call(capsys: pytest.CaptureFixture[str], root: Path, check: bool = False,
         **args: Any) -> Tuple[int, Dict[str, Any]]:
    module_args: Dict[str, Any] = {"root": str(root), "port_blocks": BLOCKS, "subnet_pool": POOL,
                                   "tenants": [{"name": "a", "ports": [SIP, RTP]}]}
    module_args.update(args)
    if check:
        module_args["_ansible_check_mode"] = True
    capsys.readouterr()
    with patch_module_args(module_args):
        with pytest.raises(SystemExit) as exc:
            tenant_allocation.main()
    return int(exc.value.code or 0), json.loads(capsys.readouterr().out)


def tree(base: Path) -> Dict[str, Tuple[str, int, int]]:
    out = {}
    for path in [base] + sorted(base.rglob("*")):
        st = path.lstat()
        what = os.readlink(path) if path.is_symlink() else (
            hashlib.sha256(path.read_bytes()).hexdigest() if stat.S_ISREG(st.st_mode) else "dir")
        out[str(path.relative_to(base))] = (what, st.st_mode, st.st_mtime_ns)
    return out


@pytest.fixture
def root(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A root holding the allocation of tenant 'a'."""
    path = tmp_path / "srv"
    code, result = call(capsys, path)
    assert code == 0 and result["changed"] is True, result
    return path


def refused(capsys: pytest.CaptureFixture[str], where: Path, **args: Any) -> str:
    before = tree(where.parent)
    code, result = call(capsys, where, **args)
    assert code == 1 and result.get("failed") is True, result
    msg = str(result["msg"])
    assert "\n" not in msg, msg
    assert tree(where.parent) == before, "a refused run changed or created something"
    return msg


def tenants(*needs: Dict[str, Any], name: str = "b", **extra: Any) -> list:
    return [dict({"name": name, "ports": list(needs)}, **extra)]


@pytest.mark.parametrize("args, expected", [
    ({"tenants": tenants(name="B")}, "tenants[0].name: 'B' is not a safe name"),
    ({"tenants": tenants(name="a" * 64)}, "tenants[0].name: '%s' is not a safe name" % ("a" * 64)),
    ({"tenants": tenants(name="-x")}, "tenants[0].name: '-x' is not a safe name"),
    ({"tenants": tenants() + tenants()}, "tenants[1].name: 'b' is listed twice"),
    ({"tenants": tenants(dict(SIP, service="Asterisk!"))},
     "tenants[0].ports[0].service: 'Asterisk!' is not a safe name"),
    ({"tenants": tenants(SIP, dict(SIP, follows_host=False))},
     "tenants[0].ports[1]: service 'avr-asterisk' container '5060' protocol 'tcp' is listed twice for tenant 'b'"),
    ({"tenants": tenants(dict(SIP, purpose="voice"))},
     "tenants[0].ports[0].purpose: 'voice' is not a purpose of port_blocks (ami, rtp, sip)"),
    ({"tenants": tenants(dict(SIP, container="50x60"))},
     "tenants[0].ports[0].container: '50x60' is not a port or a port range like '10000-10050'"),
    ({"tenants": tenants(dict(SIP, container="70000"))},
     "tenants[0].ports[0].container: '70000' is not a range of ports between 1 and 65535"),
    ({"tenants": tenants(dict(SIP, container="6000-5000"))},
     "tenants[0].ports[0].container: '6000-5000' is not a range of ports between 1 and 65535"),
    ({"tenants": tenants(dict(RTP, follows_host=False))},
     "tenants[0].ports[0].size: 100 does not match container '10000-10050' (51 ports)"),
    ({"tenants": tenants(dict(SIP, size=0))}, "tenants[0].ports[0].size: 0 is not a whole number of ports >= 1"),
    ({"port_blocks": dict(BLOCKS, web="23100-23300")}, "port_blocks: sip '23000-23199' overlaps web '23100-23300'"),
    ({"port_blocks": dict(BLOCKS, web="8080")}, "port_blocks.web: '8080' is not a port range 'START-END'"),
    ({"port_blocks": dict(BLOCKS, web="0-10")}, "port_blocks.web: '0-10' is not a range of ports between 1 and 65535"),
    ({"port_blocks": {}}, "port_blocks: {} is not a mapping of purpose to 'START-END'"),
    ({"subnet_pool": "10.231.0.1/16"}, "subnet_pool: '10.231.0.1/16' is not an IPv4 network"),
    ({"subnet_pool": "fd00::/64"}, "subnet_pool: 'fd00::/64' is not an IPv4 network"),
    ({"subnet_prefix": 12}, "subnet_prefix: 12 must be between the pool's prefix length 16 and 30"),
    ({"subnet_prefix": 31}, "subnet_prefix: 31 must be between the pool's prefix length 16 and 30"),
])
def test_bad_input_is_refused_in_one_line_before_the_root_is_created(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, args: Dict[str, Any], expected: str) -> None:
    msg = refused(capsys, tmp_path / "missing", **args)
    assert msg.startswith(expected), msg
    assert not (tmp_path / "missing").exists()


def test_bad_input_leaves_an_existing_root_as_it_was(capsys: pytest.CaptureFixture[str], root: Path) -> None:
    msg = refused(capsys, root, tenants=tenants(dict(SIP, purpose="voice")))
    assert msg.startswith("tenants[0].ports[0].purpose: 'voice'"), msg


def _bad_file(root: Path, content: Any) -> None:
    os.chmod(root / "tenants.json", 0o644)
    (root / "tenants.json").write_text(content if isinstance(content, str) else json.dumps(content))


def _entry(subnet: str, host: str) -> Dict[str, Any]:
    return {"subnet": subnet, "state": "present", "ports": [dict(SIP, size=1, host=host)]}


@pytest.mark.parametrize("content, expected", [
    ("{not json", "tenants.json: not JSON ("),
    ({"schema": 2, "tenants": {}}, "tenants.json: schema 2 is not 1, the one this collection reads"),
    ([1, 2], "tenants.json: not an allocation file"),
    ({"schema": 1, "tenants": {"x": _entry("10.231.0.0/24", "23000"), "y": _entry("10.231.1.0/24", "23000")}},
     "tenants.json: tenants x (ports[0], 23000) and y (ports[0], 23000) hold the same host ports"),
    ({"schema": 1, "tenants": {"x": _entry("10.231.0.0/16", "23000"), "y": _entry("10.231.1.0/24", "23001")}},
     "tenants.json: tenants x (10.231.0.0/16) and y (10.231.1.0/24) hold overlapping subnets"),
    ({"schema": 1, "tenants": {"x": dict(_entry("10.231.0.0/24", "23000"), state="gone")}},
     "tenants.json: tenants.x.state 'gone' is not present or absent"),
    ({"schema": 1, "tenants": {"x": _entry("10.231.0.0/24", "23000-23001")}},
     "tenants.json: tenants.x.ports[0] "),
])
def test_a_damaged_allocation_file_is_refused_naming_what_is_wrong(
        capsys: pytest.CaptureFixture[str], root: Path, content: Any, expected: str) -> None:
    _bad_file(root, content)
    msg = refused(capsys, root)
    assert msg.startswith(str(root) + "/" + expected) or msg.startswith(str(root / expected)), msg
    assert msg.endswith("fix or remove the file") or "schema" in msg, msg


def test_a_tenants_file_that_is_a_directory_or_a_root_that_is_a_file_is_refused(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "srv").mkdir()
    (tmp_path / "srv" / "tenants.json").mkdir()
    assert refused(capsys, tmp_path / "srv") == "%s: is not a regular file" % (tmp_path / "srv" / "tenants.json")
    (tmp_path / "plain").write_text("x")
    assert refused(capsys, tmp_path / "plain") == "root: %r exists and is not a directory" % str(tmp_path / "plain")


def test_check_mode_on_a_missing_root_creates_nothing(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, result = call(capsys, tmp_path / "srv", check=True)
    assert code == 0 and result["changed"] is True and result["added"] == ["a"]
    assert result["tenants"]["a"]["ports"] == {"avr-asterisk": ["23000:23000", "24000-24099:24000-24099/udp"]}
    assert os.listdir(tmp_path) == []


def test_a_need_whose_size_changed_gets_new_ports_in_its_place(capsys: pytest.CaptureFixture[str], root: Path) -> None:
    code, result = call(capsys, root, tenants=[{"name": "a", "ports": [SIP, dict(RTP, size=50)]}])
    assert code == 0 and result["changed"] is True
    ports = json.loads((root / "tenants.json").read_text())["tenants"]["a"]["ports"]
    assert [p["host"] for p in ports] == ["23000", "24100-24149"]  # the old range stays out of this run's reach
    remapped = [dict(SIP, follows_host=False), dict(RTP, size=50)]
    code, result = call(capsys, root, tenants=[{"name": "a", "ports": remapped}])
    assert result["tenants"]["a"]["ports"]["avr-asterisk"][0] == "23000:5060"  # same host port, new mapping


def test_a_missing_root_is_made_with_its_parents_mode_0755_and_a_0644_file(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    root = tmp_path / "a" / "b" / "srv"
    code, result = call(capsys, root)
    assert code == 0 and result["path"] == str(root / "tenants.json")
    assert stat.S_IMODE(root.stat().st_mode) == 0o755
    assert stat.S_IMODE((root / "tenants.json").stat().st_mode) == 0o644
    assert sorted(os.listdir(root)) == [".tenants.lock", "tenants.json"]
