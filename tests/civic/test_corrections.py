"""What a citizen asks to change at the complaint's summary, in three scripts."""
import pytest

from civic.corrections import Correction, change_of_mind, parse_correction, ward_in_text


@pytest.mark.parametrize("text, expected", [
    ("ward 41 hai, 14 nahi", Correction("ward", "41")),
    ("ward 14 nahi, 41 hai", Correction("ward", "41")),
    ("14 nahi 41", Correction("ward", "41")),
    ("not 14 but 41", Correction("ward", "41")),
    ("wrong ward, it should be 52", Correction("ward", "52")),
    ("change the ward to 33", Correction("ward", "33")),
    ("वार्ड गलत है", Correction("ward", None)),
    ("jagah galat likhi hai, sahi jagah station ke saamne hai", Correction("location", "station ke saamne")),
    ("wrong place, it is behind the bus stand", Correction("location", "behind the bus stand")),
    ("जगह गलत है, सही जगह जामा मस्जिद के पास है", Correction("location", "जामा मस्जिद के पास")),
    ("the place should be Court Road", Correction("location", "Court Road")),
    ("address is wrong", Correction("location", None)),
    ("photo galat hai", Correction("photo", None)),
    ("vivaran badalna hai", Correction("description", None)),
    ("विषय गलत है", Correction("category", None)),
    ("kuch galat hai", Correction(None, None)),
    ("something is wrong", Correction(None, None)),
])
def test_corrections(text, expected):
    assert parse_correction(text) == expected


@pytest.mark.parametrize("text", ["haan", "yes register it", "nahi", "theek hai", "/deny",
                                  "photo bhej raha hoon", "light abhi bhi band hai", "x" * 600])
def test_not_corrections(text):
    assert parse_correction(text) is None


@pytest.mark.parametrize("text, ward", [("41 hai, 14 nahi", "41"), ("not 7, 9", "9"), ("12", "12"),
                                        ("12 ya 14", None), ("14 nahi", None)])
def test_the_ward_the_citizen_does_not_negate(text, ward):
    assert ward_in_text(text) == ward


# Words for the categories, written here rather than read from city.yml.
WORDS = {"street_light": {"light", "लाइट", "street"}, "drinking_water": {"paani", "pani", "पानी"},
         "sewer": {"naali", "नाली", "sewer", "drain"}, "sanitation": {"kooda", "safai", "सफाई", "naali", "नाली"},
         "construction": {"sadak", "road", "सड़क"}}


@pytest.mark.parametrize("text, taken_back, named", [
    ("nahi nahi, light nahi, asal me naali band hai", {"street_light"}, {"sewer", "sanitation"}),
    ("sorry light nahi, asal me kooda uthane ki baat hai", {"street_light"}, {"sanitation"}),
    ("लाइट की बात नहीं है, असल में सफाई नहीं हुई", {"street_light"}, {"sanitation"}),
    ("no no, not the drain, the road is broken", {"sewer"}, {"construction"}),
    ("pani nahi asal me sadak tooti hai", {"drinking_water"}, {"construction"}),
])
def test_a_change_of_mind(text, taken_back, named):
    change = change_of_mind(text, WORDS)
    assert change is not None and change.taken_back == taken_back and change.named == named


@pytest.mark.parametrize("text", ["paani nahi aa raha 3 din se", "paani nahi, 3 din se koi nahi aaya",
                                  "light nahi jal rahi", "नाली नहीं बनी है", "nahi", "/deny",
                                  "light nahi, " + "x " * 300])
def test_not_a_change_of_mind(text):
    assert change_of_mind(text, WORDS) is None
