# -*- coding: utf-8 -*-
# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of voiceops.avr.voice_compose: render on the controller, write on the target."""

from __future__ import annotations

import hashlib
import json
import os
import pwd
import re
import secrets as secrets_module
import string
import time
from dataclasses import replace
from typing import Any, Dict, List, Mapping, Optional

from ansible.errors import AnsibleError
from ansible import constants
from ansible.template import trust_as_template

from ansible_collections.voiceops.avr.plugins.module_utils import layout
from ansible_collections.voiceops.avr.plugins.module_utils.containers import differences
from ansible_collections.voiceops.avr.plugins.module_utils.masking import mask_equal_values
from ansible_collections.voiceops.avr.plugins.module_utils.registry.model import readiness
from ansible_collections.voiceops.avr.plugins.module_utils.registry.purposes import port_needs
from ansible_collections.voiceops.avr.plugins.module_utils.registry.snapshot import load as load_snapshot
from ansible_collections.voiceops.avr.plugins.plugin_utils.action import (
    ENV_FILE, FILE_SPEC, SECRETS_SPEC, AnsibleActionFail, StackAction, attributes_match, check_file_mode,
    builtin_secret_vars, check_project_file, kept_generation, masked, plain, recorded_generation,
    registry_secret_vars, with_shared_env,
)
from ansible_collections.voiceops.avr.plugins.module_utils.registry.tags import ENVIRONMENTS
from ansible_collections.voiceops.avr.plugins.plugin_utils.emitters import swarm as swarm_emitter
from ansible_collections.voiceops.avr.plugins.plugin_utils.references import image_references
from ansible_collections.voiceops.avr.plugins.plugin_utils.render import (
    Inputs, check_credential_file, check_name, describe, mount_path, render, services_mounting,
)

HIDDEN = "(credential file: content hidden)\n"
_FILE_NAME = re.compile(r"[A-Za-z0-9_.][A-Za-z0-9_.-]*")
_ALNUM = string.ascii_letters + string.digits
#: The file each engine runs a deployment from, by default, and the mode it gets by default (a stack file
#: holds no secret value).
ENGINE_FILES = {"compose": (layout.COMPOSE_FILE, "0600"), "swarm": (layout.STACK_FILE, "0644")}
_VERSION_KEY = re.compile(r"[0-9a-f]{64}")


class ActionModule(StackAction):
    ARGUMENT_SPEC = {
        "deployment": {"type": "str"},
        "env": {"type": "dict", "default": {}},
        "service_prefix": {"type": "str", "default": ""},
        "subnet": {"type": "str"},
        "image_prefix": {"type": "str", "default": ""},
        "ports": {"type": "dict", "default": {}},
        "volumes": {"type": "dict", "default": {}},
        "publish_address": {"type": "str"},
        "management_address": {"type": "str"},
        "allow_missing": {"type": "bool", "default": False},
        "engine": {"type": "str", "default": "compose", "choices": sorted(ENGINE_FILES)},
        "placement": {"type": "str"},
        "compose_file": {"type": "str"},
        "tag": {"type": "str"},
        "tags": {"type": "dict", "default": {}},
        "digests": {"type": "dict", "default": {}},
        "keep_digests": {"type": "bool", "default": False},
        "tag_environment": {"type": "str", "default": "dev", "choices": list(ENVIRONMENTS)},
        "registry_digest": {"type": "str"},
        "mode": {"type": "raw"},
        "kept_secrets": {"type": "list", "elements": "str", "default": []},
        "config_files": {"type": "dict", "default": {}},
        "mount_files": {"type": "list", "elements": "str", "default": []},
        "observe": {"type": "bool", "default": False},
        "mount_folders": {"type": "bool", "default": False},
        "registry_from": {"type": "raw"},
        "shared_env": {"type": "dict", "default": {}},
        "snapshot": {"type": "bool", "default": False},
    }
    ARGUMENT_SPEC.update(SECRETS_SPEC)
    ARGUMENT_SPEC.update(FILE_SPEC)

    def act(self, task_vars: Dict[str, Any]) -> Dict[str, Any]:
        args = self.validated_args()
        source = args["registry_from"]
        snapshot_name = None
        if source is not None and args["catalog"] is not None:
            raise AnsibleActionFail("registry_from: a registry snapshot already holds the catalog it was made "
                                    "with; give catalog or registry_from, not both")
        if isinstance(source, Mapping):
            registry = load_snapshot(plain(source), "registry_from")
            _check_version(args["registry_version"], registry)
        elif isinstance(source, str):
            snapshot_name = _snapshot_name(source, args["project_dir"])
            registry = self.registry(None, args["registry_version"])  # what the stack mounts, until it is read
        elif source is not None:
            raise AnsibleActionFail("registry_from: expected a path in the project directory or a registry "
                                    "snapshot (a mapping), got %s" % type(source).__name__)
        else:
            registry = self.registry(args["catalog"], args["registry_version"])
        return self._act(task_vars, args, registry, snapshot_name, None)

    def _act(self, task_vars: Dict[str, Any], args: Dict[str, Any], registry: Any, snapshot_name: Optional[str],
             prefetched: Optional[Dict[str, Any]]) -> Dict[str, Any]:
        """Render from ``registry`` and write; ``snapshot_name``: a snapshot to read on the target and render
        from instead; ``prefetched``: what an earlier pass inspected (reused when it covers this pass)."""
        args = engine_defaults(args)
        swarm = args["engine"] == "swarm"
        if swarm and args["observe"]:
            raise AnsibleActionFail("observe: not available with engine swarm (it compares the containers of a compose "
                                    "project); leave it out")
        registry, template, stack_plan = self.resolve(args, registry)
        env = with_shared_env(stack_plan, args["shared_env"], args["env"])
        if args["registry_digest"] and args["registry_digest"] != registry.digest:
            raise AnsibleActionFail("registry_digest: %r was asked for, but this collection (with its catalog) has "
                                    "registry digest %r; install the collection version that rendered it"
                                    % (args["registry_digest"], registry.digest))
        deployment = check_name(template.id if args["deployment"] is None else args["deployment"], "deployment")
        check_name(args["service_prefix"], "service_prefix", allow_empty=True)
        compose_file = _compose_file(args["compose_file"])
        secret_vars = sorted({v.name for img in stack_plan.images for v in img.env if v.secret})
        known_secret_vars = sorted(set(secret_vars) | set(registry_secret_vars(registry)))
        credential_files = _credential_files(registry, stack_plan, compose_file)
        kept = _kept_secret_names(args["kept_secrets"], known_secret_vars)
        # masked on the target: every secret name of this registry and of every built-in generation, so that the
        # file is masked the same whichever generation it was rendered with (one inspect covers both passes)
        mask_vars = sorted(set(known_secret_vars) | set(builtin_secret_vars()))
        config_sources = {_project_path(name, "config_files", compose_file): src
                          for name, src in args["config_files"].items()}
        mount_files = [_project_path(name, "mount_files", compose_file) for name in args["mount_files"]]
        check_file_mode(args["mode"], False, compose_file)
        directory = args["project_dir"]
        diff_mode = bool(self._task.diff)
        given_refs = image_references(stack_plan.images, args["image_prefix"], args["tag"], args["tags"],
                                      args["digests"], args["tag_environment"], policies=registry.tag_policies)
        inputs = Inputs(deployment=deployment, service_prefix=args["service_prefix"],
                        provider_keys=args["provider_keys"], secrets=args["secrets"], env=env,
                        allow_missing=args["allow_missing"], subnet=args["subnet"], image_prefix=args["image_prefix"],
                        publish_address=args["publish_address"], management_address=args["management_address"],
                        ports=args["ports"], references=given_refs, volumes=args["volumes"])
        # what the stack mounts depends on registry data and volumes only: learn it from a render without the
        # task's values
        sketch = Inputs(deployment=deployment, service_prefix=args["service_prefix"], allow_missing=True,
                        references=given_refs, volumes=args["volumes"])
        sketch_doc = render(registry, template, sketch).document
        mounts = describe(sketch_doc)["mounts"]
        mounted = sorted({mount_path(path) for paths in mounts.values() for path in paths})
        config_sources = {name: src for name, src in config_sources.items() if services_mounting(mounts, [name])}
        placeholders = [name for name in mount_files if name in mounted]
        directories: List[str] = []
        if args["mount_folders"]:
            files = set(config_sources) | set(mount_files) | set(credential_files) | set(args["config_files"])
            directories = sorted(({path for path in mounted if path not in files}
                                  | {os.path.dirname(name) for name in list(config_sources) + placeholders}) - {""})

        names = [compose_file, ENV_FILE] + credential_files + sorted(config_sources) + placeholders
        read = [ENV_FILE]
        if snapshot_name is not None:
            names.append(snapshot_name)
            read.append(snapshot_name)
        if args["snapshot"]:
            names.append(layout.REGISTRY_SNAPSHOT)
        if swarm:
            names += [layout.SWARM_KEY] + _swarm_files(registry, stack_plan, sorted(config_sources))
            read.append(layout.SWARM_KEY)
        if kept:
            names.append(layout.CREDENTIALS_FILE)
            read.append(layout.CREDENTIALS_FILE)
        current_meta = layout.CURRENT + "/" + layout.RELEASE_META
        names.append(current_meta)
        read.append(current_meta)
        read_masked = [compose_file] if diff_mode and not swarm else []
        if diff_mode and swarm:  # a stack file holds no secret value: read as it is, masked by value below
            read.append(compose_file)
        observe: Dict[str, Any] = {}
        if args["observe"]:
            observe = {"compose_project": deployment, "containers": describe(sketch_doc)["containers"],
                       "images": sorted({str(ref) for ref in given_refs.values() if not ref.digest})}
        asked = {"names": set(names + directories), "read": set(read), "read_masked": set(read_masked),
                 "observe": observe, "mask_vars": set(mask_vars)}
        if prefetched is not None and _covers(prefetched["asked"], asked):
            info = prefetched["info"]
        else:
            info = self.inspect(task_vars, directory, names + directories, read=read, read_masked=read_masked,
                                mask_vars=mask_vars, docker=observe, read_header=[compose_file])
        seen = {"asked": asked, "info": info}
        if snapshot_name is not None:  # render from the snapshot read on the target
            snapshot_info = info[snapshot_name]
            check_project_file(snapshot_info, directory, snapshot_name)
            if not snapshot_info.get("exists"):
                raise AnsibleActionFail("registry_from: %s/%s does not exist" % (directory, snapshot_name))
            loaded = load_snapshot(snapshot_info.get("content") or "", "registry_from (%s/%s)"
                                   % (directory, snapshot_name))
            _check_version(args["registry_version"], loaded)
            return self._act(task_vars, args, loaded, None, seen)
        recorded = recorded_generation(info[compose_file], os.path.join(directory, compose_file), args)
        kept_version = kept_generation(args, registry, recorded)
        if kept_version is not None:
            return self._act(task_vars, args, self.registry(args["catalog"], kept_version), None, seen)
        stored = self.stored_env(info[ENV_FILE], directory, template.id)
        release = _release_meta(info[current_meta])
        secrets = dict(args["secrets"])
        kept_values = _kept_values(kept, secrets, info.get(layout.CREDENTIALS_FILE), directory)
        secrets.update(kept_values)
        references = given_refs
        if args["keep_digests"] and release:
            recorded = _recorded_digests(release, given_refs, args["digests"])
            if recorded:
                references = image_references(stack_plan.images, args["image_prefix"], args["tag"], args["tags"],
                                              dict(args["digests"], **recorded), args["tag_environment"],
                                              policies=registry.tag_policies)
        inputs = replace(inputs, secrets=secrets, references=references,
                         stored_env=stored.get("services") if stored else None)
        rendered = render(registry, template, inputs)

        out: Dict[str, Any] = {
            "changed": False,
            "dest": os.path.join(directory, compose_file),
            "checksum": rendered.checksum,
            "registry_digest": registry.digest,
            "registry_version": registry.generation,
            "registry_version_before": recorded,
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
        running = (release or {}).get("images") if isinstance((release or {}).get("images"), dict) else {}
        out["to_pull"] = sorted(svc for svc, ref in references.items()
                                if not ref.digest or running.get(svc) != str(ref))
        out["credential_files"] = credential_files
        out["gate"] = gate_data(rendered.document, stack_plan.images, out["services"])
        out["port_needs"] = port_needs(template)

        configs = {name: self._config_text(src, name, task_vars, secrets, roles, deployment)
                   for name, src in sorted(config_sources.items())}
        owner = {"owner": args["owner"], "group": args["group"]}
        main = rendered
        version_key = ""
        if swarm:  # the engine step: the stack file from the same description, and what its secrets are made of
            check_project_file(info[layout.SWARM_KEY], directory, layout.SWARM_KEY)
            version_key = _version_key(info[layout.SWARM_KEY], directory)
            file_env = {img.service_name: {var.name: var.file_env for var in img.env if var.secret and var.file_env}
                        for img in stack_plan.images}
            main = swarm_emitter.emit(rendered.deployment, configs, version_key=bytes.fromhex(version_key),
                                      placement=args["placement"], file_env=file_env,
                                      secret_texts=sorted(secrets.values()))
            out["checksum"] = main.checksum
            out["swarm"] = _stack_summary(main)
        wanted = self._wanted(main, args, compose_file)
        if swarm:
            wanted.append(dict(name=layout.SWARM_KEY, content=version_key + "\n", mode="0600", secret=True, **owner))
        wanted += [dict(name=name, content=text, mode="0600", secret=True, **owner) for name, text in configs.items()]
        if kept:
            wanted.append(dict(name=layout.CREDENTIALS_FILE, content=_credentials_text(kept_values), mode="0600",
                               secret=True, **owner))
        if args["snapshot"]:
            wanted.append(dict(name=layout.REGISTRY_SNAPSHOT, content=registry.snapshot_text(), mode="0644",
                               secret=False, **owner))
        for spec in wanted:
            info.setdefault(spec["name"], {})  # a file no inspect could foresee (see _swarm_files) is written
            check_project_file(info[spec["name"]], directory, spec["name"])
        pending = [spec for spec in wanted
                   if info[spec["name"]].get("checksum") != _sha1(spec["content"])
                   or not attributes_match(spec, info[spec["name"]])]
        pending += [dict(name=name, content="", mode="0640", **owner) for name in placeholders
                    if not info[name].get("exists")]
        missing_dirs = [name for name in directories if not info[name].get("exists")]
        out["release_files"] = sorted(sorted(configs) + ([layout.CREDENTIALS_FILE] if kept else [])
                                      + ([layout.REGISTRY_SNAPSHOT] if args["snapshot"] else [])
                                      + (sorted(main.files) if swarm else []))
        out["release"] = _release_state(release, main.checksum, info, out["release_files"], wanted)
        changed_files = [spec["name"] for spec in pending if spec["name"] != compose_file]
        out["restart"] = services_mounting(out["mounts"], changed_files)
        out["record"] = _record(out, args, inputs, references)
        if args["observe"]:
            reasons = differences(self.docker_seen, deployment, {
                spec["container_name"]: spec["image"] for spec in rendered.document["services"].values()})
            out["running"] = {"as_rendered": not reasons, "reasons": reasons}
        written: Dict[str, Any] = {}
        if pending or missing_dirs:
            written = self.files_module(task_vars, path=directory, files=pending, directories=missing_dirs,
                                        backup=args["backup"])
        out["changed"] = bool(written.get("changed"))
        out["written"] = written.get("written", [])
        out["made_directories"] = written.get("made_directories", [])
        if written.get("backup_files"):
            out["backup_file"] = written["backup_files"].get(compose_file)
        if diff_mode and out["changed"]:
            out["diff"] = self._diff(info, wanted, main, secret_vars, directory)
        return out

    def _config_text(self, source: str, name: str, task_vars: Dict[str, Any], secrets: Dict[str, str],
                     roles: Dict[str, List[str]], deployment: str) -> str:
        """A configuration file of the deployment: the Jinja template ``source`` (searched like
        ansible.builtin.template's src) rendered on the controller with the task's variables plus
        ``voice_secrets``, ``voice_roles`` and ``voice_deployment``."""
        try:
            path = self._find_needle("templates", source)
        except AnsibleError:
            raise AnsibleActionFail("config_files.%s: no Jinja template %r in the templates folders of the role or "
                                    "the playbook" % (name, source)) from None
        variables = dict(task_vars)
        if "ansible_managed" not in variables:
            variables["ansible_managed"] = _managed(source, path)
        variables.update({"voice_secrets": secrets, "voice_roles": roles, "voice_deployment": deployment})
        templar = self._templar.copy_with_new_env(available_variables=variables)
        text = templar.template(trust_as_template(self._loader.get_text_file_contents(path)),
                                escape_backslashes=False)
        return "" if text is None else str(text)

    def _wanted(self, rendered: Any, args: Dict[str, Any], compose_file: str) -> List[Dict[str, Any]]:
        """The files to write for ``rendered``; refuses a readable mode for a file holding secrets."""
        if isinstance(rendered, swarm_emitter.Rendered):
            holds_secrets = rendered.holds_secrets  # its secrets are in the files of ``rendered.files``
        else:
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
            if spec["name"] == wanted[0]["name"] and isinstance(rendered, swarm_emitter.Rendered):
                before = current.get("content", "") if current.get("exists") else ""
                before = mask_equal_values(before, rendered.secret_values)
                after = mask_equal_values(spec["content"], rendered.secret_values)
            elif spec["name"] == wanted[0]["name"]:
                before = current.get("content", "") if current.get("exists") else ""
                before = mask_equal_values(before, rendered.secret_values)  # masked by structure on the target
                after = masked(spec["content"], secret_vars, rendered.secret_values)
            else:
                before = HIDDEN if current.get("exists") else ""
                after = HIDDEN
            diffs.append({"before": before, "after": after, "before_header": path, "after_header": path})
        return diffs


def _check_version(version: Optional[str], registry: Any) -> None:
    if version is not None and version != registry.generation:
        raise AnsibleActionFail("registry_version: %r was asked for, but the registry snapshot of registry_from is "
                                "generation %r" % (version, registry.generation))


def _snapshot_name(source: str, directory: str) -> str:
    """The project-relative name of the snapshot file ``source`` (relative to the project directory, or an
    absolute path inside it)."""
    name = source
    root = directory.rstrip("/") + "/"
    if source.startswith("/"):
        if not source.startswith(root):
            raise AnsibleActionFail("registry_from: %r is outside the project directory %r; give a path inside it "
                                    "(like current/registry.json) or the snapshot itself" % (source, directory))
        name = source[len(root):]
    if not layout.plain_relative(name):
        raise AnsibleActionFail("registry_from: %r is not a path inside the project directory (like "
                                "releases/<id>/registry.json)" % source)
    return name


def _covers(before: Mapping[str, Any], now: Mapping[str, Any]) -> bool:
    """Whether what an earlier inspect asked for covers what this pass needs (the masked variables matter only
    for the files read masked)."""
    return (now["names"] <= before["names"] and now["read"] <= before["read"]
            and now["read_masked"] <= before["read_masked"]
            and (not now["read_masked"] or now["mask_vars"] <= before["mask_vars"])
            and now["observe"] == before["observe"])


def _managed(source: str, path: str) -> str:
    """The ``ansible_managed`` text, as ansible.builtin.template makes it (plain values, never templated)."""
    text = str(constants.config.get_config_value("DEFAULT_MANAGED_STR"))
    try:
        owner = pwd.getpwuid(os.stat(path).st_uid).pw_name
    except KeyError:
        owner = str(os.stat(path).st_uid)
    text = text.replace("{host}", os.uname()[1]).replace("{uid}", owner).replace("{file}", source)
    return time.strftime(text, time.localtime(os.stat(path).st_mtime))


def engine_defaults(args: Dict[str, Any]) -> Dict[str, Any]:
    """``args`` with the engine's defaults of ``compose_file`` and ``mode`` where they are not given."""
    name, mode = ENGINE_FILES.get(args.get("engine") or "compose", ENGINE_FILES["compose"])  # a subclass's own
    given = args.get("compose_file")  # an empty name is refused by _compose_file, not defaulted
    return dict(args, engine=args.get("engine") or "compose", compose_file=name if given is None else given,
                mode=mode if args.get("mode") is None else args["mode"])


def _version_key(info: Mapping[str, Any], directory: str) -> str:
    """The deployment's key of its secret versions (``swarm/version.key``, made here when it has none)."""
    if not info.get("exists"):
        return secrets_module.token_hex(32)
    text = (info.get("content") or "").strip()
    if not _VERSION_KEY.fullmatch(text):
        raise AnsibleActionFail("%s/%s: not a key of secret versions (64 hexadecimal digits); remove it, and every "
                                "Swarm secret of the deployment gets a new name" % (directory, layout.SWARM_KEY))
    return text


def _swarm_files(registry: Any, stack_plan: Any, config_paths: List[str]) -> List[str]:
    """The files the stack's secrets and configs are made of, as far as the registry foresees them: one per
    secret reference of the stack's images and per configuration file (a secret or a config)."""
    refs = set()
    for img in stack_plan.images:
        for var in img.env:
            provider = registry.providers.get(var.provider or "")
            if var.secret:
                refs.add(provider.env if provider is not None and provider.env else var.secret_name or var.name)
            elif provider is not None and provider.file:
                refs.add(provider.env or provider.name)
    files = {swarm_emitter.secret_file(ref) for ref in refs}
    for path in config_paths:
        files |= {swarm_emitter.secret_file(path), swarm_emitter.config_file(path)}
    return sorted(files)


def _stack_summary(stack: Any) -> Dict[str, Any]:
    """What the stack creates in Swarm (never a value): services, secrets and configs by name."""
    doc = stack.document
    return {"services": list(doc["services"]),
            "secrets": sorted(name for name, path in stack.secrets.items() if path),
            "external_secrets": sorted(name for name, path in stack.secrets.items() if not path),
            "configs": sorted(stack.configs),
            "networks": sorted(doc["networks"]),
            "file_only": {service: list(names) for service, names in stack.file_only.items()}}


def _compose_file(name: str) -> str:
    if not _FILE_NAME.fullmatch(name) or name in (".", "..") \
            or (name not in layout.MAIN_FILES and layout.reserved(name)):
        raise AnsibleActionFail("compose_file: %r must be a plain file name (letters, digits, '.', '_', '-') "
                                "that the project directory does not use otherwise" % name)
    return name


def _credential_files(registry: Any, stack_plan: Any, compose_file: str) -> List[str]:
    """The credential files the stack's providers use (names checked)."""
    files = set()
    for provider in sorted({v.provider for img in stack_plan.images for v in img.env if v.provider}):
        if provider in registry.providers and registry.providers[provider].file:
            name = check_credential_file(provider, registry.providers[provider].file)
            if name == compose_file:
                raise AnsibleActionFail("providers.%s.file: %r is the compose file" % (provider, name))
            files.add(name)
    return sorted(files)


def _project_path(name: Any, field: str, compose_file: str) -> str:
    """A relative path inside the project that no file of the project layout already is."""
    text = str(name)
    if not layout.plain_relative(text) or text.split("/", 1)[0] in (layout.RELEASES, layout.CURRENT) \
            or text in (compose_file, ENV_FILE, layout.CREDENTIALS_FILE):
        raise AnsibleActionFail("%s: %r must be a relative path inside the project directory that is not one of "
                                "its own files (the compose file, environment.json, the releases)" % (field, text))
    return text


def _kept_secret_names(names: List[str], known: List[str]) -> List[str]:
    for name in names:
        if name not in known:
            raise AnsibleActionFail("kept_secrets: %r is not a secret any image of the registry reads" % name)
    return sorted(set(names))


def _kept_values(names: List[str], given: Dict[str, Any], info: Any, directory: str) -> Dict[str, str]:
    """The kept secrets: given (non-empty), else kept on the host, else generated (24 letters and digits)."""
    kept: Dict[str, Any] = {}
    if names and info and info.get("exists"):
        try:
            kept = json.loads(info.get("content") or "")
        except ValueError:
            kept = None  # type: ignore[assignment]
        if not isinstance(kept, dict) or not all(isinstance(v, str) for v in kept.values()):
            raise AnsibleActionFail("%s/%s: not a JSON object of secret names to strings; fix or remove the file "
                                    "(new secrets are then generated)" % (directory, layout.CREDENTIALS_FILE))
    values = {}
    for name in names:
        value = given.get(name) or kept.get(name.lower())
        values[name] = value if value else "".join(secrets_module.choice(_ALNUM) for _count in range(24))
    return values


def _credentials_text(values: Dict[str, str]) -> str:
    return json.dumps({name.lower(): value for name, value in values.items()}, indent=4, sort_keys=True,
                      ensure_ascii=False) + "\n"


def _release_meta(info: Mapping[str, Any]) -> Optional[Dict[str, Any]]:
    """The current release's release.json (None without one; a broken one counts as none here: the
    release module refuses it, naming the file, before anything is staged)."""
    if not info.get("exists") or info.get("outside"):
        return None
    try:
        data = json.loads(info.get("content") or "")
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _recorded_digests(release: Mapping[str, Any], given: Mapping[str, Any], digests: Mapping[str, Any]
                      ) -> Dict[str, str]:
    """Digests the current release runs for the images still asked for at the same repository and tag."""
    recorded = release.get("images")
    found: Dict[str, str] = {}
    if not isinstance(recorded, dict):
        return found
    for service, ref in given.items():
        if service in digests or ref.digest or not isinstance(recorded.get(service), str):
            continue
        name, _at, digest = recorded[service].partition("@")
        if digest and name == str(ref):
            found[service] = digest
    return found


def _release_state(release: Optional[Mapping[str, Any]], checksum: str, info: Mapping[str, Any],
                   release_files: List[str], wanted: List[Dict[str, Any]]) -> Dict[str, Any]:
    """Whether the current release holds exactly what this task renders (compose file, environment.json as
    it is now, the configuration and credentials files)."""
    if not release:
        return {"current": None, "unchanged": False}
    contents = {spec["name"]: _sha1(spec["content"]) for spec in wanted}
    same = (release.get("checksum") == checksum
            and release.get("environment_checksum") == info[ENV_FILE].get("checksum")
            and release.get("files", {}) == {name: contents.get(name) for name in release_files})
    return {"current": release.get("id"), "unchanged": bool(same)}


def _record(out: Mapping[str, Any], args: Mapping[str, Any], inputs: Inputs,
            references: Mapping[str, Any]) -> Dict[str, Any]:
    """What a release of this rendering records (release.json and history): never a key or secret value.
    ``inputs`` re-render the same bytes with the secrets and provider keys it names (``volumes`` only when
    given, so that a record of a deployment without them reads as it did before the option existed)."""
    digests = {svc: ref.digest for svc, ref in references.items() if ref.digest}
    record = {
        "deployment": out["deployment"],
        "template": out["template"],
        "registry_digest": out["registry_digest"],
        "registry_version": out["registry_version"],
        "tag_environment": args["tag_environment"],
        "images": {svc: info["reference"] for svc, info in out["images"].items()},
        "tags": {svc: info["tag"] for svc, info in out["images"].items()},
        "digests": digests,
        "mounts": out["mounts"],
        "gate": out["gate"],
        "inputs": {
            "template": args["template"], "stack": args["stack"], "providers": args["providers"],
            "catalog": args["catalog"], "registry_version": out["registry_version"],
            "deployment": inputs.deployment, "service_prefix": inputs.service_prefix,
            "subnet": inputs.subnet, "ports": args["ports"], "image_prefix": inputs.image_prefix,
            "publish_address": inputs.publish_address, "management_address": inputs.management_address,
            "env": inputs.env, "allow_missing": inputs.allow_missing, "tag": args["tag"], "tags": args["tags"],
            "digests": digests, "tag_environment": args["tag_environment"],
            "provider_keys": sorted(args["provider_keys"]), "secrets": sorted(inputs.secrets or {}),
        },
    }
    if args["volumes"]:
        record["inputs"]["volumes"] = args["volumes"]
    if args["engine"] != "compose":  # a compose deployment's record reads as before engines existed
        record["engine"] = args["engine"]
        record["inputs"].update(engine=args["engine"], placement=args["placement"])
    return record


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
