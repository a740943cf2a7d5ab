"""Query counts of the list pages and API lists do not grow with the data."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import sign_in
from tests.factories import PupilFactory


def count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("url", ["/pupils/", "/api/v1/pupils/", "/schools/", "/api/v1/schools/", "/"])
def test_list_query_count_is_constant(client, tenant, url):
    sign_in(client, tenant.users["senco"])
    small = count(client, url)
    for i in range(30):
        PupilFactory(school=tenant.school, last_name=f"More{i}")
    assert count(client, url) == small


def test_pupil_list_page_query_count_is_pinned(client, tenant):
    """The queries behind /pupils/ for a SENCO, in order (savepoints exist only because the
    test wraps everything in a transaction, so they are left out):
    1 switch to the app role; 2 session; 3 user; 4 memberships with their scope objects;
    5 tenant settings; 6 pupils count (pager); 7 pupils page; 8 audit insert;
    9 settings back to no tenant as the scope ends; 10 role back as the request ends.
    """
    sign_in(client, tenant.users["senco"])
    client.get("/pupils/")  # warm up, so the count is of an ordinary later request
    with CaptureQueriesContext(connection) as ctx:
        client.get("/pupils/")
    queries = [q["sql"] for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(queries) == 10, "\n".join(q[:150] for q in queries)
