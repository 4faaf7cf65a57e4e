"""modules/health_gate.py: the pure parts (input checks, the crash verdict from docker inspect data, the
address a probe connects to). The gate itself runs on real Docker in tests/integration/test_gate.py."""

from __future__ import annotations

from typing import Any, Dict, Optional

import pytest

from ansible_collections.voiceops.avr.plugins.modules.health_gate import address, check_services, crash, parse_time

STARTED = "2026-12-01T10:00:00.123456789Z"


def item(status: str = "running", restarts: int = 0, started: str = STARTED, finished: str = "0001-01-01T00:00:00Z",
         code: int = 0, health: Optional[str] = None, **state: Any) -> Dict[str, Any]:
    data: Dict[str, Any] = {"Status": status, "Running": status in ("running", "restarting"),
                            "Restarting": status == "restarting", "ExitCode": code, "StartedAt": started,
                            "FinishedAt": finished}
    if health:
        data["Health"] = {"Status": health, "Log": [{"Output": "HTTP Error 503: Service Unavailable\n"}]}
    data.update(state)
    return {"Id": "abc", "RestartCount": restarts, "State": data}


def test_parse_time_reads_dockers_nanoseconds_and_zero_time() -> None:
    assert parse_time("2026-12-01T10:00:03.5Z") - parse_time(STARTED) == pytest.approx(3.376543, abs=1e-5)
    assert parse_time("0001-01-01T00:00:00Z") is None and parse_time("") is None and parse_time("bogus") is None


@pytest.mark.parametrize("data, reason", [
    (item(), None),
    (item(health="healthy"), None),
    (item(health="starting"), None),
    (item("exited", code=1, finished="2026-12-01T10:00:03.223456789Z"), "exited (code 1) 3.1 s after it started"),
    (item("exited", code=137, OOMKilled=True), "exited (code 137) (OOM killed)"),
    (item("restarting", restarts=2, code=1), "is restarting after it exited (code 1); Docker restarted it 2 time(s)"),
    (item(restarts=1), "exited and was restarted by Docker 1 time(s) since it was started"),
    (item("created"), "is created, not running"),
    (item(health="unhealthy"), "is unhealthy (its health check failed: HTTP Error 503: Service Unavailable)"),
    (item(health="unhealthy",
          Health={"Status": "unhealthy", "Log": [{"Output": "Traceback:\n  x\nOSError: refused\n"}]}),
     "is unhealthy (its health check failed: OSError: refused)"),
])
def test_crash_gives_one_line_reason(data: Dict[str, Any], reason: Optional[str]) -> None:
    assert crash(data, STARTED) == reason


def test_a_start_time_that_changed_while_watched_is_a_restart() -> None:
    assert crash(item(started="2026-12-01T10:00:09Z"), STARTED) == \
        "was restarted while watched (started at %s, then at 2026-12-01T10:00:09Z)" % STARTED


def test_address_on_the_deployment_network_or_the_hosts() -> None:
    nets = {"NetworkSettings": {"Networks": {"other": {"IPAddress": "10.0.0.2"}, "dep": {"IPAddress": "172.31.1.3"}}},
            "HostConfig": {"NetworkMode": "dep"}}
    assert address(nets, "dep") == ("172.31.1.3", None)
    assert address(nets, None) == ("172.31.1.3", None)
    assert address(nets, "nope") == (None, "not attached to network nope (attached: dep, other)")
    assert address({"HostConfig": {"NetworkMode": "host"}}, "dep") == ("127.0.0.1", None)
    assert address({"NetworkSettings": {"Networks": {"dep": {"IPAddress": ""}}}}, "dep") == \
        (None, "has no IP address on network dep")


def test_check_services_fills_defaults() -> None:
    probes = [{"type": "tcp", "port": 5001}, {"type": "health"}]
    assert check_services({"a": None, "b": "", "c": {"container": "x", "network": "n", "probes": probes}}) == {
        "a": {"container": "a", "network": None, "probes": []},
        "b": {"container": "b", "network": None, "probes": []},
        "c": {"container": "x", "network": "n",
              "probes": [{"type": "tcp", "port": 5001}, {"type": "health", "port": None}]},
    }


@pytest.mark.parametrize("services, message", [
    ({}, "services: give at least one service to judge"),
    ({"a": ["x"]}, "services.a: ['x'] is not a mapping with container, network and probes"),
    ({"a": {"probe": []}}, "services.a: unknown key 'probe' (known: container, network, probes)"),
    ({"a": {"container": "two words"}}, "services.a.container: 'two words' is not a container name"),
    ({"a": {"network": 3}}, "services.a.network: 3 is not a network name"),
    ({"a": {"probes": "tcp"}}, "services.a.probes: 'tcp' is not a list"),
    ({"a": {"probes": [{"type": "udp", "port": 1}]}},
     "services.a.probes[0]: {'type': 'udp', 'port': 1} is not a probe ({type: tcp, port: N} or {type: health})"),
    ({"a": {"probes": [{"type": "tcp", "port": "5001"}]}},
     "services.a.probes[0].port: '5001' is not a TCP port (1-65535)"),
    ({"a": {"probes": [{"type": "tcp", "port": 70000}]}},
     "services.a.probes[0].port: 70000 is not a TCP port (1-65535)"),
    ({"a": {"probes": [{"type": "health", "port": 1}]}},
     "services.a.probes[0].port: 1 given for a health probe, which takes none"),
])
def test_bad_services_get_one_line_naming_the_field(services: Dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError) as err:
        check_services(services)
    assert str(err.value) == message and "\n" not in message
