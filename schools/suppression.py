"""Small-number suppression: the one place figures are made safe to show outside a school.

Partnership leads and LA officers see counts about pupils, never the pupils. A count small
enough to point at a child (1 to 4) is shown as "<5"; 0 is shown as 0 (nobody to point at).
Public education statistics follow the same convention.

A table needs more than that: a hidden cell could be worked out from its row or column total
and the cells that are shown. The rule here (documented for users on the pages that show it):

1. Primary suppression: every cell and every total from 1 to 4 is shown as "<5".
2. Secondary suppression: look at each line of the table — each row with its row total, each
   column with its column total, the totals row and the totals column. While a line has
   exactly one hidden cell, or its hidden small cells could still be pinned down by
   arithmetic (see `_ranges`), hide one more cell of that line: the smallest
   non-zero cell still shown, preferring cells whose crossing line already has a hidden cell
   (fewer cells lost), and the line's total only when no cell is left. Cells hidden this way
   are shown as "x": they are 5 or more (a 0 is never hidden), so "<5" would be untrue.
3. Repeat until no line changes. Then search for figures that fit everything shown but give
   a small cell another value (`_pinned`): several lines together can pin what no line
   does. Each small cell with no other value takes one more cell with it, and rule 2 runs
   again, until every small cell has another value (`_protect`).
4. If hiding everything still leaves a small cell pinned (say, four 1s whose total is
   "<5"), the table is withheld: every cell is shown as "–" and `withheld` is set.

Tables one reader sees together (the LA table by partnership and each partnership's table
by school) are suppressed together by `suppress_linked`: the same rule over the lines of all
of them at once, so no table undoes another's suppression.

tests/test_suppression.py checks the result by brute force on small tables: for every cell
shown as "<5", at least two values are consistent with everything shown (for linked tables,
with everything shown on all of them).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

SMALL = "<5"  # a count from 1 to 4
HIDDEN = "x"  # 5 or more, hidden so that a small count cannot be worked out
WITHHELD = "–"  # the whole table is too small to show safely
SMALLEST_SHOWN = 5
TOTAL = "Total"


def suppress_count(n: int) -> str | int:
    """A single count shown outside a school: 1–4 become "<5"; 0 and 5+ are shown."""
    if n < 0:
        raise ValueError("A count cannot be negative.")
    return SMALL if 0 < n < SMALLEST_SHOWN else n


def is_small(n: int) -> bool:
    return 0 < n < SMALLEST_SHOWN


@dataclass
class SuppressedTable:
    """A table ready to show: `rows` hold the label and one string per column (plus "Total"
    when row totals are on); `totals` is the totals row, or None."""

    label_key: str
    columns: list[str]
    rows: list[dict[str, str]]
    totals: dict[str, str] | None
    suppressed: int  # how many cells (including totals) are not shown exactly
    withheld: bool = False  # too few to show safely: every cell is "–"

    @property
    def headings(self) -> list[str]:
        return [*self.columns, TOTAL] if self.rows and TOTAL in self.rows[0] else list(self.columns)


Cell = tuple[int, int]  # (row, column); the totals row and column have index n and m


def suppress_table(
    rows: Sequence[dict],
    columns: Sequence[str],
    *,
    label_key: str = "label",
    row_totals: bool = True,
    column_totals: bool = True,
    hide: Collection[tuple[int | str, str]] = (),
) -> SuppressedTable:
    """Suppress a table of counts. Each row is a dict with `label_key` and one int per column.

    Totals are always computed here from the true counts (never passed in), so the table and
    its totals cannot disagree. Turning a kind of total off removes its lines from the rule.

    `hide` names cells that must not be shown exactly whatever this table alone needs, as
    (row index or TOTAL, column name or TOTAL): cells another table shows the same figure of
    and hides (an LA table's partnership row is that partnership's totals row). Each starts
    hidden, and secondary suppression protects the small cells around it as usual.
    """
    n, m = len(rows), len(columns)
    values: dict[Cell, int] = {}
    for i, row in enumerate(rows):
        for j, column in enumerate(columns):
            value = int(row.get(column) or 0)
            if value < 0:
                raise ValueError("A count cannot be negative.")
            values[(i, j)] = value
    if row_totals:
        for i in range(n):
            values[(i, m)] = sum(values[(i, j)] for j in range(m))
    if column_totals:
        for j in range(m):
            values[(n, j)] = sum(values[(i, j)] for i in range(n))
    if row_totals and column_totals:
        values[(n, m)] = sum(values[(i, m)] for i in range(n))

    lines = _lines(n, m, row_totals=row_totals, column_totals=column_totals)
    small = {cell for cell, value in values.items() if is_small(value)}
    forced = {_cell_of(where, n, m, list(columns)) for where in hide} - small
    # A 0 is never hidden (an "x" tells the reader 5 or more), and a cell missing from the
    # table (a total turned off) has nothing to hide.
    forced = {c for c in forced if c in values and values[c] > 0}
    hidden, pinned = _protect(values, lines, small, forced)
    withheld = bool(pinned)

    def shown(cell: Cell) -> str:
        if withheld:
            return WITHHELD
        if cell in small:
            return SMALL
        if cell in hidden:
            return HIDDEN
        return str(values[cell])

    out_rows = []
    for i, row in enumerate(rows):
        out = {label_key: str(row.get(label_key, ""))}
        out.update({column: shown((i, j)) for j, column in enumerate(columns)})
        if row_totals:
            out[TOTAL] = shown((i, m))
        out_rows.append(out)
    totals = None
    if column_totals:
        totals = {label_key: TOTAL}
        totals.update({column: shown((n, j)) for j, column in enumerate(columns)})
        if row_totals:
            totals[TOTAL] = shown((n, m))
    suppressed = len(values) if withheld else len(small | hidden)
    return SuppressedTable(label_key, list(columns), out_rows, totals, suppressed, withheld)


def _cell_of(where: tuple[int | str, str], n: int, m: int, columns: list[str]) -> Cell:
    row, column = where
    i = n if row == TOTAL else int(row)
    j = m if column == TOTAL else columns.index(column)
    return (i, j)


LinkedCell = tuple[int, int, int]  # (table, row, column): table -1 is the top table
_TOP = -1


def suppress_linked(
    top: Sequence[dict],
    below: Mapping[int, Sequence[dict]],
    columns: Sequence[str],
    *,
    label_key: str = "label",
) -> tuple[SuppressedTable, dict[int, SuppressedTable]]:
    """Suppress a top table and the tables below it as one reader sees them all together.

    `below[i]` holds the rows that add up to row `i` of `top` (an LA table's partnership row
    and that partnership's schools): the counts of a linked top row are the totals of its
    rows below, worked out here (any counts given for it in `top` are not used). Rows of
    `top` with nothing below (schools in no partnership) are counts of their own.

    One decision covers every line of every table: each row below with its total, each
    table's columns and totals, and the top table's columns and grand total. Rule 2 runs
    over them all, so a cell that one table hides cannot be worked out from another's
    figures, and a figure two tables share is one cell, hidden in both or shown in both.

    Each table below starts from what it hides alone (`suppress_table`, which is what a
    reader of that table alone sees), so this view never shows more of it than that one.
    A table below that cannot be made safe is withheld (its readers alone get it withheld
    too, or it is withheld here when the joint view pins one of its small cells); when the
    top table's own figures still pin a small cell, everything is withheld.
    """
    m = len(columns)

    def counts(row: dict) -> list[int]:
        out = [int(row.get(column) or 0) for column in columns]
        if any(v < 0 for v in out):
            raise ValueError("A count cannot be negative.")
        return out

    grids = {t: [counts(row) for row in rows] for t, rows in below.items()}
    if any(not 0 <= t < len(top) for t in grids):
        raise ValueError("Each table below must add up to a row of the top table.")
    loose = {i: counts(row) for i, row in enumerate(top) if i not in grids}
    alone = {t: suppress_table(rows, columns, label_key=label_key) for t, rows in below.items()}
    withheld = {t for t, table in alone.items() if table.withheld}
    # Cells the reader of a table alone sees hidden start hidden here.
    start: set[LinkedCell] = set()
    for t, table in alone.items():
        shown = [*table.rows, *([table.totals] if table.totals is not None else [])]
        for i, row in enumerate(shown):
            start |= {(t, i, j) for j, c in enumerate([*columns, TOTAL]) if row.get(c) == HIDDEN}

    everything = False
    while True:
        values, lines, equations, at = _linked_system(len(top), m, grids, loose, withheld)
        small = {c for c, v in values.items() if is_small(v)}
        forced = {c for c in start if values.get(c, 0) > 0} - small
        hidden, pinned = _protect(values, lines, small, forced, equations)
        if not pinned:
            break
        more = {c[0] for c in pinned if c[0] != _TOP} - withheld
        if not more:
            everything = True
            break
        withheld |= more

    def shown(cell: LinkedCell) -> str:
        if everything:
            return WITHHELD
        if cell in small:
            return SMALL
        if cell in hidden:
            return HIDDEN
        return str(values[cell])

    def render(n: int, where, labels: list[str], gone: bool) -> SuppressedTable:
        cells = [where(i, j) for i in range(n + 1) for j in range(m + 1)]
        out_rows = []
        for i in range(n + 1):
            out = {label_key: labels[i] if i < n else TOTAL}
            for j, column in enumerate([*columns, TOTAL]):
                out[column] = WITHHELD if gone else shown(where(i, j))
            out_rows.append(out)
        suppressed = len(cells) if gone else sum(c in small or c in hidden for c in cells)
        return SuppressedTable(label_key, list(columns), out_rows[:-1], out_rows[-1], suppressed, gone)

    top_table = render(len(top), at, [str(row.get(label_key, "")) for row in top], everything)
    tables = {
        t: render(
            len(rows),
            lambda i, j, t=t: (t, i, j),
            [str(row.get(label_key, "")) for row in rows],
            everything or t in withheld,
        )
        for t, rows in below.items()
    }
    return top_table, tables


def _protect(
    values: dict,
    lines: list[Line],
    small: set,
    hidden: set,
    equations: list[list[tuple]] | None = None,
) -> tuple[set, set]:
    """Rule 2 until no small cell is pinned: the cells to hide besides the small ones, and
    the small cells still pinned when nothing is left to hide (the caller withholds).

    `suppress_cells` works from bounds on each line and the sums it derives from them;
    that misses what several lines pin between them (a column less two rows, say, leaving
    one "<5" three more than another, so 1 and 4). The search for other values (`_pinned`)
    settles what bounds leave open, and each cell it still finds pinned takes one more
    cell with it, until none is pinned or nothing is left to hide."""
    crossing: dict = {}
    for line in lines:
        for cell in line.cells:
            crossing.setdefault(cell, []).append(line)
    hidden = set(hidden)
    while True:
        hidden = suppress_cells(values, lines, small, hidden=hidden, equations=equations)
        pinned = _pinned(values, lines, small, hidden, equations)
        pick = _repair(sorted(pinned), values, small | hidden, crossing, lines) if pinned else None
        if pick is None:
            return hidden, pinned
        hidden.add(pick)


SEARCH_LIMIT = 5000  # steps of the search for other values of one small cell


def _pinned(
    values: dict,
    lines: list[Line],
    small: set,
    hidden: set,
    equations: list[list[tuple]] | None,
) -> set:
    """The small cells that what is shown fixes to one value. Bounds reasoning first
    (`_ranges`); when it pins none, a search for figures that fit everything shown but give
    each small cell another value from 1 to 4. A cell the search cannot clear within
    `SEARCH_LIMIT` steps counts as pinned (hiding more is the safe side)."""
    ranges = _ranges(values, lines, small, hidden, equations)
    pinned = {c for c in small if ranges[c][0] == ranges[c][1]}
    if pinned or not small:
        return pinned
    unknown = sorted(small | hidden)
    at = {c: k for k, c in enumerate(unknown)}
    cap = max(values.values()) + 10  # as far as any "x" needs to go to be moved
    sums: list[tuple[list[tuple[int, int]], int]] = []  # signed unknowns adding up to a constant
    for line in lines:
        signed = [(c, 1) for c in line.parts] + [(line.total, -1)]
        terms = [(at[c], sign) for c, sign in signed if c in at]
        if terms:
            sums.append((terms, -sum(values[c] * sign for c, sign in signed if c not in at)))
    domains = [(ranges[c][0], min(ranges[c][1], max(cap, ranges[c][0]))) for c in unknown]
    hint = [values[c] for c in unknown]
    cleared: set = set()
    for cell in sorted(small):
        if cell in cleared:
            continue
        k = at[cell]
        for other in range(1, SMALLEST_SHOWN):
            if other == values[cell]:
                continue
            found = _search([*domains[:k], (other, other), *domains[k + 1 :]], sums, hint, k)
            if found is not None:
                cleared |= {c for c in small if found[at[c]] != values[c]}
                break
        else:
            pinned.add(cell)
    return pinned


def _search(
    domains: list[tuple[int, int]],
    sums: list[tuple[list[tuple[int, int]], int]],
    hint: list[int],
    start: int,
) -> list[int] | None:
    """Whole numbers within `domains` meeting every sum, if found within `SEARCH_LIMIT`
    steps: narrow by bounds, then try each open unknown at its true value first, nearest
    `start` first (the figures that must move to let it move are around it)."""
    touching: dict[int, list[int]] = {}
    for n, (terms, _) in enumerate(sums):
        for k, _ in terms:
            touching.setdefault(k, []).append(n)
    order, seen = [start], {start}
    for k in order:  # breadth first through the sums
        for n in touching.get(k, ()):
            for j, _ in sums[n][0]:
                if j not in seen:
                    seen.add(j)
                    order.append(j)
    order += [k for k in range(len(domains)) if k not in seen]

    def narrow(dom: list[tuple[int, int]], queue: set[int]) -> bool:
        """Bounds propagation from the sums in `queue`, and on through those it changes."""
        while queue:
            terms, rhs = sums[queue.pop()]
            low = high = 0
            for k, s in terms:  # one pass: this loop is most of a large table's time
                a, b = dom[k]
                if s > 0:
                    low += a
                    high += b
                else:
                    low -= b
                    high -= a
            if low > rhs or high < rhs:
                return False
            for k, s in terms:
                a, b = dom[k]
                if a == b:
                    continue
                t_lo, t_hi = (a, b) if s > 0 else (-b, -a)
                n_lo, n_hi = max(t_lo, rhs - (high - t_hi)), min(t_hi, rhs - (low - t_lo))
                if n_lo > n_hi:
                    return False
                if (n_lo, n_hi) != (t_lo, t_hi):
                    dom[k] = (n_lo, n_hi) if s > 0 else (-n_hi, -n_lo)
                    low, high = low + n_lo - t_lo, high + n_hi - t_hi
                    queue.update(touching[k])
        return True

    # Each step: the domains, the sums to narrow from, and how far along `order` every
    # unknown is settled (domains only shrink further down).
    stack = [(list(domains), set(range(len(sums))), 0)]
    for _ in range(SEARCH_LIMIT):
        if not stack:
            return None
        dom, queue, p = stack.pop()
        if not narrow(dom, queue):
            continue
        while p < len(order) and dom[order[p]][0] == dom[order[p]][1]:
            p += 1
        if p == len(order):
            return [a for a, _ in dom]
        k = order[p]
        a, b = dom[k]
        h = min(max(hint[k], a), b)
        for part in ((h + 1, b), (a, h - 1), (h, h)):  # the true value is tried first
            if part[0] <= part[1]:
                stack.append(([*dom[:k], part, *dom[k + 1 :]], set(touching.get(k, ())), p))
    return None


def _linked_system(
    n_top: int,
    m: int,
    grids: Mapping[int, list[list[int]]],
    loose: Mapping[int, list[int]],
    withheld: set[int],
):
    """The cells, lines and derived sums of a top table and the tables below it, as one.

    A table below is keyed by the top row it adds up to; its cells are (that row, row,
    column), its totals row sharing the top row's cells. A withheld table below has none:
    its top row is then counts of its own, like a row with nothing below. `at(i, j)` names
    cell (i, j) of the top table (n_top and m being its totals row and column)."""
    values: dict[LinkedCell, int] = {}
    lines: list[Line] = []
    known: set[Line] = set()
    equations: list[list[tuple[LinkedCell, int]]] = []
    linked = {t: len(grid) for t, grid in grids.items() if t not in withheld}

    def at(i: int, j: int) -> LinkedCell:
        return (i, linked[i], j) if i in linked else (_TOP, i, j)

    def add(n: int, name, grid: list[list[int]] | None) -> None:
        """One table's cells (from `grid`, unless its rows are cells already), lines and
        complements, its cells named by `name`."""
        if grid is not None:
            for i, row in enumerate(grid):
                for j, v in enumerate(row):
                    values[name(i, j)] = v
        for i in range(n):
            values[name(i, m)] = sum(values[name(i, j)] for j in range(m))
        for j in range(m + 1):
            values[name(n, j)] = sum(values[name(i, j)] for i in range(n))
        local = _lines(n, m, row_totals=True, column_totals=True)
        for line in local:
            mapped = Line(tuple(name(*c) for c in line.parts), name(*line.total))
            if mapped not in known:  # a linked top row's line is its table's totals row
                known.add(mapped)
                lines.append(mapped)
        equations.extend([(name(*c), s) for c, s in terms] for terms in _complements({}, local))

    for t, n in linked.items():
        add(n, lambda i, j, t=t: (t, i, j), grids[t])
    # Rows of the top table that are counts of their own (their totals come with `add`).
    own = {i: grids[i] for i in grids if i not in linked}
    for i in range(n_top):
        if i not in linked:
            row = loose[i] if i in loose else [sum(r[j] for r in own[i]) for j in range(m)]
            for j, v in enumerate(row):
                values[(_TOP, i, j)] = v
    add(n_top, at, None)
    # Sums across levels: each of the top table's totals is also the sum of the cells
    # below every row in it.
    deepest = {i: [(i, r) for r in range(linked[i])] if i in linked else [(_TOP, i)] for i in range(n_top)}
    for j in range(m):
        parts = [(*p, j) for i in range(n_top) for p in deepest[i]]
        equations.append([*((c, 1) for c in parts), (at(n_top, j), -1)])
    body = [(*p, j) for i in range(n_top) for p in deepest[i] for j in range(m)]
    equations.append([*((c, 1) for c in body), (at(n_top, m), -1)])
    return values, lines, equations, at


@dataclass(frozen=True)
class Line:
    """Cells that add up to a total: `parts` sum to `total`."""

    parts: tuple[Cell, ...]
    total: Cell

    @property
    def cells(self) -> tuple[Cell, ...]:
        return (*self.parts, self.total)


def _lines(n: int, m: int, *, row_totals: bool, column_totals: bool) -> list[Line]:
    lines = []
    if row_totals:
        lines += [Line(tuple((i, j) for j in range(m)), (i, m)) for i in range(n)]
    if column_totals:
        lines += [Line(tuple((i, j) for i in range(n)), (n, j)) for j in range(m)]
    if row_totals and column_totals:
        lines.append(Line(tuple((n, j) for j in range(m)), (n, m)))
        lines.append(Line(tuple((i, m) for i in range(n)), (n, m)))
    return lines


def suppress_cells(
    values: dict[Cell, int],
    lines: list[Line],
    small: set[Cell],
    *,
    hidden: set[Cell] | None = None,
    equations: list[list[tuple[Cell, int]]] | None = None,
) -> set[Cell]:
    """Secondary suppression (rule 2 above): the cells to hide besides the small ones.

    Each round hides one more cell: first on any line with a single hidden cell; then, when
    working out what a reader could narrow each cell down to (`_ranges`) still pins a small
    cell to one value, on a line through that cell. Rounds run until neither applies.
    `hidden` holds cells hidden from the start (see `suppress_table`'s `hide`).
    `equations` replaces the sums derived from one table's lines (see `_ranges`) when the
    lines are not one table's (see `suppress_linked`).
    """
    hidden = set(hidden or ())
    crossing: dict[Cell, list[Line]] = {}
    for line in lines:
        for cell in line.cells:
            crossing.setdefault(cell, []).append(line)
    while True:
        gone = small | hidden
        # A line with a single hidden cell gives it away outright: the classic rule first.
        choice = next(
            (
                pick
                for line in lines
                if sum(c in gone for c in line.cells) == 1
                and (pick := _next_to_hide(line, values, gone, crossing)) is not None
            ),
            None,
        )
        if choice is None:
            ranges = _ranges(values, lines, small, hidden, equations)
            exposed = [c for c in sorted(small) if ranges[c][0] == ranges[c][1]]
            if not exposed:
                return hidden
            choice = _repair(exposed, values, gone, crossing, lines)
        if choice is None:
            return hidden  # nothing left to hide
        hidden.add(choice)


def _repair(
    exposed: list[Cell],
    values: dict[Cell, int],
    gone: set[Cell],
    crossing: dict[Cell, list[Line]],
    lines: list[Line],
) -> Cell | None:
    """One more cell to hide on a line through an exposed small cell: a cell of the table
    (not a total) when any line through it still has one, else a total. When every line
    through it is hidden already, the sums that pin it run through other lines: take the
    next cell of the line with most hidden, up to the grand total."""
    fallback = None
    for cell in exposed:
        for line in crossing.get(cell, []):
            pick = _next_to_hide(line, values, gone, crossing)
            if pick is None:
                continue
            if pick != line.total:
                return pick
            fallback = fallback or pick
    if fallback is not None:
        return fallback
    for line in sorted(lines, key=lambda ln: -sum(c in gone for c in ln.cells)):
        pick = _next_to_hide(line, values, gone, crossing)
        if pick is not None:
            return pick
    return None


def _ranges(
    values: dict[Cell, int],
    lines: list[Line],
    small: set[Cell],
    hidden: set[Cell],
    equations: list[list[tuple[Cell, int]]] | None = None,
) -> dict[Cell, tuple[int, int]]:
    """The smallest and largest value a reader could give each cell, from the lines' sums:
    a "<5" cell is 1–4, an "x" cell 5 or more, a shown cell its value. Narrowed
    line by line until nothing changes (bounds reasoning: it may allow a value the whole
    table rules out, which the brute-force tests guard against). Besides the lines, it uses
    `equations` (signed terms adding up to 0) when given, else one table's `_complements`."""
    top = sum(values.values()) or 1
    ranges: dict[Cell, tuple[int, int]] = {}
    for cell, value in values.items():
        if cell in small:
            ranges[cell] = (1, 4)
        elif cell in hidden:
            ranges[cell] = (SMALLEST_SHOWN, max(top, SMALLEST_SHOWN))
        else:
            ranges[cell] = (value, value)
    extra = _complements(values, lines) if equations is None else equations
    equations = [[(c, 1) for c in line.parts] + [(line.total, -1)] for line in lines]
    equations += extra
    # A sum of shown cells alone narrows nothing, now or later (ranges only narrow): most of
    # a large table's sums are, so they are left out of the rounds below.
    equations = [terms for terms in equations if any(ranges[c][0] != ranges[c][1] for c, _ in terms)]
    changed = True
    while changed:
        changed = False
        for terms in equations:
            # The signed terms add up to 0: each term's bounds follow from the others'.
            low = high = widest = 0
            for c, s in terms:
                lo, hi = ranges[c]
                if s > 0:
                    low += lo
                    high += hi
                else:
                    low -= hi
                    high -= lo
                if hi - lo > widest:
                    widest = hi - lo
            # A term narrows only when the others' sums leave it less room than it has: when
            # neither bound of the whole is that tight, nothing here can change this round.
            if high >= widest and -low >= widest:
                continue
            for cell, sign in terms:
                lo, hi = ranges[cell]
                if lo == hi:
                    continue
                term_lo, term_hi = (lo, hi) if sign > 0 else (-hi, -lo)
                others_lo, others_hi = low - term_lo, high - term_hi
                # term = -others
                new_term_lo, new_term_hi = max(term_lo, -others_hi), min(term_hi, -others_lo)
                new = (new_term_lo, new_term_hi) if sign > 0 else (-new_term_hi, -new_term_lo)
                if new != (lo, hi) and new[0] <= new[1]:
                    ranges[cell] = new
                    changed = True
                    t_lo, t_hi = new if sign > 0 else (-new[1], -new[0])
                    low += t_lo - term_lo
                    high += t_hi - term_hi
    return ranges


def _complements(values: dict[Cell, int], lines: list[Line]) -> list[list[tuple[Cell, int]]]:
    """Sums a reader gets by subtracting a row, a column, or both from the whole table:
    e.g. every other row's cells add up to the grand total less that row's total. Bounds
    reasoning on single lines misses what these pin down (three "<5" cells whose
    remainder is 12), so they are checked too. Only with both kinds of total shown."""
    # With both kinds of total, `_lines` ends with the two lines into the grand total.
    if len(lines) < 2 or lines[-1].total != lines[-2].total:
        return []
    grand = lines[-1].total
    n, m = grand
    body = [(i, j) for i in range(n) for j in range(m)]
    out = []
    for r in range(n):
        out.append([(c, 1) for c in body if c[0] != r] + [(grand, -1), ((r, m), 1)])
    for k in range(m):
        out.append([(c, 1) for c in body if c[1] != k] + [(grand, -1), ((n, k), 1)])
    # And one row and one column at once: the cells outside both.
    for r in range(n):
        for k in range(m):
            outside = [(c, 1) for c in body if c[0] != r and c[1] != k]
            out.append([*outside, (grand, -1), ((r, m), 1), ((n, k), 1), ((r, k), -1)])
    return out


def _next_to_hide(
    line: Line, values: dict[Cell, int], gone: set[Cell], crossing: dict[Cell, list[Line]]
) -> Cell | None:
    # A 0 is never hidden: every "x" is then 5 or more, which is what it tells the reader
    # (a hidden 0 beside the "<5" cells can pin them down by elimination).
    pool = [c for c in line.parts if c not in gone and values[c] > 0]
    if pool:

        def cost(cell: Cell) -> tuple[int, int, Cell]:
            # Prefer a cell whose other line is already broken (no new line to repair),
            # then the smallest value, then the first.
            others = [ln for ln in crossing[cell] if ln is not line]
            already = any(any(c in gone for c in ln.cells) for ln in others)
            return (0 if already else 1, values[cell], cell)

        return min(pool, key=cost)
    if line.total not in gone:
        return line.total
    return None
