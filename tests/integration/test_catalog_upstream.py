"""A catalog written as a user would, against the AVR project's 2026 compose files.

tests/data/catalogs/upstream-2026.yml adds, on top of generation 2025.09, what upstream's 2026
files publish: a new TTS image and the browser phone (role ``service``), the rewritten admin app
(traefik, backend and frontend with their routing labels, no AMI bridge) and an STS stack whose core
needs ``HTTP_PORT`` (``extend_env``). Each template is rendered with that catalog, read through the
catalog file reader the action plugins use, and compared with its upstream file through
`docker compose config` on the parity fields plus ``labels``; the only differences allowed are
listed with reasons in upstream-2026.deviations.yml.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest
import yaml
from ansible_env import ansible_environ
from test_parity import FIELDS, assert_same_services, compose_config, host_inputs  # the parity test's judge

from ansible_collections.voiceops.avr.plugins.module_utils.registry import snapshot
from ansible_collections.voiceops.avr.plugins.module_utils.registry.catalog import effective_registry
from ansible_collections.voiceops.avr.plugins.module_utils.registry.registry import Registry
from ansible_collections.voiceops.avr.plugins.plugin_utils.catalog_file import load
from ansible_collections.voiceops.avr.plugins.plugin_utils.render import Inputs, render

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "catalogs"
CATALOG = DATA / "upstream-2026.yml"
DEVIATIONS = DATA / "upstream-2026.deviations.yml"
UPSTREAM = ROOT.parent / "shared" / "reference" / "avr-infra-2026.06"
GENERATION = "2025.09"
COMPARED = FIELDS + ("labels",)

#: template id of the catalog -> the upstream file it reproduces
FILES = {
    "cartesia": "docker-compose-cartesia.yml",
    "humeai": "docker-compose-humeai.yml",
    "admin": "docker-compose-app.yml",
}


def registry() -> Registry:
    return effective_registry(load(str(CATALOG), CATALOG.name), GENERATION)


def deviations() -> List[Dict[str, Any]]:
    return list(yaml.safe_load(DEVIATIONS.read_text())["deviations"])


def test_the_catalog_holds_what_upstream_2026_adds() -> None:
    reg = registry()
    assert reg.generation == GENERATION and reg.catalog is not None
    assert reg.images["service/avr-phone"].role == "service"
    assert reg.role_providers["tts"]["cartesia"] is reg.images["tts/avr-tts-cartesia"]
    # humeai has no providers entry: the image's secret variable makes it take a key
    assert reg.providers["humeai"].env == "HUMEAI_API_KEY"
    assert reg.select(stack="sts", providers={"sts": "humeai"}).sts is reg.images["sts/avr-sts-humeai"]
    assert [img.key for img in reg.template("admin").images] == [
        "app/avr-app-backend", "app/avr-app-frontend", "asterisk/avr-asterisk", "service/traefik"]
    core = next(img for img in reg.template("humeai").images if img.role == "core")
    assert core.var("HTTP_PORT") is not None and core.var("HTTP_PORT").default == "6001"  # type: ignore[union-attr]
    assert "HTTP_PORT" not in reg.images["core/avr-core"].var_names, "extend_env changed the registry's image"
    assert snapshot.load(reg.snapshot()).digest == reg.digest, "a release could not re-render from its snapshot"


@pytest.mark.parametrize("template_id", sorted(FILES))
def test_catalog_template_matches_upstream_2026(template_id: str, docker_compose: List[str], tmp_path: Path) -> None:
    reg = registry()
    tpl = reg.template(template_id)
    upstream = (UPSTREAM / FILES[template_id]).read_text()
    host, task = host_inputs(yaml.safe_load(upstream), tpl)
    for provider in task["provider_keys"]:
        assert reg.providers[provider].env, "provider %s takes no key" % provider
    rendered = render(reg, tpl, Inputs(deployment=template_id, **task))
    (tmp_path / "upstream.yml").write_text(upstream)
    (tmp_path / "rendered.yml").write_text(rendered.content)
    want = compose_config(docker_compose, tmp_path, "upstream.yml", host)
    got = compose_config(docker_compose, tmp_path, "rendered.yml", host)

    allowed = [d for d in deviations() if d["example"] == FILES[template_id]]
    assert_same_services(want, got, allowed, COMPARED, "catalog %s (%s)" % (template_id, FILES[template_id]))


def test_every_deviation_names_an_upstream_file_and_a_reason() -> None:
    for dev in deviations():
        assert dev["example"] in FILES.values(), dev
        assert dev["field"] == "environment" and dev["reason"].strip(), dev


# -- through ansible-playbook, as a user runs it ----------------------------------------------------------------

PLAY = """\
- hosts: all
  gather_facts: false
  tasks:
    - name: Render a catalog template
      voiceops.avr.voice_compose:
{args}
"""


def playbook(tmp_path: Path, collections_path: Path, args: str, extra: Dict[str, Any]) -> Tuple[int, Any, str]:
    """Run one voice_compose task (``args``: its YAML lines, indented) with ``extra`` as extra vars."""
    base = tmp_path / "ansible"
    base.mkdir()
    (base / "inventory.yml").write_text(yaml.safe_dump({"all": {"hosts": {"localhost": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}))
    (base / "ansible.cfg").write_text("[defaults]\nretry_files_enabled = false\nnocolor = true\n")
    (base / "play.yml").write_text(PLAY.format(args=args))
    (base / "vars.json").write_text(json.dumps(extra))
    proc = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(base / "inventory.yml"),
                           str(base / "play.yml"), "-e", "@%s" % (base / "vars.json")], cwd=base,
                          env=ansible_environ(base / "ansible.cfg", collections_path, base, "ansible.posix.json"),
                          capture_output=True, text=True, timeout=300, check=False)
    result = json.loads(proc.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"] if proc.stdout.strip() else {}
    return proc.returncode, result, proc.stdout + proc.stderr


def test_voice_compose_renders_the_catalog_file_on_generation_2025_09(tmp_path: Path, collections_path: Path) -> None:
    keys = {"deepgram": "dg-test-key", "openai": "oa-test-key", "cartesia": "ca-test-key"}
    args = "\n".join("        " + line for line in (
        "template: cartesia", "project_dir: '{{ root }}/cartesia'", "catalog: '{{ catalog }}'",
        "registry_version: '2025.09'", "provider_keys: '{{ keys }}'",
        "env: {avr-tts-cartesia: {CARTESIA_VOICE_ID: voice-1}}"))
    rc, result, output = playbook(tmp_path, collections_path, args, {
        "root": str(tmp_path), "catalog": str(CATALOG), "keys": keys})
    assert rc == 0, output
    assert all(key not in output for key in keys.values()), "a provider key reached the output"
    written = (tmp_path / "cartesia" / "docker-compose.yml").read_text()
    reg = registry()
    want = render(reg, reg.template("cartesia"), Inputs(deployment="cartesia", provider_keys=keys,
                                                        env={"avr-tts-cartesia": {"CARTESIA_VOICE_ID": "voice-1"}}))
    assert written == want.content
    assert "# registry: 2025.09 sha256:%s\n" % reg.digest in written
    assert result["registry_digest"] == reg.digest


INLINE = """\
        template: phone
        project_dir: '{{{{ root }}}}/phone'
        service_prefix: p
        allow_missing: true
        catalog:
          images:
            - role: service
              name: avr-phone
              image: agentvoiceresponse/avr-phone
              env:
                - {{name: AMI_URL, default: {tag}"http://{{{{service:avr-ami}}}}:6006"}}
          templates:
            - {{id: phone, stack: plain, extras: [service/avr-phone]}}"""


def test_an_inline_catalog_token_needs_unsafe(tmp_path: Path, collections_path: Path) -> None:
    rc, _result, output = playbook(tmp_path, collections_path, INLINE.format(tag="!unsafe "), {"root": str(tmp_path)})
    assert rc == 0, output
    doc = yaml.safe_load((tmp_path / "phone" / "docker-compose.yml").read_text())
    assert doc["services"]["p-avr-phone"]["environment"]["AMI_URL"] == "http://p-avr-ami:6006"

    untagged = tmp_path / "untagged"
    untagged.mkdir()
    rc, result, output = playbook(untagged, collections_path, INLINE.format(tag=""), {"root": str(untagged)})
    assert rc != 0 and result.get("failed"), output
    # Ansible itself templates the untagged string and fails on the token, before the action runs
    assert "'catalog'" in result["msg"] and "Syntax error in template" in result["msg"], result["msg"]
    assert not (untagged / "phone").exists(), "a file was written although the task failed"
