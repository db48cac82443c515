"""civic.transliterate: one normal form for Devanagari, Hinglish and English spellings."""

import pytest

from civic.transliterate import devanagari_to_latin, normalize_token


def char_ngrams(word: str) -> set:
    """1- to 4-character n-grams with word boundaries, as CountVectorsFeaturizer char_wb."""
    padded = f" {word} "
    return {padded[i : i + n] for n in range(1, 5) for i in range(len(padded) - n + 1)}


def similarity(a: str, b: str) -> float:
    x, y = char_ngrams(normalize_token(a)), char_ngrams(normalize_token(b))
    return len(x & y) / len(x | y)


@pytest.mark.parametrize(
    "spellings",
    [
        ("पानी", "paani", "pani", "Paani"),
        ("नहीं", "nahi", "nahin", "nhi", "NAHI"),
        ("खराब", "kharab", "kharaab"),
        ("कूड़ा", "kooda", "kuda"),
        ("सड़क", "sadak"),
        ("बिजली", "bijli", "bijlee"),
        ("में", "mein", "men"),
        ("है", "hai", "h"),
        ("हैं", "hain"),
        ("गली", "gali", "galli"),
        ("शिकायत", "shikayat", "shikaayat"),
        ("सफ़ाई", "सफाई", "safai", "safaai"),
        ("ज़्यादा", "zyada", "jyada", "jyaada"),
        ("फ़ोन", "phon", "fon"),
        ("वार्ड", "ward", "vard"),
        ("नंबर", "nambar"),
        ("पच्चीस", "pachchis", "pacchis", "pachis"),
        ("सत्तर", "sattar"),
        ("कचरा", "kachra"),
        ("हाँ", "हां", "haan", "han"),
    ],
)
def test_spellings_meet(spellings):
    forms = {normalize_token(s) for s in spellings}
    assert len(forms) == 1, {s: normalize_token(s) for s in spellings}


@pytest.mark.parametrize("a, b", [("सड़क", "sarak"), ("कूड़ा", "kura"), ("kooda", "kura")])
def test_close_spellings_share_char_ngrams(a, b):
    assert similarity(a, b) >= 0.3


@pytest.mark.parametrize("a, b", [("paani", "bijli"), ("kharab", "sadak"), ("पानी", "गली")])
def test_different_words_stay_apart(a, b):
    assert similarity(a, b) < 0.15


@pytest.mark.parametrize(
    "word, latin",
    [
        ("सड़क", "sadak"),      # final schwa dropped
        ("बिजली", "bijli"),     # medial schwa dropped
        ("समझना", "samajhna"),  # schwa deletion runs right to left
        ("प्रकाश", "prakash"),  # no schwa deletion after a cluster
        ("पत्र", "patra"),      # final schwa kept after a conjunct ending in r
        ("न", "na"),           # one-consonant word keeps its vowel
        ("गंदा", "ganda"),
        ("ज्ञान", "gyan"),
        ("छः", "chhah"),
        ("क्‍षेत्र", "kshetra"),  # zero-width joiner ignored
        ("२३", "23"),
    ],
)
def test_devanagari_to_latin(word, latin):
    assert devanagari_to_latin(word) == latin


def test_precomposed_and_decomposed_nukta_agree():
    assert normalize_token("\u095c") == normalize_token("\u0921\u093c")  # ड़
    assert normalize_token("सड़क") == normalize_token("स\u095cक")


@pytest.mark.parametrize(
    "token, normal",
    [
        ("Street", "strit"), ("light", "light"), ("WATER", "vater"), ("23", "23"),
        ("२३", "23"), ("ward-23", "vard-23"), ("!!", "!!"), ("😡", "😡"), ("2️⃣", "2️⃣"),
        ("", ""), ("।", "।"), ("srn-000145", "srn-000145"),
    ],
)
def test_english_digits_emoji_and_punctuation(token, normal):
    assert normalize_token(token) == normal


def test_output_is_lowercase_and_idempotent():
    for token in ["पानी", "Paani", "NAHIN", "Kharaab", "सड़क", "Twenty-Three"]:
        once = normalize_token(token)
        assert once == once.lower()
        assert normalize_token(once) == once


def test_long_and_odd_input():
    # how long it takes: scripts/bench_text.py
    assert normalize_token("पानी" * 2500) == "pani" * 2500
    assert normalize_token("a" * 10_000) == "a"  # a letter held down is one letter
    assert normalize_token("😀" * 10_000) == "😀" * 10_000
    assert normalize_token("\u093f\u094d\u0902") == "in"  # signs with no consonant to attach to
