# -*- coding: utf-8 -*-
# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Templates of generation 2025.09: stacks composed from its images.

Each template that has an AVR example names it in ``example``; the parity
test renders the template and compares it with the example through
``docker compose config``.
"""

from __future__ import annotations

from typing import Mapping, Tuple

from . import images as i
from ...model import Network, ServiceOverride, StackKind, Template
from ...stacks import Overrides, StackBase, merge_overrides

GREETING = "Hello, how can I help you today?"

#: What every stack of a kind starts from; a template's own overrides come on top.
STACK_DEFAULTS: Mapping[StackKind, Overrides] = {
    "modular": (("avr-core", ServiceOverride(env=(("INTERRUPT_LISTENING", "true"), ("SYSTEM_MESSAGE", GREETING)))),),
    "sts": (),
    "plain": (),
}

#: What every core-based stack of this generation starts from.
BASE = StackBase(core=i.AVR_CORE, asterisk=i.AVR_ASTERISK, ami=i.AVR_AMI, defaults=STACK_DEFAULTS,
                 network=Network())

#: Image keys every core-based stack (a provider selection, a catalog template) starts from.
BASE_IMAGES: Mapping[str, str] = BASE.images

modular = BASE.modular
sts = BASE.sts
plain = BASE.plain

NO_ASTERISK_PLATFORM = ("avr-asterisk", ServiceOverride(unset=("platform",)))
AMI_UNPUBLISHED = ("avr-ami", ServiceOverride(unset=("ports",)))

TEMPLATES: Tuple[Template, ...] = (
    modular(
        "openai", "Deepgram speech-to-text, OpenAI LLM, Deepgram text-to-speech.",
        asr=i.AVR_ASR_DEEPGRAM, llm=i.AVR_LLM_OPENAI, tts=i.AVR_TTS_DEEPGRAM,
        overrides=(("avr-llm-openai", ServiceOverride(add_volumes=("./tools:/usr/src/app/tools",))),
                   NO_ASTERISK_PLATFORM),
        example="docker-compose-openai.yml",
    ),
    modular(
        "anthropic", "Deepgram speech-to-text, Anthropic LLM, Deepgram text-to-speech.",
        asr=i.AVR_ASR_DEEPGRAM, llm=i.AVR_LLM_ANTHROPIC, tts=i.AVR_TTS_DEEPGRAM,
        overrides=(NO_ASTERISK_PLATFORM, AMI_UNPUBLISHED),
        example="docker-compose-anthropic.yml",
    ),
    modular(
        "gemini", "Deepgram speech-to-text, Gemini through OpenRouter, Deepgram text-to-speech.",
        asr=i.AVR_ASR_DEEPGRAM, llm=i.AVR_LLM_OPENROUTER, tts=i.AVR_TTS_DEEPGRAM,
    ),
    modular(
        "google", "Google Cloud speech-to-text and text-to-speech, OpenRouter LLM.",
        asr=i.AVR_ASR_GOOGLE, llm=i.AVR_LLM_OPENROUTER, tts=i.AVR_TTS_GOOGLE, ami=None,
        overrides=(
            ("avr-core", ServiceOverride(env=(("INTERRUPT_LISTENING", "false"),
                                              ("SYSTEM_MESSAGE", "Hello, I'm your personal assistant")))),
            ("avr-asterisk", ServiceOverride(unset=("platform",),
                                             ports=("5038:5038", "5060:5060", "10000-10050:10000-10050/udp"))),
        ),
        example="docker-compose-google.yml",
    ),
    modular(
        "deepgram", "Deepgram speech-to-text and text-to-speech, OpenAI LLM.",
        asr=i.AVR_ASR_DEEPGRAM, llm=i.AVR_LLM_OPENAI, tts=i.AVR_TTS_DEEPGRAM,
    ),
    modular(
        "vosk", "Offline Vosk speech-to-text, Anthropic LLM, Deepgram text-to-speech.",
        asr=i.AVR_ASR_VOSK, llm=i.AVR_LLM_ANTHROPIC, tts=i.AVR_TTS_DEEPGRAM,
        overrides=(("avr-llm-anthropic", ServiceOverride(add_volumes=(
            "./tools/get_availability.js:/usr/src/app/tools/get_availability.js",))),
            NO_ASTERISK_PLATFORM, AMI_UNPUBLISHED),
        example="docker-compose-vosk.yml",
    ),
    modular(
        "n8n", "Deepgram speech, an n8n workflow as the LLM (n8n included).",
        asr=i.AVR_ASR_DEEPGRAM, llm=i.AVR_LLM_N8N, tts=i.AVR_TTS_DEEPGRAM,
        overrides=(("avr-core", ServiceOverride(env=(("INTERRUPT_LISTENING", None),))), AMI_UNPUBLISHED),
        example="docker-compose-n8n.yml",
    ),
    sts("openai-realtime", "OpenAI Realtime speech-to-speech.", sts=i.AVR_STS_OPENAI,
        example="docker-compose-openai-realtime.yml"),
    sts("ultravox", "Ultravox speech-to-speech.", sts=i.AVR_STS_ULTRAVOX,
        example="docker-compose-ultravox.yml"),
    sts("gemini-sts", "Gemini Live speech-to-speech (web phone served by Asterisk).", sts=i.AVR_STS_GEMINI,
        overrides=(("avr-asterisk", ServiceOverride(add_volumes=(
            "./phone:/var/lib/asterisk/static-http/phone",
            "./asterisk/conf/http.conf:/etc/asterisk/http.conf",
            "./asterisk/conf/rtp.conf:/etc/asterisk/rtp.conf"))),),
        example="docker-compose-gemini.yml"),
    sts("deepgram-sts", "Deepgram Voice Agent speech-to-speech.", sts=i.AVR_STS_DEEPGRAM,
        example="docker-compose-deepgram.yml"),
    sts("elevenlabs-sts", "ElevenLabs conversational agent speech-to-speech.", sts=i.AVR_STS_ELEVENLABS,
        example="docker-compose-elevenlabs.yml"),
    plain(
        "app", "AVR admin web application with its database, Asterisk and the AMI bridge.",
        extras=(i.AVR_APP, i.MYSQL),
        overrides=(
            ("avr-app", ServiceOverride(env=(("AMI_URL", "http://{{service:avr-ami}}:9000"),))),
            ("avr-ami", ServiceOverride(env=(("PORT", "9000"),), unset=("ports",))),
            ("avr-asterisk", ServiceOverride(ports=("5060:5060", "10000-10050:10000-10050/udp", "8088:8088"))),
        ),
        example="docker-compose-app.yml",
    ),
)

__all__ = ["TEMPLATES", "STACK_DEFAULTS", "BASE", "BASE_IMAGES", "merge_overrides", "modular", "sts", "plain"]
