"""The assistant answers in the citizen's language and script, and menus accept numbers."""
import re

from civic.city import load_city

DEVANAGARI = re.compile(r"[\u0900-\u097F]")


def test_reply_language_follows_the_latest_message(chat):
    assert DEVANAGARI.search(chat.texts("नमस्ते"))
    hinglish = chat.texts("namaste ji")
    assert not DEVANAGARI.search(hinglish) and "Aap kya karna chahenge" in hinglish
    assert "What would you like to do" in chat.texts("hello, I need some help")
    # a courtesy carries no language: the conversation's stays
    assert "What would you like to do" in chat.texts("good morning")


def test_the_first_reply_without_words_of_a_language_is_in_the_citys_language(chat):
    """Saharanpur's default_language is hi: "🙏", "hlo" or "hi" first get Devanagari."""
    assert load_city().default_language == "hi"
    assert DEVANAGARI.search(chat.texts("🙏"))
    assert DEVANAGARI.search(chat.texts("hlo"))


def test_explicit_language_choice_sticks(chat):
    chat.texts("हिंदी में बात करो")
    assert DEVANAGARI.search(chat.texts("hello"))
    assert chat.slot("language") == "hi"


def test_numbered_menu_accepts_digits_devanagari_and_words(chat):
    chat.texts("hi")
    assert load_city().helpline in chat.texts("4")  # the helpline, in the city's language
    chat.texts("नमस्ते")
    assert "कोविड" in chat.texts("३")  # the COVID menu (a list whose rows send 1-4)
    assert "25,480" in chat.texts("ek")  # COVID menu → 1 → figures for the city


def test_unknown_number_outside_a_menu_gets_the_help_text(chat):
    assert "What would you like" in chat.texts("hi there")
    assert "1 to 4" in chat.texts("9")


def test_help_lists_the_categories_of_city_yml_in_the_citizens_language(chat):
    categories = load_city().categories.values()
    english = chat.texts("help")
    assert ", ".join(c.name("en") for c in categories) in english
    hindi = chat.texts("मदद चाहिए")
    assert ", ".join(c.name("hi") for c in categories) in hindi
