# -*- coding: utf-8 -*-
# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Generation 2026.06: the AVR compose examples of 2026-06 (upstream avr-infra 93f608e).

Written as a delta on generation 2025.09: images that did not change are 2025.09's own values,
changed ones are ``dataclasses.replace`` copies, and the new ones (the browser phone, Cartesia,
Soniox, Hume AI, Speechmatics, the rewritten admin app behind traefik) are defined here. Nothing
here changes a 2025.09 value. How each fact was read from the examples, and the choices where they
are ambiguous, are in ``docs/dev/generation-2026.06.md``; the differences from the examples that
remain are listed in ``tests/data/deviations.yml``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Mapping, Tuple

from ..model import (
    WIRING, AppImage, AsrImage, EnvVar, Image, LlmImage, Network, Provider, ServiceImage, ServiceOverride, StackKind,
    StsImage, Template, TtsImage,
)
from ..stacks import Overrides, StackBase
from ..tags import BARE_RELEASE, DEV_BUILD, LATEST, RELEASE, UPSTREAM, TagPolicy
from . import Generation
from .g2025_09 import images as g25
from .g2025_09 import providers as p25
from .g2025_09.images import ami_url, key_var, port_var
from .g2025_09.templates import GREETING

__all__ = ["GENERATION", "TAG_POLICIES", "IMAGES", "TEMPLATES", "BASE"]


def _opt(name: str, default: object, description: str, required: bool = False) -> EnvVar:
    return EnvVar(name, None if default is None else str(default), required=required, description=description)


def _secret(name: str, description: str, default: object = None) -> EnvVar:
    return EnvVar(name, None if default is None else str(default), required=default is None, secret=True,
                  secret_name=name, description="%s (from secrets.%s; never stored)." % (description, name))


# --- tag policy ------------------------------------------------------------------------------

#: AVR images of 2026 are also released under bare ``X.Y.Z`` tags (``avr-sts-gemini:1.5.0``).
AVR = TagPolicy(
    name="avr",
    description="AVR images: dev-YYYYMMDDHHmmss builds, vX.Y.Z or X.Y.Z releases and latest in dev; "
                "only vX.Y.Z or X.Y.Z releases in prod.",
    environments=(("dev", (DEV_BUILD, RELEASE, BARE_RELEASE, LATEST)), ("prod", (RELEASE, BARE_RELEASE))),
)
TAG_POLICIES: Mapping[str, TagPolicy] = {policy.name: policy for policy in (AVR, UPSTREAM)}

# --- core, telephony ---------------------------------------------------------------------------

AVR_CORE = replace(g25.AVR_CORE, env=g25.AVR_CORE.env[:1] + (
    _opt("HTTP_PORT", None, "Port of the core's HTTP API inside the stack network (the demo dialplan of "
                            "extensions.conf posts calls to it; set by the stack in STS stacks)."),
) + g25.AVR_CORE.env[1:])

AVR_ASTERISK = replace(
    g25.AVR_ASTERISK,
    description="Asterisk PBX preconfigured for AVR (SIP, WebSocket SIP for browser phones, AMI, ARI).",
    ports=("5038:5038", "5060:5060", "8088:8088", "8089:8089", "10000-10050:10000-10050/udp"),
)

AVR_AMI = g25.AVR_AMI

AVR_PHONE = ServiceImage(
    name="avr-phone",
    image="agentvoiceresponse/avr-phone",
    description="Browser SIP phone (web page on port 80) that calls the stack's Asterisk over WebSocket (8089).",
    port=80,
    ports=("8080:80",),
)

# --- speech-to-text ------------------------------------------------------------------------------

AVR_ASR_SONIOX = AsrImage(
    name="avr-asr-soniox",
    image="agentvoiceresponse/avr-asr-soniox",
    description="Speech-to-text with Soniox.",
    port=6018,
    env=(
        port_var(6018),
        key_var("SONIOX_API_KEY", "soniox"),
        _opt("SONIOX_SPEECH_RECOGNITION_MODEL", "stt-rt-v3", "Soniox real-time recognition model."),
        _opt("SONIOX_SPEECH_RECOGNITION_LANGUAGE", "en", "Recognition language (ISO 639-1)."),
    ),
)

# --- text-to-speech ------------------------------------------------------------------------------

AVR_TTS_CARTESIA = TtsImage(
    name="avr-tts-cartesia",
    image="agentvoiceresponse/avr-tts-cartesia",
    description="Text-to-speech with Cartesia.",
    port=6009,
    env=(
        port_var(6009),
        key_var("CARTESIA_API_KEY", "cartesia"),
        _opt("CARTESIA_VOICE_ID", None, "Cartesia voice id.", required=True),
        _opt("CARTESIA_LANGUAGE", "en", "Voice language (ISO 639-1)."),
    ),
)

AVR_TTS_SONIOX = TtsImage(
    name="avr-tts-soniox",
    image="agentvoiceresponse/avr-tts-soniox",
    description="Text-to-speech with Soniox.",
    port=6011,
    env=(
        port_var(6011),
        key_var("SONIOX_API_KEY", "soniox"),
        _opt("SONIOX_TTS_MODEL", "tts-rt-v1", "Soniox text-to-speech model."),
        _opt("SONIOX_TTS_LANGUAGE", "en", "Voice language (ISO 639-1)."),
        _opt("SONIOX_TTS_VOICE", "Adrian", "Soniox voice name."),
        _opt("SONIOX_TTS_AUDIO_FORMAT", "pcm_s16le", "Audio format the service returns."),
        _opt("SONIOX_TTS_SAMPLE_RATE", "8000", "Sample rate of the returned audio (Hz)."),
    ),
)

# --- speech-to-speech ------------------------------------------------------------------------------

AVR_STS_OPENAI = replace(g25.AVR_STS_OPENAI, env=(
    port_var(6030),
    key_var("OPENAI_API_KEY", "openai"),
    _opt("OPENAI_MODEL", "gpt-realtime-2", "OpenAI realtime model."),
    _opt("OPENAI_INSTRUCTIONS", "You are a helpful assistant.", "Instructions of the agent."),
    _opt("OPENAI_VOICE", "alloy", "Voice of the agent."),
    _opt("OPENAI_REASONING_EFFORT", "low", "Reasoning effort of the realtime model."),
    _opt("OPENAI_TURN_DETECTION", "server_vad", "Turn detection mode (server_vad, semantic_vad)."),
    _opt("OPENAI_MAX_TOKENS", "inf", "Maximum output tokens per response (inf: no limit)."),
    ami_url(),
))

AVR_STS_DEEPGRAM = replace(g25.AVR_STS_DEEPGRAM, env=g25.AVR_STS_DEEPGRAM.env + (ami_url(),))

AVR_STS_ULTRAVOX = replace(g25.AVR_STS_ULTRAVOX, env=g25.AVR_STS_ULTRAVOX.env[:1] + (
    _opt("ULTRAVOX_CALL_TYPE", "agent", "Ultravox call type (agent: calls the agent ULTRAVOX_AGENT_ID)."),
) + g25.AVR_STS_ULTRAVOX.env[1:])

AVR_STS_GEMINI = replace(g25.AVR_STS_GEMINI, image="agentvoiceresponse/avr-sts-gemini:1.5.0", env=(
    port_var(6037),
    _opt("GEMINI_MODEL", "gemini-2.5-flash-native-audio-preview-12-2025", "Gemini live model."),
    _opt("GEMINI_INSTRUCTIONS", "You are a helpful assistant", "Instructions of the agent."),
    _opt("GEMINI_THINKING_LEVEL", "MINIMAL", "Thinking level of the model (MINIMAL, LOW, MEDIUM, HIGH)."),
    _opt("GEMINI_THINKING_BUDGET", "0", "Thinking token budget (0: no thinking)."),
    ami_url(),
    key_var("GEMINI_API_KEY", "gemini"),
))

AVR_STS_ELEVENLABS = replace(g25.AVR_STS_ELEVENLABS, env=g25.AVR_STS_ELEVENLABS.env + (ami_url(),))

AVR_STS_HUMEAI = StsImage(
    name="avr-sts-humeai",
    image="agentvoiceresponse/avr-sts-humeai",
    description="Speech-to-speech with Hume AI's empathic voice interface.",
    port=6039,
    ws_port=6039,
    env=(
        port_var(6039),
        key_var("HUMEAI_API_KEY", "humeai"),
        _opt("HUMEAI_CONFIG_ID", None, "Hume AI configuration id of the voice agent.", required=True),
    ),
)

AVR_STS_SPEECHMATICS = StsImage(
    name="avr-sts-speechmatics",
    image="agentvoiceresponse/avr-sts-speechmatics",
    description="Speech-to-speech with the Speechmatics voice agent.",
    port=6040,
    ws_port=6040,
    env=(port_var(6040), key_var("SPEECHMATICS_API_KEY", "speechmatics")),
)

# --- admin app ------------------------------------------------------------------------------------

DOCKER_SOCKET = "/var/run/docker.sock"

TRAEFIK = ServiceImage(
    name="traefik",
    image="traefik:v3.6",
    tag_policy="upstream",
    description="Traefik reverse proxy routing the admin app's host names (avr.localhost, api.localhost).",
    platform=None,
    restart=None,
    port=80,
    command=("--api.insecure=true", "--providers.docker=true", "--entrypoints.web.address=:80"),
    ports=("80:80", "8080:8080"),
    management_ports=("8080",),
    volumes=(DOCKER_SOCKET + ":" + DOCKER_SOCKET,),
    host_paths=(DOCKER_SOCKET,),
)


def _router(name: str, host: str, port: int) -> Tuple[str, ...]:
    return ("traefik.enable=true",
            "traefik.http.routers.%s.entrypoints=web" % name,
            "traefik.http.routers.%s.rule=Host(`%s`)" % (name, host),
            "traefik.http.services.%s.loadbalancer.server.port=%d" % (name, port))


AVR_APP_BACKEND = AppImage(
    name="avr-app-backend",
    image="agentvoiceresponse/avr-app-backend",
    description="AVR admin application, API (SQLite database in ./data; starts cores through the docker socket).",
    port=3001,
    volumes=("./asterisk/conf:/app/asterisk", "./data:/app/data", "./asterisk/recordings:/app/recordings",
             DOCKER_SOCKET + ":" + DOCKER_SOCKET),
    host_paths=(DOCKER_SOCKET,),
    labels=_router("avr-app-backend", "api.localhost", 3001),
    env=(
        port_var(3001),
        _secret("JWT_SECRET", "Secret that signs the admin app's session tokens"),
        _opt("FRONTEND_URL", "http://avr.localhost", "URL of the admin frontend (allowed origin)."),
        _opt("ADMIN_USERNAME", "admin", "User name of the first admin user."),
        _secret("ADMIN_PASSWORD", "Password of the first admin user"),
        _opt("WEBHOOK_URL", "http://{{service:avr-app-backend}}:3001/webhooks",
             "URL the cores send call events to."),
        _secret("WEBHOOK_SECRET", "Secret the cores sign call events with"),
        _opt("ARI_URL", "http://{{service:avr-asterisk}}:8088/ari", "Asterisk REST interface URL."),
        _opt("ARI_USERNAME", "avr", "ARI user name."),
        _secret("ARI_PASSWORD", "ARI password", default="avr"),
        _opt("TENANT", "demo", "Tenant name of the installation."),
        _opt("CORE_DEFAULT_IMAGE", "agentvoiceresponse/avr-core", "Image of the cores the app starts."),
        _opt("DB_TYPE", "sqlite", "Database type."),
        _opt("DB_DATABASE", "/app/data/data.db", "Database file inside the container."),
        _opt("ASTERISK_CONFIG_PATH", "/app/asterisk", "Asterisk configuration folder inside the container."),
        _opt("ASTERISK_RECORDINGS_PATH", "/app/recordings", "Call recordings folder inside the container."),
    ),
)

AVR_APP_FRONTEND = AppImage(
    name="avr-app-frontend",
    image="agentvoiceresponse/avr-app-frontend",
    description="AVR admin application, web frontend (served through traefik as avr.localhost).",
    port=3000,
    labels=_router("avr-app-frontend", "avr.localhost", 3000),
    env=(
        _opt("NEXT_PUBLIC_API_URL", "http://api.localhost", "URL of the admin API as the browser reaches it."),
        _opt("NEXT_PUBLIC_WEBRTC_CLIENT_URL", "https://phone.agentvoiceresponse.com/index.html",
             "URL of the browser phone the frontend links to."),
    ),
)

IMAGES: Tuple[Image, ...] = (
    AVR_CORE, AVR_ASTERISK, AVR_AMI,
    g25.AVR_ASR_DEEPGRAM, g25.AVR_ASR_GOOGLE, g25.AVR_ASR_VOSK, AVR_ASR_SONIOX,
    g25.AVR_TTS_DEEPGRAM, g25.AVR_TTS_GOOGLE, AVR_TTS_CARTESIA, AVR_TTS_SONIOX,
    g25.AVR_LLM_OPENAI, g25.AVR_LLM_ANTHROPIC, g25.AVR_LLM_OPENROUTER, g25.AVR_LLM_N8N,
    AVR_STS_OPENAI, AVR_STS_DEEPGRAM, AVR_STS_ULTRAVOX, AVR_STS_GEMINI, AVR_STS_ELEVENLABS,
    AVR_STS_HUMEAI, AVR_STS_SPEECHMATICS,
    AVR_APP_BACKEND, AVR_APP_FRONTEND, g25.N8N, TRAEFIK, AVR_PHONE,
)

# --- providers ------------------------------------------------------------------------------------

PROVIDERS: Mapping[str, Provider] = dict(p25.PROVIDERS, **{
    p.name: p for p in (
        Provider("cartesia", "Cartesia API.", env="CARTESIA_API_KEY"),
        Provider("soniox", "Soniox speech APIs.", env="SONIOX_API_KEY"),
        Provider("humeai", "Hume AI API.", env="HUMEAI_API_KEY"),
        Provider("speechmatics", "Speechmatics API.", env="SPEECHMATICS_API_KEY"),
    )
})

ASR_PROVIDERS: Mapping[str, AsrImage] = dict(p25.ASR_PROVIDERS, soniox=AVR_ASR_SONIOX)
TTS_PROVIDERS: Mapping[str, TtsImage] = dict(p25.TTS_PROVIDERS, cartesia=AVR_TTS_CARTESIA, soniox=AVR_TTS_SONIOX)
LLM_PROVIDERS: Mapping[str, LlmImage] = dict(p25.LLM_PROVIDERS)
STS_PROVIDERS: Mapping[str, StsImage] = {
    "openai": AVR_STS_OPENAI,
    "deepgram": AVR_STS_DEEPGRAM,
    "ultravox": AVR_STS_ULTRAVOX,
    "gemini": AVR_STS_GEMINI,
    "elevenlabs": AVR_STS_ELEVENLABS,
    "humeai": AVR_STS_HUMEAI,
    "speechmatics": AVR_STS_SPEECHMATICS,
}

# --- templates ------------------------------------------------------------------------------------

#: What every stack of a kind starts from: 2025.09's, and the core's HTTP API on 6001 in STS stacks.
STACK_DEFAULTS: Mapping[StackKind, Overrides] = {
    "modular": (("avr-core", ServiceOverride(env=(("INTERRUPT_LISTENING", "true"), ("SYSTEM_MESSAGE", GREETING)))),),
    "sts": (("avr-core", ServiceOverride(env=(("HTTP_PORT", "6001"),))),),
    "plain": (),
}

BASE = StackBase(core=AVR_CORE, asterisk=AVR_ASTERISK, ami=AVR_AMI, defaults=STACK_DEFAULTS, network=Network())
modular = BASE.modular
sts = BASE.sts
plain = BASE.plain

PHONE = (AVR_PHONE,)
AMI_UNPUBLISHED = ("avr-ami", ServiceOverride(unset=("ports",)))
LLM_TOOLS = ("avr-llm-openai", ServiceOverride(add_volumes=("./tools:/usr/src/app/tools",)))

TEMPLATES: Tuple[Template, ...] = (
    modular(
        "openai", "Deepgram speech-to-text, OpenAI LLM, Deepgram text-to-speech, browser phone.",
        asr=g25.AVR_ASR_DEEPGRAM, llm=g25.AVR_LLM_OPENAI, tts=g25.AVR_TTS_DEEPGRAM, extras=PHONE,
        overrides=(LLM_TOOLS,), example="docker-compose-openai.yml",
    ),
    modular(
        "anthropic", "Deepgram speech-to-text, Anthropic LLM, Deepgram text-to-speech.",
        asr=g25.AVR_ASR_DEEPGRAM, llm=g25.AVR_LLM_ANTHROPIC, tts=g25.AVR_TTS_DEEPGRAM,
        overrides=(AMI_UNPUBLISHED,), example="docker-compose-anthropic.yml",
    ),
    modular(
        "gemini", "Deepgram speech-to-text, Gemini through OpenRouter, Deepgram text-to-speech, browser phone.",
        asr=g25.AVR_ASR_DEEPGRAM, llm=g25.AVR_LLM_OPENROUTER, tts=g25.AVR_TTS_DEEPGRAM, extras=PHONE,
    ),
    modular(
        "google", "Google Cloud speech-to-text and text-to-speech, OpenRouter LLM.",
        asr=g25.AVR_ASR_GOOGLE, llm=g25.AVR_LLM_OPENROUTER, tts=g25.AVR_TTS_GOOGLE, ami=None,
        overrides=(("avr-core", ServiceOverride(env=(("INTERRUPT_LISTENING", "false"),
                                                     ("SYSTEM_MESSAGE", "Hello, I'm your personal assistant")))),),
        example="docker-compose-google.yml",
    ),
    modular(
        "deepgram", "Deepgram speech-to-text and text-to-speech, OpenAI LLM, browser phone.",
        asr=g25.AVR_ASR_DEEPGRAM, llm=g25.AVR_LLM_OPENAI, tts=g25.AVR_TTS_DEEPGRAM, extras=PHONE,
    ),
    modular(
        "vosk", "Offline Vosk speech-to-text, Anthropic LLM, Deepgram text-to-speech.",
        asr=g25.AVR_ASR_VOSK, llm=g25.AVR_LLM_ANTHROPIC, tts=g25.AVR_TTS_DEEPGRAM,
        overrides=(AMI_UNPUBLISHED,), example="docker-compose-vosk.yml",
    ),
    modular(
        "n8n", "Deepgram speech, an n8n workflow as the LLM (n8n included).",
        asr=g25.AVR_ASR_DEEPGRAM, llm=g25.AVR_LLM_N8N, tts=g25.AVR_TTS_DEEPGRAM,
        overrides=(("avr-core", ServiceOverride(env=(("INTERRUPT_LISTENING", None),))), AMI_UNPUBLISHED),
        example="docker-compose-n8n.yml",
    ),
    modular(
        "cartesia", "Deepgram speech-to-text, OpenAI LLM, Cartesia text-to-speech, browser phone.",
        asr=g25.AVR_ASR_DEEPGRAM, llm=g25.AVR_LLM_OPENAI, tts=AVR_TTS_CARTESIA, extras=PHONE,
        overrides=(LLM_TOOLS,), example="docker-compose-cartesia.yml",
    ),
    modular(
        "soniox", "Soniox speech-to-text and text-to-speech, OpenAI LLM, browser phone.",
        asr=AVR_ASR_SONIOX, llm=g25.AVR_LLM_OPENAI, tts=AVR_TTS_SONIOX, extras=PHONE,
        overrides=(("avr-core", ServiceOverride(env=(("INTERRUPT_LISTENING", "false"),))),),
        example="docker-compose-soniox.yml",
    ),
    sts("openai-realtime", "OpenAI Realtime speech-to-speech, browser phone.", sts=AVR_STS_OPENAI, extras=PHONE,
        example="docker-compose-openai-realtime.yml"),
    sts("ultravox", "Ultravox speech-to-speech, browser phone.", sts=AVR_STS_ULTRAVOX, extras=PHONE,
        example="docker-compose-ultravox.yml"),
    sts("gemini-sts", "Gemini Live speech-to-speech, browser phone.", sts=AVR_STS_GEMINI, extras=PHONE,
        example="docker-compose-gemini.yml"),
    sts("deepgram-sts", "Deepgram Voice Agent speech-to-speech.", sts=AVR_STS_DEEPGRAM,
        example="docker-compose-deepgram.yml"),
    sts("elevenlabs-sts", "ElevenLabs conversational agent speech-to-speech, browser phone.",
        sts=AVR_STS_ELEVENLABS, extras=PHONE, example="docker-compose-elevenlabs.yml"),
    sts("humeai", "Hume AI speech-to-speech, browser phone.", sts=AVR_STS_HUMEAI, extras=PHONE,
        example="docker-compose-humeai.yml"),
    sts("speechmatics", "Speechmatics speech-to-speech, browser phone.", sts=AVR_STS_SPEECHMATICS, extras=PHONE,
        example="docker-compose-speechmatics.yml"),
    plain(
        "app", "AVR admin web application (API and frontend behind traefik, SQLite) with Asterisk.",
        extras=(AVR_APP_BACKEND, AVR_APP_FRONTEND, TRAEFIK), ami=None,
        overrides=(("avr-asterisk", ServiceOverride(
            ports=("8089:8089", "10000-10050:10000-10050/udp"),
            add_volumes=("./asterisk/recordings:/var/spool/asterisk/monitor",))),),
        example="docker-compose-app.yml",
    ),
)

GENERATION = Generation(
    id="2026.06",
    description="AVR compose examples of 2026-06 (upstream avr-infra 93f608e).",
    reference="avr-infra-2026.06",
    images=IMAGES,
    providers=PROVIDERS,
    role_providers={"asr": ASR_PROVIDERS, "tts": TTS_PROVIDERS, "llm": LLM_PROVIDERS, "sts": STS_PROVIDERS},
    templates=TEMPLATES,
    base=BASE,
    wiring=WIRING,
    tag_policies=TAG_POLICIES,
)
