# -*- coding: utf-8 -*-
# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every image of the built-in registry.

Facts (image names, ports, variables, defaults, mounts) come from the AVR
project's compose examples; where a default differs from an example, the
difference and its reason are listed in ``tests/data/deviations.yml``.
"""

from __future__ import annotations

from typing import Optional, Tuple

from ...model import (
    AmiImage, AppImage, AsrImage, AsteriskImage, CoreImage, DatabaseImage, EnvVar, Healthcheck,
    LlmImage, StsImage, TtsImage, WorkflowImage,
)

PLATFORM = "linux/x86_64"
GOOGLE_CREDENTIAL_PATH = "/usr/src/app/google.json"
GOOGLE_CREDENTIAL_MOUNT = "./google.json:" + GOOGLE_CREDENTIAL_PATH


def port_var(port: int) -> EnvVar:
    return EnvVar("PORT", str(port), description="Port the service listens on inside the stack network.")


def key_var(name: str, provider: str) -> EnvVar:
    return EnvVar(name, required=True, secret=True, provider=provider,
                  description="API key of %s (from provider_keys.%s; never stored)." % (provider, provider))


def ami_url(port: int = 6006) -> EnvVar:
    return EnvVar("AMI_URL", "http://{{service:avr-ami}}:%d" % port,
                  description="URL of the AMI bridge service, used for call control tools.")


def google_credentials() -> EnvVar:
    return EnvVar("GOOGLE_APPLICATION_CREDENTIALS", GOOGLE_CREDENTIAL_PATH, provider="google",
                  description="Path of the Google service-account JSON inside the container "
                              "(written from provider_keys.google, mode 0600).")


def _env(*items: EnvVar) -> Tuple[EnvVar, ...]:
    return tuple(items)


def _opt(name: str, default: Optional[str], description: str, required: bool = False) -> EnvVar:
    return EnvVar(name, default, required=required, description=description)


# --- core, telephony -----------------------------------------------------------------------

AVR_CORE = CoreImage(
    name="avr-core",
    image="agentvoiceresponse/avr-core",
    description="AVR core: bridges Asterisk audio to the ASR/LLM/TTS or STS services.",
    port=5001,
    ports=("5001:5001",),
    env=_env(
        port_var(5001),
        _opt("ASR_URL", None, "Speech-to-text stream URL (set by the stack in modular stacks)."),
        _opt("LLM_URL", None, "LLM prompt stream URL (set by the stack in modular stacks)."),
        _opt("TTS_URL", None, "Text-to-speech stream URL (set by the stack in modular stacks)."),
        _opt("STS_URL", None, "Speech-to-speech websocket URL (set by the stack in STS stacks)."),
        _opt("INTERRUPT_LISTENING", None, "Whether the caller may interrupt the agent (true/false)."),
        _opt("SYSTEM_MESSAGE", None, "Greeting the agent speaks when a call starts."),
    ),
)

AVR_ASTERISK = AsteriskImage(
    name="avr-asterisk",
    image="agentvoiceresponse/avr-asterisk",
    description="Asterisk PBX preconfigured for AVR (SIP, AMI, ARI).",
    ports=("5038:5038", "5060:5060", "8088:8088", "10000-10050:10000-10050/udp"),
    management_ports=("5038", "8088"),
    volumes=(
        "./asterisk/conf/manager.conf:/etc/asterisk/my_manager.conf",
        "./asterisk/conf/pjsip.conf:/etc/asterisk/my_pjsip.conf",
        "./asterisk/conf/extensions.conf:/etc/asterisk/my_extensions.conf",
        "./asterisk/conf/queues.conf:/etc/asterisk/my_queues.conf",
        "./asterisk/conf/ari.conf:/etc/asterisk/my_ari.conf",
    ),
)

AVR_AMI = AmiImage(
    name="avr-ami",
    image="agentvoiceresponse/avr-ami",
    description="HTTP bridge to the Asterisk Manager Interface (call control for tools).",
    port=6006,
    ports=("6006:6006",),
    management_ports=("6006",),
    env=_env(
        port_var(6006),
        _opt("AMI_HOST", "{{service:avr-asterisk}}", "Asterisk host the bridge connects to."),
        _opt("AMI_PORT", "5038", "Asterisk Manager Interface port."),
        _opt("AMI_USERNAME", "avr", "AMI user name."),
        EnvVar("AMI_PASSWORD", "avr", secret=True, secret_name="AMI_PASSWORD",
               description="AMI password (from secrets.AMI_PASSWORD; never stored)."),
    ),
)

# --- speech-to-text ------------------------------------------------------------------------

AVR_ASR_DEEPGRAM = AsrImage(
    name="avr-asr-deepgram",
    image="agentvoiceresponse/avr-asr-deepgram",
    description="Speech-to-text with Deepgram.",
    port=6010,
    env=_env(
        port_var(6010),
        key_var("DEEPGRAM_API_KEY", "deepgram"),
        _opt("SPEECH_RECOGNITION_LANGUAGE", "en-US", "Recognition language (BCP-47)."),
        _opt("SPEECH_RECOGNITION_MODEL", "nova-2-phonecall", "Deepgram recognition model."),
    ),
)

AVR_ASR_GOOGLE = AsrImage(
    name="avr-asr-google-cloud-speech",
    image="agentvoiceresponse/avr-asr-google-cloud-speech",
    description="Speech-to-text with Google Cloud Speech.",
    port=6001,
    volumes=(GOOGLE_CREDENTIAL_MOUNT,),
    env=_env(
        port_var(6001),
        google_credentials(),
        _opt("SPEECH_RECOGNITION_LANGUAGE", "en-US", "Recognition language (BCP-47)."),
        _opt("SPEECH_RECOGNITION_MODEL", "telephony", "Google recognition model."),
    ),
)

AVR_ASR_VOSK = AsrImage(
    name="avr-asr-vosk",
    image="agentvoiceresponse/avr-asr-vosk",
    description="Offline speech-to-text with Vosk (model mounted from ./model).",
    port=6010,
    volumes=("./model:/usr/src/app/model",),
    env=_env(
        port_var(6010),
        _opt("MODEL_PATH", "model", "Vosk model folder, relative to the app directory."),
    ),
)

# --- text-to-speech ------------------------------------------------------------------------

AVR_TTS_DEEPGRAM = TtsImage(
    name="avr-tts-deepgram",
    image="agentvoiceresponse/avr-tts-deepgram",
    description="Text-to-speech with Deepgram.",
    port=6011,
    env=_env(port_var(6011), key_var("DEEPGRAM_API_KEY", "deepgram")),
)

AVR_TTS_GOOGLE = TtsImage(
    name="avr-tts-google-cloud-tts",
    image="agentvoiceresponse/avr-tts-google-cloud-tts",
    description="Text-to-speech with Google Cloud Text-to-Speech.",
    port=6003,
    volumes=(GOOGLE_CREDENTIAL_MOUNT,),
    env=_env(
        port_var(6003),
        google_credentials(),
        _opt("TEXT_TO_SPEECH_LANGUAGE", "en-US", "Voice language (BCP-47)."),
        _opt("TEXT_TO_SPEECH_GENDER", "FEMALE", "Voice gender (FEMALE, MALE, NEUTRAL)."),
        _opt("TEXT_TO_SPEECH_NAME", "en-US-Chirp-HD-F", "Google voice name."),
        _opt("TEXT_TO_SPEECH_SPEAKING_RATE", "1.0", "Speaking rate (0.25 to 4.0)."),
    ),
)

# --- LLM -----------------------------------------------------------------------------------

AVR_LLM_OPENAI = LlmImage(
    name="avr-llm-openai",
    image="agentvoiceresponse/avr-llm-openai",
    description="LLM with OpenAI chat completions.",
    port=6002,
    env=_env(
        port_var(6002),
        key_var("OPENAI_API_KEY", "openai"),
        _opt("OPENAI_MODEL", "gpt-3.5-turbo", "OpenAI model."),
        _opt("OPENAI_MAX_TOKENS", "100", "Maximum tokens per answer."),
        _opt("OPENAI_TEMPERATURE", "0.0", "Sampling temperature."),
        ami_url(),
        _opt("SYSTEM_PROMPT", "You are a helpful assistant.", "System prompt of the agent."),
    ),
)

AVR_LLM_ANTHROPIC = LlmImage(
    name="avr-llm-anthropic",
    image="agentvoiceresponse/avr-llm-anthropic",
    description="LLM with Anthropic messages.",
    port=6014,
    env=_env(
        port_var(6014),
        key_var("ANTHROPIC_API_KEY", "anthropic"),
        _opt("ANTHROPIC_MODEL", "claude-3-5-sonnet-20240620", "Anthropic model."),
        _opt("ANTHROPIC_MAX_TOKENS", "1024", "Maximum tokens per answer."),
        _opt("ANTHROPIC_TEMPERATURE", "1", "Sampling temperature."),
        _opt("ANTHROPIC_SYSTEM_PROMPT", "You are a helpful assistant.", "System prompt of the agent."),
        ami_url(),
    ),
)

AVR_LLM_OPENROUTER = LlmImage(
    name="avr-llm-openrouter",
    image="agentvoiceresponse/avr-llm-openrouter",
    description="LLM through OpenRouter.",
    port=6009,
    env=_env(
        port_var(6009),
        key_var("OPENROUTER_API_KEY", "openrouter"),
        _opt("OPENROUTER_MODEL", "google/gemini-2.0-flash-lite-preview-02-05:free", "OpenRouter model."),
        _opt("SYSTEM_PROMPT", "You are my personal assistant", "System prompt of the agent."),
    ),
)

N8N = WorkflowImage(
    name="n8n",
    service="avr-n8n",
    image="n8nio/n8n:latest",
    tag_policy="upstream",
    description="n8n workflow engine that answers the n8n LLM connector.",
    platform=None,
    restart=None,
    ports=("5678:5678",),
    volumes=("./n8n:/home/node/.n8n",),
    env=_env(
        _opt("GENERIC_TIMEZONE", "Europe/Amsterdam", "Time zone of n8n schedules."),
        _opt("NODE_ENV", "production", "Node.js environment."),
        _opt("N8N_SECURE_COOKIE", "false", "Require HTTPS for the n8n editor cookie."),
    ),
)

AVR_LLM_N8N = LlmImage(
    name="avr-llm-n8n",
    image="agentvoiceresponse/avr-llm-n8n",
    description="LLM answered by an n8n workflow (public chat webhook).",
    port=6016,
    companions=(N8N,),
    env=_env(
        port_var(6016),
        _opt("PUBLIC_CHAT_URL", None, "n8n public chat webhook URL, e.g. "
             "http://avr-n8n:5678/webhook/<chat id>/chat.", required=True),
    ),
)

# --- speech-to-speech -----------------------------------------------------------------------

AVR_STS_OPENAI = StsImage(
    name="avr-sts-openai",
    image="agentvoiceresponse/avr-sts-openai",
    description="Speech-to-speech with the OpenAI Realtime API.",
    port=6030,
    ws_port=6030,
    env=_env(
        port_var(6030),
        key_var("OPENAI_API_KEY", "openai"),
        _opt("OPENAI_MODEL", "gpt-4o-realtime-preview", "OpenAI realtime model."),
        _opt("OPENAI_INSTRUCTIONS", "You are a helpful assistant.", "Instructions of the agent."),
        ami_url(),
    ),
)

AVR_STS_DEEPGRAM = StsImage(
    name="avr-sts-deepgram",
    image="agentvoiceresponse/avr-sts-deepgram",
    description="Speech-to-speech with the Deepgram Voice Agent API.",
    port=6033,
    ws_port=6033,
    env=_env(
        port_var(6033),
        key_var("DEEPGRAM_API_KEY", "deepgram"),
        _opt("AGENT_PROMPT", None, "Prompt of the Deepgram voice agent.", required=True),
    ),
)

AVR_STS_ULTRAVOX = StsImage(
    name="avr-sts-ultravox",
    image="agentvoiceresponse/avr-sts-ultravox",
    description="Speech-to-speech with Ultravox.",
    port=6031,
    ws_port=6031,
    env=_env(
        port_var(6031),
        _opt("ULTRAVOX_AGENT_ID", None, "Ultravox agent id.", required=True),
        key_var("ULTRAVOX_API_KEY", "ultravox"),
    ),
)

AVR_STS_GEMINI = StsImage(
    name="avr-sts-gemini",
    image="agentvoiceresponse/avr-sts-gemini",
    description="Speech-to-speech with the Gemini Live API.",
    port=6037,
    ws_port=6037,
    env=_env(
        port_var(6037),
        key_var("GEMINI_API_KEY", "gemini"),
        _opt("GEMINI_MODEL", "gemini-2.5-flash-preview-native-audio-dialog", "Gemini live model."),
        _opt("GEMINI_INSTRUCTIONS", "You are a helpful assistant.", "Instructions of the agent."),
        ami_url(),
    ),
)

AVR_STS_ELEVENLABS = StsImage(
    name="avr-sts-elevenlabs",
    image="agentvoiceresponse/avr-sts-elevenlabs",
    description="Speech-to-speech with an ElevenLabs conversational agent.",
    port=6035,
    ws_port=6035,
    env=_env(
        port_var(6035),
        key_var("ELEVENLABS_API_KEY", "elevenlabs"),
        _opt("ELEVENLABS_AGENT_ID", None, "ElevenLabs agent id.", required=True),
    ),
)

# --- admin app --------------------------------------------------------------------------------

AVR_APP = AppImage(
    name="avr-app",
    image="agentvoiceresponse/avr-app",
    description="AVR admin web application.",
    port=3000,
    ports=("3000:3000",),
    volumes=(
        "/var/run/docker.sock:/var/run/docker.sock",
        "./asterisk:/usr/src/app/asterisk",
        "./keys:/usr/src/app/keys",
        "./functions:/usr/src/app/functions",
    ),
    host_paths=("/var/run/docker.sock",),
    depends_on=(("database", "service_healthy"), ("asterisk", "service_started")),
    env=_env(
        port_var(3000),
        _opt("ADMIN_EMAIL", None, "E-mail of the first admin user.", required=True),
        EnvVar("ADMIN_PASSWORD", required=True, secret=True, secret_name="ADMIN_PASSWORD",
               description="Password of the first admin user (from secrets.ADMIN_PASSWORD)."),
        _opt("DATABASE_HOST", "{{service:avr-app-db}}", "Database host."),
        _opt("DATABASE_PORT", "3306", "Database port."),
        _opt("DATABASE_NAME", "avr", "Database name."),
        _opt("DATABASE_USERNAME", "avr", "Database user."),
        EnvVar("DATABASE_PASSWORD", required=True, secret=True, secret_name="DATABASE_PASSWORD",
               description="Database password (from secrets.DATABASE_PASSWORD)."),
        _opt("AMI_URL", "http://{{service:avr-ami}}:6006", "URL of the AMI bridge service."),
        _opt("ARI_URL", "http://{{service:avr-asterisk}}:8088/ari", "Asterisk REST interface URL."),
        _opt("ARI_USERNAME", "avr", "ARI user name."),
        EnvVar("ARI_PASSWORD", "avr", secret=True, secret_name="ARI_PASSWORD",
               description="ARI password (from secrets.ARI_PASSWORD; never stored)."),
    ),
)

MYSQL = DatabaseImage(
    name="mysql",
    service="avr-app-db",
    image="mysql:8.0.15",
    tag_policy="upstream",
    description="MySQL database of the admin application.",
    command=("mysqld", "--default-authentication-plugin=mysql_native_password"),
    ports=("3309:3306",),
    volumes=("./db:/var/lib/mysql",),
    healthcheck=Healthcheck(test=("CMD", "mysqladmin", "ping", "-h", "localhost"), timeout="20s", retries=10),
    env=_env(
        _opt("MYSQL_DATABASE", "avr", "Database created at first start."),
        _opt("MYSQL_USER", "avr", "Application database user."),
        EnvVar("MYSQL_PASSWORD", required=True, secret=True, secret_name="DATABASE_PASSWORD",
               description="Application user password (from secrets.DATABASE_PASSWORD)."),
        EnvVar("MYSQL_ROOT_PASSWORD", required=True, secret=True, secret_name="DATABASE_ROOT_PASSWORD",
               description="Root password (from secrets.DATABASE_ROOT_PASSWORD)."),
    ),
)

ALL_IMAGES = (
    AVR_CORE, AVR_ASTERISK, AVR_AMI,
    AVR_ASR_DEEPGRAM, AVR_ASR_GOOGLE, AVR_ASR_VOSK,
    AVR_TTS_DEEPGRAM, AVR_TTS_GOOGLE,
    AVR_LLM_OPENAI, AVR_LLM_ANTHROPIC, AVR_LLM_OPENROUTER, AVR_LLM_N8N,
    AVR_STS_OPENAI, AVR_STS_DEEPGRAM, AVR_STS_ULTRAVOX, AVR_STS_GEMINI, AVR_STS_ELEVENLABS,
    AVR_APP, MYSQL, N8N,
)
