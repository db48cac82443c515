"""One spelling for a word however a citizen writes it: Devanagari, Hinglish or English.

`normalize_token("पानी") == normalize_token("paani") == normalize_token("pani") == "pani"`.
The NLU tokenizer puts this form in each token's lemma, so the featurizers see one word
where citizens write three; number words are looked up through it too.

The form is a simplified, lossy Latin spelling: Devanagari is transliterated (with Hindi's
schwa deletion, so सड़क -> sadak, बिजली -> bijli), then every Latin word has its long vowels and
doubled letters collapsed (aa->a, ee->i, oo->u, tt->t), w->v, z->j, ph->f, q->k, ei->e, and a
final nasal n after i/e dropped (nahin -> nahi, mein -> me, हैं -> hai). It is consistent, not
reversible: only ever compare normalised forms with normalised forms.
"""
from __future__ import annotations

import re
import unicodedata
from typing import List, Optional, Tuple

VIRAMA = "\u094d"
NUKTA = "\u093c"
ANUSVARA = "\u0902"
CHANDRABINDU = "\u0901"
VISARGA = "\u0903"

CONSONANTS = {
    "क": "k", "ख": "kh", "ग": "g", "घ": "gh", "ङ": "n",
    "च": "ch", "छ": "chh", "ज": "j", "झ": "jh", "ञ": "n",
    "ट": "t", "ठ": "th", "ड": "d", "ढ": "dh", "ण": "n",
    "त": "t", "थ": "th", "द": "d", "ध": "dh", "न": "n",
    "प": "p", "फ": "ph", "ब": "b", "भ": "bh", "म": "m",
    "य": "y", "र": "r", "ल": "l", "व": "v", "ळ": "l",
    "श": "sh", "ष": "sh", "स": "s", "ह": "h",
}
# A consonant with nukta. NFC keeps these as consonant + U+093C, never precomposed.
NUKTA_CONSONANTS = {
    "क": "k", "ख": "kh", "ग": "g", "ज": "z", "ड": "d", "ढ": "dh", "फ": "f", "य": "y",
}
INDEPENDENT_VOWELS = {
    "अ": "a", "आ": "a", "इ": "i", "ई": "i", "उ": "u", "ऊ": "u", "ऋ": "ri",
    "ए": "e", "ऐ": "ai", "ओ": "o", "औ": "au", "ऑ": "o", "ऍ": "e", "ऎ": "e", "ऒ": "o",
}
MATRAS = {
    "ा": "a", "ि": "i", "ी": "i", "ु": "u", "ू": "u", "ृ": "ri",
    "े": "e", "ै": "ai", "ो": "o", "ौ": "au", "ॉ": "o", "ॅ": "e", "ॆ": "e", "ॊ": "o",
}
DEVANAGARI_DIGITS = str.maketrans("०१२३४५६७८९", "0123456789")

# Frequent SMS abbreviations, so that "nhi" meets "nahi" and "नहीं".
ABBREVIATIONS = {
    "nhi": "nahi", "nhin": "nahi", "nhy": "nahi", "h": "hai", "hy": "hai",
    "kr": "kar", "kro": "karo", "krna": "karna", "krdo": "kardo",
    "plz": "please", "pls": "please", "plzz": "please", "thx": "thanks", "thnx": "thanks",
    "thanx": "thanks", "u": "you", "ur": "your",
    # chat spellings of greetings and farewells
    "mrng": "morning", "morng": "morning", "gd": "gud", "nite": "night", "nyt": "night",
    "evng": "evening", "okk": "ok", "okie": "ok",
}

_DEVANAGARI_RUN = re.compile(r"[\u0900-\u097F\u200c\u200d]+")
_LATIN_RUN = re.compile(r"[a-z]+")


def _is_devanagari(char: str) -> bool:
    return "\u0900" <= char <= "\u097F"


# A parsed Devanagari word is a list of units: ("C", latin, vowel) for a consonant, where
# vowel is INHERENT, a matra's sound, or "" (virama); ("V", latin) for an independent
# vowel; ("N", "n") for anusvara/chandrabindu; ("H", "h") for visarga; ("X", text) otherwise.
Unit = Tuple[str, str, Optional[str]]
INHERENT = "@"  # the inherent 'a' (schwa), which schwa deletion may drop


def _parse(word: str) -> List[Unit]:
    units: List[Unit] = []
    i = 0
    while i < len(word):
        char = word[i]
        nxt = word[i + 1] if i + 1 < len(word) else ""
        if char == "ज" and word[i + 1 : i + 3] == VIRAMA + "ञ":
            units.append(("C", "gy", INHERENT))  # ज्ञ is said and written "gy" (gyan)
            i += 2
        elif char in CONSONANTS:
            latin = CONSONANTS[char]
            if nxt == NUKTA:
                latin = NUKTA_CONSONANTS.get(char, latin)
                i += 1
            units.append(("C", latin, INHERENT))
        elif char in MATRAS and units and units[-1][0] == "C":
            units[-1] = ("C", units[-1][1], MATRAS[char])
        elif char == VIRAMA and units and units[-1][0] == "C":
            units[-1] = ("C", units[-1][1], "")
        elif char in INDEPENDENT_VOWELS:
            units.append(("V", INDEPENDENT_VOWELS[char], None))
        elif char in MATRAS:  # a stray matra: keep its sound
            units.append(("V", MATRAS[char], None))
        elif char in (ANUSVARA, CHANDRABINDU):
            units.append(("N", "n", None))
        elif char == VISARGA:
            units.append(("H", "h", None))
        elif char in (NUKTA, "\u200c", "\u200d", VIRAMA):
            pass  # joiners and marks with nothing to attach to carry no sound
        else:
            units.append(("X", char.translate(DEVANAGARI_DIGITS), None))
        i += 1
    return units


def _has_vowel(unit: Unit) -> bool:
    return unit[0] == "V" or (unit[0] == "C" and bool(unit[2]))


def _delete_schwas(units: List[Unit]) -> List[Unit]:
    """Hindi schwa deletion (Ohala's rule), applied right to left.

    The inherent 'a' is silent at the end of a word (सड़क -> sadak) and in V C_a C V
    (बिजली -> bijli, समझना -> samajhna), but stays in a one-consonant word and after a
    conjunct at the end (पत्र -> patra).
    """
    units = list(units)
    letters = [k for k, u in enumerate(units) if u[0] in ("C", "V")]
    for pos in range(len(letters) - 1, -1, -1):
        k = letters[pos]
        kind, latin, vowel = units[k]
        if kind != "C" or vowel != INHERENT:
            continue
        if k + 1 < len(units) and units[k + 1][0] in ("N", "H"):
            continue  # a nasalised or aspirated 'a' is heard
        if pos == len(letters) - 1:
            previous = units[letters[pos - 1]] if pos > 0 else None
            conjunct = previous is not None and previous[0] == "C" and previous[2] == ""
            if previous is not None and not (conjunct and latin in ("y", "r", "v")):
                units[k] = (kind, latin, "")
            continue
        if pos == 0:
            continue
        before, after = units[letters[pos - 1]], units[letters[pos + 1]]
        if _has_vowel(before) and after[0] == "C" and _has_vowel(after):
            units[k] = (kind, latin, "")
    return units


def devanagari_to_latin(word: str) -> str:
    """Transliterate one Devanagari run to the simplified Latin spelling (not yet collapsed)."""
    units = _delete_schwas(_parse(unicodedata.normalize("NFC", word)))
    out = []
    for k, (kind, latin, vowel) in enumerate(units):
        if kind == "C":
            out.append(latin + ("a" if vowel == INHERENT else vowel or ""))
        elif kind == "N" and k + 1 < len(units) and units[k + 1][1][:1] in ("p", "b", "m"):
            out.append("m")  # anusvara before a labial is said m: नंबर -> nambar
        else:
            out.append(latin)
    return "".join(out)


def _collapse_latin(word: str) -> str:
    """Collapse Hinglish spelling variation in one lowercase Latin word."""
    word = re.sub(r"(.)\1\1+", r"\1", word)  # chat elongation first: hellooo -> hello
    word = word.replace("ph", "f").replace("w", "v").replace("z", "j").replace("q", "k")
    word = word.replace("ee", "i").replace("oo", "u")
    word = word.replace("chch", "ch").replace("cch", "ch")
    word = re.sub(r"(.)\1+", r"\1", word)  # aa->a, ii->i, tt->t, hh->h (so chh->ch)
    word = word.replace("ei", "e")
    if len(word) >= 3 and word[-1] == "n" and word[-2] in "ie":
        word = word[:-1]  # nasal ending: nahin -> nahi, mein -> me, hain -> hai
    return word


def normalize_token(token: str) -> str:
    """The normalised, lowercase Latin form of one token (see the module docstring)."""
    if not token:
        return token
    text = token
    if any(_is_devanagari(c) for c in text):
        text = _DEVANAGARI_RUN.sub(lambda m: devanagari_to_latin(m.group()), text)
    text = text.lower()
    if text in ABBREVIATIONS:
        return ABBREVIATIONS[text]
    return _LATIN_RUN.sub(lambda m: _collapse_latin(m.group()), text)
