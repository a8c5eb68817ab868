from kestra_lite.web import create_app


def test_health_answers_up_and_the_root_redirects_to_the_main_tenant_dashboard(settings):
    client = create_app(settings).test_client()
    assert client.get("/health").get_json() == {"status": "UP"}
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/ui/main/dashboard")
