"""Message templates: the variables, the rules a template must follow, and sandboxed rendering.

Both sides use this one implementation: the desktop previews and renders the templates staff
pick in the compose box; the server renders its automatic texts (lead acknowledgements, the HELP
reply) with it.

A template is Jinja2 text restricted to what a text message needs:

- variables, ``{{ first_name }}``: only the names of :data:`VARIABLES` (plus, for the server's own
  texts, :data:`SYSTEM_VARIABLES`); an unknown name is refused with the list of known ones;
- conditionals, ``{% if deposit_link %}...{% elif %}...{% else %}...{% endif %}``, with ``and``,
  ``or``, ``not``, comparisons and ``x if y else z``;
- a few filters: ``default``, ``upper``, ``lower``, ``title``, ``capitalize``, ``trim``, and the
  tests ``defined``, ``undefined``, ``none``.

Everything else is refused when the template is checked, before it can be saved or rendered:
attribute access (``{{ first_name.__class__ }}``, ``{{ first_name.upper() }}``), subscripts, calls,
loops, assignments, macros, includes and imports. Rendering runs in a Jinja2 sandbox that refuses
attribute access, subscripts and calls again, as a second line of defence. A variable without a
value (no upcoming appointment, no deposit link yet) renders as nothing and is false in an ``if``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

from jinja2 import TemplateSyntaxError, Undefined, nodes
from jinja2.exceptions import SecurityError, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from core.errors import ValidationError

#: the variables staff templates may use, with what each holds (DOMAIN.md, Messaging)
VARIABLES: Final[Mapping[str, str]] = {
    "first_name": "the client's preferred name, else their first name",
    "service": "the service of the client's next appointment (else the one their lead asked about)",
    "appointment_time": "when the client's next appointment starts, in the clinic's time zone",
    "provider": "who the client's next appointment is with",
    "booking_link": "the clinic's online booking page",
    "deposit_link": "the link to pay the deposit of the client's next appointment, when one is due",
    "clinic_name": "the clinic's name",
}
#: extra variables of the server's own texts (acknowledgements after hours, the HELP reply)
SYSTEM_VARIABLES: Final[Mapping[str, str]] = {
    **VARIABLES,
    "opens_at": "when the clinic opens next (after-hours acknowledgements)",
    "clinic_phone": "the clinic's phone number",
}
ALLOWED_FILTERS: Final = frozenset({"default", "d", "upper", "lower", "title", "capitalize", "trim"})
ALLOWED_TESTS: Final = frozenset({"defined", "undefined", "none"})

_ALLOWED_NODES: tuple[type[nodes.Node], ...] = (
    nodes.Template,
    nodes.Output,
    nodes.TemplateData,
    nodes.Name,
    nodes.Const,
    nodes.If,
    nodes.Not,
    nodes.And,
    nodes.Or,
    nodes.Compare,
    nodes.Operand,
    nodes.CondExpr,
    nodes.Concat,
    nodes.Filter,
    nodes.Test,
    nodes.Tuple,
    nodes.List,
)


class TemplateProblem(ValidationError):
    """A template that does not follow the rules above; the sentence says what to fix."""

    code = "bad_template"


class _Blank(Undefined):
    """A missing value: renders as nothing, is false, and refuses attribute access."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        raise SecurityError("templates cannot read attributes")


class _Sandbox(SandboxedEnvironment):
    """Jinja2's sandbox, stricter: no attribute access, no subscripts, no calls at all."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        raise SecurityError(f"templates cannot read attributes ({attribute!r})")

    def getitem(self, obj: Any, argument: Any) -> Any:
        raise SecurityError("templates cannot read items")

    def call(self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        raise SecurityError("templates cannot call functions")


_env = _Sandbox(autoescape=False, undefined=_Blank, trim_blocks=True, lstrip_blocks=True)


def _walk(node: nodes.Node) -> Iterator[nodes.Node]:
    yield node
    for child in node.iter_child_nodes():
        yield from _walk(child)


def _known(names: Mapping[str, str]) -> str:
    return ", ".join("{{ " + n + " }}" for n in names)


def _refusal(node: nodes.Node) -> str:
    line = f" (line {node.lineno})" if getattr(node, "lineno", None) else ""
    if isinstance(node, nodes.Getattr):
        return (
            f"Templates cannot read attributes such as .{node.attr}{line}; use the variable on its "
            "own, for example {{ first_name }}."
        )
    if isinstance(node, nodes.Getitem | nodes.Slice):
        return f"Templates cannot pick parts of a variable with [...]{line}; use the variable on its own."
    if isinstance(node, nodes.Call):
        return f"Templates cannot call functions{line}; use filters such as {{{{ first_name | title }}}}."
    if isinstance(node, nodes.For):
        return f"Templates cannot repeat with {{% for %}}{line}; a text message has no lists."
    if isinstance(node, nodes.Assign | nodes.AssignBlock | nodes.With):
        return f"Templates cannot set variables{line}."
    if isinstance(node, nodes.Include | nodes.Import | nodes.FromImport | nodes.Extends | nodes.Block):
        return f"Templates cannot include or extend other templates{line}."
    if isinstance(node, nodes.Macro | nodes.CallBlock | nodes.FilterBlock):
        return f"Templates cannot define macros or filter blocks{line}."
    return (
        f"This template uses something text templates do not allow{line}; use variables, "
        "{% if %} ... {% endif %} and simple filters only."
    )


def parse_template(text: str, *, allowed: Mapping[str, str] = VARIABLES) -> nodes.Template:
    """Parse and check a template; raise :class:`TemplateProblem` with what to fix."""
    try:
        tree = _env.parse(text)
    except TemplateSyntaxError as exc:
        where = f" on line {exc.lineno}" if exc.lineno else ""
        raise TemplateProblem(f"The template has a mistake{where}: {exc.message}.", field="body") from None
    for node in _walk(tree):
        if not isinstance(node, _ALLOWED_NODES):
            raise TemplateProblem(_refusal(node), field="body")
        if isinstance(node, nodes.Name) and node.name not in allowed:
            raise TemplateProblem(
                f"{{{{ {node.name} }}}} is not a template variable. Use one of: {_known(allowed)}.",
                field="body",
            )
        if isinstance(node, nodes.Filter) and node.name not in ALLOWED_FILTERS:
            raise TemplateProblem(
                f"The filter | {node.name} is not available in templates; use one of: "
                f"{', '.join(sorted(ALLOWED_FILTERS - {'d'}))}.",
                field="body",
            )
        if isinstance(node, nodes.Test) and node.name not in ALLOWED_TESTS:
            raise TemplateProblem(f"The test 'is {node.name}' is not available in templates.", field="body")
    return tree


def check_template(text: str, *, allowed: Mapping[str, str] = VARIABLES) -> None:
    """Raise :class:`TemplateProblem` unless ``text`` is a template that may be saved."""
    if not text.strip():
        raise TemplateProblem("A template needs some text.", field="body")
    parse_template(text, allowed=allowed)


def variables_used(text: str, *, allowed: Mapping[str, str] = VARIABLES) -> list[str]:
    """The variables a (valid) template refers to, in order of first use."""
    tree = parse_template(text, allowed=allowed)
    return list(dict.fromkeys(n.name for n in _walk(tree) if isinstance(n, nodes.Name)))


_SPACES = re.compile(r"[ \t\u00a0]+")
_BLANK_LINES = re.compile(r"\n{3,}")


def tidy(text: str) -> str:
    """Runs of spaces become one, lines lose their edge spaces, at most one blank line in a row."""
    lines = [_SPACES.sub(" ", line).strip() for line in text.replace("\r\n", "\n").split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


@dataclass(frozen=True)
class RenderedTemplate:
    text: str
    #: variables the template uses that had no value (rendered as nothing)
    missing: tuple[str, ...]


def render_template(
    text: str, values: Mapping[str, Any], *, allowed: Mapping[str, str] = VARIABLES, one_line: bool = False
) -> RenderedTemplate:
    """Check and render a template in the sandbox.

    ``values`` maps variable names to text (``None`` or ``""``: no value). The result is tidied
    (:func:`tidy`), or made one line when ``one_line``. Raises :class:`TemplateProblem`.
    """
    tree = parse_template(text, allowed=allowed)
    used = list(dict.fromkeys(n.name for n in _walk(tree) if isinstance(n, nodes.Name)))
    given = {k: str(v) for k, v in values.items() if k in allowed and v is not None and str(v) != ""}
    try:
        out = _env.from_string(text).render(**given)
    except SecurityError:
        raise TemplateProblem(
            "Templates cannot read attributes, pick items or call functions.", field="body"
        ) from None
    except TemplateError as exc:
        raise TemplateProblem(
            f"The template could not be filled in: {exc.message or 'unknown error'}.", field="body"
        ) from None
    rendered = " ".join(out.split()) if one_line else tidy(out)
    return RenderedTemplate(rendered, tuple(n for n in used if n not in given))


@dataclass(frozen=True)
class StarterTemplate:
    name: str
    purpose: str  # transactional | marketing
    body: str


#: The templates a clinic starts with (the demo clinic has them; owners and managers edit them).
#: Plain GSM-7 characters only, so that each stays within as few segments as possible.
STARTER_TEMPLATES: Final[tuple[StarterTemplate, ...]] = (
    StarterTemplate(
        "Appointment reminder",
        "transactional",
        "Hi {{ first_name }}, this is {{ clinic_name }}: a reminder of your {{ service }}"
        "{% if provider %} with {{ provider }}{% endif %} on {{ appointment_time }}. "
        "Reply C to confirm, or call us to reschedule.",
    ),
    StarterTemplate(
        "Deposit link",
        "transactional",
        "Hi {{ first_name }}, a deposit holds your {{ service }} on {{ appointment_time }}."
        "{% if deposit_link %} You can pay it here: {{ deposit_link }}{% endif %} "
        "Reply here with any questions!",
    ),
    StarterTemplate(
        "Lead follow-up",
        "transactional",
        "Hi {{ first_name }}, thanks for your interest{% if service %} in {{ service }}{% endif %}! "
        "Would you like to come in for a free consultation? Book here: {{ booking_link }} "
        "or reply with a day that suits you.",
    ),
    StarterTemplate(
        "Booking link",
        "transactional",
        "Hi {{ first_name }}! You can book online any time: {{ booking_link }} - or reply here and "
        "we will find a time for you.",
    ),
    StarterTemplate(
        "Aftercare check-in",
        "transactional",
        "Hi {{ first_name }}, how are you feeling after your {{ service }}? Some redness or swelling "
        "is normal for a day or two. Reply here if anything worries you. - {{ clinic_name }}",
    ),
    StarterTemplate(
        "We miss you",
        "marketing",
        "Hi {{ first_name }}, it has been a while! Book this month and enjoy 15% off any facial: "
        "{{ booking_link }} Reply STOP to opt out.",
    ),
)


__all__ = [
    "ALLOWED_FILTERS",
    "STARTER_TEMPLATES",
    "StarterTemplate",
    "ALLOWED_TESTS",
    "SYSTEM_VARIABLES",
    "VARIABLES",
    "RenderedTemplate",
    "TemplateProblem",
    "check_template",
    "parse_template",
    "render_template",
    "tidy",
    "variables_used",
]
