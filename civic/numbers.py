"""Numbers as citizens write them: 23, २३, तेईस, teis, twenty-three.

Hindi number words from 1 to 100 are irregular, so they are listed in full, in Devanagari
and in the usual romanised spellings. Romanised words are matched through
`normalize_token`, which also absorbs variants that are not listed (paanch/panch/paanchh);
Devanagari and English words are matched as written, less typing differences.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Dict, List, Optional, Tuple

from civic.transliterate import normalize_token

# n: Devanagari spellings, most common first.
HINDI_WORDS: Dict[int, Tuple[str, ...]] = {
    1: ("एक",), 2: ("दो",), 3: ("तीन",), 4: ("चार",), 5: ("पाँच", "पांच"),
    6: ("छह", "छः", "छे"), 7: ("सात",), 8: ("आठ",), 9: ("नौ",), 10: ("दस",),
    11: ("ग्यारह",), 12: ("बारह",), 13: ("तेरह",), 14: ("चौदह",), 15: ("पंद्रह", "पन्द्रह"),
    16: ("सोलह",), 17: ("सत्रह",), 18: ("अठारह", "अट्ठारह"), 19: ("उन्नीस",), 20: ("बीस",),
    21: ("इक्कीस",), 22: ("बाईस", "बाइस"), 23: ("तेईस", "तेइस"), 24: ("चौबीस",),
    25: ("पच्चीस",), 26: ("छब्बीस",), 27: ("सत्ताईस", "सत्ताइस"),
    28: ("अट्ठाईस", "अट्ठाइस", "अठाईस"),
    29: ("उनतीस", "उन्तीस"), 30: ("तीस",),
    31: ("इकतीस", "इकत्तीस"), 32: ("बत्तीस",), 33: ("तैंतीस", "तेंतीस", "तैतीस"),
    34: ("चौंतीस", "चौतीस"),
    35: ("पैंतीस", "पैतीस"), 36: ("छत्तीस",), 37: ("सैंतीस", "सैतीस"), 38: ("अड़तीस", "अढ़तीस"),
    39: ("उनतालीस", "उनचालीस", "उन्तालीस"), 40: ("चालीस",),
    41: ("इकतालीस",), 42: ("बयालीस", "बियालीस"), 43: ("तैंतालीस", "तेंतालीस", "तैतालीस"),
    44: ("चवालीस", "चौवालीस", "चव्वालीस"), 45: ("पैंतालीस", "पैतालीस"), 46: ("छियालीस", "छयालीस"),
    47: ("सैंतालीस", "सैतालीस"), 48: ("अड़तालीस",), 49: ("उनचास", "उनन्चास"), 50: ("पचास",),
    51: ("इक्यावन", "इकावन"), 52: ("बावन",), 53: ("तिरेपन", "तिरपन"), 54: ("चौवन", "चव्वन"),
    55: ("पचपन",), 56: ("छप्पन",), 57: ("सत्तावन",), 58: ("अट्ठावन", "अठावन"), 59: ("उनसठ",),
    60: ("साठ",),
    61: ("इकसठ",), 62: ("बासठ",), 63: ("तिरसठ", "तिरेसठ"), 64: ("चौंसठ", "चौसठ"),
    65: ("पैंसठ", "पैसठ"), 66: ("छियासठ",), 67: ("सड़सठ", "सरसठ"), 68: ("अड़सठ",),
    69: ("उनहत्तर",), 70: ("सत्तर",),
    71: ("इकहत्तर",), 72: ("बहत्तर",), 73: ("तिहत्तर",), 74: ("चौहत्तर",), 75: ("पचहत्तर",),
    76: ("छिहत्तर",), 77: ("सतहत्तर", "सत्तहत्तर"), 78: ("अठहत्तर", "अठत्तर"),
    79: ("उन्यासी", "उनासी", "उनअस्सी"), 80: ("अस्सी",),
    81: ("इक्यासी",), 82: ("बयासी", "बियासी"), 83: ("तिरासी",), 84: ("चौरासी",), 85: ("पचासी",),
    86: ("छियासी",), 87: ("सत्तासी",), 88: ("अट्ठासी", "अठासी"), 89: ("नवासी", "नब्बासी"),
    90: ("नब्बे",),
    91: ("इक्यानबे", "इक्यानवे"), 92: ("बानबे", "बानवे"), 93: ("तिरानबे", "तिरानवे"),
    94: ("चौरानबे", "चौरानवे"), 95: ("पंचानबे", "पचानबे", "पंचानवे", "पचानवे"),
    96: ("छियानबे", "छियानवे"), 97: ("सत्तानबे", "सत्तानवे"), 98: ("अट्ठानबे", "अट्ठानवे"),
    99: ("निन्यानबे", "निन्यानवे"), 100: ("सौ",),
}

# n: romanised (Hinglish) spellings. Normalisation absorbs aa/a, ee/i, oo/u and doubled
# letters, so only variants that differ otherwise are listed. "no" (9), "tera" (13),
# "chhai" (6) and "aat" (8) are left out on purpose: "no", "your", "tea" and "at".
HINGLISH_WORDS: Dict[int, Tuple[str, ...]] = {
    1: ("ek", "ik", "aek", "ekk"), 2: ("do", "doh"), 3: ("teen", "tin", "tiin"),
    4: ("char", "chaar"), 5: ("paanch", "panch", "paach", "pach", "paanc"),
    6: ("chhe", "chhah", "che", "chah", "chha", "cheh", "chhey"),
    7: ("saat", "sat"), 8: ("aath", "ath"), 9: ("nau", "nou", "nao", "naw"),
    10: ("das", "dus", "dass"),
    11: ("gyarah", "gyara", "gyaarah", "giyarah", "gyarh", "igyarah"),
    12: ("barah", "bara", "baarah", "barh"), 13: ("terah", "tehra", "terha"),
    14: ("chaudah", "chauda", "choudah", "chouda", "chodah", "choda"),
    15: ("pandrah", "pandra", "pundrah", "pandhra", "pandrha"), 16: ("solah", "sola", "solha"),
    17: ("satrah", "satra", "sattrah", "satraah"),
    18: ("atharah", "athara", "attharah", "atthara", "athrah", "atharh"),
    19: ("unnis", "unees", "unnees", "unis"), 20: ("bees", "bis"),
    21: ("ikkis", "ikkees", "ekkis", "ikis", "ikees"),
    22: ("bais", "baais", "baees", "baaees", "bayis", "baiis"),
    23: ("teis", "teyis", "teiss", "teees", "teyees", "taees", "tayees", "teies"),
    24: ("chaubis", "chaubees", "choubis", "choubees", "chobis", "chobees"),
    25: ("pachchis", "pachees", "pacchis", "pachis", "pachhis", "pachchees", "pacchees"),
    26: ("chhabbis", "chhabees", "chabbis", "chabees", "chhabis", "chabis"),
    27: ("sattais", "sattaees", "sataees", "sattayis", "satais", "sattaiis"),
    28: ("atthais", "athais", "atthaees", "athaees", "atthayis", "athaais"),
    29: ("untis", "untees", "unatis", "unnatis"), 30: ("tees", "tis"),
    31: ("iktis", "iktees", "ikattis", "ikatees", "ikkatis"),
    32: ("battis", "battees", "batis", "batees"),
    33: ("taintis", "taintees", "tentis", "tetis", "taitis", "tentees", "taitees"),
    34: ("chauntis", "chauntees", "chautis", "chountis", "chautees", "chontis"),
    35: ("paintis", "paintees", "paitis", "pentis", "paitees"),
    36: ("chhattis", "chattis", "chhattees", "chattees", "chatis"),
    37: ("saintis", "saintees", "saitis", "sentis", "saitees"),
    38: ("adtis", "adtees", "artees", "artis", "athtis", "adhtis"),
    39: ("untalis", "untalees", "unchalis", "unchalees", "untaalis"),
    40: ("chalis", "chalees", "chaalis", "chaalees"),
    41: ("iktalis", "iktalees", "iktaalis", "ikatalis"),
    42: ("bayalis", "bayalees", "biyalis", "biyalees", "bealis"),
    43: ("taintalis", "taintalees", "tentalis", "taitalis", "tetalis"),
    44: ("chavalis", "chawalis", "chauvalis", "chauwalis", "chawalees", "chavvalis", "chuwalis"),
    45: ("paintalis", "paintalees", "paitalis", "pentalis"),
    46: ("chhiyalis", "chiyalis", "chhiyalees", "chhayalis", "chiyalees"),
    47: ("saintalis", "saintalees", "saitalis", "sentalis"),
    48: ("adtalis", "adtalees", "artalis", "athtalis", "adtaalis"),
    49: ("unchas", "unchaas", "unachas", "unanchas"), 50: ("pachas", "pachaas"),
    51: ("ikyavan", "ikyawan", "ikkyavan", "ikavan", "ikyaavan", "ekyavan"),
    52: ("bavan", "bawan", "baavan", "baawan"), 53: ("tirepan", "tirpan", "trepan", "tripan"),
    54: ("chauvan", "chauwan", "chouvan", "chauan", "chowan"), 55: ("pachpan",),
    56: ("chhappan", "chappan", "chhapan"), 57: ("sattavan", "sattawan", "sattaavan", "satavan"),
    58: ("atthavan", "atthawan", "athavan", "athawan", "athaavan"),
    59: ("unsath", "unsadh", "unsat"), 60: ("saath", "sath", "saanth"),
    61: ("iksath", "ikasath"), 62: ("basath", "baasath", "baasth"),
    63: ("tirsath", "tiresath", "tirasath"), 64: ("chaunsath", "chausath", "chounsath", "chosath"),
    65: ("painsath", "paisath", "pensath"), 66: ("chhiyasath", "chiyasath", "chhiyaasath"),
    67: ("sadsath", "sarsath", "sadasath", "sarasath"), 68: ("adsath", "arsath", "athsath"),
    69: ("unhattar", "unhatar", "unahattar"), 70: ("sattar", "satar", "sattarr"),
    71: ("ikhattar", "ikahattar", "ikhatar", "ikattar"),
    72: ("bahattar", "bahatar", "behattar", "bhattar"),
    73: ("tihattar", "tihatar", "tehattar"), 74: ("chauhattar", "chohattar", "chouhattar"),
    75: ("pachhattar", "pachattar", "pachahattar", "pachhatar"),
    76: ("chhihattar", "chihattar", "chhiyattar"),
    77: ("sathattar", "satahattar", "sathatar", "sattattar", "sattahattar"),
    78: ("athhattar", "athattar", "athahattar", "athatar"),
    79: ("unyasi", "unasi", "unnasi", "unaasi", "unyaasi"), 80: ("assi", "asi", "assee"),
    81: ("ikyasi", "ikkyasi", "ikyaasi", "ikyasee"), 82: ("bayasi", "biyasi", "bayaasi"),
    83: ("tirasi", "tiraasi", "tirasee"), 84: ("chaurasi", "chourasi", "chaurasee", "chorasi"),
    85: ("pachasi", "pachaasi", "pachasee"), 86: ("chhiyasi", "chiyasi", "chhiyaasi"),
    87: ("sattasi", "sattaasi", "satasi"), 88: ("atthasi", "athasi", "atthaasi"),
    89: ("navasi", "nawasi", "navaasi", "nawaasi"), 90: ("nabbe", "nabe", "nabbey"),
    91: ("ikyanve", "ikyanave", "ikyanbe", "ikyaanve", "ikyanabe"),
    92: ("banve", "baanve", "banave", "banbe", "baanbe"),
    93: ("tiranve", "tiranave", "tiranbe", "tiraanve"),
    94: ("chauranve", "chauranave", "chouranve", "chauranbe"),
    95: ("pachanve", "pachanave", "panchanve", "panchanbe", "pachanbe", "panchaanve"),
    96: ("chhiyanve", "chhiyanave", "chiyanve", "chhiyanbe"),
    97: ("sattanve", "sattanave", "sattanbe", "sattaanve"),
    98: ("atthanve", "atthanave", "athanve", "atthanbe"),
    99: ("ninyanve", "ninyanave", "ninyanbe", "ninyaanve", "ninnyanve"),
    100: ("sau",),
}

ENGLISH_UNITS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19,
}
ENGLISH_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90,
}


def devanagari_key(word: str) -> str:
    """Devanagari spelling with only typing differences removed (पाँच = पांच, अडतीस = अड़तीस).

    Devanagari is matched nearly exactly: through `normalize_token` साथ ("with") would
    meet साठ (60).
    """
    word = unicodedata.normalize("NFC", word).replace("\u0901", "\u0902")
    return re.sub("[\u093c\u200c\u200d]", "", word)


def _latin_key(word: str) -> str:
    return normalize_token(word.lower())


def _build_table(source: Dict[int, Tuple[str, ...]], key) -> Dict[str, int]:
    table: Dict[str, int] = {}
    for value, spellings in source.items():
        for spelling in spellings:
            k = key(spelling)
            if table.get(k, value) != value:
                raise ValueError(f"number word {spelling!r} is both {table[k]} and {value}")
            table[k] = value
    return table


HINDI_VALUES = _build_table(HINDI_WORDS, devanagari_key)
HINGLISH_VALUES = _build_table(HINGLISH_WORDS, _latin_key)
# English words are matched as written (lowercase): normalised, "ten" would become "te".
ENGLISH_VALUES = {**ENGLISH_UNITS, **ENGLISH_TENS, "hundred": 100}
_ONE_WORDS = {"one", "ek", "एक"}
_HUNDRED_WORDS = {"hundred", "sau", "सौ"}

# A word: Latin letters, or Devanagari letters with their signs (digits and danda excluded).
_WORD = r"[A-Za-z\u0900-\u0963\u0971-\u097F\u200c\u200d]+"
_DIGITS = r"[0-9\u0966-\u096F]+"
_TOKEN = re.compile(rf"(?P<digits>{_DIGITS})|(?P<word>{_WORD})")
# Longer digit runs are phone or account numbers, never a number a citizen means here.
MAX_DIGITS = 12
_TO_ASCII = str.maketrans("०१२३४५६७८९", "0123456789")

Span = Tuple[int, int, int]


def word_value(word: str) -> Optional[int]:
    """The value of one number word in any of the three languages, else None."""
    if not word.isascii():
        return HINDI_VALUES.get(devanagari_key(word))
    lower = word.lower()
    if lower in ENGLISH_VALUES:
        return ENGLISH_VALUES[lower]
    return HINGLISH_VALUES.get(_latin_key(lower))


def find_numbers(text: str) -> List[Span]:
    """Every number in `text` as (start, end, value), in order.

    Digit runs (ASCII or Devanagari, also inside words such as "ward23"), Hindi and
    Hinglish number words, English words including "twenty three" / "twenty-three" and
    "one hundred" / "ek sau".
    """
    tokens = [
        (m.start(), m.end(), m.lastgroup, m.group()) for m in _TOKEN.finditer(text or "")
    ]
    found: List[Span] = []
    i = 0
    while i < len(tokens):
        start, end, kind, token = tokens[i]
        i += 1
        if kind == "digits":
            if len(token) <= MAX_DIGITS:
                found.append((start, end, int(token.translate(_TO_ASCII))))
            continue
        lower = token.lower()
        nxt = tokens[i] if i < len(tokens) else None
        # the next word when only spaces or a hyphen come between, else None
        joined = (
            nxt
            if nxt is not None
            and nxt[2] == "word"
            and re.fullmatch(r"[\s-]*", text[end : nxt[0]]) is not None
            else None
        )
        # "twenty three", "twenty-three"
        if joined and lower in ENGLISH_TENS:
            unit = ENGLISH_UNITS.get(joined[3].lower(), 0)
            if 1 <= unit <= 9:
                found.append((start, joined[1], ENGLISH_TENS[lower] + unit))
                i += 1
                continue
        # "one hundred", "ek sau", "एक सौ"
        if joined and lower in _ONE_WORDS and joined[3].lower() in _HUNDRED_WORDS:
            found.append((start, joined[1], 100))
            i += 1
            continue
        value = word_value(token)
        if value is not None:
            found.append((start, end, value))
    return found


_KEYCAP = re.compile("([0-9])\ufe0f?\u20e3")
_STARS = re.compile(r"[\u2b50\U0001F31F]+")
_CHOICE_PREFIX = re.compile(
    r"^(?:option|opt|choice|number|num|no|nr|nbr|nambar|vikalp|विकल्प|नंबर|नम्बर|ऑप्शन)"
    r"\s*[.:#-]?\s*",
    re.IGNORECASE,
)
_CHOICE_SUFFIX = re.compile(r"\s*(?:stars?|स्टार|तारे)$", re.IGNORECASE)
# A choice is a short message; longer text is a sentence, whatever numbers it holds.
MAX_CHOICE_LENGTH = 40


def parse_number(text: str) -> Optional[int]:
    """The number when the whole text is one number ("23", "२३", "teis", "twenty-three")."""
    if not text:
        return None
    found = find_numbers(text)
    if len(found) != 1:
        return None
    start, end, value = found[0]
    rest = text[:start] + text[end:]
    return value if re.fullmatch(r"[\s.,!?।:#()\-]*", rest) else None


def parse_choice(text: str) -> Optional[Tuple[int, int, int]]:
    """(start, end, value) when the whole message is one choice, else None.

    Accepts "2", "२", "do", "two", "option 2", "2.", "(2)", "2️⃣", "5 star", "⭐⭐⭐".
    """
    if not text or len(text) > MAX_CHOICE_LENGTH or not text.strip():
        return None
    stripped = text.strip()
    offset = len(text) - len(text.lstrip())
    stars = _STARS.fullmatch(stripped)
    if stars:
        return offset, offset + len(stripped), len(stripped)
    keycap = _KEYCAP.fullmatch(stripped)
    if keycap:
        return offset, offset + len(stripped), int(keycap.group(1))
    if stripped == "\U0001F51F":  # keycap ten
        return offset, offset + len(stripped), 10
    body = stripped
    prefix = _CHOICE_PREFIX.match(body)
    if prefix and prefix.end() < len(body):
        offset += prefix.end()
        body = body[prefix.end() :]
    body = _CHOICE_SUFFIX.sub("", body)
    value = parse_number(body)
    if value is None:
        return None
    start, end, _ = find_numbers(body)[0]
    return offset + start, offset + end, value


def parse_menu_choice(text: str, max_choice: int) -> Optional[int]:
    """The chosen option 1..max_choice when the message is just a choice, else None."""
    choice = parse_choice(text)
    if choice is None or not 1 <= choice[2] <= max_choice:
        return None
    return choice[2]


# "i'd give 4 stars, took 2 days tho", "5/5", "4 out of 5", "rating 3", "चार स्टार", "⭐⭐⭐⭐":
# a rating inside a sentence (a whole-message choice is parse_choice's)
_RATING = re.compile(
    rf"(?P<value>{_DIGITS}|{_WORD})\s*(?:stars?|star\b|sitare|sitara|स्टार|तारे|सितारे|/\s*5\b|"
    rf"out\s+of\s+(?:5|five)\b)|"
    rf"(?:5|५|paanch|panch|pach|पाँच|पांच|five)\s*(?:में|me|mein|mai)\s+(?:se|से)\s*(?P<of>{_DIGITS}|{_WORD})|"
    rf"(?:rating|rate|ratings|रेटिंग)(?:\s*(?:is|:|=|-|of|hai|h|है|दूँगा|दूंगा|dunga|dungi|dena|deni|do|दो|देना|देनी|"
    rf"it\s+as|it|this|as)(?![a-z]))*\s*[:=-]?\s*(?P<after>{_DIGITS}|{_WORD})|"
    rf"(?P<marks>{_DIGITS}|{_WORD})\s+(?:number|nambar|no|नंबर|marks|ank|अंक)\s+(?:dunga|dungi|dungaa|denge|दूंगा|दूँगा|दूंगी|देंगे)",
    re.IGNORECASE)
_STAR_RUN = re.compile(r"(?:[\u2b50\U0001F31F]\ufe0f?){1,5}")
# "5 - finally someone came, thanks": a lone 1-5 opening the message, then a dash or a stop
_LEADING_RATING = re.compile(r"^\s*([1-5१-५])\s*(?:/\s*5)?\s*[-–—:,.)!]+\s*\S")


def rating_in_words(text: str) -> Optional[int]:
    """The 1-5 rating a sentence gives ("i'd give 4 stars, took 2 days tho" → 4), or None when it
    gives none or several different ones."""
    values = set()
    for match in _RATING.finditer(text or ""):
        word = match.group("value") or match.group("after") or match.group("of") or match.group("marks")
        value = int(word.translate(_TO_ASCII)) if word[0].isdigit() or word[0] in "०१२३४५६७८९" \
            else word_value(word)
        if value is not None and 1 <= value <= 5:
            values.add(value)
    for run in _STAR_RUN.finditer(text or ""):
        values.add(len(run.group(0).replace("\ufe0f", "")))
    leading = _LEADING_RATING.match(text or "")
    if leading:
        values.add(int(leading.group(1).translate(_TO_ASCII)))
    return values.pop() if len(values) == 1 else None
