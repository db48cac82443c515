"""What a citizen wants changed when they read the complaint's summary.

"ward 41 hai, 14 nahi" → the ward, 41; "jagah galat likhi hai, sahi jagah station ke saamne hai"
→ the place, "station ke saamne"; "वार्ड गलत है" → the ward, to be asked again; "kuch galat hai"
→ something, to be chosen from a list. Anything that is not a correction gives None.
"""
import functools
import re
from dataclasses import dataclass
from typing import FrozenSet, Mapping, Optional, Pattern, Tuple

from civic.location import extract_location
from civic.numbers import find_numbers

CATEGORY, WARD, LOCATION, DESCRIPTION, PHOTO = "category", "ward", "location", "description", "photo"
FIELDS = (CATEGORY, WARD, LOCATION, DESCRIPTION, PHOTO)

_B = r"(?<![\w\u0900-\u097F])"  # word boundaries that also hold for Devanagari
_E = r"(?![\w\u0900-\u097F])"
_FIELD_WORDS = {
    WARD: r"wards?|vard|waard|वार्ड|वॉर्ड",
    LOCATION: r"jagah|jagha|jaga|jageh|place|location|address|addr|pata|sthan|sthaan|spot|"
              r"जगह|पता|स्थान|लोकेशन",
    DESCRIPTION: r"vivaran|vivran|description|details?|detail|varnan|विवरण|वर्णन|ब्योरा",
    PHOTO: r"photo|foto|pic|picture|image|tasveer|फोटो|फ़ोटो|तस्वीर",
    CATEGORY: r"vishay|vishai|category|subject|topic|type|prakar|विषय|श्रेणी|प्रकार",
}
_FIELD = {field: re.compile(f"{_B}(?:{words}){_E}", re.IGNORECASE) for field, words in _FIELD_WORDS.items()}
_WRONG = re.compile(
    f"{_B}(?:galat|galt|glat|ghalat|wrong|incorrect|mistake|badlo|badlna|badalna|badal\\s+do|"
    f"change|edit|sudhar|sudharo|correct\\s+(?:it|the|karo)|theek\\s+karo|thik\\s+karo|"
    f"sahi\\s+(?:nahi|nhi)|not\\s+right|गलत|ग़लत|बदलो|बदलना|बदल\\s+दो|सुधार|सही\\s+नहीं){_E}",
    re.IGNORECASE,
)
# "14 nahi" negates the number before it; "13 not 12" negates the one after ("not" there
# belongs to the next number).
_NEGATION = re.compile(f"^\\s*(?:nahi|nahin|nhi|nai|na|नहीं|नही|ना|(?:not|no)(?!\\s*\\d)){_E}",
                       re.IGNORECASE)
_NEGATION_BEFORE = re.compile(f"{_B}(?:not|no)\\s*$", re.IGNORECASE)  # Hindi negates after
# Where the new place starts: "sahi jagah (hai)", "it is", "should be", "असल में" …
_VALUE_MARKER = re.compile(
    f"{_B}(?:sahi|correct|right|asli|asal)\\s+(?:jagah|jagha|place|location|pata|address)"
    f"(?:\\s+(?:hai|he|h|is))?{_E}|{_B}(?:it\\s+is|it's|its|should\\s+be|instead|actually|"
    f"asal\\s+(?:me|mein)|balki|but|jagah\\s+(?:hai|he|h))(?:\\s+(?:at|is))?{_E}|"
    f"सही\\s+(?:जगह|पता)(?:\\s+है)?|असल\\s+में|बल्कि",
    re.IGNORECASE,
)
_TRAILING = re.compile(r"(?:\s+(?:hai|he|h|है|hain|हैं|please|pls|plz|kar\s+do|karo))+\s*[.!।]*$",
                       re.IGNORECASE)


@dataclass(frozen=True)
class Correction:
    """`field` is one of FIELDS, or None when the citizen only says something is wrong;
    `value` is the new value when the message gives one (ward digits, place text)."""

    field: Optional[str]
    value: Optional[str] = None


def ward_in_text(text: str) -> Optional[str]:
    """The one number the citizen does not negate: "41 hai, 14 nahi" → "41"."""
    kept = []
    for start, end, value in find_numbers(text):
        if _NEGATION.match(text[end:]) or _NEGATION_BEFORE.search(text[:start]):
            continue
        kept.append(value)
    return str(kept[0]) if len(kept) == 1 else None


def _place_value(text: str) -> Optional[str]:
    markers = list(_VALUE_MARKER.finditer(text))
    if markers:
        value = _TRAILING.sub("", text[markers[-1].end():]).strip(" ,.:;-!")
        if value:
            return value
    return extract_location(text)


def parse_correction(text: str) -> Optional[Correction]:
    """The correction in `text`, or None if it is not one."""
    if not text or text.startswith("/") or len(text) > 500:
        return None
    wrong = _WRONG.search(text) is not None
    negated_numbers = len(find_numbers(text)) >= 2 and ward_in_text(text) is not None
    named = [field for field in FIELDS if _FIELD[field].search(text)]
    if WARD in named or (not named and negated_numbers):
        value = ward_in_text(text)
        if value is not None or wrong:
            return Correction(WARD, value)
    if LOCATION in named:
        value = _place_value(text)
        if value is not None or wrong:
            return Correction(LOCATION, value)
    for field in (DESCRIPTION, PHOTO, CATEGORY):
        if field in named and wrong:
            return Correction(field)
    if wrong:
        return Correction(None)
    return None


# --- A change of mind: "nahi nahi, light nahi, asal me naali band hai" -----------------------
# The classifier counts words: the category the citizen takes back ("light nahi") weighs as
# much as the one they mean. The taken-back word is a category word followed by a negation
# that ends its clause, or "not (the)" before it; what follows names the real problem.
_NEG_AFTER = (r"(?:\s+(?:ki|ka|ke|wali|wala|वाली|वाला|की|का|के)\s+(?:baat|problem|shikayat|"
              r"बात|शिकायत))?\s+(?:nahi|nahin|nhi|nai|na|नहीं|नही|ना)(?:\s+(?:hai|he|h|है))?")
_CLAUSE_END = (r"(?=\s*(?:[,.;!?।]|$)|\s+(?:asal|actually|balki|bulki|darasal|but|sorry|"
               r"असल|बल्कि|दरअसल|माफ़|माफ)" + _E + ")")
_NEG_BEFORE = r"(?:not|no)\s+(?:the\s+|a\s+|about\s+the\s+)?"
_CUE = re.compile(f"{_B}(?:asal\\s+(?:me|mein|men)|actually|balki|bulki|darasal|instead|"
                  f"असल\\s+में|बल्कि|दरअसल){_E}", re.IGNORECASE)


@dataclass(frozen=True)
class ChangeOfMind:
    """The categories a message takes back and those it names after them (keys)."""

    taken_back: frozenset
    named: frozenset
    cue: bool  # "asal me", "actually", "balki" …: the rest is the real problem


@functools.lru_cache(maxsize=64)
def _naming(words: FrozenSet[str]) -> Tuple[Pattern[str], Pattern[str]]:
    """A category's words, optionally after "not (the)"; and the words alone."""
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return (re.compile(f"{_B}(?:{_NEG_BEFORE})?(?:{alternatives}){_E}", re.IGNORECASE),
            re.compile(f"{_B}(?:{alternatives}){_E}", re.IGNORECASE))


_NEGATED_AFTER = re.compile(_NEG_AFTER + _CLAUSE_END, re.IGNORECASE)
_NOT_BEFORE = re.compile(_NEG_BEFORE, re.IGNORECASE)


def change_of_mind(text: str, category_words: Mapping[str, FrozenSet[str]]) -> Optional[ChangeOfMind]:
    """`category_words`: category key → the words that name it (City.categories' `words`).
    None unless the message takes back a category and names another or says "actually"."""
    if not text or text.startswith("/") or len(text) > 500:
        return None
    taken, last_end = set(), -1
    for key, words in category_words.items():
        if not words:
            continue
        for match in _naming(frozenset(words))[0].finditer(text):
            after = _NEGATED_AFTER.match(text, match.end())
            if after or _NOT_BEFORE.match(match.group(0)):
                taken.add(key)
                last_end = max(last_end, after.end() if after else match.end())
    if not taken:
        return None
    rest = text[last_end:]
    named = set()
    for key, words in category_words.items():
        if key not in taken and words and _naming(frozenset(words))[1].search(rest):
            named.add(key)
    cue = _CUE.search(rest) is not None
    if not named and not cue:
        return None
    return ChangeOfMind(frozenset(taken), frozenset(named), cue)
