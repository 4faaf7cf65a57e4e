#!/usr/bin/env python
# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write the files derived from the registry: docs/catalog.md and the stack role's argument specs.

    scripts/generate.py          # rewrite them
    scripts/generate.py --check  # exit 1 (and name the files) when one is out of date
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any, Dict, List

import yaml

ROOT = Path(__file__).resolve().parents[1]
COLLECTIONS = Path(os.environ.get("VOICEOPS_COLLECTIONS", ROOT / ".collections"))
sys.path.insert(0, str(COLLECTIONS))

from ansible_collections.voiceops.avr.plugins.module_utils.registry.model import SLOT_ROLES  # noqa: E402
from ansible_collections.voiceops.avr.plugins.module_utils.registry.registry import (  # noqa: E402
    Registry, builtin, default_reference, images_by_role,
)
from ansible_collections.voiceops.avr.plugins.module_utils.registry.tags import ENVIRONMENTS, POLICIES  # noqa: E402
from ansible_collections.voiceops.avr.plugins.plugin_utils.render import plan  # noqa: E402

CATALOG = ROOT / "docs" / "catalog.md"
ARGUMENT_SPECS = ROOT / "roles" / "stack" / "meta" / "argument_specs.yml"
MOLECULE = ROOT / "extensions" / "molecule" / "templates" / "molecule.yml"


def _cell(text: Any) -> str:
    if text is None or text == "":
        return ""
    return str(text).replace("|", "\\|").replace("\n", " ")


def catalog_page(reg: Registry) -> str:
    lines: List[str] = [
        "# Registry catalog",
        "",
        "Generated from `plugins/module_utils/registry` by `scripts/generate.py`; do not edit.",
        "Registry digest: `sha256:%s`." % reg.digest,
        "",
        "## Templates",
        "",
        "| template | stack | functional | services | AVR example |",
        "|---|---|---|---|---|",
    ]
    for tid, tpl in sorted(reg.templates.items()):
        services = ", ".join("`%s`" % img.service_name for img in tpl.images)
        example = "`%s`" % tpl.example if tpl.example else ""
        functional = "yes" if tpl.functional else "no"
        lines.append("| `%s` | %s | %s | %s | %s |" % (tid, tpl.stack, functional, services, example))
    lines += ["", "## Providers", "", "| provider | key | serves |", "|---|---|---|"]
    for name, provider in sorted(reg.providers.items()):
        if provider.env:
            key = "`%s`" % provider.env
        else:
            key = "file `%s` (0600)" % provider.file if provider.file else "none"
        serves = ", ".join("%s: `%s`" % (role, img.key) for role in SLOT_ROLES
                           for pname, img in sorted(reg.role_providers[role].items()) if pname == name)
        lines.append("| `%s` | %s | %s |" % (name, key, serves))
    lines += ["", "## Tag policies", "",
              "Every image names the policy its tags follow; `tag_environment` (role: `stack_tag_environment`)",
              "picks the column. An untagged image counts as `latest`; a reference pinned by digest alone passes.",
              "", "| policy | %s | description |" % " | ".join(ENVIRONMENTS),
              "|---|%s---|" % ("---|" * len(ENVIRONMENTS))]
    for name, policy in sorted(POLICIES.items()):
        cells = [", ".join("%s (`%s`)" % (p.name, p.example) for p in policy.patterns(env)) for env in ENVIRONMENTS]
        lines.append("| `%s` | %s | %s |" % (name, " | ".join(cells), _cell(policy.description)))
    lines += ["", "## Images", ""]
    for img in images_by_role(reg):
        lines += ["### `%s`" % img.key, "", _cell(img.description), "",
                  "- docker image: `%s`" % img.image,
                  "- service: `%s`" % img.service_name,
                  "- tag policy: `%s`" % img.tag_policy]
        if img.pinned_tag or img.pinned_digest:
            lines.append("- pinned: `%s`" % default_reference(img))
        if img.port is not None:
            lines.append("- port: %s%s" % (img.port, " (websocket, `STS_URL`)" if img.ws_port else ""))
        if img.ports:
            lines.append("- published: %s" % ", ".join("`%s`" % p for p in img.ports))
        if img.volumes:
            lines.append("- mounts: %s" % ", ".join("`%s`" % v for v in img.volumes))
        if img.host_paths:
            lines.append("- host paths mounted on purpose (outside the project directory): %s"
                         % ", ".join("`%s`" % p for p in img.host_paths))
        lines.append("")
        if img.env:
            lines += ["| variable | default | required | secret | supplied by | description |",
                      "|---|---|---|---|---|---|"]
            for var in img.env:
                lines.append("| `%s` | %s | %s | %s | %s | %s |" % (
                    var.name, "`%s`" % _cell(var.default) if var.default is not None else "",
                    "yes" if var.required else "", "yes" if var.secret else "",
                    _cell(var.source or ("provider `%s`" % var.provider if var.provider else "")),
                    _cell(var.description)))
            lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


#: Options of the release machinery (tags, digests, releases, health gate), shared by both entry points.
RELEASE_OPTIONS: Dict[str, Any] = {
    "stack_tag_environment": {"type": "str", "default": "dev", "choices": ["dev", "prod"],
                              "description": ["Environment whose tag policy every image must follow (V(prod): only "
                                              "release tags vX.Y.Z for AVR images, version numbers for others)."]},
    "stack_tag": {"type": "str", "default": "",
                  "description": ["Tag for every image whose registry entry names no tag of its own, "
                                  "e.g. V(v1.4.0) or V(dev-20261122093000)."]},
    "stack_tags": {"type": "dict", "default": {}, "description": ["Tag per registry service name."]},
    "stack_digests": {"type": "dict", "default": {},
                      "description": ["Digest (V(sha256:...)) per registry service name."]},
    "stack_resolve_digests": {"type": "bool", "default": True,
                              "description": ["Pull every image the current release does not already run, resolve "
                                              "its tag to a digest, run and record C(repository:tag@digest).",
                                              "An image whose repository and tag are unchanged keeps the digest "
                                              "its current release runs: a tag moved in the image registry is "
                                              "followed when the tag, or C(stack_digests), changes."]},
    "stack_registry_accounts": {
        "type": "list", "elements": "dict", "default": [],
        "description": ["Registry accounts to log in to before pulling: C(name), C(url), C(provider), "
                        "C(namespace), C(username), C(read_only) (must be true) and C(credential_ref), a reference "
                        "to the password or token - C({vault: variable}), C({env: NAME}) or C({file: path}) "
                        "on the controller. Only the Docker credential store of the host receives the value."]},
    "stack_releases_keep": {"type": "int", "default": 5,
                            "description": ["Release directories kept on the host (older ones are pruned)."]},
    "stack_health_checks": {"type": "list", "elements": "dict", "default": [],
                            "description": ["HTTP checks of the health gate, run from the host after every service "
                                            "is running/healthy: C(url), C(status) (default 200)."]},
    "stack_health_timeout": {"type": "int", "default": 60,
                             "description": ["Seconds the HTTP checks may take to pass."]},
    "stack_stability_window": {"type": "int", "default": 12,
                               "description": [
                                   "Seconds each service the run started or restarted must run, from its start, "
                                   "without exiting or being restarted by Docker (voiceops.avr.health_gate); a crash "
                                   "fails the gate as soon as it is seen.",
                                   "A little longer than the 10 s after which Docker treats a container as started "
                                   "successfully (and resets its restart back-off); V(0) only checks readiness."]},
    "stack_ready_timeout": {"type": "int", "default": 20,
                            "description": ["Seconds the readiness probes of the services the run started may take "
                                            "to pass (a TCP connection to the container port, or Docker's health "
                                            "status; probes are image data of the registry or catalog)."]},
    "stack_rollback_on_failure": {"type": "bool", "default": True,
                                  "description": ["Restore the last active release when a new one fails the gate."]},
    "stack_retry_failed": {"type": "bool", "default": False,
                           "description": ["Apply a release whose content already failed the gate on this host "
                                           "(by default such a run changes nothing and fails)."]},
    "stack_trace_id": {"type": "str", "default": "",
                       "description": ["Trace id for the history (default: VOICEOPS_TRACE_ID or generated)."]},
    "stack_actor": {"type": "str", "default": "",
                    "description": ["Who runs it, for the history (default: VOICEOPS_ACTOR, else the user)."]},
}


def argument_specs(reg: Registry) -> str:
    templates = ", ".join(sorted(reg.templates))
    providers = "; ".join("%s: %s" % (role, ", ".join(sorted(reg.role_providers[role]))) for role in SLOT_ROLES)
    secret_names = sorted({v.secret_name for img in reg.images.values() for v in img.env if v.secret_name})
    key_providers = sorted(name for name, p in reg.providers.items() if p.needs_key)
    for tpl in reg.templates.values():
        plan(reg, tpl)
    options: Dict[str, Any] = {
        "stack_template": {"type": "str", "default": "",
                           "description": ["Registry template to deploy: %s." % templates,
                                           "Leave empty and set O(stack_kind) and O(stack_providers) instead."]},
        "stack_kind": {"type": "str", "default": "", "choices": ["", "modular", "sts"],
                       "description": ["Stack built from providers when no template is given."]},
        "stack_providers": {"type": "dict", "default": {},
                            "description": ["Provider per role for O(stack_kind) (%s)." % providers]},
        "stack_catalog": {"type": "raw", "default": {},
                          "description": ["Catalog adding or replacing images and templates (mapping or file)."]},
        "stack_deployment": {"type": "str",
                             "description": ["Deployment (compose project) name; defaults to the template id."]},
        "stack_project_dir": {"type": "path",
                              "description": ["Project directory on the host; defaults to /srv/avr/<deployment>."]},
        "stack_state": {"type": "str", "default": "present", "choices": ["present", "absent"],
                        "description": ["V(absent) stops and removes the containers and the network."]},
        "stack_purge": {"type": "bool", "default": False,
                        "description": ["With O(stack_state=absent), also delete the project directory."]},
        "stack_provider_keys": {"type": "dict", "default": {}, "no_log": True,
                                "description": ["API key per provider (%s); never stored in environment.json."
                                                % ", ".join(key_providers)]},
        "stack_secrets": {"type": "dict", "default": {}, "no_log": True,
                          "description": ["Named secrets (%s)." % ", ".join(secret_names)]},
        "stack_env": {"type": "dict", "default": {},
                      "description": ["Values per registry service name, kept in environment.json."]},
        "stack_service_prefix": {"type": "str", "default": "",
                                 "description": ["Prefix of service, container and network names."]},
        "stack_subnet": {"type": "str", "default": "", "description": ["Subnet of the stack network."]},
        "stack_ports": {"type": "dict", "default": {},
                        "description": ["Published ports per service name, replacing the template's."]},
        "stack_image_prefix": {"type": "str", "default": "",
                               "description": ["Registry or mirror prefix for every image, e.g. C(localhost:5000/)."]},
        "stack_pull": {"type": "str", "default": "policy", "choices": ["always", "missing", "never", "policy"],
                       "description": ["Image pull policy of docker compose."]},
        "stack_wait": {"type": "bool", "default": True,
                       "description": ["Wait until every service is running or healthy."]},
        "stack_wait_timeout": {"type": "int", "default": 120, "description": ["Seconds to wait."]},
        "stack_run": {"type": "bool", "default": True,
                      "description": ["Start the stack; V(false) only writes the files."]},
        "stack_allow_missing": {"type": "bool", "default": False,
                                "description": ["Write missing keys as compose interpolations instead of failing."]},
        "stack_publish_address": {"type": "str", "default": "",
                                  "description": ["Host address for every published port (default: all)."]},
        "stack_management_address": {"type": "str", "default": "127.0.0.1",
                                     "description": ["Host address of the management ports (AMI, ARI, AMI bridge)."]},
        "stack_ami_username": {"type": "str", "default": "avr", "description": ["AMI user name."]},
        "stack_ami_password": {"type": "str", "default": "", "no_log": True,
                               "description": ["AMI password; generated and kept on the host when empty."]},
        "stack_ari_username": {"type": "str", "default": "avr", "description": ["ARI user name."]},
        "stack_ari_password": {"type": "str", "default": "", "no_log": True,
                               "description": ["ARI password; generated and kept on the host when empty."]},
        "stack_sip_transport": {"type": "str", "default": "tcp", "choices": ["tcp", "udp"],
                                "description": ["SIP transport of Asterisk."]},
        "stack_sip_port": {"type": "int", "default": 5060, "description": ["SIP port of Asterisk."]},
        "stack_sip_external_address": {"type": "str", "default": "127.0.0.1",
                                       "description": ["Address Asterisk announces for signaling and media."]},
        "stack_sip_local_net": {"type": "str", "default": "127.0.0.1/32",
                                "description": ["Local network of Asterisk."]},
        "stack_sip_endpoints": {"type": "list", "elements": "dict", "no_log": False,
                                "default": [{"user": "1000", "password": "1000"}],
                                "description": ["SIP endpoints (C(user), C(password))."]},
        "stack_rtp_start": {"type": "int", "default": 10000, "description": ["First RTP port."]},
        "stack_rtp_end": {"type": "int", "default": 10050, "description": ["Last RTP port."]},
        "stack_core_port": {"type": "int", "default": 5001, "description": ["AudioSocket port of the core."]},
        "stack_mount_files": {"type": "list", "elements": "str", "default": ["tools/get_availability.js"],
                              "description": ["Mounted files created empty when missing."]},
        "stack_log_lines": {"type": "int", "default": 30,
                            "description": ["Log lines shown for a service that fails to start."]},
    }
    options.update(RELEASE_OPTIONS)
    rollback_options = {name: options[name] for name in (
        "stack_deployment", "stack_project_dir", "stack_pull", "stack_wait", "stack_wait_timeout",
        "stack_log_lines")}
    rollback_options.update(RELEASE_OPTIONS)
    rollback_options["stack_rollback_release"] = {
        "type": "str", "default": "previous",
        "description": ["Release id to go back to, or V(previous) for the newest release older than the "
                        "current one that was ever active (two rollbacks in a row go back twice)."]}
    for name in ("stack_tag_environment", "stack_tag", "stack_tags", "stack_digests", "stack_resolve_digests",
                 "stack_registry_accounts", "stack_retry_failed", "stack_rollback_on_failure"):
        del rollback_options[name]
    spec = {"argument_specs": {"main": {
        "short_description": "Deploy or remove one AVR voice-agent deployment with Docker Compose",
        "description": [
            "Generated from the registry by scripts/generate.py; do not edit.",
            "Writes the Asterisk configuration, environment.json, the compose file and credential files,",
            "then runs the stack with community.docker.docker_compose_v2.",
        ],
        "options": options,
    }, "rollback": {
        "short_description": "Roll a deployment back to an earlier release kept on the host",
        "description": [
            "Generated by scripts/generate.py; do not edit.",
            "Puts the release's compose file and environment.json back, runs it through the health gate,",
            "records the current release rolled_back and the restored one active.",
        ],
        "options": rollback_options,
    }}}
    return "---\n" + yaml.safe_dump(spec, sort_keys=False, width=110, default_flow_style=False)


def molecule_scenario(reg: Registry) -> str:
    """The Molecule scenario with one container target per template."""
    head = MOLECULE.read_text(encoding="utf-8").split("platforms:\n", 1)[0] if MOLECULE.exists() else ""
    tail = MOLECULE.read_text(encoding="utf-8").split("provisioner:\n", 1)[1] if MOLECULE.exists() else ""
    hosts = tail.split("    host_vars:\n", 1)
    platforms = "".join(
        "  - name: avr-%s\n"
        "    image: \"${VOICEOPS_TARGET_IMAGE:-localhost/voiceops-target:bookworm-docker}\"\n"
        "    pre_build_image: true\n"
        "    command: sleep infinity\n"
        "    groups: [voice]\n" % tid for tid in sorted(reg.templates))
    host_vars = "".join("      avr-%s:\n        stack_template: %s\n" % (tid, tid) for tid in sorted(reg.templates))
    rest = hosts[1].split("scenario:\n", 1)[1]
    return head + "platforms:\n" + platforms + "provisioner:\n" + hosts[0] + "    host_vars:\n" + host_vars \
        + "scenario:\n" + rest


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    reg = builtin()
    outputs = {CATALOG: catalog_page(reg), ARGUMENT_SPECS: argument_specs(reg), MOLECULE: molecule_scenario(reg)}
    stale = []
    for path, text in outputs.items():
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        stale.append(path)
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    if stale and args.check:
        print("out of date (run scripts/generate.py): %s" % ", ".join(str(p.relative_to(ROOT)) for p in stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
