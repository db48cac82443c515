"""What citizens ask that is not a complaint: other agencies and municipal services.

The agencies and services, their names, numbers, texts and the words that name them live in
city.yml (civic/city.py loads them); this module finds them in a message. It also tells the
corporation's street lights from the power company's supply at home:

- "street light kharab hai", "khambe ki light", "gali me light nahi jal rahi", "light kharab
  hai": street light (a complaint to the corporation);
- "ghar ki bijli nahi aa rahi", "power cut", "bijli ka meter": the power company;
- "light nahi aa rahi", "light chali gayi": either; the citizen is asked which.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Iterable, List, Optional, Sequence, Tuple

from civic.city import City

_TOKEN_RE = re.compile(r"(?:[^\W_]|[\u0900-\u0963\u0966-\u097f])+")
_NUKTA = "\u093c"

# Words that name a light or power in a message.
LIGHT_WORDS = frozenset("""
light lite lights lait laait batti bati bulb lamp current karant electricity power bijli
bijlee bijali bjli लाइट लाईट बत्ती बल्ब करंट बिजली पावर
""".split())
# Words that say the light is the street's (the corporation's): these win.
STREET_WORDS = frozenset("""
street streetlight streetlights stret strit khamba khambe khambha khambhe khamba pole poles
gali galli gali galiyon sadak sadke road chauraha chauraahe crossing lane mast halogen
bahar bahir outside led पथ स्ट्रीट खंभा खंभे खम्भा खम्भे गली सड़क रोड चौराहा चौराहे बाहर
""".split())
# Words that say the supply at home (the power company's).
HOME_WORDS = frozenset("""
ghar gher makan makaan home house flat room kamra dukan dukaan shop meter transformer
supply connection bill voltage katauti cut powercut trip uppcl pvvnl discom bijli bijlee
bijali bjli electricity power फ्लैट घर मकान कमरा दुकान मीटर ट्रांसफार्मर ट्रांसफ़ॉर्मर सप्लाई
कनेक्शन बिल वोल्टेज कटौती कट बिजली पावर
""".split())


def _norm(text: str) -> List[str]:
    text = unicodedata.normalize("NFC", (text or "").casefold()).replace(_NUKTA, "")
    return _TOKEN_RE.findall(text)


def _find_phrase(tokens: Sequence[str], phrases: Iterable[str]) -> Optional[Tuple[int, int]]:
    """The first (start, length) in words where one of `phrases` occurs, longest first."""
    best = None
    for phrase in phrases:
        words = _norm(phrase)
        n = len(words)
        for i in range(len(tokens) - n + 1):
            if list(tokens[i:i + n]) == words:
                if best is None or (i, -n) < (best[0], -best[1]):
                    best = (i, n)
                break
    return best


def find_agency(text: str, city: City) -> Optional[str]:
    """The agency a message names ("power cut" → electricity, "thane me" → police), or None."""
    tokens = _norm(text)
    found = [(hit, key) for key, agency in city.agencies.items()
             if (hit := _find_phrase(tokens, agency.words)) is not None]
    if power_kind(text) == "home":
        found.append(((len(tokens), 0), "electricity"))
    return min(found)[1] if found else None


def find_service(text: str, city: City) -> Optional[str]:
    """The municipal service a message names ("birth certificate", "house tax kaise jama
    karein"), or None."""
    tokens = _norm(text)
    found = [(hit, key) for key, service in city.services.items()
             if (hit := _find_phrase(tokens, service.words)) is not None]
    return min(found)[1] if found else None


def service_of_the_complaint_named(text: str, city: City) -> Optional[str]:
    """For a question about a service that names none of its phrases but one complaint's
    ("office kaha h house tax wala aur kya kya kagaz lekr jau"): the city's first service for
    that complaint (city.yml order), or None when no category or several are named."""
    tokens = set(_norm(text))
    named = [key for key, words in city.category_words.items()
             if tokens & {w.casefold() for w in words}]
    if len(named) != 1:
        return None
    return next((key for key, service in city.services.items() if service.complaint == named[0]), None)


# A lamp that does not burn or is broken: a street light ("light kharab hai", "nahi jal rahi").
LAMP_WORDS = frozenset("""
jal jale jali jalti jalta jalte jala jalao kharab kharaab kharb khrab fuse fuze phuse toot tooti
tuti tuta toota flicker flickering blinking broken damaged working bulb lagwa lagwani lagana
install installation खराब ख़राब जल जलती जलता जली फ्यूज टूटी टूटा टूट बल्ब
""".split())
# Supply that does not come ("light nahi aa rahi", "light chali gayi", "no light"): either the
# street lights or the power at home; the citizen is asked.
SUPPLY_WORDS = frozenset("""
aa aati aata aayi aai aaye aana aarahi chali gayi gai gaya gayab kat kati kata cut gul gone
off nahi nhi nai nahin no not नहीं नही आ आती आई आना गई गयी चली कट कटी गुल गायब
""".split())


def power_kind(text: str) -> Optional[str]:
    """"street", "home" or "ambiguous" for a message about light or power; None otherwise
    (a light named without saying more is left to the classifier)."""
    tokens = set(_norm(text))
    if not tokens & LIGHT_WORDS:
        return None
    if tokens & STREET_WORDS:
        return "street"
    if tokens & HOME_WORDS:
        return "home"
    if tokens & LAMP_WORDS:
        return "street"
    if tokens & SUPPLY_WORDS:
        return "ambiguous"
    return None


def _span(text: str, phrase_words: Sequence[str]) -> Tuple[int, int]:
    """Character offsets of the words in `text` (the whole text if they cannot be placed)."""
    pattern = r"(?<![\w\u0900-\u097f])" + r"[\W_]+".join(map(re.escape, phrase_words))
    match = re.search(pattern, (text or "").casefold())
    return (match.start(), match.end()) if match else (0, len(text or ""))


def knowledge_entities(text: str, city: City) -> List[dict]:
    """`agency` and `service` entities of a message, values as in city.yml."""
    entities = []
    tokens = _norm(text)
    agency = find_agency(text, city)
    if agency:
        hit = _find_phrase(tokens, city.agencies[agency].words)
        start, end = _span(text, tokens[hit[0]:hit[0] + hit[1]]) if hit else (0, len(text))
        entities.append({"entity": "agency", "value": agency, "start": start, "end": end})
    service = find_service(text, city)
    if service:
        hit = _find_phrase(tokens, city.services[service].words)
        start, end = _span(text, tokens[hit[0]:hit[0] + hit[1]]) if hit else (0, len(text))
        entities.append({"entity": "service", "value": service, "start": start, "end": end})
    return entities
