"""Derived defaults ({{var:NAME}}) and JSON variables through the real ansible-playbook (no Docker).

A catalog FILE (tests/data/catalogs/derived-env.yml) gives an image whose DB_SCHEMA, AGENT_NAME and
GREETING derive from DEPARTMENT_ID and DEPARTMENT_NAME, and a JSON variable. voice_env stores the
department (tokens stay unresolved in environment.json); voice_compose renders it with the task env
changing the base variable, a derived value given with !unsafe in the playbook, check mode (port_needs),
and two bad values refused in one line without a file written and without the secret in the output.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict

import pytest
import yaml

from test_playbooks import Ansible  # the harness of the playbook tests (same directory)

CATALOG = Path(__file__).resolve().parents[1] / "data" / "catalogs" / "derived-env.yml"
DATABASE_URL = "postgres://agent:pw-not-real-77aa@db:5432/agents"
AGENT = "derived-agent"


@pytest.fixture
def ansible(tmp_path: Path, collections_path: Path) -> Ansible:
    return Ansible(tmp_path / "ansible", collections_path)


def environment(path: Path) -> Dict[str, Any]:
    return dict(yaml.safe_load(path.read_text())["services"]["sales-" + AGENT]["environment"])


def test_derived_defaults_and_json_through_a_playbook(ansible: Ansible, tmp_path: Path) -> None:
    root = tmp_path / "deploy"
    run = ansible.run("derived_env.yml", {"root": str(root), "catalog_file": str(CATALOG),
                                          "database_url": DATABASE_URL})
    assert run.rc == 0, run  # the two bad renders fail (ignored); everything else succeeds
    for text in (run.stdout, run.stderr):
        assert DATABASE_URL not in text, "the secret reached the output"
    project = root / "agent"

    stored = json.loads((project / "environment.json").read_text())["services"][AGENT]
    assert stored["DB_SCHEMA"] == "{{var:DEPARTMENT_ID}}_tenant", "environment.json keeps the token"
    assert stored["DEPARTMENT_NAME"] == "Sales" and "DATABASE_URL" not in stored

    text = (project / "compose.sales.yml").read_text()
    assert "DEPARTMENT_ID: sales\n" in text, "the task env wins over environment.json"
    assert "DB_SCHEMA: sales_tenant\n" in text
    assert "AGENT_NAME: Sales Voice Assistant\n" in text
    assert "GREETING: Welcome to Sales Voice Assistant\n" in text
    assert "CALLBACK_URL: http://sales-derived-agent:8080/sales/events\n" in text
    env = environment(project / "compose.sales.yml")
    assert env["ENABLED_TOOLS"] == '{"tools": ["transfer"], "max": 2}', "JSON emitted as written"
    assert env["DATABASE_URL"] == DATABASE_URL

    env = environment(project / "compose.unsafe.yml")
    assert env["DB_SCHEMA"] == "support_v2" and env["AGENT_NAME"] == "Sales Voice Assistant"
    assert env["ENABLED_TOOLS"] == '["transfer", "hangup"]'

    check = run.task("Render in check mode")
    assert check["changed"] and not (project / "compose.check.yml").exists()
    assert {"service": AGENT, "container": "8080", "protocol": "tcp", "purpose": "web", "size": 1,
            "follows_host": False, "mounts": []} in check["port_needs"]
    assert [n["purpose"] for n in check["port_needs"] if n["service"] == "avr-asterisk"][:1] == ["ami"]

    bad = run.task("Render with a value that is not JSON")
    assert bad["failed"] and bad["msg"].startswith(
        "env.%s.ENABLED_TOOLS: value 'transfer' is not JSON (Expecting value" % AGENT), bad["msg"]
    secret = run.task("Render with a value naming a secret")
    assert secret["failed"] and secret["msg"].startswith(
        "env.%s.DEPARTMENT_ID: value '{{var:DATABASE_URL}}' names {{var:DATABASE_URL}}, a secret variable"
        % AGENT), secret["msg"]
    assert not (project / "compose.bad.yml").exists()
    assert "\n" not in bad["msg"] and "\n" not in secret["msg"]
