"""Moving a running deployment to a newer registry generation, and back, on the host's real Docker engine.

An ultravox deployment runs generation 2025.09 (core, Ultravox, Asterisk, AMI). Check mode shows the
move to 2026.06 and changes nothing; the move is a release like any other: the browser phone joins,
the core gets HTTP_PORT, Asterisk publishes its WSS port, the health gate passes, and the release
records the generation. A later run that names no generation keeps 2026.06. Rolling back restores
the 2025.09 release (the phone container goes), and a run that names no generation then keeps
2025.09: an upgrade of the collection or of the deployment never moves a deployment by itself.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Dict, List

from test_stack_up import PLAYBOOK, down, play, project_containers, recap
from test_stack_up import local_registry  # noqa: F401  # pylint: disable=unused-import

ROLLBACK = PLAYBOOK.parent / "rollback_local.yml"
DEPLOYMENT = {
    "stack_template": "ultravox", "stack_deployment": "itest-generation", "stack_service_prefix": "itg",
    "stack_subnet": "172.31.103.0/24", "stack_publish_address": "127.0.0.1",
    "stack_ports": {"avr-core": ["25301:5001"], "avr-asterisk": ["25360:5060"], "avr-ami": []},
    "stack_env": {"avr-sts-ultravox": {"ULTRAVOX_AGENT_ID": "agent-itest"}},
}
PORTS_2026 = dict(DEPLOYMENT["stack_ports"], **{"avr-asterisk": ["25360:5060", "25389:8089"],
                                                "avr-phone": ["25380:80"]})


def services(project: str) -> Dict[str, Dict[str, Any]]:
    found = {}
    for item in project_containers(project):
        if item["State"]["Running"]:
            name = item["Config"]["Labels"]["com.docker.compose.service"]
            found[name] = {"id": item["Id"], "env": item["Config"]["Env"]}
    return found


def header_generation(project_dir: Path) -> str:
    match = re.search(r"^# registry: (\S+) sha256:", (project_dir / "docker-compose.yml").read_text(), re.M)
    assert match, "no registry header"
    return match.group(1)


def current_record(project_dir: Path) -> Dict[str, Any]:
    return dict(json.loads((project_dir / "current" / "release.json").read_text()))


def run(collections_path: Path, tmp: Path, check: bool = False, playbook: Path = PLAYBOOK, **extra: Any) -> Any:
    proc = play(collections_path, tmp, DEPLOYMENT, check=check, playbook=playbook, **extra)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    return proc


def test_a_running_deployment_moves_to_a_newer_generation_as_a_release_and_back(
        collections_path: Path, tmp_path: Path, local_registry: str) -> None:  # noqa: F811
    project = "itest-generation"
    project_dir = tmp_path / project
    down(project)
    try:
        run(collections_path, tmp_path, stack_registry_version="2025.09")
        first = services(project)
        assert sorted(first) == ["itg-avr-ami", "itg-avr-asterisk", "itg-avr-core", "itg-avr-sts-ultravox"]
        assert header_generation(project_dir) == "2025.09"
        assert current_record(project_dir)["registry_version"] == "2025.09"
        release_2025 = (project_dir / "current").resolve().name
        files: List[bytes] = [(project_dir / "docker-compose.yml").read_bytes(),
                              (project_dir / "registry.json").read_bytes()]

        # check mode: the move shows as a change and changes nothing
        proc = run(collections_path, tmp_path, check=True, stack_registry_version="2026.06",
                   stack_ports=PORTS_2026)
        assert recap(proc)["changed"] > 0
        assert services(project) == first
        now = [(project_dir / "docker-compose.yml").read_bytes(), (project_dir / "registry.json").read_bytes()]
        assert now == files

        # the move: a release like any other, through the health gate
        run(collections_path, tmp_path, stack_registry_version="2026.06", stack_ports=PORTS_2026)
        moved = services(project)
        assert sorted(moved) == sorted(list(first) + ["itg-avr-phone"])
        assert "HTTP_PORT=6001" in moved["itg-avr-core"]["env"]
        assert "HTTP_PORT=6001" not in first["itg-avr-core"]["env"]
        assert header_generation(project_dir) == "2026.06"
        record = current_record(project_dir)
        assert record["registry_version"] == "2026.06" and record["inputs"]["registry_version"] == "2026.06"
        snapshot = json.loads((project_dir / "current" / "registry.json").read_text())
        assert snapshot["generation"] == "2026.06"

        # a run naming no generation keeps the one the deployment runs
        proc = run(collections_path, tmp_path, stack_ports=PORTS_2026)
        assert recap(proc)["changed"] == 0
        assert services(project) == moved

        # roll back: the 2025.09 release again, the phone gone
        run(collections_path, tmp_path, playbook=ROLLBACK)
        back = services(project)
        assert sorted(back) == sorted(first)
        assert (project_dir / "current").resolve().name == release_2025
        assert header_generation(project_dir) == "2025.09"
        assert (project_dir / "docker-compose.yml").read_bytes() == files[0]
        assert (project_dir / "registry.json").read_bytes() == files[1]
        proc = run(collections_path, tmp_path)
        assert recap(proc)["changed"] == 0
        assert services(project) == back
    finally:
        down(project)
