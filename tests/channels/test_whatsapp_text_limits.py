"""Cutting and splitting text for WhatsApp without breaking Devanagari syllables."""

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from channels.text_limits import graphemes, measure, split_text, truncate

VIRAMA = "\u094d"


def test_conjuncts_and_vowel_signs_stay_in_one_cluster():
    assert graphemes("क्षत्रिय") == ["क्ष", "त्रि", "य"]
    assert graphemes("स्ट्रीट") == ["स्ट्री", "ट"]
    assert graphemes("नि👍🏽") == ["नि", "👍🏽"]


def test_emoji_count_twice_like_utf16():
    assert measure("abc") == 3
    assert measure("👍") == 2


def test_truncate_keeps_short_text():
    assert truncate("  पानी  ", 20) == "पानी"


@pytest.mark.parametrize("limit", range(2, 20))
def test_truncate_never_leaves_a_dangling_virama_or_matra(limit):
    title = "स्ट्रीट लाइट ख़राब है"
    cut = truncate(title, limit)
    assert measure(cut) <= limit
    kept = cut[:-1].rstrip()
    assert title.startswith(kept)
    following = title[len(kept) :]
    # what follows the cut starts a new letter, and what is kept does not end in a virama
    assert not following or not unicodedata.combining(following[0])
    assert not following or unicodedata.category(following[0]) != "Mc"
    assert not kept.endswith(VIRAMA)


def test_split_prefers_paragraphs_then_lines_then_sentences():
    assert split_text("aaaa\n\nbbbb", 7) == ["aaaa", "bbbb"]
    assert split_text("aa\nbb cc", 6) == ["aa", "bb cc"]
    assert split_text("एक। दो तीन", 8) == ["एक।", "दो तीन"]
    assert split_text("abcdefgh", 3) == ["abc", "def", "gh"]


@given(st.text(min_size=0, max_size=400), st.integers(min_value=4, max_value=60))
def test_split_parts_fit_and_keep_every_letter(text, limit):
    parts = split_text(text, limit)
    assert all(0 < measure(part) <= limit for part in parts)
    squeeze = lambda s: "".join(s.split())  # noqa: E731 - whitespace at cuts may go
    assert squeeze("".join(parts)) == squeeze(text)


@given(
    st.text(alphabet=st.characters(min_codepoint=0x0900, max_codepoint=0x097F), max_size=60),
    st.integers(min_value=2, max_value=30),
)
def test_truncate_devanagari_cuts_between_clusters(text, limit):
    cut = truncate(text, limit)
    assert measure(cut) <= limit
    kept = cut[:-1] if cut.endswith("…") and cut != text.strip() else cut
    clusters = graphemes(text.strip())
    joined = ""
    for cluster in clusters:
        if len(joined) >= len(kept.rstrip()):
            break
        joined += cluster
    assert joined.rstrip() == kept.rstrip()
