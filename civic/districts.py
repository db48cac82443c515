"""District gazetteer: find and canonicalise district names in Hindi, Hinglish and English text.

The canonical value of a district is its English name as the COVID data source spells it
("Saharanpur", "Gautam Buddha Nagar"). Names, Devanagari spellings and variants live in
civic/data/districts.yml; this module only matches. Matching is case-, space-, punctuation-,
nukta- and chandrabindu-insensitive: exact aliases first, then a conservative fuzzy match.
"""
from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import Path
from typing import Dict, FrozenSet, Iterable, List, Optional, Sequence, Tuple

import yaml

DATA_PATH = Path(__file__).resolve().parent / "data" / "districts.yml"

# Similarity (difflib ratio on folded keys) a typo needs to count as a district. A whole reply
# to "which district?" may be looser than a word inside a free-form message.
WHOLE_STRING_THRESHOLD = 0.8
IN_TEXT_THRESHOLD = 0.86
# The best fuzzy candidate must beat the runner-up (another district) by this much.
FUZZY_MARGIN = 0.03
MIN_FUZZY_LENGTH = 5
SUGGESTION_FLOOR = 0.6

# Python's \w leaves out Devanagari vowel signs and virama (category M), so add the block
# (minus the dandas) and the zero-width joiners that appear inside Devanagari words.
_TOKEN_RE = re.compile(r"(?:[^\W_]|[\u0300-\u036f\u0900-\u0963\u0966-\u097f\u200c\u200d])+")
_NUKTA = "\u093c"
_DROP = {ord(_NUKTA): None, 0x200C: None, 0x200D: None, 0x0901: 0x0902}  # chandrabindu → anusvara
_FOLD_RULES = (("ph", "f"), ("ee", "i"), ("oo", "u"), ("z", "j"), ("w", "v"), ("q", "k"),
               ("\u0940", "\u093f"), ("\u0942", "\u0941"))  # ी → ि, ू → ु
_REPEAT_RE = re.compile(r"(.)\1+")


def _norm(token: str) -> str:
    """Case-folded token without Latin accents, nukta, joiners; chandrabindu as anusvara."""
    decomposed = unicodedata.normalize("NFKD", token.casefold())
    stripped = "".join(c for c in decomposed if not "\u0300" <= c <= "\u036f")
    return unicodedata.normalize("NFC", stripped).translate(_DROP)


def _fold(key: str) -> str:
    """Spelling-insensitive form: common transliteration swaps and doubled letters collapsed."""
    for old, new in _FOLD_RULES:
        key = key.replace(old, new)
    return _REPEAT_RE.sub(r"\1", key)


def _tokens(text: str) -> List[Tuple[int, int, str]]:
    """(start, end, normalised token) for every word of `text`, offsets into `text`."""
    out = []
    for match in _TOKEN_RE.finditer(text):
        norm = _norm(match.group())
        if norm:
            out.append((match.start(), match.end(), norm))
    return out


def _key(text: str) -> Tuple[str, ...]:
    return tuple(token for _, _, token in _tokens(text))


@dataclass(frozen=True)
class _Alias:
    folded: str
    canonical: str
    words: int
    ambiguous: bool


@dataclass(frozen=True)
class _Gazetteer:
    states: Dict[str, str]
    whole_state: FrozenSet[str]
    exact: Dict[str, str]  # alias tokens joined without spaces → canonical
    folded: Dict[str, str]  # folded joined alias → canonical
    ambiguous: FrozenSet[str]  # joined keys that are also ordinary words
    aliases: Dict[str, Tuple[str, ...]]  # canonical → its folded keys
    by_initial: Dict[str, Tuple[_Alias, ...]]  # fuzzy candidates by first letter
    max_words: int
    district_words: FrozenSet[str]
    fillers: Tuple[Tuple[str, ...], ...]
    not_districts: FrozenSet[str]


def _load(path: Path = DATA_PATH) -> _Gazetteer:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    ambiguous = frozenset("".join(_key(a)) for a in raw.get("ambiguous") or [])
    states: Dict[str, str] = {}
    whole_state = set()
    exact: Dict[str, str] = {}
    folded: Dict[str, str] = {}
    aliases: Dict[str, List[str]] = {}
    entries: Dict[Tuple[str, str], _Alias] = {}

    def add(alias: str, canonical: str) -> None:
        words = _key(alias)
        if not words:
            raise ValueError(f"{path}: empty alias for {canonical!r}")
        joined = "".join(words)
        for index, key in ((exact, joined), (folded, _fold(joined))):
            if index.setdefault(key, canonical) != canonical:
                raise ValueError(
                    f"{path}: alias {alias!r} of {canonical!r} clashes with {index[key]!r}")
        fold = _fold(joined)
        entries[(fold, canonical)] = _Alias(fold, canonical, len(words), joined in ambiguous)
        if fold not in aliases.setdefault(canonical, []):
            aliases[canonical].append(fold)

    for canonical, info in raw["districts"].items():
        state = str(info["state"])
        if not re.fullmatch(r"[A-Z]{2}", state):
            raise ValueError(f"{path}: {canonical!r} has a bad state code {state!r}")
        states[canonical] = state
        if info.get("whole_state"):
            whole_state.add(canonical)
        for alias in [canonical, *(info.get("hi") or []), *(info.get("latin") or [])]:
            add(str(alias), canonical)

    by_initial: Dict[str, List[_Alias]] = {}
    for alias in entries.values():
        by_initial.setdefault(alias.folded[0], []).append(alias)
    return _Gazetteer(
        states=states,
        whole_state=frozenset(whole_state),
        exact=exact,
        folded=folded,
        ambiguous=ambiguous,
        aliases={k: tuple(v) for k, v in aliases.items()},
        by_initial={k: tuple(v) for k, v in by_initial.items()},
        max_words=max(a.words for a in entries.values()),
        district_words=frozenset("".join(_key(w)) for w in raw.get("district_words") or []),
        fillers=tuple(sorted({_key(p) for p in raw.get("filler_phrases") or []}, key=len,
                             reverse=True)),
        not_districts=frozenset("".join(_key(w)) for w in raw.get("not_districts") or []),
    )


@functools.lru_cache(maxsize=None)
def _gazetteer() -> _Gazetteer:
    """The gazetteer, loaded once per process."""
    return _load()


def _exact(gaz: _Gazetteer, joined: str) -> Optional[str]:
    return gaz.exact.get(joined) or gaz.folded.get(_fold(joined))


def _similarity(a: str, b: str, threshold: float) -> float:
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    # The quick upper bounds reject most candidates without the full comparison.
    if matcher.real_quick_ratio() < threshold or matcher.quick_ratio() < threshold:
        return 0.0
    return matcher.ratio()


@functools.lru_cache(maxsize=4096)
def _fuzzy(joined: str, words: int, threshold: float, in_text: bool) -> Optional[str]:
    """The one district whose alias is clearly the closest to `joined`, or None.

    `words` > 1 compares only with aliases of that many words, so "lucknow me" is not taken
    for a misspelt "lucknow"; one word may be a run-together multi-word name.
    """
    gaz = _gazetteer()
    if (len(joined) < MIN_FUZZY_LENGTH or joined in gaz.not_districts
            or any(c.isdigit() for c in joined)):
        return None
    key = _fold(joined)
    best: Dict[str, float] = {}
    for alias in gaz.by_initial.get(key[0], ()):
        if (words > 1 and alias.words != words) or (in_text and alias.ambiguous):
            continue
        if abs(len(alias.folded) - len(key)) > 3:
            continue
        score = _similarity(key, alias.folded, threshold)
        if score >= threshold and score > best.get(alias.canonical, 0.0):
            best[alias.canonical] = score
    if not best:
        return None
    ranked = sorted(best.items(), key=lambda item: -item[1])
    if len(ranked) > 1 and ranked[0][1] - ranked[1][1] < FUZZY_MARGIN:
        return None  # two districts equally close: a guess would be wrong half the time
    return ranked[0][0]


def _strip(words: Sequence[str], gaz: _Gazetteer) -> Tuple[str, ...]:
    """`words` without "district" words and filler phrases ("city", "U.P.") at either end."""
    words = tuple(words)
    changed = True
    while changed and words:
        changed = False
        if words[0] in gaz.district_words:
            words, changed = words[1:], True
        elif words[-1] in gaz.district_words:
            words, changed = words[:-1], True
        for phrase in gaz.fillers:
            n = len(phrase)
            if len(words) > n and words[-n:] == phrase:
                words, changed = words[:-n], True
            elif len(words) > n and words[:n] == phrase:
                words, changed = words[n:], True
    return words


def resolve_district(name: str) -> Optional[str]:
    """Canonical district for a whole string ("sharanpur", "नोएडा", "Gurgaon"), else None."""
    gaz = _gazetteer()
    words = _key(name or "")
    if not words:
        return None
    variants = [words]
    stripped = _strip(words, gaz)
    if stripped and stripped != words:
        variants.append(stripped)
    for variant in variants:
        found = _exact(gaz, "".join(variant))
        if found:
            return found
    for variant in variants:
        found = _fuzzy("".join(variant), 1, WHOLE_STRING_THRESHOLD, False)
        if found:
            return found
    return None


def find_district(text: str) -> Optional[Tuple[int, int, str]]:
    """The first district named in `text`: (start, end, canonical), offsets into `text`.

    At each word the longest exact alias wins ("Kanpur Dehat" over "Kanpur"); words that are
    also ordinary words ("basti") count only next to "district"/"जिला". Failing an exact
    alias, a word of 5+ letters (or a run of 2-3 words) may be a close misspelling.
    """
    gaz = _gazetteer()
    tokens = _tokens(text or "")
    norms = [token for _, _, token in tokens]
    for i in range(len(tokens)):
        for n in range(min(gaz.max_words, len(tokens) - i), 0, -1):
            joined = "".join(norms[i:i + n])
            found = _exact(gaz, joined)
            if found and (joined not in gaz.ambiguous or _cued(norms, i, i + n, gaz)):
                return tokens[i][0], tokens[i + n - 1][1], found
        for n in range(min(3, len(tokens) - i), 0, -1):
            span = norms[i:i + n]
            if n > 1 and min(len(w) for w in span) < 3:
                continue  # "me", "ka" glued to a name must not pass for part of it
            found = _fuzzy("".join(span), n, IN_TEXT_THRESHOLD, True)
            if found:
                return tokens[i][0], tokens[i + n - 1][1], found
    return None


def _cued(norms: Sequence[str], start: int, end: int, gaz: _Gazetteer) -> bool:
    before = norms[start - 1] if start > 0 else ""
    after = norms[end] if end < len(norms) else ""
    return before in gaz.district_words or after in gaz.district_words


def closest_districts(name: str, candidates: Iterable[str], n: int = 3) -> List[str]:
    """Up to `n` of `candidates` nearest to `name` ("did you mean"), best first.

    Candidates known to the gazetteer are compared through all their aliases, so Devanagari
    input finds English names; unknown candidates are compared by their own spelling.
    """
    gaz = _gazetteer()
    query = _fold("".join(_key(name or "")))
    if not query or n <= 0:
        return []
    resolved = resolve_district(name)
    scored = []
    for candidate in dict.fromkeys(candidates):
        own = "".join(_key(candidate))
        canonical = candidate if candidate in gaz.aliases else _exact(gaz, own)
        keys = gaz.aliases.get(canonical or "", ()) or (_fold(own),)
        score = max(SequenceMatcher(None, query, key, autojunk=False).ratio() for key in keys)
        if canonical is not None and canonical == resolved:
            score = 2.0  # the name itself resolves to this candidate
        if score >= SUGGESTION_FLOOR:
            scored.append((-score, candidate))
    return [candidate for _, candidate in sorted(scored)[:n]]


def all_districts() -> Dict[str, str]:
    """Every canonical district name → its state code ("Saharanpur" → "UP")."""
    return dict(_gazetteer().states)


def is_whole_state(name: str) -> bool:
    """True for names that stand for a whole state's figures ("Delhi"), not one district."""
    return name in _gazetteer().whole_state
