"""Play the outside world against the `make run` demo: a client texting in, a lead ad, a DM.

    python scripts/demo_event.py text "+14155550123" "Hi! Do you have lip filler openings Friday?"
    python scripts/demo_event.py lead "Maya Lopez" "+14155550177" maya@example.com --ad-id 120210000000001
    python scripts/demo_event.py dm 6019384756 "Hi, how much is Botox?" --username maya.glows

Each goes through the provider stand-ins started by `make run`, which sign the webhook with the
provider's real scheme and post it to the demo server; the desktop shows the result within a
second. Reads the stand-ins' control address from var/server/standins.json (or
GLOWDESK_SERVER_HOME).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def post(control: str, path: str, body: dict[str, object]) -> int:
    request = urllib.request.Request(f"{control}{path}", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            print(f"demo: sent; the server answered {json.loads(response.read())['server_status']}")
            return 0
    except urllib.error.HTTPError as exc:
        print(f"demo: not accepted ({exc.code}): {exc.read().decode(errors='replace')}", file=sys.stderr)
    except OSError as exc:
        print(f"demo: the stand-ins are not running ({exc}); start the demo with `make run`", file=sys.stderr)
    return 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="event", required=True)
    text = sub.add_parser("text", help="a client texts the clinic")
    text.add_argument("phone")
    text.add_argument("body")
    lead = sub.add_parser("lead", help="someone fills in a Meta lead ad")
    lead.add_argument("name")
    lead.add_argument("phone")
    lead.add_argument("email", nargs="?")
    lead.add_argument("--ad-id")
    lead.add_argument("--adset-id")
    lead.add_argument("--campaign-id")
    dm = sub.add_parser("dm", help="an Instagram DM")
    dm.add_argument("sender_id")
    dm.add_argument("text")
    dm.add_argument("--username")
    args = parser.parse_args()

    home = Path(os.environ.get("GLOWDESK_SERVER_HOME", ROOT / "var" / "server"))
    try:
        control = json.loads((home / "standins.json").read_text())["control_url"]
    except (OSError, ValueError, KeyError):
        print("demo: no running demo found; start it with `make run`", file=sys.stderr)
        return 1
    if args.event == "text":
        return post(control, "/demo/text", {"from": args.phone, "body": args.body})
    if args.event == "lead":
        fields = {"full_name": args.name, "phone_number": args.phone}
        if args.email:
            fields["email"] = args.email
        return post(control, "/demo/lead", {"fields": fields, "ad_id": args.ad_id, "adset_id": args.adset_id,
                                            "campaign_id": args.campaign_id})
    return post(control, "/demo/dm", {"sender_id": args.sender_id, "text": args.text, "username": args.username})


if __name__ == "__main__":
    raise SystemExit(main())
