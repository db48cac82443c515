"""Where a complaint is: places named in free text, and the wards of named localities.
Expected values are written out here from how citizens write, not read from city.yml."""
import pytest

from civic.city import Locality
from civic.location import extract_location, localities_in, wards_of

LOCALITIES = (
    Locality("Court Road", ("कोर्ट रोड",), (12,)),
    Locality("Bus Stand", ("Bus Adda", "बस अड्डा"), (30, 32)),
    Locality("Railway Station", ("Station Road", "रेलवे स्टेशन"), (17, 19)),
    Locality("Ghanta Ghar", ("घंटाघर",), (44,)),
)


@pytest.mark.parametrize("text, place", [
    ("ward 23 me street light kharab hai Court Road pe", "Court Road"),
    ("वार्ड बारह, जामा मस्जिद के पास", "जामा मस्जिद के पास"),
    ("wrong place, it is behind the bus stand", "behind the bus stand"),
    ("street light kharab hai station ke saamne", "station ke saamne"),
    ("I stay near the bus stand, no idea about the ward", "near the bus stand"),
    ("hm rly station ke piche rehte h", "rly station ke piche"),
    ("घंटाघर के पास नल नहीं चल रहा", "घंटाघर के पास"),
    ("Shastri Nagar me sadak tooti hai", "Shastri Nagar"),
    ("kooda Nehru Market ke peeche pada hai", "Nehru Market ke peeche"),
    ("main station road wali colony me rehta hu", "station road wali colony"),
    ("opposite the old post office the drain is open", "opposite the old post office"),
])
def test_the_place_as_typed(text, place):
    assert extract_location(text, LOCALITIES) == place


GOPAL_NAGAR = Locality("Gopal Nagar", ("गोपाल नगर",), (61,))
MORE = LOCALITIES + (Locality("Chilkana Road", ("चिलकाना रोड",), (33,)), GOPAL_NAGAR,
                     Locality("Gill Colony", (), (52,)), Locality("Nawabganj", (), (21,)),
                     Locality("Mission Compound", (), (5,)))


@pytest.mark.parametrize("text, place", [  # citizens' round 1, conversations 13, 19, 39, 44
    ("fine. ward 8, Chilkana road near the petrol pump", "Chilkana road near the petrol pump"),
    ("वार्ड 61, मकान नंबर 14/237 गोपाल नगर", "मकान नंबर 14/237 गोपाल नगर"),
    ("gutter ka dhakkan gayab h, raat ko koi gir jayega. Ward 52, Gill colony gali no 4",
     "Gill colony gali no 4"),
    ("nal me ganda pani aa rha h ward 21 Nawabganj masjid wali gali", "Nawabganj masjid wali gali"),
    ("chalo ab kar do. ward 21, Nawabganj, masjid wali gali", "Nawabganj, masjid wali gali"),
    ("house no 12, Gopal Nagar me paani nahi", "house no 12, Gopal Nagar"),
    ("ward 61 Gopal Nagar me kooda", "Gopal Nagar"),
    ("Court Road pe light kharab", "Court Road"),
    ("वार्ड 33 में चिलकाना रोड पर पेट्रोल पंप के पास पानी नहीं आ रहा", "चिलकाना रोड पर पेट्रोल पंप के पास"),
    ("Chilkana road pe petrol pump ke paas kooda", "Chilkana road pe petrol pump ke paas"),
    ("वार्ड 8, अंबाला रोड पर पेट्रोल पंप के बगल में", "अंबाला रोड पर पेट्रोल पंप के बगल में"),  # round 4 (39)
    ("Its ward 5, Mission compound road, two poles near the church",  # round 4 (11)
     "Mission compound road, two poles near the church"),
])
def test_a_place_is_not_cut_down_to_the_locality_it_contains(text, place):
    assert extract_location(text, MORE) == place


@pytest.mark.parametrize("text, place", [
    # the lead's last simulator run: "bhai gali me kachra pda h" gave the place "bhai gali"
    ("bhai gali me kachra pda h 4 din se, ward 31", None),
    ("bhaiya nehru market ke piche kuda pada hai", "nehru market ke piche"),
    ("यार घंटाघर के पास नाली बंद है", "घंटाघर के पास"),
    ("sahib ji nagar ke paas kuda", "sahib ji nagar ke paas"),  # "ji" is part of names
])
def test_a_word_of_address_is_no_part_of_the_place(text, place):
    assert extract_location(text, MORE) == place


@pytest.mark.parametrize("text", [
    "mere ghar ke paas kooda pada hai", "ward 12", "pipe ftt gya h gali me pani beh rha h", "road pe gaddha hai", "paani nahi aa raha", "street light kharab hai",
    "ke paas", "", "x" * 2001,
])
def test_no_place_rather_than_a_wrong_one(text):
    assert extract_location(text, LOCALITIES) is None


def test_localities_match_whole_words_in_any_of_their_spellings():
    assert [hit[0].name for hit in localities_in("बस अड्डा और कोर्ट रोड", LOCALITIES)] == ["Bus Stand", "Court Road"]
    assert localities_in("courtroadside", LOCALITIES) == []
    assert localities_in("COURT ROAD", LOCALITIES)[0][1:] == (0, 10)


def test_wards_of_the_named_localities_in_order_without_repeats():
    assert wards_of("near the bus stand", LOCALITIES) == (30, 32)
    assert wards_of("court road se bus adda tak", LOCALITIES) == (12, 30, 32)
    assert wards_of("somewhere else", LOCALITIES) == ()
