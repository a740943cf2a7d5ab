"""School census codes: SEN provision, SEN type of need and its area, ethnicity, gender.

Codes are the census's own; labels are ours. Imports accept a code or its label, in any case.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from schools.terms import Term  # noqa: F401  (re-exported: outcomes are recorded per term)


class SenStatus(models.TextChoices):
    EHC_PLAN = "E", "EHC plan"
    SEN_SUPPORT = "K", "SEN support"
    NONE = "N", "No SEN"


class AreaOfNeed(models.TextChoices):
    COMMUNICATION = "communication", "Communication and interaction"
    COGNITION = "cognition", "Cognition and learning"
    SEMH = "semh", "Social, emotional and mental health"
    SENSORY_PHYSICAL = "sensory_physical", "Sensory and/or physical"
    OTHER = "other", "Other or not yet assessed"


class Need(models.TextChoices):
    SPLD = "SPLD", "Specific learning difficulty"
    MLD = "MLD", "Moderate learning difficulty"
    SLD = "SLD", "Severe learning difficulty"
    PMLD = "PMLD", "Profound and multiple learning difficulty"
    SEMH = "SEMH", "Social, emotional and mental health"
    SLCN = "SLCN", "Speech, language and communication needs"
    HI = "HI", "Hearing impairment"
    VI = "VI", "Vision impairment"
    MSI = "MSI", "Multi-sensory impairment"
    PD = "PD", "Physical disability"
    ASD = "ASD", "Autistic spectrum disorder"
    OTH = "OTH", "Other difficulty or disability"
    NSA = "NSA", "SEN support but no specialist assessment of type of need"


AREA_OF_NEED: dict[str, str] = {
    Need.SLCN: AreaOfNeed.COMMUNICATION,
    Need.ASD: AreaOfNeed.COMMUNICATION,
    Need.SPLD: AreaOfNeed.COGNITION,
    Need.MLD: AreaOfNeed.COGNITION,
    Need.SLD: AreaOfNeed.COGNITION,
    Need.PMLD: AreaOfNeed.COGNITION,
    Need.SEMH: AreaOfNeed.SEMH,
    Need.HI: AreaOfNeed.SENSORY_PHYSICAL,
    Need.VI: AreaOfNeed.SENSORY_PHYSICAL,
    Need.MSI: AreaOfNeed.SENSORY_PHYSICAL,
    Need.PD: AreaOfNeed.SENSORY_PHYSICAL,
    Need.OTH: AreaOfNeed.OTHER,
    Need.NSA: AreaOfNeed.OTHER,
}


def needs_in_area(area: str) -> list[str]:
    return [need for need, a in AREA_OF_NEED.items() if a == area]


def in_area(area: str, prefix: str = "") -> Q:
    """Pupils whose primary need is in `area` (through `prefix` to the pupil). No need
    recorded counts as "other or not yet assessed", wherever pupils are counted by area."""
    q = Q(**{f"{prefix}primary_need__in": needs_in_area(area)})
    if area == AreaOfNeed.OTHER:
        q |= Q(**{f"{prefix}primary_need": ""})
    return q


class Gender(models.TextChoices):
    FEMALE = "F", "Female"
    MALE = "M", "Male"


class Ethnicity(models.TextChoices):
    WBRI = "WBRI", "White – British"
    WIRI = "WIRI", "White – Irish"
    WIRT = "WIRT", "Traveller of Irish heritage"
    WROM = "WROM", "Gypsy / Roma"
    WOTH = "WOTH", "Any other White background"
    MWBC = "MWBC", "White and Black Caribbean"
    MWBA = "MWBA", "White and Black African"
    MWAS = "MWAS", "White and Asian"
    MOTH = "MOTH", "Any other mixed background"
    AIND = "AIND", "Indian"
    APKN = "APKN", "Pakistani"
    ABAN = "ABAN", "Bangladeshi"
    AOTH = "AOTH", "Any other Asian background"
    BCRB = "BCRB", "Black Caribbean"
    BAFR = "BAFR", "Black – African"
    BOTH = "BOTH", "Any other Black background"
    CHNE = "CHNE", "Chinese"
    OOTH = "OOTH", "Any other ethnic group"
    REFU = "REFU", "Refused"
    NOBT = "NOBT", "Information not yet obtained"


class Measure(models.TextChoices):
    """Assessment scores recorded with termly outcomes."""

    SDQ_TOTAL = "sdq_total", "SDQ total difficulties (0–40)"
    BOXALL_DEV = "boxall_developmental", "Boxall Profile developmental strands"
    BOXALL_DIAG = "boxall_diagnostic", "Boxall Profile diagnostic profile"
    READING_AGE = "reading_age_months", "Reading age (months)"
    OTHER = "other", "Other measure"


def lookup(choices: type[models.TextChoices], value: str) -> str | None:
    """The code for `value`, given as a code or a label, ignoring case, spaces and dashes."""

    def norm(text: str) -> str:
        return "".join(ch for ch in text.lower() if ch.isalnum())

    wanted = norm(value)
    if not wanted:
        return None
    for code, label in choices.choices:
        if wanted in (norm(code), norm(label)):
            return code
    return None


# The key stage each NC year falls in (nursery and reception are the early years).
KEY_STAGES = ("EYFS", "KS1", "KS2", "KS3", "KS4", "KS5")


def key_stage_of(nc_year: int) -> str:
    if nc_year <= 0:
        return "EYFS"
    if nc_year <= 2:
        return "KS1"
    if nc_year <= 6:
        return "KS2"
    if nc_year <= 9:
        return "KS3"
    if nc_year <= 11:
        return "KS4"
    return "KS5"


def key_stages_in(text: str) -> set[str]:
    """The key stages named in a comma-separated list such as "KS1, KS2" (unknown ones dropped)."""
    named = {part.strip().upper() for part in (text or "").split(",")}
    return {stage for stage in KEY_STAGES if stage.upper() in named}
