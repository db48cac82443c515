"""civic.language: detecting hi / hinglish / en, and explicit language requests."""

import pytest

from civic.language import detect_language, requested_language


@pytest.mark.parametrize(
    "text, language",
    [
        ("मेरे वार्ड में पानी नहीं आ रहा", "hi"),
        ("सड़क टूटी है 😡", "hi"),
        ("वार्ड 23 में light खराब है", "hi"),        # Devanagari words are the majority
        ("पानी नहीं aa raha", "hi"),                 # a tie goes to Devanagari
        ("ward 23 me light kharab", "hinglish"),
        ("light nahi aa rahi", "hinglish"),
        ("Mere ghar ke samne ka khamba tuta hai", "hinglish"),
        ("kooda", "hinglish"),
        ("safai kab hogi", "hinglish"),
        ("nali saaf karwaiye", "hinglish"),
        ("Kya haal hai", "hinglish"),
        ("paani nhi aa rha 3 din se", "hinglish"),
        ("street light not working since 3 days", "en"),
        ("garbage not collected in ward 5", "en"),
        ("What is the status of my complaint SRN 145?", "en"),
        ("help me", "en"),
        ("my gali is dirty", "en"),
        ("pothole", "en"),
    ],
)
def test_detect_language(text, language):
    assert detect_language(text) == language


@pytest.mark.parametrize(
    "text", ["", "23", "२३", "👍", "🙏🙏", "???", "SRN-000145", "srn145", "ok", "2️⃣", "  "]
)
def test_no_language(text):
    assert detect_language(text) is None


@pytest.mark.parametrize(
    "text, language",
    [
        ("English please", "en"), ("speak english", "en"), ("angrezi me", "en"),
        ("Can you reply in English?", "en"), ("अंग्रेज़ी में बात करें", "en"), ("English", "en"),
        ("hindi me baat karo", "hi"), ("हिंदी में बोलो", "hi"), ("हिन्दी", "hi"),
        ("not english, hindi please", "hi"),
        ("hinglish", "hinglish"), ("roman hindi", "hinglish"),
        ("Hindi in English letters please", "hinglish"),
    ],
)
def test_requested_language(text, language):
    assert requested_language(text) == language


@pytest.mark.parametrize(
    "text",
    ["ward 23 me light kharab", "mujhe english nahi aati", "I want to complain about the road",
     "hello", "", "hindi aur english dono"],
)
def test_no_request(text):
    assert requested_language(text) is None


def test_a_long_message_is_read_whole():
    # how long it takes: scripts/bench_text.py
    text = ("ward 23 me paani nahi aa raha hai 😡 " * 300)[:10_000]
    assert detect_language(text) == "hinglish"
    assert requested_language(text) is None
