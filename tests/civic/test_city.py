"""The city configuration loader: the real file, another city, and clear errors."""
from pathlib import Path

import pytest
import yaml

from civic.city import CityConfigError, load_city

ROOT = Path(__file__).resolve().parents[2]
SARAHANPUR = yaml.safe_load((ROOT / "city.yml").read_text(encoding="utf-8"))


def write(tmp_path, data) -> Path:
    path = tmp_path / "city.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_saharanpur_defaults():
    city = load_city(ROOT / "city.yml")
    assert (city.name["en"], city.name["hi"], city.wards, city.complaint_prefix) == (
        "Saharanpur", "सहारनपुर", 70, "SRN")
    assert city.whatsapp_number == "8477008058" and city.district == "Saharanpur"
    routing = {key: c.department for key, c in city.categories.items()}
    assert routing == {
        "street_light": "street_lighting", "drinking_water": "water_works",
        "water_leakage": "water_works", "sewer": "water_works", "sanitation": "sanitation",
        "construction": "construction", "house_tax": "tax"}
    assert city.department_name("water_works", "hi") == "जलकल विभाग"
    assert city.department_name("water_works", "hinglish") == "Jalkal Vibhag"
    assert city.department_name("water_works", "en") == "Water Works (Jalkal)"
    assert all(c.sla_hours > 0 for c in city.categories.values())
    assert city.valid_ward(1) and city.valid_ward(70) and not city.valid_ward(0) and not city.valid_ward(71)


def test_another_city_from_city_config(tmp_path, monkeypatch):
    data = yaml.safe_load(yaml.safe_dump(SARAHANPUR))
    data["city"].update(name={"en": "Meerut", "hi": "मेरठ"}, wards=90, complaint_prefix="MRT",
                        district="Meerut")
    monkeypatch.setenv("CITY_CONFIG", str(write(tmp_path, data)))
    city = load_city()
    assert (city.name["hi"], city.wards, city.complaint_prefix) == ("मेरठ", 90, "MRT")


@pytest.mark.parametrize("change, message", [
    (lambda d: d["city"].update(wards=0), "city.wards"),
    (lambda d: d["city"].update(wards="seventy"), "city.wards"),
    (lambda d: d["city"].update(complaint_prefix="srn-1"), "complaint_prefix"),
    (lambda d: d["city"].update(timezone="Mars/Olympus"), "timezone"),
    (lambda d: d["city"].pop("district"), "'district' is required"),
    (lambda d: d["categories"]["sewer"].update(department="drains"), "unknown department"),
    (lambda d: d["categories"]["sewer"].update(sla_hours=-4), "sla_hours"),
    (lambda d: d.pop("departments"), "'departments' is required"),
])
def test_a_wrong_file_names_the_field_at_fault(tmp_path, change, message):
    data = yaml.safe_load(yaml.safe_dump(SARAHANPUR))
    change(data)
    with pytest.raises(CityConfigError, match=message):
        load_city(write(tmp_path, data))


def test_missing_or_broken_file(tmp_path):
    with pytest.raises(CityConfigError, match="not found"):
        load_city(tmp_path / "nope.yml")
    broken = tmp_path / "broken.yml"
    broken.write_text("city: [unclosed", encoding="utf-8")
    with pytest.raises(CityConfigError, match="not valid YAML"):
        load_city(broken)


def test_localities_carry_their_spellings_and_wards(tmp_path):
    data = yaml.safe_load(yaml.safe_dump(SARAHANPUR))
    data["localities"] = ["Old Name", {"name": "Bus Stand", "also": ["बस अड्डा"], "wards": [30, 32]}]
    city = load_city(write(tmp_path, data))
    assert city.localities[0].spellings == ("Old Name",) and city.localities[0].wards == ()
    assert city.localities[1].spellings == ("Bus Stand", "बस अड्डा")
    assert city.localities[1].wards == (30, 32)


@pytest.mark.parametrize("wards", [[0], [71], ["12"], [True]])
def test_a_locality_ward_outside_the_city_is_refused(tmp_path, wards):
    data = yaml.safe_load(yaml.safe_dump(SARAHANPUR))
    data["localities"] = [{"name": "Somewhere", "wards": wards}]
    with pytest.raises(CityConfigError, match="localities"):
        load_city(write(tmp_path, data))


def _with_map(tmp_path, settings):
    data = yaml.safe_load(yaml.safe_dump(SARAHANPUR))
    if settings is None:
        data.pop("map", None)
    else:
        data["map"] = settings
    return load_city(write(tmp_path, data))


def test_the_workspace_map_opens_on_saharanpur():
    city = load_city(ROOT / "city.yml")
    # the city centre, near the clock tower (Ghanta Ghar): 29.97 N, 77.55 E
    assert city.map.center == (29.968, 77.546) and city.map.zoom == 13
    assert city.map.tile_url == "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    assert city.map.attribution == "© OpenStreetMap contributors"


@pytest.mark.parametrize("settings, expected", [
    (None, ((0.0, 0.0), 13, "", "")),  # no map section: no tiles
    ({}, ((0.0, 0.0), 13, "", "")),
    ({"center": [-90, -180], "zoom": 1}, ((-90.0, -180.0), 1, "", "")),
    ({"center": [90, 180], "zoom": 19, "tile_url": " https://t.example/{z}/{x}/{y}.png "},
     ((90.0, 180.0), 19, "https://t.example/{z}/{x}/{y}.png", "")),
    ({"center": ["29.5", 77], "attribution": "tiles by us"}, ((29.5, 77.0), 13, "", "tiles by us")),
])
def test_map_settings_as_written(tmp_path, settings, expected):
    found = _with_map(tmp_path, settings).map
    assert (found.center, found.zoom, found.tile_url, found.attribution) == expected


@pytest.mark.parametrize("settings, message", [
    ([1, 2], "map: expected a mapping"),
    ({"center": [1]}, r"map.center must be \[latitude, longitude\]"),
    ({"center": ["north", 77]}, r"map.center must be \[latitude, longitude\]"),
    ({"center": [90.5, 77]}, "map.center is outside the globe"),
    ({"center": [-90.5, 77]}, "map.center is outside the globe"),
    ({"center": [29, 180.5]}, "map.center is outside the globe"),
    ({"center": [29, -180.5]}, "map.center is outside the globe"),
    ({"zoom": 0}, "map.zoom must be a whole number from 1 to 19"),
    ({"zoom": 20}, "map.zoom must be a whole number from 1 to 19"),
    ({"zoom": True}, "map.zoom must be a whole number from 1 to 19"),
    ({"zoom": "13"}, "map.zoom must be a whole number from 1 to 19"),
    ({"tile_url": "http://tiles.example/{z}/{x}/{y}.png"},
     r"map.tile_url must start with https:// \(or be empty for no tiles\)"),
])
def test_a_wrong_map_is_refused_with_its_reason(tmp_path, settings, message):
    with pytest.raises(CityConfigError, match=f"^{message}$"):
        _with_map(tmp_path, settings)
