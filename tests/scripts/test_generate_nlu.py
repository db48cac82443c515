"""The training-data generator (scripts/generate_nlu.py): committed output up to date, nothing
from the held-out sets, variants that keep their meaning, seeds of missing intents skipped."""
import random

import pytest
import yaml

from civic.transliterate import normalize_token
from scripts import generate_nlu as gen


@pytest.fixture(scope="module")
def seeds():
    return yaml.safe_load(gen.SEEDS.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def built():
    return gen.build()


def test_committed_files_are_what_the_generator_makes(built):
    for name, text in built.items():
        path = gen.OUT / name
        assert path.exists() and path.read_text(encoding="utf-8") == text, \
            f"{path} is out of date: run `make nlu-data` and commit it"


def test_nothing_generated_repeats_a_held_out_message(built):
    held_out = {frozenset(gen.key(t)) for folder in gen.HELD_OUT for _, t in gen.read_folder(folder)}
    generated = [t for path in gen.OUT.glob("*.yml") for _, t in gen.read_nlu(path)]
    assert len(generated) > 1000
    assert not [t for t in generated if frozenset(gen.key(t)) in held_out]


def test_no_text_is_generated_twice_or_under_two_intents(built):
    generated = [gen.exact(t) for path in gen.OUT.glob("*.yml") for _, t in gen.read_nlu(path)]
    hand = {gen.exact(t) for _, t in gen.read_folder(gen.HAND, recursive=False)}
    assert len(generated) == len(set(generated))
    assert not hand & set(generated)


def test_a_ward_and_a_problem_is_the_problems_intent(seeds):
    examples = gen.complaint_examples(seeds, {"complaint_sewer", "inform"}, gen.swappers_from(seeds))
    with_ward = [(i, t) for i, t in examples if "ward" in t.lower() or "वार्ड" in t]
    assert len(with_ward) > 5
    assert {i for i, _ in with_ward} == {"complaint_sewer"}


def test_a_ward_beside_a_one_word_problem_is_the_problems_intent(seeds):
    seeds = {**seeds, "openers": {"complaint_sanitation": ["gandagi"], "inform": ["ward"]}}
    examples = gen.complaint_examples({**seeds, "complaints": {}}, {"complaint_sanitation", "inform"},
                                      gen.swappers_from(seeds))
    framed = [(i, t) for i, t in examples if "gandagi" in t and t != "gandagi"]
    assert len(framed) >= 2 and any(ch.isdigit() for _, t in framed for ch in t)
    assert {i for i, _ in framed} == {"complaint_sanitation"}
    assert ("inform", "ward") in examples and not [t for i, t in examples if i == "inform" and t != "ward"]


def test_phrases_come_with_another_spelling_and_only_for_intents_the_domain_has(seeds):
    seeds = {**seeds, "phrases": {"stop": {"hinglish": ["rehne do bhai"]},
                                  "not_an_intent": {"en": ["anything"]}}}
    examples = gen.phrase_examples(seeds, {"stop"}, gen.swappers_from(seeds))
    assert ("stop", "rehne do bhai") in examples
    assert {i for i, _ in examples} == {"stop"} and len(examples) == 2


def test_seeds_of_an_intent_the_domain_lacks_are_skipped(seeds):
    files = gen.generate([("greet", "namaste ji")], seeds, {"greet", "out_of_scope"}, [])
    intents = {i for examples in files.values() for i, _ in examples}
    assert intents == {"greet", "out_of_scope"}


def test_spelling_variants_keep_the_words():
    swapper = gen.Swapper([["nahi", "nhi", "nai"], ["raha", "rha"]])
    variant = swapper("nal me pani nahi aa raha", random.Random(1), share=1.0)
    assert variant != "nal me pani nahi aa raha"
    assert variant.split()[:3] == ["nal", "me", "pani"]
    assert variant.split()[3] in {"nhi", "nai"} and variant.split()[5] == "rha"
    # whole words only: "nahin" is not "nahi" + "n"
    assert swapper("nahin", random.Random(1), share=1.0) == "nahin"


def test_devanagari_variants_differ_only_in_marks_people_type_either_way():
    words = gen.Swapper([["नहीं", "नही"]])
    for text in ["सड़क टूटी हुई है", "गाँव में पानी नहीं", "हिंदी में नंबर बताओ"]:
        variant = gen.devanagari_variant(text, words, random.Random(text))
        assert variant != text
        assert [normalize_token(w) for w in variant.split()] == \
               [normalize_token(w) for w in text.split()]
