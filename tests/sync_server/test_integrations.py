"""Connecting a clinic: ``integrations set/show``, secrets sealed at rest, routes to the clinic."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import Engine

from sync_server import tenancy
from sync_server.db import Database
from sync_server.integrations import sealing
from sync_server.integrations import service as integrations
from sync_server.integrations.models import IntegrationRoute

from .conftest import SECRET, World
from .integration_setup import ACCOUNT_SID, connect_meta
from .test_cli import InProcess, in_process  # noqa: F401 - fixture

TOKENS = ("twilio-token-s3cret", "meta-app-s3cret", "verify-s3cret", "EAAB-page-s3cret")


def set_all(cli: InProcess, slug: str = "glow", page: str = "4242") -> tuple[int, str, str]:
    return cli("integrations", "set", "--clinic", slug, "--twilio-account-sid", ACCOUNT_SID,
               "--twilio-auth-token", TOKENS[0], "--twilio-from", "(415) 555-0100",
               "--meta-app-secret", TOKENS[1], "--meta-verify-token", TOKENS[2], "--meta-page-id", page,
               "--meta-page-token", TOKENS[3], "--meta-instagram-id", "17841400000000009")


def test_set_and_show_never_print_a_secret(in_process: InProcess, world: World, admin_sql: Engine) -> None:  # noqa: F811
    world.clinic("glow")
    code, out, err = set_all(in_process)
    assert code == 0, err
    shown = json.loads(out)
    twilio, meta = shown["integrations"]["twilio"], shown["integrations"]["meta"]
    assert twilio["account_sid"] == ACCOUNT_SID and twilio["from_number"] == "+14155550100"
    assert twilio["auth_token"] == "set (hidden)"
    assert meta["page_id"] == "4242" and meta["instagram_id"] == "17841400000000009"
    assert {meta[k] for k in ("app_secret", "verify_token", "page_token")} == {"set (hidden)"}
    assert shown["webhooks"]["meta"].endswith("/webhooks/meta")
    assert shown["webhooks"]["web_form"].endswith("/f/glow/lead")
    code, out2, _ = in_process("integrations", "show", "--clinic", "glow")
    assert code == 0 and json.loads(out2)["integrations"]["twilio"]["auth_token"] == "set (hidden)"
    for secret in TOKENS:
        assert secret not in out + out2
    with admin_sql.connect() as conn:  # at rest: sealed, not readable in a copy of the database
        stored = " ".join(str(row) for row in conn.execute(text("SELECT config, sealed FROM integration")))
    assert "+14155550100" in stored
    for secret in TOKENS:
        assert secret not in stored


def test_changing_one_option_keeps_the_others(in_process: InProcess, world: World, db: Database) -> None:  # noqa: F811
    clinic = world.clinic("glow")
    assert set_all(in_process)[0] == 0
    code, _, err = in_process("integrations", "set", "--clinic", "glow", "--twilio-from", "+14155550199")
    assert code == 0, err
    with db.transaction(write=False, app_role=True) as session:
        tenancy.enter_clinic(session, clinic.id)
        account = integrations.twilio_account(session, clinic_id=clinic.id, secret_key=SECRET)
    assert account is not None
    assert (account.auth_token, account.from_number) == (TOKENS[0], "+14155550199")


@pytest.mark.parametrize(("argv", "message"), [
    (["--twilio-account-sid", "nope", "--twilio-auth-token", "x", "--twilio-from", "+14155550100"], "account SID"),
    (["--twilio-account-sid", ACCOUNT_SID, "--twilio-auth-token", "x"], "sending number"),
    (["--meta-page-id", "123"], "app secret"),
    ([], "Nothing to set"),
])
def test_set_refuses_what_cannot_work(in_process: InProcess, world: World, argv: list[str], message: str) -> None:  # noqa: F811
    world.clinic("glow")
    code, out, err = in_process("integrations", "set", "--clinic", "glow", *argv)
    assert code != 0 and message in err and out == ""


def test_a_page_or_number_belongs_to_one_clinic(in_process: InProcess, world: World) -> None:  # noqa: F811
    world.clinic("glow")
    world.clinic("other")
    assert set_all(in_process, "glow", page="4242")[0] == 0
    code, _, err = set_all(in_process, "other", page="4242")
    assert code != 0 and "already connected to another clinic" in err


def test_routes_find_the_clinic_before_it_is_known(db: Database, world: World) -> None:
    a, b = world.clinic("glow-a"), world.clinic("glow-b")
    connect_meta(db, a, page_id="111", instagram_id=None, page_token=None)
    connect_meta(db, b, page_id="222", instagram_id=None, page_token=None)
    with db.transaction(write=False, app_role=True) as session:
        assert integrations.clinics_for_route(session, integrations.route_meta_page("111")) == [a.id]
    with db.transaction(write=False, app_role=True) as session:
        assert integrations.clinics_for_route(session, integrations.route_meta_page("999")) == []
    # the shared verify token routes to both clinics
    with db.transaction(write=False, app_role=True) as session:
        key = integrations.route_meta_verify(SECRET, "glowdesk-verify-token")
        assert sorted(integrations.clinics_for_route(session, key)) == sorted([a.id, b.id])


pg_only = pytest.mark.parametrize("backend", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)


@pg_only
def test_rls_shows_a_presented_route_only(db: Database, world: World) -> None:
    a, b = world.clinic("glow-a"), world.clinic("glow-b")
    connect_meta(db, a, page_id="111", instagram_id=None, page_token=None)
    connect_meta(db, b, page_id="222", instagram_id=None, page_token=None)
    with db.transaction(write=False, app_role=True) as session:
        assert session.execute(select(IntegrationRoute)).scalars().all() == []
        tenancy.present_credential(session, integrations.route_meta_page("111"))
        assert [r.clinic_id for r in session.execute(select(IntegrationRoute)).scalars()] == [a.id]
        assert session.execute(text("SELECT count(*) FROM integration")).scalar_one() == 0


def test_sealing_round_trips_and_refuses_another_key() -> None:
    token = sealing.seal("key-one", {"auth_token": "abc"})
    assert "abc" not in token
    assert sealing.unseal("key-one", token) == {"auth_token": "abc"}
    with pytest.raises(sealing.SecretsUnreadable):
        sealing.unseal("key-two", token)
