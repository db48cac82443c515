"""Rebuild civic/data/covid_snapshot.json from the covid19india.org published files.

Usage: python scripts/build_covid_snapshot.py PATH/TO/shared/data/covid19india [OUTPUT]

Input: district_wise_2021-05-09.csv (covid19india/api, csv/latest/district_wise.csv at commit
0045ae01) and data.min.UP_Saharanpur_2021-05-09.json (the v4 record of Saharanpur, which adds
tested and vaccinated counts). Output: a document in the v4 data.min.json shape, written with
sorted keys so that the same input always gives the same bytes.
"""
from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

SNAPSHOT_DATE = "2021-05-09"
CSV_NAME = f"district_wise_{SNAPSHOT_DATE}.csv"
RICH_RECORDS = {("UP", "Saharanpur"): f"data.min.UP_Saharanpur_{SNAPSHOT_DATE}.json"}
DEFAULT_OUTPUT = Path(__file__).resolve().parent.parent / "civic" / "data" / "covid_snapshot.json"

SOURCE = {
    "name": "covid19india.org API (covid19india/api)",
    "files": [
        f"csv/latest/district_wise.csv at commit 0045ae01 ({SNAPSHOT_DATE})",
        f"v4/min/data.min.json, UP/Saharanpur record ({SNAPSHOT_DATE})",
    ],
    "url": "https://github.com/covid19india/api",
    "license": "CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/)",
    "attribution": "Data: covid19india.org volunteers, CC BY 4.0",
    "changes": "CSV converted to the v4 data.min.json shape by scripts/build_covid_snapshot.py",
}

# CSV column -> v4 key. Delta_Active has no v4 counterpart (active is derived).
TOTAL_COLUMNS = {"Confirmed": "confirmed", "Recovered": "recovered", "Deceased": "deceased",
                 "Migrated_Other": "other"}
DELTA_COLUMNS = {"Delta_Confirmed": "confirmed", "Delta_Recovered": "recovered",
                 "Delta_Deceased": "deceased"}


def _counts(row: dict, columns: dict) -> dict:
    """Counts from a CSV row, leaving out zeros as the v4 API does."""
    counts = {key: int(row[column]) for column, key in columns.items()}
    return {key: value for key, value in counts.items() if value != 0}


def _district_record(row: dict) -> dict:
    record = {"total": _counts(row, TOTAL_COLUMNS), "delta": _counts(row, DELTA_COLUMNS)}
    if row["District_Notes"].strip():
        record["meta"] = {"notes": row["District_Notes"].strip()}
    return {block: value for block, value in record.items() if value}


def _merge(base: dict, extra: dict) -> dict:
    """Deep-merge `extra` into a copy of `base`; `extra` wins on conflicting leaves."""
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def build(source_dir: Path) -> dict:
    """The snapshot document built from the files in `source_dir`."""
    document: dict = {"_source": SOURCE}
    # newline="" lets the csv module handle the file's Windows line endings.
    with open(source_dir / CSV_NAME, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            state = document.setdefault(
                row["State_Code"], {"districts": {}, "meta": {"last_updated": SNAPSHOT_DATE}}
            )
            if row["District"] in state["districts"]:
                raise ValueError(f"duplicate district {row['District_Key']}")
            state["districts"][row["District"]] = _district_record(row)

    for (state_code, district), file_name in RICH_RECORDS.items():
        rich = json.loads((source_dir / file_name).read_text(encoding="utf-8"))[state_code]
        state = document[state_code]
        state["districts"][district] = _merge(
            state["districts"][district], rich["districts"][district]
        )
        # The v4 file also carries the state's own meta (timestamped) and totals.
        state["meta"] = _merge(state["meta"], rich.get("meta", {}))
        if "total" in rich:
            state["total"] = rich["total"]
    return document


def main(argv: list) -> int:
    if len(argv) not in (2, 3):
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    output = Path(argv[2]) if len(argv) == 3 else DEFAULT_OUTPUT
    document = build(Path(argv[1]))
    # One key per line keeps diffs between snapshots reviewable.
    text = json.dumps(document, ensure_ascii=False, sort_keys=True, indent=1)
    output.write_text(text + "\n", encoding="utf-8")
    districts = sum(len(v["districts"]) for k, v in document.items() if not k.startswith("_"))
    print(f"wrote {output}: {districts} districts")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
