# -*- coding: utf-8 -*-
# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of voiceops.avr.voice_env: the deployment's environment.json store."""

from __future__ import annotations

import hashlib
import os
import random
import time
from typing import Any, Dict

from ansible_collections.voiceops.avr.plugins.plugin_utils import envstore
from ansible_collections.voiceops.avr.plugins.plugin_utils.action import (
    ENV_FILE, FILE_SPEC, SECRETS_SPEC, AnsibleActionFail, StackAction, attributes_match, check_file_mode,
    check_project_file, kept_generation, recorded_generation, with_shared_env,
)
from ansible_collections.voiceops.avr.plugins.module_utils.layout import COMPOSE_FILE
from ansible_collections.voiceops.avr.plugins.plugin_utils.render import check_secret_inputs


#: How often a write is tried again when another run changed environment.json meanwhile.
ATTEMPTS = 50


class ActionModule(StackAction):
    ARGUMENT_SPEC = {
        "set": {"type": "dict", "default": {}},
        "shared_env": {"type": "dict", "default": {}},
        "unset": {"type": "dict", "default": {}},
        "reset": {"type": "bool", "default": False},
        "mode": {"type": "raw", "default": "0644"},
    }
    ARGUMENT_SPEC.update(SECRETS_SPEC)
    ARGUMENT_SPEC.update(FILE_SPEC)

    def act(self, task_vars: Dict[str, Any]) -> Dict[str, Any]:
        args = self.validated_args()
        registry, template, stack = self.resolve(args)
        directory = args["project_dir"]
        path = os.path.join(directory, ENV_FILE)
        check_file_mode(args["mode"], False, ENV_FILE)
        # Read, modify on the controller, write only if the file still has the checksum read (checked under the
        # target's lock on the project directory); another run changed it meanwhile: read it again and retry.
        for attempt in range(ATTEMPTS):
            found = self.inspect(task_vars, directory, [ENV_FILE, COMPOSE_FILE], read=[ENV_FILE],
                                 read_header=[COMPOSE_FILE])
            info = found[ENV_FILE]
            kept_version = kept_generation(
                args, registry, recorded_generation(found[COMPOSE_FILE], os.path.join(directory, COMPOSE_FILE), args))
            if kept_version is not None:
                registry, template, stack = self.resolve(args, self.registry(args["catalog"], kept_version))
            # the keys and secrets this generation reads (a 2025.09 deployment's secrets are not all 2026.06's)
            check_secret_inputs(registry, args["provider_keys"], args["secrets"])
            check_project_file(info, directory, ENV_FILE)
            current = envstore.load(info.get("content") if info.get("exists") else None, path)
            data = envstore.update(registry, stack, current, with_shared_env(stack, args["shared_env"], args["set"]),
                                   args["unset"], args["reset"], path)
            text = envstore.dump(data)
            spec = {"name": ENV_FILE, "content": text, "mode": args["mode"], "owner": args["owner"],
                    "group": args["group"]}
            same = info.get("checksum") == hashlib.sha1(text.encode("utf-8")).hexdigest()
            written: Dict[str, Any] = {}
            if not same or not attributes_match(spec, info):
                written = self.files_module(task_vars, path=directory, files=[spec], backup=args["backup"],
                                            expect_checksums={ENV_FILE: info.get("checksum")})
                if written.get("precondition_failed"):
                    time.sleep(random.uniform(0.01, 0.05 * (attempt + 1)))
                    continue
            break
        else:
            raise AnsibleActionFail("%s: changed by other runs %d times while this one updated it; run again"
                                    % (path, ATTEMPTS))
        out: Dict[str, Any] = {
            "changed": bool(written.get("changed")),
            "dest": path,
            "template": template.id,
            "registry_version": registry.generation,
            "environment": data["services"],
            "missing": envstore.missing(stack, data),
            "seeded": current is None or args["reset"],
        }
        out.update(envstore.secrets_report(registry, stack, args["provider_keys"], args["secrets"]))
        if written.get("backup_files"):
            out["backup_file"] = written["backup_files"].get(ENV_FILE)
        if self._task.diff and not same:
            out["diff"] = {"before": info.get("content", "") if info.get("exists") else "", "after": text,
                           "before_header": path, "after_header": path}
        return out
