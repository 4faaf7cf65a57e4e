# -*- coding: utf-8 -*-
# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Generation 2025.09: the AVR compose examples of 2025-09 (upstream avr-infra 600424e).

This is the registry every deployment rendered before generations existed was rendered with; its
data is frozen.
"""

from __future__ import annotations

from ...model import WIRING
from ...tags import POLICIES
from .. import Generation
from . import images, providers, templates

GENERATION = Generation(
    id="2025.09",
    description="AVR compose examples of 2025-09 (upstream avr-infra 600424e).",
    reference="avr-examples",
    images=images.ALL_IMAGES,
    providers=providers.PROVIDERS,
    role_providers={"asr": providers.ASR_PROVIDERS, "tts": providers.TTS_PROVIDERS, "llm": providers.LLM_PROVIDERS,
                    "sts": providers.STS_PROVIDERS},
    templates=templates.TEMPLATES,
    base=templates.BASE,
    wiring=WIRING,
    tag_policies=POLICIES,
)
