"""Write what Rasa needs for each complaint category of city.yml, so that a category is added
in city.yml alone (plus its training examples; docs/adding-a-category.md):

- domain/categories.yml: the intent `complaint_<key>` of each category, and the `category`
  slot, which each of those intents fills with its key;
- data/rules/categories.yml: the one rule by which any of those intents (or
  `report_complaint`, category not yet said) starts the complaint form;
- domain/city_facts.yml: the `language` slot, whose initial value is the city's default
  language, and the city facts the responses interpolate (helpline, names, office hours,
  category lists), with city.yml's values as initial values: a response Rasa renders
  without the action server (down, or not yet called) still names the real helpline.

Everything else about a category is read from city.yml at run time: the numbered menu and
its WhatsApp list (actions/complaints.py), the "1 to N" message, the lists in the help and
out-of-scope replies (slots set at session start), routing, SLA, labels.

`make categories` (and `make nlu-data`, `make train`, `make validate`) run it; `--check` fails
when the committed files are out of date. No Rasa import: city.yml in, YAML out.
"""
import argparse
import json
import os
import sys
from pathlib import Path
from typing import Dict, Optional

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: civic/ is beside scripts/
    sys.path.insert(0, str(ROOT))

from civic.city import load_city  # noqa: E402

DOMAIN_FILE = Path("domain") / "categories.yml"
RULES_FILE = Path("data") / "rules" / "categories.yml"
CITY_FACTS_FILE = Path("domain") / "city_facts.yml"
LANGUAGES = ("hi", "hinglish", "en")
HEADER = ("# Generated from city.yml by scripts/generate_categories.py (make categories): edit\n"
          "# city.yml, not this file. docs/adding-a-category.md says how a category is added.\n")


def _city_facts(city) -> Dict[str, object]:
    """Slot → initial value: the facts the responses name (actions/session.py sets the same)."""
    facts: Dict[str, object] = {
        "city_name_en": city.name["en"], "city_name_hi": city.text("name", "hi"),
        "ward_count": city.wards, "helpline": city.helpline,
        "covid_helpline": city.helplines.get("covid_national", "1075")}
    for field in ("office_hours", "covid_testing"):
        facts.update({f"{field}_{language}": city.text(field, language) for language in LANGUAGES})
    facts.update({f"category_list_{language}": city.category_list(language) for language in LANGUAGES})
    return facts


def build_city_facts(city) -> str:
    lines = [HEADER, 'version: "3.1"\n\n', "slots:\n",
             "  # The reply language: the city's default until the citizen's words say one, then\n",
             "  # their latest message's unless they chose one.\n",
             "  language:\n", "    type: categorical\n", f"    values: [{', '.join(LANGUAGES)}]\n",
             f"    initial_value: {city.default_language}\n", "    influence_conversation: false\n",
             "    mappings: [{type: custom}]  # set by rasa_extensions.language_policy.LanguagePolicy\n",
             "\n  # City facts for the responses; action_session_start sets them again.\n"]
    for slot, value in _city_facts(city).items():
        kind = "float" if isinstance(value, int) else "text"
        lines += [f"  {slot}:\n", f"    type: {kind}\n",
                  *(["    max_value: 1000\n"] if kind == "float" else []),
                  f"    initial_value: {json.dumps(value, ensure_ascii=False)}\n",
                  "    influence_conversation: false\n", "    mappings: [{type: custom}]\n"]
    return "".join(lines)


def build(city_file: Path) -> Dict[Path, str]:
    """The files' text for the categories and facts of `city_file`, in its order."""
    city = load_city(city_file)
    keys = list(city.categories)
    domain = [HEADER, 'version: "3.1"\n\n', "# one intent per complaint category\n", "intents:\n"]
    domain += [f"  - complaint_{key}\n" for key in keys]
    domain += [
        "\nslots:\n",
        "  # the complaint's category, a key of city.yml: from its intent, or from the category\n",
        "  # menu (validate_complaint_form)\n",
        "  category:\n",
        "    type: text\n",
        "    influence_conversation: false\n",
        "    mappings:\n",
    ]
    domain += [f"      - {{type: from_intent, intent: complaint_{key}, value: {key}}}\n" for key in keys]
    rules = [HEADER, 'version: "3.1"\n\n', "rules:\n",
             "  - rule: a complaint starts the form (it asks the category first when none is named)\n",
             "    steps:\n", "      - or:\n", "          - intent: report_complaint\n"]
    rules += [f"          - intent: complaint_{key}\n" for key in keys]
    rules += ["      - action: complaint_form\n", "      - active_loop: complaint_form\n"]
    return {DOMAIN_FILE: "".join(domain), RULES_FILE: "".join(rules),
            CITY_FACTS_FILE: build_city_facts(city)}


def stale_files(root: Path, city_file: Optional[Path] = None) -> Dict[Path, str]:
    """The files under `root` that differ from what city.yml makes, with the text they should have."""
    files = build(city_file or root / "city.yml")
    return {path: text for path, text in files.items()
            if not (root / path).exists() or (root / path).read_text(encoding="utf-8") != text}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="fail if the files are out of date")
    parser.add_argument("--root", type=Path, default=ROOT, help="the project folder (default: this one)")
    parser.add_argument("--city", type=Path, default=None,
                        help="the city file (default: $CITY_CONFIG, else ROOT/city.yml)")
    args = parser.parse_args()
    city_file = args.city or (Path(os.environ["CITY_CONFIG"]) if os.environ.get("CITY_CONFIG") else None)
    stale = stale_files(args.root, city_file)
    if args.check:
        for path in stale:
            print(f"{path} does not match the categories of city.yml: run `make categories`")
        return 1 if stale else 0
    for path, text in stale.items():
        (args.root / path).parent.mkdir(parents=True, exist_ok=True)
        (args.root / path).write_text(text, encoding="utf-8")
        print(f"{path}: written")
    return 0


if __name__ == "__main__":
    sys.exit(main())
