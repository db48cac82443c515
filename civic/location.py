"""Find the place of a complaint inside a free-form message, and the wards it may lie in.

"ward 23 me street light kharab hai Court Road pe" → "Court Road"; "वार्ड बारह, जामा मस्जिद के
पास" → "जामा मस्जिद के पास"; "wrong place, it is behind the bus stand" → "behind the bus stand".
Sources, in order: a landmark phrase ("… ke paas", "… के सामने", "near …", "behind …"), one
of the city's localities (city.yml `localities`, with their other spellings), a named road or
colony before "pe / par / में". Conservative: a wrong place is worse than asking, so anything
unclear returns None and the form asks.
"""
import re
from typing import List, Optional, Sequence, Tuple

from civic.city import Locality, get_city

MAX_TEXT = 2000  # longer messages are stories: the form asks for the place instead
MAX_PLACE_WORDS = 5

# Words that cannot be part of a place name: they end the backward scan from a postposition.
_NOT_PLACE = frozenset(
    """
    ward wards vard वार्ड no number नंबर hai hain he h है हैं tha thi raha rahi rha rhi है।
    the a an it is was are in at on of and or but my our your to from for with
    mera mere meri hamare hamara hamari humare apne apni iske uske yeh ye woh wo vo hm hum ham
    मेरे मेरा मेरी हमारे हमारी हमारा अपने यह वह ये वो इस उस
    ka ki ke ko se me mein mai pe par aur bhi to toh nahi nhi na ho gaya gayi gaye
    का की के को से में मैं पे पर और भी तो नहीं ना हो गया गई गए
    light lights लाइट paani pani पानी kooda kuda kachra कूड़ा कचरा naali nali नाली sewer सीवर
    kharab kharaab khrab kharaab band chalu tuta tuti toota tooti leak leaking broken
    खराब ख़राब बंद टूटा टूटी लीक
    ghar घर house home rehta rahta rehti rahti hoon hu hun हूँ हूं रहता रहती
    sahi सही jagah jagha जगह place location wrong galat गलत actually asal असल
    bhai bhaiya bhaisaab yaar yar yr sir madam भाई भैया भाईसाहब यार सर
    """.split()
)
_POSTPOSITION = re.compile(
    r"(?<![\w\u0900-\u097F])(?:(?:ke|k|ki)\s+(?:paas|pass|pas|samne|saamne|saamnay|piche|peeche|pichhe|"
    r"bagal(?:\s+(?:me|mein|m))?|aage|najdeek|nazdeek)"
    r"|के\s+(?:पास|सामने|पीछे|बगल(?:\s+में)?|आगे|नज़दीक|नजदीक)|की\s+(?:तरफ़|तरफ))(?![\w\u0900-\u097F])",
    re.IGNORECASE,
)
_PREPOSITION = re.compile(
    r"(?<![\w\u0900-\u097F])(?:near|opposite|opp\.?|behind|in front of|next to|beside)\s+(?:the\s+)?",
    re.IGNORECASE,
)
_ROAD_WORD = (r"road|rd|marg|chowk|nagar|colony|bazar|bazaar|market|gali|mohalla|puri|ganj|"
              r"रोड|मार्ग|चौक|नगर|कॉलोनी|बाजार|बाज़ार|गली|मोहल्ला|पुरी|गंज")
_NAMED_PLACE = re.compile(
    rf"((?:[^\W\d_][\w.'-]*\s+|[\u0900-\u097F]+\s+){{0,3}}(?:{_ROAD_WORD})(?:\s+(?:no\.?|number|नंबर)\s*\d+)?)"
    rf"\s+(?:pe|par|me|mein|पर|में)(?![\w\u0900-\u097F])",
    re.IGNORECASE,
)
_TOKEN = re.compile(r"[\w\u0900-\u097F.'-]+|[^\s\w\u0900-\u097F]")
# Around a locality or landmark, the words that make it findable stay with it: "Gill colony
# gali no 4", "Nawabganj masjid wali gali", "मकान नंबर 14/237 गोपाल नगर", "Chilkana road near
# the petrol pump" (a place is never cut down to the known name it contains).
_ADDRESS_WORD = re.compile(
    rf"^(?:{_ROAD_WORD}|galli|lane|street|sector|block|mohalla|mohalle|gali|वाली|वाला|wali|wala|"
    rf"vali|vala|phase|गली|मोहल्ले|सेक्टर|ब्लॉक)$", re.IGNORECASE)
_NUMBER_WORD = re.compile(r"^(?:no\.?|number|nambar|num|नंबर|नं\.?|#)$", re.IGNORECASE)
_HOUSE_WORD = re.compile(r"^(?:makan|makaan|मकान|house|h\.?\s?no\.?|plot|flat|shop|dukan|दुकान|kothi|कोठी)$",
                         re.IGNORECASE)
_WARD_WORD = re.compile(r"^(?:wards?|vard|waard|वार्ड|वॉर्ड)$", re.IGNORECASE)
_NUMBER_TOKEN = re.compile(r"^[0-9\u0966-\u096F]+[a-zA-Z]?$|^/$")
MAX_WIDEN = 4
MAX_GAP_TOKENS = 5  # words and commas between a locality and the landmark after it, in one place
_ON = frozenset({"pe", "par", "pr", "पर", "पे"})


def _is_place_word(token: str) -> bool:
    return bool(re.match(r"[\w\u0900-\u097F]", token)) and not token.isdigit() \
        and token.casefold().strip(".") not in _NOT_PLACE


def _words_before(text: str, end: int) -> Optional[str]:
    """Up to MAX_PLACE_WORDS place words ending right before `end`, as typed."""
    tokens = list(_TOKEN.finditer(text[:end]))
    start = None
    for token in reversed(tokens[-MAX_PLACE_WORDS:]):
        if not _is_place_word(token.group()):
            break
        start = token.start()
    return None if start is None else text[start:end].strip()


def _words_after(text: str, start: int) -> Optional[str]:
    """Up to MAX_PLACE_WORDS place words starting at `start`, as typed."""
    end = None
    for token in list(_TOKEN.finditer(text, start))[:MAX_PLACE_WORDS]:
        if not _is_place_word(token.group()):
            break
        end = token.end()
    return None if end is None else text[start:end].strip()


def landmark_phrase(text: str) -> Optional[str]:
    """ "jama masjid ke paas", "behind the bus stand": a place with the word that says where."""
    for match in _POSTPOSITION.finditer(text):
        words = _words_before(text, match.start())
        if words:
            return f"{words} {match.group()}"
    for match in _PREPOSITION.finditer(text):
        words = _words_after(text, match.end())
        if words:
            return f"{match.group().strip()} {words}"
    return None


def localities_in(text: str, localities: Optional[Sequence[Locality]] = None) -> List[Tuple[Locality, int, int]]:
    """The city's localities named in `text`, as (locality, start, end), in text order."""
    if not text or len(text) > MAX_TEXT:
        return []
    folded = text.casefold()
    found: List[Tuple[Locality, int, int]] = []
    spellings = sorted(
        ((spelling, locality)
         for locality in (localities if localities is not None else get_city().localities)
         for spelling in locality.spellings),
        key=lambda pair: len(pair[0]), reverse=True)
    for spelling, locality in spellings:
        start = folded.find(spelling.casefold())
        if start < 0 or any(s < start + len(spelling) and start < e for _, s, e in found):
            continue
        end = start + len(spelling)
        before = folded[start - 1] if start else " "
        after = folded[end] if end < len(folded) else " "
        if before.isalnum() or after.isalnum():  # inside a longer word
            continue
        found.append((locality, start, end))
    return sorted(found, key=lambda hit: hit[1])


def _house_before(text: str, start: int) -> int:
    """Where "मकान नंबर 14/237" / "house no 5" before a place starts (else `start`)."""
    tokens = list(_TOKEN.finditer(text[:start]))[-2 * MAX_WIDEN:]
    begin = start
    for token in reversed(tokens):
        word = token.group()
        if _WARD_WORD.match(word):
            break
        if _HOUSE_WORD.match(word):
            begin = token.start()
        elif not (_NUMBER_TOKEN.match(word) or _NUMBER_WORD.match(word) or word in ",-"):
            break
    return begin


def _road_before(text: str, start: int) -> int:
    """Where "Chilkana road" before "near the petrol pump" starts (else `start`)."""
    tokens = list(_TOKEN.finditer(text[:start]))
    if not tokens or not _ADDRESS_WORD.match(tokens[-1].group()):
        return start
    words = _words_before(text, tokens[-1].end())
    return text.rindex(words, 0, tokens[-1].end()) if words else start


def _address_after(text: str, end: int) -> int:
    """Where "gali no 4" / "masjid wali gali" after a place ends (else `end`)."""
    tokens = list(_TOKEN.finditer(text, end))[:MAX_WIDEN]
    last, previous = end, ""
    for token in tokens:
        word = token.group()
        number = _NUMBER_TOKEN.match(word) and _NUMBER_WORD.match(previous)
        if _ADDRESS_WORD.match(word) or number:
            last = token.end()
        elif not (_is_place_word(word) or _NUMBER_WORD.match(word) or word == ","):
            break
        previous = word
    return last


def extract_location(text: str, localities: Optional[Sequence[Locality]] = None) -> Optional[str]:
    """The place named in `text`, as typed, or None."""
    if not text or len(text) > MAX_TEXT:
        return None
    landmark = landmark_phrase(text)
    if landmark:
        start = text.find(landmark)
        end = start + len(landmark)
        for _, named_start, named_end in localities_in(text, localities):
            if named_start <= end < named_end:  # "near Ghanta Ghar": the name is not cut
                end = _address_after(text, named_end)
        for _, named_start, named_end in localities_in(text, localities):
            # "Mission compound road, two poles near the church": the locality just before the
            # landmark is part of the place (round 4, 11)
            if 0 <= named_end <= start and len(_TOKEN.findall(text[named_end:start])) <= MAX_GAP_TOKENS:
                return text[_house_before(text, named_start):end].strip(" ,")
        if start >= 0 and _PREPOSITION.match(text, start):
            return text[_road_before(text, start):end].strip()
        before = list(_TOKEN.finditer(text[:max(start, 0)]))
        if len(before) >= 2 and before[-1].group().casefold() in _ON:  # "चिलकाना रोड पर पेट्रोल पंप के पास"
            begin = _road_before(text, before[-1].start())
            if begin < before[-1].start():
                return text[begin:end].strip()
        return text[start:end].strip() if start >= 0 else landmark
    named = localities_in(text, localities)
    if named:
        _, start, end = named[0]
        return text[_house_before(text, start):_address_after(text, end)].strip(" ,")
    match = _NAMED_PLACE.search(text)
    place = _words_before(text, match.end(1)) if match else None
    # "gali me pani beh rha h": a bare "gali" / "road" finds nothing; the place is asked
    return None if place is None or re.fullmatch(_ROAD_WORD, place, re.IGNORECASE) else place


def wards_of(text: str, localities: Optional[Sequence[Locality]] = None) -> Tuple[int, ...]:
    """The wards of the localities named in `text`, in the order named, without repeats."""
    wards: List[int] = []
    for locality, _, _ in localities_in(text, localities):
        wards.extend(w for w in locality.wards if w not in wards)
    return tuple(wards)


# --- A place given where the ward was asked ---------------------------------------------------
# Words that make a name a locality ("Shastri Nagar", "Raja colony", "Kishan pura"): a name with
# one of them that city.yml does not know is a locality the bot cannot place in a ward.
_LOCALITY_WORD = (r"nagar|colony|puri|pura|ganj|mohalla|muhalla|vihar|enclave|bagh|abad|basti|"
                  r"नगर|कॉलोनी|कालोनी|पुरी|पुरा|गंज|मोहल्ला|विहार|बाग़|बाग|बस्ती")
_NAME_WORD = r"(?:[^\W\d_][\w.'-]*|[\u0900-\u097F]+)"
_LOCALITY_NAME = re.compile(
    rf"(?<![\w\u0900-\u097F])((?:{_NAME_WORD}\s+){{1,2}}(?:{_LOCALITY_WORD}))(?![\w\u0900-\u097F])",
    re.IGNORECASE)
# "मकान नंबर 45", "house no 12", "gali no 3", "plot 7": a number that belongs to the place
HOUSE_NUMBER = re.compile(
    r"(?<![\w\u0900-\u097F])(?:makan|makaan|मकान|house|h\.?\s?no\.?|plot|flat|shop|dukan|दुकान|kothi|कोठी|"
    r"gali|galli|gli|गली|lane|street|sector|block|सेक्टर|ब्लॉक)"
    r"(?:\s*(?:no\.?|number|nambar|num|नंबर|नं\.?|#))?\s*[-:]?\s*[0-9\u0966-\u096F]+(?:\s*/\s*[0-9\u0966-\u096F]+)?[a-zA-Z]?",
    re.IGNORECASE)
_SAYS_WHERE = re.compile(
    rf"(?<![\w\u0900-\u097F])(?:वाली|वाला|wali|wala|vali|vala)\s+(?:{_ROAD_WORD}|lane|street)(?![\w\u0900-\u097F])|"
    rf"{_POSTPOSITION.pattern}|{_PREPOSITION.pattern}", re.IGNORECASE)


def unknown_locality(text: str, localities: Optional[Sequence[Locality]] = None) -> Optional[str]:
    """ "शास्त्री नगर में रहते हैं" → "शास्त्री नगर": a locality by its name that the city's list
    does not have (None when it names a known one, or none)."""
    if not text or len(text) > MAX_TEXT or localities_in(text, localities):
        return None
    for match in _LOCALITY_NAME.finditer(text):
        words = _words_before(text, match.end(1))
        if words and not re.fullmatch(_LOCALITY_WORD, words, re.IGNORECASE):
            return words
    return None


# Words that state a problem (a state, a fault, a "not"): "sadak tuti pdi h", "the road is broken",
# "नाली बंद है". A place answer without any is all place ("its behind nehru park, the main manhole
# near the water tank"), however many landmarks it names.
PROBLEM_WORDS = frozenset("""
    tuti tuta toota tooti toot tut tute tooti kharab kharaab khrab band bhar bhara bhari bhari beh bah
    bahta behta overflow overflowing overflows broken broke blocked block blockage leak leaking leaks
    choke choked jam smell smells smelling stink stinking badbu ganda gandi gande dirty damage damaged
    missing gayab gaddhe gaddha gadda pothole potholes nahi nhi nahin ni not no never dead pada pda padi
    pdi lying fallen gira giri girta hanging latak jhuka fuse off kat chali gayi
    पड़ा पड़ी पड़े टूटा टूटी टूटे खराब ख़राब बंद भरा भरी बह गंदा गंदी गंदे बदबू गड्ढा गड्ढे नहीं लीक जाम
    गिरा गिरी लटक झुका गायब
    """.split())
_LEADING_APOLOGY = re.compile(
    r"^\s*(?:(?:sorry|sry|maaf\s+kijiye|maaf\s+karna|माफ़\s+कीजिए|माफ़\s+करना|माफ\s+कीजिए)"
    r"[^.!?।]*[.!?।]+\s*)+", re.IGNORECASE)


def states_a_problem(text: str) -> bool:
    """The text says what is wrong, not only where."""
    return any(word.casefold() in PROBLEM_WORDS for word in re.findall(r"[\w\u0900-\u097F]+", text or ""))


def without_apology(text: str) -> str:
    """ "sorry got busy. its behind nehru park": the message after the apology that opens it."""
    rest = _LEADING_APOLOGY.sub("", text or "").strip()
    return rest or (text or "").strip()


def place_answer(text: str) -> Optional[str]:
    """The place a short answer describes, as typed: "just opposite the old post office",
    "मंदिर वाली गली, मकान नंबर 45 के सामने", "Raja colony"; None when it says no place."""
    if not text or len(text) > MAX_TEXT:
        return None
    found = extract_location(text) or unknown_locality(text)
    if found:
        return found
    if HOUSE_NUMBER.search(text) or _SAYS_WHERE.search(text):
        return text.strip(" ,.!")
    return None
