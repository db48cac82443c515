"""docs/contracts.md stays true to the code: every intent, entity, slot, status, class and
credential key it names exists where it says."""
import re
from pathlib import Path
from typing import Dict, List

import yaml
from domain_support import DOMAIN

from channels.whatsapp import CREDENTIAL_ENV_VARS, WhatsAppInput
from civic.tickets import STATUSES

ROOT = Path(__file__).resolve().parent.parent
CONTRACTS = (ROOT / "docs" / "contracts.md").read_text(encoding="utf-8")
LANGUAGES = ("hi", "hinglish", "en")


def section(title: str) -> str:
    """The text under the heading `title`, up to the next heading of its level or above."""
    heading = re.search(rf"^(#+) {re.escape(title)}$", CONTRACTS, re.M)
    assert heading, title
    rest = CONTRACTS[heading.end():]
    end = re.search(rf"^#{{1,{len(heading.group(1))}}} ", rest, re.M)
    return rest[:end.start()] if end else rest


def names(text: str) -> List[str]:
    """The identifiers written in backticks (not paths, placeholders or phrases)."""
    return [n for n in re.findall(r"`([^`]+)`", text) if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*\*?", n)]


def table_column(text: str, column: int) -> List[str]:
    rows = [line.split("|")[1:-1] for line in text.splitlines() if line.startswith("| `")]
    return [re.search(r"`([^`]+)`", row[column]).group(1) for row in rows]


def test_every_intent_named_is_in_the_domain():
    intents_part = section("Intents").split("### Complaint categories")[0]
    named = set(names(intents_part)) - {"ticket_status"}  # an entity, checked below
    assert named and named <= set(DOMAIN["intents"]), named - set(DOMAIN["intents"])
    assert "ticket_status" in DOMAIN["entities"]


def test_the_categories_described_are_city_yml_categories_with_their_intents():
    city = yaml.safe_load((ROOT / "city.yml").read_text(encoding="utf-8"))
    described = table_column(section("Complaint categories"), 0)
    assert described and set(described) <= set(city["categories"])
    assert {f"complaint_{key}" for key in city["categories"]} <= set(DOMAIN["intents"])


def test_every_entity_named_is_in_the_domain():
    named = table_column(section("Entities"), 0)
    assert named and set(named) <= set(DOMAIN["entities"])


def test_every_slot_named_is_in_the_domain():
    named = set()
    for name in names(section("Slots")):
        if name.endswith("_*"):
            named |= {name[:-1] + language for language in LANGUAGES}
        elif name not in LANGUAGES and not name.startswith("_"):  # values, suffixes
            named.add(name)
    assert named and named <= set(DOMAIN["slots"]), named - set(DOMAIN["slots"])
    assert DOMAIN["slots"]["language"]["values"] == list(LANGUAGES)


def test_the_statuses_are_the_ticket_statuses():
    named = [n for n in names(section("Tickets")) if n.islower() and "_URL" not in n]
    assert set(named) == set(STATUSES)


def test_the_whatsapp_channel_and_its_credential_keys():
    part = section("WhatsApp channel")
    assert "`channels.whatsapp.WhatsAppInput`" in part and WhatsAppInput.name() == "whatsapp"
    assert f"`/webhooks/{WhatsAppInput.name()}/webhook`" in part
    documented: Dict[str, str] = dict(zip(table_column(part, 0), table_column(part, 1)))
    assert documented and all(CREDENTIAL_ENV_VARS[key] == env for key, env in documented.items())
    credentials = yaml.safe_load((ROOT / "credentials.yml").read_text(encoding="utf-8"))
    assert set(documented) <= set(credentials["channels.whatsapp.WhatsAppInput"])


def test_the_environment_variables_named_are_in_env_example():
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    variables = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", CONTRACTS))
    assert variables and all(re.search(rf"^#?\s*{v}=", example, re.M) for v in variables), variables


def test_the_readme_links_only_to_files_of_the_repository():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = [t for t in re.findall(r"\]\(([^)#\s]*)(?:#[^)]*)?\)", readme) if t]
    assert targets
    for target in targets:
        path = (ROOT / target).resolve()
        assert ROOT in path.parents and path.exists(), target
