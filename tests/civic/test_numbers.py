"""civic.numbers: every number 1-100 in digits, Devanagari digits, Hindi, Hinglish, English."""

import pytest

from civic.numbers import (
    find_numbers,
    parse_choice,
    parse_menu_choice,
    parse_number,
    rating_in_words,
)

# The standard spellings, written out independently of the module's tables.
HINDI_1_TO_100 = """
एक दो तीन चार पाँच छह सात आठ नौ दस ग्यारह बारह तेरह चौदह पंद्रह सोलह सत्रह अठारह उन्नीस बीस
इक्कीस बाईस तेईस चौबीस पच्चीस छब्बीस सत्ताईस अट्ठाईस उनतीस तीस इकतीस बत्तीस तैंतीस चौंतीस
पैंतीस छत्तीस सैंतीस अड़तीस उनतालीस चालीस इकतालीस बयालीस तैंतालीस चवालीस पैंतालीस छियालीस
सैंतालीस अड़तालीस उनचास पचास इक्यावन बावन तिरेपन चौवन पचपन छप्पन सत्तावन अट्ठावन उनसठ साठ
इकसठ बासठ तिरसठ चौंसठ पैंसठ छियासठ सड़सठ अड़सठ उनहत्तर सत्तर इकहत्तर बहत्तर तिहत्तर चौहत्तर
पचहत्तर छिहत्तर सतहत्तर अठहत्तर उन्यासी अस्सी इक्यासी बयासी तिरासी चौरासी पचासी छियासी सत्तासी
अट्ठासी नवासी नब्बे इक्यानबे बानबे तिरानबे चौरानबे पंचानबे छियानबे सत्तानबे अट्ठानबे निन्यानबे सौ
""".split()

HINGLISH_1_TO_100 = """
ek do teen char paanch chhah saat aath nau das gyarah barah terah chaudah pandrah solah satrah
atharah unnees bees ikkees baees teis chaubees pachchees chhabbees sattaees atthaees untees tees
iktees battees taintees chauntees paintees chhattees saintees adtees untalees chalees iktalees
bayalees taintalees chavalees paintalees chhiyalees saintalees adtalees unchas pachas ikyavan
bavan tirepan chauvan pachpan chhappan sattavan atthavan unsath saath iksath basath tirsath
chaunsath painsath chhiyasath sadsath adsath unhattar sattar ikhattar bahattar tihattar
chauhattar pachhattar chhihattar sathattar athhattar unyasi assi ikyasi bayasi tirasi chaurasi
pachasi chhiyasi sattasi atthasi navasi nabbe ikyanve banve tiranve chauranve pachanve
chhiyanve sattanve atthanve ninyanve sau
""".split()

ENGLISH_UNITS = "one two three four five six seven eight nine".split()
ENGLISH_TEENS = (
    "ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split()
)
ENGLISH_TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()


def english(n: int, hyphen: bool) -> str:
    if n == 100:
        return "one hundred"
    if n < 10:
        return ENGLISH_UNITS[n - 1]
    if n < 20:
        return ENGLISH_TEENS[n - 10]
    tens, unit = divmod(n, 10)
    word = ENGLISH_TENS[tens - 2]
    return word if unit == 0 else word + ("-" if hyphen else " ") + ENGLISH_UNITS[unit - 1]


def devanagari_digits(n: int) -> str:
    return str(n).translate(str.maketrans("0123456789", "०१२३४५६७८९"))


def test_reference_lists_are_complete():
    assert len(HINDI_1_TO_100) == 100
    assert len(HINGLISH_1_TO_100) == 100


@pytest.mark.parametrize("n", range(1, 101))
def test_every_number_in_every_form(n):
    assert parse_number(str(n)) == n
    assert parse_number(devanagari_digits(n)) == n
    assert parse_number(HINDI_1_TO_100[n - 1]) == n
    assert parse_number(HINGLISH_1_TO_100[n - 1]) == n
    assert parse_number(english(n, hyphen=False)) == n
    assert parse_number(english(n, hyphen=True)) == n
    assert parse_number(english(n, hyphen=False).title()) == n


# Other spellings people type, checked by hand (not the module's own lists): "word number",
# rows separated by "|". Left out on purpose: "tera" (13, but first of all "your").
VARIANTS = """
ek 1|ik 1|teen 3|tin 3|char 4|chaar 4|paanch 5|panch 5|chhe 6|chhah 6|chah 6|saat 7|aath 8|ath 8
gyarah 11|gyara 11|barah 12|bara 12|terah 13|chaudah 14|chauda 14|pandrah 15|pandra 15|solah 16
sola 16|satrah 17|satra 17|atharah 18|athara 18|unnis 19|unees 19|bees 20|bis 20|ikkis 21|ikkees 21
bais 22|baees 22|teis 23|chaubis 24|chaubees 24|pachchis 25|pachis 25|chhabbis 26|sattais 27
atthais 28|athais 28|untis 29|tees 30|tis 30|iktis 31|ikattis 31|battis 32|taintis 33|tetis 33
chautis 34|chauntis 34|paintis 35|chhattis 36|chattis 36|saintis 37|adtis 38|artis 38|untalis 39
chalis 40|chaalees 40|iktalis 41|bayalis 42|taintalis 43|chavalis 44|chawalis 44|paintalis 45
chhiyalis 46|saintalis 47|adtalis 48|artalis 48|unchas 49|pachas 50|pachaas 50|ikyavan 51
ikyawan 51|bavan 52|bawan 52|tirepan 53|chauvan 54|chauwan 54|pachpan 55|chhappan 56|sattavan 57
atthavan 58|unsath 59|saath 60|iksath 61|basath 62|tirsath 63|chausath 64|chaunsath 64|painsath 65
chhiyasath 66|sadsath 67|adsath 68|unhattar 69|sattar 70|ikhattar 71|bahattar 72|tihattar 73
chauhattar 74|pachhattar 75|chhihattar 76|satattar 77|athattar 78|unnasi 79|unasi 79|assi 80
ikyasi 81|bayasi 82|tirasi 83|chaurasi 84|pachasi 85|chhiyasi 86|sattasi 87|atthasi 88|navasi 89
nawasi 89|nabbe 90|ikyanve 91|banve 92|tiranve 93|chauranve 94|pachanve 95|chhiyanve 96
sattanve 97|atthanve 98|ninyanve 99|sau 100
छः 6|छह 6|छे 6|पाँच 5|पांच 5|तेइस 23|तेईस 23|अट्ठाईस 28|अठाईस 28|निन्यानवे 99|निन्यानबे 99
"""


def _variants():
    for row in VARIANTS.replace("\n", "|").split("|"):
        if row.strip():
            word, number = row.rsplit(" ", 1)
            yield word.strip(), int(number)


@pytest.mark.parametrize("spelling, n", list(_variants()))
def test_other_spellings(spelling, n):
    assert parse_number(spelling) == n
    assert parse_number(spelling.upper()) == n


@pytest.mark.parametrize(
    "text, value",
    [
        ("तेइस", 23), ("teyis", 23), ("teiss", 23), ("TEIS", 23), ("tin", 3), ("chaar", 4),
        ("panch", 5), ("पांच", 5), ("ikkis", 21), ("bais", 22), ("उनहत्तर", 69), ("sattar", 70),
        ("twentythree", None), ("एक सौ", 100), ("ek sau", 100), ("hundred", 100),
        ("पन्द्रह", 15), ("छः", 6), ("unnis", 19), ("sadak", None), ("chai", None),
        ("tera", None), ("no", None), ("23 24", None), ("", None), ("ward 23", None),
        ("23.", 23), ("(23)", 23), ("  २३ ", 23), ("0", 0), ("अडतीस", 38),
        ("at", None), ("ते", None), ("साथ", None), ("साठ", 60), ("TEN", 10),
    ],
)
def test_parse_number_examples(text, value):
    assert parse_number(text) == value


def test_find_numbers_offsets():
    text = "ward 23 aur वार्ड तेईस, twenty-three ya ७0"
    found = find_numbers(text)
    assert [v for _, _, v in found] == [23, 23, 23, 70]
    assert [text[s:e] for s, e, _ in found] == ["23", "तेईस", "twenty-three", "७0"]


def test_find_numbers_inside_words_and_long_digit_runs():
    assert find_numbers("wardno23") == [(6, 8, 23)]
    assert find_numbers("call 98765432101234") == []  # a phone-like run is no number


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1", 1), ("१", 1), ("ek", 1), ("one", 1), ("One", 1), ("option 2", 2), ("Option-2", 2),
        ("2.", 2), ("2)", 2), ("2️⃣", 2), ("#3", 3), ("no. 3", 3), ("विकल्प ३", 3), ("do", 2),
        ("5 star", 5), ("⭐⭐⭐⭐", 4), ("7", None), ("0", None), ("ek do", None),
        ("option", None), ("hello", None), ("", None), ("1 2 3", None),
    ],
)
def test_parse_menu_choice(text, expected):
    assert parse_menu_choice(text, 5) == expected


def test_parse_choice_span_points_at_the_number():
    text = "  option 4 "
    start, end, value = parse_choice(text)
    assert (text[start:end], value) == ("4", 4)


def test_emoji_and_long_text_are_fast_and_safe():
    long_text = ("ward 23 me paani nahi aa raha 😡 " * 400)[:10_000]
    found = find_numbers(long_text)  # how long it takes: scripts/bench_text.py
    assert parse_number(long_text) is None
    assert parse_menu_choice(long_text, 5) is None
    assert find_numbers("😀" * 10_000) == []
    assert find_numbers("9" * 10_000) == []
    assert len(found) == long_text.count("23")


@pytest.mark.parametrize("text, rating", [
    ("wow that was quick!! lights are working now, thank u. i'd give 4 stars, took 2 days tho", 4),  # round 4 (12)
    ("5/5", 5), ("4 out of 5", 4), ("rating 3", 3), ("चार स्टार", 4), ("⭐⭐⭐⭐ bahut badhiya", 4),
    ("paanch me se paanch", 5), ("mai 3 star dunga", 3), ("पाँच में से चार", 4),
    ("took 2 days", None), ("4 stars or maybe 5 stars", None), ("9 stars", None), ("ward 4", None),
    ("5 - finally someone came, thanks", 5), ("hn ab saaf h gli. bdiya kaam kiya is baar, 5 star dungi", 5),  # 51, 41
    ("2 din se light band h", None), ("12 - ward", None),
    ("I rate it 5", 5), ("rate it as 4", 4),  # round 5 (35)
    ("इस बार ठीक है, बत्ती जल रही है। काम ठीक ठाक था, देर बहुत लगी, तीन नंबर दूंगा", 3),  # round 5 (51)
    ("rating dena h 5", 5), ("3 number dunga", 3), ("ward 3 number", None),  # round 5 (59)
])
def test_a_rating_inside_a_sentence(text, rating):
    assert rating_in_words(text) == rating
