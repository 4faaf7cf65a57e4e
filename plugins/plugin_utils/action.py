# -*- coding: utf-8 -*-
# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared controller-side machinery of the voiceops.avr action plugins.

Arguments are validated on the controller; the registry (with any catalog) is
resolved there; the target only runs ``voiceops.avr.project_files``, once to
inspect and, when something must change, once to write.
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Mapping, Optional, Tuple

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.voiceops.avr.plugins.module_utils.masking import MASK, mask_env_lines, mask_values
from ansible_collections.voiceops.avr.plugins.module_utils.registry.catalog import (
    effective_registry, plain_data, type_name,
)
from ansible_collections.voiceops.avr.plugins.module_utils.registry.model import RegistryError, Template
from ansible_collections.voiceops.avr.plugins.module_utils.registry.registry import Registry
from ansible_collections.voiceops.avr.plugins.plugin_utils.catalog_file import load as load_catalog_file
from ansible_collections.voiceops.avr.plugins.plugin_utils.render import Plan, plan

FILES_MODULE = "voiceops.avr.project_files"
ENV_FILE = "environment.json"

#: Options every action that selects a stack accepts (documented in the doc fragment ``selection``).
SELECTION_SPEC: Dict[str, Dict[str, Any]] = {
    "template": {"type": "str"},
    "stack": {"type": "str", "choices": ["modular", "sts"]},
    "providers": {"type": "dict"},
    "catalog": {"type": "raw"},
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

    def resolve(self, args: Mapping[str, Any]) -> Tuple[Registry, Template, Plan]:
        """The effective registry, the selected template and its plan; bad input fails the task."""
        registry = self.registry(args["catalog"])
        try:
            template = registry.select(args["template"], args["stack"], args["providers"])
            return registry, template, plan(registry, template)
        except RegistryError as exc:
            raise AnsibleActionFail(str(exc)) from None

    def registry(self, catalog: Any) -> Registry:
        if catalog is None:
            return effective_registry(None)
        try:
            if isinstance(catalog, str):
                path = catalog if os.path.isabs(catalog) or not catalog else self._loader.path_dwim(catalog)
                data = load_catalog_file(path, catalog)
            elif isinstance(catalog, Mapping):
                data = plain_data(catalog)
            else:
                raise RegistryError("catalog: expected a file path or a mapping, got %s" % type_name(catalog))
            return effective_registry(data)
        except RegistryError as exc:
            raise AnsibleActionFail(str(exc)) from None

    def files_module(self, task_vars: Dict[str, Any], **args: Any) -> Dict[str, Any]:
        """Run voiceops.avr.project_files on the target; fail the task on its failure."""
        result = self._execute_module(module_name=FILES_MODULE, module_args=args, task_vars=task_vars)
        result.pop("invocation", None)
        if result.get("failed"):
            raise AnsibleActionFail(result.get("msg", "voiceops.avr.project_files failed"))
        return result

    def inspect(self, task_vars: Dict[str, Any], directory: str, names: List[str], read: List[str],
                mask_vars: Optional[List[str]] = None) -> Dict[str, Dict[str, Any]]:
        result = self.files_module(task_vars, path=directory, inspect=names, read=read,
                                   mask_vars=sorted(mask_vars or []))
        files = dict(result.get("files", {}))
        for name in read:
            offset = files.get(name, {}).get("invalid_utf8")
            if name == ENV_FILE and offset is not None:
                raise AnsibleActionFail("%s/%s: not valid UTF-8 text (bad byte at offset %d); fix or remove the file"
                                        % (directory, name, offset))
        return files

    def stored_env(self, info: Mapping[str, Any], directory: str) -> Optional[Dict[str, Any]]:
        """The parsed environment.json from an inspect result (None when absent)."""
        if not info.get("exists"):
            return None
        try:
            data = json.loads(info.get("content") or "")
        except ValueError as exc:
            raise AnsibleActionFail("%s/%s: not valid JSON (%s); fix or remove the file"
                                    % (directory, ENV_FILE, exc)) from None
        if not isinstance(data, dict) or not isinstance(data.get("services", {}), dict):
            raise AnsibleActionFail("%s/%s: expected an object with a 'services' mapping" % (directory, ENV_FILE))
        return data


def mode_matches(wanted: Any, info: Mapping[str, Any]) -> Optional[bool]:
    """Whether an octal ``wanted`` mode equals the file's; None when only the target can tell."""
    if wanted is None:
        return True
    if isinstance(wanted, int):
        return "%04o" % wanted == info.get("mode")
    text = str(wanted)
    if text.isdigit():
        return "%04o" % int(text, 8) == info.get("mode")
    return None


def attributes_match(spec: Mapping[str, Any], info: Mapping[str, Any]) -> Optional[bool]:
    """Whether mode/owner/group of an existing file already are as asked (None: ask the target)."""
    for key in ("owner", "group"):
        wanted = spec.get(key)
        if wanted is not None and str(wanted) not in (info.get(key), str(info.get("uid" if key == "owner" else "gid"))):
            return False
    return mode_matches(spec.get("mode"), info)


def masked(text: str, secret_vars: Any, secret_values: Any) -> str:
    return mask_values(mask_env_lines(text, secret_vars), [v for v in secret_values if len(v) >= 6])


__all__ = ["StackAction", "AnsibleActionFail", "MASK", "masked", "attributes_match", "plain", "ENV_FILE",
           "SECRETS_SPEC", "FILE_SPEC"]

# Build the built-in registry, its digest and every template's plan once, when the controller
# loads the action plugin, so forked workers inherit them instead of each building its own.
_BUILTIN = effective_registry(None)
_BUILTIN_DIGEST = _BUILTIN.digest
for _template in _BUILTIN.templates.values():
    plan(_BUILTIN, _template)
