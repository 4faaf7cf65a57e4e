"""voiceops.avr.env_schema says which variables hold JSON (format), and shows derived defaults unresolved."""
from __future__ import annotations

from ansible_collections.voiceops.avr.plugins.filter.env_schema import env_schema

CATALOG = {
    "images": [{"role": "service", "name": "agent", "image": "example/agent:1.0.0", "tag_policy": "upstream",
                "env": [{"name": "DEPARTMENT_ID", "required": True},
                        {"name": "DB_SCHEMA", "default": "{{var:DEPARTMENT_ID}}_tenant"},
                        {"name": "ENABLED_TOOLS", "format": "json", "default": '["transfer"]'}]}],
    "templates": [{"id": "agent", "stack": "plain", "images": {"asterisk": None, "ami": None},
                   "extras": ["service/agent"]}],
}


def test_format_and_derived_defaults() -> None:
    rows = {row["name"]: row for row in env_schema("agent", catalog=CATALOG)}
    assert rows["ENABLED_TOOLS"]["format"] == "json"
    assert rows["DEPARTMENT_ID"]["format"] is None and rows["DEPARTMENT_ID"]["required"] is True
    assert rows["DB_SCHEMA"]["default"] == "{{var:DEPARTMENT_ID}}_tenant"
