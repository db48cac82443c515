"""How long the text tools take on a long WhatsApp message (10,000 characters, the most a
citizen's text can hold here): language detection, transliteration, numbers, entities, the
district finder and the Rasa entity extractor. These timings used to be asserted in unit
tests; on a shared machine that is a flaky test, so they are measured here (best of --runs).

    .venv/bin/python scripts/bench_text.py [--runs 5] [--budget-ms 50]

Exit status 1 when a case's best time is over its budget (the unit tests' old bounds).
"""
import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _pseudo_words(count, seed):
    """Deterministic made-up words: a message of words no table knows."""
    words, letters = [], "abcdefghijklmnopqrstuvwxyz"
    for _ in range(count):
        seed = (seed * 1103515245 + 12345) % 2**31
        words.append("".join(letters[(seed >> (3 * k)) % 26] for k in range(6 + seed % 5)))
    return words


def cases():
    """(name, budget in ms, function of no argument)."""
    from civic.districts import find_district, resolve_district
    from civic.entities import extract_entities
    from civic.language import detect_language, requested_language
    from civic.numbers import find_numbers, parse_menu_choice, parse_number
    from civic.transliterate import normalize_token

    hinglish = ("ward 23 me paani nahi aa raha hai 😡 " * 300)[:10_000]
    complaint = ("ward 23 me light kharab hai 🙏 " * 400)[:10_000]
    filler = ("hamari gali me paani nahi aa raha bahut pareshani hai kripya jaldi "
              "sunwai kare नाली का गंदा पानी सड़क पर बह रहा है ")
    repeated = (filler * (10_000 // len(filler) + 1))[:10_000]
    new_words = " ".join(_pseudo_words(1500, 0))[:10_000]
    resolve_district("warm up")  # the gazetteer loads once per process
    yield "language: detect + requested", 2000, lambda: (detect_language(hinglish),
                                                        requested_language(hinglish))
    yield "transliterate: 10,000 letters x3", 2000, lambda: (
        normalize_token("पानी" * 2500), normalize_token("a" * 10_000), normalize_token("😀" * 10_000))
    yield "numbers: find/parse/menu", 2000, lambda: (
        find_numbers(hinglish), parse_number(hinglish), parse_menu_choice(hinglish, 5),
        find_numbers("9" * 10_000))
    yield "entities: ward in a long complaint", 3000, lambda: extract_entities(complaint, "SRN", 70)
    yield "districts: repeated words", 50, lambda: find_district(repeated)
    yield "districts: new words", 50, lambda: find_district(new_words)
    yield "districts: a district at the end", 50, lambda: find_district(repeated[:-20] + " saharanpur")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    over = 0
    for name, budget_ms, work in cases():
        timings = []
        for _ in range(args.runs):
            started = time.perf_counter()
            work()
            timings.append((time.perf_counter() - started) * 1000)
        best = min(timings)
        over += best > budget_ms
        print(f"{name:36} best {best:8.1f} ms  median {sorted(timings)[len(timings) // 2]:8.1f} ms"
              f"  budget {budget_ms} ms{'  OVER' if best > budget_ms else ''}")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
