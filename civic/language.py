"""Which of the three reply languages a message is written in, and explicit requests.

`detect_language` answers "hi" (Devanagari), "hinglish" (romanised Hindi) or "en", or None
when the message carries no language (a number, an emoji, a complaint id, "ok thanks", a
proper name alone): the caller then keeps the language it had. Names are not words of a
language: a locality or landmark of city.yml ("Ghanta Ghar", "Jama Masjid") and a district
("Saharanpur") are left out before counting, so "I live near Ghanta Ghar" stays English.
`requested_language` recognises "English please" or
"हिंदी में बोलो", which should override detection until the citizen asks again.
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional

HINDI, HINGLISH, ENGLISH = "hi", "hinglish", "en"

# Frequent romanised-Hindi function words and civic words. Kept to words that are not
# also common English words; ambiguous ones ("me", "to", "so") are in AMBIGUOUS.
HINGLISH_WORDS = frozenset(
    """
    hai hain hei h hy hn tha thi ho hoga hogi honge hua hui hue raha rahi rahe rha rhi rhe
    gya gyi gye gaya gayi kre kro krna krdo krte krta krti kr karte karta karti krke karke
    sakte sakta sakti skte skta rehte rehta rehti rahte rahta rahti hm hmara hmari hmare tum
    tumhe tumko tmhare mko mujhko hamko humko apka apki apke aapke sb jb tb pr bhot bahut
    chahie chaiye lijiye dijiye btao bta btaiye bataao yaar yr chodo chhodo rehne jldi
    sunta sunte sunti sote sota kaam kam log logon logo piche peeche pichhe samne saamne
    kese kesa kyo fir phir dobara firse wahi vahi yahi hamesha ghante mahine hafte saal
    nahi nahin nhi nahin nai mat na kya kyu kyun kyon kaise kaisa kab kaha kahan kidhar kon
    kaun kitna kitne kitni jab tab ab abhi aaj kal parso din dino raat subah shaam
    mera meri mere hamara hamari hamare humara humari tera teri tumhara aap aapka aapki apna
    apni apne mujhe hume humein hamein unka uska iska yeh ye woh wo vo yaha yahan waha wahan
    ka ki ke ko se mein mai pe tak liye wala wali wale waala waali sath saath
    aur ya bhi sirf bahut bohot bahot jaldi zyada jyada thoda kuch sab koi
    karo karna kare karein kijiye kariye karwao karwaye karao kar diya diye dijiye de dena
    chahiye chaiye batao bataye bataiye bata bolo bol dekho dekhiye suno
    aa aata aati aaya aayi aaye jata jati gaya gayi gaye laga lagi lage rakha
    theek thik sahi galat accha acha achha haan ha han ji shukriya dhanyavad dhanyawad
    dhanyavaad dhanyvad dhanyawaad bilkul alvida phir milenge madad sahayata kripya krupya
    namaste namaskar pranam bhai bhaiya sahab
    paani pani bijli batti khamba gali galiyon mohalla muhalla sadak sarak sadke nali naali
    naala nala kooda kuda kura kachra kachara safai safayi gandagi ganda gandi gande ganda
    tuta tuti toota tooti tute khraab kharab kharaab band chalu jal jalkal bhara bhari
    gadda gaddha gadhe shikayat shikayaat samasya pareshani dikkat takleef nigam ghar makaan
    makan jamaa jama rasid naam sthiti jaankari jankari
    ek teen char paanch hu hoon hun bhej bhejo bhejna bhejti bhejta bhejte bhejdo bhejunga bhejungi
    dunga dungi karunga karungi lekr lekar jau jaun jaunga jaungi rhta rhti
    """.split()
)
# Common English function words and verbs (content nouns like "light" or "road" are used
# in Hinglish too, so they count for neither side; civic nouns that Hinglish borrows count
# a quarter, LOAN_WEIGHT, so they decide only a message without any other word).
ENGLISH_WORDS = frozenset(
    """
    the a an is are was were be been being am not you
    your my our we i it this that these those there here what when where why how which who
    has have had does did can could will would should shall may might must
    and but of for from with without since until about into on at by in
    working work broken broke leaking leak blocked block overflowing overflow collected
    collect cleaned clean dirty damaged damage repair repaired fixed fix complaint complain
    registered check want need help yesterday tomorrow near front behind
    still again very too also only all any some many much more less bad good not
    live lives living lying nobody anyone someone people since ago
    """.split()
)
ENGLISH_LOANS = frozenset(
    """
    register problem issue days day week weeks months today street colony area house
    garbage sewage drain pothole potholes water supply pressure lamp pole bill tax online
    """.split()
)
LOAN_WEIGHT = 0.25
# Words written the same in both: "me" (Hindi "in" / English "me"), "to", "do", "main" ...
AMBIGUOUS = frozenset("me to so hi he main do par or".split())  # "or": SMS Hinglish for "aur"
# Words that say nothing about the language: greetings and names used by everyone, and the
# commands the replies ask citizens to type ("status SRN-000012").
NEUTRAL = frozenset(
    "ok okay k ward wards sir madam maam mam hello hii hey srn covid corona light status".split()
)
# Courtesies every citizen writes whatever their language ("ok thanks", "ok thnx bhai",
# "yes", "sorry", "thank you"): they say nothing about it either.
COURTESY = frozenset(
    """
    thanks thank thanku thankyou thanx thnx thnks thx tnx tnks ty tq tysm welcome please plz
    pls sorry bye yes yeah yep yup no nope done fine nice great good
    """.split()
)
_THANK_YOU = re.compile(r"\b(?:thank|thanks)\s+(?:you|u)\b", re.IGNORECASE)
# Hinglish word endings ("karwaiye", "hogi", "jayega", "wala") count like list words.
_HINGLISH_ENDING = re.compile(r"(?:iye|iyega|ega|egi|enge|ogi|oge|unga|ungi|wala|wali|wale)$")

_DEVANAGARI_WORD = re.compile(r"[\u0900-\u0963\u0971-\u097F]+")
_LATIN_WORD = re.compile(r"[A-Za-z]+")
# A complaint number carries no language ("SRN-000145", "srn145").
_ID_LIKE = re.compile(r"\b[A-Za-z]{2,5}[\s\-]*\d+\b")


# The corporation's own offices, named alike in every language.
_OFFICE_NAMES = re.compile(r"\b(?:jal\s*kal|jal\s*nigam|nagar\s*nigam|jal\s*sansthan)\b", re.IGNORECASE)
# Proper names are looked for in messages up to this long; in longer ones they are outnumbered.
MAX_NAMES_TEXT = 300


def _latin_words(text: str) -> List[str]:
    return [w.lower() for w in _LATIN_WORD.findall(_ID_LIKE.sub(" ", text))]


def without_names(text: str) -> str:
    """`text` without the proper names it contains: the city's localities and landmarks
    (city.yml, any spelling) and districts of the gazetteer. A name is no word of a language."""
    if len(text) > MAX_NAMES_TEXT:
        return text
    text = _OFFICE_NAMES.sub(" ", text)  # "jal kal helpline number?" is English (round 5, 20)
    from civic.districts import find_district  # the gazetteer is loaded on first use
    from civic.location import localities_in

    for _, start, end in reversed(localities_in(text)):
        text = f"{text[:start]} {text[end:]}"
    for _ in range(3):  # "Saharanpur aur Meerut": each district once
        found = find_district(text)
        if found is None:
            break
        start, end, _ = found
        text = f"{text[:start]} {text[end:]}"
    return text


def detect_language(text: str) -> Optional[str]:
    """"hi", "hinglish" or "en" for the language `text` is written in; None if it has none.

    Mixed script: the majority of word tokens decides (a tie goes to Devanagari, which
    takes more effort to type). Latin text is Hinglish when more of its words are known
    Hinglish words than known English words, English when fewer, and has no language when
    it has as many of each (none at all, say).
    """
    if not text:
        return None
    text = _THANK_YOU.sub(" ", without_names(text))
    devanagari = len(_DEVANAGARI_WORD.findall(text))
    latin = [w for w in _latin_words(text) if w not in NEUTRAL and w not in COURTESY]
    if devanagari == 0 and not latin:
        return None
    if devanagari >= len(latin):
        return HINDI
    hinglish = english = 0.0
    for word in latin:
        if word in AMBIGUOUS:
            hinglish += 0.5
            english += 0.5
        elif word in HINGLISH_WORDS or (len(word) > 4 and _HINGLISH_ENDING.search(word)):
            hinglish += 1
        elif word in ENGLISH_WORDS:
            english += 1
        elif word in ENGLISH_LOANS:
            english += LOAN_WEIGHT
    if hinglish == english:
        return None  # no word of either list, or as many of each: nothing to go by
    return HINGLISH if hinglish > english else ENGLISH


# Names of the languages, in any script. Hinglish is checked first: its requests name
# both Hindi and English ("hindi in english letters").
_HINGLISH_REQUEST = re.compile(
    r"\bhinglish\b|हिंग्लिश|\broman(?:\s+(?:hindi|script|lipi))?\b|रोमन"
    r"|\bhindi\s+(?:in|me|mein|main)\s+english\b"
    r"|\benglish\s+(?:letters?|alphabets?|script|lipi|akshar)\b",
    re.IGNORECASE,
)
_LANGUAGE_NAMES = {
    ENGLISH: re.compile(
        r"\benglish\b|\bangre[zj]i\b|\bangrezee\b|अंग्रेज़?ी|अंग्रेजी|इंग्लिश", re.IGNORECASE
    ),
    HINDI: re.compile(r"\bhindi\b|\bhindee\b|हिंदी|हिन्दी", re.IGNORECASE),
}
# The name must be asked for: with a request word, or alone in a short message.
_REQUEST_WORDS = re.compile(
    r"\b(?:please|plz|pls|speak|talk|reply|write|answer|respond|language|lang|switch|change"
    r"|use|in|me|mein|mai|main|bolo|boliye|bolie|bol|baat|karo|kariye|kijiye|likho|likhiye"
    r"|chahiye|bhasha)\b|में|मे\b|बोलो|बोलिए|बोलिये|बात|करो|करें|कीजिए|लिखो|लिखिए|भाषा|चाहिए",
    re.IGNORECASE,
)
_NEGATION = re.compile(r"\b(?:nahi|nahin|nhi|not|no|mat|don'?t)\b|नहीं|नही|मत", re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z\u0900-\u0963\u0971-\u097F]+")
SHORT_REQUEST_WORDS = 4


def _negated(text: str, start: int, end: int) -> bool:
    """True when a negation stands right before or after the language name."""
    before = " ".join(_WORD.findall(text[:start])[-1:])
    after = " ".join(_WORD.findall(text[end:])[:1])
    return bool(_NEGATION.fullmatch(before) or _NEGATION.fullmatch(after))


# A request inside a longer message: "wapas hindi me baat kro. naali ki shikayat ..." (round 4, 33)
_ASKS_FOR_LANGUAGE = re.compile(
    r"(?:hindi|hindee|english|angrezi|angreji|hinglish|हिंदी|हिन्दी|अंग्रेज़ी|अंग्रेजी)\s+(?:me|mein|mai|main|में|मे)\s+"
    r"(?:hi\s+|ही\s+)?(?:baat|bolo|boliye|bol|reply|jawab|javab|likho|likhiye|बात|बोलो|बोलिए|जवाब|लिखो|लिखिए)(?![a-z])"
    r"|(?:reply|speak|talk|answer|write)\s+(?:to\s+me\s+)?in\s+(?:hindi|english|hinglish)",
    re.IGNORECASE)


def requested_language(text: str) -> Optional[str]:
    """The language the citizen explicitly asks for ("English please" -> "en"), else None."""
    if not text:
        return None
    short = len(_WORD.findall(text)) <= SHORT_REQUEST_WORDS
    if not (short or _REQUEST_WORDS.search(text)):
        return None
    if _HINGLISH_REQUEST.search(text):
        return HINGLISH
    asked = {
        language
        for language, pattern in _LANGUAGE_NAMES.items()
        for m in pattern.finditer(text)
        if not _negated(text, m.start(), m.end())
    }
    return asked.pop() if len(asked) == 1 else None


# WhatsApp message types that carry no words of the citizen's (a tap's text is our payload).
WORDLESS_TYPES = frozenset(
    "interactive button location audio voice video sticker document reaction contacts "
    "order system unknown unsupported".split())


# The text Rasa gives an intent triggered from outside (an officer's update, trigger_intent):
# rasa.shared.core.constants.EXTERNAL_MESSAGE_PREFIX, Rasa 3.6; no citizen wrote it.
EXTERNAL_PREFIX = "EXTERNAL: "


def citizen_words(text: str, message_type: Optional[str] = None) -> Optional[str]:
    """`text` if the citizen wrote it (typed text, a photo's caption), else None: a tapped
    button or list row, an intent payload (`/affirm`), an officer's update, a location, a
    voice note or a sticker carry no words, so they must not change the reply language or be read as an answer."""
    if not text or text.lstrip().startswith(("/", EXTERNAL_PREFIX)) \
            or (message_type or "") in WORDLESS_TYPES:
        return None
    return text


def reply_language(text: str, intent: Optional[str], current: Optional[str],
                   pinned: bool) -> Dict[str, Any]:
    """The slot changes after a citizen message: {"language": ..., "language_pinned": ...}.

    An explicit request (intent `switch_language`) pins the language asked for (or, if it
    names none, the one it is written in). Otherwise a pinned language stays, and an
    unpinned one follows the message; a message without a language changes nothing.
    """
    if intent == "switch_language":
        chosen = requested_language(text) or detect_language(text)
        if chosen:
            return {"language": chosen, "language_pinned": True}
    elif _ASKS_FOR_LANGUAGE.search(text or ""):  # a request beside a complaint
        chosen = requested_language(text)
        if chosen:
            return {"language": chosen, "language_pinned": True}
    if pinned:
        return {}
    detected = detect_language(text)
    return {"language": detected} if detected and detected != current else {}
