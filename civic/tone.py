"""The tone of a message where words say it plainly: anger at the corporation, and the folded
hands that greet or thank.

`is_angry` is for an answer that starts by acknowledging it ("Sorry for the trouble ..."): an
insult, "koi sunta hi nahi", "तुम लोग बस झूठ बोलते हो", "you people are useless", "😡". It looks
for phrases, not single words that also describe a problem ("the garbage is lying there").
`only_folded_hands`: "🙏", "🙏🙏", "🙏🏽" and nothing else.
"""
from __future__ import annotations

import re

# Word edges: a letter, a digit or a Devanagari sign on neither side ("।", the danda, ends a word).
_B = r"(?<![\w\u0900-\u0963\u0966-\u097F])"
_E = r"(?![\w\u0900-\u0963\u0966-\u097F])"
# Each alternative is a phrase in one of the three scripts; matching ignores case.
_ANGER = re.compile(
    _B + "(?:"
    # Hinglish
    r"koi\s+(?:bhi\s+)?(?:sunta|sunte|sunti|sunvai|sunwai)\s+(?:hi\s+)?(?:nahi|nhi|nahin|ni)"
    r"|koi\s+(?:nahi|nhi)\s+sunta|sunwai\s+(?:hi\s+)?(?:nahi|nhi)|sote\s+(?:rehte|rahte|rhte|ho|hai|h)"
    r"|jh?oo?th(?:e)?\s+(?:bolte|bol|bola|vaade|vade|wade)|jh?oo?the\s+(?:log|ho)|bewak[o]+f|bevak[o]+f"
    r"|nikamm?[ae]|kaam\s?chor|kamchor|ghatiya|bakwas|bakwaas|sharam\s+(?:nahi|nhi|karo|aani)"
    r"|gussa\s+(?:aa|aata|aa\s+raha)|pagal\s+(?:bana|samajh)|bharosa\s+(?:nahi|nhi|uth)"
    r"|(?:wale|waale|log|tum|aap)\s+(?:sab\s+|log\s+)?(?:bekaa?r|bekar|faltu)"
    r"|kitni\s+(?:baar|bar|dafa)\s+(?:bol|kah|keh|shikayat|complain|likh)\w*"
    r"|tang\s+aa\s+(?:gaye|gye|gaya|gya|chuke)|paise\s+kha|tax\s+kha|haram\s?khor|harami"
    r"|(?:bas|sirf|sirf\s+aur\s+sirf)\s+(?:tax|paisa|paise)\s+(?:lena|lete|vasool|wasool)"
    r"|(?:बस|सिर्फ़|सिर्फ)\s+(?:टैक्स|पैसा|पैसे)\s+(?:लेना|लेते|वसूल)"
    # Devanagari
    r"|कोई\s+(?:भी\s+)?(?:सुनता|सुनते|सुनती)\s+(?:ही\s+)?नहीं|कोई\s+नहीं\s+सुनता|सुनवाई\s+(?:ही\s+)?नहीं"
    r"|सोते\s+(?:रहते|हो|है)|झूठ\s+(?:बोलते|बोल|बोला|वादे)|झूठे|बेवकूफ|निकम्म[ेा]|कामचोर|घटिया|बकवास"
    r"|शर्म\s+(?:नहीं|करो|आनी)|गुस्सा\s+(?:आ|आता)|भरोसा\s+(?:नहीं|उठ)|तंग\s+आ\s+(?:गए|गये|चुके)"
    r"|(?:वाले|लोग|तुम|आप)\s+(?:सब\s+)?(?:बेकार|फालतू)|कितनी\s+(?:बार|दफ़ा|दफा)\s+(?:बोल|कह|शिकायत|लिख)[\u0900-\u097F]*"
    r"|टैक्स\s+(?:खा|खाते)|पैसे\s+खा|हरामखोर"
    # English
    r"|nobody\s+(?:listens|cares|does\s+anything)|no\s+one\s+(?:listens|cares)|useless|pathetic"
    r"|liars?|you\s+(?:people\s+)?(?:lie|are\s+lying)|shame\s+on|disgusting|fed\s+up|sick\s+of"
    r"|ridiculous|nonsense|worst|idiots?|stupid|corrupt|eat\s+our\s+(?:tax|money)|so\s+angry"
    r"|very\s+angry|i\s+am\s+angry|angry"
    r")" + _E + r"|[😡🤬😠👿💢]",
    re.IGNORECASE,
)
_FOLDED_HANDS = re.compile(r"^(?:\s*🙏[\U0001F3FB-\U0001F3FF\uFE0F]?)+\s*$")


def is_angry(text: str) -> bool:
    """True when `text` says plainly that the citizen is angry with the corporation."""
    return bool(text) and bool(_ANGER.search(text))


def only_folded_hands(text: str) -> bool:
    """True for "🙏", "🙏🙏", "🙏🏽 🙏": a greeting or a thanks, nothing to ask about."""
    return bool(text) and bool(_FOLDED_HANDS.match(text))


# "नमस्ते जी, हमारे मोहल्ले में ...", "hello sir. the drain ...": a greeting that opens a complaint
_GREETING_FIRST = re.compile(
    r"^\s*(?:namaste|namastey|namaskar|pranam|parnam|ram\s+ram|jai\s+hind|salaam|salam|"
    r"as+alamu?\s*alaikum|sat\s+sri\s+akal|hello|helo|hlo|hi+|hey|good\s+(?:morning|afternoon|evening)|"
    r"नमस्ते|नमस्कार|प्रणाम|राम\s+राम|जय\s+हिंद|सलाम)"
    r"(?:\s+(?:ji|jee|sir|sirji|madam|mam|maam|bhai|bhaiya|sahab|saab|जी|सर|भाई|भैया|साहब))*"
    r"\s*(?:[,.!।🙏]+\s*|\s+(?=\S))",
    re.IGNORECASE)


_HONORIFICS_ONLY = re.compile(r"^(?:\s*(?:ji|jee|sir|sirji|madam|mam|maam|bhai|bhaiya|sahab|saab|जी|सर|भाई|भैया|साहब)"
                              r"[\s,.!।🙏]*)+$", re.IGNORECASE)


def without_greeting(text: str) -> str:
    """The complaint without the greeting it opens with ("नमस्ते जी, हमारे मोहल्ले में दो दिन से
    पानी नहीं आ रहा है" → "हमारे मोहल्ले में ..."); a greeting alone stays as it is."""
    rest = _GREETING_FIRST.sub("", text, count=1)
    return rest if rest.strip() and not _HONORIFICS_ONLY.match(rest) else text
