"""module_utils/registry: a catalog (and the built-in data) is refused in one line naming the field and value.

Classes: names (final newline, whitespace, look-alikes, too long, odd types), values (newline, NUL, text
that was not UTF-8), duplicates, host mounts outside the project, the catalog's own type.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime
from typing import Any, Dict, List

import pytest

from ansible_collections.voiceops.avr.plugins.module_utils.registry.generations.g2025_09 import (
    images as builtin_images, providers as builtin_providers, templates as builtin_templates,
)
from ansible_collections.voiceops.avr.plugins.module_utils.registry.catalog import (
    effective_registry, plain_data, type_name,
)
from ansible_collections.voiceops.avr.plugins.module_utils.registry.model import (
    RegistryError, ServiceOverride, volume_problem,
)
from ansible_collections.voiceops.avr.plugins.module_utils.registry.registry import (
    Registry, builtin,
)


def image(**fields: Any) -> Dict[str, Any]:
    entry = {"role": "asr", "name": "acme-asr", "image": "example/acme-asr:1", "port": 6090}
    entry.update(fields)
    return entry


def template(**fields: Any) -> Dict[str, Any]:
    entry: Dict[str, Any] = {"id": "acme", "stack": "modular", "images": {
        "asr": "asr/avr-asr-vosk", "llm": "llm/avr-llm-openai", "tts": "tts/avr-tts-deepgram"}}
    entry.update(fields)
    return entry


def refused(data: Any) -> str:
    with pytest.raises(RegistryError) as caught:
        effective_registry(copy.deepcopy(data))
    text = str(caught.value)
    assert "\n" not in text and "\r" not in text, "not one line: %r" % text
    return text


# -- names -------------------------------------------------------------------------------------------

NAMES: List[Any] = ["acme\n", "acme\r\n", " acme", "acme ", "ac me", "Acme", "аcme", "ａcme", "ac\x00me", "",
                    "a" * 64, "-acme", "acme/x", 7, True, None, ["acme"], {"a": 1}]


@pytest.mark.parametrize("value", NAMES, ids=repr)
@pytest.mark.parametrize("section, field", [("images", "name"), ("images", "service"), ("providers", "name"),
                                            ("templates", "id")])
def test_a_bad_name_is_refused_naming_field_and_value(section: str, field: str, value: Any) -> None:
    entry = {"images": image, "providers": lambda: {"name": "acme"}, "templates": template}[section]()
    entry[field] = value
    if value is None and field == "service":  # null means the image name: taken, not refused
        assert effective_registry(copy.deepcopy({section: [entry]})).images
        return
    msg = refused({section: [entry]})
    assert msg.startswith("catalog.%s[0].%s: " % (section, field)), msg
    assert repr(value)[:60] in msg, msg


@pytest.mark.parametrize("value", ["ACME_KEY\n", "ACME KEY", "1KEY", "KEY\x00", "ＫEY", "", 5])
def test_a_bad_variable_name_is_refused(value: Any) -> None:
    msg = refused({"images": [image(env=[{"name": value}])]})
    assert msg.startswith("catalog.images[0].env[0].name: "), msg


@pytest.mark.parametrize("value", ["n" * 64, "net\n", "Net"])
def test_a_bad_network_name_is_refused(value: str) -> None:
    msg = refused({"templates": [template(network={"name": value})]})
    assert msg.startswith("catalog.templates[0].network.name: ") and repr(value)[:40] in msg, msg


# -- values: one rule for catalog defaults and the task's env -------------------------------------

@pytest.mark.parametrize("value, problem", [("line\nbreak", "newline"), ("cr\r", "newline"), ("nul\x00", "NUL"),
                                            ("caf\udce9", "not valid UTF-8")])
def test_an_env_default_follows_the_value_rule(value: str, problem: str) -> None:
    msg = refused({"images": [image(env=[{"name": "GREETING", "default": value}])]})
    assert msg.startswith("catalog.images[0].env[0].default: %r " % value) and problem in msg, msg
    msg = refused({"templates": [template(overrides={"avr-core": {"env": {"SYSTEM_MESSAGE": value}}})]})
    assert msg.startswith("catalog.templates[0].overrides.avr-core.env: %r " % value) and problem in msg, msg


@pytest.mark.parametrize("default", ["s3cret-pass\nword", "s3cret\x00", 12345678])
def test_the_default_of_a_secret_variable_is_never_quoted(default: Any) -> None:
    var = {"name": "PASS", "default": default, "secret": True, "secret_name": "PASS"}
    msg = refused({"images": [image(env=[var])]})
    assert msg.startswith("catalog.images[0].env[0]"), msg
    assert "s3cret" not in msg and "12345678" not in msg, msg


@pytest.mark.parametrize("field, value", [("command", ["run", "a\nb"]), ("platform", "linux\n"),
                                          ("restart", "always\x00"), ("description", "a\x00b")])
def test_other_image_texts_refuse_nul_and_newline(field: str, value: Any) -> None:
    msg = refused({"images": [image(**{field: value})]})
    assert msg.startswith("catalog.images[0].%s: " % field), msg


def test_a_healthcheck_text_follows_the_value_rule() -> None:
    msg = refused({"images": [image(healthcheck={"test": ["CMD", "ping\n"]})]})
    assert msg.startswith("catalog.images[0].healthcheck.test: 'ping\\n' contains a newline"), msg


def test_a_description_may_span_lines() -> None:
    reg = effective_registry({"images": [image(description="line one\nline two")]})
    assert reg.images["asr/acme-asr"].description == "line one\nline two"


def test_the_builtin_data_follows_the_value_rule_too() -> None:
    bad = dataclasses.replace(builtin_images.AVR_CORE, env=(dataclasses.replace(builtin_images.AVR_CORE.env[0],
                                                                                default="5001\n"),))
    with pytest.raises(RegistryError, match=r"^images\[core/avr-core\]\.env\.PORT\.default: '5001\\n' contains"):
        Registry([bad if img is builtin_images.AVR_CORE else img for img in builtin_images.ALL_IMAGES],
                 builtin_templates.TEMPLATES, builtin_providers.PROVIDERS, builtin("2025.09").role_providers)


# -- duplicates ----------------------------------------------------------------------------------------

def test_an_image_defined_twice_is_refused() -> None:
    msg = refused({"images": [image(), image(name="other"), image(image="example/acme-asr:2")]})
    assert msg == ("catalog.images[2].name: 'acme-asr' (role asr) is already defined at catalog.images[0]; "
                   "each may appear once")


def test_a_template_defined_twice_is_refused() -> None:
    msg = refused({"templates": [template(), template(description="second")]})
    assert msg == "catalog.templates[1].id: 'acme' is already defined at catalog.templates[0]; each may appear once"


def test_a_provider_defined_twice_is_refused() -> None:
    msg = refused({"providers": [{"name": "acme", "env": "A_KEY"}, {"name": "acme", "env": "B_KEY"}]})
    assert msg == "catalog.providers[1].name: 'acme' is already defined at catalog.providers[0]; each may appear once"


def test_two_images_serving_one_provider_in_one_role_are_refused() -> None:
    msg = refused({"images": [image(provider="acme"), image(name="acme-asr-2", provider="acme")]})
    assert msg == "catalog.images[1].provider: asr provider 'acme' is already served by catalog.images[0]"


def test_the_same_name_in_two_roles_and_a_replaced_builtin_are_not_duplicates() -> None:
    reg = effective_registry({"images": [image(), image(role="tts"),
                                         image(role="asr", name="avr-asr-vosk", image="example/vosk:2")]})
    assert {"asr/acme-asr", "tts/acme-asr"} <= set(reg.images)
    assert reg.images["asr/avr-asr-vosk"].image == "example/vosk:2"


# -- host mounts -----------------------------------------------------------------------------------------

OUTSIDE = ["/:/host", "/etc:/etc", "/var/run/docker.sock:/var/run/docker.sock", "../../:/x", "..:/x",
           "./a/../../b:/x", "~/secrets:/s", "~:/h", "/etc/passwd:/p:ro"]
INSIDE = ["./data:/data", "./a/../b:/b", ".:/project", "./keys:/keys:ro", "named-volume:/v", "/anonymous"]


@pytest.mark.parametrize("spec", OUTSIDE)
def test_a_host_path_outside_the_project_is_refused(spec: str) -> None:
    msg = refused({"images": [image(volumes=[spec])]})
    assert msg.startswith("catalog.images[0].volumes[0]: %r mounts host path %r, outside the project"
                          % (spec, spec.split(":")[0])), msg
    assert "host_paths" in msg
    msg = refused({"templates": [template(overrides={"avr-core": {"add_volumes": [spec]}})]})
    assert msg.startswith("catalog.templates[0].overrides.avr-core.add_volumes[0]: %r mounts host path" % spec), msg


@pytest.mark.parametrize("spec", OUTSIDE)
def test_a_host_path_listed_in_host_paths_is_taken(spec: str) -> None:
    source = spec.split(":")[0]
    reg = effective_registry({"images": [image(volumes=[spec], host_paths=[source])]})
    assert reg.images["asr/acme-asr"].volumes == (spec,)
    assert reg.images["asr/acme-asr"].host_paths == (source,)


@pytest.mark.parametrize("spec", INSIDE)
def test_project_paths_and_named_volumes_need_no_mark(spec: str) -> None:
    assert volume_problem(spec, ()) is None
    assert effective_registry({"images": [image(volumes=[spec])]}).images["asr/acme-asr"].volumes == (spec,)


def test_host_paths_take_no_interpolation_or_newline() -> None:
    assert refused({"images": [image(host_paths=["$HOME"])]}).startswith("catalog.images[0].host_paths: ")
    assert refused({"images": [image(host_paths=["/etc\n"])]}).startswith("catalog.images[0].host_paths: ")


def test_the_builtin_admin_app_marks_its_docker_socket() -> None:
    app = builtin("2025.09").images["app/avr-app"]
    assert "/var/run/docker.sock:/var/run/docker.sock" in app.volumes
    assert app.host_paths == ("/var/run/docker.sock",)
    unmarked = dataclasses.replace(app, host_paths=())
    with pytest.raises(RegistryError, match=r"^images\[app/avr-app\]\.volumes\[0\]: .* mounts host path "
                                            r"'/var/run/docker\.sock'"):
        Registry([unmarked if img.key == app.key else img for img in builtin_images.ALL_IMAGES],
                 [tpl for tpl in builtin_templates.TEMPLATES if tpl.id != "app"], builtin_providers.PROVIDERS,
                 builtin("2025.09").role_providers)


def test_a_builtin_template_override_is_checked_too() -> None:
    bad = dataclasses.replace(builtin_templates.TEMPLATES[0], overrides=(
        ("avr-core", ServiceOverride(add_volumes=("/etc:/etc",))),))
    with pytest.raises(RegistryError, match=r"overrides\.avr-core\.add_volumes\[0\]: '/etc:/etc' mounts host path"):
        Registry(builtin_images.ALL_IMAGES, [bad], builtin_providers.PROVIDERS, builtin("2025.09").role_providers)


def test_a_catalog_image_keeps_the_marking_through_image_data() -> None:
    from ansible_collections.voiceops.avr.plugins.module_utils.registry.registry import image_data
    entry = image_data(builtin("2025.09").images["app/avr-app"])
    del entry["key"]
    entry["name"] = "my-app"
    reg = effective_registry({"images": [entry]})
    assert reg.images["app/my-app"].host_paths == ("/var/run/docker.sock",)


# -- the catalog's own type ---------------------------------------------------------------------------

class TaggedList(list):  # what Ansible passes (its _AnsibleTaggedList) looks like this
    pass


class TaggedStr(str):
    pass


@pytest.mark.parametrize("data, name", [(["images"], "list"), (TaggedList(), "list"), ("catalog.yml", "str"),
                                        (TaggedStr("x"), "str"), (5, "int"), (True, "bool"), (1.5, "float"),
                                        (b"images: []", "bytes")])
def test_a_catalog_that_is_not_a_mapping_names_its_plain_type(data: Any, name: str) -> None:
    assert refused(data) == "catalog: expected a mapping with images, providers and templates, got %s" % name


def test_plain_data_unwraps_tagged_types() -> None:
    data = plain_data({TaggedStr("images"): TaggedList([{TaggedStr("name"): TaggedStr("x")}])})
    assert data == {"images": [{"name": "x"}]}
    assert next(iter(data)).__class__ is str and data["images"].__class__ is list
    assert type_name(TaggedList()) == "list" and type_name(None) == "null"


def test_a_date_where_text_belongs_is_refused_with_its_location() -> None:
    msg = refused({"images": [image(description=datetime.date(2024, 1, 1))]})
    assert msg.startswith("catalog.images[0].description: Input should be a valid string"), msg


def test_an_empty_mapping_is_the_builtin_registry() -> None:
    assert effective_registry({}) is builtin()
    assert effective_registry(None) is builtin()


# -- ports -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("spec", ["abc", "5001:5001\n", " 5001:5001", "5001:5001 ", "١٥٠٠١:5001", "5001:5001/icmp",
                                  "5001::5001", "host:5001:5001", "${PORT}:5001"])
def test_a_catalog_port_that_is_not_a_mapping_is_refused(spec: str) -> None:
    msg = refused({"images": [image(ports=[spec])]})
    assert msg.startswith("catalog.images[0].ports: %r" % spec), msg
    msg = refused({"templates": [template(overrides={"avr-core": {"ports": [spec]}})]})
    assert msg.startswith("catalog.templates[0].overrides.avr-core.ports: %r" % spec), msg


@pytest.mark.parametrize("spec", ["5001:5001", "127.0.0.1:5001:5001", "[::1]:5001:5001", "10000-10050:10000-10050/udp",
                                  "5001", "5001/udp"])
def test_catalog_port_mappings_are_taken(spec: str) -> None:
    assert effective_registry({"images": [image(ports=[spec])]}).images["asr/acme-asr"].ports == (spec,)


@pytest.mark.parametrize("spec", ["5038\n", "mgmt", "", "5038:5038"])
def test_a_management_port_is_a_container_port(spec: str) -> None:
    assert refused({"images": [image(management_ports=[spec])]}).startswith("catalog.images[0].management_ports: ")


@pytest.mark.parametrize("value", ["acme\n", "Acme", "a" * 64])
def test_a_variable_provider_is_a_name(value: str) -> None:
    msg = refused({"images": [image(env=[{"name": "X", "provider": value}])]})
    assert msg.startswith("catalog.images[0].env[0].provider: "), msg


def test_a_missing_image_key_is_quoted_in_the_render_error() -> None:
    from ansible_collections.voiceops.avr.plugins.plugin_utils.render import Inputs, RenderError, render
    reg = effective_registry({"templates": [template(images={"asr": "asr/nope\n", "llm": "llm/avr-llm-openai",
                                                             "tts": "tts/avr-tts-deepgram"})]})
    with pytest.raises(RenderError) as caught:
        render(reg, reg.template("acme"), Inputs("demo", allow_missing=True))
    assert str(caught.value).endswith("does not have: 'asr/nope\\n'"), str(caught.value)


@pytest.mark.parametrize("field, value", [("platform", "linux/x86_64\n"), ("platform", "Linux x86"),
                                          ("platform", "$ARCH"), ("restart", "always\n"), ("restart", "sometimes"),
                                          ("restart", "on-failure:x")])
def test_platform_and_restart_are_compose_values(field: str, value: str) -> None:
    msg = refused({"images": [image(**{field: value})]})
    assert msg.startswith("catalog.images[0].%s: %r is not a" % (field, value)), msg


@pytest.mark.parametrize("field, value", [("driver", "bridge\n"), ("driver", ""), ("driver", "a b"),
                                          ("subnet", "172.20.0.0/24\n"), ("subnet", "10.0.0.1/8"), ("subnet", "x")])
def test_a_catalog_network_driver_and_subnet_are_checked(field: str, value: str) -> None:
    msg = refused({"templates": [template(network={field: value})]})
    assert msg.startswith("catalog.templates[0].network.%s: %r is not a" % (field, value)), msg


@pytest.mark.parametrize("entry", [{"platform": "linux/arm64/v8"}, {"restart": "on-failure:3"}, {"restart": None},
                                   {"platform": None}, {"restart": "unless-stopped"}])
def test_good_platforms_and_restart_policies_are_taken(entry: Dict[str, Any]) -> None:
    assert effective_registry({"images": [image(**entry)]}).images["asr/acme-asr"]


@pytest.mark.parametrize("data, start", [
    ({"images": [], 1: 2}, "catalog[1]: Keys should be strings"),
    ({"images": [{**image(), 5: "x"}]}, "catalog.images[0][5]: Keys should be strings"),
    ({"images": [None]}, "catalog.images[0]: Input should be a valid dictionary (got None)"),
])
def test_odd_catalog_shapes_give_one_line(data: Any, start: str) -> None:
    msg = refused(data)
    assert msg.startswith(start), msg
    assert "CatalogImage" not in msg


@pytest.mark.parametrize("name", ["environment.json", "docker-compose.yml", ".credentials.json", "current",
                                  "releases", "asterisk", ".docker-compose.yml.abcd1234", ".", ".."])
def test_a_credential_file_may_not_take_a_name_of_the_project_layout(name: str) -> None:
    msg = refused({"providers": [{"name": "acme", "file": name}]})
    assert msg.startswith("catalog.providers[0].file: %r is not" % name), msg


def test_a_credential_file_may_take_a_name_the_layout_uses_only_below_releases() -> None:
    for name in ("history.jsonl", ".lock", "acme.json"):
        assert effective_registry({"providers": [{"name": "acme", "file": name}]}).providers["acme"].file == name
