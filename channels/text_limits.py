"""Fit text into WhatsApp's length limits without breaking what a reader sees as one letter.

A Devanagari syllable such as ``क्षि`` is several code points (consonant, virama, consonant,
vowel sign). Cutting inside it leaves a dangling virama or matra, so every cut here falls
between grapheme clusters, with virama conjuncts kept whole.
"""

import re
import unicodedata
from typing import List

import regex

_CLUSTER = regex.compile(r"\X")
_JOINERS = "\u200c\u200d"  # ZWNJ / ZWJ may follow a virama inside a conjunct
_VIRAMA_COMBINING_CLASS = 9
ELLIPSIS = "…"

# Preferred places to split long text, best first.
_BREAKS = (
    re.compile(r"\n\s*\n"),
    re.compile(r"\n"),
    re.compile(r"(?<=[.!?।॥])\s+"),
    re.compile(r"\s+"),
)


def measure(text: str) -> int:
    """Length as WhatsApp may count it: UTF-16 code units (an emoji counts 2).

    Counting UTF-16 units is never more lenient than counting code points, so a text
    that fits here fits either way.
    """
    return len(text.encode("utf-16-le")) // 2


def graphemes(text: str) -> List[str]:
    """Split text into user-perceived characters, Indic conjuncts kept whole."""
    clusters: List[str] = []
    for cluster in _CLUSTER.findall(text):
        # regex follows Unicode 15.0, which ends a cluster after a virama;
        # virama + consonant is one conjunct (Unicode 15.1, rule GB9c).
        if clusters and _ends_with_virama(clusters[-1]) and _is_letter(cluster[0]):
            clusters[-1] += cluster
        else:
            clusters.append(cluster)
    return clusters


def _ends_with_virama(cluster: str) -> bool:
    stripped = cluster.rstrip(_JOINERS)
    return bool(stripped) and (unicodedata.combining(stripped[-1]) == _VIRAMA_COMBINING_CLASS)


def _is_letter(char: str) -> bool:
    return unicodedata.category(char).startswith("L")


def _prefix_within(text: str, limit: int) -> str:
    """The longest run of whole clusters from the start of text within limit."""
    used = 0
    end = 0
    for cluster in graphemes(text):
        size = measure(cluster)
        if used + size > limit:
            break
        used += size
        end += len(cluster)
    return text[:end]


def truncate(text: str, limit: int, ellipsis: str = ELLIPSIS) -> str:
    """Return text unchanged if it fits, else cut plus an ellipsis: after the last whole word
    that fits ("Shikayat dobara…", never "Shikayat dobara kho…"), or on a cluster boundary
    when not even the first word fits."""
    text = text.strip()
    if measure(text) <= limit:
        return text
    head = _prefix_within(text, limit - measure(ellipsis))
    if not text[len(head):len(head) + 1].isspace():  # the cut falls inside a word
        words = head.rsplit(None, 1)
        if len(words) == 2:
            head = words[0]
    return head.rstrip(" ,;:/-·") + ellipsis


def split_text(text: str, limit: int) -> List[str]:
    """Split text into parts within limit, at paragraph, line, sentence or word breaks."""
    parts: List[str] = []
    rest = text.strip()
    while measure(rest) > limit:
        head = _prefix_within(rest, limit)
        cut = _best_break(head)
        if cut is None:
            # no break inside the allowed length: cut between clusters
            cut = len(head) or len(graphemes(rest)[0])
        part = rest[:cut].rstrip()
        if part:
            parts.append(part)
        rest = rest[cut:].lstrip()
    if rest:
        parts.append(rest)
    return parts


def _best_break(head: str):
    """Index after the last preferred break in head, or None."""
    for pattern in _BREAKS:
        ends = [m.end() for m in pattern.finditer(head) if m.start() > 0]
        if ends:
            return ends[-1]
    return None
