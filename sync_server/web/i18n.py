"""English and Spanish for the web pages.

Each context keeps its own texts in a :class:`Catalogue` (``{"en": {...}, "es": {...}}``), so a
page's words sit beside its templates. A missing Spanish text falls back to English; a missing
key is a bug and raises (tests render every page in both languages).

Which language a visitor reads, in order: an explicit ``lang`` query parameter (a link chosen
by the clinic or the language switch), the ``glowdesk_lang`` cookie (set by the switch), the
browser's ``Accept-Language``, the clinic's default.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from starlette.requests import Request

LANGUAGES: tuple[str, ...] = ("en", "es")
DEFAULT = "en"
COOKIE = "glowdesk_lang"
#: how each language names itself, for the switch
NAMES = {"en": "English", "es": "Español"}

#: texts every page uses (the layout's own words)
COMMON: dict[str, dict[str, str]] = {
    "en": {
        "skip": "Skip to the content",
        "language": "Language",
        "powered": "Secure page of {clinic}",
        "not_found_title": "Not found",
        "not_found": "There is nothing here. Check the link you were sent, or contact the clinic.",
        "forbidden_title": "This page has expired",
        "forbidden": "For your security this form could not be sent. Go back, reload the page and try again.",
        "too_large": "What you sent is too large.",
        "error_title": "Something went wrong",
        "error": "The page could not be shown. Nothing was changed; please try again in a moment.",
    },
    "es": {
        "skip": "Ir al contenido",
        "language": "Idioma",
        "powered": "Página segura de {clinic}",
        "not_found_title": "No encontrado",
        "not_found": "Aquí no hay nada. Revise el enlace que recibió o comuníquese con la clínica.",
        "forbidden_title": "Esta página ha caducado",
        "forbidden": "Por su seguridad no se pudo enviar este formulario. Vuelva, recargue la página e "
                     "inténtelo de nuevo.",
        "too_large": "Lo que envió es demasiado grande.",
        "error_title": "Algo salió mal",
        "error": "No se pudo mostrar la página. No se cambió nada; inténtelo de nuevo en un momento.",
    },
}


@dataclass(frozen=True)
class Catalogue:
    """A context's texts by language; ``common`` texts are always there too."""

    texts: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def text(self, lang: str, key: str, **values: object) -> str:
        for source in (self.texts.get(lang), self.texts.get(DEFAULT), COMMON.get(lang), COMMON[DEFAULT]):
            if source is not None and key in source:
                return source[key].format(**values) if values else source[key]
        raise KeyError(f"no text {key!r}")

    def keys(self, lang: str) -> set[str]:
        return set(self.texts.get(lang, {})) | set(COMMON.get(lang, {}))


def supported(value: str | None) -> str | None:
    """The supported language a tag such as ``es-MX`` names, or None."""
    if not value:
        return None
    base = value.strip().lower().replace("_", "-").split("-")[0]
    return base if base in LANGUAGES else None


def negotiate(request: Request, *, default: str = DEFAULT) -> str:
    """The language this visitor reads (see the module's docstring for the order)."""
    for candidate in (request.query_params.get("lang"), request.cookies.get(COOKIE)):
        found = supported(candidate)
        if found:
            return found
    header = request.headers.get("accept-language", "")
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        found = supported(tag)
        if found and quality > 0:
            ranked.append((-quality, position, found))
    if ranked:
        return sorted(ranked)[0][2]
    return supported(default) or DEFAULT
