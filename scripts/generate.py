#!/usr/bin/env python
# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write the files derived from the registry: docs/catalog.md and the stack role's argument specs.

    scripts/generate.py          # rewrite them
    scripts/generate.py --check  # exit 1 (and name the files) when one is out of date
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
from pathlib import Path
from typing import Any, Dict, List, Mapping, Sequence, Tuple

import yaml

ROOT = Path(__file__).resolve().parents[1]
COLLECTIONS = Path(os.environ.get("VOICEOPS_COLLECTIONS", ROOT / ".collections"))
sys.path.insert(0, str(COLLECTIONS))

from ansible_collections.voiceops.avr.plugins.module_utils.registry.generations import (  # noqa: E402
    FIRST, generations,
)
from ansible_collections.voiceops.avr.plugins.module_utils.registry.model import SLOT_ROLES  # noqa: E402
from ansible_collections.voiceops.avr.plugins.module_utils.registry.registry import (  # noqa: E402
    Registry, builtin, default_reference, image_data, images_by_role, provider_data, template_data,
)
from ansible_collections.voiceops.avr.plugins.plugin_utils.render import Inputs, plan, render  # noqa: E402

CATALOG = ROOT / "docs" / "catalog.md"
ARGUMENT_SPECS = ROOT / "roles" / "stack" / "meta" / "argument_specs.yml"
MOLECULE = ROOT / "extensions" / "molecule" / "templates" / "molecule.yml"


def _cell(text: Any) -> str:
    if text is None or text == "":
        return ""
    return str(text).replace("|", "\\|").replace("\n", " ")


def _code(value: Any) -> str:
    """A value as inline code for the change lists: lists joined, None as ``none``."""
    if value is None:
        return "none"
    if isinstance(value, (list, tuple)):
        return ", ".join(_code(v) for v in value) if value else "none"
    if isinstance(value, dict):
        return ", ".join("%s: %s" % (k, _code(v)) for k, v in value.items()) if value else "none"
    text = str(value).replace("\n", " ")
    return "``%s``" % text if "`" in text else "`%s`" % text


def generation_info(gen_id: str) -> Tuple[str, str]:
    """Description and reference folder of a built-in generation ('' for one that is not built in)."""
    gen = generations().get(gen_id)
    return (gen.description, gen.reference) if gen is not None else ("", "")


def _provider_serves(reg: Registry) -> Dict[str, List[str]]:
    """Per provider, ``role: image key`` for every slot it fills."""
    serves: Dict[str, List[str]] = {name: [] for name in reg.providers}
    for role in SLOT_ROLES:
        for pname, img in sorted(reg.role_providers.get(role, {}).items()):
            serves.setdefault(pname, []).append("%s: %s" % (role, img.key))
    return serves


def _environments(reg: Registry) -> List[str]:
    """The tag environments the registry's policies name, in their order."""
    found: List[str] = []
    for policy in reg.tag_policies.values():
        for env, _patterns in policy.environments:
            if env not in found:
                found.append(env)
    return found


def generation_section(reg: Registry, newest_id: str) -> List[str]:
    """One generation's part of the catalog page: templates, providers, tag policies, images, variables."""
    gid = reg.generation
    description, reference = generation_info(gid)
    lines: List[str] = ["## Generation `%s`%s" % (gid, " (newest)" if gid == newest_id else ""), ""]
    if description:
        lines += [description, ""]
    if reference:
        lines += ["Templates reproduce the AVR compose examples of `shared/reference/%s`." % reference, ""]
    lines += ["Registry digest: `sha256:%s`." % reg.digest, "",
              "### Templates in %s" % gid, "",
              "| template | stack | functional | services | AVR example |",
              "|---|---|---|---|---|"]
    extended: List[Tuple[str, str, Any]] = []
    for tid, tpl in sorted(reg.templates.items()):
        services = ", ".join("`%s`" % img.service_name for img in tpl.images)
        example = "`%s`" % tpl.example if tpl.example else ""
        functional = "yes" if tpl.functional else "no"
        lines.append("| `%s` | %s | %s | %s | %s |" % (tid, tpl.stack, functional, services, example))
        for service, ovr in tpl.overrides:
            extended += [(tid, service, var) for var in ovr.extend_env]
    if extended:
        lines += ["", "Variables a template adds to an image's schema (after the image's own):", "",
                  "| template | service | variable | default | required | secret | description |",
                  "|---|---|---|---|---|---|---|"]
        for tid, service, var in extended:
            lines.append("| `%s` | `%s` | `%s` | %s | %s | %s | %s |" % (
                tid, service, var.name, "`%s`" % _cell(var.default) if var.default is not None else "",
                "yes" if var.required else "", "yes" if var.secret else "", _cell(var.description)))
    lines += ["", "### Providers in %s" % gid, "", "| provider | key | serves |", "|---|---|---|"]
    serves = _provider_serves(reg)
    for name, provider in sorted(reg.providers.items()):
        if provider.env:
            key = "`%s`" % provider.env
        else:
            key = "file `%s` (0600)" % provider.file if provider.file else "none"
        cell = ", ".join("%s: `%s`" % tuple(entry.split(": ", 1)) for entry in serves.get(name, []))
        lines.append("| `%s` | %s | %s |" % (name, key, cell))
    environments = _environments(reg)
    lines += ["", "### Tag policies in %s" % gid, "",
              "Every image names the policy its tags follow; `tag_environment` (role: `stack_tag_environment`)",
              "picks the column. An untagged image counts as `latest`; a reference pinned by digest alone passes.",
              "", "| policy | %s | description |" % " | ".join(environments),
              "|---|%s---|" % ("---|" * len(environments))]
    for name, policy in sorted(reg.tag_policies.items()):
        cells = [", ".join("%s (`%s`)" % (p.name, p.example) for p in dict(policy.environments).get(env, ()))
                 for env in environments]
        lines.append("| `%s` | %s | %s |" % (name, " | ".join(cells), _cell(policy.description)))
    lines += ["", "### Stack rules in %s" % gid, "",
              "- base images (provider selections start from them): %s"
              % ", ".join("%s `%s`" % (role, key) for role, key in sorted(reg.base_images.items())),
              "- network: `%s` (%s%s)" % (
                  reg.network.name, reg.network.driver,
                  ", subnet `%s`" % reg.network.subnet if reg.network.subnet else ""),
              "- core wiring: %s" % ", ".join(
                  "`%s` from the %s image (`%s://<service>:<%s>%s`)"
                  % (w.var, role, w.scheme, "ws_port" if w.use_ws_port else "port", w.path)
                  for role, w in sorted(reg.wiring.items()))]
    lines += ["", "### Images in %s" % gid, ""]
    for img in images_by_role(reg):
        lines += ["#### `%s` (%s)" % (img.key, gid), "", _cell(img.description), "",
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
        if img.labels:
            lines.append("- labels: %s" % ", ".join("`%s`" % label for label in img.labels))
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
    return lines


# -- what changed between two generations ---------------------------------------------------------

#: Snapshot parts that are a generation's rules rather than its images, providers and templates.
RULES = ("stack_defaults", "base_images", "network", "wiring", "tag_policies")


def _template_documents(reg: Registry) -> Dict[str, Dict[str, Any]]:
    """Per functional template, the compose document it renders with no deployment inputs (deployment
    name = template id, missing values as interpolations): what a template means to the file it writes."""
    docs: Dict[str, Dict[str, Any]] = {}
    for tid, tpl in sorted(reg.templates.items()):
        if tpl.functional:
            docs[tid] = render(reg, tpl, Inputs(deployment=tid, allow_missing=True)).document
    return docs


def _mapping_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> Dict[str, Any]:
    """added (name -> new value), removed (name -> old value) and changed (name -> [old, new]) entries."""
    out: Dict[str, Any] = {}
    added = {k: new[k] for k in new if k not in old}
    removed = {k: old[k] for k in old if k not in new}
    changed = {k: [old[k], new[k]] for k in old if k in new and old[k] != new[k]}
    if added:
        out["added"] = added
    if removed:
        out["removed"] = removed
    if changed:
        out["changed"] = changed
    return out


def _service_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> Dict[str, Any]:
    """Per compose field of one service: environment by variable, every other field as [old, new]."""
    out: Dict[str, Any] = {}
    for key in list(old) + [k for k in new if k not in old]:
        before, after = old.get(key), new.get(key)
        if before == after:
            continue
        if key == "environment":
            out[key] = _mapping_changes(before or {}, after or {})
        else:
            out[key] = [before, after]
    return out


def _template_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    old_services, new_services = old.get("services", {}), new.get("services", {})
    added = [s for s in new_services if s not in old_services]
    removed = [s for s in old_services if s not in new_services]
    if added:
        out["services_added"] = added
    if removed:
        out["services_removed"] = removed
    services = {}
    for name in old_services:
        if name in new_services:
            found = _service_changes(old_services[name], new_services[name])
            if found:
                services[name] = found
    if services:
        out["services"] = services
    for key in sorted(set(old) | set(new)):
        if key not in ("services", "name") and old.get(key) != new.get(key):
            out[key] = [old.get(key), new.get(key)]
    return out


def _image_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> Dict[str, Any]:
    """Per image field [old, new]; ``env`` by variable (added, removed, changed: per attribute [old, new])."""
    out: Dict[str, Any] = {}
    for key in old:
        if key == "env":
            before = {v["name"]: v for v in old["env"]}
            after = {v["name"]: v for v in new["env"]}
            env = _mapping_changes(before, after)
            if "changed" in env:
                env["changed"] = {name: {attr: [pair[0][attr], pair[1][attr]] for attr in pair[0]
                                         if pair[0][attr] != pair[1].get(attr)}
                                  for name, pair in env["changed"].items()}
            if [v["name"] for v in old["env"]] != [v["name"] for v in new["env"]] and set(before) == set(after):
                env["order"] = [list(before), list(after)]
            if env:
                out["env"] = env
        elif old[key] != new.get(key):
            out[key] = [old[key], new.get(key)]
    return out


def generation_changes(old: Registry, new: Registry) -> Dict[str, Any]:
    """What changed from registry ``old`` to ``new``, derived from their data alone: templates (by the compose
    document each renders), images (by field), providers (key, file, description, what they serve) and rules."""
    changes: Dict[str, Any] = {}
    old_docs, new_docs = _template_documents(old), _template_documents(new)
    templates: Dict[str, Any] = {
        "added": sorted(t for t in new.templates if t not in old.templates),
        "removed": sorted(t for t in old.templates if t not in new.templates),
        "changed": {},
    }
    for tid in sorted(set(old.templates) & set(new.templates)):
        if tid in old_docs and tid in new_docs:
            found = _template_changes(old_docs[tid], new_docs[tid])
        else:
            before, after = template_data(old.templates[tid]), template_data(new.templates[tid])
            found = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
        if found:
            templates["changed"][tid] = found
    changes["templates"] = templates
    old_images = {key: image_data(img) for key, img in old.images.items()}
    new_images = {key: image_data(img) for key, img in new.images.items()}
    changes["images"] = {
        "added": sorted(k for k in new_images if k not in old_images),
        "removed": sorted(k for k in old_images if k not in new_images),
        "changed": {k: _image_changes(old_images[k], new_images[k]) for k in sorted(set(old_images) & set(new_images))
                    if old_images[k] != new_images[k]},
    }
    old_serves, new_serves = _provider_serves(old), _provider_serves(new)
    providers: Dict[str, Any] = {
        "added": sorted(p for p in new.providers if p not in old.providers),
        "removed": sorted(p for p in old.providers if p not in new.providers),
        "changed": {},
    }
    for name in sorted(set(old.providers) & set(new.providers)):
        before = dict(provider_data(old.providers[name]), serves=old_serves.get(name, []))
        after = dict(provider_data(new.providers[name]), serves=new_serves.get(name, []))
        found = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
        if found:
            providers["changed"][name] = found
    changes["providers"] = providers
    old_doc, new_doc = old.snapshot(), new.snapshot()
    changes["rules"] = {key: _mapping_changes(old_doc[key], new_doc[key]) for key in RULES
                        if old_doc[key] != new_doc[key]}
    return changes


def _names(values: Sequence[str]) -> str:
    return ", ".join("`%s`" % v for v in values)


def _env_lines(env: Mapping[str, Any], indent: str, attributes: bool) -> List[str]:
    lines: List[str] = []
    for name, value in env.get("added", {}).items():
        if not attributes:
            shown = " (%s)" % _code(value)
        elif value["default"] is not None:
            shown = " (default %s)" % _code(value["default"])
        else:
            shown = ""
        lines.append("%s- variable `%s` added%s" % (indent, name, shown))
    for name, value in env.get("removed", {}).items():
        lines.append("%s- variable `%s` removed%s" % (indent, name, "" if attributes else " (was %s)" % _code(value)))
    for name, value in env.get("changed", {}).items():
        if attributes:
            lines.append("%s- variable `%s`: %s" % (indent, name, "; ".join(
                "%s %s → %s" % (attr, _code(pair[0]), _code(pair[1])) for attr, pair in value.items())))
        else:
            lines.append("%s- variable `%s`: %s → %s" % (indent, name, _code(value[0]), _code(value[1])))
    if "order" in env:
        lines.append("%s- variable order: %s → %s" % (indent, _names(env["order"][0]), _names(env["order"][1])))
    return lines


def changes_section(old: Registry, new: Registry) -> List[str]:
    """The catalog page's part for one pair of consecutive generations."""
    found = generation_changes(old, new)
    lines = ["### From `%s` to `%s`" % (old.generation, new.generation), ""]
    tpl, img, prov = found["templates"], found["images"], found["providers"]
    if not any(tpl[k] or img[k] or prov[k] for k in ("added", "removed", "changed")) and not found["rules"]:
        return lines + ["The same images, providers, templates and rules; only the generation id (and so the "
                        "registry digest) differs.", ""]
    lines += ["#### Templates", ""]
    lines.append("- added: %s" % (_names(tpl["added"]) or "none"))
    lines.append("- removed: %s" % (_names(tpl["removed"]) or "none"))
    lines.append("- changed: %s" % (_names(list(tpl["changed"])) or "none"))
    for tid, change in tpl["changed"].items():
        lines += ["", "`%s`:" % tid, ""]
        if change.get("services_added"):
            lines.append("- services added: %s" % _names(change["services_added"]))
        if change.get("services_removed"):
            lines.append("- services removed: %s" % _names(change["services_removed"]))
        for service, fields in change.get("services", {}).items():
            lines.append("- `%s`:" % service)
            for key, value in fields.items():
                if key == "environment":
                    lines += _env_lines(value, "  ", False)
                else:
                    lines.append("  - %s: %s → %s" % (key, _code(value[0]), _code(value[1])))
        for key, value in change.items():
            if key not in ("services_added", "services_removed", "services"):
                lines.append("- %s: %s → %s" % (key, _code(value[0]), _code(value[1])))
    lines += ["", "#### Images", ""]
    lines.append("- added: %s" % (_names(img["added"]) or "none"))
    lines.append("- removed: %s" % (_names(img["removed"]) or "none"))
    lines.append("- changed: %s" % (_names(list(img["changed"])) or "none"))
    for key, fields in img["changed"].items():
        lines += ["", "`%s`:" % key, ""]
        for name, value in fields.items():
            if name == "env":
                lines += _env_lines(value, "", True)
            else:
                lines.append("- %s: %s → %s" % (name, _code(value[0]), _code(value[1])))
    lines += ["", "#### Providers", ""]
    new_serves = _provider_serves(new)
    added = ["`%s` (%s)" % (p, ", ".join("%s: `%s`" % tuple(entry.split(": ", 1)) for entry in new_serves.get(p, []))
                            or "serves no slot") for p in prov["added"]]
    lines.append("- added: %s" % (", ".join(added) or "none"))
    lines.append("- removed: %s" % (_names(prov["removed"]) or "none"))
    lines.append("- changed: %s" % (_names(list(prov["changed"])) or "none"))
    for name, fields in prov["changed"].items():
        changes = "; ".join("%s %s → %s" % (k, _code(v[0]), _code(v[1])) for k, v in fields.items())
        lines.append("  - `%s`: %s" % (name, changes))
    if found["rules"]:
        lines += ["", "#### Stack rules", ""]
        for key, change in found["rules"].items():
            parts = ["%s %s" % (kind, _names(list(change[kind]))) for kind in ("added", "removed", "changed")
                     if kind in change]
            lines.append("- `%s`: %s" % (key, "; ".join(parts)))
    return lines + [""]


def catalog_page(registries: Sequence[Registry]) -> str:
    """The catalog page of ``registries`` (one per generation, oldest first): every generation, newest first,
    then what changed between each consecutive pair."""
    newest_id = registries[-1].generation
    ordered = list(reversed(registries))
    lines: List[str] = [
        "# Registry catalog",
        "",
        "Generated from `plugins/module_utils/registry` by `scripts/generate.py`; do not edit.",
        "",
        "The built-in registry holds one **generation** per AVR release line. A new deployment gets the newest;",
        "a deployment keeps the generation its compose file was rendered with (the header line",
        "`# registry: <generation> sha256:<digest>`; a file from before generations: `%s`) until a task asks"
        % FIRST,
        "for another with `registry_version` (role: `stack_registry_version`).",
        "",
        "| generation | templates | images | providers | registry digest | description |",
        "|---|---|---|---|---|---|",
    ]
    for reg in ordered:
        description, _reference = generation_info(reg.generation)
        lines.append("| [`%s`](#generation-%s%s) | %d | %d | %d | `sha256:%s` | %s |" % (
            reg.generation, reg.generation.replace(".", ""), "-newest" if reg.generation == newest_id else "",
            len(reg.templates), len(reg.images), len(reg.providers), reg.digest[:12] + "...", _cell(description)))
    lines += ["", "Sections: %s, [what changed between generations](#what-changed-between-generations)."
              % ", ".join("`%s`" % reg.generation for reg in ordered), ""]
    for reg in ordered:
        lines += generation_section(reg, newest_id)
    lines += ["## What changed between generations", "",
              "Derived from the registry data of each pair of consecutive generations, newer first. A template's",
              "changes are those of the compose document it renders without deployment inputs (deployment name =",
              "template id, missing keys as `${VAR}` interpolations); an image's are those of its registry entry.",
              ""]
    for older, newer in reversed(list(zip(registries, registries[1:]))):
        lines += changes_section(older, newer)
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


#: What a tenant of O(stack_tenants) may set, and the role option each one stands for.
TENANT_FIELDS = {
    "template": "stack_template", "kind": "stack_kind", "providers": "stack_providers", "catalog": "stack_catalog",
    "registry_version": "stack_registry_version", "env": "stack_env", "provider_keys": "stack_provider_keys",
    "secrets": "stack_secrets", "tag": "stack_tag", "tags": "stack_tags", "digests": "stack_digests",
    "ami_password": "stack_ami_password", "ari_password": "stack_ari_password",
    "sip_endpoints": "stack_sip_endpoints", "health_checks": "stack_health_checks",
    "mount_files": "stack_mount_files", "purge": "stack_purge",
}


def tenant_options(options: Mapping[str, Any]) -> Dict[str, Any]:
    """The role's tenant options; a tenant's fields take the type of the role option they stand for."""
    fields: Dict[str, Any] = {
        "name": {"type": "str", "required": True,
                 "description": ["Tenant name: its deployment (compose project) name, the prefix C(<name>-) of its "
                                 "service, container and network names, and its folder under O(stack_tenants_root)."]},
        "state": {"type": "str", "choices": ["present", "absent"],
                  "description": ["V(absent) removes the tenant's containers and network (its files too with "
                                  "C(purge)); default O(stack_state)."]},
        "free": {"type": "bool", "default": False,
                 "description": ["Give the tenant's allocation back: with C(state=absent) its ports and subnet, "
                                 "otherwise the ports it no longer needs. Without it they stay reserved for it."]},
        "rtp_ports": {"type": "int",
                      "description": ["Size of the tenant's RTP range (default: the range its template publishes, "
                                      "51 ports)."]},
    }
    for field, option in TENANT_FIELDS.items():
        spec = {key: copy.deepcopy(value) for key, value in options[option].items()
                if key not in ("default", "description")}
        if option == "stack_purge":
            spec = {"type": "bool"}
        fields[field] = dict(spec, description=["As O(%s), for this tenant." % option])
    return {
        "stack_tenants": {
            "type": "list", "elements": "dict", "default": [], "options": fields,
            "description": [
                "Tenants: several isolated deployments on one host instead of the one the other options describe.",
                "Each is in C(<stack_tenants_root>/<name>) with its own compose project, names and network; its "
                "subnet and host ports are allocated (see O(stack_tenants_ports)) and recorded in "
                "C(<stack_tenants_root>/tenants.json), written atomically under a lock.",
                "Every present tenant is checked before anything is written for any tenant; then each one is a "
                "release of its own through its own health gate, and one that fails is rolled back alone.",
                "Options not listed here (O(stack_image_prefix), O(stack_publish_address), the release and gate "
                "settings, ...) apply to every tenant."]},
        "stack_tenants_root": {"type": "path", "default": "/srv/avr",
                               "description": ["Common root of the tenants' folders and of C(tenants.json)."]},
        "stack_tenants_ports": {
            "type": "dict", "default": {"sip": "5060-5259", "rtp": "20000-29999", "ami": "15038-15237",
                                        "ari": "18088-18287", "core": "16001-16200", "web": "8080-8279"},
            "description": ["Block of host ports (C(START-END)) per purpose of a published port: C(sip), C(rtp) "
                            "(Asterisk publishes and its configuration says the same numbers), C(ami), C(ari), "
                            "C(core), C(web) (any other published port). Blocks may not overlap; ports another "
                            "program holds and the host's ephemeral range are skipped."]},
        "stack_tenants_subnet_pool": {"type": "str", "default": "10.201.0.0/16",
                                      "description": ["IPv4 pool the tenants' subnets come from."]},
        "stack_tenants_subnet_prefix": {"type": "int", "default": 24,
                                        "description": ["Prefix length of each tenant's subnet."]},
    }


def argument_specs(registries: Sequence[Registry]) -> str:
    """The stack role's argument specs; ``registries``: one per generation, oldest first (the last is the newest)."""
    reg = registries[-1]
    older = {tid: [r.generation for r in registries[:-1] if tid in r.templates]
             for r in registries[:-1] for tid in r.templates if tid not in reg.templates}
    templates = ", ".join(sorted(reg.templates))
    if older:
        templates += "; in older generations only: %s" % ", ".join(
            "%s (%s)" % (tid, ", ".join(gens)) for tid, gens in sorted(older.items()))
    providers = "; ".join("%s: %s" % (role, ", ".join(sorted({name for r in registries
                                                             for name in r.role_providers[role]})))
                          for role in SLOT_ROLES)
    secret_names = sorted({v.secret_name for r in registries for img in r.images.values() for v in img.env
                           if v.secret_name})
    key_providers = sorted({name for r in registries for name, p in r.providers.items() if p.needs_key})
    for each in registries:
        for tpl in each.templates.values():
            plan(each, tpl)
    versions = [r.generation for r in registries]
    options: Dict[str, Any] = {
        "stack_template": {"type": "str", "default": "",
                           "description": ["Registry template to deploy (generation %s): %s."
                                           % (reg.generation, templates),
                                           "Leave empty and set O(stack_kind) and O(stack_providers) instead.",
                                           "C(docs/catalog.md) lists the templates of every generation."]},
        "stack_registry_version": {
            "type": "str", "default": "", "choices": [""] + versions,
            "description": [
                "Registry generation to render the deployment with: %s (the newest, V(%s), is what a new "
                "deployment gets)." % (", ".join("V(%s)" % v for v in versions), reg.generation),
                "Empty: the generation the deployment's compose file was rendered with (its header line "
                "C(# registry: <generation> sha256:...); a file rendered before generations existed: V(%s)), "
                "else, for a new deployment, the newest. So an upgrade of the collection changes no deployment "
                "until it asks for another generation." % FIRST,
                "C(docs/catalog.md) shows every generation and what changed between them."]},
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
        "stack_engine": {"type": "str", "default": "compose", "choices": ["compose", "kubernetes", "swarm"],
                         "description": [
                             "What runs the deployment: V(compose), Docker Compose on the host (the compose file "
                             "C(docker-compose.yml)), or V(swarm), Docker Swarm (the stack file C(docker-stack.yml), "
                             "deployed with community.docker.docker_stack from a Swarm manager, judged by "
                             "M(voiceops.avr.swarm_gate)).",
                             "With V(swarm), provider keys and secrets are Swarm secrets with versioned names, never "
                             "in the stack file; the target needs the Python packages C(jsondiff) and C(PyYAML) "
                             "(community.docker.docker_stack's requirements) and the Docker CLI.",
                             "With V(kubernetes), M(voiceops.avr.voice_manifests) writes C(kubernetes/manifests.yml) "
                             "(the release's main file) and kubernetes.core.k8s applies it (C(apply: true)), waits "
                             "for every Deployment to be available and rolled out (O(stack_wait_timeout)), then "
                             "deletes the deployment's Deployments, Services and ConfigMaps (by label "
                             "C(app.kubernetes.io/instance) and C(app.kubernetes.io/managed-by)) the release no "
                             "longer has; a rollback re-applies the previous release's manifests. Provider keys and "
                             "secrets are Secrets the user creates, never rendered. Images are not pulled nor "
                             "resolved on the target (the cluster pulls them; pin digests with C(stack_digests)). "
                             "The target (where the kubernetes.core modules run) needs the Python packages "
                             "C(kubernetes) and C(PyYAML).",
                             "Tenants (C(stack_tenants)) run on V(compose) only."]},
        "stack_kubernetes_namespace": {"type": "str", "default": "",
                                       "description": [
                                           "With O(stack_engine=kubernetes): an existing namespace the resources go "
                                           "into; empty: the manifests make a namespace named after the deployment "
                                           "(and O(stack_state=absent) deletes it)."]},
        "stack_kubernetes_kubeconfig": {"type": "str", "default": "",
                                        "description": [
                                            "With O(stack_engine=kubernetes): the kubeconfig file every "
                                            "kubernetes.core task of the role uses; empty: kubernetes.core's default "
                                            "(C(K8S_AUTH_KUBECONFIG), C(~/.kube/config))."]},
        "stack_kubernetes_context": {"type": "str", "default": "",
                                     "description": ["With O(stack_engine=kubernetes): the kubeconfig context; "
                                                     "empty: the current context."]},
        "stack_kubernetes_host": {"type": "str", "default": "",
                                  "description": ["With O(stack_engine=kubernetes): the API server URL, instead of "
                                                  "the kubeconfig's."]},
        "stack_swarm_placement": {"type": "str", "default": "",
                                  "description": [
                                      "With O(stack_engine=swarm): the node (C(node.hostname)) that runs the services "
                                      "which publish SIP/RTP in host mode or mount host files; empty: a manager "
                                      "node."]},
        "stack_state": {"type": "str", "default": "present", "choices": ["present", "absent"],
                        "description": ["V(absent) stops and removes the containers and the network (with "
                                        "O(stack_engine=swarm): the stack's services, networks, secrets and "
                                        "configs; with O(stack_engine=kubernetes): the deployment's resources, its "
                                        "PersistentVolumeClaims included, by label, and the namespace the manifests "
                                        "made)."]},
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
    options.update(tenant_options(options))
    rollback_options = {name: options[name] for name in (
        "stack_deployment", "stack_project_dir", "stack_engine", "stack_pull", "stack_wait", "stack_wait_timeout",
        "stack_log_lines", "stack_kubernetes_kubeconfig", "stack_kubernetes_context", "stack_kubernetes_host")}
    rollback_options.update(RELEASE_OPTIONS)
    rollback_options["stack_rollback_release"] = {
        "type": "str", "default": "previous",
        "description": ["Release id to go back to, or V(previous) for the newest release older than the "
                        "current one that was ever active (two rollbacks in a row go back twice)."]}
    for name in ("stack_tag_environment", "stack_tag", "stack_tags", "stack_digests", "stack_resolve_digests",
                 "stack_registry_accounts", "stack_retry_failed", "stack_rollback_on_failure"):
        del rollback_options[name]
    spec = {"argument_specs": {"main": {
        "short_description": ("Deploy or remove AVR voice-agent deployments on Docker Compose, Docker Swarm or "
                              "Kubernetes"),
        "description": [
            "Generated from the registry by scripts/generate.py; do not edit.",
            "Writes the Asterisk configuration, environment.json, the engine's main file (compose file, Swarm stack",
            "file or Kubernetes manifests) and credential files, records them as a release, then runs it with",
            "community.docker.docker_compose_v2, community.docker.docker_stack or kubernetes.core.k8s.",
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
    registries = [builtin(version) for version in generations()]
    outputs = {CATALOG: catalog_page(registries), ARGUMENT_SPECS: argument_specs(registries),
               MOLECULE: molecule_scenario(registries[-1])}
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
