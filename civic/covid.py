"""COVID-19 figures of a district, from a covid19india.org v4 `data.min.json` document.

`CovidClient` reads the document at COVID_DATA_URL (with timeouts, retries, a cache and the
last good document when the source fails) or, without a URL, the snapshot bundled in
civic/data/covid_snapshot.json. It never raises for a failing source: it logs and falls back,
and every `DistrictFigures` says where it came from and how old it is.

Document shape: `{STATE: {"districts": {Name: {"total": {...}, "delta": {...}, "meta": {...}}},
"meta": {...}}}`. Count keys are missing when zero, any block may be missing, older files
carry `meta.tested.date` instead of `meta.tested.last_updated`, keys starting with "_" are
ignored.

"As of" date: the state's `meta.last_updated` (or `meta.date`), because that is when the
case counts of its districts were updated; failing that the state's tested date, then the
district's. The district's `meta.tested.last_updated` dates only the tested count (for
Saharanpur in May 2021 it was months older than the case counts), so it is kept apart as
`tested_as_of`.
"""
from __future__ import annotations

import json
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

import requests

from civic.districts import all_districts, closest_districts, is_whole_state, resolve_district
from civic.formatting import format_indian

logger = logging.getLogger(__name__)

SNAPSHOT_PATH = Path(__file__).resolve().parent / "data" / "covid_snapshot.json"
DEFAULT_CACHE_SECONDS = 600
IST = timezone(timedelta(hours=5, minutes=30), "IST")

# Rows of the source that are not districts: never offered as suggestions or answers.
NOT_DISTRICTS = frozenset(
    name.casefold()
    for name in (
        "Unknown", "Unassigned", "Other State", "Other Region", "Others", "Evacuees",
        "Foreign Evacuees", "Italians", "Airport Quarantine", "Railway Quarantine",
        "State Pool", "CAPF Personnel", "BSF Camp",
    )
)

_COUNT_KEYS = ("confirmed", "recovered", "deceased", "other", "tested")
_MONTHS = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"),
    "hi": ("जनवरी", "फ़रवरी", "मार्च", "अप्रैल", "मई", "जून", "जुलाई", "अगस्त", "सितंबर",
           "अक्टूबर", "नवंबर", "दिसंबर"),
}

Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class ShapeError(ValueError):
    """The document is JSON but not in the data.min.json shape."""


class FetchError(Exception):
    """The live source did not give a usable document."""


@dataclass(frozen=True)
class DistrictFigures:
    """One district's figures and where they came from.

    source: "live" (fetched for this call), "cache" (fetched within the cache time),
    "stale" (the source failed; last good document), "snapshot" (bundled copy).
    source_down: the configured live source failed on this call.
    """

    district: str
    state: str
    confirmed: int
    recovered: int
    deceased: int
    other: int
    tested: Optional[int]
    delta_confirmed: Optional[int]
    delta_recovered: Optional[int]
    delta_deceased: Optional[int]
    as_of: Optional[date]
    tested_as_of: Optional[date]
    source: str
    fetched_at: Optional[datetime]
    checked_at: datetime
    source_down: bool = False

    @property
    def active(self) -> int:
        return self.confirmed - self.recovered - self.deceased - self.other

    @property
    def has_delta(self) -> bool:
        return self.delta_confirmed is not None

    @property
    def age_days(self) -> Optional[int]:
        """Whole days between the "as of" date and today (India time)."""
        if self.as_of is None:
            return None
        return (self.checked_at.astimezone(IST).date() - self.as_of).days

    @property
    def fetch_age(self) -> Optional[timedelta]:
        """Time since the document was fetched from the live source (None for the snapshot)."""
        return None if self.fetched_at is None else self.checked_at - self.fetched_at

    def as_template_vars(self, language: str = "en") -> Dict[str, str]:
        """Response template variables: formatted values only, keys absent when unknown."""
        values: Dict[str, str] = {
            "district": self.district,
            "state": self.state,
            "confirmed": format_indian(self.confirmed),
            "active": format_indian(self.active),
            "recovered": format_indian(self.recovered),
            "deceased": format_indian(self.deceased),
        }
        as_of = self.as_of or (self.fetched_at.astimezone(IST).date() if self.fetched_at else None)
        if as_of is not None:
            values["as_of"] = format_date(as_of, language)
        if self.age_days is not None:
            values["age_days"] = format_indian(self.age_days)
        if self.tested is not None:
            values["tested"] = format_indian(self.tested)
            tested_as_of = self.tested_as_of or as_of
            if tested_as_of is not None:
                values["tested_as_of"] = format_date(tested_as_of, language)
        if self.has_delta:
            values["delta_confirmed"] = _signed(self.delta_confirmed)
            values["delta_recovered"] = _signed(self.delta_recovered)
            values["delta_deceased"] = _signed(self.delta_deceased)
        if self.fetched_at is not None:
            local = self.fetched_at.astimezone(IST)
            values["fetched_at"] = f"{format_date(local.date(), language)}, {local:%H:%M}"
        return values


@dataclass(frozen=True)
class LookupResult:
    """The answer to a district question: figures, or up to three suggested names."""

    query: str
    figures: Optional[DistrictFigures] = None
    suggestions: List[str] = field(default_factory=list)

    @property
    def found(self) -> bool:
        return self.figures is not None


def format_date(day: date, language: str = "en") -> str:
    """'9 May 2021' (en, hinglish) or '9 मई 2021' (hi)."""
    months = _MONTHS["hi" if language == "hi" else "en"]
    return f"{day.day} {months[day.month - 1]} {day.year}"


def _signed(number: Optional[int]) -> str:
    number = number or 0
    return ("+" if number > 0 else "") + format_indian(number)


def _parse_date(value) -> Optional[date]:
    """A date from '2021-05-09' or '2021-05-09T20:28:15+05:30'; None when unreadable."""
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _tested_date(meta: dict) -> Optional[date]:
    tested = meta.get("tested") or {}
    return _parse_date(tested.get("last_updated")) or _parse_date(tested.get("date"))


@dataclass(frozen=True)
class _Record:
    state: str
    district: str
    block: dict
    state_meta: dict


class _Dataset:
    """A validated document, indexed by lower-cased district name."""

    def __init__(self, document) -> None:
        if not isinstance(document, dict):
            raise ShapeError(f"expected an object at the top, got {type(document).__name__}")
        self._by_name: Dict[str, List[_Record]] = {}
        self._states: Dict[str, dict] = {}
        for state, state_block in document.items():
            if state.startswith("_"):
                continue
            if not isinstance(state_block, dict):
                raise ShapeError(f"{state}: expected an object")
            _check_district(state_block, state)  # a state has the same blocks as a district
            self._states[state] = state_block
            districts = state_block.get("districts")
            if districts is None:  # national total ("TT") or a state without districts
                continue
            state_meta = state_block.get("meta") or {}
            for name, block in _object(districts, f"{state}.districts").items():
                _check_district(block, f"{state}.{name}")
                record = _Record(state, name, block, state_meta)
                self._by_name.setdefault(_key(name), []).append(record)
        if not self._by_name:
            raise ShapeError("no districts in the document")
        self.names = sorted(
            {r.district for records in self._by_name.values() for r in records
             if _key(r.district) not in NOT_DISTRICTS}
        )

    def find(self, name: str, prefer_state: Optional[str] = None) -> Optional[_Record]:
        """The record named `name`; a name used in several states prefers `prefer_state`."""
        key = _key(name)
        if key in NOT_DISTRICTS:
            return None
        records = self._by_name.get(key)
        if not records:
            return None
        preferred = [r for r in records if r.state == prefer_state]
        return (preferred or sorted(records, key=lambda r: r.state))[0]

    def whole_state(self, state: str, name: str) -> Optional[_Record]:
        """A state's figures under `name`: its own total, else the sum of its districts
        (which include the "Unknown" row where the state reports unallocated cases)."""
        block = self._states.get(state)
        if block is None:
            return None
        districts = list((block.get("districts") or {}).values())
        summed = {}
        for part in ("total", "delta"):
            if part in block:
                summed[part] = block[part]
            elif any(part in d for d in districts):
                summed[part] = {key: sum((d.get(part) or {}).get(key, 0) for d in districts)
                                for key in ("confirmed", "recovered", "deceased", "other")}
        return _Record(state, name, summed, block.get("meta") or {})


def _key(name: str) -> str:
    return " ".join(name.split()).casefold()


def _object(value, where: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ShapeError(f"{where}: expected an object")
    return value


def _check_district(block, where: str) -> None:
    _object(block, where)
    for part in ("total", "delta"):
        counts = _object(block.get(part), f"{where}.{part}")
        for key in _COUNT_KEYS:
            value = counts.get(key)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
                raise ShapeError(f"{where}.{part}.{key}: expected a whole number")
    meta = _object(block.get("meta"), f"{where}.meta")
    _object(meta.get("tested"), f"{where}.meta.tested")


def _figures(record: _Record, source: str, fetched_at: Optional[datetime],
             checked_at: datetime, source_down: bool) -> DistrictFigures:
    total = record.block.get("total") or {}
    delta = record.block.get("delta")
    district_meta = record.block.get("meta") or {}
    as_of = (
        _parse_date(record.state_meta.get("last_updated"))
        or _parse_date(record.state_meta.get("date"))
        or _tested_date(record.state_meta)
        or _tested_date(district_meta)
    )
    return DistrictFigures(
        district=record.district,
        state=record.state,
        confirmed=total.get("confirmed", 0),
        recovered=total.get("recovered", 0),
        deceased=total.get("deceased", 0),
        other=total.get("other", 0),
        tested=total.get("tested"),
        # A delta block with no keys still means "no change"; no block means unknown.
        delta_confirmed=None if delta is None else delta.get("confirmed", 0),
        delta_recovered=None if delta is None else delta.get("recovered", 0),
        delta_deceased=None if delta is None else delta.get("deceased", 0),
        as_of=as_of,
        tested_as_of=_tested_date(district_meta),
        source=source,
        fetched_at=fetched_at,
        checked_at=checked_at,
        source_down=source_down,
    )


def load_snapshot(path: os.PathLike = SNAPSHOT_PATH) -> dict:
    """The bundled snapshot document (raw JSON)."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


class CovidClient:
    """District COVID figures from the live source or the bundled snapshot.

    url: None reads COVID_DATA_URL; empty means snapshot only.
    cache_seconds: None reads COVID_CACHE_SECONDS (default 600).
    retries: extra attempts after a connection error or a 5xx answer, waiting
    backoff_seconds, then twice that, ... between them.
    failure_backoff_seconds: after a failed fetch, serve the fallback for this long without
    asking the source again, so a dead source does not make every citizen wait.
    clock: returns the current time (timezone-aware); injectable for tests.
    Thread-safe: one lock guards the cache and the fetch, so concurrent callers wait for a
    single fetch instead of all hitting the source.
    """

    def __init__(
        self,
        url: Optional[str] = None,
        *,
        connect_timeout: float = 3.0,
        read_timeout: float = 5.0,
        cache_seconds: Optional[float] = None,
        retries: int = 2,
        backoff_seconds: float = 0.5,
        failure_backoff_seconds: float = 60.0,
        snapshot_path: os.PathLike = SNAPSHOT_PATH,
        clock: Clock = _utc_now,
        session: Optional[requests.Session] = None,
    ) -> None:
        self.url = os.environ.get("COVID_DATA_URL", "") if url is None else url
        if cache_seconds is None:
            cache_seconds = float(os.environ.get("COVID_CACHE_SECONDS") or DEFAULT_CACHE_SECONDS)
        self.timeout = (connect_timeout, read_timeout)
        self.cache_for = timedelta(seconds=cache_seconds)
        self.retries = retries
        self.backoff_seconds = backoff_seconds
        self.failure_backoff = timedelta(seconds=failure_backoff_seconds)
        self.snapshot_path = snapshot_path
        self.clock = clock
        self._session = session or requests.Session()
        self._lock = threading.Lock()
        self._snapshot: Optional[_Dataset] = None
        self._good: Optional[_Dataset] = None
        self._good_at: Optional[datetime] = None
        self._failed_at: Optional[datetime] = None

    # -- public -------------------------------------------------------------------------

    def figures(
        self, district: str, prefer_state: Optional[str] = None
    ) -> Optional[DistrictFigures]:
        """Figures for the district of that exact (case-insensitive) name, or None."""
        dataset, context = self._current()
        record = dataset.find(district, prefer_state)
        return None if record is None else _figures(record, *context)

    def lookup(self, text: str, prefer_state: Optional[str] = None) -> LookupResult:
        """Figures for a district as a citizen wrote it (English, Hindi, misspelt), or
        up to three closest district names from the data.

        A name found as written prefers `prefer_state` when several states use it; a name
        the gazetteer resolves takes the gazetteer's state, and one it marks as a whole
        state ("Delhi") gets that state's figures.
        """
        query = " ".join((text or "").split())
        dataset, context = self._current()
        record = dataset.find(query, prefer_state) if query else None
        if record is None and query:
            resolved = resolve_district(query)
            if resolved:
                state = all_districts().get(resolved, prefer_state)
                if not is_whole_state(resolved):
                    record = dataset.find(resolved, state)
                elif state:  # a whole state's figures need to know which state
                    record = dataset.whole_state(state, resolved)
        if record is not None:
            return LookupResult(query, figures=_figures(record, *context))
        suggestions = list(closest_districts(query, dataset.names))[:3] if query else []
        return LookupResult(query, suggestions=suggestions)

    # -- document selection -------------------------------------------------------------

    def _current(self) -> Tuple[_Dataset, tuple]:
        """The dataset to answer from, and (source, fetched_at, checked_at, source_down)."""
        with self._lock:
            now = self.clock()
            if not self.url:
                return self._snapshot_dataset(), ("snapshot", None, now, False)
            if self._good is not None and self._good_at is not None and now - self._good_at < self.cache_for:
                return self._good, ("cache", self._good_at, now, False)
            if self._failed_at is None or now - self._failed_at >= self.failure_backoff:
                try:
                    dataset = _Dataset(self._fetch())
                except (FetchError, ShapeError) as exc:
                    logger.warning("COVID source %s failed: %s", self.url, exc)
                    self._failed_at = now
                except Exception:  # a bug or an odd answer must not cost the citizen a reply
                    logger.exception("COVID source %s failed unexpectedly", self.url)
                    self._failed_at = now
                else:
                    self._good, self._good_at, self._failed_at = dataset, self.clock(), None
                    return dataset, ("live", self._good_at, self._good_at, False)
            if self._good is not None:
                return self._good, ("stale", self._good_at, now, True)
            return self._snapshot_dataset(), ("snapshot", None, now, True)

    def _snapshot_dataset(self) -> _Dataset:
        if self._snapshot is None:
            self._snapshot = _Dataset(load_snapshot(self.snapshot_path))
        return self._snapshot

    def _fetch(self):
        """The decoded JSON document; FetchError when the source does not give one."""
        problem = "no attempt made"
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff_seconds * 2 ** (attempt - 1))
            try:
                response = self._session.get(
                    self.url, timeout=self.timeout, headers={"Accept": "application/json"}
                )
            except requests.ConnectionError as exc:  # includes connect timeouts: retry
                problem = f"connection failed: {exc}"
                continue
            except requests.RequestException as exc:
                # A read timeout is not retried: a slow source rarely recovers within
                # seconds, and each retry would keep the citizen waiting longer.
                raise FetchError(f"request failed: {exc}") from exc
            if response.status_code >= 500:
                problem = f"HTTP {response.status_code}"
                continue
            if response.status_code != 200:
                raise FetchError(f"HTTP {response.status_code}")
            if "html" in response.headers.get("Content-Type", "").lower():
                raise FetchError("got an HTML page, not JSON")
            try:
                return json.loads(response.content)
            except ValueError as exc:  # truncated or not JSON at all
                raise FetchError(f"not valid JSON: {exc}") from exc
        raise FetchError(f"{problem} (after {self.retries + 1} attempts)")
