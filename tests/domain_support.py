"""The assistant's domain, loaded in one place for every test: `DOMAIN`, the files of `domain/`
merged into one dict as Rasa merges them (for tests that look at responses, slots and intents
without loading Rasa, and for parametrising), and `rasa_domain()`, Rasa's own `Domain` object
(tests/conftest.py serves both as the fixtures `domain_dict` and `domain`)."""
import functools
from pathlib import Path
from typing import Any, Dict

import yaml

ROOT = Path(__file__).resolve().parent.parent
DOMAIN_DIR = ROOT / "domain"


def load_domain_dict(folder: Path = DOMAIN_DIR) -> Dict[str, Any]:
    """The domain files of `folder` merged (another project's copy in tests that make one)."""
    merged: Dict[str, Any] = {}
    for path in sorted(folder.glob("*.yml")):
        part = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader) or {}
        for key, value in part.items():
            if isinstance(value, dict):
                merged.setdefault(key, {}).update(value)
            elif isinstance(value, list):
                merged.setdefault(key, []).extend(value)
            else:
                merged[key] = value
    return merged


DOMAIN = load_domain_dict()


@functools.cache
def rasa_domain():
    """The domain as Rasa loads it (once per test process; trackers copy its slots)."""
    from rasa.shared.core.domain import Domain

    return Domain.load(str(DOMAIN_DIR))
