"""What a citizen's text must look like before Rasa reads it, for every channel of ours.

- control characters (NUL and the rest of C0 and C1) are removed, except newline and tab;
  a carriage return becomes a newline. PostgreSQL refuses NUL in text, and the others are
  never meant to be read;
- a lone surrogate (``"\\ud800"`` is valid JSON, not valid UTF-8) becomes U+FFFD;
- the text is normalised to NFC. Devanagari typed on phones is already NFC except for the
  precomposed nukta letters (क़ ख़ ग़ ज़ ड़ ढ़ फ़ य़, U+0958-U+095F), which NFC writes as letter +
  nukta, the way the training data and city.yml spell them (the tokenizer's lemmas
  normalise to NFC anyway);
- a text longer than WhatsApp's 4,096 characters is cut there (between two letters as a
  reader sees them) and ``cut`` says so, for the channel to tell the citizen.

Intent payloads: Rasa reads any text that starts with ``/`` as ``/intent{"entity": ...}``.
On WhatsApp only what the bot sent (button and list ids) may be a payload, so typed text
goes through ``as_typed_text``. On REST a payload stays a payload (``rasa shell`` buttons),
but one Rasa cannot safely parse (JSON nested thousands deep, or huge) is read as text:
``payload_is_safe``.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from channels.text_limits import graphemes

MESSAGE_LIMIT = 4096  # characters (code points): what WhatsApp lets a citizen send
PAYLOAD_PREFIX = "/"
# A button payload is short and flat ({"photo_id": "..."}); anything beyond is not one.
PAYLOAD_MAX_CHARS = 1000
PAYLOAD_MAX_DEPTH = 4

_NEWLINES = re.compile(r"\r\n?")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_LEADING_SLASHES = re.compile(r"^[\s/]+")


@dataclass(frozen=True)
class CleanText:
    text: str
    cut: bool = False  # the citizen wrote more than MESSAGE_LIMIT characters


def clean_text(text: str, limit: int = MESSAGE_LIMIT) -> CleanText:
    """The text without control characters or lone surrogates, in NFC, within limit."""
    text = _NEWLINES.sub("\n", text)
    text = _CONTROL.sub("", text)
    text = _SURROGATE.sub("\ufffd", text)
    text = unicodedata.normalize("NFC", text)
    if len(text) <= limit:
        return CleanText(text)
    return CleanText(_cut(text, limit), cut=True)


def _cut(text: str, limit: int) -> str:
    """The longest run of whole graphemes from the start within limit code points."""
    kept = 0
    for cluster in graphemes(text[: limit + 1]):
        if kept + len(cluster) > limit:
            break
        kept += len(cluster)
    return text[:kept]


def as_typed_text(text: str) -> str:
    """Typed text that Rasa cannot mistake for an intent payload: leading slashes go.

    A text of slashes alone becomes one "/": no intent name follows it, so Rasa reads it as
    text (Rasa 3.6 reads "//" as the intent "/").
    """
    if not text.lstrip().startswith(PAYLOAD_PREFIX):
        return text
    return _LEADING_SLASHES.sub("", text) or PAYLOAD_PREFIX


def payload_is_safe(text: str) -> bool:
    """False for a ``/...`` payload whose entities Rasa's parser would choke on.

    Rasa hands the part after the intent name to ``json.loads`` and catches only decoding
    errors, so JSON nested deeper than Python's recursion limit ends the turn without a
    reply. A text without ``/``, or with JSON that merely fails to decode, is safe: Rasa
    reads it as text or ignores the entities.
    """
    text = text.strip()
    if not text.startswith(PAYLOAD_PREFIX):
        return True
    if len(text) > PAYLOAD_MAX_CHARS:
        return False
    depth = deepest = 0
    for char in text:  # brackets inside JSON strings count too: stricter, never looser
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest <= PAYLOAD_MAX_DEPTH
