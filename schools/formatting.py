"""How numbers are written for people, in one place for every app."""

from __future__ import annotations

from decimal import Decimal


def plain_number(value: Decimal | int | None) -> str:
    """88.50 as 88.5 and 17.00 as 17: how a SENCO writes them; None as nothing."""
    if value is None:
        return ""
    text = f"{Decimal(value):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
