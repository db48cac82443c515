"""What a citizen wants changed when they read the complaint's summary.

"ward 41 hai, 14 nahi" → the ward, 41; "jagah galat likhi hai, sahi jagah station ke saamne hai"
→ the place, "station ke saamne"; "description: ..." / "विवरण भी बदलो: ..." → the description
given; "category should be garbage" → the category, sanitation; "वार्ड गलत है" → the ward, to be
asked again; "kuch galat hai" → something, to be chosen from a list. Anything that is not a
correction gives None.

Also here, because they are read the same way: a complaint that comes back ("abhi bhi kuda
pada hai, dubara dekho": `says_still`) and giving up on the form ("chodo yr": `gives_up`).
"""
import functools
import re
from dataclasses import dataclass
from typing import Dict, FrozenSet, Iterable, Mapping, Optional, Pattern, Set, Tuple

from civic.location import extract_location
from civic.numbers import find_numbers, rating_in_words

CATEGORY, WARD, LOCATION, DESCRIPTION, PHOTO = "category", "ward", "location", "description", "photo"
FIELDS = (CATEGORY, WARD, LOCATION, DESCRIPTION, PHOTO)

_B = r"(?<![\w\u0900-\u097F])"  # word boundaries that also hold for Devanagari
_E = r"(?![\w\u0900-\u097F])"
_FIELD_WORDS = {
    WARD: r"wards?|vard|waard|वार्ड|वॉर्ड",
    LOCATION: r"jagah|jagha|jaga|jageh|jgh|jgah|jagh|place|location|address|addr|pata|sthan|sthaan|spot|"
              r"जगह|पता|स्थान|लोकेशन",
    DESCRIPTION: r"vivaran|vivran|description|details?|detail|varnan|विवरण|वर्णन|ब्योरा",
    PHOTO: r"photo|foto|pic|picture|image|tasveer|फोटो|फ़ोटो|तस्वीर",
    CATEGORY: r"vishay|vishai|category|subject|topic|type|prakar|विषय|श्रेणी|प्रकार",
}
_FIELD = {field: re.compile(f"{_B}(?:{words}){_E}", re.IGNORECASE) for field, words in _FIELD_WORDS.items()}
_WRONG_WORDS = (r"galat|galt|glt|glat|ghalat|wrong|incorrect|mistake|badlo|badlna|badalna|badal\s+do|"
                r"adhuri|adhura|adhoori|adhoora|incomplete|अधूरी|अधूरा|galti|glti|galati|गलती|ग़लती|"
                r"change|edit|sudhar|sudharo|correct\s+(?:it|the|karo)|theek\s+karo|thik\s+karo|"
                r"sahi\s+(?:nahi|nhi)|not\s+right|गलत|ग़लत|बदलो|बदलना|बदल\s+दो|सुधार|सही\s+नहीं")
_WRONG = re.compile(f"{_B}(?:{_WRONG_WORDS}){_E}", re.IGNORECASE)
WRONG = _WRONG  # "galat", "wrong", "गलत" …: the citizen says something is wrong
SHOULD_BE = re.compile(f"{_B}(?:should\\s+be|hona\\s+chahiye|होना\\s+चाहिए|"
                       f"(?:put|file|register|move|change|make)\\s+(?:it|this)\\s+(?:under|as|in|into|to|a)|"
                       f"make\\s+it){_E}", re.IGNORECASE)
# "14 nahi" negates the number before it; "13 not 12" negates the one after ("not" there
# belongs to the next number).
# "14 nahi", "5 galat likha", "33 is wrong": the number before is the wrong one
_NEGATION = re.compile(f"^\\s*(?:nahi|nahin|nhi|nai|na|नहीं|नही|ना|(?:not|no)(?!\\s*\\d)|"
                       f"galat|galt|glt|galati|galti|glti|गलत|ग़लत|गलती|ग़लती|(?:is|was)\\s+wrong){_E}",
                       re.IGNORECASE)
# "not 7", "galti se 33 likh diya", "गलती से 33 लिखा" (the lead's simulator run): the number after
_NEGATION_BEFORE = re.compile(f"{_B}(?:not|no|(?:galti|glti|galati|गलती|ग़लती)\\s+(?:se|से)|galat|गलत)\\s*$",
                              re.IGNORECASE)
# Where the new place starts: "sahi jagah (hai)", "it is", "should be", "असल में" …
_VALUE_MARKER = re.compile(
    f"{_B}(?:sahi|correct|right|asli|asal)\\s+(?:jagah|jagha|place|location|pata|address)"
    f"(?:\\s+(?:hai|he|h|is))?{_E}|{_B}(?:it\\s+is|it's|its|should\\s+be|instead|actually|"
    f"asal\\s+(?:me|mein)|balki|but|jagah\\s+(?:hai|he|h))(?:\\s+(?:at|is))?{_E}|"
    f"सही\\s+(?:जगह|पता)(?:\\s+है)?|असल\\s+में|बल्कि|"
    # "the place is X", "jgh glt h, X", "place is wrong: X": the value follows
    f"{_B}(?:place|location|address)\\s+is{_E}|"
    f"{_B}(?:{_WRONG_WORDS})(?:\\s+(?:likha|likhi|likhe|hai|he|h|है|hain|is|लिखा|लिखी|लिखे|हो\\s+गई|हो\\s+गया))*\\s*[,:;–-]",
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
    added: bool = False  # "जगह में गली नंबर 3 भी लिख दो": the value goes with what is there


# "जगह में <X> लिख दो", "jagah me <X> bhi likh do", "add <X> to the place": X is to be added
_WRITE_IN = re.compile(
    r"\s*(?:me|mein|men|m|में)\s+(?P<value>.+?)\s+(?:bhi\s+|भी\s+)?"
    r"(?:likh\s*do|likh\s*de|likho|likhiye|daal\s*do|dal\s*do|jod\s*do|jodo|add\s+kar\s*do|add\s+karo|"
    r"लिख\s*दो|लिख\s*दें|लिखो|लिखिए|लिख\s*दीजिए|डाल\s*दो|जोड़\s*दो|जोड़ो)\s*[.!।]*\s*$",
    re.IGNORECASE)


def ward_in_text(text: str) -> Optional[str]:
    """The one number the citizen does not negate: "41 hai, 14 nahi" → "41"."""
    kept = []
    for start, end, value in find_numbers(text):
        if _NEGATION.match(text[end:]) or _NEGATION_BEFORE.search(text[:start]):
            continue
        kept.append(value)
    return str(kept[0]) if len(kept) == 1 else None


_COLON = re.compile(r"[:：]\s*")
_DASH = re.compile(r"\s*[-–—]+\s+")
MAX_BEFORE_DASH = 25  # characters between a field's name and the dash that gives its value
_FILLER = frozenset("""the a an it is its it's about of should be this that complaint shikayat ki ka ke
    hai he h ye yeh wo vo hona chahiye chahie not but and also bhi category subject vishay type
    please pls plz kindly one wala wali under as in kar karo do कर करो दो वाली वाला
    की का के है यह ये शिकायत होना चाहिए भी विषय श्रेणी""".split())
_WORD = re.compile(r"(?:[^\W\d_]|[\u0900-\u097F])(?:[\w\u0900-\u097F])*")  # matras are not \w


def _given_after(text: str, field_end: int) -> Optional[str]:
    """ "description: <text>", "विवरण भी बदलो: <text>": what follows the colon after the
    field's name."""
    colon = _COLON.search(text, field_end)
    if colon is None:  # "विवरण ऐसे लिखो - <text>", "description - <text>": a dash close after the name
        colon = _DASH.search(text, field_end, field_end + MAX_BEFORE_DASH)
    if colon is None:
        return None
    value = text[colon.end():].strip(" ,.;-!")
    return value or None


# "jagah me likho bus adda k piche" (the verb first; round 5, 38)
_WRITE_IN_FIRST = re.compile(
    r"\s*(?:me|mein|men|m|में)\s+(?:bhi\s+|भी\s+)?(?:likho|likh\s*do|likhiye|daal\s*do|jodo|jod\s*do|"
    r"लिखो|लिख\s*दो|लिखिए|जोड़ो|जोड़\s*दो)[\s,:-]+(?P<value>.+?)\s*[.!।]*\s*$", re.IGNORECASE)


def _added_place(text: str) -> Optional[str]:
    """ "जगह में गली नंबर 3, शिव मंदिर के पास लिख दो" → "गली नंबर 3, शिव मंदिर के पास"."""
    field = _FIELD[LOCATION].search(text)
    written = (_WRITE_IN.match(text, field.end()) or _WRITE_IN_FIRST.match(text, field.end())) if field else None
    value = written.group("value").strip(" ,.:;-") if written else ""
    return re.sub(r"\s+(?:bhi|भी)$", "", value) or None


def _place_value(text: str) -> Optional[str]:
    field = _FIELD[LOCATION].search(text)
    given = _given_after(text, field.end()) if field else None
    if given:
        return given
    markers = list(_VALUE_MARKER.finditer(text))
    if markers:
        value = _TRAILING.sub("", text[markers[-1].end():]).strip(" ,.:;-!")
        value = re.sub(f"^(?:{_WRONG_WORDS}){_E}", "", value, flags=re.IGNORECASE).strip(" ,.:;-!")
        if value and not _FIELD[LOCATION].fullmatch(value):
            return value
    return extract_location(text)


def _description_value(text: str) -> Optional[str]:
    field = _FIELD[DESCRIPTION].search(text)
    if field is None:
        return None
    given = _given_after(text, field.end())
    if given:
        return given
    wrong = re.compile(f"{_B}(?:{_WRONG_WORDS})(?:\\s+(?:hai|he|h|है|hain|is|likha|likhi|लिखा|लिखी))*\\s*[.,:;!–-]+\\s*",
                       re.IGNORECASE).search(text, field.end())
    if wrong and len(text[wrong.end():].split()) >= 2:
        return text[wrong.end():].strip(" ,.:;-!\"'")  # "description is wrong. <new text>" (round 4, 30)
    marker = re.compile(f"{_B}(?:should\\s+be|is|hona\\s+chahiye|ye\\s+hai|यह\\s+है|होना\\s+चाहिए){_E}",
                        re.IGNORECASE).search(text, field.end())
    if marker:
        value = _TRAILING.sub("", text[marker.end():]).strip(" ,.:;-!\"'")
        if len(value.split()) >= 2 and not _WRONG.match(value):
            return value
    return None


def _clauses(text: str):
    return [c for c in re.split(r"[,.;!?।]+|\s+(?:not|nahi|nahin|nhi|नहीं)\s+(?=\S)", text) if c.strip()]


NEGATED_SPAN = 3  # a negation takes back a category word up to this many words before it


def categories_named(text: str, category_words: Mapping[str, FrozenSet[str]],
                     exclude: Optional[str] = None) -> Set[str]:
    """The categories a correction names, leaving out those only named in a clause that
    takes them back ("यह पाइप लीकेज की शिकायत है, पीने का पानी नहीं" → leakage)."""
    named: Set[str] = set()
    negation = {"nahi", "nahin", "nhi", "ni", "na", "नहीं", "नही", "ना"}  # after what it negates
    for clause in re.split(r"[,.;!?।]+", text):
        words = [w.casefold() for w in _WORD.findall(clause)]
        # a negation takes back the words just before it ("kude ki nhi") or, "not", just after
        # it; the other words of its clause still name ("ye sewer ki complaint h kude ki nhi")
        kept = {w for i, w in enumerate(words)
                if not any(n in negation for n in words[i + 1:i + 1 + NEGATED_SPAN])
                and not (i and words[i - 1] in ("not", "no"))}
        for key, category in category_words.items():
            if key != exclude and kept & {w.casefold() for w in category}:
                named.add(key)
    return named


def _category_value(text: str, start: int, category_words: Mapping[str, FrozenSet[str]],
                    exclude: Optional[str], whole: bool) -> Optional[str]:
    """The one category the text after `start` names; with `whole`, only when every word
    there is a word of that category ("it should be Road / construction")."""
    rest = text[start:]
    named = categories_named(rest, category_words, exclude)
    if len(named) > 1 and not whole:
        # "ye sadak wala h kyunki sadak bhi toot gyi h pani se": the one named first (round 4, 38)
        at = first_mentions(rest, named, category_words)
        first = min(at.values())
        named = {key for key, i in at.items() if i == first}
    if len(named) != 1:
        return None
    key = next(iter(named))
    if whole:
        words = {w.casefold() for w in _WORD.findall(rest)} - _FILLER
        if not words or not words <= {w.casefold() for w in category_words[key]}:
            return None
    return key


def parse_correction(text: str, category_words: Optional[Mapping[str, FrozenSet[str]]] = None,
                     current_category: Optional[str] = None) -> Optional[Correction]:
    """The correction in `text`, or None if it is not one. With the city's `category_words`
    a category correction carries the category named (other than `current_category`)."""
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
        added = _added_place(text)
        if added:
            return Correction(LOCATION, added, added=True)
        value = _place_value(text)
        if value is not None or wrong:
            return Correction(LOCATION, value)
    if DESCRIPTION in named:
        value = _description_value(text)
        if value is not None or wrong:
            return Correction(DESCRIPTION, value)
    if CATEGORY in named and category_words:
        named_at = _FIELD[CATEGORY].search(text)
        value = _category_value(text, named_at.end() if named_at else 0, category_words, current_category,
                                whole=False)
        if value is not None or wrong:
            return Correction(CATEGORY, value)
    for field in (PHOTO, CATEGORY):
        if field in named and wrong:
            return Correction(field)
    if not named and category_words:
        should = SHOULD_BE.search(text)
        if should:  # "it should be Road / construction"
            value = _category_value(text, should.end(), category_words, current_category, whole=True)
            if value is not None:
                return Correction(CATEGORY, value)
    if wrong:
        return Correction(None)
    return None


_NEXT_FIELD = re.compile(
    f"[.;।!?]+\\s*|,?\\s+(?:and|aur|or|और|तथा)\\s+(?=(?:the\\s+|also\\s+|bhi\\s+)?(?:{'|'.join(_FIELD_WORDS.values())}){_E})",
    re.IGNORECASE)


def parse_corrections(text: str, category_words: Optional[Mapping[str, FrozenSet[str]]] = None,
                      current_category: Optional[str] = None) -> Tuple[Correction, ...]:
    """Every field a message corrects, each with its value: "oops sorry its ward 15 not 5. and
    the place is Mission Compound road near the church" → the ward, 15, and the place. One
    correction (or none) is parse_correction's."""
    parts = [part for part in _NEXT_FIELD.split(text or "") if part and part.strip()]
    found = [parse_correction(part, category_words, current_category) for part in parts] if len(parts) > 1 else []
    given = [c for c in found if c is not None and c.field is not None]
    if len(given) >= 2 and len({c.field for c in given}) == len(given) and any(c.value for c in given):
        # (a field named without its value is asked again: "ward glti se 14 likh diya, 41 h mera
        # ward. aur jagah bhi change kro - <place>" keeps the place; round 5, 05)
        return tuple(given)
    single = parse_correction(text, category_words, current_category)
    return (single,) if single is not None else ()


# --- A complaint that comes back, and giving up ----------------------------------------------
_STILL = re.compile(
    f"{_B}(?:still|again|once\\s+more|not\\s+(?:been\\s+)?fixed|abhi\\s+bhi|abhi\\s+tak|ab\\s+bhi|abhi\\s+v|"
    f"abhi\\s+b|ab\\s+b|ab\\s+v|(?:thik|theek|thk)\\s+(?:ni|nahi|nhi|nai)\\s+(?:hua|hui|huya)|"
    f"ab\\s+tak|phir\\s+se|fir\\s+se|firse|phirse|dubara|dobara|dubaara|dobaara|"
    f"(?:jali|jala|aaya|aya|aayi|ayi|hua|hui|utha|uthaya|bani|bana)\\s+hi\\s+(?:nahi|nhi|nahin|na)|"
    f"अभी\\s+भी|अब\\s+भी|अभी\\s+तक|फिर\\s+से|दोबारा|दुबारा|"
    f"(?:जली|जला|आया|आई|हुआ|हुई|उठा|बनी|बना)\\s+ही\\s+नहीं){_E}",
    re.IGNORECASE,
)


def says_still(text: str) -> bool:
    """ "abhi bhi kuda pda h wha, dubara dekho", "It is still not clean", "light jali hi nhi":
    the problem is (still, again) there: perhaps a complaint marked resolved."""
    return bool(text) and not text.startswith("/") and _STILL.search(text) is not None


def rating_given(text: str) -> Optional[int]:
    """The 1-5 rating a message gives (`civic.numbers.rating_in_words`), unless it says the
    problem is still there: "the light is still not working, I'd give them 1 star" asks for the
    reopening, not for a rating (found in the lead's simulator run)."""
    return None if says_still(text) else rating_in_words(text)


# "arre, chodo yr": a give-up with what may stand before and after it
_GIVE_UP_BEFORE = (r"^\s*(?:(?:arre?|arey|ok|okay|acha|achha|accha|bas|chalo|nahi|nhi|no|अरे|बस|चलो|नहीं|अच्छा|"
                   r"ठीक\s+है)[\s,]+)?")
_GIVE_UP_WORDS = (
    r"(?:chodo|chhodo|chhoddo|chod\s+do|chhod\s+do|chod\s+de|chhod\s+de|chodiye|chhodiye|"
    r"rehne\s+do|rahne\s+do|rehne\s+de|rahne\s+de|rehnedo|jane\s+do|jaane\s+do|jaane\s+de|jane\s+de|"
    r"छोड़ो|छोड़ दो|छोडो|छोड़िए|रहने\s+दो|रहने\s+दीजिए|जाने\s+दो|जाने\s+दीजिए|"
    r"forget\s+it|leave\s+it|never\s*mind)")
_GIVE_UP_AFTER = (r"(?:[\s,]+(?:yr|yaar|yar|yaara|bhai|bhaiya|ji|na|bas|abhi|ab|please|pls|man|phir|fir|to|"
                  r"यार|भाई|जी|ना|बस|अभी|फिर|तो))*")
_GIVE_UP = re.compile(_GIVE_UP_BEFORE + _GIVE_UP_WORDS + _GIVE_UP_AFTER + r"[\s.!।🙏]*$", re.IGNORECASE)
# the same opening a longer message: "छोड़ो यार, बाद में देखेंगे, अभी दुकान खोलनी है" (round 5, 21)
_GIVE_UP_FIRST = re.compile(_GIVE_UP_BEFORE + _GIVE_UP_WORDS + _GIVE_UP_AFTER + r"\s*[,.!।]", re.IGNORECASE)


# "cancel kro", "cancel it", "रद्द कर दो", "I don't want to register anything", "stop asking my ward":
# the citizen wants the form to stop, whatever else the message says (round 5, 16, 17)
_CANCEL = re.compile(
    f"{_B}(?:cancel\\s*(?:kro|karo|kar\\s*do|kardo|kr\\s*do|krdo|it|this|the\\s+complaint|kijiye|karein)|"
    f"(?:radd|rad)\\s*(?:kro|karo|kar\\s*do|kardo)|रद्द\\s*(?:करो|कर\\s*दो|कर\\s*दीजिए|करें)|"
    f"(?:don'?t|do\\s+not|dont)\\s+(?:want\\s+to\\s+)?(?:register|complain|file)|"
    f"(?:shikayat|complaint)\\s+(?:nahi|nhi|ni|mat)\\s+(?:karni|krni|karna|krna|likho|darj)|"
    f"शिकायत\\s+(?:नहीं|मत)\\s+(?:करनी|करना|लिखो|दर्ज)|stop\\s+asking|मैंने\\s+कहा\\s+छोड़ो|maine\\s+kaha\\s+chodo|"
    f"(?:abhi|अभी)\\s+(?:rehne|rahne|रहने)\\s+(?:do|de|dijiye|दो|दीजिए)){_E}",
    re.IGNORECASE)
_NOT_CANCEL = re.compile(f"{_B}(?:mat|don'?t|do\\s+not|na)\\s+(?:cancel|radd)|(?:cancel|radd)\\s+(?:mat|na)\\s", re.IGNORECASE)
def asks_to_cancel(text: str) -> bool:
    """ "street light?? ye police ka mamla h, cancel kro": stop the form (never "mat cancel karo")."""
    return bool(text) and not text.startswith("/") and _CANCEL.search(text) is not None \
        and _NOT_CANCEL.search(text) is None


def gives_up_first(text: str) -> bool:
    """A message that opens by giving up ("छोड़ो यार, बाद में देखेंगे ..."); the caller checks that
    the rest names no other complaint. Not when the rest is about the photo or gives a number
    ("chodo, photo nahi hai" leaves the photo, not the complaint)."""
    first = _GIVE_UP_FIRST.match(text or "")
    if first is None:
        return False
    rest = text[first.end():]
    return _PHOTO_WORD.search(rest) is None and not re.search(r"[0-9०-९]", rest)


def gives_up(text: str) -> bool:
    """ "chodo yr", "rehne do yaar", "jane do", "छोड़ो यार": the citizen stops (a whole short
    message; "photo chodo" is not one)."""
    return bool(text) and _GIVE_UP.match(text) is not None


# --- A change of mind: "nahi nahi, light nahi, asal me naali band hai" -----------------------
# The classifier counts words: the category the citizen takes back ("light nahi") weighs as
# much as the one they mean. The taken-back word is a category word followed by a negation
# that ends its clause, or "not (the)" before it; what follows names the real problem.
_NEG_AFTER = (r"(?:\s+(?:ki|ka|ke|wali|wala|वाली|वाला|की|का|के)\s+(?:baat|problem|shikayat|"
              r"बात|शिकायत))?\s+(?:nahi|nahin|nhi|nai|na|नहीं|नही|ना)(?:\s+(?:hai|he|h|है))?")
_CLAUSE_END = (r"(?=\s*(?:[,.;!?।]|$)|\s+(?:asal|actually|balki|bulki|darasal|but|sorry|"
               r"असल|बल्कि|दरअसल|माफ़|माफ)" + _E + ")")
_NEG_BEFORE = r"(?:not|no)\s+(?:the\s+|a\s+|about\s+the\s+)?"
_CUE = re.compile(f"{_B}(?:as(?:a)?l\\s+(?:me|mein|men)|actually|balki|bulki|darasal|instead|"
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


_FILLER_CLAUSE = re.compile(
    r"^(?:\s*(?:wait|no|nope|nahi|nahin|nhi|na|arre|arey|are|oh|oops|sorry|sry|bhai|ji|sir|ruko|ruk|"
    r"नहीं|नही|अरे|रुको|सॉरी|माफ़\s+करना)(?![\w\u0900-\u097F])[\s!.]*)+$", re.IGNORECASE)
# "kuda nhi", "light nahi", "कूड़ा नहीं": a short clause that takes a word back
_NEGATED_CLAUSE = re.compile(r"^(?:\S+\s+){0,2}(?:nahi|nahin|nhi|ni|not|नहीं|नही)$", re.IGNORECASE)
_LEADING_CUE = re.compile(f"^\\s*(?:(?:wait|no|nahi|arre|ok|so)\\s+)?{_CUE.pattern}[\\s,:]*", re.IGNORECASE)
MIN_REST_WORDS = 3


def without_taking_back(text: str, old: str, new: str, category_words: Mapping[str, FrozenSet[str]]) -> str:
    """A change of mind from `old` to `new` as the new complaint's description: "wait actually
    its not garbage, the sewer is overflowing in the lane" → "the sewer is overflowing in the
    lane" (the leading clauses that name only the old complaint, fillers and "actually" go); the
    whole text when little is left."""
    old_words = {w.casefold() for w in category_words.get(old, ())}
    new_words = {w.casefold() for w in category_words.get(new, ())}
    kept = re.split(r"(?<=[,;.!?।])\s*", text.strip())
    while kept:
        clause = kept[0].strip(" ,;.!?।")
        words = words_in(clause)
        if not clause or _FILLER_CLAUSE.match(clause) or _NEGATED_CLAUSE.match(clause) \
                or (words & old_words and not words & new_words):
            kept.pop(0)
        else:
            break
    rest = _LEADING_CUE.sub("", " ".join(kept)).strip()
    return rest if len(rest.split()) >= MIN_REST_WORDS else text


def words_in(text: str) -> Set[str]:
    return {w.casefold() for w in _WORD.findall(text)}


def first_mentions(text: str, keys: Iterable[str], category_words: Mapping[str, FrozenSet[str]]) -> Dict[str, int]:
    """For each category of `keys`, the index of the first word of `text` that names it (the
    number of words when none does): "ye sadak wala h ... pani se" names the road first."""
    order = [w.casefold() for w in _WORD.findall(text)]
    found = {}
    for key in keys:
        mine = {w.casefold() for w in category_words[key]}
        found[key] = next((i for i, w in enumerate(order) if w in mine), len(order))
    return found


# --- At the photo question: "haan photo hai" ---------------------------------------------------
_PHOTO_NEGATION = re.compile(f"{_B}(?:nahi|nahin|nhi|ni|nai|na|no|not|nope|don'?t|dont|नहीं|नही|ना|मत){_E}",
                             re.IGNORECASE)
_PHOTO_WORD = re.compile(f"{_B}(?:photo|photos|foto|pic|pics|picture|image|tasveer|फोटो|फ़ोटो|तस्वीर){_E}",
                         re.IGNORECASE)
_HAVE = re.compile(f"{_B}(?:hai|he|h|hain|hy|है|हैं|have|got|paas|pass|पास|khinchi|kheechi|li\\s+hai|खींची){_E}",
                   re.IGNORECASE)
_SEND = re.compile(f"{_B}(?:bhej\\w*|send|sending|sent|upload\\w*|attach\\w*|kaise\\s+(?:bheju|bheje|bhejun|de)|"
                   f"भेज\\w*|भेजूँ|भेजूं|भेजें){_E}", re.IGNORECASE)
_YES = re.compile("^(?:(?:haan|han|ha|haa|hn|ji|jee|yes|yeah|yep|yup|sure|ok|okay|i\\s+do|i\\s+have|"
                  "हाँ|हां|जी|ठीक\\s+है|है)[\\s,.!]*)+$", re.IGNORECASE)
MAX_PHOTO_OFFER_WORDS = 8


def offers_photo(text: str) -> bool:
    """ "haan photo hai", "yes I have a photo", "हाँ फोटो है", "photo kaise bheju", "haan": at the
    photo question the citizen has one to send (they are told how), never "no photo"."""
    if not text or text.startswith("/") or len(text.split()) > MAX_PHOTO_OFFER_WORDS \
            or _PHOTO_NEGATION.search(text):
        return False
    text = text.strip()
    return bool(_YES.match(text) or _SEND.search(text)
                or (_PHOTO_WORD.search(text) and _HAVE.search(text)))


# --- At the summary: "sorry bzy tha, haan darj kr do" -------------------------------------------
_YES_CLAUSE = re.compile(
    f"^(?:haan|han|ha|haa|hn|ji\\s+haan|ji|jee|yes|yse|ys|yess+|yea|yeah|yep|yup|ok|okay|theek\\s+hai|thik\\s+h|thik\\s+hai|"
    f"sahi\\s+(?:hai|he|h)|sab\\s+(?:sahi|theek|thik)|all\\s+(?:correct|good|fine)|correct|"
    f"हाँ|हां|जी|ठीक\\s+है|सही\\s+है|सब\\s+सही){_E}", re.IGNORECASE)
_REGISTER = re.compile(
    f"{_B}(?:darj|darz|dars|register|submit|file)\\s*(?:kr|kar|karo|kro|krdo|kardo|kr\\s+do|kar\\s+do|kijiye|"
    f"karein|kare|it|this|the\\s+complaint)?{_E}|{_B}go\\s+ahead{_E}|दर्ज\\s*(?:कर|करो|करें|कीजिए|कर\\s+दो|कर\\s+दें)",
    re.IGNORECASE)
_NOT_YES = re.compile(
    f"{_B}(?:nahi|nahin|nhi|ni|nai|na|mat|no|not|don'?t|dont|cancel|radd|ruko|wait|but|lekin|par|"
    f"नहीं|नही|ना|मत|रद्द|रुको|लेकिन|पर){_E}", re.IGNORECASE)
MAX_CONFIRM_WORDS = 14


def confirms_in_words(text: str) -> bool:
    """ "sorry bzy tha, haan darj kr do", "sab sahi h, darj kro", "ok go ahead and register it":
    a yes to the summary after words of their own (an apology, a greeting). Never with a no,
    a "but" or a "wait" anywhere in it (those are corrections or doubts)."""
    if not text or text.startswith("/") or len(text.split()) > MAX_CONFIRM_WORDS or _NOT_YES.search(text) \
            or _WRONG.search(text):
        return False
    clauses = [c.strip() for c in re.split(r"[,.;!?।]+", text) if c.strip()]
    return any(_YES_CLAUSE.match(clause) or _REGISTER.search(clause) for clause in clauses)


# --- A description written before a correction ------------------------------------------------
_WARD_BEFORE = re.compile(
    f"{_B}(?:wards?|vard|waard|वार्ड|वॉर्ड)\\s*(?:(?:no|num|number|nmbr|nambar|नंबर|नं|संख्या)\\.?\\s*)?[-:]?\\s*$",
    re.IGNORECASE)
_DEVANAGARI_DIGITS = str.maketrans("0123456789", "०१२३४५६७८९")


def with_ward_changed(text: str, old: object, new: object) -> str:
    """ "वार्ड 8 में पाइपलाइन फट गई है" once the ward is corrected to 18: "वार्ड 18 में ...", in the
    digits the citizen used ("वार्ड बत्तीस" in words becomes digits); other numbers and other
    wards are left as written."""
    try:
        old_value, new_value = int(str(old).strip()), str(int(str(new).strip()))
    except ValueError:
        return text
    for start, end, value in reversed(find_numbers(text)):
        if value != old_value or not _WARD_BEFORE.search(text[:start]):
            continue
        written = new_value.translate(_DEVANAGARI_DIGITS) if text[start] in "०१२३४५६७८९" else new_value
        text = text[:start] + written + text[end:]
    return text


# Words of a category's name that any complaint may use ("house", "water", "road", "street").
GENERIC_CATEGORY_WORDS = frozenset("house water road street pani paani jal पानी सड़क".split())


def describes_another_category(text: str, old: str, new: str,
                               category_words: Mapping[str, FrozenSet[str]]) -> bool:
    """ "वार्ड 22 में कूड़ा पड़ा है" once the category is corrected from garbage to road: the
    description names the old complaint and not the new one, so it no longer describes it."""
    words = words_in(text)
    strong = {w.casefold() for w in category_words.get(old, ())} - GENERIC_CATEGORY_WORDS
    named = categories_named(text, category_words)
    # ("from every house monthly" names no house tax: a word every complaint may use; round 5, 57)
    return old in named and new not in named and bool(words & strong)
