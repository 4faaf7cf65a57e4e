"""Parity with the AVR examples of every registry generation, judged by `docker compose config` itself.

For each generation and each template with an example in the generation's reference folder
(``Generation.reference``): render the template with that generation's registry, giving the task
exactly the values the example reads from the host environment without a default (provider keys
in provider_keys, passwords in secrets, everything else in env), run both files through
`docker compose config --format json` with the same environment, and compare service by service.
A required secret the registry ships no default for gets a test value in the task only (the
example's own default then shows as a deviation).
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any, Dict, List, Sequence, Tuple

import pytest
import yaml

from ansible_collections.voiceops.avr.plugins.module_utils.registry.generations import generations
from ansible_collections.voiceops.avr.plugins.module_utils.registry.model import Template
from ansible_collections.voiceops.avr.plugins.module_utils.registry.registry import Registry, builtin
from ansible_collections.voiceops.avr.plugins.plugin_utils.render import Inputs, render

FIELDS = ("image", "environment", "ports", "volumes", "networks", "restart", "platform",
          "container_name", "depends_on", "healthcheck", "command", "labels")
DEVIATIONS = Path(__file__).resolve().parents[1] / "data" / "deviations.yml"
NO_DEFAULT = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")
#: how many compose examples each generation's reference folder holds
EXAMPLE_COUNT = {"2025.09": 11, "2026.06": 15}
GENERATIONS = list(generations())
WITH_EXAMPLE = [(gen, tid) for gen in GENERATIONS for tid in sorted(builtin(gen).templates)
                if builtin(gen).templates[tid].example]
WITHOUT_EXAMPLE = [(gen, tid) for gen in GENERATIONS for tid in sorted(builtin(gen).templates)
                   if not builtin(gen).templates[tid].example]


def deviations() -> List[Dict[str, Any]]:
    return list(yaml.safe_load(DEVIATIONS.read_text())["deviations"])


def _give(task: Dict[str, Any], service: str, var: Any, value: str) -> None:
    if var.secret and var.provider:
        task["provider_keys"][var.provider] = value
    elif var.secret_name:
        task["secrets"][var.secret_name] = value
    else:
        task["env"].setdefault(service, {})[var.name] = value


def host_inputs(example: Dict[str, Any], tpl: Template) -> Tuple[Dict[str, str], Dict[str, Any]]:
    """The host environment values the example needs, and the task inputs carrying them."""
    host: Dict[str, str] = {}
    task: Dict[str, Any] = {"provider_keys": {}, "secrets": {}, "env": {}}
    images = {img.service_name: img for img in tpl.images}
    for service, spec in example["services"].items():
        for entry in spec.get("environment") or []:
            name, _sep, raw = str(entry).partition("=")
            for match in NO_DEFAULT.finditer(raw):
                source = match.group(1) or match.group(2)
                value = host.setdefault(source, "test-%s" % source.lower().replace("_", "-"))
                img = images[service]
                var = img.var(name)
                assert var is not None, "%s: registry image %s lacks %s" % (service, img.key, name)
                _give(task, service, var, value)
    for service, img in images.items():  # required secrets without a registry default: the task gives them
        for var in img.env:
            if var.secret and var.secret_name and var.required and var.default is None \
                    and var.secret_name not in task["secrets"]:
                _give(task, service, var, "test-%s" % var.secret_name.lower().replace("_", "-"))
    return host, task


def compose_config(cmd: List[str], directory: Path, name: str, host: Dict[str, str]) -> Dict[str, Any]:
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(directory)}
    env.update(host)
    proc = subprocess.run(cmd + ["--project-directory", str(directory), "-f", name, "config", "--format", "json"],
                          cwd=directory, env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, "docker compose config %s failed: %s" % (name, proc.stderr)
    return json.loads(proc.stdout)


def _render_example(registry: Registry, tpl: Template, example_text: str, tmp_path: Path,
                    docker_compose: List[str]) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    host, task = host_inputs(yaml.safe_load(example_text), tpl)
    for img in tpl.images:  # credential files the example mounts from the project directory
        for var in img.env:
            provider = registry.providers.get(var.provider or "")
            if provider is not None and provider.file:
                task["provider_keys"][provider.name] = '{"type": "service_account"}\n'
    rendered = render(registry, tpl, Inputs(deployment=tpl.id, **task))
    assert set(rendered.files) == {registry.providers[p].file for p in task["provider_keys"]
                                   if registry.providers[p].file}
    (tmp_path / "example.yml").write_text(example_text)
    (tmp_path / "rendered.yml").write_text(rendered.content)
    want = compose_config(docker_compose, tmp_path, "example.yml", host)
    got = compose_config(docker_compose, tmp_path, "rendered.yml", host)
    return want, got


@pytest.mark.parametrize("generation,template_id", WITH_EXAMPLE)
def test_template_matches_example(generation, template_id, reference_dir, docker_compose, tmp_path):
    registry = builtin(generation)
    tpl = registry.template(template_id)
    example_text = (reference_dir(generation) / tpl.example).read_text()
    want, got = _render_example(registry, tpl, example_text, tmp_path, docker_compose)

    allowed = [d for d in deviations() if d["generation"] == generation and d["example"] == tpl.example]
    assert_same_services(want, got, allowed, FIELDS, "%s %s (%s)" % (generation, template_id, tpl.example))


def assert_same_services(want: Dict[str, Any], got: Dict[str, Any], allowed: List[Dict[str, Any]],
                         fields: Sequence[str], what: str) -> None:
    """The services of ``got`` equal those of ``want`` (both ``docker compose config`` output) on ``fields``,
    apart from the deviations ``allowed``, each of which must still be a real difference and be met."""
    assert sorted(got["services"]) == sorted(want["services"])
    used = []
    for service in want["services"]:
        for field in fields:
            expected = want["services"][service].get(field)
            actual = got["services"][service].get(field)
            for dev in allowed:
                if dev["service"] != service or dev["field"] != field:
                    continue
                used.append(dev)
                if field == "environment":
                    var = dev["variable"]
                    assert expected.get(var) == dev["example_value"], "stale deviation: %r" % dev
                    assert actual.get(var) == dev["registry_value"], "deviation not as listed: %r" % dev
                    expected = dict(expected, **{var: actual.get(var)})
                else:
                    assert expected == dev["example_value"], "stale deviation: %r" % dev
                    assert actual == dev["registry_value"], "deviation not as listed: %r" % dev
                    expected = actual
            assert actual == expected, "%s: %s.%s differs" % (what, service, field)
    assert [d for d in allowed if d not in used] == [], "deviations naming no service and field of the file"
    assert got["networks"]["avr"] == want["networks"]["avr"]


@pytest.mark.parametrize("generation", GENERATIONS)
def test_every_example_has_a_template(generation, reference_dir):
    files = sorted(p.name for p in reference_dir(generation).glob("docker-compose-*.yml"))
    assert len(files) == EXAMPLE_COUNT[generation]
    registry = builtin(generation)
    assert sorted(registry.template(t).example for g, t in WITH_EXAMPLE if g == generation) == files


def test_every_deviation_names_a_known_example(reference_dir):
    for dev in deviations():
        assert dev["generation"] in GENERATIONS, dev
        assert (reference_dir(dev["generation"]) / dev["example"]).is_file(), dev
        assert dev["reason"].strip(), dev


@pytest.mark.parametrize("generation,template_id", WITHOUT_EXAMPLE)
def test_template_without_example_is_valid_compose(generation, template_id, docker_compose, tmp_path):
    tpl = builtin(generation).template(template_id)
    rendered = render(builtin(generation), tpl, Inputs(deployment=template_id, allow_missing=True))
    (tmp_path / "docker-compose.yml").write_text(rendered.content)
    config = compose_config(docker_compose, tmp_path, "docker-compose.yml", {})
    assert sorted(config["services"]) == sorted(img.service_name for img in tpl.images)
    assert config["name"] == template_id
