"""Rule-based entities with canonical values: ward, number, complaint_id, district.

Citizens write "ward no. 23", "वार्ड नंबर तेईस", "srn145" or "sharanpur"; the dialogue wants
"23", "SRN-000145" and "Saharanpur". The rules here do that conversion once, for the NLU
component (nlu_components/civic_entities.py) and for anything else that reads text.
"""
from __future__ import annotations

import re
from typing import Dict, List, Optional

from civic.numbers import find_numbers, parse_choice

ID_DIGITS = 6

# A letter of either script; a keyword must not sit inside a longer word.
_LETTER = r"[A-Za-z\u0900-\u0963\u0971-\u097F]"
_WARD = r"(?:wards?|vard|waard|wrd|wad|वार्ड|वॉर्ड|वाड|वर्ड)"
_NUMBER_WORD = (
    r"(?:number|numbr|nmbr|nambar|num|no|nr|nbr|sankhya|sankhiya|"
    r"नंबर|नम्बर|संख्या|सं|नं|न)"
)
_SEP = r"[\s\-.:#/]*"
# Keyword before the number: "ward 23", "ward no. 23", "wardno23", "w.no 23", "वार्ड सं. २३".
_WARD_BEFORE = re.compile(
    rf"(?<!{_LETTER})(?:{_WARD}{_SEP}(?:{_NUMBER_WORD}{_SEP})?|w{_SEP}no{_SEP})$",
    re.IGNORECASE,
)
# Keyword after the number: "23 number ward", "२३ नंबर वार्ड", "23 ward".
_WARD_AFTER = re.compile(
    rf"^{_SEP}(?:{_NUMBER_WORD}{_SEP})?{_WARD}(?!{_LETTER})", re.IGNORECASE
)
# Only a ward keyword between two numbers ("do ward 19", "2 ward no. 19").
_BETWEEN_TWO = re.compile(
    rf"^{_SEP}(?:{_NUMBER_WORD}{_SEP})?{_WARD}{_SEP}(?:{_NUMBER_WORD}{_SEP})?$", re.IGNORECASE
)
# How far from a number a ward keyword may stand ("ward number: 23" fits easily).
_WINDOW = 24

# Devanagari names of Latin letters, for a prefix said aloud: SRN -> एसआरएन.
_LETTER_NAMES = {
    "A": "ए", "B": "बी", "C": "सी", "D": "डी", "E": "ई", "F": "एफ", "G": "जी", "H": "एच",
    "I": "आई", "J": "जे", "K": "के", "L": "एल", "M": "एम", "N": "एन", "O": "ओ", "P": "पी",
    "Q": "क्यू", "R": "आर", "S": "एस", "T": "टी", "U": "यू", "V": "वी", "W": "डब्ल्यू",
    "X": "एक्स", "Y": "वाई", "Z": "जेड",
}
_TO_ASCII = str.maketrans("०१२३४५६७८९", "0123456789")


def _entity(name: str, value: str, start: int, end: int) -> Dict:
    return {"entity": name, "value": value, "start": start, "end": end}


def _complaint_id_pattern(prefix: str) -> re.Pattern[str]:
    latin = re.escape(prefix)
    spoken = r"[\s.]*".join(_LETTER_NAMES.get(c, re.escape(c)) for c in prefix.upper())
    return re.compile(
        rf"(?<!{_LETTER})(?:{latin}|{spoken})(?!{_LETTER})[\s\-–_/#.:]*"
        rf"(?:no\.?\s*)?(?P<digits>[0-9\u0966-\u096F]{{1,{ID_DIGITS}}})(?![0-9\u0966-\u096F])",
        re.IGNORECASE,
    )


def format_complaint_id(prefix: str, sequence: int) -> str:
    """The canonical complaint number: prefix, hyphen, six digits ("SRN-000145")."""
    return f"{prefix.upper()}-{sequence:0{ID_DIGITS}d}"


def find_complaint_ids(text: str, prefix: str) -> List[Dict]:
    """Complaint numbers in `text` ("SRN 145", "srn-000145", "एसआरएन 145")."""
    found = []
    for match in _complaint_id_pattern(prefix).finditer(text):
        sequence = int(match.group("digits").translate(_TO_ASCII))
        if sequence > 0:  # the sequence starts at 1: "SRN-0" is no complaint
            found.append(
                _entity("complaint_id", format_complaint_id(prefix, sequence), *match.span())
            )
    return found


# "status 21", "status of 21", "21 ka status", "२१ की स्थिति": a complaint asked about by its
# sequence number alone.
_STATUS_WORD = r"(?:status|stetus|satatus|sthiti|stithi|स्थिति|स्टेटस)"
# "2 ka kya hua", "१३ का क्या हुआ", "5 ka kya bana": what became of complaint 2
_WHAT_HAPPENED = r"(?:kya|kia|kyaa|क्या)\s*(?:hua|huwa|hoa|huaa|bana|हुआ|बना)"
_STATUS_NUMBER = re.compile(
    rf"(?<!{_LETTER}){_STATUS_WORD}\s*(?:of|ka|ki|का|की|no\.?|number|नंबर)?\s*#?\s*"
    rf"(?P<after>[0-9\u0966-\u096F]{{1,{ID_DIGITS}}})(?![0-9\u0966-\u096F])"
    rf"|(?<![0-9\u0966-\u096F])(?P<before>[0-9\u0966-\u096F]{{1,{ID_DIGITS}}})\s*"
    rf"(?:(?:ka|ki|का|की|wali|वाली)?\s*(?:shikayat\s+ka\s+|शिकायत\s+की\s+)?{_STATUS_WORD}"
    rf"|(?:ka|ki|का|की)\s+{_WHAT_HAPPENED})(?!{_LETTER})",
    re.IGNORECASE,
)


_OTHER_PREFIX = re.compile(r"(?<![A-Za-z])[A-Z]{2,5}[\s\-–_/#.:]*$")


def without_complaint_ids(text: str, prefix: str) -> str:
    """`text` with its complaint numbers blanked: their digits are no ward, and a caption's
    words are what is left ("SRN-000021 ye dekho band khamba" → " ye dekho band khamba")."""
    for entity in reversed(find_complaint_ids(text, prefix)):
        text = f"{text[:entity['start']]} {text[entity['end']:]}"
    return text


def find_status_numbers(text: str, prefix: str) -> List[Dict]:
    """Complaint numbers given as a bare sequence beside a status word ("status 21")."""
    found = []
    for match in _STATUS_NUMBER.finditer(text):
        group = "after" if match.group("after") else "before"
        before = text[max(0, match.start(group) - _WINDOW):match.start(group)]
        if _WARD_BEFORE.search(before):
            continue  # "ward 21 status" is about a ward
        if group == "before" and _OTHER_PREFIX.search(before):
            continue  # "MRT 12 ka status": another city's complaint number
        sequence = int(match.group(group).translate(_TO_ASCII))
        if sequence > 0:
            found.append(_entity("complaint_id", format_complaint_id(prefix, sequence), *match.span(group)))
    return found


# "complaint number 15", "शिकायत संख्या १३", "shikayat no. terah": a complaint asked about by
# its sequence number after the word for a complaint (digits of either script, or words).
_COMPLAINT_NUMBER = re.compile(
    rf"(?<!{_LETTER})(?:complaint|complain|complaints|shikayat|shikayet|shikaayat|sikayat|"
    rf"शिकायत|कंप्लेंट|कम्प्लेंट)(?:\s+(?:ka|ki|का|की))?{_SEP}{_NUMBER_WORD}(?!{_LETTER}){_SEP}$",
    re.IGNORECASE,
)


def find_complaint_numbers(text: str, prefix: str) -> List[Dict]:
    """Complaint numbers written after "complaint number" ("complaint number 15")."""
    found = []
    for start, end, value in find_numbers(text):
        if _COMPLAINT_NUMBER.search(text[max(0, start - 2 * _WINDOW):start]) and 0 < value < 10 ** ID_DIGITS:
            found.append(_entity("complaint_id", format_complaint_id(prefix, value), start, end))
    return found


def find_wards(text: str) -> List[Dict]:
    """Numbers with a ward keyword next to them ("ward no. 23", "23 number ward").

    Out-of-range numbers ("ward 500") are still returned: the form's validation tells the
    citizen the valid range instead of silently ignoring the number.
    """
    found = []
    numbers = list(find_numbers(text))
    for index, (start, end, value) in enumerate(numbers):
        before = text[max(0, start - _WINDOW) : start]
        after = text[end : end + _WINDOW]
        if _WARD_BEFORE.search(before):
            found.append(_entity("ward", str(value), start, end))
        elif _WARD_AFTER.match(after) and not (
                index + 1 < len(numbers) and _BETWEEN_TWO.match(text[end : numbers[index + 1][0]])):
            # (a keyword between two numbers is the second one's: "fogging krwa do ward 19"
            # is ward 19, and "do", give, is no ward two)
            found.append(_entity("ward", str(value), start, end))
    return found


def find_district_entity(text: str) -> Optional[Dict]:
    """The district named in `text`, canonical as in the COVID data, or None."""
    try:  # the gazetteer loads its data on first use; keep that off import time
        from civic.districts import find_district
    except ImportError:
        return None
    hit = find_district(text)
    return _entity("district", hit[2], hit[0], hit[1]) if hit else None


def extract_entities(text: str, prefix: str, max_ward: int) -> List[Dict]:
    """All entities in `text`: dicts with entity, value (canonical string), start, end.

    - complaint_id: "SRN-000145" for `prefix` "SRN"; more than six digits is not an ID.
    - ward: "23" when a ward keyword stands next to the number; any number is kept,
      even above `max_ward`, so validation can explain the range.
    - number: "23" when the whole message is one number or menu choice ("२३", "teis",
      "option 2", "2️⃣", "5 star").
    - district: via civic.districts.
    `max_ward` (the city's ward count) filters nothing: "ward 500" is still a ward entity,
    because the form's validation, not the extractor, tells the citizen the valid range.
    """
    if not text:
        return []
    entities: List[Dict] = []

    def add_if_free(entity: Dict) -> None:
        # Earlier, more specific rules win a span: "SRN 145" is an ID, not a number.
        if all(entity["end"] <= e["start"] or entity["start"] >= e["end"] for e in entities):
            entities.append(entity)

    for entity in find_complaint_ids(text, prefix) + find_status_numbers(text, prefix) \
            + find_complaint_numbers(text, prefix) + find_wards(text):
        add_if_free(entity)
    if not entities:
        choice = parse_choice(text)
        if choice is not None:
            entities.append(_entity("number", str(choice[2]), choice[0], choice[1]))
    district = find_district_entity(text)
    if district:
        add_if_free(district)
    return sorted(entities, key=lambda e: (e["start"], e["end"]))
