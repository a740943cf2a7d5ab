"""Small-number suppression (schools/suppression.py): single counts, and tables whose
hidden small cells cannot be worked out from what is shown, checked by brute force."""

from __future__ import annotations

import itertools
import random

import pytest

from schools.suppression import HIDDEN, SMALL, TOTAL, suppress_count, suppress_table


@pytest.mark.parametrize(("n", "shown"), [(0, 0), (1, "<5"), (4, "<5"), (5, 5), (37, 37)])
def test_a_single_count_from_1_to_4_is_shown_as_under_5(n, shown):
    assert suppress_count(n) == shown


def test_a_negative_count_is_a_mistake():
    with pytest.raises(ValueError):
        suppress_count(-1)


def table(grid: list[list[int]], **kwargs):
    columns = [f"c{j}" for j in range(len(grid[0]))]
    rows = [{"label": f"r{i}", **dict(zip(columns, row, strict=True))} for i, row in enumerate(grid)]
    return suppress_table(rows, columns, **kwargs), columns


def shown_grid(result, columns) -> list[list[str]]:
    """The table as a reader sees it, totals row and column included (last)."""
    grid = [[row[c] for c in columns] + ([row[TOTAL]] if TOTAL in row else []) for row in result.rows]
    if result.totals is not None:
        grid.append(
            [result.totals[c] for c in columns] + ([result.totals[TOTAL]] if TOTAL in result.totals else [])
        )
    return grid


def test_a_table_without_small_numbers_is_shown_whole():
    result, columns = table([[5, 7], [0, 9]])
    assert shown_grid(result, columns) == [["5", "7", "12"], ["0", "9", "9"], ["5", "16", "21"]]
    assert result.suppressed == 0


def test_one_small_cell_takes_a_second_cell_of_its_row_and_column_with_it():
    result, columns = table([[3, 15], [16, 9], [20, 30]])
    grid = shown_grid(result, columns)
    assert grid[0][0] == SMALL
    assert grid[0][1] == HIDDEN and grid[1][0] == HIDDEN  # one more in its row and column
    assert grid[3] == ["39", "54", "93"]  # totals stay shown
    assert "3" not in {cell for row in grid for cell in row}


def test_a_small_total_is_suppressed_too():
    result, columns = table([[2, 0], [0, 0]])
    assert shown_grid(result, columns)[0] == [SMALL, "0", SMALL]


def test_a_table_too_small_to_protect_is_withheld():
    result, columns = table([[1, 1], [1, 1]])
    assert result.withheld
    assert {cell for row in shown_grid(result, columns) for cell in row} == {"–"}


def consistent_values(
    grid_shown: list[list[str]], bound: int, n: int, m: int
) -> dict[tuple[int, int], set[int]]:
    """Every value each "<5" cell takes over all tables consistent with what is shown:
    "<5" means 1–4, "x" means 5 or more, a number means itself. Stops once each
    small cell has two values (which is all the property needs)."""
    body_unknown = [(i, j) for i in range(n) for j in range(m) if not grid_shown[i][j].isdigit()]
    small_cells = {(i, j) for i in range(n + 1) for j in range(m + 1) if grid_shown[i][j] == SMALL}
    seen: dict[tuple[int, int], set[int]] = {c: set() for c in small_cells}

    def domain(mark: str) -> list[int]:
        return [1, 2, 3, 4] if mark == SMALL else list(range(5, bound + 1))

    def fits(mark: str, value: int) -> bool:
        if mark.isdigit():
            return int(mark) == value
        return 1 <= value <= 4 if mark == SMALL else value >= 5

    values = [
        [int(grid_shown[i][j]) if grid_shown[i][j].isdigit() else 0 for j in range(m)] for i in range(n)
    ]

    def row_ok(i: int, complete: bool) -> bool:
        total = sum(values[i])
        mark = grid_shown[i][m]
        if mark.isdigit() and total > int(mark):
            return False
        return not complete or fits(mark, total)

    def done() -> bool:
        return all(len(v) >= 2 for v in seen.values())

    def search(k: int) -> None:
        if done():
            return
        if k == len(body_unknown):
            totals_col = [sum(values[i]) for i in range(n)]
            totals_row = [sum(values[i][j] for i in range(n)) for j in range(m)]
            if not all(fits(grid_shown[n][j], totals_row[j]) for j in range(m)):
                return
            if not fits(grid_shown[n][m], sum(totals_col)):
                return
            full = {(i, j): values[i][j] for i in range(n) for j in range(m)}
            full.update({(i, m): totals_col[i] for i in range(n)})
            full.update({(n, j): totals_row[j] for j in range(m)})
            full[(n, m)] = sum(totals_col)
            for cell in small_cells:
                seen[cell].add(full[cell])
            return
        i, j = body_unknown[k]
        # No cell exceeds a total shown on its row, its column or the table.
        caps = [int(x) for x in (grid_shown[i][m], grid_shown[n][j], grid_shown[n][m]) if x.isdigit()]
        cap = min(caps, default=bound)
        for value in domain(grid_shown[i][j]):
            if value > cap:
                break
            column = sum(values[r][j] for r in range(n) if r != i) + value
            if grid_shown[n][j].isdigit() and column > int(grid_shown[n][j]):
                break
            values[i][j] = value
            last_in_row = all(c[0] != i for c in body_unknown[k + 1 :])
            if row_ok(i, last_in_row):
                search(k + 1)
            if done():
                break
        values[i][j] = 0

    search(0)
    return seen


def assert_not_recoverable(grid: list[list[int]]) -> None:
    result, columns = table(grid)
    shown = shown_grid(result, columns)
    if result.withheld:
        assert {cell for row in shown for cell in row} == {"–"}
        return
    n, m = len(grid), len(grid[0])
    bound = sum(map(sum, grid)) + 6
    for cell, values in consistent_values(shown, bound, n, m).items():
        assert len(values) >= 2, f"{grid}: cell {cell} can only be {values}; shown {shown}"


def test_no_small_cell_of_any_2x2_table_can_be_worked_out():
    for flat in itertools.product([0, 1, 2, 4, 5, 6, 9], repeat=4):
        assert_not_recoverable([list(flat[:2]), list(flat[2:])])


def test_no_small_cell_of_random_2x3_tables_can_be_worked_out():
    rng = random.Random(5)
    for _ in range(150):
        assert_not_recoverable([[rng.choice([0, 1, 3, 5, 7]) for _ in range(3)] for _ in range(2)])


def test_no_small_cell_of_random_3x3_tables_can_be_worked_out():
    rng = random.Random(6)
    for _ in range(300):
        assert_not_recoverable(
            [[rng.choice([0, 0, 1, 2, 4, 5, 6, 8, 11]) for _ in range(3)] for _ in range(3)]
        )


def test_the_suppressed_table_never_shows_a_number_from_1_to_4():
    rng = random.Random(7)
    for _ in range(200):
        grid = [[rng.randint(0, 12) for _ in range(4)] for _ in range(3)]
        result, columns = table(grid)
        for row in shown_grid(result, columns):
            assert not any(cell in {"1", "2", "3", "4"} for cell in row)
