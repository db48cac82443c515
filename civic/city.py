"""The city configuration (city.yml): every city-specific fact, loaded and checked once."""
from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, FrozenSet, Optional, Tuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

DEFAULT_CONFIG_PATH = Path(__file__).resolve().parent.parent / "city.yml"
LANGUAGES = ("hi", "hinglish", "en")
# Words around a one-word complaint that say nothing about which one ("paani ki samasya").
FILLER_WORDS = frozenset(
    "ki ka ke ko hai he h problem problems issue samasya samsya dikkat pareshani shikayat "
    "complaint nahi nhi no not kharab की का के को है समस्या दिक्कत परेशानी शिकायत नहीं".split())


_DEVANAGARI = re.compile(r"[\u0900-\u097F]")


class CityConfigError(ValueError):
    """The city configuration file is missing a field or has a wrong value."""


@dataclass(frozen=True)
class Category:
    key: str
    department: str
    sla_hours: int
    names: Dict[str, str]
    short_words: Tuple[str, ...] = ()

    def name(self, language: str) -> str:
        return self.names.get(language) or self.names["en"]

    @functools.cached_property
    def words(self) -> FrozenSet[str]:
        """Words that name this category: those of its names ("Safai / kooda" → safai,
        kooda) and its short words, case-folded; words shorter than three letters and filler
        words left out."""
        words = {w for name in self.names.values()
                 for w in re.findall(r"[\w\u0900-\u097F]+", name.casefold())}
        words.update(self.short_words)
        return frozenset(w for w in words if len(w) >= 3 and w not in FILLER_WORDS)


@dataclass(frozen=True)
class Locality:
    """A locality or landmark citizens name, its other spellings, and the wards it lies in."""

    name: str
    also: Tuple[str, ...] = ()
    wards: Tuple[int, ...] = ()

    @property
    def spellings(self) -> Tuple[str, ...]:
        return (self.name, *self.also)

    def display_name(self, language: str) -> str:
        """The name a reply in `language` shows: in Hindi its first Devanagari spelling
        ("घंटाघर", never "Ghanta Ghar" inside Devanagari), else its name."""
        if language == "hi":
            return next((s for s in self.also if _DEVANAGARI.search(s)), self.name)
        return self.name


@dataclass(frozen=True)
class Workflow:
    """The officers' workflow: escalation, what citizens hear of the assignee, field titles."""

    commissioner_after_hours: int = 48  # after the department head was told
    staff_names_to_citizens: bool = False  # "lineman R. Kumar" instead of "lineman"
    field_staff: Dict[str, Dict[str, str]] = field(default_factory=dict)  # department -> title

    def field_title(self, department: str, language: str) -> Optional[str]:
        names = self.field_staff.get(department) or {}
        return names.get(language) or names.get("en")


@dataclass(frozen=True)
class MapSettings:
    """The workspace map: where it opens, and the tile server (empty: no tiles)."""

    center: Tuple[float, float] = (0.0, 0.0)
    zoom: int = 13
    tile_url: str = ""
    attribution: str = ""


@dataclass(frozen=True)
class Agency:
    """Another agency citizens ask about (power company, police, ...): never a civic ticket."""

    key: str
    names: Dict[str, str]
    numbers: Tuple[str, ...]
    texts: Dict[str, str]
    words: Tuple[str, ...]
    website: str = ""

    def name(self, language: str) -> str:
        return self.names.get(language) or self.names["en"]

    def text(self, language: str) -> str:
        return self.texts.get(language) or self.texts["en"]


@dataclass(frozen=True)
class Service:
    """A municipal service that is not a complaint (certificates, tax payment, connections)."""

    key: str
    names: Dict[str, str]
    office: Dict[str, str]
    documents: Dict[str, str]
    words: Tuple[str, ...]
    website: str = ""
    complaint: Optional[str] = None  # category offered if something went wrong

    def field(self, name: str, language: str) -> str:
        values = getattr(self, name)
        return values.get(language) or values["en"]


@dataclass(frozen=True)
class City:
    name: Dict[str, str]
    corporation: Dict[str, str]
    district: str
    state: str
    wards: int
    complaint_prefix: str
    whatsapp_number: str
    office_hours: Dict[str, str]
    covid_testing: Dict[str, str]
    helplines: Dict[str, str]
    max_tickets_per_citizen_per_day: int
    reopen_window_days: int
    timezone: str
    localities: Tuple[Locality, ...]
    whatsapp_templates: Dict[str, object]
    departments: Dict[str, Dict[str, str]]
    categories: Dict[str, Category] = field(default_factory=dict)
    workflow: Workflow = field(default_factory=Workflow)
    map: MapSettings = field(default_factory=MapSettings)
    control_room: str = ""
    agencies: Dict[str, Agency] = field(default_factory=dict)
    services: Dict[str, Service] = field(default_factory=dict)
    # The reply language before the citizen's words say one (an emoji, "hlo", a voice note).
    default_language: str = "en"

    def department_name(self, department: str, language: str) -> str:
        names = self.departments[department]
        return names.get(language) or names["en"]

    @functools.cached_property
    def category_words(self) -> Dict[str, FrozenSet[str]]:
        """Category key → the words that name it (for civic.corrections.change_of_mind)."""
        return {key: category.words for key, category in self.categories.items()}

    def categories_for_short_message(self, text: str) -> Tuple[str, ...]:
        """The categories a one- or two-word message may mean when it fits several
        ("paani" → drinking water or leakage); empty when it is not such a message."""
        words = [w for w in re.findall(r"[\w\u0900-\u097F]+", text.casefold()) if w not in FILLER_WORDS]
        if not 1 <= len(words) <= 2:
            return ()
        fitting = tuple(key for key, category in self.categories.items()
                        if any(word in category.short_words for word in words))
        return fitting if len(fitting) > 1 else ()

    def category_list(self, language: str) -> str:
        """The categories' names in `language`, in menu order, as the replies list them."""
        return ", ".join(category.name(language) for category in self.categories.values())

    def template_language(self, language: str) -> str:
        """The language code of the WhatsApp templates for a reply language (hinglish: en)."""
        codes = self.whatsapp_templates.get("language_codes")
        return str(codes.get(language, "en")) if isinstance(codes, dict) else "en"

    def valid_ward(self, ward: int) -> bool:
        return 1 <= ward <= self.wards

    @property
    def helpline(self) -> str:
        """The corporation's number the replies name for calls: its control room (a setting
        of its own, not the assistant's WhatsApp number); the WhatsApp number if none is set."""
        return self.control_room or self.helplines.get("nagar_nigam") or self.whatsapp_number

    def text(self, field_name: str, language: str) -> str:
        """A per-language text field (name, corporation, office_hours) in `language`."""
        values = getattr(self, field_name)
        return values.get(language) or values.get("en") or next(iter(values.values()))


def _require(mapping: dict, key: str, where: str):
    if key not in mapping or mapping[key] in (None, ""):
        raise CityConfigError(f"{where}: '{key}' is required")
    return mapping[key]


def _names(value, where: str) -> Dict[str, str]:
    if isinstance(value, str):
        return {"en": value}
    if not isinstance(value, dict) or "en" not in value:
        raise CityConfigError(f"{where}: needs at least an 'en' name")
    return {str(k): str(v) for k, v in value.items()}


def _locality(item, wards: int, index: int) -> Locality:
    """A `localities` entry: a name, or {name, also: [...], wards: [...]}."""
    where = f"localities[{index}]"
    if isinstance(item, str):
        return Locality(item)
    if not isinstance(item, dict):
        raise CityConfigError(f"{where}: a name or {{name, also, wards}}")
    name = str(_require(item, "name", where))
    also = item.get("also") or []
    numbers = item.get("wards") or []
    if not isinstance(also, list) or not isinstance(numbers, list):
        raise CityConfigError(f"{where}: 'also' and 'wards' are lists")
    for ward in numbers:
        if isinstance(ward, bool) or not isinstance(ward, int) or not 1 <= ward <= wards:
            raise CityConfigError(f"{where}.wards: {ward!r} is not a ward from 1 to {wards}")
    return Locality(name, tuple(str(a) for a in also), tuple(numbers))


def _words(value, where: str) -> Tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise CityConfigError(f"{where}: a list of words that name it")
    return tuple(str(word).casefold() for word in value)


def _in_languages(value, where: str) -> Dict[str, str]:
    names = _names(value, where)
    missing = [lang for lang in LANGUAGES if lang not in names]
    if missing:
        raise CityConfigError(f"{where}: missing {', '.join(missing)}")
    return names


def _agencies(raw) -> Dict[str, Agency]:
    if not isinstance(raw or {}, dict):
        raise CityConfigError("agencies: expected a mapping")
    agencies = {}
    for key, value in (raw or {}).items():
        where = f"agencies.{key}"
        numbers = value.get("numbers") or []
        if not isinstance(numbers, list) or not all(re.fullmatch(r"\d{3,12}", str(n)) for n in numbers):
            raise CityConfigError(f"{where}.numbers: a list of phone numbers (digits)")
        agencies[str(key)] = Agency(
            str(key), _in_languages(_require(value, "name", where), f"{where}.name"),
            tuple(str(n) for n in numbers),
            _in_languages(_require(value, "text", where), f"{where}.text"),
            _words(value.get("words"), f"{where}.words"), str(value.get("website") or ""))
    return agencies


def _services(raw, categories: Dict[str, Category]) -> Dict[str, Service]:
    if not isinstance(raw or {}, dict):
        raise CityConfigError("services: expected a mapping")
    services = {}
    for key, value in (raw or {}).items():
        where = f"services.{key}"
        complaint = value.get("complaint")
        if complaint is not None and complaint not in categories:
            raise CityConfigError(f"{where}.complaint: unknown category {complaint!r}")
        services[str(key)] = Service(
            str(key), _in_languages(_require(value, "name", where), f"{where}.name"),
            _in_languages(_require(value, "office", where), f"{where}.office"),
            _in_languages(_require(value, "documents", where), f"{where}.documents"),
            _words(value.get("words"), f"{where}.words"), str(value.get("website") or ""),
            None if complaint is None else str(complaint))
    return services


def _default_language(value) -> str:
    if value not in LANGUAGES:
        raise CityConfigError(f"city.default_language must be one of {', '.join(LANGUAGES)}, not {value!r}")
    return str(value)


def _timezone(name: str) -> str:
    try:
        ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise CityConfigError(f"city.timezone: unknown time zone {name!r}") from exc
    return str(name)


def _workflow(raw, departments: Dict[str, Dict[str, str]]) -> Workflow:
    if raw is None:
        return Workflow()
    if not isinstance(raw, dict):
        raise CityConfigError("workflow: expected a mapping")
    hours = raw.get("escalate_to_commissioner_after_hours", 48)
    if isinstance(hours, bool) or not isinstance(hours, int) or hours <= 0:
        raise CityConfigError("workflow.escalate_to_commissioner_after_hours must be a positive whole number")
    titles = raw.get("field_staff") or {}
    if not isinstance(titles, dict):
        raise CityConfigError("workflow.field_staff: expected department: {en, hi, hinglish}")
    for department in titles:
        if department not in departments:
            raise CityConfigError(f"workflow.field_staff: unknown department {department!r}")
    return Workflow(
        commissioner_after_hours=hours,
        staff_names_to_citizens=bool(raw.get("show_staff_names_to_citizens", False)),
        field_staff={str(k): _names(v, f"workflow.field_staff.{k}") for k, v in titles.items()},
    )


def _map(raw) -> MapSettings:
    if raw is None:
        return MapSettings()
    if not isinstance(raw, dict):
        raise CityConfigError("map: expected a mapping")
    center = raw.get("center") or [0, 0]
    try:
        latitude, longitude = (float(value) for value in center)
    except (TypeError, ValueError):
        raise CityConfigError("map.center must be [latitude, longitude]") from None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise CityConfigError("map.center is outside the globe")
    zoom = raw.get("zoom", 13)
    if isinstance(zoom, bool) or not isinstance(zoom, int) or not 1 <= zoom <= 19:
        raise CityConfigError("map.zoom must be a whole number from 1 to 19")
    tile_url = str(raw.get("tile_url") or "").strip()
    if tile_url and not tile_url.startswith("https://"):
        raise CityConfigError("map.tile_url must start with https:// (or be empty for no tiles)")
    return MapSettings((latitude, longitude), zoom, tile_url, str(raw.get("attribution") or ""))


def load_city(path: Optional[os.PathLike] = None) -> City:
    """Read and validate a city file; raise CityConfigError with the field at fault."""
    path = Path(path or os.environ.get("CITY_CONFIG") or DEFAULT_CONFIG_PATH)
    try:
        # libyaml's safe loader (in PyYAML's wheels): the same result, ten times faster
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader) or {}
    except FileNotFoundError as exc:
        raise CityConfigError(f"city configuration not found: {path}") from exc
    except yaml.YAMLError as exc:
        raise CityConfigError(f"{path}: not valid YAML: {exc}") from exc
    return city_from_mapping(raw, str(path))


def city_from_mapping(raw, source: str) -> City:
    """Validate a city configuration as read from its YAML file (`source` names the file in
    messages); raise CityConfigError with the field at fault."""
    if not isinstance(raw, dict):
        raise CityConfigError(f"{source}: expected a mapping at the top")

    city = _require(raw, "city", source)
    departments = _require(raw, "departments", source)
    categories_raw = _require(raw, "categories", source)

    wards = _require(city, "wards", "city")
    if not isinstance(wards, int) or isinstance(wards, bool) or not 1 <= wards <= 1000:
        raise CityConfigError(f"city.wards must be a whole number from 1 to 1000, not {wards!r}")
    prefix = str(_require(city, "complaint_prefix", "city"))
    if not (prefix.isascii() and prefix.isalpha() and prefix.isupper() and 2 <= len(prefix) <= 5):
        raise CityConfigError(f"city.complaint_prefix must be 2-5 capital letters, not {prefix!r}")

    depts = {str(k): _names(v, f"departments.{k}") for k, v in departments.items()}
    categories: Dict[str, Category] = {}
    for key, value in categories_raw.items():
        where = f"categories.{key}"
        dept = _require(value, "department", where)
        if dept not in depts:
            raise CityConfigError(f"{where}.department: unknown department {dept!r}")
        sla = _require(value, "sla_hours", where)
        if not isinstance(sla, int) or sla <= 0:
            raise CityConfigError(f"{where}.sla_hours must be a positive whole number")
        names = {lang: str(value[lang]) for lang in LANGUAGES if lang in value}
        if "en" not in names:
            raise CityConfigError(f"{where}: needs an 'en' name")
        short_words = value.get("short_words") or []
        if not isinstance(short_words, list):
            raise CityConfigError(f"{where}.short_words must be a list of words")
        categories[str(key)] = Category(str(key), dept, sla, names,
                                        tuple(str(w).casefold() for w in short_words))

    return City(
        name=_names(_require(city, "name", "city"), "city.name"),
        corporation=_names(_require(city, "corporation", "city"), "city.corporation"),
        district=str(_require(city, "district", "city")),
        state=str(_require(city, "state", "city")),
        wards=wards,
        complaint_prefix=prefix,
        whatsapp_number=str(_require(city, "whatsapp_number", "city")),
        office_hours=_names(_require(city, "office_hours", "city"), "city.office_hours"),
        covid_testing=_names(_require(city, "covid_testing", "city"), "city.covid_testing"),
        helplines={str(k): str(v) for k, v in (city.get("helplines") or {}).items()},
        max_tickets_per_citizen_per_day=int(city.get("max_tickets_per_citizen_per_day", 10)),
        reopen_window_days=int(city.get("reopen_window_days", 7)),
        timezone=_timezone(city.get("timezone", "Asia/Kolkata")),
        whatsapp_templates=dict(raw.get("whatsapp_templates") or {}),
        localities=tuple(_locality(item, wards, i) for i, item in enumerate(raw.get("localities") or [])),
        departments=depts,
        categories=categories,
        workflow=_workflow(raw.get("workflow"), depts),
        map=_map(raw.get("map")),
        control_room=str(city.get("control_room") or ""),
        agencies=_agencies(raw.get("agencies")),
        services=_services(raw.get("services"), categories),
        default_language=_default_language(city.get("default_language", "en")),
    )


@functools.cache
def get_city() -> City:
    """The configured city, loaded once per process."""
    return load_city()
