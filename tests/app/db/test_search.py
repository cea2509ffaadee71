"""Patient search as the front desk types: name prefixes, any 4+ digits of a phone, email, handle."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.db.keys import KEY_FILE_ENV
from app.db.store import Store, open_store
from app.repositories import patients
from app.repositories.context import Actor
from app.repositories.uow import unit_of_work
from tests.app.db._support import add_patient, new_patient, owner

PEOPLE = {
    "ana": ("Ana", "Smith", "+14155550123", "ana.smith@examplemail.com", "glow_ana"),
    "anabel": ("Anabel", "Jones", "+13105550144", "anabel@jonesfamily.example.org", None),
    "bob": ("Bob", "Smith", "+16465550177", "bob.smith@examplemail.com", "bobsmithskin"),
    "jose": ("José", "Núñez", "+13055550188", "jose.nunez@correo.example.com", "jose_nunez"),
    "uk": ("Imelda", "Worthington", "+442079460958", None, None),
}


def add_people(store: Store) -> dict[str, str]:
    return {
        key: add_patient(store, first, last, phone=phone, email=email, instagram_handle=handle)
        for key, (first, last, phone, email, handle) in PEOPLE.items()
    }


@pytest.fixture
def people(store: Store) -> dict[str, str]:
    """The patients in this test's own store (for tests that edit them)."""
    return add_people(store)


@pytest.fixture(scope="module")
def directory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, dict[str, str]]]:
    """One store shared by the tests that only search (its key in a key file: the keychain
    fixture is per test)."""
    base = tmp_path_factory.mktemp("search")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(KEY_FILE_ENV, str(base / "glowdesk.key"))
        shared = open_store(base / "home")
    yield shared, add_people(shared)
    shared.close()


def find(store: Store, text: str) -> set[str]:
    with unit_of_work(store, owner(store)) as ctx:
        return {h.id for h in patients.search(ctx, text)}


def ids(people: dict[str, str], *keys: str) -> set[str]:
    return {people[k] for k in keys}


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("A", ("ana", "anabel")),
        ("an", ("ana", "anabel")),
        ("Ana", ("ana", "anabel")),
        ("anab", ("anabel",)),
        ("smi", ("ana", "bob")),
        ("SMITH", ("ana", "bob")),
        ("worth", ("uk",)),
        ("Imelda Worthington", ("uk",)),
    ],
)
def test_names_are_found_by_their_prefix_as_typed(
    directory: tuple[Store, dict[str, str]], typed: str, expected: tuple[str, ...]
) -> None:
    store, people = directory
    assert find(store, typed) == ids(people, *expected)


@pytest.mark.parametrize("typed", ["jose", "José", "JOSE", "nunez", "Núñez", "nun", "jos nu"])
def test_accents_do_not_matter(directory: tuple[Store, dict[str, str]], typed: str) -> None:
    store, people = directory
    assert find(store, typed) == ids(people, "jose")


def test_several_words_must_all_match(directory: tuple[Store, dict[str, str]]) -> None:
    store, people = directory
    assert find(store, "ana smith") == ids(people, "ana")
    assert find(store, "smith ana") == ids(people, "ana")
    assert find(store, "bob smi") == ids(people, "bob")
    assert find(store, "ana jones") == ids(people, "anabel")
    assert find(store, "bob jones") == set()


@pytest.mark.parametrize("key", ["ana", "anabel", "bob", "jose", "uk"])
def test_any_run_of_four_or_more_phone_digits_finds_the_patient(
    directory: tuple[Store, dict[str, str]], key: str
) -> None:
    store, people = directory
    digits = "".join(ch for ch in PEOPLE[key][2] if ch.isdigit())
    for length in range(4, len(digits) + 1):
        for start in range(len(digits) - length + 1):
            run = digits[start : start + length]
            assert people[key] in find(store, run), run


def test_phone_numbers_as_people_type_them(directory: tuple[Store, dict[str, str]]) -> None:
    store, people = directory
    assert find(store, "(415) 555-0123") == ids(people, "ana")
    assert find(store, "415-555-01") == ids(people, "ana")
    assert find(store, "+1 415 555 0123") == ids(people, "ana")
    assert find(store, "555 0177") == ids(people, "bob")
    assert find(store, "7946 0958") == ids(people, "uk")
    assert find(store, "5550") == ids(people, "ana", "anabel", "bob", "jose")


def test_fewer_than_four_digits_find_nothing(directory: tuple[Store, dict[str, str]]) -> None:
    store, people = directory
    assert find(store, "555") == set()
    assert find(store, "41") == set()


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("ana.smith@examplemail.com", ("ana",)),
        ("ana.smith@", ("ana",)),
        ("examplemail", ("ana", "bob")),
        ("jonesfamily", ("anabel",)),
        ("correo.example", ("jose",)),
    ],
)
def test_email_finds_the_patient(
    directory: tuple[Store, dict[str, str]], typed: str, expected: tuple[str, ...]
) -> None:
    store, people = directory
    assert find(store, typed) == ids(people, *expected)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("@glow_ana", ("ana",)), ("glow_ana", ("ana",)), ("bobsmithskin", ("bob",)), ("@bobsmith", ("bob",)),
     ("jose_nunez", ("jose",))],
)
def test_instagram_handle_finds_the_patient(
    directory: tuple[Store, dict[str, str]], typed: str, expected: tuple[str, ...]
) -> None:
    store, people = directory
    assert find(store, typed) == ids(people, *expected)


def test_a_deleted_patient_is_not_found(store: Store, actor: Actor, people: dict[str, str]) -> None:
    with unit_of_work(store, actor) as ctx:
        p = patients.get_for_write(ctx, people["bob"])
        assert p is not None
        patients.delete(ctx, p)
    assert find(store, "bob") == set()
    assert find(store, "0177") == set()
    assert find(store, "bobsmithskin") == set()
    assert find(store, "smith") == ids(people, "ana")


def test_an_edited_phone_is_found_by_its_new_digits_and_not_its_old(
    store: Store, actor: Actor, people: dict[str, str]
) -> None:
    with unit_of_work(store, actor) as ctx:
        p = patients.get_for_write(ctx, people["ana"])
        assert p is not None
        patients.update(ctx, p, {"phone": "+17025550199"})
    assert find(store, "0199") == ids(people, "ana")
    assert find(store, "7025550199") == ids(people, "ana")
    assert find(store, "4155550123") == set()
    assert find(store, "0123") == set()
    assert find(store, "ana smith") == ids(people, "ana")  # the rest of the entry is still there


def test_edited_names_email_and_handle_are_found_by_the_new_values_only(
    store: Store, actor: Actor, people: dict[str, str]
) -> None:
    with unit_of_work(store, actor) as ctx:
        p = patients.get_for_write(ctx, people["anabel"])
        assert p is not None
        patients.update(
            ctx, p,
            {"last_name": "Okonkwo", "preferred_name": "Bel", "email": "bel@okonkwo.example.net",
             "instagram_handle": "bel.glows"},
        )
    assert find(store, "okonk") == ids(people, "anabel")
    assert find(store, "bel") == ids(people, "anabel")
    assert find(store, "bel.glows") == ids(people, "anabel")
    assert find(store, "jones") == set()
    assert find(store, "jonesfamily") == set()


def test_a_patient_written_in_a_rolled_back_transaction_is_not_found(store: Store, actor: Actor) -> None:
    with pytest.raises(RuntimeError):
        with unit_of_work(store, actor) as ctx:
            patients.create(ctx, new_patient("Rolledback", "Nobody", phone="+14155550111"))
            assert {h.first_name for h in patients.search(ctx, "rolledb")} == {"Rolledback"}
            raise RuntimeError("cancelled")
    assert find(store, "rolledb") == set()
    assert find(store, "0111") == set()


def test_results_are_capped_and_carry_what_the_list_shows(directory: tuple[Store, dict[str, str]]) -> None:
    store, people = directory
    with unit_of_work(store, owner(store)) as ctx:
        (hit,) = patients.search(ctx, "glow_ana")
        assert (hit.first_name, hit.last_name, hit.phone, hit.email, hit.instagram_handle, hit.vip) == (
            "Ana", "Smith", "+14155550123", "ana.smith@examplemail.com", "glow_ana", False,
        )
        assert len(patients.search(ctx, "5550", limit=2)) == 2


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=30))
def test_whatever_is_typed_the_search_answers_and_never_errors(
    directory: tuple[Store, dict[str, str]], typed: str
) -> None:
    store, people = directory
    # quotes, stars, parentheses, NEAR, AND/OR/NOT, emoji...: never an FTS5 syntax error
    assert find(store, typed) <= set(people.values())


@pytest.mark.parametrize("typed", ['"', 'ana"', "ana*", "NOT ana", "ana OR bob", "NEAR(ana bob)", "(", "-", "^ana",
                                   "names:ana", "ana AND", "''", "🙂", "   "])
def test_search_syntax_characters_are_just_text(directory: tuple[Store, dict[str, str]], typed: str) -> None:
    store, people = directory
    assert find(store, typed) <= set(people.values())
