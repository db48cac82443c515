"""Plants each bug of issue 18 in the working tree, one at a time, runs the tests that should
catch it, puts the file back, and prints whether it was caught (docs/testing.md).

    .venv/bin/python scripts/replant_bugs.py            # every bug
    .venv/bin/python scripts/replant_bugs.py sla_168    # one

Exit status 1 when a bug was not caught. Each file is restored even when a run is interrupted.
"""
import argparse
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, NamedTuple, Tuple

ROOT = Path(__file__).resolve().parent.parent


class Bug(NamedTuple):
    what: str
    path: str
    edits: List[Tuple[str, str]]  # (text as it is, text with the bug): each found exactly once
    tests: str


_PARSE_EACH = (
    "                try:\n"
    "                    inbound.append(_parse_message(message, value))\n"
    "                except Exception as error:  # a shape nobody foresaw: keep it, go on\n"
    "                    logger.exception(\"Could not read a WhatsApp message.\")\n"
    "                    inbound.append(_unparseable(message, f\"{type(error).__name__}: {error}\"))",
    "                inbound.append(_parse_message(message, value))",
)
_INTERACTIVE_TYPE = ('if interactive.get("type") in ("button_reply", "list_reply"):',
                     'if interactive["type"] in ("button_reply", "list_reply"):')
_WEBHOOK_TESTS = "tests/channels/test_whatsapp_webhook.py tests/channels/test_whatsapp_fuzz.py"

BUGS: Dict[str, Bug] = {
    "ward_70": Bug("ward 70 refused (`<` for `<=`)", "civic/city.py",
                   [("return 1 <= ward <= self.wards", "return 1 <= ward < self.wards")],
                   "tests/civic/test_city.py tests/civic/test_tickets.py"),
    "sla_168": Bug("construction SLA 168 -> 72 hours in city.yml", "city.yml",
                   [("construction: {department: construction, sla_hours: 168,",
                     "construction: {department: construction, sla_hours: 72,")],
                   "tests/civic/test_city.py tests/civic/test_tickets.py"),
    "empty_secret": Bug("signature_is_valid accepts any signature when the secret is empty",
                        "channels/whatsapp.py",
                        [("if not app_secret or not header", "if not header")], _WEBHOOK_TESTS),
    "purge_reversed": Bug("inbox purge comparison reversed (was dedupe purge)", "channels/inbox.py",
                          [("_t.c.received_at < cutoff", "_t.c.received_at > cutoff")],
                          "tests/channels/test_whatsapp_inbox.py"),
    "store_overwrites": Bug(
        "a redelivery overwrites the stored message (was Redis SET without nx: every claim wins)",
        "channels/inbox.py",
        [("ON CONFLICT (message_id) DO NOTHING",
          "ON CONFLICT (message_id) DO UPDATE SET status = excluded.status, attempts = 0")],
        "tests/channels/test_whatsapp_inbox.py"),
    "claim_ignores_lease": Bug(
        "a claim ignores another replica's live lease (every claim wins)", "channels/inbox.py",
        [("            .where(_t.c.status.in_(UNFINISHED))\n"
          "            .where(sa.or_(_t.c.lease_expires_at.is_(None), _t.c.lease_expires_at <= now))\n"
          "            # nothing",
          "            .where(_t.c.status.in_(UNFINISHED))\n            # nothing")],
        "tests/channels/test_whatsapp_inbox.py"),
    "resolved_rejected": Bug("resolved -> rejected allowed", "civic/tickets.py",
                             [("RESOLVED: (CLOSED, REOPENED),", "RESOLVED: (CLOSED, REOPENED, REJECTED),")],
                             "tests/civic/test_tickets.py"),
    "tap_title": Bug("a tapped button without an id no longer falls back to its title",
                     "channels/whatsapp.py",
                     [('return (_text(reply.get("id")) or _typed(reply.get("title"))',
                       'return (_text(reply.get("id"))')], _WEBHOOK_TESTS),
    "interactive_keyerror": Bug('`interactive["type"]` raises KeyError', "channels/whatsapp.py",
                                [_INTERACTIVE_TYPE], _WEBHOOK_TESTS),
    "keyerror_drops_batch": Bug(
        '`interactive["type"]` KeyError dropping every message of its batch (no per-message '
        "isolation), fuzz tests alone", "channels/whatsapp.py", [_INTERACTIVE_TYPE, _PARSE_EACH],
        "tests/channels/test_whatsapp_fuzz.py"),
    "batch_not_isolated": Bug("a parse error in one message drops its whole batch",
                              "channels/whatsapp.py", [_PARSE_EACH], _WEBHOOK_TESTS),
    "threshold_ignored": Bug("export_misunderstood --threshold ignored",
                             "scripts/export_misunderstood.py",
                             [("groups = collect(conversations, args.threshold)",
                               "groups = collect(conversations, DEFAULT_THRESHOLD)")],
                             "tests/scripts/test_export_misunderstood.py"),
}


def plant_and_test(bug: Bug) -> Tuple[bool, str]:
    """(caught, the first failing test or the pytest summary)."""
    path = ROOT / bug.path
    original = path.read_text(encoding="utf-8")
    planted = original
    for before, after in bug.edits:
        if planted.count(before) != 1:
            raise SystemExit(f"{bug.path}: the code to plant into has changed: {before!r}")
        planted = planted.replace(before, after)
    path.write_text(planted, encoding="utf-8")
    try:
        run = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:warnings", "-p", "no:cacheprovider",
             *bug.tests.split()], cwd=ROOT, capture_output=True, text=True)
    finally:
        path.write_text(original, encoding="utf-8")
    lines = run.stdout.splitlines()
    failed = [line for line in lines if line.startswith(("FAILED ", "ERROR tests"))]
    return run.returncode != 0, (failed[0] if failed else (lines[-1] if lines else run.stderr[-300:]))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bugs", nargs="*", choices=[[], *BUGS], help="default: all")
    names = parser.parse_args(argv).bugs or list(BUGS)
    missed = 0
    for name in names:
        caught, evidence = plant_and_test(BUGS[name])
        missed += not caught
        print(f"{name:22} {'caught' if caught else 'MISSED'}  {evidence}", flush=True)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
