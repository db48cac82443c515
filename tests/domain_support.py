"""The assistant's domain as one dict, read from the files of `domain/` (as Rasa merges them),
for tests that look at responses, slots and intents without loading Rasa."""
from pathlib import Path
from typing import Any, Dict

import yaml

ROOT = Path(__file__).resolve().parent.parent
DOMAIN_DIR = ROOT / "domain"


def load_domain_dict(folder: Path = DOMAIN_DIR) -> Dict[str, Any]:
    merged: Dict[str, Any] = {}
    for path in sorted(folder.glob("*.yml")):
        part = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for key, value in part.items():
            if isinstance(value, dict):
                merged.setdefault(key, {}).update(value)
            elif isinstance(value, list):
                merged.setdefault(key, []).extend(value)
            else:
                merged[key] = value
    return merged


DOMAIN = load_domain_dict()
