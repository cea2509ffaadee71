"""Message templates: DOMAIN.md's variables, conditionals, and a sandbox that refuses everything
a text message does not need (attribute access first of all)."""

from __future__ import annotations

import pytest

from core.templates import (
    SYSTEM_VARIABLES,
    VARIABLES,
    TemplateProblem,
    check_template,
    render_template,
    tidy,
    variables_used,
)

VALUES = {
    "first_name": "Ana", "service": "Botox Cosmetic", "appointment_time": "Thu, Mar 5 at 2:00 PM",
    "provider": "Nora Kim", "booking_link": "https://glow.example/book/lumiere", "deposit_link": None,
    "clinic_name": "Lumière Aesthetics",
}


def test_the_variables_are_domain_md_s() -> None:
    assert list(VARIABLES) == ["first_name", "service", "appointment_time", "provider", "booking_link",
                               "deposit_link", "clinic_name"]
    assert set(SYSTEM_VARIABLES) == set(VARIABLES) | {"opens_at", "clinic_phone"}


def test_variables_and_conditionals_render() -> None:
    text = ("Hi {{ first_name }}, your {{ service }} with {{ provider }} is {{ appointment_time }}."
            "{% if deposit_link %} Deposit: {{ deposit_link }}{% else %} No deposit is due.{% endif %}"
            " {{ clinic_name }}")
    rendered = render_template(text, VALUES)
    assert rendered.text == ("Hi Ana, your Botox Cosmetic with Nora Kim is Thu, Mar 5 at 2:00 PM. No deposit is "
                             "due. Lumière Aesthetics")
    assert rendered.missing == ("deposit_link",)
    with_link = render_template(text, {**VALUES, "deposit_link": "https://pay.example/d/1"})
    assert "Deposit: https://pay.example/d/1" in with_link.text and with_link.missing == ()


def test_filters_defaults_and_inline_conditions() -> None:
    assert render_template("{{ first_name | default('there') }}", {}).text == "there"
    assert render_template("Hi {{ first_name or 'there' }}", {"first_name": ""}).text == "Hi there"
    assert render_template("{{ clinic_name | upper }}", VALUES).text == "LUMIÈRE AESTHETICS"
    assert render_template("{{ 'soon' if appointment_time else 'when you like' }}", {}).text == "when you like"


def test_a_missing_value_renders_as_nothing_not_as_none() -> None:
    assert render_template("Book: {{ booking_link }}!", {"booking_link": None}).text == "Book: !"


def test_line_breaks_are_kept_and_spaces_tidied() -> None:
    text = "Hi {{ first_name }},  \n\n\n\nsee you   soon.\n{% if provider %}{{ provider }}{% endif %}"
    assert render_template(text, VALUES).text == "Hi Ana,\n\nsee you soon.\nNora Kim"
    assert render_template(text, VALUES, one_line=True).text == "Hi Ana, see you soon. Nora Kim"
    assert tidy(" a \t b \r\n c ") == "a b\nc"


@pytest.mark.parametrize(("text", "says"), [
    ("{{ first_name.__class__ }}", "cannot read attributes"),
    ("{{ first_name.__class__.__mro__[1].__subclasses__() }}", "cannot"),
    ("{{ first_name.upper() }}", "cannot call functions"),
    ("{{ first_name.upper }}", "cannot read attributes"),
    ("{{ first_name['x'] }}", "cannot pick parts"),
    ("{{ first_name[0:2] }}", "cannot pick parts"),
    ("{{ lipsum() }}", "cannot call functions"),
    ("{{ cycler }}", "not a template variable"),
    ("{{ frist_name }}", "not a template variable"),
    ("{% for x in [1] %}{{ x }}{% endfor %}", "cannot repeat"),
    ("{% set first_name = 'x' %}", "cannot set variables"),
    ("{% include 'other' %}", "cannot include"),
    ("{% macro m() %}{% endmacro %}", "macros"),
    ("{{ first_name | attr('__class__') }}", "filter | attr is not available"),
    ("{{ first_name | format('%s') }}", "filter | format is not available"),
    ("{% if first_name %}", "mistake on line 1"),
    ("   ", "needs some text"),
])
def test_unsafe_or_unknown_constructs_are_refused_with_a_sentence(text: str, says: str) -> None:
    with pytest.raises(TemplateProblem) as refused:
        check_template(text)
    assert says in refused.value.user_message
    if text.strip():
        with pytest.raises(TemplateProblem):
            render_template(text, VALUES)


def test_the_sandbox_refuses_attribute_access_even_past_the_check() -> None:
    # a value that is an object with attributes still cannot be reached into
    from core.templates import _env

    class Secret:
        token = "s3cret"

    with pytest.raises(Exception) as refused:
        _env.from_string("{{ x.token }}").render(x=Secret())
    assert "attribute" in str(refused.value)
    assert "s3cret" not in str(refused.value)


def test_system_variables_are_only_for_the_servers_own_texts() -> None:
    with pytest.raises(TemplateProblem):
        check_template("We open {{ opens_at }}")
    assert render_template("We open {{ opens_at }}", {"opens_at": "Monday at 9 AM"},
                           allowed=SYSTEM_VARIABLES).text == "We open Monday at 9 AM"


def test_variables_used_in_order() -> None:
    assert variables_used("{% if deposit_link %}{{ first_name }} {{ deposit_link }}{% endif %}") == [
        "deposit_link", "first_name"]


def test_the_starter_templates_are_valid_and_plain_gsm() -> None:
    from core.sms import segment_info
    from core.templates import STARTER_TEMPLATES

    assert len({t.name for t in STARTER_TEMPLATES}) == len(STARTER_TEMPLATES) >= 5
    for template in STARTER_TEMPLATES:
        check_template(template.body)
        assert template.purpose in ("transactional", "marketing")
        text = render_template(template.body, VALUES).text
        assert segment_info(text).encoding == "GSM-7", template.name  # "è" of Lumière is GSM-7 too
    assert [t.purpose for t in STARTER_TEMPLATES].count("marketing") >= 1
