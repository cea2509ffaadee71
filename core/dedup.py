"""One record per person: the rule that decides duplicates, and the rules of merging two records.

**Finding the same person** (:func:`decide`, the one rule for every path: the server's lead
intake, the desktop's CSV import and its duplicate warning). Keys, in this order (DOMAIN.md):

1. the mobile number in E.164;
2. the normalised email (:func:`core.email.email_match_key`: case, ``+tags``, Gmail dots);
3. the Instagram account (its id, else its handle without ``@``, case-insensitive);
4. the name (first and last, case and spacing ignored) plus the date of birth.

The first key both records share makes a *sure* match; the earliest key wins across candidates
(a record sharing the phone beats one sharing the email). Name plus date of birth is sure only
when no stronger key contradicts it (a phone, email or Instagram account both records have, with
different values). Every other same name (a date of birth missing on either side, or a
contradicting key) is *uncertain*: it goes to a merge review (the server) or is shown as a
possible duplicate (the desktop), and is never merged silently. The same name with two different
dates of birth is two people.

**Merging two records** (:func:`merged_values`, the server merges, the desktop previews):

- **Chosen** (:data:`CHOOSABLE`): demographics; where the two differ staff keep the surviving
  record's value or the other's (left out: the survivor's, or the other's when the survivor
  has none).
- **Kept from both** (:data:`COMBINED`): allergies and medical alerts are never chosen away
  (both texts are kept); tags are joined; VIP if either was; per consent purpose the most recent
  decision wins (an opt-out recorded later is never lost); the earlier first touch stays.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Final, Generic, Literal, TypeVar

from core.email import email_match_key, try_normalize_email
from core.errors import ValidationError
from core.phone import try_normalize_phone

# --- finding the same person -------------------------------------------------------------------

Key = Literal["phone", "email", "instagram", "name_and_birthday", "same_name"]
#: the keys of a sure match, strongest first
SURE_KEYS: Final[tuple[Key, ...]] = ("phone", "email", "instagram", "name_and_birthday")
#: how the desktop says why a record looks like the same person
KEY_TEXT: Final[dict[Key, str]] = {
    "phone": "same phone",
    "email": "same email",
    "instagram": "same Instagram",
    "name_and_birthday": "same name and birthday",
    "same_name": "same name",
}
#: merge review reasons (``merge_review.reason``) of an uncertain match
SAME_NAME_OTHER_PHONE = "same_name_other_phone"
SAME_NAME = "same_name"


def _name(value: Any) -> str:
    return " ".join(str(value or "").split()).casefold()


def _handle(value: Any) -> str | None:
    text = str(value or "").strip().lstrip("@").casefold()
    return text or None


def _dob(value: Any) -> str | None:
    if isinstance(value, date):
        return value.isoformat()
    text = str(value or "").strip()[:10]
    return text or None


@dataclass(frozen=True, slots=True)
class Identity:
    """What identifies a person, normalised for comparing (never shown, never logged)."""

    phone: str | None = None  # E.164
    email_key: str | None = None
    instagram_id: str | None = None
    instagram_handle: str | None = None  # without @, casefolded
    first_name: str = ""  # casefolded, spacing collapsed
    last_name: str = ""
    date_of_birth: str | None = None  # YYYY-MM-DD

    @property
    def named(self) -> bool:
        return bool(self.first_name and self.last_name)


def identity(
    *,
    first_name: Any = None,
    last_name: Any = None,
    date_of_birth: Any = None,
    phone: Any = None,
    email: Any = None,
    email_key: Any = None,
    instagram_id: Any = None,
    instagram_handle: Any = None,
    region: str = "US",
) -> Identity:
    """A person's identity from what was typed or stored: a phone as typed (normalised in
    ``region``) or in E.164, an email or its stored match key, a handle with or without ``@``."""
    if email_key is None and email:
        normal = try_normalize_email(str(email))
        email_key = email_match_key(normal) if normal else None
    return Identity(
        phone=try_normalize_phone(str(phone), region) if phone else None,
        email_key=str(email_key) if email_key else None,
        instagram_id=str(instagram_id).strip() or None if instagram_id else None,
        instagram_handle=_handle(instagram_handle),
        first_name=_name(first_name),
        last_name=_name(last_name),
        date_of_birth=_dob(date_of_birth),
    )


def identity_of(record: Mapping[str, Any], *, region: str = "US") -> Identity:
    """The identity of a stored client record (a ``patient`` row's fields)."""
    return identity(
        first_name=record.get("first_name"),
        last_name=record.get("last_name"),
        date_of_birth=record.get("date_of_birth"),
        phone=record.get("phone"),
        email=record.get("email"),
        email_key=record.get("email_key"),
        instagram_id=record.get("instagram_id"),
        instagram_handle=record.get("instagram_handle"),
        region=region,
    )


@dataclass(frozen=True, slots=True)
class Verdict:
    """Why two identities look like one person: ``sure`` (same person) or not (a review)."""

    key: Key
    sure: bool
    #: the merge review reason of an uncertain match (None when sure)
    review_reason: str | None = None

    @property
    def rank(self) -> int:
        return SURE_KEYS.index(self.key) if self.sure else len(SURE_KEYS)

    @property
    def text(self) -> str:
        return KEY_TEXT[self.key]


def compare(new: Identity, old: Identity) -> Verdict | None:
    """The rule for one pair: the first key both have and share, or an uncertain same name."""
    if new.phone and new.phone == old.phone:
        return Verdict("phone", True)
    if new.email_key and new.email_key == old.email_key:
        return Verdict("email", True)
    if (new.instagram_id and new.instagram_id == old.instagram_id) or (
        new.instagram_handle and new.instagram_handle == old.instagram_handle
    ):
        return Verdict("instagram", True)
    if new.named and (new.first_name, new.last_name) == (old.first_name, old.last_name):
        if new.date_of_birth and old.date_of_birth and new.date_of_birth != old.date_of_birth:
            return None  # two people of the same name
        if new.date_of_birth and new.date_of_birth == old.date_of_birth and not _contradicted(new, old):
            return Verdict("name_and_birthday", True)
        other_phone = bool(new.phone and old.phone)
        return Verdict("same_name", False, SAME_NAME_OTHER_PHONE if other_phone else SAME_NAME)
    return None


def _contradicted(new: Identity, old: Identity) -> bool:
    """Do the two records hold different values of a stronger key (a phone, an email, an Instagram
    account both have)? Then the same name and birthday is not enough to be sure."""
    pairs = (
        (new.phone, old.phone),
        (new.email_key, old.email_key),
        (new.instagram_id, old.instagram_id),
        (new.instagram_handle, old.instagram_handle),
    )
    return any(a and b and a != b for a, b in pairs)


K = TypeVar("K")


@dataclass(frozen=True, slots=True)
class Match(Generic[K]):
    """The record ``candidate`` (a caller's id: a patient id, a line of a file) and the verdict."""

    candidate: K
    verdict: Verdict


def decide(new: Identity, candidates: Iterable[tuple[K, Identity]]) -> Match[K] | None:
    """The match of ``new`` among ``candidates``: the sure match by the strongest key (the first
    such candidate in the given order), else the first uncertain one, else None (a new person)."""
    best: Match[K] | None = None
    for candidate, old in candidates:
        verdict = compare(new, old)
        if verdict is not None and (best is None or verdict.rank < best.verdict.rank):
            best = Match(candidate, verdict)
            if verdict.rank == 0:
                break
    return best


def matches(new: Identity, candidates: Iterable[tuple[K, Identity]]) -> list[Match[K]]:
    """Every candidate that looks like ``new``, strongest first (the desktop lists them all)."""
    found = [Match(c, v) for c, old in candidates if (v := compare(new, old)) is not None]
    return sorted(found, key=lambda m: m.verdict.rank)


def _keys(ident: Identity) -> list[tuple[str, Any]]:
    keys: list[tuple[str, Any]] = [
        (k, v)
        for k, v in (
            ("phone", ident.phone),
            ("email", ident.email_key),
            ("instagram_id", ident.instagram_id),
            ("instagram_handle", ident.instagram_handle),
        )
        if v
    ]
    if ident.named:
        keys.append(("name", (ident.first_name, ident.last_name)))
    return keys


class Index(Generic[K]):
    """Identities by key, to decide many people at once without comparing every pair (a file
    import: the clients already in the store, and the earlier rows of the file)."""

    def __init__(self, entries: Iterable[tuple[K, Identity]] = ()) -> None:
        self._by_key: dict[tuple[str, Any], list[tuple[K, Identity]]] = {}
        for candidate, ident in entries:
            self.add(candidate, ident)

    def add(self, candidate: K, ident: Identity) -> None:
        for key in _keys(ident):
            self._by_key.setdefault(key, []).append((candidate, ident))

    def candidates(self, ident: Identity) -> list[tuple[K, Identity]]:
        """The entries sharing a key with ``ident``, in the rule's key order, each once."""
        seen: set[int] = set()
        out: list[tuple[K, Identity]] = []
        for key in _keys(ident):
            for entry in self._by_key.get(key, ()):
                if id(entry) not in seen:
                    seen.add(id(entry))
                    out.append(entry)
        return out

    def decide(self, new: Identity) -> Match[K] | None:
        return decide(new, self.candidates(new))


# --- merging two records -----------------------------------------------------------------------

#: demographics staff choose between when the two records differ
CHOOSABLE = (
    "first_name",
    "last_name",
    "preferred_name",
    "date_of_birth",
    "sex",
    "pronouns",
    "phone",
    "email",
    "instagram_handle",
    "instagram_id",
    "address",
    "timezone",
    "notes",
    "external_ref",
)
#: kept from both records, never chosen away
COMBINED = ("allergies", "medical_alerts", "tags", "vip", "consents", "first_touch")
SURVIVOR, OTHER = "survivor", "other"
#: how people read the chosen details
LABELS = {
    "first_name": "First name",
    "last_name": "Last name",
    "preferred_name": "Preferred name",
    "date_of_birth": "Date of birth",
    "sex": "Sex",
    "pronouns": "Pronouns",
    "phone": "Mobile",
    "email": "Email",
    "instagram_handle": "Instagram",
    "instagram_id": "Instagram account",
    "address": "Address",
    "timezone": "Time zone",
    "notes": "Notes",
    "external_ref": "Reference",
    "allergies": "Allergies",
    "medical_alerts": "Medical alerts",
    "tags": "Tags",
    "vip": "VIP",
    "consents": "Consents",
    "first_touch": "First touch",
}


def _empty(value: Any) -> bool:
    return value in (None, "", {}, [])


def differing(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[str]:
    """The chosen details on which two records differ (both set, not equal)."""
    return [n for n in CHOOSABLE if not _empty(a.get(n)) and not _empty(b.get(n)) and a.get(n) != b.get(n)]


def _texts(a: Any, b: Any) -> str | None:
    parts = [str(v).strip() for v in (a, b) if v and str(v).strip()]
    unique = list(dict.fromkeys(parts))
    return "\n".join(unique) if unique else None


def _consents(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    out = dict(a)
    for purpose, entry in b.items():
        mine = out.get(purpose)
        if not isinstance(mine, dict) or (
            isinstance(entry, dict) and str(entry.get("at") or "") > str(mine.get("at") or "")
        ):
            out[purpose] = entry
    return out


def _first_touch(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    if not a:
        return dict(b)
    if b and str(b.get("at") or "9999") < str(a.get("at") or "9999"):
        return dict(b)
    return dict(a)


def merged_values(
    survivor: Mapping[str, Any], other: Mapping[str, Any], keep: Mapping[str, str]
) -> dict[str, Any]:
    """The survivor's data after the merge (see the module docstring)."""
    unknown = sorted(set(keep) - set(CHOOSABLE))
    if unknown:
        raise ValidationError(
            f"These details cannot be chosen in a merge: {', '.join(unknown)}.", field=unknown[0]
        )
    bad = sorted(k for k, v in keep.items() if v not in (SURVIVOR, OTHER))
    if bad:
        raise ValidationError(
            "Each detail keeps the value of the surviving record or of the other one.", field=bad[0]
        )
    out: dict[str, Any] = {}
    for name in CHOOSABLE:
        mine, theirs = survivor.get(name), other.get(name)
        choice = keep.get(name)
        if choice == OTHER or (choice is None and _empty(mine) and not _empty(theirs)):
            out[name] = theirs
        else:
            out[name] = mine
    out["email_key"] = email_match_key(out["email"]) if out.get("email") else None
    out["allergies"] = _texts(survivor.get("allergies"), other.get("allergies"))
    out["medical_alerts"] = _texts(survivor.get("medical_alerts"), other.get("medical_alerts"))
    out["tags"] = list(dict.fromkeys([*(survivor.get("tags") or []), *(other.get("tags") or [])]))
    out["vip"] = bool(survivor.get("vip") or other.get("vip"))
    out["consents"] = _consents(dict(survivor.get("consents") or {}), dict(other.get("consents") or {}))
    out["first_touch"] = _first_touch(
        dict(survivor.get("first_touch") or {}), dict(other.get("first_touch") or {})
    )
    return out
