"""render's volumes input (voice_compose volumes): project mounts added to services, hostile specs refused."""
from __future__ import annotations

import pytest

from ansible_collections.voiceops.avr.plugins.module_utils.registry.registry import builtin
from ansible_collections.voiceops.avr.plugins.plugin_utils.render import Inputs, RenderError, describe, render

RTP = "./asterisk/conf/rtp.conf:/etc/asterisk/rtp.conf"


def _render(volumes: object, generation: str = "2026.06"):
    reg = builtin(generation)
    return render(reg, reg.template("ultravox"), Inputs(deployment="d", allow_missing=True, volumes=volumes))


@pytest.mark.parametrize("generation", ["2025.09", "2026.06"])
def test_a_mount_is_added_after_the_template_s_and_counts_as_mounted(generation: str) -> None:
    plain = _render({}, generation).document["services"]["avr-asterisk"]["volumes"]
    added = _render({"avr-asterisk": [RTP]}, generation)
    volumes = added.document["services"]["avr-asterisk"]["volumes"]
    assert volumes == plain + [RTP]
    assert "./asterisk/conf/rtp.conf" in describe(added.document)["mounts"]["avr-asterisk"]
    # a mount the template already has is not repeated
    assert _render({"avr-asterisk": [plain[0]]}, generation).document["services"]["avr-asterisk"]["volumes"] == plain


def test_no_volumes_renders_what_it_rendered_before() -> None:
    assert _render({}).content == _render(None).content


@pytest.mark.parametrize("volumes, message", [
    ({"avr-asterix": [RTP]}, r"volumes\.avr-asterix: unknown service 'avr-asterix' in template 'ultravox'"),
    ({"avr-asterisk": RTP}, r"volumes\.avr-asterisk: expected a list of mounts"),
    ({"avr-asterisk": ["/etc:/host-etc"]}, r"volumes\.avr-asterisk\[0\]: '/etc:/host-etc' mounts host path '/etc'"),
    ({"avr-asterisk": ["../../etc/passwd:/x"]}, r"outside the project directory"),
    ({"avr-asterisk": ["~/x:/x"]}, r"outside the project directory"),
    ({"avr-asterisk": ["./a/${HOME}:/x"]}, r"holds '\$'"),
    ({"avr-asterisk": ["./a\n:/x"]}, r"newline"),
    ({"avr-asterisk": ["./only-a-path"]}, r"is not SOURCE:TARGET"),
    ({"avr-asterisk": [5]}, r"is an integer, not a string"),
    (["avr-asterisk"], r"volumes: expected a mapping"),
])
def test_bad_volumes_are_refused_in_one_line(volumes: object, message: str) -> None:
    with pytest.raises(RenderError, match=message) as err:
        _render(volumes)
    assert "\n" not in str(err.value)
