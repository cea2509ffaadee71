"""``python -m sync_server lead-routing``: an operator sets up a clinic's routing by staff name."""

from __future__ import annotations

import json
from pathlib import Path

from .test_cli import InProcess, assert_one_line_failure, in_process  # noqa: F401 - fixture


def test_an_operator_sets_rules_times_and_working_hours(in_process: InProcess, tmp_path: Path) -> None:  # noqa: F811
    assert in_process("create-clinic", "--name", "Glow", "--slug", "glow")[0] == 0
    for name, role in (("Felix Park", "front_desk"), ("Elena Rossi", "provider"), ("Marcus Mendoza", "manager")):
        assert in_process("create-staff", "--clinic", "glow", "--name", name, "--role", role, "--pin", "1234")[0] == 0
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps({"rules": [
        {"kind": "service", "match": ["Laser"], "staff": ["elena rossi"]},
        {"kind": "round_robin", "roles": ["front_desk"]}], "fallback": "Marcus Mendoza"}))
    code, out, err = in_process("lead-routing", "set", "--clinic", "glow", "--file", str(rules), "--claim-minutes", "12",
                                "--sla", "phone=off", "--sla", "web_form=3", "--escalate-to", "Marcus Mendoza")
    assert code == 0, err
    shown = json.loads(out)["lead_routing"]
    assert shown["rules"][0] == {"kind": "service", "staff": ["Elena Rossi"], "match": ["laser"],
                                 "pick": "fewest_open"}
    assert shown["fallback"] == "Marcus Mendoza" and shown["escalate_to"] == ["Marcus Mendoza"]
    assert shown["claim_minutes"] == 12 and shown["sla_minutes"] == {"phone": None, "web_form": 3}

    code, out, err = in_process("lead-routing", "hours", "--clinic", "glow", "--staff", "Felix Park",
                                "--hours", "Mon-Fri 9-17; Sat 10:00-14:00")
    assert code == 0, err
    assert json.loads(out)["working_hours"] == "Mon-Fri 09:00-17:00; Sat 10:00-14:00"
    code, out, _ = in_process("lead-routing", "show", "--clinic", "glow")
    hours = json.loads(out)["working_hours"]
    assert hours["Felix Park"] == "Mon-Fri 09:00-17:00; Sat 10:00-14:00"
    assert hours["Elena Rossi"] == "clinic opening hours"
    # only what is given changes
    code, out, _ = in_process("lead-routing", "set", "--clinic", "glow", "--claim-minutes", "5")
    assert json.loads(out)["lead_routing"]["fallback"] == "Marcus Mendoza"
    assert len(json.loads(out)["lead_routing"]["rules"]) == 2


def test_bad_routing_is_refused_and_nothing_is_stored(in_process: InProcess, tmp_path: Path) -> None:  # noqa: F811
    in_process("create-clinic", "--name", "Glow", "--slug", "glow")
    code, _, err = in_process("lead-routing", "set", "--clinic", "glow", "--fallback", "Nobody Here")
    assert_one_line_failure(code, err, "There is no staff member called 'Nobody Here' in this clinic.")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"rules": [{"kind": "service", "roles": ["front_desk"]}]}))
    code, _, err = in_process("lead-routing", "set", "--clinic", "glow", "--file", str(bad))
    assert_one_line_failure(code, err, "Rule 1 (service) must list the words to match, such as laser.")
    code, _, err = in_process("lead-routing", "set", "--clinic", "glow", "--sla", "web_form=soon")
    assert_one_line_failure(code, err, "the minutes must be a whole number (or off)")
    in_process("create-staff", "--clinic", "glow", "--name", "Felix Park", "--role", "front_desk", "--pin", "1234")
    code, _, err = in_process("lead-routing", "hours", "--clinic", "glow", "--staff", "Felix Park", "--hours", "Mon 18-9")
    assert_one_line_failure(code, err, "must end after it starts")
    code, out, _ = in_process("lead-routing", "show", "--clinic", "glow")
    assert json.loads(out)["lead_routing"]["rules"] == []
    assert json.loads(out)["working_hours"] == {"Felix Park": "clinic opening hours"}
