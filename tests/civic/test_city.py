"""The city configuration loader: the real file, another city, and clear errors."""
import copy
import dataclasses
from pathlib import Path

import pytest
import yaml

from civic.city import Agency, Category, CityConfigError, Service, city_from_mapping, load_city

ROOT = Path(__file__).resolve().parents[2]
SARAHANPUR = yaml.safe_load((ROOT / "city.yml").read_text(encoding="utf-8"))


def saharanpur():
    """Saharanpur's city.yml, as the loader makes it (each test its own)."""
    return city_from_mapping(copy.deepcopy(SARAHANPUR), "city.yml")


def write(tmp_path, data) -> Path:
    path = tmp_path / "city.yml"
    path.write_text(yaml.dump(data, Dumper=yaml.CSafeDumper, allow_unicode=True), encoding="utf-8")
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
    data = copy.deepcopy(SARAHANPUR)
    data["city"].update(name={"en": "Meerut", "hi": "मेरठ"}, wards=90, complaint_prefix="MRT",
                        district="Meerut")
    monkeypatch.setenv("CITY_CONFIG", str(write(tmp_path, data)))
    city = load_city()
    assert (city.name["hi"], city.wards, city.complaint_prefix) == ("मेरठ", 90, "MRT")


def test_localities_carry_their_spellings_and_wards():
    data = copy.deepcopy(SARAHANPUR)
    data["localities"] = ["Old Name", {"name": "Bus Stand", "also": ["बस अड्डा"], "wards": [30, 32]}]
    city = city_from_mapping(data, "city.yml")
    assert city.localities[0].spellings == ("Old Name",) and city.localities[0].wards == ()
    assert city.localities[1].spellings == ("Bus Stand", "बस अड्डा")
    assert city.localities[1].wards == (30, 32)


@pytest.mark.parametrize("wards", [[0], [71], ["12"], [True]])
def test_a_locality_ward_outside_the_city_is_refused(wards):
    data = copy.deepcopy(SARAHANPUR)
    data["localities"] = [{"name": "Somewhere", "wards": wards}]
    with pytest.raises(CityConfigError, match="localities"):
        city_from_mapping(data, "city.yml")


def _with_map(settings):
    data = copy.deepcopy(SARAHANPUR)
    if settings is None:
        data.pop("map", None)
    else:
        data["map"] = settings
    return city_from_mapping(data, "city.yml")


def test_the_workspace_map_opens_on_saharanpur():
    city = saharanpur()
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
def test_map_settings_as_written(settings, expected):
    found = _with_map(settings).map
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
def test_a_wrong_map_is_refused_with_its_reason(settings, message):
    with pytest.raises(CityConfigError, match=f"^{message}$"):
        _with_map(settings)


# --- every refusal of a wrong city.yml, with its whole message -----------------------------

def refusal(change) -> str:
    """The message load_city gives for Saharanpur's file changed by `change`."""
    data = copy.deepcopy(SARAHANPUR)
    change(data)
    with pytest.raises(CityConfigError) as refused:
        city_from_mapping(data, "city.yml")
    return str(refused.value)


def _category(key, **values):
    return lambda d: d["categories"][key].update(values)


def _drop(*keys):
    def change(d):
        *parents, last = keys
        for key in parents:
            d = d[key]
        d.pop(last)
    return change


def _set(*keys_and_value):
    *keys, value = keys_and_value

    def change(d):
        *parents, last = keys
        for key in parents:
            d = d[key]
        d[last] = value
    return change


REFUSALS = [
    # the city
    (_drop("city"), "city.yml: 'city' is required"),
    (_set("city", None), "city.yml: 'city' is required"),
    (_drop("categories"), "city.yml: 'categories' is required"),
    (_set("departments", ""), "city.yml: 'departments' is required"),
    (_drop("city", "wards"), "city: 'wards' is required"),
    (_set("city", "wards", 1001), "city.wards must be a whole number from 1 to 1000, not 1001"),
    (_set("city", "wards", 0), "city.wards must be a whole number from 1 to 1000, not 0"),
    (_set("city", "wards", True), "city.wards must be a whole number from 1 to 1000, not True"),
    (_set("city", "wards", "seventy"),
     "city.wards must be a whole number from 1 to 1000, not 'seventy'"),
    (_drop("city", "complaint_prefix"), "city: 'complaint_prefix' is required"),
    (_set("city", "complaint_prefix", "S"),
     "city.complaint_prefix must be 2-5 capital letters, not 'S'"),
    (_set("city", "complaint_prefix", "SARAHA"),
     "city.complaint_prefix must be 2-5 capital letters, not 'SARAHA'"),
    (_set("city", "complaint_prefix", "Srn"),
     "city.complaint_prefix must be 2-5 capital letters, not 'Srn'"),
    (_set("city", "complaint_prefix", "SR1"),
     "city.complaint_prefix must be 2-5 capital letters, not 'SR1'"),
    (_set("city", "complaint_prefix", "ŚRN"),
     "city.complaint_prefix must be 2-5 capital letters, not 'ŚRN'"),
    (_drop("city", "name"), "city: 'name' is required"),
    (_set("city", "name", {"hi": "सहारनपुर"}), "city.name: needs at least an 'en' name"),
    (_set("city", "name", ["Saharanpur"]), "city.name: needs at least an 'en' name"),
    (_drop("city", "corporation"), "city: 'corporation' is required"),
    (_set("city", "corporation", {"hi": "नगर निगम"}), "city.corporation: needs at least an 'en' name"),
    (_drop("city", "district"), "city: 'district' is required"),
    (_drop("city", "state"), "city: 'state' is required"),
    (_drop("city", "whatsapp_number"), "city: 'whatsapp_number' is required"),
    (_drop("city", "office_hours"), "city: 'office_hours' is required"),
    (_set("city", "office_hours", {"hi": "दस बजे"}), "city.office_hours: needs at least an 'en' name"),
    (_drop("city", "covid_testing"), "city: 'covid_testing' is required"),
    (_set("city", "covid_testing", {"hi": "अस्पताल"}),
     "city.covid_testing: needs at least an 'en' name"),
    (_set("city", "timezone", "Mars/Olympus"), "city.timezone: unknown time zone 'Mars/Olympus'"),
    (_set("city", "timezone", "/etc/localtime"),
     "city.timezone: unknown time zone '/etc/localtime'"),
    # departments and categories
    (_set("departments", "tax", {"hi": "कर विभाग"}), "departments.tax: needs at least an 'en' name"),
    (_category("sewer", department=None), "categories.sewer: 'department' is required"),
    (_category("sewer", department="drains"),
     "categories.sewer.department: unknown department 'drains'"),
    (_drop("categories", "sewer", "sla_hours"), "categories.sewer: 'sla_hours' is required"),
    (_category("sewer", sla_hours=0), "categories.sewer.sla_hours must be a positive whole number"),
    (_category("sewer", sla_hours="48"),
     "categories.sewer.sla_hours must be a positive whole number"),
    (_drop("categories", "sewer", "en"), "categories.sewer: needs an 'en' name"),
    (_category("sewer", short_words="naali"),
     "categories.sewer.short_words must be a list of words"),
    # localities
    (_set("localities", [["Court Road"]]), "localities[0]: a name or {name, also, wards}"),
    (_set("localities", ["Court Road", {"also": ["x"]}]), "localities[1]: 'name' is required"),
    (_set("localities", [{"name": "Court Road", "also": "कोर्ट रोड"}]),
     "localities[0]: 'also' and 'wards' are lists"),
    (_set("localities", [{"name": "Court Road", "wards": 12}]),
     "localities[0]: 'also' and 'wards' are lists"),
    (_set("localities", [{"name": "Court Road", "wards": [12, 71]}]),
     "localities[0].wards: 71 is not a ward from 1 to 70"),
    (_set("localities", [{"name": "Court Road", "wards": ["12"]}]),
     "localities[0].wards: '12' is not a ward from 1 to 70"),
    # the officers' workflow
    (_set("workflow", ["escalate"]), "workflow: expected a mapping"),
    (_set("workflow", "escalate_to_commissioner_after_hours", 0),
     "workflow.escalate_to_commissioner_after_hours must be a positive whole number"),
    (_set("workflow", "escalate_to_commissioner_after_hours", True),
     "workflow.escalate_to_commissioner_after_hours must be a positive whole number"),
    (_set("workflow", "escalate_to_commissioner_after_hours", "48"),
     "workflow.escalate_to_commissioner_after_hours must be a positive whole number"),
    (_set("workflow", "field_staff", ["lineman"]),
     "workflow.field_staff: expected department: {en, hi, hinglish}"),
    (_set("workflow", "field_staff", "parks", {"en": "gardener"}),
     "workflow.field_staff: unknown department 'parks'"),
    (_set("workflow", "field_staff", "tax", {"hi": "कर निरीक्षक"}),
     "workflow.field_staff.tax: needs at least an 'en' name"),
    # other agencies
    (_set("agencies", ["police"]), "agencies: expected a mapping"),
    (_set("agencies", "police", "numbers", ["11"]),
     "agencies.police.numbers: a list of phone numbers (digits)"),
    (_set("agencies", "police", "numbers", ["1234567890123"]),
     "agencies.police.numbers: a list of phone numbers (digits)"),
    (_set("agencies", "police", "numbers", ["112", "11a"]),
     "agencies.police.numbers: a list of phone numbers (digits)"),
    (_set("agencies", "police", "numbers", "112"),
     "agencies.police.numbers: a list of phone numbers (digits)"),
    (_drop("agencies", "police", "name"), "agencies.police: 'name' is required"),
    (_set("agencies", "police", "name", {"en": "Police", "hi": "पुलिस"}),
     "agencies.police.name: missing hinglish"),
    (_set("agencies", "police", "name", "Police"), "agencies.police.name: missing hi, hinglish"),
    (_set("agencies", "police", "name", {"hi": "पुलिस", "hinglish": "Police"}),
     "agencies.police.name: needs at least an 'en' name"),
    (_drop("agencies", "police", "text"), "agencies.police: 'text' is required"),
    (_set("agencies", "police", "text", {"en": "Call 112.", "hinglish": "112 par call karein."}),
     "agencies.police.text: missing hi"),
    (_drop("agencies", "police", "words"), "agencies.police.words: a list of words that name it"),
    (_set("agencies", "police", "words", []), "agencies.police.words: a list of words that name it"),
    (_set("agencies", "police", "words", "police"),
     "agencies.police.words: a list of words that name it"),
    # municipal services
    (_set("services", ["trade_licence"]), "services: expected a mapping"),
    (_set("services", "trade_licence", "complaint", "parks"),
     "services.trade_licence.complaint: unknown category 'parks'"),
    (_drop("services", "trade_licence", "name"), "services.trade_licence: 'name' is required"),
    (_set("services", "trade_licence", "name", {"en": "Trade licence", "hi": "लाइसेंस"}),
     "services.trade_licence.name: missing hinglish"),
    (_drop("services", "trade_licence", "office"), "services.trade_licence: 'office' is required"),
    (_set("services", "trade_licence", "office", "Nagar Nigam"),
     "services.trade_licence.office: missing hi, hinglish"),
    (_drop("services", "trade_licence", "documents"),
     "services.trade_licence: 'documents' is required"),
    (_set("services", "trade_licence", "documents", {"en": "ID"}),
     "services.trade_licence.documents: missing hi, hinglish"),
    (_set("services", "trade_licence", "words", []),
     "services.trade_licence.words: a list of words that name it"),
]


@pytest.mark.parametrize("change, message", REFUSALS)
def test_every_refusal_says_the_field_and_what_is_wrong(change, message):
    assert refusal(change) == message


def test_a_missing_broken_or_shapeless_file_is_refused(tmp_path):
    path = tmp_path / "city.yml"
    path.write_text("- Saharanpur\n- 70 wards\n", encoding="utf-8")
    with pytest.raises(CityConfigError) as refused:
        load_city(path)
    assert str(refused.value) == f"{path}: expected a mapping at the top"
    path.write_text("", encoding="utf-8")  # an empty file: nothing required is there
    with pytest.raises(CityConfigError) as refused:
        load_city(path)
    assert str(refused.value) == f"{path}: 'city' is required"
    missing = tmp_path / "nope.yml"
    with pytest.raises(CityConfigError) as refused:
        load_city(missing)
    assert str(refused.value) == f"city configuration not found: {missing}"
    path.write_text("city: [unclosed", encoding="utf-8")
    with pytest.raises(CityConfigError) as refused:
        load_city(path)
    assert str(refused.value).startswith(f"{path}: not valid YAML: while parsing")


def test_the_smallest_values_allowed_are_accepted():
    data = copy.deepcopy(SARAHANPUR)
    data["localities"] = [{"name": "Edge", "wards": [1, 70]}]
    data["categories"]["sewer"]["sla_hours"] = 1
    data["workflow"] = {"escalate_to_commissioner_after_hours": 1}
    city = city_from_mapping(data, "city.yml")
    assert city.localities[0].wards == (1, 70) and city.categories["sewer"].sla_hours == 1
    assert city.workflow.commissioner_after_hours == 1


def test_a_workflow_section_with_titles_only_keeps_the_other_defaults():
    data = copy.deepcopy(SARAHANPUR)
    data["workflow"] = {"field_staff": {"tax": {"en": "tax inspector"}}}
    workflow = city_from_mapping(data, "city.yml").workflow
    assert (workflow.commissioner_after_hours, workflow.staff_names_to_citizens) == (48, False)
    assert workflow.field_staff == {"tax": {"en": "tax inspector"}}


@pytest.mark.parametrize("wards, prefix", [(1, "SR"), (1000, "SRNAB")])
def test_the_bounds_of_wards_and_prefix_are_accepted(wards, prefix):
    data = copy.deepcopy(SARAHANPUR)
    data["city"].update(wards=wards, complaint_prefix=prefix)
    data.pop("localities")
    city = city_from_mapping(data, "city.yml")
    assert (city.wards, city.complaint_prefix) == (wards, prefix)
    assert city.valid_ward(wards) and not city.valid_ward(wards + 1)


def test_what_a_minimal_file_leaves_to_the_defaults():
    data = {
        "city": {"name": "Roorkee", "corporation": "Roorkee Nagar Nigam", "district": "Haridwar",
                 "state": "UT", "wards": 40, "complaint_prefix": "RKE",
                 "whatsapp_number": 9000000001, "office_hours": "10 to 5",
                 "covid_testing": "district hospital"},
        "departments": {"works": "Public Works"},
        "categories": {"road": {"department": "works", "sla_hours": 72, "en": "Road"}},
    }
    city = city_from_mapping(data, "city.yml")
    assert city.name == {"en": "Roorkee"} and city.text("name", "hi") == "Roorkee"
    assert city.whatsapp_number == "9000000001" and city.helpline == "9000000001"
    assert (city.helplines, city.control_room, city.whatsapp_templates, city.localities) == (
        {}, "", {}, ())
    assert (city.max_tickets_per_citizen_per_day, city.reopen_window_days, city.timezone) == (
        10, 7, "Asia/Kolkata")
    workflow = city.workflow
    assert (workflow.commissioner_after_hours, workflow.staff_names_to_citizens,
            workflow.field_staff) == (48, False, {})
    assert workflow.field_title("works", "hi") is None
    assert (city.agencies, city.services) == ({}, {})
    road = city.categories["road"]
    assert (road.department, road.sla_hours, road.names, road.short_words) == (
        "works", 72, {"en": "Road"}, ())
    assert road.name("hi") == "Road" and city.department_name("works", "hinglish") == "Public Works"
    assert city.template_language("hi") == "en"  # no language codes: English templates
    assert city.categories_for_short_message("road") == ()


def test_what_a_full_file_sets():
    data = copy.deepcopy(SARAHANPUR)
    data["city"].update(max_tickets_per_citizen_per_day=3, reopen_window_days=2,
                        timezone="Asia/Dubai", control_room=None,
                        helplines={"nagar_nigam": 180012345, "covid_national": "1075"})
    data["workflow"] = {"escalate_to_commissioner_after_hours": 12,
                        "show_staff_names_to_citizens": True,
                        "field_staff": {"tax": {"en": "tax inspector", "hi": "कर निरीक्षक"}}}
    data["agencies"]["police"]["words"] = ["POLICE", "थाना"]
    data["agencies"]["police"].pop("website", None)
    data["services"]["trade_licence"]["words"] = ["Trade Licence"]
    data["services"]["trade_licence"].pop("website")
    data["whatsapp_templates"]["language_codes"] = {"hi": "hi", "en": "en_GB"}
    city = city_from_mapping(data, "city.yml")
    assert (city.max_tickets_per_citizen_per_day, city.reopen_window_days, city.timezone) == (
        3, 2, "Asia/Dubai")
    assert city.helplines == {"nagar_nigam": "180012345", "covid_national": "1075"}
    assert city.control_room == "" and city.helpline == "180012345"
    assert (city.workflow.commissioner_after_hours, city.workflow.staff_names_to_citizens) == (
        12, True)
    assert city.workflow.field_title("tax", "hi") == "कर निरीक्षक"
    assert city.workflow.field_title("tax", "hinglish") == "tax inspector"
    assert city.workflow.field_title("sanitation", "en") is None
    police = city.agencies["police"]
    assert (police.numbers, police.words, police.website) == (("112",), ("police", "थाना"), "")
    assert city.agencies["electricity"].website == "https://www.uppcl.org"
    licence = city.services["trade_licence"]
    assert (licence.key, licence.words, licence.complaint, licence.website) == (
        "trade_licence", ("trade licence",), None, "")
    assert police.key == "police"
    assert city.services["sewer_connection"].complaint == "sewer"
    assert city.template_language("en") == "en_GB" and city.template_language("hinglish") == "en"


def test_saharanpur_as_the_replies_use_it():
    city = saharanpur()
    assert city.helpline == "8477008015"  # the control room, not the WhatsApp number
    assert (city.max_tickets_per_citizen_per_day, city.reopen_window_days, city.timezone) == (
        10, 7, "Asia/Kolkata")
    assert city.template_language("hi") == "hi" and city.template_language("hinglish") == "en"
    assert city.template_language("ta") == "en"
    assert city.category_list("en") == (
        "Street light, Drinking water, Water leakage, Sewer, Sanitation / garbage, "
        "Road / construction, House tax")
    assert city.category_list("hinglish").startswith("Street light, Peene ka paani, Paani leakage")
    assert city.text("office_hours", "hinglish") == "Somvar se Shanivar, subah 10 se shaam 5 baje"
    assert city.text("name", "hinglish") == "Saharanpur"  # no Hinglish name: the English one
    assert city.text("name", "hi") == "सहारनपुर"
    assert city.workflow.field_title("street_lighting", "hinglish") == "lineman"
    assert city.workflow.field_title("water_works", "hi") == "अवर अभियंता"
    assert city.workflow.commissioner_after_hours == 48
    assert not city.workflow.staff_names_to_citizens
    assert [(loc.name, loc.wards) for loc in city.localities[:2]] == [
        ("Court Road", (12,)), ("Ambala Road", (27, 28))]
    police = city.agencies["police"]
    assert (police.name("hi"), police.name("hinglish"), police.numbers) == (
        "पुलिस", "Police", ("112",))
    assert police.text("hi").startswith("चोरी, झगड़ा")
    assert city.agencies["ambulance"].numbers == ("108", "102")
    licence = city.services["trade_licence"]
    assert licence.field("names", "hinglish") == "Trade licence (vyapar license)"
    assert licence.field("office", "en") == "Nagar Nigam, licence section (Health Department)"
    assert licence.website == "https://e-nagarsewaup.gov.in"
    assert city.services["house_tax_payment"].complaint == "house_tax"


def test_names_fall_back_to_english():
    agency = Agency("police", {"en": "Police"}, ("112",), {"en": "Call 112."}, ("police",))
    assert (agency.name("hi"), agency.text("hinglish")) == ("Police", "Call 112.")
    service = Service("licence", {"en": "Licence", "hi": "लाइसेंस"}, {"en": "Licence section"},
                      {"en": "ID"}, ("licence",))
    assert (service.field("names", "hi"), service.field("office", "hi")) == (
        "लाइसेंस", "Licence section")
    city = dataclasses.replace(saharanpur(), departments={"tax": {"en": "Tax"}},
                               office_hours={"hi": "दस से पाँच"})
    assert city.department_name("tax", "hi") == "Tax"
    assert city.text("office_hours", "en") == "दस से पाँच"  # neither asked nor English: any
    city = dataclasses.replace(city, name={"hi": "सहारनपुर", "en": "Saharanpur"})
    assert city.text("name", "hinglish") == "Saharanpur"  # English before any other
    sewer = saharanpur().categories["sewer"]
    assert (sewer.key, sewer.name("hi"), sewer.name("hinglish")) == ("sewer", "सीवर", "Sewer")
    assert Category("road", "works", 24, {"en": "Road"}).name("hi") == "Road"


def test_a_category_is_named_by_the_words_of_its_names_and_its_short_words():
    city = saharanpur()
    assert city.category_words["sanitation"] == {
        "sanitation", "garbage", "सफाई", "कूड़ा", "safai", "kooda",
        "naali", "nali", "naala", "nala", "नाली", "नाला", "drain", "gandagi", "गंदगी"}
    # "ka", "का" and "जल" (shorter than three letters) name nothing
    assert city.category_words["drinking_water"] == {
        "drinking", "water", "पीने", "पानी", "peene", "paani", "pani", "panni", "jal"}
    assert "tax" in city.category_words["house_tax"] and "house" in city.category_words["house_tax"]


@pytest.mark.parametrize("text, expected", [
    ("paani", ("drinking_water", "water_leakage")),
    ("PAANI", ("drinking_water", "water_leakage")),
    ("पानी की समस्या", ("drinking_water", "water_leakage")),  # fillers say nothing
    ("paani ki problem hai", ("drinking_water", "water_leakage")),
    ("nali", ("sewer", "sanitation")),
    ("paani naali", ("drinking_water", "water_leakage", "sewer", "sanitation")),
    ("pipe", ()),  # one category only: no choice to offer
    ("gutter", ()),
    ("paani nahi aa raha", ()),  # three words that are not fillers: a sentence, not a word
    ("light", ()),
    ("ki hai", ()),  # only fillers
    ("", ()),
])
def test_a_short_message_that_fits_several_categories(text, expected):
    assert saharanpur().categories_for_short_message(text) == expected
