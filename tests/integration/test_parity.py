"""Parity with the AVR examples, judged by `docker compose config` itself.

For each example: render its template, giving the task exactly the values the
example reads from the host environment without a default (provider keys in
provider_keys, passwords in secrets, everything else in env), run both files
through `docker compose config --format json` with the same environment, and
compare service by service.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest
import yaml

from ansible_collections.voiceops.avr.plugins.module_utils.registry.registry import builtin
from ansible_collections.voiceops.avr.plugins.plugin_utils.render import Inputs, render

FIELDS = ("image", "environment", "ports", "volumes", "networks", "restart", "platform",
          "container_name", "depends_on", "healthcheck", "command")
DEVIATIONS = Path(__file__).resolve().parents[1] / "data" / "deviations.yml"
NO_DEFAULT = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")
REGISTRY = builtin()
WITH_EXAMPLE = sorted(t.id for t in REGISTRY.templates.values() if t.example)
WITHOUT_EXAMPLE = sorted(t.id for t in REGISTRY.templates.values() if not t.example)


def deviations() -> List[Dict[str, Any]]:
    return list(yaml.safe_load(DEVIATIONS.read_text())["deviations"])


def host_inputs(example: Dict[str, Any]) -> Tuple[Dict[str, str], Dict[str, Any]]:
    """The host environment values the example needs, and the task inputs carrying them."""
    host: Dict[str, str] = {}
    task: Dict[str, Any] = {"provider_keys": {}, "secrets": {}, "env": {}}
    for service, spec in example["services"].items():
        for entry in spec.get("environment") or []:
            name, _sep, raw = str(entry).partition("=")
            for match in NO_DEFAULT.finditer(raw):
                source = match.group(1) or match.group(2)
                value = host.setdefault(source, "test-%s" % source.lower().replace("_", "-"))
                img = next(i for i in REGISTRY.images.values() if i.service_name == service)
                var = img.var(name)
                assert var is not None, "%s: registry image %s lacks %s" % (service, img.key, name)
                if var.secret and var.provider:
                    task["provider_keys"][var.provider] = value
                elif var.secret_name:
                    task["secrets"][var.secret_name] = value
                else:
                    task["env"].setdefault(service, {})[name] = value
    return host, task


def compose_config(cmd: List[str], directory: Path, name: str, host: Dict[str, str]) -> Dict[str, Any]:
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(directory)}
    env.update(host)
    proc = subprocess.run(cmd + ["--project-directory", str(directory), "-f", name, "config", "--format", "json"],
                          cwd=directory, env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, "docker compose config %s failed: %s" % (name, proc.stderr)
    return json.loads(proc.stdout)


@pytest.mark.parametrize("template_id", WITH_EXAMPLE)
def test_template_matches_example(template_id, examples_dir, docker_compose, tmp_path):
    tpl = REGISTRY.template(template_id)
    example_text = (examples_dir / tpl.example).read_text()
    host, task = host_inputs(yaml.safe_load(example_text))
    for img in tpl.images:  # credential files the example mounts from the project directory
        for var in img.env:
            provider = REGISTRY.providers.get(var.provider or "")
            if provider is not None and provider.file:
                task["provider_keys"][provider.name] = '{"type": "service_account"}\n'
    rendered = render(REGISTRY, tpl, Inputs(deployment=template_id, **task))
    assert set(rendered.files) == {REGISTRY.providers[p].file for p in task["provider_keys"]
                                   if REGISTRY.providers[p].file}
    (tmp_path / "example.yml").write_text(example_text)
    (tmp_path / "rendered.yml").write_text(rendered.content)
    want = compose_config(docker_compose, tmp_path, "example.yml", host)
    got = compose_config(docker_compose, tmp_path, "rendered.yml", host)

    assert sorted(got["services"]) == sorted(want["services"])
    allowed = [d for d in deviations() if d["example"] == tpl.example]
    for service in want["services"]:
        for field in FIELDS:
            expected = want["services"][service].get(field)
            actual = got["services"][service].get(field)
            for dev in allowed:
                if dev["service"] != service or dev["field"] != field:
                    continue
                if field == "environment":
                    var = dev["variable"]
                    assert expected.get(var) == dev["example_value"], "stale deviation: %r" % dev
                    assert actual.get(var) == dev["registry_value"], "deviation not as listed: %r" % dev
                    expected = dict(expected, **{var: actual.get(var)})
                else:
                    assert expected == dev["example_value"], "stale deviation: %r" % dev
                    assert actual == dev["registry_value"], "deviation not as listed: %r" % dev
                    expected = actual
            assert actual == expected, "%s %s.%s differs from %s" % (template_id, service, field, tpl.example)
    assert got["networks"]["avr"] == want["networks"]["avr"]


def test_every_example_has_a_template(examples_dir):
    files = sorted(p.name for p in examples_dir.glob("docker-compose-*.yml"))
    assert len(files) == 11
    assert sorted(REGISTRY.template(t).example for t in WITH_EXAMPLE) == files


def test_every_deviation_names_a_known_example(examples_dir):
    for dev in deviations():
        assert (examples_dir / dev["example"]).is_file(), dev
        assert dev["reason"].strip(), dev


@pytest.mark.parametrize("template_id", WITHOUT_EXAMPLE)
def test_template_without_example_is_valid_compose(template_id, docker_compose, tmp_path):
    tpl = REGISTRY.template(template_id)
    rendered = render(REGISTRY, tpl, Inputs(deployment=template_id, allow_missing=True))
    (tmp_path / "docker-compose.yml").write_text(rendered.content)
    config = compose_config(docker_compose, tmp_path, "docker-compose.yml", {})
    assert sorted(config["services"]) == sorted(img.service_name for img in tpl.images)
    assert config["name"] == template_id
