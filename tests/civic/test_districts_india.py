"""The gazetteer of all India: every district of the COVID data, old names, groups, states."""
import json
from pathlib import Path

import pytest
import yaml

from civic.districts import (
    DATA_PATH,
    district_entry,
    district_members,
    find_district,
    is_whole_state,
    resolve_district,
)

COVID_CSV = Path("/work/shared/data/covid19india/district_wise_2021-05-09.csv")
NOT_DISTRICTS = {"Unknown", "Unassigned", "Other State", "Other Region", "Others", "Evacuees",
                 "Foreign Evacuees", "Italians", "Airport Quarantine", "Railway Quarantine",
                 "State Pool", "CAPF Personnel", "BSF Camp"}
needs_csv = pytest.mark.skipif(not COVID_CSV.is_file(), reason=f"no {COVID_CSV}")


# The bundled snapshot (the same covid19india.org data as the CSV, in the repository): the
# districts are checked on every machine, not only where the CSV lies.
SNAPSHOT = Path(__file__).resolve().parents[2] / "civic" / "data" / "covid_snapshot.json"


def _rows():
    data = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    return [(state, name) for state, entry in data.items() for name in (entry.get("districts") or {})
            if name not in NOT_DISTRICTS and state != "UN"]


def _answers(canonical):
    """(state, data name) of every district a canonical name is answered with."""
    return {(e.state, e.name) for e in district_members(canonical)}


def test_every_district_of_the_data_resolves_to_itself_by_its_english_name():
    rows = _rows()
    assert len(rows) > 700
    for state, name in rows:
        for spelling in (name, name.lower(), name.upper(), f" {name}! "):
            canonical = resolve_district(spelling)
            assert canonical is not None, spelling
            # The district itself, or a group (a name of two states, a city) that holds it.
            assert (state, name) in _answers(canonical), (spelling, canonical)
            assert canonical == name or district_entry(canonical).group, spelling


def test_a_name_of_two_states_resolves_to_each_by_its_state():
    rows = _rows()
    shared = {name for _, name in rows if sum(1 for _, n in rows if n == name) > 1}
    assert shared == {"Aurangabad", "Balrampur", "Bilaspur", "Hamirpur", "Pratapgarh"}
    assert resolve_district("Hamirpur Himachal Pradesh") == "Hamirpur (Himachal Pradesh)"
    assert resolve_district("Hamirpur (Uttar Pradesh)") == "Hamirpur (Uttar Pradesh)"
    assert _answers("Hamirpur") == {("HP", "Hamirpur"), ("UP", "Hamirpur")}
    assert resolve_district("औरंगाबाद बिहार") == "Aurangabad (Bihar)"


def test_every_devanagari_name_resolves_to_its_district():
    raw = yaml.safe_load(DATA_PATH.read_text(encoding="utf-8"))["districts"]
    checked = 0
    for canonical, info in raw.items():
        for hindi in info.get("hi") or []:
            assert resolve_district(hindi) == canonical, (hindi, canonical)
            checked += 1
    assert checked > 600


# Written by hand: what citizens type → the district (or group / state) meant.
OTHER_NAMES = [
    ("Bombay", "Mumbai"), ("bambai", "Mumbai"), ("बम्बई", "Mumbai"), ("mumbai", "Mumbai"),
    ("Gurgaon", "Gurugram"), ("गुड़गांव", "Gurugram"), ("Gurugram", "Gurugram"),
    ("Allahabad", "Prayagraj"), ("इलाहाबाद", "Prayagraj"),
    ("Noida", "Gautam Buddha Nagar"), ("नोएडा", "Gautam Buddha Nagar"),
    ("Calcutta", "Kolkata"), ("कलकत्ता", "Kolkata"), ("kolkatta", "Kolkata"),
    ("Madras", "Chennai"), ("मद्रास", "Chennai"),
    ("Bangalore", "Bengaluru Urban"), ("Bengaluru", "Bengaluru Urban"), ("बैंगलोर", "Bengaluru Urban"),
    ("Poona", "Pune"), ("पूना", "Pune"), ("Baroda", "Vadodara"), ("बड़ौदा", "Vadodara"),
    ("Mysore", "Mysuru"), ("Mangalore", "Dakshina Kannada"), ("Trivandrum", "Thiruvananthapuram"),
    ("Cochin", "Ernakulam"), ("Kochi", "Ernakulam"), ("Calicut", "Kozhikode"),
    ("Vizag", "Visakhapatnam"), ("Pondicherry", "Puducherry"), ("Bhubaneswar", "Khordha"),
    ("Guwahati", "Kamrup Metropolitan"), ("Jamshedpur", "East Singhbhum"),
    ("Hoshangabad", "Hoshangabad"), ("Narmadapuram", "Hoshangabad"), ("Mohali", "S.A.S. Nagar"),
    ("Faizabad", "Ayodhya"), ("Cawnpore", "Kanpur Nagar"), ("Kanpur", "Kanpur Nagar"),
    ("Benares", "Varanasi"), ("Banaras", "Varanasi"), ("Nasik", "Nashik"), ("Gulbarga", "Kalaburagi"),
    ("Belgaum", "Belagavi"), ("Trichy", "Tiruchirappalli"), ("Secunderabad", "Hyderabad"),
    # misspellings
    ("Lucknoww", "Lucknow"), ("lakhnau", "Lucknow"), ("sharanpur", "Saharanpur"),
    ("Muzaffarnagr", "Muzaffarnagar"), ("Ahmadabad", "Ahmedabad"), ("Amdavad", "Ahmedabad"),
    ("Bhopaal", "Bhopal"), ("Jabalpoor", "Jabalpur"), ("Gwaliar", "Gwalior"),
    ("Ludhiyana", "Ludhiana"), ("Jalandar", "Jalandhar"), ("Amritsr", "Amritsar"),
    ("Darbhnga", "Darbhanga"), ("Muzaffarpoor", "Muzaffarpur"), ("Bhagalpurr", "Bhagalpur"),
    ("Hydrabad", "Hyderabad"), ("Jodhpurr", "Jodhpur"), ("Udaipurr", "Udaipur"),
    # Devanagari of other states
    ("पटना", "Patna"), ("गया", "Gaya"), ("इंदौर", "Indore"), ("जयपुर", "Jaipur"),
    ("रांची", "Ranchi"), ("रायपुर", "Raipur"), ("शिमला", "Shimla"), ("चंडीगढ़", "Chandigarh"),
    ("हैदराबाद", "Hyderabad"), ("चेन्नई", "Chennai"), ("अहमदाबाद", "Ahmedabad"),
    # states
    ("Bihar", "Bihar"), ("बिहार", "Bihar"), ("Maharashtra", "Maharashtra"),
    ("उत्तर प्रदेश", "Uttar Pradesh"), ("Orissa", "Odisha"), ("Delhi", "Delhi"),
]


@pytest.mark.parametrize("text, canonical", OTHER_NAMES)
def test_old_popular_and_misspelt_names(text, canonical):
    assert resolve_district(text) == canonical


def test_cities_in_several_districts_answer_with_all():
    assert [e.key for e in district_members("Mumbai")] == ["Mumbai", "Mumbai Suburban"]
    assert [e.key for e in district_members("Hyderabad")] == [
        "Hyderabad", "Medchal Malkajgiri", "Ranga Reddy"]
    assert [e.key for e in district_members("Mumbai Suburban")] == ["Mumbai Suburban"]
    # Assam's Lakhimpur, and Uttar Pradesh's Lakhimpur Kheri
    assert {e.state for e in district_members("Lakhimpur")} == {"AS", "UP"}


@pytest.mark.parametrize("name", ["Bihar", "Maharashtra", "Uttar Pradesh", "West Bengal",
                                  "Tamil Nadu", "Delhi"])
def test_state_names_stand_for_the_whole_state(name):
    assert is_whole_state(resolve_district(name))


@pytest.mark.parametrize("text, canonical", [
    ("mumbai me corona ke case", "Mumbai"), ("पटना में कोरोना", "Patna"),
    ("covid cases in Bangalore", "Bengaluru Urban"), ("aur Indore me?", "Indore"),
])
def test_found_inside_messages(text, canonical):
    assert find_district(text)[2] == canonical


@pytest.mark.parametrize("text", [
    "kal hum mandir gaya tha", "sagar bhai ka ghar", "anand vihar me light kharab",
    "thane me report likhwani hai", "purani mandi me kooda", "krishna nagar ki nali band",
    "hamari gali me andhera rehta hai", "naala saaf karwa do barsaat se pehle",
    "behind the bus stand", "कोई पंजाबी गाना सुनाओ", "bhindi ki sabzi", "andheri raat me dar lagta",
])
def test_names_that_are_also_words_need_a_district_word(text):
    assert find_district(text) is None


@needs_csv
def test_the_gazetteer_is_what_the_generator_makes():
    from scripts.build_districts import build, render

    assert render(build(COVID_CSV)) == DATA_PATH.read_text(encoding="utf-8")
