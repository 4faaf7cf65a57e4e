"""Derived env values (``{{var:NAME}}``) and JSON-valued variables (``format: json``).

The registry checks the values a template starts from (names, secrets, cycles, JSON of defaults), the
render resolves tokens after every layer (defaults, template values, environment.json, task env), and
environment.json keeps them unresolved. Hostile classes: an empty name, an unknown name, a
self-reference, 2- and 3-cycles, a secret, tokens where only env values resolve them, nested and
unclosed tokens, JSON edge cases.
"""

from __future__ import annotations

import copy
import json
from typing import Any, Dict, List, Optional

import pytest
import yaml

from ansible_collections.voiceops.avr.plugins.module_utils.registry import snapshot
from ansible_collections.voiceops.avr.plugins.module_utils.registry.catalog import effective_registry
from ansible_collections.voiceops.avr.plugins.module_utils.registry.model import (
    EnvVar, RegistryError, VarCycle, derive, json_problem,
)
from ansible_collections.voiceops.avr.plugins.module_utils.registry.registry import Registry, builtin, var_data
from ansible_collections.voiceops.avr.plugins.plugin_utils import envstore
from ansible_collections.voiceops.avr.plugins.plugin_utils.render import Inputs, RenderError, plan, render

AGENT = "tenant-agent"
DB_URL = "postgres://agent:s3cr3t-pw@db:5432/agents"


def agent_env() -> List[Dict[str, Any]]:
    return [
        {"name": "DEPARTMENT_ID", "required": True},
        {"name": "DEPARTMENT_NAME", "required": True},
        {"name": "DB_SCHEMA", "default": "{{var:DEPARTMENT_ID}}_tenant"},
        {"name": "AGENT_NAME", "default": "{{var:DEPARTMENT_NAME}} Voice Assistant"},
        {"name": "GREETING", "default": "Welcome to {{var:AGENT_NAME}}"},
        {"name": "SELF_URL", "default": "http://{{service:tenant-agent}}:8080/{{var:DEPARTMENT_ID}}"},
        {"name": "WEBHOOK_BASE"},
        {"name": "WEBHOOK_URL", "default": "{{var:WEBHOOK_BASE}}/calls"},
        {"name": "ENABLED_TOOLS", "format": "json", "default": '["transfer", "hangup"]'},
        {"name": "TOOL_CONFIG", "format": "json", "default": '{"department": "{{var:DEPARTMENT_ID}}"}'},
        {"name": "DATABASE_URL", "secret": True, "required": True, "secret_name": "AGENT_DATABASE_URL"},
        {"name": "WEBRTC_CREDENTIALS", "secret": True, "secret_name": "AGENT_WEBRTC", "format": "json"},
    ]


def catalog(env: Optional[List[Dict[str, Any]]] = None, **template: Any) -> Dict[str, Any]:
    tpl = {"id": "tenant", "stack": "plain", "extras": ["service/%s" % AGENT]}
    tpl.update(template)
    return {"images": [{"role": "service", "name": AGENT, "image": "example/tenant-agent:1.0.0",
                        "ports": ["8080:8080"], "env": agent_env() if env is None else env}],
            "templates": [tpl]}


def registry(data: Optional[Dict[str, Any]] = None) -> Registry:
    return effective_registry(catalog() if data is None else data, "2026.06")


def env_with(name: str, **changes: Any) -> List[Dict[str, Any]]:
    env = agent_env()
    for var in env:
        if var["name"] == name:
            var.update(changes)
            return env
    env.append(dict({"name": name}, **changes))
    return env


def refused(data: Dict[str, Any]) -> str:
    with pytest.raises(RegistryError) as caught:
        registry(data)
    text = str(caught.value)
    assert "\n" not in text
    return text


def rendered_env(reg: Registry, env: Any = None, stored: Any = None, secrets: Any = None,
                 allow_missing: bool = False) -> Dict[str, str]:
    secrets = {"AGENT_DATABASE_URL": DB_URL} if secrets is None else secrets
    inputs = Inputs("sales", env=env, stored_env=stored, secrets=secrets, allow_missing=allow_missing,
                    service_prefix="sales")
    out = render(reg, reg.template("tenant"), inputs)
    return dict(out.document["services"]["sales-" + AGENT]["environment"])


def render_error(reg: Registry, **kwargs: Any) -> str:
    with pytest.raises(RenderError) as caught:
        rendered_env(reg, **kwargs)
    text = str(caught.value)
    assert "\n" not in text
    return text


BASE = {AGENT: {"DEPARTMENT_ID": "sales", "DEPARTMENT_NAME": "Sales"}}


# -- derive, the resolution itself ------------------------------------------------------------------------

def test_derive_is_recursive_and_a_missing_base_leaves_no_value() -> None:
    final = derive({"A": "{{var:B}}-{{var:C}}", "B": "{{var:C}}!", "C": "c", "D": "{{var:E}}x", "E": None})
    assert final == {"A": "c!-c", "B": "c!", "C": "c", "D": None, "E": None}


def test_derive_does_not_read_inserted_text_again() -> None:
    assert derive({"A": "{{var:B}}", "B": "{{var:C}", "C": "x"})["A"] == "{{var:C}"
    assert derive({"A": "{{var:B}}", "B": "{{var:B}}"}, literal=("B",)) == {"A": "{{var:B}}", "B": "{{var:B}}"}


def test_derive_takes_a_long_chain_without_recursion() -> None:
    values: Dict[str, Optional[str]] = {"V%d" % n: "{{var:V%d}}." % (n + 1) for n in range(5000)}
    values["V5000"] = "end"
    assert derive(values)["V0"] == "end" + "." * 5000
    values["V5000"] = "{{var:V0}}"
    with pytest.raises(VarCycle):
        derive(values)


@pytest.mark.parametrize("values, cycle", [
    ({"A": "{{var:A}}"}, "A -> A"),
    ({"A": "{{var:B}}", "B": "x{{var:A}}"}, "A -> B -> A"),
    ({"A": "{{var:B}}", "B": "{{var:C}}", "C": "{{var:A}}"}, "A -> B -> C -> A"),
])
def test_derive_names_the_cycle(values: Dict[str, str], cycle: str) -> None:
    with pytest.raises(VarCycle) as caught:
        derive(values)
    assert str(caught.value) == cycle


# -- rendering --------------------------------------------------------------------------------------------

def test_defaults_derive_from_the_task_env_after_every_layer() -> None:
    env = rendered_env(registry(), env=BASE)
    assert env["DB_SCHEMA"] == "sales_tenant"
    assert env["AGENT_NAME"] == "Sales Voice Assistant"
    assert env["GREETING"] == "Welcome to Sales Voice Assistant", "a derived value naming a derived one"
    assert env["SELF_URL"] == "http://sales-tenant-agent:8080/sales", "service and var tokens in one value"
    assert env["TOOL_CONFIG"] == '{"department": "sales"}'
    assert env["ENABLED_TOOLS"] == '["transfer", "hangup"]', "a JSON value is emitted as written"
    assert env["DATABASE_URL"] == DB_URL


def test_a_value_given_for_the_derived_variable_wins() -> None:
    env = rendered_env(registry(), env={AGENT: dict(BASE[AGENT], DB_SCHEMA="custom")})
    assert env["DB_SCHEMA"] == "custom"


def test_tokens_from_environment_json_resolve_and_the_task_env_still_moves_the_base() -> None:
    reg = registry()
    stored = {AGENT: {"DEPARTMENT_ID": "support", "DEPARTMENT_NAME": "Support",
                      "DB_SCHEMA": "{{var:DEPARTMENT_ID}}_db"}}
    assert rendered_env(reg, stored=stored)["DB_SCHEMA"] == "support_db"
    env = rendered_env(reg, stored=stored, env={AGENT: {"DEPARTMENT_ID": "billing"}})
    assert env["DB_SCHEMA"] == "billing_db" and env["AGENT_NAME"] == "Support Voice Assistant"


def test_a_derived_value_without_its_base_is_not_emitted_and_a_required_one_is_missing() -> None:
    env = rendered_env(registry(), env=BASE)
    assert "WEBHOOK_URL" not in env and "WEBHOOK_BASE" not in env
    reg = registry(catalog(env_with("WEBHOOK_URL", required=True)))
    message = render_error(reg, env=BASE)
    assert "missing required values" in message and "tenant-agent.WEBHOOK_URL" in message
    assert rendered_env(reg, env={AGENT: dict(BASE[AGENT], WEBHOOK_BASE="https://n8n")})["WEBHOOK_URL"] == \
        "https://n8n/calls"


def test_a_dollar_in_a_base_value_is_protected_in_the_derived_one() -> None:
    env = rendered_env(registry(), env={AGENT: {"DEPARTMENT_ID": "a$b", "DEPARTMENT_NAME": "x"}})
    assert env["DB_SCHEMA"] == "a$$b_tenant"


@pytest.mark.parametrize("layer", ["env", "stored"])
@pytest.mark.parametrize("value, problem", [
    ("{{var:}}", "is not a variable name"),
    ("{{var:NOPE}}", "not a variable of this service"),
    ("{{var:DEPARTMENT_IDD}}", "did you mean 'DEPARTMENT_ID'"),
    ("{{var:DATABASE_URL}}", "a secret variable"),
    ("{{var:{{var:DEPARTMENT_ID}}}}", "tokens do not nest"),
    ("{{var:DEPARTMENT_ID", "does not close"),
])
def test_a_layered_value_naming_a_bad_variable_is_one_line_naming_field_and_value(
        layer: str, value: str, problem: str) -> None:
    given = {AGENT: dict(BASE[AGENT], AGENT_NAME=value)}
    message = render_error(registry(), **{layer: given})
    where = "env" if layer == "env" else "environment.json services"
    assert message.startswith("%s.%s.AGENT_NAME: value %r" % (where, AGENT, value)), message
    assert problem in message and DB_URL not in message


@pytest.mark.parametrize("values, cycle", [
    ({"DB_SCHEMA": "{{var:DB_SCHEMA}}"}, "DB_SCHEMA -> DB_SCHEMA"),
    ({"DEPARTMENT_ID": "{{var:DB_SCHEMA}}"}, "DEPARTMENT_ID -> DB_SCHEMA -> DEPARTMENT_ID"),
    ({"DEPARTMENT_NAME": "{{var:GREETING}}"}, "DEPARTMENT_NAME -> GREETING -> AGENT_NAME -> DEPARTMENT_NAME"),
])
def test_a_cycle_through_layered_values_is_refused_naming_it(values: Dict[str, str], cycle: str) -> None:
    name = next(iter(values))
    message = render_error(registry(), env={AGENT: dict(BASE[AGENT], **values)})
    assert message.startswith("env.%s.%s: value %r makes a cycle of derived values (%s)"
                              % (AGENT, name, values[name], cycle)), message
    message = render_error(registry(), stored={AGENT: dict(BASE[AGENT], **values)})
    assert message.startswith("environment.json services.%s.%s: value %r" % (AGENT, name, values[name])), message


def test_a_cycle_is_reported_at_the_layered_value_that_closes_it() -> None:
    reg = registry(catalog([{"name": "A", "default": "{{var:B}}"}, {"name": "B"}]))
    with pytest.raises(RenderError) as caught:
        render(reg, reg.template("tenant"), Inputs("sales", env={AGENT: {"B": "{{var:A}}"}}))
    assert str(caught.value).startswith("env.%s.B: value '{{var:A}}' makes a cycle of derived values (B -> A -> B)"
                                        % AGENT), str(caught.value)


@pytest.mark.parametrize("value, reason", [
    ("", "Expecting value"), ("transfer", "Expecting value"), ('["a"] x', "Extra data"),
    ("[1,", "Expecting value"), ("NaN", "NaN is not JSON"), ("{'a': 1}", "double quotes"),
    ("[" * 100000, "nested too deeply"),
])
def test_a_json_variable_refuses_text_that_is_not_json(value: str, reason: str) -> None:
    message = render_error(registry(), env={AGENT: dict(BASE[AGENT], ENABLED_TOOLS=value)})
    assert message.startswith("env.%s.ENABLED_TOOLS: value %r" % (AGENT, value[:200])), message
    assert "is not JSON (%s" % reason in message or reason in message, message
    assert len(message) < 400, "a long value is shortened in the message"


def test_json_after_token_resolution_and_edge_values_that_are_json() -> None:
    reg = registry()
    message = render_error(reg, env={AGENT: {"DEPARTMENT_ID": 'a"b', "DEPARTMENT_NAME": "x"}})
    assert message.startswith("env.%s.TOOL_CONFIG: value '{\"department\": \"a\"b\"}' is not JSON" % AGENT), message
    big = json.dumps(["x" * 1000] * 1000)
    assert len(big) > 1000000
    for value in ("null", "0", '"text"', " [ ] ", big):
        assert rendered_env(reg, env={AGENT: dict(BASE[AGENT], ENABLED_TOOLS=value)})["ENABLED_TOOLS"] == value


def test_a_secret_json_variable_is_checked_without_quoting_it() -> None:
    reg = registry()
    secret = "not-json-s3cr3t"
    with pytest.raises(RenderError) as caught:
        render(reg, reg.template("tenant"), Inputs("sales", env=BASE, secrets={
            "AGENT_DATABASE_URL": DB_URL, "AGENT_WEBRTC": secret}))
    message = str(caught.value)
    assert message.startswith("env.%s.WEBRTC_CREDENTIALS: the value is not JSON (" % AGENT), message
    assert secret not in message
    good = '{"user": "u", "password": "p"}'
    assert rendered_env(reg, env=BASE, secrets={"AGENT_DATABASE_URL": DB_URL, "AGENT_WEBRTC": good})[
        "WEBRTC_CREDENTIALS"] == good


def test_a_secret_value_is_taken_literally() -> None:
    value = "{{var:DEPARTMENT_ID}}$x"
    env = rendered_env(registry(), env=BASE, secrets={"AGENT_DATABASE_URL": value})
    assert env["DATABASE_URL"] == "{{var:DEPARTMENT_ID}}$$x"


def test_allow_missing_leaves_a_placeholder_for_a_required_derived_variable() -> None:
    reg = registry(catalog(env_with("WEBHOOK_URL", required=True)))
    env = rendered_env(reg, env=BASE, allow_missing=True)
    assert env["WEBHOOK_URL"] == "${WEBHOOK_URL}"


# -- the registry check (built-in data and catalogs) -----------------------------------------------------

@pytest.mark.parametrize("default, problem", [
    ("{{var:}}", "is not a variable name"),
    ("{{var:NOPE}}", "is not a variable of this service"),
    ("{{var:DATABASE_URL}}", "a secret variable"),
    ("x{{var:{{var:DEPARTMENT_ID}}}}", "tokens do not nest"),
])
def test_a_catalog_default_naming_a_bad_variable_is_located_the_catalog_way(default: str, problem: str) -> None:
    message = refused(catalog(env_with("AGENT_NAME", default=default)))
    assert message.startswith("catalog.images[0].env[3].default: %r " % default), message
    assert problem in message


@pytest.mark.parametrize("changes, at, cycle", [
    ({"DB_SCHEMA": "{{var:DB_SCHEMA}}"}, 2, "DB_SCHEMA -> DB_SCHEMA"),
    ({"DEPARTMENT_ID": "{{var:DB_SCHEMA}}"}, 0, "DEPARTMENT_ID -> DB_SCHEMA -> DEPARTMENT_ID"),
    ({"DEPARTMENT_NAME": "{{var:GREETING}}"}, 1, "DEPARTMENT_NAME -> AGENT_NAME -> GREETING -> DEPARTMENT_NAME"),
])
def test_a_cycle_of_defaults_is_refused_naming_it(changes: Dict[str, str], at: int, cycle: str) -> None:
    env = agent_env()
    for var in env:
        if var["name"] in changes:
            var["default"] = changes[var["name"]]
    message = refused(catalog(env))
    assert message.startswith("catalog.images[0].env[%d].default: " % at), message
    assert "cycle of derived values" in message and cycle.split(" -> ")[1] in message, message


def test_template_values_and_extend_env_may_derive_and_are_checked_with_the_extended_schema() -> None:
    data = catalog(overrides={AGENT: {
        "extend_env": [{"name": "REGION", "default": "eu"},
                       {"name": "QUEUE", "default": "{{var:DEPARTMENT_ID}}-{{var:REGION}}"}],
        "env": {"AGENT_NAME": "{{var:REGION}} {{var:DEPARTMENT_NAME}}"}}})
    env = rendered_env(registry(data), env=BASE)
    assert env["QUEUE"] == "sales-eu" and env["AGENT_NAME"] == "eu Sales"
    bad = copy.deepcopy(data)
    bad["templates"][0]["overrides"][AGENT]["env"]["AGENT_NAME"] = "{{var:REGIO}}"
    message = refused(bad)
    assert message.startswith("catalog.templates[0].overrides.%s.env.AGENT_NAME: '{{var:REGIO}}' " % AGENT), message
    assert "did you mean 'REGION'" in message
    cyc = copy.deepcopy(data)
    cyc["templates"][0]["overrides"][AGENT]["env"]["DEPARTMENT_ID"] = "{{var:QUEUE}}"
    message = refused(cyc)
    assert message.startswith("catalog.templates[0].overrides.%s." % AGENT), message
    assert "cycle of derived values" in message
    secret = copy.deepcopy(data)
    secret["templates"][0]["overrides"][AGENT]["extend_env"][1]["default"] = "{{var:DATABASE_URL}}"
    message = refused(secret)
    assert message.startswith("catalog.templates[0].overrides.%s.extend_env[1].default: " % AGENT), message
    assert "a secret variable" in message


@pytest.mark.parametrize("default, reason", [
    ("", "Expecting value"), ("null x", "Extra data"), ("tools", "Expecting value"),
])
def test_a_json_default_that_is_not_json_is_refused(default: str, reason: str) -> None:
    message = refused(catalog(env_with("ENABLED_TOOLS", default=default)))
    assert message.startswith("catalog.images[0].env[8].default: value %r is not JSON (" % default), message
    assert reason in message


def test_a_json_default_is_checked_after_its_tokens_resolve() -> None:
    env = env_with("DEPARTMENT_ID", default="a\"b")
    message = refused(catalog(env))
    assert message.startswith("catalog.images[0].env[9].default: value '{\"department\": \"{{var:DEPARTMENT_ID}}\"}'"
                              " is not JSON"), message


def test_a_template_value_that_breaks_a_derived_json_default_is_named() -> None:
    message = refused(catalog(overrides={AGENT: {"env": {"DEPARTMENT_ID": 'a"b'}}}))
    assert message.startswith("catalog.templates[0].overrides.%s.env.DEPARTMENT_ID: 'a\"b' makes TOOL_CONFIG "
                              "'{\"department\": \"a\"b\"}', which is not JSON (" % AGENT), message


def test_a_template_value_of_a_json_variable_is_checked() -> None:
    message = refused(catalog(overrides={AGENT: {"env": {"ENABLED_TOOLS": "[oops]"}}}))
    assert message.startswith("catalog.templates[0].overrides.%s.env.ENABLED_TOOLS: value '[oops]' is not JSON"
                              % AGENT), message


def test_a_secret_json_default_is_not_quoted() -> None:
    message = refused(catalog(env_with("WEBRTC_CREDENTIALS", default="hidden-value")))
    assert "catalog.images[0].env[11].default: the value is not JSON" in message
    assert "hidden-value" not in message


@pytest.mark.parametrize("fmt", ["yaml", "JSON", "", 1])
def test_only_json_is_a_format(fmt: Any) -> None:
    message = refused(catalog(env_with("ENABLED_TOOLS", format=fmt)))
    assert message.startswith("catalog.images[0].env[8].format: "), message


def test_the_registry_checks_built_in_data_the_same_way() -> None:
    reg = builtin("2026.06")
    img = reg.images["core/avr-core"]
    bad = img.__class__(**dict(img.__dict__, env=img.env + (EnvVar("X_DERIVED", "{{var:NOT_THERE}}"),)))
    images = [bad if key == img.key else other for key, other in reg.images.items()]
    with pytest.raises(RegistryError) as caught:
        Registry(images, [], reg.providers, {})
    assert str(caught.value).startswith("images[core/avr-core].env.X_DERIVED.default: '{{var:NOT_THERE}}' names")
    json_bad = img.__class__(**dict(img.__dict__, env=img.env + (EnvVar("X_JSON", "{", format="json"),)))
    with pytest.raises(RegistryError) as caught:
        Registry([json_bad if key == img.key else other for key, other in reg.images.items()], [], reg.providers, {})
    assert str(caught.value).startswith("images[core/avr-core].env.X_JSON.default: value '{' is not JSON")
    bad_format = img.__class__(**dict(img.__dict__, env=img.env + (EnvVar("X_FMT", "1", format="yaml"),)))
    with pytest.raises(RegistryError) as caught:
        Registry([bad_format if key == img.key else other for key, other in reg.images.items()], [], reg.providers, {})
    assert str(caught.value).startswith("images[core/avr-core].env.X_FMT.format: 'yaml' is not a value format")


@pytest.mark.parametrize("field, entry", [
    ("labels", {"labels": ["traefik.rule=Host(`{{var:DEPARTMENT_ID}}.example`)"]}),
    ("command", {"command": ["agent", "--schema", "{{var:DB_SCHEMA}}"]}),
    ("healthcheck.test", {"healthcheck": {"test": ["CMD", "curl", "{{var:SELF_URL}}"]}}),
])
def test_a_var_token_outside_env_values_is_refused_like_a_service_token(field: str, entry: Dict[str, Any]) -> None:
    data = catalog()
    data["images"][0].update(entry)
    message = refused(data)
    assert message.startswith("catalog.images[0].%s" % field), message
    assert "holds a {{var:...}} token, which is resolved in env values only" in message
    tpl = catalog(overrides={AGENT: {"add_labels": ["tenant={{var:DEPARTMENT_ID}}"]}})
    message = refused(tpl)
    assert message.startswith("catalog.templates[0].overrides.%s.add_labels[0]" % AGENT), message
    assert "{{var:...}} token" in message


# -- snapshot: format written only when set, read back ---------------------------------------------------

def test_format_is_written_only_when_set_and_the_snapshot_loads_back() -> None:
    assert "format" not in var_data(EnvVar("A", "1"))
    assert var_data(EnvVar("A", "[]", format="json"))["format"] == "json"
    reg = registry()
    doc = reg.snapshot()
    env = {v["name"]: v for v in doc["images"]["service/%s" % AGENT]["env"]}
    assert env["ENABLED_TOOLS"]["format"] == "json" and "format" not in env["DB_SCHEMA"]
    again = snapshot.load(reg.snapshot_text())
    assert again.digest == reg.digest
    assert again.images["service/%s" % AGENT].var("ENABLED_TOOLS").format == "json"  # type: ignore[union-attr]
    for gen in ("2025.09", "2026.06"):
        assert "\"format\"" not in builtin(gen).snapshot_text(), "built-in data sets no format"
    extended = registry(catalog(overrides={AGENT: {"extend_env": [{"name": "ROUTES", "format": "json",
                                                                  "default": "{}"}]}}))
    loaded = snapshot.load(extended.snapshot_text())
    assert loaded.digest == extended.digest and loaded.digest != reg.digest
    ovr = loaded.template("tenant").override(AGENT)
    assert ovr is not None and ovr.extend_env[0].format == "json"


def test_a_snapshot_with_a_bad_or_null_format_is_refused() -> None:
    doc = registry().snapshot()
    var = next(v for v in doc["images"]["service/%s" % AGENT]["env"] if v["name"] == "ENABLED_TOOLS")
    var["format"] = None
    with pytest.raises(RegistryError, match="format"):
        snapshot.load(json.dumps(doc))
    var["format"] = "yaml"
    with pytest.raises(RegistryError, match="not a value format"):
        snapshot.load(json.dumps(doc))


# -- environment.json (voice_env) ------------------------------------------------------------------------

def stack_update(set_: Any = None, current: Any = None) -> Dict[str, Any]:
    reg = registry()
    return envstore.update(reg, plan(reg, reg.template("tenant")), current, set_, None)


def test_the_store_keeps_tokens_unresolved_and_render_resolves_them() -> None:
    data = stack_update({AGENT: {"DEPARTMENT_ID": "sales", "DEPARTMENT_NAME": "Sales"}})
    stored = data["services"][AGENT]
    assert stored["DB_SCHEMA"] == "{{var:DEPARTMENT_ID}}_tenant"
    assert stored["SELF_URL"] == "http://{{service:tenant-agent}}:8080/{{var:DEPARTMENT_ID}}"
    assert "DATABASE_URL" not in stored
    env = rendered_env(registry(), stored=data["services"], env={AGENT: {"DEPARTMENT_ID": "billing"}})
    assert env["DB_SCHEMA"] == "billing_tenant"


def test_missing_counts_a_derived_value_without_its_base_as_missing() -> None:
    reg = registry(catalog(env_with("WEBHOOK_URL", required=True)))
    st = plan(reg, reg.template("tenant"))
    data = envstore.update(reg, st, None, None, None)
    wanted = ["%s.%s" % (AGENT, n) for n in ("DEPARTMENT_ID", "DEPARTMENT_NAME", "WEBHOOK_URL")]
    assert envstore.missing(st, data) == wanted
    data = envstore.update(reg, st, data, {AGENT: {"WEBHOOK_BASE": "https://x"}}, None)
    assert "%s.WEBHOOK_URL" % AGENT not in envstore.missing(st, data)


@pytest.mark.parametrize("set_, start", [
    ({"ENABLED_TOOLS": "transfer"}, "set.%s.ENABLED_TOOLS: value 'transfer' is not JSON (" % AGENT),
    ({"DEPARTMENT_ID": 'a"b'}, "set.%s.DEPARTMENT_ID: value 'a\"b' makes TOOL_CONFIG" % AGENT),
    ({"AGENT_NAME": "{{var:NOPE}}"}, "set.%s.AGENT_NAME: value '{{var:NOPE}}' names {{var:NOPE}}" % AGENT),
    ({"AGENT_NAME": "{{var:DATABASE_URL}}"}, "set.%s.AGENT_NAME: value '{{var:DATABASE_URL}}'" % AGENT),
    ({"DEPARTMENT_ID": "{{var:DB_SCHEMA}}"}, "set.%s.DEPARTMENT_ID: value '{{var:DB_SCHEMA}}' makes a cycle" % AGENT),
])
def test_voice_env_refuses_bad_set_values(set_: Dict[str, str], start: str) -> None:
    with pytest.raises(RenderError) as caught:
        stack_update({AGENT: set_})
    assert str(caught.value).startswith(start), str(caught.value)


def test_voice_env_refuses_a_hand_edited_store_naming_the_file() -> None:
    current = stack_update()
    current["services"][AGENT]["ENABLED_TOOLS"] = "{oops"
    with pytest.raises(RenderError) as caught:
        stack_update(None, current)
    assert str(caught.value).startswith("environment.json services.%s.ENABLED_TOOLS: value '{oops' is not JSON"
                                        % AGENT), str(caught.value)


def test_json_problem_classes() -> None:
    for good in ("null", "1", "[]", "{}", '"x"', "true"):
        assert json_problem(good) is None, good
    for bad in ("", "  ", "None", "Infinity", "-Infinity", "[1,]", "{\"a\":1}}", "'x'"):
        assert json_problem(bad), bad


def test_the_example_is_yaml_data() -> None:
    """The catalog of these tests loads from YAML text as a catalog file would hold it."""
    text = yaml.safe_dump(catalog())
    assert registry(yaml.safe_load(text)).digest == registry().digest
