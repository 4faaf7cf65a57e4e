# -*- coding: utf-8 -*-
# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of voiceops.avr.voice_compose: render on the controller, write on the target."""

from __future__ import annotations

import hashlib
import os
import re
from typing import Any, Dict, List

from ansible_collections.voiceops.avr.plugins.module_utils import layout
from ansible_collections.voiceops.avr.plugins.module_utils.masking import mask_equal_values
from ansible_collections.voiceops.avr.plugins.module_utils.registry.model import RegistryError, readiness
from ansible_collections.voiceops.avr.plugins.plugin_utils.action import (
    ENV_FILE, FILE_SPEC, SECRETS_SPEC, AnsibleActionFail, StackAction, attributes_match, check_file_mode,
    check_project_file, masked, registry_secret_vars,
)
from ansible_collections.voiceops.avr.plugins.module_utils.registry.tags import ENVIRONMENTS
from ansible_collections.voiceops.avr.plugins.plugin_utils.references import image_references
from ansible_collections.voiceops.avr.plugins.plugin_utils.render import (
    check_credential_file, check_name, describe, render,
)

HIDDEN = "(credential file: content hidden)\n"
_FILE_NAME = re.compile(r"[A-Za-z0-9_.][A-Za-z0-9_.-]*")


class ActionModule(StackAction):
    ARGUMENT_SPEC = {
        "deployment": {"type": "str"},
        "env": {"type": "dict", "default": {}},
        "service_prefix": {"type": "str", "default": ""},
        "subnet": {"type": "str"},
        "image_prefix": {"type": "str", "default": ""},
        "ports": {"type": "dict", "default": {}},
        "publish_address": {"type": "str"},
        "management_address": {"type": "str"},
        "allow_missing": {"type": "bool", "default": False},
        "compose_file": {"type": "str", "default": layout.COMPOSE_FILE},
        "tag": {"type": "str"},
        "tags": {"type": "dict", "default": {}},
        "digests": {"type": "dict", "default": {}},
        "tag_environment": {"type": "str", "default": "dev", "choices": list(ENVIRONMENTS)},
        "registry_digest": {"type": "str"},
        "mode": {"type": "raw", "default": "0600"},
    }
    ARGUMENT_SPEC.update(SECRETS_SPEC)
    ARGUMENT_SPEC.update(FILE_SPEC)

    def act(self, task_vars: Dict[str, Any]) -> Dict[str, Any]:
        args = self.validated_args()
        registry, template, stack_plan = self.resolve(args)
        if args["registry_digest"] and args["registry_digest"] != registry.digest:
            raise AnsibleActionFail("registry_digest: %r was asked for, but this collection (with its catalog) has "
                                    "registry digest %r; install the collection version that rendered it"
                                    % (args["registry_digest"], registry.digest))
        try:
            deployment = check_name(template.id if args["deployment"] is None else args["deployment"], "deployment")
            check_name(args["service_prefix"], "service_prefix", allow_empty=True)
            references = image_references(stack_plan.images, args["image_prefix"], args["tag"], args["tags"],
                                          args["digests"], args["tag_environment"])
        except RegistryError as exc:
            raise AnsibleActionFail(str(exc)) from None
        compose_file = args["compose_file"]
        if not _FILE_NAME.fullmatch(compose_file) or compose_file in (".", "..") \
                or (compose_file != layout.COMPOSE_FILE and layout.reserved(compose_file)):
            raise AnsibleActionFail("compose_file: %r must be a plain file name (letters, digits, '.', '_', '-') "
                                    "that the project directory does not use otherwise" % compose_file)
        secret_vars = sorted({v.name for img in stack_plan.images for v in img.env if v.secret})
        known_secret_vars = sorted(set(secret_vars) | set(registry_secret_vars(registry)))
        credential_files = sorted({registry.providers[v.provider].file  # type: ignore[misc]
                                   for img in stack_plan.images for v in img.env
                                   if v.provider in registry.providers and registry.providers[v.provider].file})
        try:
            for provider in sorted({v.provider for img in stack_plan.images for v in img.env if v.provider}):
                if provider in registry.providers and registry.providers[provider].file:
                    file_name = check_credential_file(provider, registry.providers[provider].file)  # type: ignore
                    if file_name == compose_file:
                        raise AnsibleActionFail("providers.%s.file: %r is the compose file" % (provider, file_name))
        except RegistryError as exc:
            raise AnsibleActionFail(str(exc)) from None
        check_file_mode(args["mode"], False, compose_file)
        directory = args["project_dir"]
        diff_mode = bool(self._task.diff)

        names = [compose_file, ENV_FILE] + credential_files
        read = [ENV_FILE]
        read_masked = [compose_file] if diff_mode else []

        def render_with(stored: Any) -> Any:
            return render(registry, template, deployment, args["service_prefix"], args["provider_keys"],
                          args["secrets"], stored, args["env"], args["allow_missing"], args["subnet"],
                          args["image_prefix"], args["publish_address"], args["management_address"], args["ports"],
                          references)

        # One round trip when the project has no environment.json (the common first run and re-run
        # without voice_env): render as if it were absent and let the target write only if it is.
        written: Dict[str, Any] = {}
        try:
            rendered = render_with(None)
        except RegistryError:
            rendered = None  # may need values from environment.json: read it first
        if rendered is not None:
            wanted = self._wanted(rendered, args, compose_file)
            written = self.files_module(task_vars, path=directory, inspect=names, read=read, read_masked=read_masked,
                                        mask_vars=known_secret_vars, files=wanted, backup=args["backup"],
                                        expect_absent=[ENV_FILE])
            info = dict(written.get("files", {}))
            if written.get("precondition_failed"):
                rendered, written = None, {}
        if rendered is None:
            info = self.inspect(task_vars, directory, names, read=read, read_masked=read_masked,
                                mask_vars=known_secret_vars)
            stored = self.stored_env(info[ENV_FILE], directory, template.id)
            try:
                rendered = render_with(stored.get("services") if stored else None)
            except RegistryError as exc:
                raise AnsibleActionFail(str(exc)) from None
            wanted = self._wanted(rendered, args, compose_file)
            for spec in wanted:
                check_project_file(info[spec["name"]], directory, spec["name"])
            pending = [spec for spec in wanted
                       if info[spec["name"]].get("checksum") != _sha1(spec["content"])
                       or not attributes_match(spec, info[spec["name"]])]
            if pending:
                written = self.files_module(task_vars, path=directory, files=pending, backup=args["backup"])

        out: Dict[str, Any] = {
            "changed": False,
            "dest": os.path.join(directory, compose_file),
            "checksum": rendered.checksum,
            "registry_digest": registry.digest,
            "deployment": deployment,
            "template": template.id,
            "services": list(rendered.document["services"]),
            "provider_keys": rendered.providers,
            "environment_file": info[ENV_FILE].get("exists", False),
            "written": [],
        }
        out.update(describe(rendered.document))
        roles: Dict[str, List[str]] = {}
        for img, name in zip(stack_plan.images, out["services"]):
            roles.setdefault(img.role, []).append(name)
        out["roles"] = roles
        out["images"] = {
            img.service_name: {"service": name, "reference": str(references[img.service_name]),
                               "repository": references[img.service_name].repository,
                               "tag": references[img.service_name].tag,
                               "digest": references[img.service_name].digest, "tag_policy": img.tag_policy}
            for img, name in zip(stack_plan.images, out["services"])
        }
        out["credential_files"] = credential_files
        out["gate"] = gate_data(rendered.document, stack_plan.images, out["services"])
        out["changed"] = bool(written.get("changed"))
        out["written"] = written.get("written", [])
        if written.get("backup_files"):
            out["backup_file"] = written["backup_files"].get(compose_file)
        if diff_mode and out["changed"]:
            out["diff"] = self._diff(info, wanted, rendered, secret_vars, directory)
        return out

    def _wanted(self, rendered: Any, args: Dict[str, Any], compose_file: str) -> List[Dict[str, Any]]:
        """The files to write for ``rendered``; refuses a readable mode for a file holding secrets."""
        holds_secrets = bool(rendered.secret_values or rendered.files)
        check_file_mode(args["mode"], holds_secrets, compose_file)
        owner = {"owner": args["owner"], "group": args["group"]}
        wanted = [dict(name=compose_file, content=rendered.content, mode=args["mode"], secret=holds_secrets, **owner)]
        wanted += [dict(name=name, content=text, mode="0600", secret=True, **owner)
                   for name, text in sorted(rendered.files.items())]
        return wanted

    def _diff(self, info: Dict[str, Any], wanted: List[Dict[str, Any]], rendered: Any, secret_vars: List[str],
              directory: str) -> List[Dict[str, Any]]:
        diffs = []
        for spec in wanted:
            current = info[spec["name"]]
            if current.get("checksum") == _sha1(spec["content"]):
                continue
            path = os.path.join(directory, spec["name"])
            if spec["name"] == wanted[0]["name"]:
                before = current.get("content", "") if current.get("exists") else ""
                before = mask_equal_values(before, rendered.secret_values)  # masked by structure on the target
                after = masked(spec["content"], secret_vars, rendered.secret_values)
            else:
                before = HIDDEN if current.get("exists") else ""
                after = HIDDEN
            diffs.append({"before": before, "after": after, "before_header": path, "after_header": path})
        return diffs


def gate_data(document: Dict[str, Any], images: Any, services: List[str]) -> Dict[str, Any]:
    """What the health gate (voiceops.avr.health_gate) needs per deployed service: its container, the
    deployment network it is reached on and its readiness probes (image data, see registry.model.readiness)."""
    networks = document.get("networks", {})
    gate: Dict[str, Any] = {}
    for img, name in zip(images, services):
        spec = document["services"][name]
        keys = list(spec.get("networks") or [])
        network = networks.get(keys[0], {}).get("name", keys[0]) if keys else None
        gate[name] = {"container": spec.get("container_name", name), "network": network,
                      "probes": [{"type": p.type, "port": p.port} for p in readiness(img)]}
    return gate


def _sha1(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()
