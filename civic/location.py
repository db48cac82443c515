"""Find the place of a complaint inside a free-form message.

"ward 23 me street light kharab hai Court Road pe" → "Court Road". Two sources: the city's
list of well-known localities (city.yml `localities`), then a phrase before a place
postposition ("… ke paas", "… के पास", "near …"). Conservative: a wrong place is worse than
asking, so anything unclear returns None and the form asks.
"""
import re
from typing import Iterable, Optional

from civic.city import get_city

# "<place> ke paas / ke samne / pe / par / के पास / के सामने / पर / में" (after the place)
_AFTER = r"(?:ke\s+(?:paas|pass|pas|samne|saamne|piche|peeche)|के\s+(?:पास|सामने|पीछे)|pe|par|पर)"
_PLACE_WORD = r"[A-Z][\w.]*|\d+|[\u0900-\u097F]+"
_BEFORE_POSTPOSITION = re.compile(
    rf"((?:(?:{_PLACE_WORD})\s+){{0,3}}(?:road|rd|marg|chowk|nagar|colony|bazar|bazaar|market|gali|mohalla|"
    rf"रोड|मार्ग|चौक|नगर|कॉलोनी|बाजार|बाज़ार|गली|मोहल्ला)(?:\s+(?:no\.?|number|नंबर)\s*\d+)?)\s+{_AFTER}\b",
    re.IGNORECASE,
)
# "near <Place Words>" / "opposite <Place Words>"
_NEAR = re.compile(r"\b(?:near|opposite|opp\.?|behind|in front of)\s+((?:[A-Z][\w.]*\s*){1,4})")


def extract_location(text: str, localities: Optional[Iterable[str]] = None) -> Optional[str]:
    """The place named in `text`, as typed, or None."""
    if not text or len(text) > 2000:
        return None
    names = sorted(localities if localities is not None else get_city().localities, key=len, reverse=True)
    lowered = text.casefold()
    for name in names:
        start = lowered.find(name.casefold())
        if start >= 0:
            return text[start:start + len(name)]
    for pattern in (_BEFORE_POSTPOSITION, _NEAR):
        match = pattern.search(text)
        if match:
            return match.group(1).strip(" ,.")
    return None
