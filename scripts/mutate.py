"""Mutation testing of the core with mutmut (`make mutate`, docs/testing.md).

Each module is mutated in a throw-away copy of the project, with only the tests written for
it (mutmut then runs, per mutant, only those of them that reach the mutated function), on
SQLite only. The score of each module and its surviving mutants, as diffs, go to
results/mutate/.

    .venv/bin/python scripts/mutate.py                      # every module below
    .venv/bin/python scripts/mutate.py civic/tickets.py     # one
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# module → the tests written for it
MODULES = {
    "civic/tickets.py": ["tests/civic/test_tickets.py"],
    "channels/whatsapp.py": ["tests/channels/test_whatsapp_webhook.py"],
    "channels/inbox.py": ["tests/channels/test_whatsapp_inbox.py"],
    "civic/city.py": ["tests/civic/test_city.py"],
    "civic/language.py": ["tests/civic/test_language.py"],
    "civic/entities.py": ["tests/civic/test_entities.py"],
    "officer/auth.py": ["tests/officer/test_officer_auth.py"],
}
GOAL = 0.85
TMPFS = Path("/dev/shm")
SKIP = shutil.ignore_patterns(".git", ".venv", "results", "mutants", ".hypothesis", "__pycache__",
                              ".pytest_cache", ".ruff_cache", "*.db", "*.db-*", "models")
# mutmut's outcomes; "no tests" means no test of the module reaches the mutated function
KILLED = {"killed", "timeout", "caught by type check"}


# Run inside the copy (mutmut reads its configuration there): outcomes and survivors' diffs.
_REPORT = """
import json, sys
from pathlib import Path
from mutmut.mutation.diff_apply import get_diff_for_mutant
from mutmut.mutation.data import SourceFileMutationData
from mutmut.stats import status_by_exit_code
data = SourceFileMutationData(path=Path(sys.argv[1]))
data.load()
outcomes = {name: status_by_exit_code[code] for name, code in data.exit_code_by_key.items()}
diffs = ["# " + name + ": " + status + "\\n" + get_diff_for_mutant(name, path=data.path)
         for name, status in sorted(outcomes.items()) if status not in json.loads(sys.argv[2])]
print(json.dumps({"outcomes": outcomes, "diffs": diffs}))
"""


def mutate(module: str, tests: list, children: int, out: Path) -> dict:
    work = Path(tempfile.mkdtemp(prefix="nagar-mutate-"))
    try:
        copy = work / "project"
        shutil.copytree(ROOT, copy, ignore=SKIP)
        (copy / ".venv").symlink_to(ROOT / ".venv")
        source = module.split("/")[0]
        config = {
            "source_paths": [source],
            "only_mutate": [module],
            # everything the tests read (city.yml, domain/, migrations/ ...), beside mutants/
            "also_copy": sorted(p.name for p in copy.iterdir()
                                if p.name not in (source, "tests", "mutants", ".venv", ".git")),
            "pytest_add_cli_args_test_selection": tests,
            # what is logged is for people reading logs, not behaviour a test asserts
            "do_not_mutate_patterns": [r"^\s*logger\.(debug|info|warning|error|exception)\("],
            "pytest_add_cli_args": ["-p", "no:warnings", "-p", "no:cacheprovider",
                                    "-k", "not postgresql"],
            # a mutant that hangs is stopped after 5x (not 15x) its tests' measured time + 5 s
            "timeout_multiplier": 5.0,
            "timeout_constant": 1.0,
        }
        with (copy / "pyproject.toml").open("a", encoding="utf-8") as toml:
            toml.write("\n[tool.mutmut]\n" + "".join(
                f"{key} = {json.dumps(value)}\n" for key, value in config.items()))
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        env.update(PYTHONHASHSEED="0", TF_CPP_MIN_LOG_LEVEL="3", SQLALCHEMY_SILENCE_UBER_WARNING="1")
        if TMPFS.is_dir() and os.access(TMPFS, os.W_OK):
            # the tests' SQLite files (tmp_path) in memory: a commit on disk waits for fsync
            # (~20 ms on this machine's disk), and the ticket tests commit thousands of times
            env["TMPDIR"] = str(TMPFS)
        mutmut = str(ROOT / ".venv" / "bin" / "mutmut")
        start = time.monotonic()
        run = subprocess.run(["nice", "-n", "10", mutmut, "run", "--max-children", str(children)],
                             cwd=copy, env=env, capture_output=True, text=True)
        seconds = time.monotonic() - start
        log = run.stdout + run.stderr
        # every outcome, then the survivors' diffs, in one process (`mutmut show` is one each)
        report = subprocess.run([str(ROOT / ".venv" / "bin" / "python"), "-c", _REPORT, module,
                                 json.dumps(sorted(KILLED))],
                                cwd=copy, env=env, capture_output=True, text=True)
        if report.returncode != 0:
            raise SystemExit(f"{module}: could not read mutmut's results:\n{report.stderr[-2000:]}")
        found = json.loads(report.stdout)
        outcomes, diffs = found["outcomes"], found["diffs"]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    name = module.replace("/", "_").removesuffix(".py")
    (out / f"{name}.log").write_text(log, encoding="utf-8")
    (out / f"{name}.survivors.diff").write_text("\n".join(diffs), encoding="utf-8")
    killed = sum(status in KILLED for status in outcomes.values())
    counts = {}
    for status in outcomes.values():
        counts[status] = counts.get(status, 0) + 1
    return {"module": module, "tests": tests, "mutants": len(outcomes), "killed": killed,
            "score": killed / len(outcomes) if outcomes else 0.0, "outcomes": counts,
            "seconds": round(seconds), "exit": run.returncode}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help=f"default: {' '.join(MODULES)}")
    parser.add_argument("--children", type=int, default=2, help="mutants tested at once")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "mutate")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    for module in args.modules or list(MODULES):
        if module not in MODULES:
            parser.error(f"{module}: not one of {', '.join(MODULES)}")
        row = mutate(module, MODULES[module], args.children, args.out)
        rows.append(row)
        print(f"{module:22} {row['killed']:4}/{row['mutants']:<4} killed  {row['score']:6.1%}  "
              f"{row['seconds']:5} s  {row['outcomes']}", flush=True)
        (args.out / "summary.json").write_text(json.dumps(rows, indent=1), encoding="utf-8")
    below = [r["module"] for r in rows if r["score"] < GOAL or r["exit"] != 0]
    if below:
        print(f"below {GOAL:.0%} (or mutmut failed): {', '.join(below)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
