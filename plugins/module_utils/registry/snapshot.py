# -*- coding: utf-8 -*-
# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Registry snapshots: a registry recorded as a document, and loaded back.

``Registry.snapshot()`` writes the document (``releases/<id>/registry.json`` of every release);
``load`` turns one back into a registry that renders the same bytes. A document is accepted only if
it loads back to itself exactly (the registry built from it writes the same document), so a damaged
or hand-edited snapshot is refused, never half-read.
"""

from __future__ import annotations

import json
from typing import Any, Dict, Mapping, Optional, Tuple

from .generations import Generation
from .model import (
    Healthcheck, EnvVar, Image, Network, Probe, Provider, RegistryError, Resources, ServiceOverride, Template, Wiring,
    one_line,
)
from .registry import RENDERER_FORMAT, RESOURCE_KEYS, SNAPSHOT_SCHEMA, Registry, image_class
from .stacks import Overrides, StackBase
from .tags import TagPattern, TagPolicy


class _Bad(Exception):
    def __init__(self, path: str, problem: str) -> None:
        super(_Bad, self).__init__("%s: %s" % (path, problem))


def _get(data: Any, key: str, path: str, kind: type, optional: bool = False) -> Any:
    if not isinstance(data, dict):
        raise _Bad(path, "expected a mapping")
    if key not in data:
        raise _Bad("%s.%s" % (path, key), "missing")
    value = data[key]
    if value is None and optional:
        return None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise _Bad("%s.%s" % (path, key), "expected %s, got %s" % (kind.__name__, type(value).__name__))
    return value


def _known(key: Any, images: Mapping[str, Image], path: str) -> Image:
    """The image ``key`` names (an image the snapshot holds)."""
    if not isinstance(key, str) or key not in images:
        raise _Bad(path, "unknown image %r" % (key,))
    return images[key]


def _network(data: Any, path: str) -> Network:
    return Network(_get(data, "name", path, str), _get(data, "driver", path, str),
                   _get(data, "subnet", path, str, True))


def _strs(values: Any, path: str) -> Tuple[str, ...]:
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise _Bad(path, "expected a list of strings")
    return tuple(values)


def _var(data: Any, path: str) -> EnvVar:
    # ``format`` is written only when set (see registry.var_data), so a snapshot without it reads as None
    fmt = _get(data, "format", path, str) if isinstance(data, dict) and "format" in data else None
    file_env = _get(data, "file_env", path, str) if isinstance(data, dict) and "file_env" in data else None
    return EnvVar(_get(data, "name", path, str), _get(data, "default", path, str, True),
                  _get(data, "required", path, bool), _get(data, "secret", path, bool),
                  _get(data, "provider", path, str, True), _get(data, "secret_name", path, str, True),
                  _get(data, "description", path, str), fmt, file_env)


def _override(data: Any, path: str) -> ServiceOverride:
    env = _get(data, "env", path, list)
    pairs = []
    for index, pair in enumerate(env):
        if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str)
                and (pair[1] is None or isinstance(pair[1], str))):
            raise _Bad("%s.env[%d]" % (path, index), "expected [name, value]")
        pairs.append((pair[0], pair[1]))
    ports = _get(data, "ports", path, list, True)
    return ServiceOverride(
        env=tuple(pairs), ports=None if ports is None else _strs(ports, path + ".ports"),
        add_volumes=_strs(_get(data, "add_volumes", path, list), path + ".add_volumes"),
        unset=_strs(_get(data, "unset", path, list), path + ".unset"),
        extend_env=tuple(_var(v, "%s.extend_env[%d]" % (path, n))
                         for n, v in enumerate(_get(data, "extend_env", path, list))),
        add_labels=_strs(_get(data, "add_labels", path, list), path + ".add_labels"))


def _overrides(data: Any, path: str) -> Overrides:
    if not isinstance(data, dict):
        raise _Bad(path, "expected a mapping")
    return tuple((name, _override(ovr, "%s.%s" % (path, name))) for name, ovr in data.items())


def _image(data: Any, path: str, done: Mapping[str, Image]) -> Image:
    role = _get(data, "role", path, str)
    try:
        cls = image_class(role)
    except RegistryError:
        raise _Bad(path + ".role", "unknown role %r" % role) from None
    hc = _get(data, "healthcheck", path, dict, True)
    probes = _get(data, "probes", path, list, True)
    companions = [_known(key, done, path + ".companions")
                  for key in _strs(_get(data, "companions", path, list), path + ".companions")]
    depends = _get(data, "depends_on", path, list)
    if not all(isinstance(pair, list) and len(pair) == 2 and all(isinstance(x, str) for x in pair) for pair in depends):
        raise _Bad(path + ".depends_on", "expected a list of [role, condition]")
    service = _get(data, "service", path, str)
    name = _get(data, "name", path, str)
    img: Image = cls(
        name=name, image=_get(data, "image", path, str), description=_get(data, "description", path, str),
        env=tuple(_var(v, "%s.env[%d]" % (path, n)) for n, v in enumerate(_get(data, "env", path, list))),
        port=_get(data, "port", path, int, True), ws_port=_get(data, "ws_port", path, int, True),
        service=None if service == name else service, ports=_strs(_get(data, "ports", path, list), path + ".ports"),
        management_ports=_strs(_get(data, "management_ports", path, list), path + ".management_ports"),
        volumes=_strs(_get(data, "volumes", path, list), path + ".volumes"),
        platform=_get(data, "platform", path, str, True), restart=_get(data, "restart", path, str, True),
        command=_strs(_get(data, "command", path, list), path + ".command"),
        healthcheck=None if hc is None else Healthcheck(
            _strs(_get(hc, "test", path + ".healthcheck", list), path + ".healthcheck.test"),
            _get(hc, "interval", path + ".healthcheck", str, True),
            _get(hc, "timeout", path + ".healthcheck", str, True),
            _get(hc, "retries", path + ".healthcheck", int, True),
            _get(hc, "start_period", path + ".healthcheck", str, True)),
        depends_on=tuple((pair[0], pair[1]) for pair in depends),
        companions=tuple(companions), tag_policy=_get(data, "tag_policy", path, str),
        pinned_tag=_get(data, "pinned_tag", path, str, True),
        pinned_digest=_get(data, "pinned_digest", path, str, True),
        host_paths=_strs(_get(data, "host_paths", path, list), path + ".host_paths"),
        probes=None if probes is None else tuple(
            Probe(_get(p, "type", "%s.probes[%d]" % (path, n), str),
                  p.get("port") if isinstance(p, dict) else None)
            for n, p in enumerate(probes)),
        labels=_strs(_get(data, "labels", path, list), path + ".labels"),
        resources=_resources(data.get("resources"), path + ".resources"),  # only written when set
    )
    return img


def _resources(data: Any, path: str) -> Optional[Resources]:
    if data is None:
        return None
    if not isinstance(data, dict):
        raise _Bad(path, "expected a mapping")
    unknown = sorted(set(data) - set(RESOURCE_KEYS))
    if unknown:
        raise _Bad(path, "unknown field %r" % unknown[0])
    return Resources(*(_get(data, key, path, str, True) if key in data else None for key in RESOURCE_KEYS))


def _images(data: Any, path: str) -> Dict[str, Image]:
    """Images by key; companions first (an image names only images built before it)."""
    if not isinstance(data, dict):
        raise _Bad(path, "expected a mapping")
    done: Dict[str, Image] = {}
    pending = dict(data)
    while pending:
        progress = False
        for key, entry in list(pending.items()):
            comps = entry.get("companions") if isinstance(entry, dict) else None
            if isinstance(comps, list) and any(c not in done for c in comps if isinstance(c, str) and c in pending):
                continue
            img = _image(entry, "%s.%s" % (path, key), done)
            if img.key != key:
                raise _Bad("%s.%s" % (path, key), "the image's role/name make the key %r" % img.key)
            done[key] = img
            del pending[key]
            progress = True
        if not progress:
            raise _Bad(path, "images name each other as companions in a cycle: %s" % ", ".join(sorted(pending)))
    return done


def _template(data: Any, path: str, images: Mapping[str, Image]) -> Template:
    slots = {str(role): _known(key, images, "%s.images.%s" % (path, role))
             for role, key in _get(data, "images", path, dict).items() if key is not None}
    extras = [_known(key, images, path + ".extras")
              for key in _strs(_get(data, "extras", path, list), path + ".extras")]
    return Template(id=_get(data, "id", path, str), description=_get(data, "description", path, str),
                    stack=_get(data, "stack", path, str), extras=tuple(extras),
                    overrides=_overrides(_get(data, "overrides", path, dict), path + ".overrides"),
                    network=_network(_get(data, "network", path, dict), path + ".network"),
                    example=_get(data, "example", path, str, True),
                    missing_images=_strs(_get(data, "missing_images", path, list), path + ".missing_images"),
                    **slots)  # type: ignore[arg-type]


def _policies(data: Any, path: str) -> Dict[str, TagPolicy]:
    if not isinstance(data, dict):
        raise _Bad(path, "expected a mapping")
    out = {}
    for name, entry in data.items():
        where = "%s.%s" % (path, name)
        envs = []
        for env, patterns in _get(entry, "environments", where, dict).items():
            if not isinstance(patterns, list):
                raise _Bad("%s.environments.%s" % (where, env), "expected a list")
            envs.append((str(env), tuple(
                TagPattern(_get(p, "name", where, str), _get(p, "regex", where, str), _get(p, "example", where, str),
                           _get(p, "timestamp", where, str, True)) for p in patterns)))
        out[str(name)] = TagPolicy(_get(entry, "name", where, str), _get(entry, "description", where, str), tuple(envs))
    return out


def _build(doc: Any) -> Registry:
    schema = _get(doc, "schema_version", "snapshot", int)
    if schema != SNAPSHOT_SCHEMA:
        raise _Bad("schema_version", "%r is not a snapshot layout this collection reads (it reads %d)"
                   % (schema, SNAPSHOT_SCHEMA))
    renderer = _get(doc, "renderer_format", "snapshot", int)
    if renderer != RENDERER_FORMAT:
        raise _Bad("renderer_format", "the snapshot was recorded for renderer format %r; this collection writes "
                   "format %d and would not render the same bytes" % (renderer, RENDERER_FORMAT))
    images = _images(_get(doc, "images", "snapshot", dict), "images")
    providers = {}
    for name, entry in _get(doc, "providers", "snapshot", dict).items():
        where = "providers.%s" % name
        providers[str(name)] = Provider(_get(entry, "name", where, str), _get(entry, "description", where, str),
                                        _get(entry, "env", where, str, True), _get(entry, "file", where, str, True))
    role_providers: Dict[str, Dict[str, Image]] = {}
    for role, mapping in _get(doc, "role_providers", "snapshot", dict).items():
        for name, key in (mapping.items() if isinstance(mapping, dict) else ()):
            where = "role_providers.%s.%s" % (role, name)
            role_providers.setdefault(str(role), {})[str(name)] = _known(key, images, where)
    templates = [_template(entry, "templates.%s" % tid, images)
                 for tid, entry in _get(doc, "templates", "snapshot", dict).items()]
    base = {role: _known(key, images, "base_images.%s" % role)
            for role, key in _get(doc, "base_images", "snapshot", dict).items()}
    for role in ("core", "asterisk", "ami"):
        if role not in base:
            raise _Bad("base_images.%s" % role, "missing")
    stack_base = StackBase(
        core=base["core"], asterisk=base["asterisk"], ami=base["ami"],  # type: ignore[arg-type]
        defaults={str(kind): _overrides(ovr, "stack_defaults.%s" % kind)  # type: ignore[misc]
                  for kind, ovr in _get(doc, "stack_defaults", "snapshot", dict).items()},
        network=_network(_get(doc, "network", "snapshot", dict), "network"))
    wiring = {str(role): Wiring(_get(w, "var", "wiring." + role, str), _get(w, "scheme", "wiring." + role, str),
                                _get(w, "path", "wiring." + role, str), _get(w, "use_ws_port", "wiring." + role, bool))
              for role, w in _get(doc, "wiring", "snapshot", dict).items()}
    gen = Generation(id=_get(doc, "generation", "snapshot", str), description="", reference="",
                     images=tuple(images.values()), providers=providers,
                     role_providers=role_providers, templates=tuple(templates), base=stack_base,  # type: ignore[arg-type]
                     wiring=wiring, tag_policies=_policies(_get(doc, "tag_policies", "snapshot", dict), "tag_policies"))  # type: ignore[arg-type]
    return Registry(list(images.values()), templates, providers, role_providers,  # type: ignore[arg-type]
                    generation=gen, catalog=_get(doc, "catalog", "snapshot", str, True))


def _first_difference(want: Any, got: Any, path: str = "") -> str:
    if isinstance(want, dict) and isinstance(got, dict):
        for key in sorted(set(want) | set(got), key=str):
            if want.get(key, _Bad) != got.get(key, _Bad):
                return _first_difference(want.get(key), got.get(key), "%s.%s" % (path, key) if path else str(key))
    return path or "(the document)"


_CACHE: Dict[str, Registry] = {}


def load(doc: Any, where: str = "registry_from") -> Registry:
    """The registry recorded in snapshot ``doc`` (a mapping, or its JSON text); RegistryError naming
    ``where`` and the field when it is not a snapshot this collection renders exactly."""
    text: Optional[str] = None
    if isinstance(doc, (str, bytes)):
        text = doc.decode("utf-8", "replace") if isinstance(doc, bytes) else doc
        try:
            doc = json.loads(text)
        except ValueError as exc:
            raise RegistryError("%s: not a registry snapshot (not JSON: %s)" % (where, exc)) from None
    if not isinstance(doc, dict):
        raise RegistryError("%s: not a registry snapshot (expected a JSON object)" % where)
    key = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)
    found = _CACHE.get(key)
    if found is not None:
        return found
    try:
        registry = _build(doc)
    except _Bad as exc:
        raise RegistryError("%s: not a registry snapshot this collection renders (%s)" % (where, one_line(str(exc)))) \
            from None
    except RegistryError as exc:
        raise RegistryError("%s: the snapshot's registry is inconsistent: %s" % (where, exc)) from None
    written = registry.snapshot()
    if json.loads(json.dumps(written)) != doc:
        raise RegistryError("%s: the snapshot does not load back to itself (first difference at %s); it was "
                            "edited or damaged" % (where, _first_difference(doc, json.loads(json.dumps(written)))))
    _CACHE[key] = registry
    return registry


__all__ = ["load"]
