"""Strict data validation: `rasa data validate --fail-on-warnings`, with one exception.

Rasa's validator counts a response as used only when a story or rule names it, so it warns
about every response that a form asks (`utter_ask_<slot>`) or that an action dispatches by
name. This script runs the same checks as `rasa data validate`, fails on every warning and
error, except "utterance not used" for a response that a form asks or that actions/ or
channels/ names (the WhatsApp channel sends `utter_no_reply` itself), and
"intent without NLU examples" for EXTERNAL_ intents, which only Rasa's external-event API sends.
Any other warning fails: an intent without examples, a duplicate example, a story conflict.

It also checks the complaint categories of city.yml (`CITY_CONFIG` if set): the files made
from it (scripts/generate_categories.py) are up to date, and each category has training
examples; each problem says what to do (docs/adding-a-category.md).
"""
import os
import re
import sys
import warnings
from pathlib import Path

from generate_categories import load_city, stale_files

ROOT = Path(__file__).resolve().parent.parent
UNUSED = re.compile(r"The utterance '(utter_\w+)' is not used in any story or rule\.")
# Intents that Rasa's external-event API triggers: never typed, so no NLU examples.
EXTERNAL = re.compile(r"The intent 'EXTERNAL_\w+' is listed in the domain file, but is not found in the NLU")


def responses_used_by_code_and_forms(domain) -> set:
    used = {"utter_default"}  # sent by Rasa's own action_default_fallback
    for path in [*(ROOT / "actions").glob("*.py"), *(ROOT / "channels").glob("*.py")]:
        used.update(re.findall(r"[\"'](utter_\w+)[\"']", path.read_text(encoding="utf-8")))
    # A form asks for its required slots, and for any slot its validation action adds to them
    # (FormValidationAction.required_slots), by the response utter_ask_<slot>.
    for form in domain.forms:
        for slot in domain.slots:
            used.update({f"utter_ask_{slot.name}", f"utter_ask_{form}_{slot.name}"})
    return used


def category_problems(nlu_intents: set) -> list:
    """What is missing for the categories of city.yml, each with the step that adds it."""
    city_file = Path(os.environ.get("CITY_CONFIG") or ROOT / "city.yml")
    problems = [f"{path} does not match the categories of {city_file.name}: run `make categories`"
                for path in stale_files(ROOT, city_file)]
    for key in load_city(city_file).categories:
        if f"complaint_{key}" not in nlu_intents:
            problems.append(f"category '{key}' of {city_file.name} has no training examples: add "
                            f"examples of the intent complaint_{key} to a file in data/nlu/")
    return problems


def main() -> int:
    from rasa.shared.importers.importer import TrainingDataImporter
    from rasa.validator import Validator

    importer = TrainingDataImporter.load_from_config(
        str(ROOT / "config.yml"), str(ROOT / "domain"), [str(ROOT / "data")]
    )
    validator = Validator.from_importer(importer)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        results = {
            "domain": validator.verify_domain_validity(),
            "actions in stories and rules": validator.verify_actions_in_stories_rules(),
            "forms in stories and rules": validator.verify_forms_in_stories_rules(),
            "form slots": validator.verify_form_slots(),
            "slot mappings": validator.verify_slot_mappings(),
            "nlu and utterances": validator.verify_nlu(ignore_warnings=True),
            "story structure": validator.verify_story_structure(ignore_warnings=False),
        }
        validator.warn_if_config_mandatory_keys_are_not_set()

    allowed = responses_used_by_code_and_forms(importer.get_domain())
    problems = [f"check failed: {name}" for name, ok in results.items() if not ok]
    problems += category_problems(set(importer.get_nlu_data().intents))
    for warning in caught:
        if not issubclass(warning.category, UserWarning) or "rasa" not in warning.filename:
            continue  # library deprecation notices, not findings about our data
        message = str(warning.message)
        unused = UNUSED.search(message)
        if (unused and unused.group(1) in allowed) or EXTERNAL.search(message):
            continue
        problems.append(message)
    for problem in problems:
        print(f"validate: {problem}", file=sys.stderr)
    print(f"validate: {len(problems)} problem(s); {len(allowed)} responses used by forms/actions")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
