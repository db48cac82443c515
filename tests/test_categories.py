"""city.yml is the one list of complaint categories: the intents, the `category` slot's
mappings, the rule that starts the form, the numbered menu and the replies that list them all
agree with it; and a category added to a copy of the project (city.yml and training examples,
docs/adding-a-category.md) is picked up everywhere and passes data validation."""
import asyncio
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List

import pytest
import yaml
from domain_support import load_domain_dict
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.complaints import ActionAskCategory, ValidateComplaintForm
from actions.session import ActionSessionStart
from civic.city import get_city

ROOT = Path(__file__).resolve().parent.parent
PROJECT = ["city.yml", "config.yml", "domain", "data", "actions", "channels", "civic",
           "scripts/validate_data.py", "scripts/generate_categories.py"]
NEW = "stray_animals"
NEW_LINE = (f"  {NEW}: {{department: sanitation, sla_hours: 48, en: Stray animals, hi: आवारा पशु, "
            "hinglish: Awara pashu}\n")
NEW_EXAMPLES = """version: "3.1"
nlu:
  - intent: complaint_stray_animals
    examples: |
      - gali me awara kutte bahut ho gaye hain
      - awara saand ne raasta rok rakha hai
      - bandar ghar me ghus jaate hain kuch karo
      - मोहल्ले में आवारा कुत्ते काटने दौड़ते हैं
      - सड़क पर आवारा गाय बैठी रहती हैं
      - बंदरों का आतंक है, पकड़वाइए
      - stray dogs are chasing children in our lane
      - please catch the stray cattle on the main road
      - monkeys are entering houses in our colony
"""


def read_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def category_keys(city_file: Path) -> List[str]:
    return list(read_yaml(city_file)["categories"])


def rules_starting_the_form(root: Path) -> List[List[str]]:
    """For each rule whose first step is an `or` of intents followed by complaint_form: the intents."""
    found = []
    for path in sorted((root / "data").rglob("*.yml")):
        for rule in (read_yaml(path) or {}).get("rules") or []:
            steps = rule.get("steps") or []
            if len(steps) > 1 and "or" in steps[0] and steps[1] == {"action": "complaint_form"}:
                found.append([step["intent"] for step in steps[0]["or"]])
    return found


def tracker(text: str = "", slots: Dict[str, Any] = None) -> Tracker:
    return Tracker.from_dict({
        "sender_id": "919800000002", "slots": {"language": "en", **(slots or {})},
        "latest_message": {"text": text, "intent": {"name": "inform", "confidence": 1.0},
                           "entities": [], "metadata": {}},
        "events": [], "active_loop": {"name": "complaint_form"}})


def menu_buttons() -> List[Dict[str, str]]:
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionAskCategory().run(dispatcher, tracker(slots={"requested_slot": "category"}), {}))
    return dispatcher.messages[0]["buttons"]


def category_for_answer(answer: str) -> Any:
    slots = {"requested_slot": "category"}
    form = ValidateComplaintForm()
    result = asyncio.run(form.validate_category(answer, CollectingDispatcher(), tracker(answer, slots), {}))
    return result["category"]


def help_list() -> List[str]:
    events = asyncio.run(ActionSessionStart().run(CollectingDispatcher(), tracker(), {}))
    return next(e["value"] for e in events if e.get("name") == "category_list_en").split(", ")


def check_everything_follows(root: Path) -> None:
    """The domain, the rules, the menu and the help reply of the project at `root` agree
    with its city.yml (the actions read the city file that CITY_CONFIG names)."""
    keys = category_keys(root / "city.yml")
    domain = load_domain_dict(root / "domain")
    assert [i for i in domain["intents"] if i in {f"complaint_{k}" for k in keys}] == \
        [f"complaint_{k}" for k in keys]
    mappings = domain["slots"]["category"]["mappings"]
    assert [(m["type"], m["intent"], m["value"]) for m in mappings] == \
        [("from_intent", f"complaint_{k}", k) for k in keys]
    assert rules_starting_the_form(root) == [["report_complaint", *(f"complaint_{k}" for k in keys)]]
    names = [read_yaml(root / "city.yml")["categories"][k]["en"] for k in keys]
    assert [(b["title"], b["payload"]) for b in menu_buttons()] == \
        [(name, f"/complaint_{k}") for name, k in zip(names, keys)]
    for number, key in enumerate(keys, 1):  # a citizen who types "3" gets the third in the menu
        assert category_for_answer(str(number)) == key
    assert category_for_answer(str(len(keys) + 1)) is None
    assert help_list() == names


@pytest.fixture
def use_city(monkeypatch):
    def use(city_file: Path) -> None:
        monkeypatch.setenv("CITY_CONFIG", str(city_file))
        get_city.cache_clear()

    yield use
    monkeypatch.delenv("CITY_CONFIG", raising=False)
    get_city.cache_clear()


def test_the_domain_rules_menu_and_help_agree_with_city_yml(use_city):
    use_city(ROOT / "city.yml")
    check_everything_follows(ROOT)


def test_every_category_has_hand_written_training_examples():
    intents = {entry["intent"] for path in (ROOT / "data" / "nlu").glob("*.yml")
               for entry in (read_yaml(path) or {}).get("nlu") or [] if "intent" in entry}
    assert {f"complaint_{k}" for k in category_keys(ROOT / "city.yml")} <= intents


def copy_project(to: Path) -> Path:
    for name in PROJECT:
        source, target = ROOT / name, to / name
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return to


def run_script(root: Path, script: str, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("CITY_CONFIG", "PYTHONPATH")}
    return subprocess.run([sys.executable, str(root / "scripts" / script), *args], cwd=root, env=env,
                          capture_output=True, text=True, timeout=300)


def test_a_category_added_in_city_yml_with_examples_is_picked_up_everywhere(tmp_path, use_city):
    project = copy_project(tmp_path / "project")
    city = project / "city.yml"
    lines = city.read_text(encoding="utf-8").splitlines(keepends=True)
    after = next(i for i, line in enumerate(lines) if line.startswith("  house_tax:"))
    city.write_text("".join(lines[:after + 1] + [NEW_LINE] + lines[after + 1:]), encoding="utf-8")
    assert category_keys(city)[-1] == NEW

    # city.yml alone: validation names both missing steps
    before = run_script(project, "validate_data.py")
    assert before.returncode == 1
    assert "domain/categories.yml does not match the categories of city.yml: run `make categories`" \
        in before.stderr
    assert "data/rules/categories.yml does not match" in before.stderr
    assert (f"category '{NEW}' of city.yml has no training examples: add examples of the intent "
            f"complaint_{NEW} to a file in data/nlu/") in before.stderr

    # the steps of docs/adding-a-category.md: training examples, then `make categories`
    (project / "data" / "nlu" / f"{NEW}.yml").write_text(NEW_EXAMPLES, encoding="utf-8")
    generated = run_script(project, "generate_categories.py")
    assert generated.returncode == 0, generated.stderr
    after_steps = run_script(project, "validate_data.py")
    assert after_steps.returncode == 0, after_steps.stdout + after_steps.stderr
    assert "validate: 0 problem(s)" in after_steps.stdout

    use_city(city)
    check_everything_follows(project)
    assert menu_buttons()[-1] == {"title": "Stray animals", "payload": f"/complaint_{NEW}"}
    # nothing else of the project had to change
    changed = {str(p.relative_to(project)) for p in project.rglob("*") if p.is_file()
               and "__pycache__" not in p.parts
               and (not (ROOT / p.relative_to(project)).exists()
                    or (ROOT / p.relative_to(project)).read_bytes() != p.read_bytes())}
    assert changed == {"city.yml", f"data/nlu/{NEW}.yml", "domain/categories.yml",
                       "data/rules/categories.yml", "domain/city_facts.yml"}


def test_the_generated_files_are_up_to_date():
    result = run_script(ROOT, "generate_categories.py", "--check")
    assert result.returncode == 0, result.stdout
