"""plugin_utils/references.py: which image reference each service of a deployment runs."""

from __future__ import annotations

import copy
from typing import Any, Dict, Tuple

import pytest

from ansible_collections.voiceops.avr.plugins.module_utils.registry.catalog import effective_registry
from ansible_collections.voiceops.avr.plugins.module_utils.registry.model import Image, RegistryError
from ansible_collections.voiceops.avr.plugins.module_utils.registry.registry import Registry, builtin, image_data
from ansible_collections.voiceops.avr.plugins.plugin_utils.references import image_references
from ansible_collections.voiceops.avr.plugins.plugin_utils.render import plan

REG = builtin("2025.09")  # these tests read generation 2025.09 facts
DIGEST = "sha256:" + "0123456789abcdef" * 4
OTHER_DIGEST = "sha256:" + "ab" * 32
DEV = "dev-20261122093000"
CORE = "agentvoiceresponse/avr-core"


def images(template_id: str, registry: Registry = REG) -> Tuple[Image, ...]:
    return plan(registry, registry.templates[template_id]).images


def texts(template_id: str, registry: Registry = REG, **kwargs: Any) -> Dict[str, str]:
    refs = image_references(images(template_id, registry), policies=registry.tag_policies, **kwargs)
    return {name: str(ref) for name, ref in refs.items()}


def refused(template_id: str, registry: Registry = REG, **kwargs: Any) -> str:
    with pytest.raises(RegistryError) as err:
        image_references(images(template_id, registry), policies=registry.tag_policies, **kwargs)
    return str(err.value)


def image_entry(key: str, **changes: Any) -> Dict[str, Any]:
    """A catalog entry reproducing built-in image ``key``, with ``changes``."""
    entry = image_data(REG.images[key])
    del entry["key"]
    entry.update(changes)
    return entry


def catalog_registry(*entries: Dict[str, Any]) -> Registry:
    return effective_registry(copy.deepcopy({"images": list(entries)}), "2025.09")


# -- defaults -------------------------------------------------------------------------------------


def test_without_inputs_every_service_runs_its_registry_image() -> None:
    out = texts("openai")
    assert out == {img.service_name: img.image for img in images("openai")}
    assert out["avr-core"] == CORE


def test_every_service_of_the_plan_gets_a_reference_in_plan_order() -> None:
    refs = image_references(images("n8n"), policies=REG.tag_policies)
    assert list(refs) == [img.service_name for img in images("n8n")]
    assert str(refs["avr-n8n"]) == "n8nio/n8n:latest"


def test_an_empty_plan_gives_no_references() -> None:
    assert image_references((), policies=REG.tag_policies) == {}


# -- tag --------------------------------------------------------------------------------------------


def test_tag_applies_to_images_without_a_tag_of_their_own() -> None:
    out = texts("openai", tag="v1.0.0")
    assert set(out.values()) == {img.image + ":v1.0.0" for img in images("openai")}


def test_tag_leaves_mysql_its_own_tag() -> None:
    out = texts("app", tag="v1.0.0")
    assert out["avr-app-db"] == "mysql:8.0.15"
    assert out["avr-app"] == "agentvoiceresponse/avr-app:v1.0.0"
    assert texts("app", tag="v1.0.0", environment="prod") == out


def test_tag_leaves_n8n_its_own_tag() -> None:
    out = texts("n8n", tag=DEV)
    assert out["avr-n8n"] == "n8nio/n8n:latest"
    assert out["avr-llm-n8n"] == "agentvoiceresponse/avr-llm-n8n:" + DEV


@pytest.mark.parametrize("tag", ["bad tag", "-v1", "v1/x", "x" * 129])
def test_an_invalid_tag_is_refused_naming_the_field(tag: str) -> None:
    msg = refused("openai", tag=tag)
    assert msg.startswith("tag: %r is not a valid image tag" % tag)


def test_an_empty_tag_means_no_tag() -> None:
    assert texts("openai", tag="") == texts("openai")


# -- tags -------------------------------------------------------------------------------------------


def test_tags_win_over_tag() -> None:
    out = texts("openai", tag="v1.0.0", tags={"avr-core": "v1.0.1"})
    assert out["avr-core"] == CORE + ":v1.0.1"
    assert out["avr-asterisk"] == "agentvoiceresponse/avr-asterisk:v1.0.0"


def test_tags_replace_an_image_s_own_tag() -> None:
    out = texts("app", tag="v1.0.0", tags={"avr-app-db": "8.0.36"})
    assert out["avr-app-db"] == "mysql:8.0.36"


def test_tags_give_n8n_a_version_that_prod_accepts() -> None:
    msg = refused("n8n", tag="v1.0.0", environment="prod")
    assert msg.startswith("images.avr-n8n: tag 'latest' breaks tag policy 'upstream' for environment 'prod'")
    out = texts("n8n", tag="v1.0.0", tags={"avr-n8n": "1.80.0"}, environment="prod")
    assert out["avr-n8n"] == "n8nio/n8n:1.80.0"
    assert out["avr-core"] == CORE + ":v1.0.0"


def test_an_unknown_service_in_tags_is_refused_with_a_suggestion() -> None:
    msg = refused("openai", tags={"avr-cor": "v1.0.0"})
    assert msg == "tags.avr-cor: the stack has no service 'avr-cor'; did you mean 'avr-core'?"


def test_a_service_of_another_template_is_refused_listing_the_stack() -> None:
    msg = refused("openai", tags={"zzz": "v1.0.0"})
    assert msg.startswith("tags.zzz: the stack has no service 'zzz'; choose from: ")
    for service in ("avr-core", "avr-llm-openai", "avr-asterisk"):
        assert service in msg


def test_a_service_of_another_template_is_refused_in_tags() -> None:
    msg = refused("openai", tags={"avr-app-db": "8.0.15"})
    assert msg.startswith("tags.avr-app-db: the stack has no service 'avr-app-db'")


@pytest.mark.parametrize("value", ["bad tag", "", "v1:2"])
def test_an_invalid_tag_in_tags_names_tags_and_service(value: str) -> None:
    msg = refused("openai", tags={"avr-llm-openai": value})
    assert msg.startswith("tags.avr-llm-openai: %r is not a valid image tag" % value)


@pytest.mark.parametrize("field", ["tags", "digests"])
@pytest.mark.parametrize("value", [["avr-core"], "avr-core=v1", 3])
def test_tags_and_digests_must_be_mappings(field: str, value: Any) -> None:
    msg = refused("openai", **{field: value})
    assert msg == "%s: expected a mapping of service name to value, got %s" % (field, type(value).__name__)


def test_tags_and_digests_none_or_empty_change_nothing() -> None:
    base = texts("openai", tag="v1.0.0")
    assert texts("openai", tag="v1.0.0", tags=None, digests=None) == base
    assert texts("openai", tag="v1.0.0", tags={}, digests={}) == base


# -- digests ----------------------------------------------------------------------------------------


def test_digests_pin_on_top_of_the_tag() -> None:
    out = texts("openai", tag="v1.0.0", digests={"avr-core": DIGEST})
    assert out["avr-core"] == "%s:v1.0.0@%s" % (CORE, DIGEST)
    assert "@" not in out["avr-asterisk"]


def test_digests_pin_on_top_of_tags_and_of_an_own_tag() -> None:
    out = texts("app", tags={"avr-app": "v2.0.0"}, digests={"avr-app": DIGEST, "avr-app-db": OTHER_DIGEST})
    assert out["avr-app"] == "agentvoiceresponse/avr-app:v2.0.0@" + DIGEST
    assert out["avr-app-db"] == "mysql:8.0.15@" + OTHER_DIGEST


def test_a_digest_alone_passes_prod() -> None:
    digests = {img.service_name: DIGEST for img in images("openai")}
    out = texts("openai", digests=digests, environment="prod")
    assert all(value.endswith("@" + DIGEST) and ":" not in value.split("@")[0] for value in out.values())


def test_a_tag_next_to_a_digest_still_follows_the_policy() -> None:
    msg = refused("n8n", tag="v1.0.0", digests={"avr-n8n": DIGEST}, environment="prod")
    assert msg.startswith("images.avr-n8n: tag 'latest' breaks tag policy 'upstream'")
    msg = refused("openai", tag=DEV, digests={"avr-core": DIGEST}, environment="prod")
    assert msg.startswith("tag (for avr-core): ")
    assert "tag %r breaks tag policy 'avr' for environment 'prod'" % DEV in msg


@pytest.mark.parametrize("value", ["sha256:abc", "0" * 64, "sha256:" + "A" * 64, None])
def test_an_invalid_digest_names_digests_and_service(value: Any) -> None:
    msg = refused("openai", digests={"avr-core": value})
    assert msg.startswith("digests.avr-core: %r is not an image digest" % (value,))


def test_an_unknown_service_in_digests_is_refused_with_a_suggestion() -> None:
    msg = refused("openai", digests={"avr-llm-opena": DIGEST})
    assert msg == "digests.avr-llm-opena: the stack has no service 'avr-llm-opena'; did you mean 'avr-llm-openai'?"


# -- image_prefix -----------------------------------------------------------------------------------


def test_image_prefix_goes_before_every_repository() -> None:
    out = texts("app", image_prefix="localhost:5000/", tag="v1.0.0", digests={"avr-app-db": DIGEST})
    assert out["avr-app"] == "localhost:5000/agentvoiceresponse/avr-app:v1.0.0"
    assert out["avr-app-db"] == "localhost:5000/mysql:8.0.15@" + DIGEST
    assert all(value.startswith("localhost:5000/") for value in out.values())


def test_image_prefix_keeps_the_structure_of_a_reference() -> None:
    refs = image_references(images("openai"), image_prefix="registry.example.org/mirror/", tag="v1.4.0",
                            policies=REG.tag_policies)
    core = refs["avr-core"]
    assert (core.repository, core.tag, core.digest) == ("registry.example.org/mirror/" + CORE, "v1.4.0", None)


@pytest.mark.parametrize("prefix", ["my mirror/", "registry.example.org//", "reg/Mirror/", "$X/"])
def test_an_image_prefix_that_breaks_the_repository_is_refused(prefix: str) -> None:
    msg = refused("openai", image_prefix=prefix)
    assert msg.startswith("image_prefix: %r does not make " % prefix)
    assert "a valid repository" in msg


# -- environments and policies ----------------------------------------------------------------------


def test_an_unknown_environment_is_refused() -> None:
    msg = refused("openai", environment="staging")
    assert msg == "tag_environment: 'staging' is not an environment; choose from: dev, prod"


def test_prod_refuses_untagged_avr_images_naming_the_image() -> None:
    msg = refused("openai", environment="prod")
    assert msg.startswith("images.avr-core: tag 'latest' (no tag means latest) breaks tag policy 'avr' "
                          "for environment 'prod'")


@pytest.mark.parametrize("tag, dev, prod", [
    ("v1.4.0", True, True), (DEV, True, False), ("latest", True, False), ("v1.2", False, False),
    ("v01.2.3", False, False), ("dev-20261322000000", False, False), ("1.4.0", False, False),
])
def test_tag_follows_the_avr_policy_per_environment(tag: str, dev: bool, prod: bool) -> None:
    for environment, allowed in (("dev", dev), ("prod", prod)):
        if allowed:
            assert texts("openai", tag=tag, environment=environment)["avr-core"] == CORE + ":" + tag
        else:
            msg = refused("openai", tag=tag, environment=environment)
            assert msg.startswith("tag (for avr-core): tag %r breaks tag policy 'avr' for environment %r"
                                  % (tag, environment))


def test_a_refused_tags_entry_names_tags_and_service() -> None:
    msg = refused("openai", tag="v1.0.0", tags={"avr-llm-openai": DEV}, environment="prod")
    assert msg.startswith("tags.avr-llm-openai: tag %r breaks tag policy 'avr' for environment 'prod'" % DEV)
    assert "release vX.Y.Z (e.g. v1.4.0)" in msg


@pytest.mark.parametrize("tag, prod", [("8.0.15", True), ("v8.0", True), ("8.0-debian", False),
                                       ("latest", False)])
def test_mysql_follows_the_upstream_policy(tag: str, prod: bool) -> None:
    assert texts("app", tag="v1.0.0", tags={"avr-app-db": tag})["avr-app-db"] == "mysql:" + tag
    if prod:
        assert texts("app", tag="v1.0.0", tags={"avr-app-db": tag}, environment="prod")["avr-app-db"] == "mysql:" + tag
    else:
        msg = refused("app", tag="v1.0.0", tags={"avr-app-db": tag}, environment="prod")
        assert msg.startswith("tags.avr-app-db: tag %r breaks tag policy 'upstream'" % tag)


# -- catalog images: pinned_tag, pinned_digest, tag_policy --------------------------------------------


def test_a_catalog_pinned_tag_is_run_and_beats_tag() -> None:
    reg = catalog_registry(image_entry("core/avr-core", pinned_tag="v2.0.0"))
    assert texts("openai", reg)["avr-core"] == CORE + ":v2.0.0"
    out = texts("openai", reg, tag="v1.0.0", environment="prod")
    assert out["avr-core"] == CORE + ":v2.0.0"
    assert out["avr-asterisk"] == "agentvoiceresponse/avr-asterisk:v1.0.0"


def test_tags_beat_a_catalog_pinned_tag() -> None:
    reg = catalog_registry(image_entry("core/avr-core", pinned_tag="v2.0.0"))
    assert texts("openai", reg, tags={"avr-core": "v3.0.0"})["avr-core"] == CORE + ":v3.0.0"


def test_a_catalog_pinned_tag_follows_the_policy() -> None:
    reg = catalog_registry(image_entry("core/avr-core", pinned_tag=DEV))
    assert texts("openai", reg, tag="v1.0.0")["avr-core"] == "%s:%s" % (CORE, DEV)
    msg = refused("openai", reg, tag="v1.0.0", environment="prod")
    assert msg.startswith("images.avr-core: tag %r breaks tag policy 'avr' for environment 'prod'" % DEV)


def test_a_catalog_pinned_digest_is_run_and_passes_prod() -> None:
    reg = catalog_registry(image_entry("core/avr-core", pinned_digest=DIGEST))
    assert texts("openai", reg)["avr-core"] == CORE + "@" + DIGEST
    others = {img.service_name: "v1.0.0" for img in images("openai", reg) if img.service_name != "avr-core"}
    out = texts("openai", reg, tags=others, environment="prod")
    assert out["avr-core"] == CORE + "@" + DIGEST


def test_a_catalog_pinned_tag_and_digest_run_together() -> None:
    reg = catalog_registry(image_entry("core/avr-core", pinned_tag="v2.0.0", pinned_digest=DIGEST))
    assert texts("openai", reg, tag="v1.0.0")["avr-core"] == "%s:v2.0.0@%s" % (CORE, DIGEST)


def test_tags_drop_a_catalog_pinned_digest() -> None:
    reg = catalog_registry(image_entry("core/avr-core", pinned_digest=DIGEST))
    assert texts("openai", reg, tags={"avr-core": "v1.0.1"})["avr-core"] == CORE + ":v1.0.1"


def test_digests_replace_a_catalog_pinned_digest() -> None:
    reg = catalog_registry(image_entry("core/avr-core", pinned_tag="v2.0.0", pinned_digest=DIGEST))
    assert texts("openai", reg, digests={"avr-core": OTHER_DIGEST})["avr-core"] == "%s:v2.0.0@%s" % (
        CORE, OTHER_DIGEST)


def test_a_catalog_tag_policy_is_honoured() -> None:
    reg = catalog_registry(image_entry("core/avr-core", tag_policy="upstream"))
    tags = {"avr-core": "2.1"}
    out = texts("openai", reg, tag="v1.0.0", tags=tags, environment="prod")
    assert out["avr-core"] == CORE + ":2.1"
    msg = refused("openai", REG, tag="v1.0.0", tags=tags, environment="prod")
    assert msg.startswith("tags.avr-core: tag '2.1' breaks tag policy 'avr'")
    # and upstream lets dev run any tag
    assert texts("openai", reg, tags={"avr-core": "nightly"})["avr-core"] == CORE + ":nightly"
    assert refused("openai", REG, tags={"avr-core": "nightly"}).startswith("tags.avr-core: tag 'nightly' breaks")


def test_a_catalog_image_with_its_own_tag_keeps_it_over_tag() -> None:
    reg = effective_registry({"images": [{"role": "asr", "name": "acme-asr", "image": "registry.example/acme:1.0",
                                          "port": 6090, "tag_policy": "upstream"}],
                              "templates": [{"id": "acme", "stack": "modular", "images": {
                                  "asr": "asr/acme-asr", "llm": "llm/avr-llm-openai",
                                  "tts": "tts/avr-tts-deepgram"}}]})
    out = texts("acme", reg, tag="v1.0.0", environment="prod")
    assert out["acme-asr"] == "registry.example/acme:1.0"
    assert out["avr-core"] == CORE + ":v1.0.0"


def test_an_invalid_catalog_pinned_digest_names_the_field() -> None:
    with pytest.raises(RegistryError) as err:
        catalog_registry({"role": "asr", "name": "x", "image": "example/x", "port": 6000,
                          "pinned_digest": "sha256:abc"})
    msg = str(err.value)
    assert msg.startswith("catalog.images[0].pinned_digest: ")
    assert "'sha256:abc'" in msg


def test_an_invalid_catalog_pinned_tag_names_the_field() -> None:
    with pytest.raises(RegistryError) as err:
        catalog_registry({"role": "asr", "name": "x", "image": "example/x", "port": 6000, "pinned_tag": "bad tag"})
    assert str(err.value).startswith("catalog.images[0].pinned_tag: ")


def test_an_unknown_catalog_tag_policy_names_the_field_and_the_choices() -> None:
    with pytest.raises(RegistryError) as err:
        catalog_registry({"role": "asr", "name": "x", "image": "example/x", "port": 6000, "tag_policy": "strict"})
    msg = str(err.value)
    assert msg.startswith("catalog.images[0].tag_policy: ")
    assert "unknown tag policy 'strict'" in msg and "avr, upstream" in msg


def test_a_catalog_image_reference_with_a_digest_is_refused() -> None:
    with pytest.raises(RegistryError) as err:
        catalog_registry({"role": "asr", "name": "x", "image": "example/x@" + DIGEST, "port": 6000})
    assert "carries a digest; set pinned_digest instead" in str(err.value)
