"""The workspace's strings in Hindi and English, all from officer/i18n.yml."""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Callable, Dict

import yaml

I18N_PATH = Path(__file__).resolve().parent / "i18n.yml"
UI_LANGUAGES = ("en", "hi")
DEFAULT_LANGUAGE = "en"


@functools.cache
def catalogue() -> Dict[str, Dict[str, str]]:
    with I18N_PATH.open(encoding="utf-8") as handle:
        return {lang: {str(k): str(v) for k, v in strings.items()}
                for lang, strings in yaml.safe_load(handle).items()}


def translator(language: str) -> Callable[..., str]:
    """t(key, **values) in `language`; falls back to English, then to the key itself."""
    strings = catalogue().get(language) or catalogue()[DEFAULT_LANGUAGE]
    fallback = catalogue()[DEFAULT_LANGUAGE]

    def t(key: str, **values) -> str:
        text = strings.get(key) or fallback.get(key) or key
        return text.format(**values) if values else text

    return t
