"""Refusing passwords shaped like the ones in leaked-password lists (SECURITY.md 18).

Django's CommonPasswordValidator refuses the 20,000 most common passwords exactly, but the
lists attackers guess from are mostly variations on a theme: a word or name that means
something to the owner, a year or a few digits, and a symbol to satisfy a rule —
"Summer2026!", "Liverpool2024!", "P@ssw0rd123", the name of the council or school, the
username. Those pass an exact-match list and a length rule, and fall to the first hours of
any guessing run. This validator strips the decoration (digits, symbols, common letter
swaps) and refuses the password when what is left is made of one or two guessable words.

A passphrase of several unrelated words passes: it is the advice we give in the message.
"""

from __future__ import annotations

import re
from collections.abc import Container, Set
from functools import lru_cache
from itertools import pairwise

from django.contrib.auth.password_validation import CommonPasswordValidator
from django.core.exceptions import ValidationError

# Words people build passwords from, beyond those in Django's list (which already holds many
# first names, teams and everyday words). Seasons, months and days; English football clubs
# and places; the words of school life and of local government; a few popular UK names.
EVERYDAY_WORDS = """
spring summer autumn winter fall christmas easter halloween holiday holidays
january february march april june july august september sept october november december
monday tuesday wednesday thursday friday saturday sunday weekend
arsenal chelsea liverpool everton tottenham spurs manchester united city leeds newcastle
sunderland villa aston westham hammers wolves wolverhampton leicester southampton brighton
fulham brentford palace crystal burnley forest nottingham bournemouth cherries ipswich
celtic rangers cardiff swansea wrexham norwich middlesbrough boro stoke sheffield wednesday
blackburn bolton derby coventry reading portsmouth pompey millwall charlton watford
london england english britain british wales welsh scotland ireland europe
school schools teacher teachers student students pupil pupils senco sendco class classroom
academy primary secondary nursery college education learning inclusion support provision
headteacher head office admin administrator staff trust council county borough district
partnership authority local government team family friends
password passwords passwd letmein welcome changeme default secret access login logon
qwerty qwertyuiop asdfgh asdfghjkl zxcvbn iloveyou trustno
oliver george harry jack jacob charlie thomas oscar william james noah leo arthur alfie
freddie archie theo muhammad mohammed mohammad amelia olivia isla emily poppy ava isabella
jessica lily sophie grace sophia mia evie ella florence freya willow
"""

# The service's own name: among the first guesses against any site.
SITE_WORDS = ("provision", "map", "provisionmap", "provisionmapping")

# Letters written as digits or symbols inside a word ("P@ssw0rd", "Summ3r"), or digits
# standing for words ("Chelsea4ever"). Each reading is tried, and none: 1 as i or as l.
_LEET = {"@": "a", "4": "a", "3": "e", "0": "o", "1": "i", "5": "s", "$": "s", "7": "t", "!": "i"}
SWAPS = ({}, _LEET, {**_LEET, "1": "l"}, {"4": "for", "2": "to"})

# Letters left over past this length make a long passphrase, not a leaked-list shape; the
# caps keep the check cheap whatever is pasted in. No listed word is longer than LONGEST_WORD.
LONGEST_CORE = 64
LONGEST_WORD = 40
LONGEST_PASSWORD = 4 * LONGEST_CORE
SHORTEST_STOCK_WORD = 4
SHORTEST_OWN_WORD = 3  # names and parts of the username: "sam", "kim", "lee"

COMMON_SHAPE = (
    "This password is a common word or name with numbers or symbols added, a pattern found "
    "throughout lists of leaked passwords."
)
ORGANISATION_SHAPE = (
    "This password is built from the name of this service, a council, a school or a partnership, "
    "which attackers try early."
)
PERSONAL_SHAPE = "This password is built from your username or your name."
NUMBER_SHAPE = "This password is only numbers and symbols in a simple pattern, such as a date or a sequence."
ADVICE = " Try three or four unrelated words instead, such as “kettle orbit velvet lantern”."


@lru_cache(maxsize=1)
def stock_words() -> frozenset[str]:
    """Words (letters only) from Django's common-password list and the lists above."""
    listed = CommonPasswordValidator().passwords  # Django's own list, already lower-cased
    words = {w for w in listed if w.isalpha() and w.isascii()}
    words |= set(EVERYDAY_WORDS.split())
    return frozenset(w for w in words if len(w) >= SHORTEST_STOCK_WORD)


def _words_of(text: str, shortest: int) -> set[str]:
    """The words in a name ("Ashgrove Primary School"), and the name run together."""
    parts = [p for p in re.split(r"[^a-z]+", text.lower()) if p]
    found = {p for p in parts if len(p) >= shortest}
    if len(parts) > 1:
        found.add("".join(parts))
    return found


def organisation_words(user=None) -> set[str]:
    """The service's name, every council's, and the schools, partnerships and provisions the
    user belongs to. Councils are few and public, so all are included even without a user
    (the reset form's first screen, the command line)."""
    from schools.models import LocalAuthority, Membership

    words = set(SITE_WORDS)
    for name in LocalAuthority.objects.values_list("name", flat=True):
        words |= _words_of(name, SHORTEST_STOCK_WORD)
    if user is not None and getattr(user, "pk", None):
        names = Membership.objects.filter(user_id=user.pk).values_list(
            "school__name", "provision__name", "partnership__name", "local_authority__name"
        )
        for row in names:
            for name in row:
                if name:
                    words |= _words_of(name, SHORTEST_STOCK_WORD)
    return words


def personal_words(user=None) -> set[str]:
    if user is None:
        return set()
    words: set[str] = set()
    for attribute in ("username", "first_name", "last_name"):
        words |= _words_of(getattr(user, attribute, "") or "", SHORTEST_OWN_WORD)
    email = getattr(user, "email", "") or ""
    words |= _words_of(email.partition("@")[0], SHORTEST_OWN_WORD)
    return words


def letter_cores(password: str) -> set[str]:
    """What may be left of the password once the decoration goes: letter swaps inside words
    undone, digits, symbols and spaces dropped, a stray letter at an end trimmed. Read
    forwards and backwards."""
    cores = set()
    for swaps in SWAPS:
        chars = list(password.lower())
        for i, ch in enumerate(chars):
            if ch in swaps:
                before = chars[i - 1] if i > 0 else ""
                after = chars[i + 1] if i + 1 < len(chars) else ""
                # Only a swap between letters, or starting a word: "2026!" stays a year and a "!".
                if after.isalpha() and (before.isalpha() or not before):
                    chars[i] = swaps[ch]
        core = "".join(ch for ch in chars if "a" <= ch <= "z")
        # A stray letter at either end ("xLiverpool2024", "Summer2026!z") is decoration too.
        for kept in (core, core[1:], core[:-1]):
            cores |= {kept, kept[::-1]}
    return {c for c in cores if len(c) >= SHORTEST_OWN_WORD}


class _Either:
    """Membership in any of several word sets, without copying the big one each time."""

    def __init__(self, *sets: Set[str]) -> None:
        self.sets = sets

    def __contains__(self, word: object) -> bool:
        return any(word in s for s in self.sets)


def fewest_words(core: str, vocabulary: Container[str]) -> list[str] | None:
    """The shortest way to write `core` as words of `vocabulary` run together, or None."""
    if len(core) > LONGEST_CORE:
        return None
    best: list[list[str] | None] = [None] * (len(core) + 1)
    best[0] = []
    for end in range(1, len(core) + 1):
        for start in range(max(0, end - LONGEST_WORD), end - SHORTEST_OWN_WORD + 1):
            head = best[start]
            if head is None or core[start:end] not in vocabulary:
                continue
            if best[end] is None or len(head) + 1 < len(best[end]):
                best[end] = [*head, core[start:end]]
    return best[-1]


def _simple_numbers(password: str) -> bool:
    """No letters, and the digits are a date-length number, a repeat or a run (123…, 987…)."""
    digits = [int(ch) for ch in password if ch.isdigit()]
    if len(digits) <= 8 or len(set(digits)) <= 2:
        return True
    steps = {(b - a) % 10 for a, b in pairwise(digits)}
    return steps <= {1} or steps <= {9}


class BreachedPatternValidator:
    """Refuses a password made of one or two guessable words plus digits and symbols."""

    # More than this many different words is a passphrase, whatever the words are.
    most_words = 2

    def validate(self, password: str, user=None) -> None:
        if not any(ch.isalpha() for ch in password):
            if _simple_numbers(password):
                raise ValidationError(NUMBER_SHAPE + ADVICE, code="password_simple_numbers")
            return
        if len(password) > LONGEST_PASSWORD:
            return  # far longer than any leaked-list shape, and not worth the work
        own = personal_words(user)
        organisations = organisation_words(user)
        vocabulary = _Either(stock_words(), own, organisations)
        for core in letter_cores(password):
            words = fewest_words(core, vocabulary)
            if words is None or len(set(words)) > self.most_words:
                continue
            if own & set(words):
                message, code = PERSONAL_SHAPE, "password_personal"
            elif organisations & set(words):
                message, code = ORGANISATION_SHAPE, "password_organisation"
            else:
                message, code = COMMON_SHAPE, "password_breached_pattern"
            raise ValidationError(message + ADVICE, code=code)

    def get_help_text(self) -> str:
        return (
            "Your password can’t be a common word, name, team, place, season or month with numbers "
            "or symbols added (such as “Summer2026!”), or be built from your name, your school or "
            "council, or the name of this service."
        )
