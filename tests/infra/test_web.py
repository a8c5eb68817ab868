from kestra_lite.store import flows
from kestra_lite.web import create_app


def test_health_answers_up_and_the_root_redirects_to_the_main_tenant(settings):
    client = create_app(settings).test_client()
    assert client.get("/health").get_json() == {"status": "UP"}
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/ui/main/")


def test_the_home_page_lists_the_flows_of_the_tenant(settings):
    app = create_app(settings)
    flows.save_flow("main", "company.team", "hello", "id: hello\n")
    page = app.test_client().get("/ui/main/").get_data(as_text=True)
    assert "company.team" in page and "hello" in page
