"""Export what citizens wrote that the assistant did not understand, ready to annotate.

    python scripts/export_misunderstood.py                      # TRACKER_STORE_URL, results/misunderstood.yml
    python scripts/export_misunderstood.py --url sqlite:///rasa.db --threshold 0.6 --out new.yml
    python scripts/export_misunderstood.py --trackers dumps/*.json

A message is taken when NLU said nlu_fallback, when the next action was
action_default_fallback (or the two-stage "did you mean" question), or when its intent
confidence was below --threshold (default 0.6, env MISUNDERSTOOD_THRESHOLD).
Button payloads ("/intent{...}") and external events are skipped.

Sources: Rasa's SQL tracker store (its `events` table) through a SQLAlchemy URL
(--url, default env TRACKER_STORE_URL), or files of tracker JSON dumps (--trackers): one
tracker ({"sender_id", "events"}), a list of them, or one tracker per line.

The output is Rasa NLU YAML grouped by the intent the model guessed (the best intent
other than nlu_fallback), each text once, most frequent first; a comment above each
group lists how often each text came and its best confidence. Move every example under
its true intent (or delete it) before adding the file to data/nlu/.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Optional, Tuple

DEFAULT_THRESHOLD = 0.6
FALLBACK_INTENT = "nlu_fallback"
FALLBACK_ACTIONS = {"action_default_fallback", "action_default_ask_affirmation",
                    "action_two_stage_fallback"}
UNKNOWN = "unknown"


@dataclass
class Misunderstood:
    """One distinct text and what was seen about it."""

    text: str
    predicted: str
    count: int = 0
    best_confidence: float = 0.0
    reasons: set = field(default_factory=set)


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def predicted_intent(parse_data: dict) -> Tuple[str, float]:
    """The model's best guess other than nlu_fallback, and its confidence."""
    intent = parse_data.get("intent") or {}
    if intent.get("name") and intent["name"] != FALLBACK_INTENT:
        return intent["name"], float(intent.get("confidence") or 0.0)
    for ranked in parse_data.get("intent_ranking") or []:
        if ranked.get("name") and ranked["name"] != FALLBACK_INTENT:
            return ranked["name"], float(ranked.get("confidence") or 0.0)
    return UNKNOWN, float(intent.get("confidence") or 0.0)


def misunderstood_in(events: Iterable[dict], threshold: float) -> Iterator[Tuple[str, str, float, str]]:
    """(text, predicted intent, confidence, reason) for each message of one conversation."""
    pending: Optional[Tuple[str, str, float, List[str]]] = None

    def flush():
        if pending and pending[3]:
            yield pending[0], pending[1], pending[2], ",".join(sorted(pending[3]))

    for event in events:
        kind = event.get("event")
        if kind == "user":
            yield from flush()
            pending = None
            text = normalise(event.get("text") or "")
            parse_data = event.get("parse_data") or {}
            raw_intent = (parse_data.get("intent") or {}).get("name") or ""
            if not text or text.startswith("/") or raw_intent.startswith("EXTERNAL_"):
                continue
            name, confidence = predicted_intent(parse_data)
            reasons = []
            if raw_intent == FALLBACK_INTENT:
                reasons.append(FALLBACK_INTENT)
            elif confidence < threshold:
                reasons.append("low_confidence")
            pending = (text, name, confidence, reasons)
        elif kind == "action" and pending and event.get("name") in FALLBACK_ACTIONS:
            if event["name"] not in pending[3]:
                pending[3].append(event["name"])
    yield from flush()


def events_from_sql(url: str) -> Iterator[List[dict]]:
    """Each conversation's events from Rasa's SQLTrackerStore `events` table, in order."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url, future=True)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT sender_id, data FROM events ORDER BY sender_id, id"))
            sender, events = None, []
            for sender_id, data in rows:
                if sender_id != sender and events:
                    yield events
                    events = []
                sender = sender_id
                events.append(json.loads(data))
            if events:
                yield events
    finally:
        engine.dispose()


def events_from_files(paths: Iterable[Path]) -> Iterator[List[dict]]:
    """Trackers from JSON dumps: one object, a list of objects, or one object per line."""
    for path in paths:
        content = Path(path).read_text(encoding="utf-8").strip()
        try:
            loaded = json.loads(content)
            trackers = loaded if isinstance(loaded, list) else [loaded]
        except json.JSONDecodeError:
            trackers = [json.loads(line) for line in content.splitlines() if line.strip()]
        for tracker in trackers:
            yield tracker.get("events") or []


def collect(conversations: Iterable[List[dict]], threshold: float) -> Dict[str, List[Misunderstood]]:
    """Distinct texts grouped by predicted intent; groups and texts most frequent first."""
    seen: Dict[str, Misunderstood] = {}
    for events in conversations:
        for text, predicted, confidence, reason in misunderstood_in(events, threshold):
            key = text.casefold()
            item = seen.get(key)
            if item is None:
                item = seen[key] = Misunderstood(text, predicted)
            item.count += 1
            item.best_confidence = max(item.best_confidence, confidence)
            item.reasons.update(reason.split(","))
    groups: Dict[str, List[Misunderstood]] = defaultdict(list)
    for item in seen.values():
        groups[item.predicted].append(item)
    ordered = sorted(groups.items(), key=lambda kv: (-sum(i.count for i in kv[1]), kv[0]))
    return {name: sorted(items, key=lambda i: (-i.count, i.text)) for name, items in ordered}


def yaml_example(text: str) -> str:
    # A block scalar keeps the text as typed; only a leading "- " style would confuse readers.
    return text.replace("\n", " ")


def render(groups: Dict[str, List[Misunderstood]], source: str, threshold: float) -> str:
    total = sum(i.count for items in groups.values() for i in items)
    lines = [
        "# Messages the assistant did not understand: check each example, move it under its",
        "# true intent (or delete it), then add this file to data/nlu/.",
        f"# Source: {source}; exported {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC;",
        f"# {total} messages, {sum(len(v) for v in groups.values())} distinct; "
        f"low confidence = below {threshold}.",
        'version: "3.1"',
        "nlu:",
    ]
    for intent, items in groups.items():
        lines.append(f"- intent: {intent}  # the model's guess: check every example")
        for item in items:
            lines.append(f"  # {item.count}x  confidence {item.best_confidence:.2f}  "
                         f"{'+'.join(sorted(item.reasons))}: {yaml_example(item.text)}")
        lines.append("  examples: |")
        lines.extend(f"    - {yaml_example(item.text)}" for item in items)
    if not groups:
        lines[-1] = "nlu: []"
    return "\n".join(lines) + "\n"


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("TRACKER_STORE_URL"),
                        help="SQLAlchemy URL of the SQL tracker store (default env TRACKER_STORE_URL)")
    parser.add_argument("--trackers", nargs="+", type=Path, help="tracker JSON dump files instead")
    parser.add_argument("--threshold", type=float,
                        default=float(os.environ.get("MISUNDERSTOOD_THRESHOLD") or DEFAULT_THRESHOLD))
    parser.add_argument("--out", type=Path, default=Path("results/misunderstood.yml"))
    args = parser.parse_args(argv)
    if args.trackers:
        conversations, source = events_from_files(args.trackers), f"{len(args.trackers)} tracker file(s)"
    elif args.url:
        conversations, source = events_from_sql(args.url), "SQL tracker store"
    else:
        parser.error("give --url (or set TRACKER_STORE_URL) or --trackers")
    groups = collect(conversations, args.threshold)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render(groups, source, args.threshold), encoding="utf-8")
    count = sum(i.count for items in groups.values() for i in items)
    print(f"{count} misunderstood messages ({sum(len(v) for v in groups.values())} distinct) -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
