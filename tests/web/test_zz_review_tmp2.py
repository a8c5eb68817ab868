import logging, traceback, re, json
from tests.api.conftest import *  # noqa

def show(caplog, r, label):
    print("==", label, r.status_code, r.get_data(as_text=True)[:150].replace("\n"," "))
    for rec in caplog.records:
        if rec.exc_info:
            print("".join(traceback.format_exception(*rec.exc_info)[-2:]))
    caplog.clear()

def test_poison(app, api, client, deploy, start, settle, caplog):
    deploy(HELLO)
    r = api.post("/api/v1/executions/company.team/hello?scheduleDate=9999-12-31T23:59:59-05:00", data={}, content_type="multipart/form-data")
    show(caplog, r, "scheduleDate overflow")
    for url in ["/api/v1/executions/search", "/ui/main/executions", "/ui/main/dashboard", "/ui/main/flows/company.team/hello", "/api/v1/executions?namespace=company.team"]:
        r = client.get(url) if url.startswith("/ui") else api.get(url)
        show(caplog, r, url)
    r = api.post("/api/v1/executions/company.team/hello?scheduleDate=9000-01-01T00:00:00Z", data={}, content_type="multipart/form-data")
    show(caplog, r, "far future schedule")
