"""civic.tone: anger said plainly, in the three scripts; folded hands alone."""
import pytest

from civic.tone import is_angry, only_folded_hands, without_greeting


@pytest.mark.parametrize("text", [
    "तुम लोग बस झूठ बोलते हो, बहुत गुस्सा आ रहा है", "कोई सुनता ही नहीं!",
    "तुम लोग बस टैक्स लेना जानते हो!!", "ye log bas tax lena jaante h",  # round 4 (29)
    "नाली 10 दिन से बंद है, कोई सुनता ही नहीं। घंटाघर के पास", "नगर निगम वाले बेकार हैं",
    "कितनी बार शिकायत करूँ", "koi sunta hi nahi", "10 din ho gaye naali band h koi sunta hi nahi",
    "nagar nigam wale sote rehte h kya", "kitni baar bolu", "jhooth bolte ho tum log",
    "you people are useless", "Nobody listens here", "you just eat our tax money", "😡😡😡",
    "I am fed up with this",
])
def test_anger(text):
    assert is_angry(text)


@pytest.mark.parametrize("text", [
    "", "the garbage is lying there again", "garbage not collected", "पानी नहीं आ रहा",
    "koi bhi light nahi jal rahi", "sote waqt machhar bahut hain", "कब तक ठीक होगा?",
    "please register it", "🙏",
])
def test_no_anger(text):
    assert not is_angry(text)


@pytest.mark.parametrize("text, expected", [
    ("🙏", True), ("🙏🙏", True), ("🙏🏻 🙏", True), ("🙏 thanks", False), ("👍", False), ("", False),
])
def test_folded_hands_alone(text, expected):
    assert only_folded_hands(text) is expected


@pytest.mark.parametrize("text, expected", [
    ("नमस्ते जी, हमारे मोहल्ले में दो दिन से पानी नहीं आ रहा है", "हमारे मोहल्ले में दो दिन से पानी नहीं आ रहा है"),
    ("hello sir. the drain is blocked", "the drain is blocked"),
    ("hii bhai light kharab h", "light kharab h"),
    ("Good morning 🙏 kooda nahi utha", "kooda nahi utha"),
    ("namaste", "namaste"),  # a greeting alone stays
    ("hilly area me paani nahi", "hilly area me paani nahi"),  # not a greeting
    ("ram ram ji", "ram ram ji"),
])
def test_a_complaint_loses_the_greeting_it_opens_with(text, expected):
    """Round 4 (04): the ticket's description began "नमस्ते जी, ..."."""
    assert without_greeting(text) == expected
