"""The demo clinic's catalogue: *Lumière Aesthetics*, a two-location Bay Area med spa.

Shared by the desktop's local demo (``app.services.demo``) and the server's demo clinic
(``sync_server.demo.generator``), which must describe the same clinic: its locations, rooms and
devices, the service menu (DOMAIN.md's durations, prices and deposits), the staff with their
roles, skills, shifts and demo PINs, and the pools the clients, leads and notes are drawn from.
Pure data and a few pure helpers; the generators own the randomness.

Safety of the made-up data: phone numbers use the 555 exchange (valid E.164, never handed to
subscribers), email addresses the reserved ``example.com/.net/.org`` domains, web addresses the
reserved ``.example`` top-level domain.
"""

from __future__ import annotations

import string
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from core.permissions import Role

CLINIC_NAME = "Lumière Aesthetics"

CLINIC_SLUG = "lumiere"

TIMEZONE = "America/Los_Angeles"

WEBSITE = "https://lumiere-aesthetics.example"

DEMO_OWNER_NAME = "Olivia Owens"

DEMO_OWNER_PIN = "1234"

FUTURE_DAYS = 28

#: Appointments per client per year the calendar aims at (capped by what the staff can see).
VISITS_PER_CLIENT = 4.0

LOCATIONS = (
    ("sf", "Pacific Heights", {"line1": "2145 Fillmore St", "city": "San Francisco", "state": "CA",
                               "postal_code": "94115", "country": "US"}, "(415) 555-0100"),
    ("pa", "Palo Alto", {"line1": "425 University Ave", "city": "Palo Alto", "state": "CA",
                         "postal_code": "94301", "country": "US"}, "(650) 555-0100"),
)

# (location, name, kind)
ROOMS = (
    ("sf", "Injection Room 1", "treatment"),
    ("sf", "Injection Room 2", "treatment"),
    ("sf", "Consult Room", "consult"),
    ("sf", "Laser Suite", "laser"),
    ("sf", "Skin Studio", "skin"),
    ("sf", "IV Lounge", "wellness"),
    ("pa", "Treatment Room A", "treatment"),
    ("pa", "Treatment Room B", "treatment"),
    ("pa", "Consult Room", "consult"),
    ("pa", "Laser Suite", "laser"),
    ("pa", "Body Studio", "body"),
    ("pa", "Skin Studio", "skin"),
)

# (location, name, kind, model)
DEVICES = (
    ("sf", "GentleMax Pro", "alexandrite_ndyag_laser", "Candela GentleMax Pro"),
    ("sf", "Lumecca IPL", "ipl", "InMode Lumecca"),
    ("sf", "Morpheus8", "rf_microneedling", "InMode Morpheus8"),
    ("sf", "PicoWay", "picosecond_laser", "Candela PicoWay"),
    ("sf", "HydraFacial Syndeo", "hydrafacial", "HydraFacial Syndeo"),
    ("pa", "GentleMax Pro", "alexandrite_ndyag_laser", "Candela GentleMax Pro"),
    ("pa", "Fraxel Dual", "fractional_laser", "Solta Fraxel Dual 1550/1927"),
    ("pa", "CoolSculpting Elite", "cryolipolysis", "Allergan CoolSculpting Elite"),
    ("pa", "Emsculpt NEO", "hifem", "BTL Emsculpt NEO"),
    ("pa", "HydraFacial Elite", "hydrafacial", "HydraFacial Elite"),
)

INJECTORS = [Role.PROVIDER.value, Role.MEDICAL_DIRECTOR.value]

PROVIDERS = [Role.PROVIDER.value]

@dataclass(frozen=True)
class ServiceSpec:
    key: str
    name: str
    category: str
    duration: int
    before: int
    after: int
    price: int  # minor units per price_unit
    unit: str
    deposit: int
    device: str | None
    roles: list[str]
    rooms: tuple[str, ...]
    weight: float
    quantities: tuple[int, ...] = (1,)
    description: str | None = None

S = ServiceSpec

SERVICES: tuple[ServiceSpec, ...] = (
    # neuromodulators: priced per unit
    S("botox", "Botox Cosmetic", "neuromodulators", 30, 0, 10, 1500, "unit", 5000, None, INJECTORS,
      ("treatment", "consult"), 40, (20, 24, 30, 40, 40, 44, 50, 64),
      "onabotulinumtoxinA; glabella 20 u, forehead 10-20 u, crow's feet 12 u per side"),
    S("dysport", "Dysport", "neuromodulators", 30, 0, 10, 500, "unit", 5000, None, INJECTORS,
      ("treatment", "consult"), 14, (50, 60, 75, 100, 120), "about 2.5 Dysport units per Botox unit"),
    S("xeomin", "Xeomin", "neuromodulators", 30, 0, 10, 1300, "unit", 5000, None, INJECTORS,
      ("treatment", "consult"), 8, (20, 30, 40, 50)),
    S("daxxify", "Daxxify", "neuromodulators", 30, 0, 10, 1600, "unit", 5000, None, INJECTORS,
      ("treatment", "consult"), 5, (40, 50, 60)),
    S("jeuveau", "Jeuveau", "neuromodulators", 30, 0, 10, 1100, "unit", 5000, None, INJECTORS,
      ("treatment", "consult"), 6, (20, 30, 40)),
    S("lipflip", "Lip Flip", "neuromodulators", 15, 0, 5, 1500, "unit", 0, None, INJECTORS,
      ("treatment", "consult"), 4, (4, 6)),
    S("masseter", "Masseter Slimming (Botox)", "neuromodulators", 30, 0, 10, 1500, "unit", 5000, None,
      INJECTORS, ("treatment",), 4, (50, 60, 80, 100)),
    # dermal fillers: priced per syringe
    S("voluma", "Juvéderm Voluma XC", "fillers", 60, 0, 15, 90000, "syringe", 10000, None, INJECTORS,
      ("treatment",), 6, (1, 2, 2, 3)),
    S("volbella", "Juvéderm Volbella XC", "fillers", 45, 0, 15, 75000, "syringe", 10000, None, INJECTORS,
      ("treatment",), 5, (1, 1, 2)),
    S("ultra", "Juvéderm Ultra XC", "fillers", 45, 0, 15, 70000, "syringe", 10000, None, INJECTORS,
      ("treatment",), 6, (1, 1, 2)),
    S("lyft", "Restylane Lyft", "fillers", 45, 0, 15, 75000, "syringe", 10000, None, INJECTORS,
      ("treatment",), 4, (1, 2, 2)),
    S("kysse", "Restylane Kysse", "fillers", 45, 0, 15, 78000, "syringe", 10000, None, INJECTORS,
      ("treatment",), 5, (1, 1, 2)),
    S("rha", "RHA 3", "fillers", 45, 0, 15, 72000, "syringe", 10000, None, INJECTORS,
      ("treatment",), 3, (1, 2)),
    S("radiesse", "Radiesse", "fillers", 45, 0, 15, 80000, "syringe", 10000, None, INJECTORS,
      ("treatment",), 2, (1, 2)),
    S("sculptra", "Sculptra", "fillers", 60, 0, 15, 90000, "vial", 10000, None, INJECTORS,
      ("treatment",), 2, (1, 2), "collagen stimulator, series of 2-3 sessions"),
    S("dissolve", "Filler Dissolve (Hyaluronidase)", "fillers", 30, 0, 10, 40000, "session", 0, None,
      INJECTORS, ("treatment",), 0.5),
    # lasers and energy
    S("lhr_s", "Laser Hair Removal — Small Area", "lasers", 15, 5, 10, 15000, "session", 5000,
      "alexandrite_ndyag_laser", PROVIDERS, ("laser",), 5, (1,), "underarms, upper lip, chin; packages of 6"),
    S("lhr_m", "Laser Hair Removal — Medium Area", "lasers", 30, 5, 10, 25000, "session", 5000,
      "alexandrite_ndyag_laser", PROVIDERS, ("laser",), 4, (1,), "bikini, lower face, arms; packages of 6"),
    S("lhr_l", "Laser Hair Removal — Large Area", "lasers", 60, 5, 10, 45000, "session", 10000,
      "alexandrite_ndyag_laser", PROVIDERS, ("laser",), 2, (1,), "full legs, back; packages of 6"),
    S("ipl", "IPL Photofacial", "lasers", 45, 5, 10, 40000, "session", 10000, "ipl", PROVIDERS,
      ("laser",), 3, (1,), "packages of 3"),
    S("fraxel", "Fraxel Laser Resurfacing", "lasers", 60, 10, 15, 120000, "session", 20000,
      "fractional_laser", PROVIDERS, ("laser",), 2, (1,), "numbing 45 min before; packages of 3"),
    S("morpheus8", "Morpheus8 RF Microneedling — Face", "lasers", 90, 10, 15, 120000, "session", 20000,
      "rf_microneedling", PROVIDERS, ("laser",), 2, (1,), "packages of 3"),
    S("tattoo", "Tattoo Removal (PicoWay)", "lasers", 30, 5, 10, 25000, "session", 5000,
      "picosecond_laser", PROVIDERS, ("laser",), 1, (1,), "packages of 6-8, sessions 6-8 weeks apart"),
    S("coolsculpt", "CoolSculpting Elite", "body", 75, 10, 15, 75000, "cycle", 20000, "cryolipolysis",
      PROVIDERS, ("body",), 3, (1,), "priced per applicator cycle"),
    S("emsculpt", "Emsculpt NEO", "body", 30, 5, 10, 75000, "session", 10000, "hifem", PROVIDERS,
      ("body",), 3, (1,), "packages of 4 sessions, 5-10 days apart"),
    # skin
    S("hydra", "HydraFacial Signature", "skin", 45, 5, 10, 22500, "session", 5000, "hydrafacial",
      PROVIDERS, ("skin",), 8),
    S("hydra_dlx", "HydraFacial Deluxe", "skin", 60, 5, 10, 29500, "session", 5000, "hydrafacial",
      PROVIDERS, ("skin",), 4),
    S("peel", "Chemical Peel (VI Peel)", "skin", 45, 0, 10, 35000, "session", 5000, None, PROVIDERS,
      ("skin", "treatment"), 4),
    S("microneedling", "Microneedling (SkinPen)", "skin", 60, 15, 10, 45000, "session", 10000, None,
      PROVIDERS, ("skin", "treatment"), 3, (1,), "numbing 15 min before"),
    S("dermaplane", "Dermaplaning", "skin", 30, 0, 10, 12500, "session", 0, None, PROVIDERS,
      ("skin",), 3),
    # wellness: medical oversight
    S("iv", "IV Therapy — Myers' Cocktail", "wellness", 45, 5, 10, 22500, "session", 5000, None,
      INJECTORS, ("wellness",), 4),
    S("glp1", "Semaglutide Weight-Loss Visit", "wellness", 30, 0, 5, 39900, "month", 0, None,
      INJECTORS, ("consult", "treatment"), 5, (1,), "monthly GLP-1 program check-in"),
    S("bhrt", "Hormone Therapy Consultation (BHRT)", "wellness", 45, 0, 5, 25000, "session", 5000, None,
      INJECTORS, ("consult",), 1.5),
    # consultations
    S("consult", "Complimentary Aesthetic Consultation", "consultations", 30, 0, 5, 0, "session", 0, None,
      INJECTORS, ("consult", "treatment"), 4, (1,), "free; required before a first filler or laser"),
    S("gfe", "Good-Faith Exam (GFE)", "consultations", 15, 0, 5, 0, "session", 0, None, INJECTORS,
      ("consult", "treatment"), 1.5, (1,), "by an NP or physician before a first injectable"),
    S("laser_consult", "Laser Consultation & Test Spot", "consultations", 30, 5, 10, 0, "session", 0,
      "alexandrite_ndyag_laser", PROVIDERS, ("laser",), 1.5),
    S("wellness_consult", "Wellness Consultation", "consultations", 30, 0, 5, 15000, "session", 5000,
      None, INJECTORS, ("consult",), 1.5, (1,), "labs review; applied to the first month of a program"),
)

SERVICE_BY_KEY = {s.key: s for s in SERVICES}

CATEGORIES = ("neuromodulators", "fillers", "lasers", "body", "skin", "wellness")

CATEGORY_WEIGHTS = (40, 20, 14, 5, 15, 8)

#: Shortest sensible gap between two visits for the same kind of treatment (days).
MIN_GAP = {"neuromodulators": 75, "fillers": 120, "lasers": 28, "body": 10, "skin": 21,
           "wellness": 14, "consultations": 365}

#: The consult a new client books first for an interest, when a consult comes first.
FIRST_CONSULT = {"neuromodulators": "gfe", "fillers": "consult", "lasers": "laser_consult",
                 "body": "consult", "skin": "consult", "wellness": "wellness_consult"}

_INJ = ("botox", "dysport", "xeomin", "daxxify", "jeuveau", "lipflip", "masseter")

_FILL = ("voluma", "volbella", "ultra", "lyft", "kysse", "rha", "radiesse", "sculptra", "dissolve")

_LASER = ("lhr_s", "lhr_m", "lhr_l", "ipl", "fraxel", "tattoo", "laser_consult")

_SKIN = ("hydra", "hydra_dlx", "peel", "microneedling", "dermaplane")

_WELL = ("iv", "glp1", "bhrt", "wellness_consult")

@dataclass(frozen=True)
class StaffSpec:
    key: str
    name: str
    role: Role
    title: str
    pin: str
    color: str
    #: service keys this person performs (roles alone cannot tell an injector from an aesthetician)
    skills: tuple[str, ...] = ()
    #: weekday (0 = Monday) -> (location, start hour, end hour)
    shifts: dict[int, tuple[str, int, int]] = field(default_factory=dict)

LUNCH = (12 * 60 + 30, 13 * 60 + 15)  # minutes after midnight; providers take a lunch break

STAFF: tuple[StaffSpec, ...] = (
    StaffSpec("owner", DEMO_OWNER_NAME, Role.OWNER, "Owner", DEMO_OWNER_PIN, "#8E6C8A"),
    StaffSpec("manager", "Marcus Mendoza", Role.MANAGER, "Practice Manager", "2468", "#4F6D7A"),
    StaffSpec("md", "Dr. Diane Moreau", Role.MEDICAL_DIRECTOR, "Medical Director, MD", "1357", "#5B4B8A",
              _INJ + _FILL + _WELL + ("gfe", "consult"), {3: ("pa", 10, 16)}),
    StaffSpec("priya", "Priya Raman", Role.PROVIDER, "Senior Nurse Injector, RN", "1111", "#C06C84",
              _INJ + _FILL + ("morpheus8", "consult"),
              {0: ("sf", 9, 18), 1: ("sf", 9, 18), 2: ("sf", 10, 19), 3: ("sf", 9, 18), 4: ("pa", 9, 17)}),
    StaffSpec("nora", "Nora Kim", Role.PROVIDER, "Nurse Practitioner, NP", "2222", "#6C5B7B",
              _INJ + _FILL + _WELL + ("gfe", "consult"),
              {0: ("pa", 10, 19), 1: ("pa", 10, 19), 2: ("pa", 9, 18), 3: ("sf", 9, 18), 5: ("sf", 9, 16)}),
    StaffSpec("jasmine", "Jasmine Okafor", Role.PROVIDER, "Nurse Injector, RN", "3333", "#F67280",
              _INJ + _FILL + _LASER + ("coolsculpt", "emsculpt", "consult"),
              {1: ("pa", 9, 18), 2: ("pa", 9, 18), 3: ("pa", 10, 19), 4: ("pa", 9, 18), 5: ("pa", 9, 16)}),
    StaffSpec("elena", "Elena Rossi", Role.PROVIDER, "Licensed Aesthetician & Laser Specialist", "4444",
              "#F8B195", _SKIN + ("lhr_s", "lhr_m", "lhr_l", "ipl", "tattoo", "laser_consult", "coolsculpt",
                                  "emsculpt", "consult"),
              {0: ("pa", 9, 18), 1: ("sf", 9, 18), 2: ("sf", 9, 18), 3: ("sf", 11, 19), 4: ("sf", 9, 18),
               5: ("sf", 9, 16)}),
    StaffSpec("felix", "Felix Park", Role.FRONT_DESK, "Patient Coordinator (Pacific Heights)", "5555",
              "#355C7D"),
    StaffSpec("daisy", "Daisy Alvarez", Role.FRONT_DESK, "Patient Coordinator (Palo Alto)", "6666",
              "#99B898"),
    StaffSpec("sam", "Sam Taylor", Role.FRONT_DESK, "Patient Coordinator (float)", "7777", "#2A363B"),
)

DESK_BY_LOCATION = {"sf": ("felix", "felix", "sam"), "pa": ("daisy", "daisy", "sam")}

#: the front desk's weekly rota (providers work their shifts; owner and manager the opening hours)
DESK_HOURS: dict[str, dict[str, list[list[str]]]] = {
    "felix": {d: [["08:30", "17:30"]] for d in ("mon", "tue", "wed", "thu", "fri")},
    "daisy": {d: [["09:00", "18:00"]] for d in ("tue", "wed", "thu", "fri", "sat")},
    "sam": {d: [["10:00", "19:00"]] for d in ("mon", "wed", "fri", "sat")},
}

#: the demo's lead routing, staff by key (:func:`demo_routing` fills in the ids): laser leads to
#: the laser specialists, VIPs to the manager, the rest round robin among the front desk on shift;
#: a missed first reply goes to the manager
DEMO_ROUTING: dict[str, Any] = {
    "rules": [
        {"kind": "service", "match": ["laser", "ipl", "hair removal", "tattoo"], "staff": ["elena", "jasmine"]},
        {"kind": "vip", "staff": ["manager"]},
        {"kind": "round_robin", "roles": ["front_desk"]},
    ],
    "fallback": "manager", "escalate_to": ["manager"], "claim_minutes": 10, "after_hours": "next_opening",
}


def demo_routing(staff_ids: dict[str, str]) -> dict[str, Any]:
    """The demo clinic's ``settings["lead_routing"]`` with the staff keys turned into ids."""
    rules = [{**r, "staff": [staff_ids[k] for k in r["staff"]]} if "staff" in r else dict(r)
             for r in DEMO_ROUTING["rules"]]
    return {**DEMO_ROUTING, "rules": rules, "fallback": staff_ids[DEMO_ROUTING["fallback"]],
            "escalate_to": [staff_ids[k] for k in DEMO_ROUTING["escalate_to"]]}


_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

def staff_hours(spec: StaffSpec) -> dict[str, Any]:
    """A demo staff member's weekly rota (lead assignment's "on shift")."""
    if spec.key in DESK_HOURS:
        return dict(DESK_HOURS[spec.key])
    return {_WEEKDAYS[day]: [[f"{start:02d}:00", f"{end:02d}:00"]] for day, (_loc, start, end) in
            sorted(spec.shifts.items())}

# group: (weight, female first names, male first names, last names)
NAMES: dict[str, tuple[float, tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "anglo": (27, (
        "Emma", "Olivia", "Sophia", "Ava", "Isabella", "Mia", "Charlotte", "Amelia", "Harper", "Evelyn",
        "Abigail", "Emily", "Elizabeth", "Madison", "Avery", "Ella", "Scarlett", "Grace", "Chloe",
        "Victoria", "Riley", "Lily", "Hannah", "Natalie", "Claire", "Lauren", "Megan", "Jessica", "Ashley",
        "Sarah", "Rachel", "Rebecca", "Katherine", "Brooke", "Taylor", "Jennifer", "Amanda", "Stephanie",
        "Nicole", "Heather", "Kelsey", "Morgan", "Caroline", "Allison", "Julia", "Margaret", "Samantha"),
        ("James", "Michael", "Daniel", "Matthew", "Ryan", "Andrew", "Christopher", "Ethan", "Tyler",
         "Brandon", "Jacob", "William", "Benjamin"),
        ("Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Anderson",
         "Taylor", "Thomas", "Moore", "Martin", "Thompson", "White", "Harris", "Clark", "Lewis", "Walker",
         "Young", "Allen", "King", "Wright", "Scott", "Hill", "Green", "Adams", "Baker", "Nelson",
         "Carter", "Mitchell", "Campbell", "Roberts", "Turner", "Phillips", "Parker", "Evans", "Edwards",
         "Collins", "Stewart", "Morris", "Murphy", "Cook", "Rogers", "Morgan", "Cooper", "Peterson",
         "Bailey", "Reed", "Kelly", "Howard", "Brooks", "Sullivan", "O'Brien", "McCarthy", "Fitzgerald",
         "Hughes", "Price", "Bennett", "Foster", "Hayes", "Sanders", "Ward", "Russell", "Griffin")),
    "hispanic": (18, (
        "María", "Sofía", "Valentina", "Camila", "Lucía", "Ximena", "Daniela", "Gabriela", "Isabel",
        "Mariana", "Natalia", "Paola", "Andrea", "Alejandra", "Fernanda", "Guadalupe", "Carmen", "Rocío",
        "Inés", "Marisol", "Yesenia", "Adriana", "Verónica", "Elena", "Renata", "Jimena", "Itzel"),
        ("José", "Luis", "Carlos", "Javier", "Andrés", "Diego", "Mateo", "Alejandro", "Raúl"),
        ("García", "Rodríguez", "Martínez", "Hernández", "López", "González", "Pérez", "Sánchez",
         "Ramírez", "Torres", "Flores", "Rivera", "Gómez", "Díaz", "Reyes", "Morales", "Cruz", "Ortiz",
         "Gutiérrez", "Chávez", "Ramos", "Ruiz", "Álvarez", "Mendoza", "Castillo", "Jiménez", "Vargas",
         "Romero", "Herrera", "Medina", "Aguilar", "Núñez", "Peña", "Ibáñez", "Salazar", "Delgado")),
    "chinese": (11, (
        "Mei", "Xiaoling", "Jing", "Yan", "Hui", "Ying", "Xinyi", "Yuxin", "Jiayi", "Lingling", "Qian",
        "Fang", "Grace", "Vivian", "Jessica", "Michelle", "Cindy", "Karen", "Tiffany", "Angela", "Joyce"),
        ("Wei", "Hao", "Jun", "Kevin", "Eric", "Jason"),
        ("Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu", "Sun", "Ma",
         "Zhu", "Hu", "Guo", "Lin", "He", "Gao", "Luo", "Cheng", "Wong", "Chan", "Leung", "Lau", "Tsang",
         "Ho", "Yip", "Fong", "Tam")),
    "vietnamese": (6, (
        "Linh", "Thảo", "Ngọc", "Trang", "Hương", "Mai", "Anh", "Phương", "Vy", "Hạnh", "Thúy", "Lan",
        "Quỳnh", "Tiên", "Nhung"),
        ("Minh", "Tuấn", "Huy", "Khoa", "Đức"),
        ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ",
         "Ngô", "Dương")),
    "filipino": (6, (
        "Maricel", "Kristine", "Angelica", "Jasmine", "Patricia", "Rosario", "Liezl", "Camille", "Bea",
        "Joanna", "Katrina", "Mylene", "Rowena", "Czarina"),
        ("Paolo", "Miguel", "Rafael", "Jericho"),
        ("Santos", "Reyes", "Cruz", "Bautista", "Ocampo", "Garcia", "Mendoza", "Torres", "Villanueva",
         "Dela Cruz", "Aquino", "Castro", "Ramos", "Manalo", "Pascual", "Soriano", "Navarro")),
    "south_asian": (9, (
        "Ananya", "Aditi", "Kavya", "Meera", "Riya", "Sneha", "Pooja", "Divya", "Neha", "Aishwarya",
        "Lakshmi", "Shreya", "Nisha", "Anjali", "Isha", "Sanjana", "Tanvi", "Deepa"),
        ("Arjun", "Rohan", "Vikram", "Rahul", "Karan", "Nikhil"),
        ("Patel", "Shah", "Sharma", "Singh", "Gupta", "Reddy", "Iyer", "Nair", "Rao", "Mehta", "Desai",
         "Kapoor", "Malhotra", "Chopra", "Menon", "Krishnan", "Bhat", "Joshi", "Banerjee", "Agarwal")),
    "korean": (4, (
        "Ji-woo", "Seo-yeon", "Min-ji", "Hye-jin", "Soo-ah", "Yuna", "Eun-ji", "Da-eun", "Ha-eun",
        "Jiyoung", "Sora"),
        ("Min-jun", "Ji-hoon", "Daniel"),
        ("Kim", "Lee", "Park", "Choi", "Jung", "Kang", "Cho", "Yoon", "Jang", "Lim", "Han", "Shin", "Seo",
         "Kwon", "Hwang")),
    "japanese": (3, (
        "Yuki", "Haruka", "Aiko", "Sakura", "Emi", "Naomi", "Rina", "Akiko", "Hana", "Kaori", "Mika",
        "Ayumi"),
        ("Kenji", "Takashi", "Haruto"),
        ("Tanaka", "Suzuki", "Takahashi", "Watanabe", "Itō", "Yamamoto", "Nakamura", "Kobayashi", "Saitō",
         "Yoshida", "Matsumoto", "Inoue", "Kimura", "Sato", "Ōta")),
    "middle_eastern": (5, (
        "Leila", "Yasmin", "Nour", "Layla", "Shirin", "Parisa", "Farah", "Dina", "Rania", "Mariam",
        "Nazanin", "Sara", "Roya", "Hana", "Zeynep", "Elif"),
        ("Omar", "Karim", "Ali", "Reza", "Amir"),
        ("Haddad", "Khalil", "Nasser", "Hosseini", "Rahimi", "Tehrani", "Karimi", "Farahani", "Mansour",
         "Aziz", "Saleh", "Hakimi", "Khoury", "Darwish", "Azizi", "Yılmaz", "Öztürk", "Şahin")),
    "european": (7, (
        "Zoë", "Chloé", "Amélie", "Léa", "Céline", "Élodie", "Anaïs", "Léonie", "Ingrid", "Astrid",
        "Freja", "Sigrid", "Maja", "Francesca", "Giulia", "Chiara", "Alessia", "Katarzyna", "Małgorzata",
        "Agnieszka", "Zofia", "Eleni", "Dimitra", "Ioanna", "Siobhán", "Aoife", "Niamh", "Saoirse", "Greta",
        "Lena", "Annika", "Björk", "Noémie"),
        ("Søren", "Lars", "Mikkel", "Björn", "Luca", "Matteo", "Jürgen", "Stefan", "Łukasz", "Nikos",
         "François", "Théo"),
        ("Dubois", "Lefèvre", "Moreau", "Laurent", "Girard", "Bonnet", "Rousseau", "Fontaine", "Müller",
         "Schmidt", "Schneider", "Fischer", "Weber", "Becker", "Hoffmann", "Köhler", "Jørgensen",
         "Sørensen", "Lindqvist", "Johansson", "Andersson", "Nilsson", "Berg", "Rossi", "Russo",
         "Ferrari", "Esposito", "Bianchi", "Romano", "Ricci", "Conti", "Nowak", "Kowalska", "Wójcik",
         "Papadopoulos", "Georgiou", "Nikolaidis", "O'Sullivan", "Gallagher", "Ní Bhriain", "Åberg")),
    "african": (5, (
        "Aaliyah", "Imani", "Nia", "Zuri", "Amara", "Adaeze", "Chiamaka", "Folake", "Ayana", "Keisha",
        "Destiny", "Tiana", "Makayla", "Nkechi", "Abena", "Efua", "Thandiwe", "Wanjiru", "Aisha",
        "Kiara", "Jada"),
        ("Malik", "Jamal", "Darius", "Kwame", "Chidi", "Tunde"),
        ("Washington", "Jefferson", "Robinson", "Jackson", "Okonkwo", "Adeyemi", "Mensah", "Boateng",
         "Nwosu", "Eze", "Abiodun", "Owusu", "Asante", "Kamau", "Mwangi", "Diallo", "Ndiaye", "Coleman",
         "Bryant", "Freeman", "Banks", "Holmes", "Greene", "Okoro")),
    "slavic": (3, (
        "Anastasia", "Ekaterina", "Olga", "Natalia", "Svetlana", "Yulia", "Oksana", "Irina", "Daria",
        "Alina", "Tatiana"),
        ("Dmitri", "Alexei", "Sergei"),
        ("Ivanova", "Petrova", "Smirnova", "Kuznetsova", "Popova", "Volkova", "Sokolova", "Morozova",
         "Novikova", "Shevchenko", "Kovalenko", "Bondarenko", "Tkachenko", "Kravchenko")),
}

NICKNAMES = {
    "Elizabeth": "Liz", "Katherine": "Kate", "Margaret": "Maggie", "Samantha": "Sam", "Rebecca": "Becca",
    "Jennifer": "Jen", "Stephanie": "Steph", "Alejandra": "Ale", "Guadalupe": "Lupe", "Gabriela": "Gabby",
    "Christopher": "Chris", "Benjamin": "Ben", "Matthew": "Matt", "Anastasia": "Stacy",
    "Ekaterina": "Katya", "Aishwarya": "Ash", "Małgorzata": "Gosia", "Katarzyna": "Kasia",
    "Alessia": "Ali", "Francesca": "Frankie", "Victoria": "Tori", "Abigail": "Abby", "Natalia": "Nat",
}

ENGLISH_NAMES = ("Lily", "Amy", "Christina", "Helen", "Annie", "Vivian", "Joanne", "Cathy", "Kelly",
                 "Tina", "Jenny", "Sophie")

ASIAN_GROUPS = ("chinese", "vietnamese", "korean", "japanese")

# home location -> (weight, city, zip codes, area codes)
PLACES: dict[str, tuple[tuple[float, str, tuple[str, ...]], ...]] = {
    "sf": (
        (55, "San Francisco", ("94102", "94103", "94107", "94109", "94110", "94114", "94115", "94117",
                               "94118", "94121", "94122", "94123", "94127", "94131", "94133")),
        (8, "Daly City", ("94014", "94015")),
        (10, "Oakland", ("94607", "94610", "94611", "94618")),
        (5, "Berkeley", ("94704", "94705", "94707")),
        (5, "Mill Valley", ("94941",)),
        (3, "Sausalito", ("94965",)),
        (4, "San Mateo", ("94401", "94402", "94403")),
        (3, "Walnut Creek", ("94595", "94596", "94597")),
    ),
    "pa": (
        (24, "Palo Alto", ("94301", "94303", "94306")),
        (12, "Menlo Park", ("94025",)),
        (12, "Mountain View", ("94040", "94041", "94043")),
        (8, "Los Altos", ("94022", "94024")),
        (10, "Sunnyvale", ("94085", "94086", "94087")),
        (8, "Redwood City", ("94061", "94062", "94063")),
        (10, "San Jose", ("95112", "95125", "95129")),
        (3, "Atherton", ("94027",)),
        (3, "Woodside", ("94062",)),
        (6, "Cupertino", ("95014",)),
    ),
}

AREA_CODES = {
    "sf": (("415", 42), ("628", 12), ("510", 14), ("650", 10), ("925", 6), ("707", 3), ("341", 2)),
    "pa": (("650", 45), ("408", 25), ("669", 8), ("415", 8), ("510", 6), ("831", 2)),
    "away": (("310", 3), ("323", 2), ("213", 2), ("424", 1), ("818", 1), ("619", 1), ("858", 1),
             ("916", 2), ("212", 2), ("646", 1), ("917", 1), ("206", 1), ("312", 1), ("512", 1),
             ("702", 1), ("808", 1)),
}

STREETS = ("Fillmore St", "Divisadero St", "Valencia St", "Castro St", "Irving St", "Clement St",
           "Union St", "Chestnut St", "Hayes St", "Oak St", "Lake St", "California St", "Pine St",
           "University Ave", "Hamilton Ave", "Lytton Ave", "Middlefield Rd", "El Camino Real",
           "Santa Cruz Ave", "Alma St", "Embarcadero Rd", "Castro St", "Bryant St", "Cowper St",
           "Webster St", "Waverley St", "College Ave", "Piedmont Ave", "Grand Ave", "Shattuck Ave",
           "Miller Ave", "Throckmorton Ave", "Laurel St", "Stevens Creek Blvd", "Homestead Rd")

EMAIL_DOMAINS = (("example.com", 60), ("example.net", 25), ("example.org", 15))

ALLERGIES = ("Lidocaine", "Latex", "Penicillin", "Sulfa drugs", "Aspirin", "Bee stings (hyaluronidase)",
             "Adhesive tape", "Codeine", "Tetracaine", "Shellfish", "Ibuprofen")

MEDICAL_ALERTS = (
    "History of cold sores (HSV-1): antiviral before lip treatments",
    "Takes a blood thinner (apixaban): expect bruising",
    "Keloid scarring history",
    "Autoimmune condition (Hashimoto's)",
    "Isotretinoin within the last 6 months: no laser or microneedling",
    "Pacemaker: no radiofrequency devices",
    "Prone to vasovagal fainting: treat reclined",
    "Melasma: avoid aggressive IPL",
    "Breastfeeding: no neuromodulators or fillers",
    "Type 2 diabetes",
    "Migraines: on a CGRP inhibitor",
)

TAGS = (("botox regular", 14), ("filler client", 7), ("laser package", 6), ("membership", 8),
        ("bridal", 2), ("prefers mornings", 5), ("prefers evenings", 4), ("Spanish speaker", 3),
        ("sensitive skin", 5), ("GLP-1 program", 3), ("referrer", 4), ("reviews left", 4),
        ("package: 6x LHR", 3), ("influencer", 1), ("price sensitive", 3), ("needs numbing", 3))

LEAD_SOURCES = (("meta_lead_ad", 28), ("instagram_dm", 17), ("google_ads", 18), ("web_form", 12),
                ("phone", 9), ("walk_in", 4), ("referral", 9), ("manual", 3))

#: Share of a source's leads that end up booking (the rest stay open, are lost, or were spam).
BOOK_RATE = {"meta_lead_ad": 0.38, "instagram_dm": 0.45, "google_ads": 0.5, "web_form": 0.48,
             "phone": 0.62, "walk_in": 0.72, "referral": 0.68, "manual": 0.45}

SPAM_RATE = {"meta_lead_ad": 0.06, "instagram_dm": 0.05, "google_ads": 0.03, "web_form": 0.08}

# (platform, name, interest category, landing path, keywords)
CAMPAIGNS = (
    ("meta", "Botox Spring Refresh", "neuromodulators", "/offers/botox", ()),
    ("meta", "Lip Filler Season", "fillers", "/offers/lip-filler", ()),
    ("meta", "Laser Hair Removal Bundle", "lasers", "/offers/laser-hair-removal", ()),
    ("meta", "Morpheus8 Glow-Up", "lasers", "/offers/morpheus8", ()),
    ("meta", "New Client $50 Off", "skin", "/offers/new-client", ()),
    ("meta", "Instagram DM: Book a Consult", "neuromodulators", "", ()),
    ("google", "Search - Botox SF", "neuromodulators", "/botox-san-francisco",
     ("botox near me", "botox san francisco", "wrinkle injections", "botox cost")),
    ("google", "Search - Lip Filler", "fillers", "/lip-filler",
     ("lip filler near me", "lip injections", "juvederm lips")),
    ("google", "Search - Laser Hair Removal", "lasers", "/laser-hair-removal",
     ("laser hair removal palo alto", "laser hair removal cost")),
    ("google", "Search - CoolSculpting", "body", "/coolsculpting", ("coolsculpting near me",)),
    ("google", "PMax - Lumiere Brand", "skin", "/", ("lumiere aesthetics", "med spa near me")),
)

MESSAGES = {
    "neuromodulators": ("How much is Botox per unit?", "Do you have openings this week for Botox?",
                        "Interested in forehead lines and crow's feet.", "First time trying Botox, "
                        "what should I expect?", "Looking for a lip flip before my wedding."),
    "fillers": ("How much is lip filler?", "Interested in cheek filler.", "Can I get a consult for "
                "under-eye filler?", "Looking at jawline contouring options."),
    "lasers": ("Do you have laser hair removal packages?", "Interested in Morpheus8 for acne scars.",
               "How many IPL sessions for sun spots?", "Price for full leg laser hair removal?"),
    "body": ("Is CoolSculpting right for my stomach?", "Questions about Emsculpt NEO."),
    "skin": ("Do you take new clients for HydraFacials?", "Looking for a facial before an event.",
             "Interested in a chemical peel for melasma."),
    "wellness": ("Do you offer semaglutide?", "Interested in IV therapy.", "Questions about the "
                 "weight-loss program."),
}

MANUAL_NOTES = ("Met at the Union Square wellness fair", "Gift card recipient", "Bridal expo sign-up",
                "Corporate wellness day", "Called back from voicemail")

NOTES = ("Very happy with results; rebook in 12 weeks.", "Mild bruising expected; follow-up call in "
         "2 days.", "Interested in a package next visit.", "Prefers Dr. Moreau's schedule.",
         "Asked about the membership; sent details.", "Brought a friend (referral credit).",
         "Running late often: remind 2 h before.", "Photos taken; comparison at next visit.")

PATIENT_NOTES = ("Prefers text over calls.", "Hard of hearing: speak up on the phone.",
                 "Works nights: book afternoons.", "Needs parking validation.", "Friend of the owner.")

ID_ALPHABET = string.ascii_letters + string.digits + "-_"

_FOLD = str.maketrans({"ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "ß": "ss", "ł": "l", "Ł": "L", "đ": "d",
                       "Đ": "D", "ı": "i", "œ": "oe", "þ": "th", "ð": "d", "'": "", " ": ""})

def ascii_fold(text: str) -> str:
    """A lowercase ASCII form of a name for email addresses and handles (José -> jose)."""
    folded = unicodedata.normalize("NFKD", text.translate(_FOLD))
    return "".join(ch for ch in folded if ch.isascii() and (ch.isalnum() or ch == "-")).lower()

def us_holidays(first_year: int, last_year: int) -> set[date]:
    """Days the clinic is closed: New Year's Day, July 4th, Thanksgiving, Christmas."""
    out: set[date] = set()
    for year in range(first_year, last_year + 1):
        out.update({date(year, 1, 1), date(year, 7, 4), date(year, 12, 25)})
        nov1 = date(year, 11, 1)
        first_thursday = nov1 + timedelta(days=(3 - nov1.weekday()) % 7)
        out.add(first_thursday + timedelta(days=21))
    return out
