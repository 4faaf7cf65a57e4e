"""Hostile catalogs: malformed, binary, a list, duplicates, host-path mounts, credential files named
like project files, env defaults with newline/NUL, a health check with `$`."""

from __future__ import annotations

import copy
import os
import time
from pathlib import Path
from typing import Any, Dict, List

import yaml

from harness import Case, compose_value, hold, new_marker, run_batch

CUSTOM = "avr-asr-custom"


def catalog(**changes: Any) -> Dict[str, Any]:
    """A valid catalog: a custom ASR image in a template 'custom'; ``changes`` patch the image."""
    image = {"role": "asr", "name": CUSTOM, "image": "example/asr-custom", "port": 6010,
             "env": [{"name": "PORT", "default": "6010"}, {"name": "LANGUAGE", "default": "en"}]}
    image.update(changes)
    return {"images": [image],
            "templates": [{"id": "custom", "stack": "modular", "images": {
                "asr": "asr/%s" % CUSTOM, "llm": "llm/avr-llm-openai", "tts": "tts/avr-tts-deepgram"}}]}


def with_provider(file_name: str) -> Dict[str, Any]:
    """A provider whose credential file is ``file_name``, used by the custom image."""
    cat = catalog(provider="acme", env=[{"name": "PORT", "default": "6010"},
                                        {"name": "ACME_CREDENTIALS", "default": "/app/cred.json", "provider": "acme"}],
                  volumes=["./%s:/app/cred.json" % file_name])
    cat["providers"] = [{"name": "acme", "file": file_name}]
    return cat


def _file(name: str, data: bytes):
    def setup(project: Path) -> None:
        (project.parent / name).write_bytes(data)
    return setup


def _service(project: Path) -> Dict[str, Any]:
    doc = yaml.safe_load((project / "docker-compose.yml").read_text())
    return dict(doc["services"][CUSTOM])


def _has_custom(project: Path, result: Dict[str, Any]) -> List[str]:
    try:
        _service(project)
    except Exception as exc:  # noqa: BLE001
        return ["no %s service in the compose file (%s)" % (CUSTOM, exc)]
    return []


def _health_kept(test: List[str]):
    def check(project: Path, result: Dict[str, Any]) -> List[str]:
        try:
            got = _service(project)["healthcheck"]["test"]
        except Exception as exc:  # noqa: BLE001
            return ["no health check in the compose file (%s)" % exc]
        seen = [compose_value(x) for x in got]
        return [] if seen == test else ["health check reaches Compose as %r (written %r), not %r" % (seen, got, test)]
    return check


ARGS = {"template": None, "allow_missing": True}
CASES: List[Case] = []


def add(case_id: str, cat: Any, *, field: str = "catalog", value: Any = None, ok: bool = False, **kw: Any) -> None:
    args = dict(ARGS, catalog=cat, **kw.pop("args", {}))
    args.pop("template")
    given = kw.pop("setup", None)

    def setup(project: Path) -> None:
        (project / "environment.json").unlink()  # the seeded store is openai's; the compose file stays
        if given:
            given(project)
    kwargs = dict(template=kw.pop("template", "custom"), setup=setup, **kw)
    if ok:
        CASES.append(Case(case_id, "voice_compose", args, ok=True, **kwargs))
    else:
        extra = {} if value is None else {"value": value}
        CASES.append(Case(case_id, "voice_compose", args, field=field, **extra, **kwargs))


add("valid catalog (control)", catalog(), ok=True, check=_has_custom)
add("valid catalog file (control)", "@CASE@/catalog.yml", ok=True, check=_has_custom,
    setup=_file("catalog.yml", yaml.safe_dump(catalog()).encode()))
# -- a catalog that is not a catalog --------------------------------------------------------------------
for label, data in (("malformed YAML", b"images: [\n  - {role: asr, name: x\n"),
                    ("binary", bytes(range(256)) * 4),
                    ("invalid UTF-8", b"images:\n  - role: asr\n    name: caf\xe9\n"),
                    ("a list", b"- images\n- templates\n"),
                    ("a scalar", b"just some text\n"),
                    ("JSON with a syntax error", b'{"images": [,]}'),
                    ("YAML with a tab indent", b"images:\n\t- role: asr\n"),
                    ("a Python tag", b"!!python/object/apply:os.system ['true']\n"),
                    ("a billion laughs", b"a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\n"
                                         b"c: &c [*b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c]\n")):
    add("catalog file: %s" % label, "@CASE@/catalog.yml", also=("catalog.yml",),
        setup=_file("catalog.yml", data))
add("catalog file: missing", "@CASE@/nope.yml", also=("nope.yml",))
add("catalog file: a directory", "@CASE@", also=("catalog",))
for label, value in (("a list", [catalog()]), ("a number", 5), ("a bool", True), ("empty string", "")):
    add("catalog given as %s" % label, value)
add("catalog: unknown top-level key", dict(catalog(), imagez=[]), field="catalog.imagez")
# -- duplicates in one catalog ----------------------------------------------------------------------------
dup = catalog()
dup["images"].append(copy.deepcopy(dup["images"][0]))
add("duplicate image name", dup, field="catalog.images[1].name", value=CUSTOM)
dup = catalog()
dup["templates"].append(copy.deepcopy(dup["templates"][0]))
add("duplicate template id", dup, field="catalog.templates[1].id", value="custom")
dup = catalog()
dup["providers"] = [{"name": "acme", "env": "ACME_KEY"}, {"name": "acme", "env": "ACME_TOKEN"}]
add("duplicate provider name", dup, field="catalog.providers[1].name", value="acme")
# -- names that are not names ---------------------------------------------------------------------------------
add("image name with trailing newline", catalog(name=CUSTOM + "\n"), field="catalog.images[0].name",
    value=CUSTOM + "\n")
tpl = catalog()
tpl["templates"][0]["id"] = "custom\n"
add("template id with trailing newline", tpl, field="catalog.templates[0].id", value="custom\n",
    template="custom\n")
add("env name with trailing newline", catalog(env=[{"name": "PORT\n", "default": "1"}]),
    field="catalog.images[0].env[0].name", value="PORT\n")
add("image reference with newline", catalog(image="example/asr\n"), field="catalog.images[0].image",
    value="example/asr\n")
add("image name longer than a DNS label", catalog(name="avr-asr-" + "x" * 60), field="catalog.images[0].name")
# -- env defaults the task's env would refuse -----------------------------------------------------------------
for label, value in (("newline", "a\nb"), ("trailing newline", "en\n"), ("CR", "a\rb"), ("NUL", "a\0b")):
    add("env default with %s" % label, catalog(env=[{"name": "LANGUAGE", "default": value}]),
        field="catalog.images[0].env[0].default", value=value)
tpl = catalog()
tpl["templates"][0]["overrides"] = {CUSTOM: {"env": {"LANGUAGE": "a\nb"}}}
add("template override env with newline", tpl, field="catalog.templates[0].overrides")
# -- host paths --------------------------------------------------------------------------------------------
for mount in ("/:/host", "/etc:/etc:ro", "/var/run/docker.sock:/var/run/docker.sock", "../../:/x", "..:/x",
              "/root/.ssh:/keys", "./../../etc:/etc", "~/.docker:/cfg"):
    add("host-path mount %s" % mount, catalog(volumes=[mount]), field="catalog.images[0].volumes[0]", value=mount)
tpl = catalog()
tpl["templates"][0]["overrides"] = {CUSTOM: {"add_volumes": ["/etc:/host-etc"]}}
# checked once the template meets its images (built-in or catalog): located like every catalog error
add("host-path mount via add_volumes", tpl, field="catalog.templates[0].overrides.%s.add_volumes[0]" % CUSTOM,
    value="/etc:/host-etc")
add("mount inside the project (control)", catalog(volumes=["./data:/data"]), ok=True, check=_has_custom)
add("named volume (control)", catalog(volumes=["cache:/cache"]), ok=True, check=_has_custom)
# -- credential files named like project files ----------------------------------------------------------------
for name in ("environment.json", "docker-compose.yml", ".credentials.json", "current", "releases", ".", ".."):
    add("credential file named %s" % name, with_provider(name), field="catalog.providers[0].file", value=name,
        args={"provider_keys": {"acme": new_marker("cred")}})
# names the layout uses only below releases/ are free at the top of the project
for name in ("history.jsonl", ".lock"):
    add("credential file named %s (control)" % name, with_provider(name), ok=True,
        args={"provider_keys": {"acme": new_marker("cred")}})
add("credential file acme.json (control)", with_provider("acme.json"), ok=True,
    args={"provider_keys": {"acme": new_marker("cred")}},
    check=lambda p, r: [] if (p / "acme.json").is_file() and (os.stat(p / "acme.json").st_mode & 0o077) == 0
    else ["acme.json missing or readable by others"])
# -- health checks ------------------------------------------------------------------------------------------
for label, test in (("dollar", ["CMD-SHELL", "curl -f http://localhost:$PORT/health"]),
                    ("dollar brace", ["CMD-SHELL", "test -n \"${HOSTNAME}\""]),
                    ("double dollar", ["CMD", "sh", "-c", "echo $$"])):
    add("health check with %s" % label, catalog(healthcheck={"test": test}), ok=True, check=_health_kept(test))
add("health check with newline", catalog(healthcheck={"test": ["CMD", "a\nb"]}),
    field="catalog.images[0].healthcheck.test")
add("command with newline", catalog(command=["run", "a\nb"]), field="catalog.images[0].command")

# -- labels, extend_env, companions, wiring, slots ----------------------------------------------------------
for label, value in (("a dollar", "traefik.rule=Host(`${HOST}`)"), ("a newline", "a=b\nc"), ("no '='", "traefik"),
                     ("a key with a space", "a b=c"), ("a service token", "a={{service:avr-core}}")):
    add("label with %s" % label, catalog(labels=["ok=1", value]), field="catalog.images[0].labels[1]", value=value)
add("label key given twice", catalog(labels=["a=1", "a=2"]), field="catalog.images[0].labels[1]", value="a=2")


def _labels_kept(project: Path, result: Dict[str, Any]) -> List[str]:
    got = _service(project).get("labels")
    want = ["traefik.enable=true", "traefik.http.routers.x.rule=Host(`a.localhost`)"]
    return [] if got == want else ["labels reach the compose file as %r, not %r" % (got, want)]


tpl = catalog(labels=["traefik.enable=true"])
tpl["templates"][0]["overrides"] = {CUSTOM: {"add_labels": ["traefik.http.routers.x.rule=Host(`a.localhost`)"]}}
add("image and template labels (control)", tpl, ok=True, check=_labels_kept)
tpl = catalog(labels=["traefik.enable=true"])
tpl["templates"][0]["overrides"] = {CUSTOM: {"add_labels": ["traefik.enable=false"]}}
add("template label repeating an image label", tpl, field="catalog.templates[0].overrides.%s.add_labels[0]" % CUSTOM,
    value="traefik.enable=false")
tpl = catalog()
tpl["templates"][0]["overrides"] = {CUSTOM: {"extend_env": [{"name": "LANGUAGE", "default": "fr"}]}}
add("extend_env with a variable the image has", tpl,
    field="catalog.templates[0].overrides.%s.extend_env[0].name" % CUSTOM, value="LANGUAGE")
tpl = catalog()
tpl["templates"][0]["overrides"] = {"avr-core": {"env": {"ASR_URL": "http://elsewhere:1/x"}}}
add("template value of a wired core variable", tpl, field="catalog.templates[0].overrides.avr-core.env.ASR_URL",
    value="http://elsewhere:1/x")
tpl = catalog(companions=["workflow/flow"])
tpl["images"].append({"role": "workflow", "name": "flow", "image": "example/flow", "companions": ["asr/%s" % CUSTOM]})
add("companions in a cycle", tpl, field="catalog.images[0].companions[0]", value="workflow/flow")
tpl = catalog()
tpl["templates"][0]["images"]["service"] = "service/avr-phone"
add("a service image in a template slot", tpl, field="catalog.templates[0].images", value="service")


def test_catalog(ansible, seeded: Path, tmp_path: Path) -> None:
    began = time.monotonic()
    outcomes = run_batch(ansible, tmp_path / "cases", seeded, CASES)
    hold("catalog", outcomes, time.monotonic() - began)
