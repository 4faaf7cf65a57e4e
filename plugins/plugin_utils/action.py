# -*- coding: utf-8 -*-
# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared controller-side machinery of the voiceops.avr action plugins.

Arguments are validated on the controller; the registry (with any catalog) is
resolved there; the target only runs ``voiceops.avr.project_files``, once to
inspect and, when something must change, once to write.
"""

from __future__ import annotations

import functools
import json
import os
from typing import Any, Dict, List, Mapping, Optional, Tuple

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.voiceops.avr.plugins.module_utils import layout
from ansible_collections.voiceops.avr.plugins.module_utils.filemode import open_to_others, resulting_mode
from ansible_collections.voiceops.avr.plugins.module_utils.masking import HIDDEN, MASK, mask_compose, mask_equal_values
from ansible_collections.voiceops.avr.plugins.module_utils.registry.catalog import (
    effective_registry, plain_data, type_name,
)
from ansible_collections.voiceops.avr.plugins.module_utils.registry.model import RegistryError, Template
from ansible_collections.voiceops.avr.plugins.module_utils.registry.generations import FIRST, generations
from ansible_collections.voiceops.avr.plugins.module_utils.registry.registry import Registry
from ansible_collections.voiceops.avr.plugins.plugin_utils.catalog_file import load as load_catalog_file
from ansible_collections.voiceops.avr.plugins.plugin_utils.render import HEADER_REGISTRY, Plan, plan

FILES_MODULE = "voiceops.avr.project_files"
ENV_FILE = layout.ENV_FILE

#: Options every action that selects a stack accepts (documented in the doc fragment ``selection``).
SELECTION_SPEC: Dict[str, Dict[str, Any]] = {
    "template": {"type": "str"},
    "stack": {"type": "str", "choices": ["modular", "sts"]},
    "providers": {"type": "dict"},
    "catalog": {"type": "raw"},
    "registry_version": {"type": "str"},
    "project_dir": {"type": "path", "required": True},
}

#: Options of the actions that take keys and write a file (mode defaults differ per action).
SECRETS_SPEC: Dict[str, Dict[str, Any]] = {
    "provider_keys": {"type": "dict", "no_log": True, "default": {}},
    "secrets": {"type": "dict", "no_log": True, "default": {}},
}
FILE_SPEC: Dict[str, Dict[str, Any]] = {
    "owner": {"type": "str"},
    "group": {"type": "str"},
    "backup": {"type": "bool", "default": False},
}


def plain(value: Any) -> Any:
    """Task data without Ansible's tagged or lazy container types."""
    return json.loads(json.dumps(value))


class StackAction(ActionBase):
    """Base of the actions: argument validation, registry resolution, target round trips."""

    TRANSFERS_FILES = False
    ARGUMENT_SPEC: Dict[str, Dict[str, Any]] = {}
    MUTUALLY_EXCLUSIVE: List[List[str]] = [["template", "stack"], ["template", "providers"]]

    def run(self, tmp: Any = None, task_vars: Any = None) -> Dict[str, Any]:
        result = super(StackAction, self).run(tmp, task_vars)
        del tmp
        try:
            result.update(self.act(task_vars or {}))
        except RegistryError as exc:  # bad input found by the registry or the renderer: one line, in one place
            raise AnsibleActionFail(str(exc)) from None
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result

    def act(self, task_vars: Dict[str, Any]) -> Dict[str, Any]:
        """The action itself, given the task vars; returns the result fields."""
        raise NotImplementedError

    def validated_args(self) -> Dict[str, Any]:
        spec = dict(SELECTION_SPEC)
        spec.update(self.ARGUMENT_SPEC)
        _result, args = self.validate_argument_spec(argument_spec=spec,
                                                    mutually_exclusive=self.MUTUALLY_EXCLUSIVE,
                                                    required_one_of=[["template", "stack"]],
                                                    required_together=[["stack", "providers"]])
        return dict(args)

    def resolve(self, args: Mapping[str, Any], registry: Optional[Registry] = None) -> Tuple[Registry, Template, Plan]:
        """The effective registry (of the generation ``args`` asks for, unless ``registry`` is given), the
        selected template and its plan; bad input fails the task."""
        if registry is None:
            registry = self.registry(args["catalog"], args["registry_version"])
        template = registry.select(args["template"], args["stack"], args["providers"])
        return registry, template, plan(registry, template)

    def registry(self, catalog: Any, version: Optional[str] = None) -> Registry:
        """The built-in registry of generation ``version`` (None: the newest) with ``catalog`` (a path on the
        controller or a mapping)."""
        if catalog is None:
            return effective_registry(None, version)
        if isinstance(catalog, str):
            path = catalog if os.path.isabs(catalog) or not catalog else self._loader.path_dwim(catalog)
            data = load_catalog_file(path, catalog)
            try:
                return effective_registry(data, version)
            except RegistryError as exc:  # say which file the field is in
                raise RegistryError("%s (catalog file %s)" % (exc, catalog)) from None
        elif isinstance(catalog, Mapping):
            data = plain_data(catalog)
        else:
            raise RegistryError("catalog: expected a file path or a mapping, got %s" % type_name(catalog))
        return effective_registry(data, version)

    def files_module(self, task_vars: Dict[str, Any], **args: Any) -> Dict[str, Any]:
        """Run voiceops.avr.project_files on the target; fail the task on its failure."""
        result = self._execute_module(module_name=FILES_MODULE, module_args=args, task_vars=task_vars)
        result.pop("invocation", None)
        if result.get("failed"):
            msg = str(result.get("msg") or "voiceops.avr.project_files failed")
            if msg.startswith("path: "):  # the module's path is the task's project_dir
                msg = "project_dir: " + msg[len("path: "):]
            raise AnsibleActionFail(msg)
        return result

    def inspect(self, task_vars: Dict[str, Any], directory: str, names: List[str], read: List[str],
                mask_vars: Optional[List[str]] = None, read_masked: Optional[List[str]] = None,
                docker: Optional[Dict[str, Any]] = None, read_header: Optional[List[str]] = None
                ) -> Dict[str, Dict[str, Any]]:
        """What the target has of ``names`` (per name); with ``docker`` (compose_project, containers, images
        of voiceops.avr.project_files), what Docker has of the deployment too, under ``self.docker_seen``."""
        result = self.files_module(task_vars, path=directory, inspect=names, read=read,
                                   read_masked=read_masked or [], mask_vars=sorted(mask_vars or []),
                                   read_header=read_header or [], **(docker or {}))
        self.docker_seen = dict(result.get("docker") or {})
        files = dict(result.get("files", {}))
        for name in read:
            offset = files.get(name, {}).get("invalid_utf8")
            if name == ENV_FILE and offset is not None:
                raise AnsibleActionFail("%s/%s: not valid UTF-8 text (bad byte at offset %d); fix or remove the file"
                                        % (directory, name, offset))
        return files

    def stored_env(self, info: Mapping[str, Any], directory: str,
                   template: Optional[str] = None) -> Optional[Dict[str, Any]]:
        """The parsed environment.json from an inspect result (None when absent).

        With ``template``, refuses a store seeded for another template (as voice_env does).
        """
        check_project_file(info, directory, ENV_FILE)
        if not info.get("exists"):
            return None
        try:
            data = json.loads(info.get("content") or "")
        except ValueError as exc:
            raise AnsibleActionFail("%s/%s: not valid JSON (%s); fix or remove the file"
                                    % (directory, ENV_FILE, exc)) from None
        if not isinstance(data, dict) or not isinstance(data.get("services", {}), dict):
            raise AnsibleActionFail("%s/%s: expected an object with a 'services' mapping" % (directory, ENV_FILE))
        recorded = data.get("template")
        if template is not None and recorded and recorded != template:
            raise AnsibleActionFail("%s/%s: seeded for template %r, not %r; seed it again with voiceops.avr.voice_env "
                                    "reset=true" % (directory, ENV_FILE, recorded, template))
        return data


def with_shared_env(stack_plan: Plan, shared: Mapping[str, Any], env: Any) -> Any:
    """``env`` (``{service: {VAR: value}}``) on top of ``shared`` (``{VAR: value}``) set on every service of the
    stack whose env schema has VAR (a secret variable is refused: it never takes a plain value)."""
    if not shared:
        return env
    layer: Dict[str, Dict[str, Any]] = {}
    for img in stack_plan.images:
        for var in img.env:
            if var.name in shared:
                if var.secret:
                    raise RegistryError("shared_env.%s: %s is a secret of service %r; pass it in %s"
                                        % (var.name, var.name, img.service_name, var.source))
                layer.setdefault(img.service_name, {})[var.name] = shared[var.name]
    if not isinstance(env, Mapping):
        return env  # the renderer names the field and the value
    for service, values in env.items():
        if isinstance(values, Mapping) and isinstance(layer.get(service), dict):
            layer[service] = dict(layer[service], **values)
        else:
            layer[service] = values
    return layer


def recorded_generation(info: Mapping[str, Any], path: str, args: Mapping[str, Any]) -> Optional[str]:
    """The registry generation the compose file ``path`` was rendered with, from the header ``info`` read
    (voiceops.avr.project_files read_header): the generation it names; 2025.09 for a file rendered before
    generations existed; None when there is no rendered compose file. A generation this collection does not
    have is refused, naming the file, unless the task (``args``) names the registry to render with."""
    for line in info.get("header") or ():
        match = HEADER_REGISTRY.match(line)
        if match:
            found = match.group("generation") or FIRST
            if not names_registry(args) and found not in generations():
                raise AnsibleActionFail("%s: rendered with registry generation %r, which this collection does not "
                                        "have (it has %s); set registry_version to render it with one of them"
                                        % (path, found, ", ".join(generations())))
            return found
    return None


def names_registry(args: Mapping[str, Any]) -> bool:
    """Whether the task names the registry to render with (``registry_version`` or ``registry_from``)."""
    return args["registry_version"] is not None or args.get("registry_from") is not None


def kept_generation(args: Mapping[str, Any], registry: Registry, recorded: Optional[str]) -> Optional[str]:
    """The generation to render with instead of ``registry``'s: the one the deployment was rendered with
    (``recorded``), when the task names no registry; a deployment keeps it until asked for another."""
    if names_registry(args) or recorded is None or recorded == registry.generation:
        return None
    return recorded


def check_project_file(info: Mapping[str, Any], directory: str, name: str) -> None:
    """Refuse a project file that is a symlink leading outside the project or to nothing, or not a regular file."""
    if info.get("outside"):
        raise AnsibleActionFail("%s/%s: a symlink to %r, which leads outside the project directory; refusing to "
                                "follow it (a symlink to a file inside the project is followed)"
                                % (directory, name, info.get("symlink")))
    if info.get("symlink") is not None and not info.get("exists"):
        raise AnsibleActionFail("%s/%s: a symlink to %r, which does not exist; refusing to write through a dangling "
                                "link (point it at an existing file or remove it)"
                                % (directory, name, info.get("symlink")))
    if info.get("exists") and info.get("type") not in (None, "file"):
        raise AnsibleActionFail("%s/%s: a %s, not a regular file" % (directory, name, info.get("type")))


def check_file_mode(mode: Any, holds_secrets: bool, name: str) -> int:
    """The bits ``mode`` gives a new file; refuses an invalid mode, or one open to others for a file with secrets."""
    try:
        bits = resulting_mode(mode)
    except ValueError as exc:
        raise AnsibleActionFail(str(exc)) from None
    if holds_secrets and open_to_others(bits):
        raise AnsibleActionFail("mode: %r would make %s mode %04o, letting other users read the secrets it holds; "
                                "use 0600" % (mode, name, bits))
    return bits


@functools.lru_cache(maxsize=None)
def builtin_secret_vars() -> Tuple[str, ...]:
    """Every secret variable name of every built-in generation."""
    return tuple(sorted({name for version in generations()
                         for name in registry_secret_vars(effective_registry(None, version))}))


def registry_secret_vars(registry: Registry) -> List[str]:
    """Every secret variable name the registry (with its catalog) knows."""
    names = {var.name for img in registry.images.values() for var in img.env if var.secret}
    names |= {provider.env for provider in registry.providers.values() if provider.env}
    return sorted(names)


def attributes_match(spec: Mapping[str, Any], info: Mapping[str, Any]) -> bool:
    """Whether mode/owner/group of an existing file already are as asked (the mode computed as Ansible would)."""
    for key in ("owner", "group"):
        wanted = spec.get(key)
        if wanted is not None and str(wanted) not in (info.get(key), str(info.get("uid" if key == "owner" else "gid"))):
            return False
    if spec.get("mode") is None or "mode" not in info:
        return True
    current = int(info["mode"], 8)
    try:
        return resulting_mode(spec.get("mode"), current) == current
    except ValueError as exc:
        raise AnsibleActionFail(str(exc)) from None


def masked(text: str, secret_vars: Any, secret_values: Any = ()) -> str:
    """A rendered compose file with the value of every secret variable masked (hidden if it cannot be), and
    any whole value equal to a given secret value."""
    result = mask_compose(text, secret_vars)
    return HIDDEN if result is None else mask_equal_values(result, secret_values)


__all__ = ["StackAction", "AnsibleActionFail", "MASK", "masked", "attributes_match", "plain", "ENV_FILE",
           "recorded_generation", "kept_generation", "with_shared_env", "builtin_secret_vars",
           "SECRETS_SPEC", "FILE_SPEC", "check_file_mode", "check_project_file", "registry_secret_vars"]

# Build every built-in generation's registry, its digest and every template's plan once, when the
# controller loads the action plugin, so forked workers inherit them instead of each building its own.
for _version in generations():
    _BUILTIN = effective_registry(None, _version)
    _BUILTIN.snapshot_text()  # and with it the digest
    for _template in _BUILTIN.templates.values():
        plan(_BUILTIN, _template)
builtin_secret_vars()
