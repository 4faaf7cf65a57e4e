# -*- coding: utf-8 -*-
# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of voiceops.avr.voice_manifests: the Kubernetes resources of a deployment.

The same inputs and the same path as voice_compose (its ActionModule, subclassed): resolved on the
controller, one inspect and at most one write on the target through voiceops.avr.project_files. What
differs is the file written (``kubernetes/manifests.yml`` instead of the compose file, from the Kubernetes
emitter) and what is never written: credential files (their content goes into a Secret the user manages).
"""

from __future__ import annotations

import hashlib
import os
from typing import Any, Dict, List, Mapping, Optional

from ansible_collections.voiceops.avr.plugins.action.voice_compose import HIDDEN, _release_meta, _release_state
from ansible_collections.voiceops.avr.plugins.action.voice_compose import ActionModule as ComposeAction
from ansible_collections.voiceops.avr.plugins.module_utils import layout
from ansible_collections.voiceops.avr.plugins.module_utils.registry.model import readiness
from ansible_collections.voiceops.avr.plugins.plugin_utils.action import AnsibleActionFail, check_file_mode
from ansible_collections.voiceops.avr.plugins.plugin_utils.emitters import kubernetes

MANIFESTS = layout.MANIFESTS_FILE
#: the result fields of voice_compose that name Docker things a Kubernetes deployment does not have
DOCKER_ONLY = ("containers", "networks", "published")


class ActionModule(ComposeAction):
    ARGUMENT_SPEC = {key: dict(value) for key, value in ComposeAction.ARGUMENT_SPEC.items()
                     if key not in ("compose_file", "observe")}
    ARGUMENT_SPEC["mode"] = {"type": "raw", "default": "0644"}
    ARGUMENT_SPEC.update({
        "namespace": {"type": "str"},
        "image_pull_secrets": {"type": "list", "elements": "str", "default": []},
        "registry_accounts": {"type": "list", "elements": "dict", "default": []},
        "volume_size": {"type": "str", "default": "1Gi"},
    })

    def validated_args(self) -> Dict[str, Any]:
        args = super().validated_args()
        args.update(compose_file=layout.COMPOSE_FILE, observe=False)
        return args

    def act(self, task_vars: Dict[str, Any]) -> Dict[str, Any]:
        self._k8s: Dict[str, Any] = {"configs": {}}
        out = super().act(task_vars)
        manifests = self._k8s["manifests"]
        for key in DOCKER_ONLY:
            out.pop(key, None)
        out.pop("backup_file", None)
        # the current release holds the manifests file (compose_file kubernetes/manifests.yml): compare its checksum
        info = self._k8s["info"]
        release = _release_meta(info[layout.CURRENT + "/" + layout.RELEASE_META])
        out["release"] = _release_state(release, manifests.checksum, info, out["release_files"], self._k8s["wanted"])
        out.update(dest=os.path.join(self._k8s["directory"], MANIFESTS), checksum=manifests.checksum,
                   manifests=MANIFESTS, namespace=manifests.namespace, resources=manifests.resources,
                   references=manifests.references, host_network=manifests.host_network)
        return out

    def resolve(self, args: Mapping[str, Any], registry: Any = None) -> Any:
        found = super().resolve(args, registry)
        self._k8s["plan"] = found[2]  # the pass that renders is the last to resolve
        return found

    def inspect(self, task_vars: Dict[str, Any], directory: str, names: List[str], read: List[str],
                mask_vars: Optional[List[str]] = None, read_masked: Optional[List[str]] = None,
                docker: Optional[Dict[str, Any]] = None, read_header: Optional[List[str]] = None
                ) -> Dict[str, Dict[str, Any]]:
        """voice_compose's inspect, with the manifests file read (its header names the generation the
        deployment keeps, as the compose file's does for voice_compose)."""
        files = super().inspect(task_vars, directory, list(names) + [MANIFESTS], list(read) + [MANIFESTS],
                                mask_vars=mask_vars, read_masked=[], docker=None, read_header=[MANIFESTS])
        files[layout.COMPOSE_FILE] = files[MANIFESTS]
        self._k8s["info"] = files
        return files

    def _wanted(self, rendered: Any, args: Dict[str, Any], compose_file: str) -> List[Dict[str, Any]]:
        """The manifests file only: credential files are never written (they go into the files Secret). Its
        content is completed as each configuration file is rendered (``_config_text``)."""
        check_file_mode(args["mode"], False, MANIFESTS)
        spec = dict(name=MANIFESTS, content="", mode=args["mode"], secret=False, owner=args["owner"],
                    group=args["group"])
        self._k8s.update(spec=spec, deployment=rendered.deployment, directory=args["project_dir"],
                         options=self._options(args))
        self._emit()
        self._k8s["wanted"] = [spec]  # voice_compose adds the configuration files to this list
        return self._k8s["wanted"]

    def _config_text(self, source: str, name: str, task_vars: Dict[str, Any], secrets: Dict[str, str],
                     roles: Dict[str, List[str]], deployment: str) -> str:
        text = super()._config_text(source, name, task_vars, secrets, roles, deployment)
        raw = self._loader.get_text_file_contents(self._find_needle("templates", source))
        self._k8s.setdefault("texts", {})[name] = (text, "voice_secrets" in raw, [v for v in secrets.values() if v])
        if "deployment" in self._k8s:
            self._emit()
        return text

    def _classify(self) -> None:
        """The configuration files rendered so far as ConfigFiles: secret when the source template reads
        voice_secrets or the text holds a secret value of the render (voice_compose may render them before the
        manifests file is wanted, so this waits for the deployment)."""
        known = [v for v in self._k8s["deployment"].secret_values.values() if v]
        for name, (text, reads_secrets, values) in self._k8s.get("texts", {}).items():
            holds = reads_secrets or any(value in text for value in values + known)
            self._k8s["configs"][name] = kubernetes.ConfigFile(path=name, text=text, secret=holds)

    def _emit(self) -> None:
        self._classify()
        manifests = kubernetes.emit(self._k8s["deployment"], self._k8s["configs"], self._k8s["options"])
        self._k8s["manifests"] = manifests
        self._k8s["spec"]["content"] = manifests.content

    def _options(self, args: Mapping[str, Any]) -> kubernetes.Options:
        deployment = self._k8s_deployment_name(args)
        namespace = args["namespace"] or None
        target = namespace or deployment
        pull = list(args["image_pull_secrets"])
        for index, account in enumerate(args["registry_accounts"]):
            found = _k8s_secret(account, index)
            if found is None:
                continue
            where, secret_namespace, name = found
            if secret_namespace != target:
                raise AnsibleActionFail("%s: the Kubernetes Secret %r is in namespace %r; the pods of this deployment "
                                        "run in namespace %r and can only pull with a Secret of their own namespace"
                                        % (where, "%s/%s" % (secret_namespace, name), secret_namespace, target))
            if name not in pull:
                pull.append(name)
        plan = self._k8s["plan"]
        return kubernetes.Options(namespace=namespace, image_pull_secrets=tuple(pull), volume_size=args["volume_size"],
                                  probes={img.service_name: readiness(img) for img in plan.images})

    def _k8s_deployment_name(self, args: Mapping[str, Any]) -> str:
        return self._k8s["plan"].template.id if args["deployment"] is None else args["deployment"]

    def _diff(self, info: Dict[str, Any], wanted: List[Dict[str, Any]], rendered: Any, secret_vars: List[str],
              directory: str) -> List[Dict[str, Any]]:
        """The manifests as they are (they hold no secret); every other file (configuration files, kept
        credentials) hidden."""
        diffs = []
        for spec in wanted:
            current = info[spec["name"]]
            if current.get("checksum") == _sha1(spec["content"]):
                continue
            path = os.path.join(directory, spec["name"])
            if spec["name"] == MANIFESTS:
                before = current.get("content", "") if current.get("exists") else ""
                after = spec["content"]
            else:
                before = HIDDEN if current.get("exists") else ""
                after = HIDDEN
            diffs.append({"before": before, "after": after, "before_header": path, "after_header": path})
        return diffs


def _k8s_secret(account: Any, index: int) -> Optional[tuple]:
    """(field, namespace, name) of a registry account whose credential_ref is a Kubernetes Secret
    (``k8s:<namespace>/<name>``, or ``{k8s: <namespace>/<name>}``); None for any other account."""
    where = "registry_accounts[%d].credential_ref" % index
    ref = account.get("credential_ref") if isinstance(account, Mapping) else None
    if isinstance(ref, Mapping) and list(ref) == ["k8s"]:
        text = ref["k8s"]
    elif isinstance(ref, str) and ref.startswith("k8s:"):
        text = ref[4:]
    else:
        return None
    namespace, slash, name = str(text).partition("/")
    for part in (namespace, name):
        if not slash or len(part) > 63 or not kubernetes.DNS_LABEL.fullmatch(part):
            raise AnsibleActionFail("%s: %r is not k8s:<namespace>/<name> (each a Kubernetes name: lower case "
                                    "letters, digits and '-')" % (where, "k8s:" + str(text)))
    return where, namespace, name


def _sha1(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()
