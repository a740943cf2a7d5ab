from tests.conftest import sign_in


def test_senco_lists_own_pupils_only(client, tenant, other):
    sign_in(client, tenant.users["senco"])
    response = client.get("/pupils/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "AlphaPupil0" in body
    assert "Zulu" not in body
    assert "AlphaSibling" not in body
