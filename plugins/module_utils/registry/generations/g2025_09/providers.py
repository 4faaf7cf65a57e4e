# -*- coding: utf-8 -*-
# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Providers, and which image serves each provider in each role."""

from __future__ import annotations

from typing import Mapping

from . import images as i
from ...model import AsrImage, LlmImage, Provider, StsImage, TtsImage

PROVIDERS: Mapping[str, Provider] = {
    p.name: p
    for p in (
        Provider("deepgram", "Deepgram speech APIs.", env="DEEPGRAM_API_KEY"),
        Provider("google", "Google Cloud service account (JSON credential file).", file="google.json"),
        Provider("vosk", "Vosk offline recognition (no key)."),
        Provider("openai", "OpenAI API.", env="OPENAI_API_KEY"),
        Provider("anthropic", "Anthropic API.", env="ANTHROPIC_API_KEY"),
        Provider("openrouter", "OpenRouter API.", env="OPENROUTER_API_KEY"),
        Provider("n8n", "An n8n workflow reached through its public chat webhook (no key)."),
        Provider("ultravox", "Ultravox API.", env="ULTRAVOX_API_KEY"),
        Provider("gemini", "Google Gemini API.", env="GEMINI_API_KEY"),
        Provider("elevenlabs", "ElevenLabs API.", env="ELEVENLABS_API_KEY"),
    )
}

ASR_PROVIDERS: Mapping[str, AsrImage] = {
    "deepgram": i.AVR_ASR_DEEPGRAM,
    "google": i.AVR_ASR_GOOGLE,
    "vosk": i.AVR_ASR_VOSK,
}

TTS_PROVIDERS: Mapping[str, TtsImage] = {
    "google": i.AVR_TTS_GOOGLE,
    "deepgram": i.AVR_TTS_DEEPGRAM,
}

LLM_PROVIDERS: Mapping[str, LlmImage] = {
    "openai": i.AVR_LLM_OPENAI,
    "anthropic": i.AVR_LLM_ANTHROPIC,
    "openrouter": i.AVR_LLM_OPENROUTER,
    "n8n": i.AVR_LLM_N8N,
}

STS_PROVIDERS: Mapping[str, StsImage] = {
    "openai": i.AVR_STS_OPENAI,
    "deepgram": i.AVR_STS_DEEPGRAM,
    "ultravox": i.AVR_STS_ULTRAVOX,
    "gemini": i.AVR_STS_GEMINI,
    "elevenlabs": i.AVR_STS_ELEVENLABS,
}
