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
# to "which district?" may be a little looser than a word inside a free-form message, and a
# long reply looser still: one wrong letter in "bhaiya" (0.83 to "baliya") is a different word,
# in "bulandsaher" it is a typo. A miss is cheap: the caller offers closest_districts().
IN_TEXT_THRESHOLD = 0.88
WHOLE_STRING_THRESHOLD = 0.86
LONG_WHOLE_STRING_THRESHOLD = 0.82
LONG_KEY = 8
# Per word, for misspelt multi-word names: "bhai nagar" is not "bhim nagar".
WORD_THRESHOLD = 0.8
MAX_LENGTH_DIFFERENCE = 2
# The best fuzzy candidate must beat the runner-up (another district) by this much.
FUZZY_MARGIN = 0.03
MIN_FUZZY_LENGTH = 5
# Inside a message a five-letter word is too often a Hindi word one letter from a district
# ("badan" ~ Badaun, "karna" ~ Karnal, "ganda" ~ Gonda), so fuzzy matching there needs six.
MIN_FUZZY_LENGTH_IN_TEXT = 6
# Folding turns short codes into other codes ("ggn" → "gn"): only longer words are folded.
MIN_FOLD_LENGTH = 4
SUGGESTION_FLOOR = 0.6
WORD_WEIGHT = 0.9

# Python's \w leaves out Devanagari vowel signs and virama (category M), so add the block
# (minus the dandas) and the zero-width joiners that appear inside Devanagari words.
_TOKEN_RE = re.compile(r"(?:[^\W_]|[\u0300-\u036f\u0900-\u0963\u0966-\u097f\u200c\u200d])+")
_NUKTA = "\u093c"
_DROP = {ord(_NUKTA): None, 0x200C: None, 0x200D: None, 0x0901: 0x0902}  # chandrabindu → anusvara
_FOLD_RULES = (("ph", "f"), ("ee", "i"), ("oo", "u"), ("z", "j"), ("w", "v"), ("q", "k"),
               # long/short vowels people swap: ी → ि, ू → ु, ई → इ, ऊ → उ
               ("\u0940", "\u093f"), ("\u0942", "\u0941"), ("\u0908", "\u0907"),
               ("\u090a", "\u0909"))
_REPEAT_RE = re.compile(r"(.)\1+")
_DIGIT_RE = re.compile(r"\d")


def _norm(token: str) -> str:
    """Case-folded token without Latin accents, nukta, joiners; chandrabindu as anusvara."""
    decomposed = unicodedata.normalize("NFKD", token.casefold())
    stripped = "".join(c for c in decomposed if not "\u0300" <= c <= "\u036f")
    return unicodedata.normalize("NFC", stripped).translate(_DROP)


@functools.lru_cache(maxsize=16384)
def _fold(key: str) -> str:
    """Spelling-insensitive form: common transliteration swaps and doubled letters collapsed."""
    for old, new in _FOLD_RULES:
        key = key.replace(old, new)
    return _REPEAT_RE.sub(r"\1", key)


def _char_mask(key: str) -> int:
    """A bit per character present (Devanagari shares bits; that only loosens the bound)."""
    mask = 0
    for char in key:
        mask |= 1 << (ord(char) % 61)
    return mask


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
    parts: Tuple[str, ...]  # folded words
    canonical: str
    words: int
    ambiguous: bool
    mask: int  # _char_mask(folded)


@dataclass(frozen=True)
class _Gazetteer:
    states: Dict[str, str]
    whole_state: FrozenSet[str]
    exact: Dict[str, str]  # alias tokens joined without spaces → canonical
    folded: Dict[str, str]  # folded joined alias → canonical
    ambiguous: FrozenSet[str]  # folded keys that are also ordinary words
    aliases: Dict[str, Tuple[str, ...]]  # canonical → its folded keys
    alias_words: Dict[str, Tuple[str, ...]]  # canonical → folded words of multi-word aliases
    prefixes: FrozenSet[str]  # every prefix of an exact or folded key: where to stop looking
    first_words: FrozenSet[str]  # folded first words of multi-word aliases
    # fuzzy candidates by (initial, length, number of words); 0 words: any number
    by_shape: Dict[Tuple[str, int, int], Tuple[_Alias, ...]]
    max_words: int
    district_words: FrozenSet[str]
    street_words: FrozenSet[str]
    fillers: Tuple[Tuple[str, ...], ...]
    not_districts: FrozenSet[str]


def _load(path: Path = DATA_PATH) -> _Gazetteer:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    # Folded, so spelling variants of an ambiguous word ("baanda") are ambiguous too.
    ambiguous = frozenset(_fold("".join(_key(a))) for a in raw.get("ambiguous") or [])
    states: Dict[str, str] = {}
    whole_state = set()
    exact: Dict[str, str] = {}
    folded: Dict[str, str] = {}
    aliases: Dict[str, List[str]] = {}
    alias_words: Dict[str, List[str]] = {}
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
        entries[(fold, canonical)] = _Alias(fold, tuple(_fold(w) for w in words), canonical,
                                            len(words), fold in ambiguous, _char_mask(fold))
        if fold not in aliases.setdefault(canonical, []):
            aliases[canonical].append(fold)
        for word in words if len(words) > 1 else ():
            if len(word) >= 4 and _fold(word) not in alias_words.setdefault(canonical, []):
                alias_words[canonical].append(_fold(word))

    for canonical, info in raw["districts"].items():
        state = str(info["state"])
        if not re.fullmatch(r"[A-Z]{2}", state):
            raise ValueError(f"{path}: {canonical!r} has a bad state code {state!r}")
        states[canonical] = state
        if info.get("whole_state"):
            whole_state.add(canonical)
        for alias in [canonical, *(info.get("hi") or []), *(info.get("latin") or [])]:
            add(str(alias), canonical)

    by_shape: Dict[Tuple[str, int, int], List[_Alias]] = {}
    for alias in entries.values():
        for words in (alias.words, 0):
            by_shape.setdefault((alias.folded[0], len(alias.folded), words), []).append(alias)
    prefixes = {key[:end] for key in [*exact, *folded] for end in range(1, len(key) + 1)}
    first_words = {alias.parts[0] for alias in entries.values() if alias.words > 1}
    return _Gazetteer(
        states=states,
        whole_state=frozenset(whole_state),
        exact=exact,
        folded=folded,
        ambiguous=ambiguous,
        aliases={k: tuple(v) for k, v in aliases.items()},
        alias_words={k: tuple(v) for k, v in alias_words.items()},
        prefixes=frozenset(prefixes),
        first_words=frozenset(first_words),
        by_shape={k: tuple(v) for k, v in by_shape.items()},
        max_words=max(a.words for a in entries.values()),
        district_words=frozenset("".join(_key(w)) for w in raw.get("district_words") or []),
        street_words=frozenset("".join(_key(w)) for w in raw.get("street_words") or []),
        fillers=tuple(sorted({_key(p) for p in raw.get("filler_phrases") or []}, key=len,
                             reverse=True)),
        not_districts=frozenset("".join(_key(w)) for w in raw.get("not_districts") or []),
    )


@functools.cache
def _gazetteer() -> _Gazetteer:
    """The gazetteer, loaded once per process."""
    return _load()


def _exact(gaz: _Gazetteer, joined: str) -> Optional[str]:
    found = gaz.exact.get(joined)
    if found is None and len(joined) >= MIN_FOLD_LENGTH:
        found = gaz.folded.get(_fold(joined))
    return found


def _similarity(matcher: SequenceMatcher, alias: str, threshold: float) -> float:
    """ratio() of the matcher's query (seq2, indexed once) against `alias`, if ≥ threshold."""
    matcher.set_seq1(alias)
    # The quick upper bounds reject most candidates without the full comparison.
    if matcher.real_quick_ratio() < threshold or matcher.quick_ratio() < threshold:
        return 0.0
    return matcher.ratio()


@functools.lru_cache(maxsize=4096)
def _fuzzy(words: Tuple[str, ...], in_text: bool) -> Optional[str]:
    """The one district whose alias is clearly the closest to `words`, or None.

    Several words compare only with aliases of as many words, each word alike, so "lucknow me"
    is not taken for a misspelt "lucknow"; one word may be a run-together multi-word name.
    """
    gaz = _gazetteer()
    joined = "".join(words)
    key = _fold(joined)
    shortest = MIN_FUZZY_LENGTH_IN_TEXT if in_text else MIN_FUZZY_LENGTH
    if min(len(joined), len(key)) < shortest or joined in gaz.not_districts:
        return None
    if _DIGIT_RE.search(joined):
        return None
    if in_text:
        threshold = IN_TEXT_THRESHOLD
    else:
        threshold = LONG_WHOLE_STRING_THRESHOLD if len(key) >= LONG_KEY else WHOLE_STRING_THRESHOLD
    parts = tuple(_fold(w) for w in words)
    matcher = None
    mask = _char_mask(key)
    best: Dict[str, float] = {}
    lengths = range(len(key) - MAX_LENGTH_DIFFERENCE, len(key) + MAX_LENGTH_DIFFERENCE + 1)
    # One word may be a run-together name of any number of words; several compare like for like.
    count = 0 if len(words) == 1 else len(words)
    for alias in (a for n in lengths for a in gaz.by_shape.get((key[0], n, count), ())):
        if in_text and alias.ambiguous:
            continue
        # Cheap bound first: every letter one side has and the other lacks is unmatched.
        matched = min(len(alias.folded) - (alias.mask & ~mask).bit_count(),
                      len(key) - (mask & ~alias.mask).bit_count())
        if 2 * matched < threshold * (len(alias.folded) + len(key)):
            continue
        matcher = matcher or SequenceMatcher(None, "", key, autojunk=False)
        score = _similarity(matcher, alias.folded, threshold)
        if score < threshold or score <= best.get(alias.canonical, 0.0):
            continue
        if len(words) > 1 and min(map(_ratio, parts, alias.parts)) < WORD_THRESHOLD:
            continue
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
        found = _fuzzy(("".join(variant),), False)
        if found:
            return found
    return None


def find_district(text: str) -> Optional[Tuple[int, int, str]]:
    """The first district named in `text`: (start, end, canonical), offsets into `text`.

    At each word the longest exact alias wins ("Kanpur Dehat" over "Kanpur"); words that are
    also ordinary words ("basti") count only next to "district"/"जिला", and a name followed by
    "road"/"chowk" is a street. Failing an exact alias, a word of 6+ letters (or a run of 2-3
    words) may be a close misspelling.
    """
    gaz = _gazetteer()
    tokens = _tokens(text or "")
    norms = [token for _, _, token in tokens]
    for i in range(len(tokens)):
        found, n = _exact_at(gaz, norms, i)
        if not found:
            found, n = _fuzzy_at(gaz, norms, i)
        if found and not _street(norms, i + n, gaz):
            return tokens[i][0], tokens[i + n - 1][1], found
    return None


def _exact_at(gaz: _Gazetteer, norms: Sequence[str], i: int) -> Tuple[Optional[str], int]:
    """The longest exact alias starting at word i, and its length in words."""
    best: Tuple[Optional[str], int] = (None, 0)
    joined = ""
    for n in range(1, min(gaz.max_words, len(norms) - i) + 1):
        joined += norms[i + n - 1]
        if joined not in gaz.prefixes and _fold(joined) not in gaz.prefixes:
            break  # no alias starts like this: longer runs cannot match either
        found = _exact(gaz, joined)
        if found and (_fold(joined) not in gaz.ambiguous or _cued(norms, i, i + n, gaz)):
            best = (found, n)
    return best


def _fuzzy_at(gaz: _Gazetteer, norms: Sequence[str], i: int) -> Tuple[Optional[str], int]:
    """A close misspelling of an alias starting at word i: of one word, or of two or three
    words the first of which is right ("gautam budh nagr", not "bhai nagar")."""
    if _fold(norms[i]) in gaz.first_words:
        for n in range(min(3, len(norms) - i), 1, -1):
            span = norms[i:i + n]
            if min(len(w) for w in span) >= 3:  # "me", "ka" glued on are not part of a name
                found = _fuzzy(tuple(span), True)
                if found:
                    return found, n
    found = _fuzzy((norms[i],), True)
    return (found, 1) if found else (None, 0)


def _cued(norms: Sequence[str], start: int, end: int, gaz: _Gazetteer) -> bool:
    before = norms[start - 1] if start > 0 else ""
    after = norms[end] if end < len(norms) else ""
    return before in gaz.district_words or after in gaz.district_words


def _street(norms: Sequence[str], end: int, gaz: _Gazetteer) -> bool:
    """True when the name is part of a street or place ("Delhi Road", "Dehradun chowk")."""
    return end < len(norms) and norms[end] in gaz.street_words


def _ratio(a: str, b: str) -> float:
    return SequenceMatcher(None, a, b, autojunk=False).ratio()


@functools.lru_cache(maxsize=4096)
def _suggestion_keys(candidate: str) -> Tuple[Optional[str], Tuple[Tuple[str, float], ...]]:
    """A candidate's canonical name (if known) and the (folded key, weight) pairs to compare."""
    gaz = _gazetteer()
    own = "".join(_key(candidate))
    canonical = candidate if candidate in gaz.aliases else _exact(gaz, own)
    keys = [(key, 1.0) for key in gaz.aliases.get(canonical or "", ()) or (_fold(own),) if key]
    # One word of a multi-word name ("kanpr" for Kanpur Dehat) counts a little less.
    keys += [(word, WORD_WEIGHT) for word in gaz.alias_words.get(canonical or "", ())]
    return canonical, tuple(keys)


def closest_districts(name: str, candidates: Iterable[str], n: int = 3) -> List[str]:
    """Up to `n` of `candidates` nearest to `name` ("did you mean"), best first.

    Candidates known to the gazetteer are compared through all their aliases, so Devanagari
    input finds English names; unknown candidates are compared by their own spelling.
    """
    query = _fold("".join(_key(name or "")))
    if not query or n <= 0:
        return []
    resolved = resolve_district(name)
    matcher = SequenceMatcher(None, "", query, autojunk=False)
    scored = []
    for candidate in dict.fromkeys(candidates):
        canonical, keys = _suggestion_keys(candidate)
        score = 2.0 if canonical is not None and canonical == resolved else 0.0
        for key, weight in keys if not score else ():
            score = max(score, weight * _similarity(matcher, key, SUGGESTION_FLOOR / weight))
        if score >= SUGGESTION_FLOOR:
            scored.append((-score, candidate))
    return [candidate for _, candidate in sorted(scored)[:n]]


def all_districts() -> Dict[str, str]:
    """Every canonical district name → its state code ("Saharanpur" → "UP")."""
    return dict(_gazetteer().states)


def is_whole_state(name: str) -> bool:
    """True for names that stand for a whole state's figures ("Delhi"), not one district."""
    return name in _gazetteer().whole_state
