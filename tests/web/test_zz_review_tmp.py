import re, time
from urllib.parse import quote
from tests.api.conftest import *  # noqa

BAD = {
 "page": ["abc", "-1", "0", "99999999999999999999999", "1e3", "9223372036854775808"],
 "size": ["abc", "-1", "0", "99999999", "1.5"],
 "startDate": ["bad", "2025-13-45", "9999-12-31T23:59:59+14:00", "0001-01-01T00:00:00-05:00", "2025-01-01T00:00:00+25:00"],
 "endDate": ["bad", "0001-01-01T00:00:00+05:00"],
 "state": ["BOGUS", ""],
 "sort": ["bogus", "start_date:bogus", "id:asc", ":", "state:asc", "namespace:desc", "duration:asc", "x;drop"],
 "timeRange": ["bogus", "P99999999999D", "PT-1H", "P1000000Y"],
 "q": ["\"", "\\", "state:", "label:", "label:=", "since:999999999d", "from:9999-99-99", "to:0001-01-01", "from:0001-01-01", "since:P99999999Y", "a"*5000, "%", "_", "namespace:%", "trigger:", "label:a=b " * 50, "\x00", "from:9999-12-31T23:59:59+14:00", "to:9999-12-31", "since:0s", "level:bogus", "execution:", "tag:", "scope:x", "child:x"],
 "namespace": ["%", "", "a"*1000, "\x00"],
 "labels": ["nocolon", ":x", "a:b"],
 "minLevel": ["BOGUS"],
 "scope": ["BOGUS"], "childFilter": ["BOGUS"],
 "flowId": ["\x00"],
 "trpage": ["abc", "-5", "999999999999999999999"], "before": ["abc", "-1", "99999999999999999999999"],
 "level": ["BOGUS"], "task": ["x"], "tab": ["bogus"], "after": ["abc", "99999999999999999999999"], "since": ["abc"],
 "deleted": ["maybe"], "revision": ["abc", "-1", "99999999999999999999"], "allowDeleted": ["maybe"],
 "path": ["kestra:///../../etc/passwd", "x", "kestra://%00"],
 "url": ["http://evil.com", "/ui/x"], "prefix": ["%"], "key": ["\x00"], "value": ["x"],
}

def test_fuzz(app, api, client, deploy, start, settle, caplog):
    import traceback
    seen=set()
    deploy(HELLO)
    ex = start("company.team", "hello")
    settle(ex["id"])
    eid = ex["id"]
    urls_api = ["/api/v1/executions/search", "/api/v1/flows/search", "/api/v1/logs/search",
                f"/api/v1/logs/{eid}", f"/api/v1/logs/{eid}/download", "/api/v1/executions",
                f"/api/v1/executions/{eid}", "/api/v1/namespaces/search", "/api/v1/flows/company.team",
                "/api/v1/flows/company.team/hello", "/api/v1/flows/company.team/hello/revisions",
                "/api/v1/flows/distinct-namespaces", "/api/v1/flows/source", f"/api/v1/executions/{eid}/file",
                "/api/v1/namespaces/company.team/kv", "/api/v1/namespaces/company.team",
                ]
    urls_ui = ["/ui/main/executions", "/ui/main/flows", "/ui/main/logs", "/ui/main/dashboard",
               "/ui/main/logs/tail", f"/ui/main/executions/company.team/hello/{eid}",
               f"/ui/main/executions/company.team/hello/{eid}/live", f"/ui/main/executions/company.team/hello/{eid}/logs",
               f"/ui/main/executions/{eid}/file", "/ui/main/flows/company.team/hello", "/ui/main/namespaces",
               "/ui/main/namespaces/company.team", "/ui/main/namespaces/company.team/kv", "/ui/main/namespaces/company.team/kv/edit",
               "/ui/main/blueprints", "/ui/main/bookmarks/star", "/ui/main/filter-bar/executions/suggest",
               "/ui/main/filter-bar/logs/suggest", "/ui/main/filter-bar/bogus/suggest", "/ui/main/admin", "/ui/main/admin/users",
               "/ui/main/flows/company.team/hello/topology.svg", "/ui/main/profile", "/ui/main/sidebar/news",
               f"/ui/main/executions/company.team/hello/{eid}/resume"]
    problems = []
    for kind, urls in (("api", urls_api), ("ui", urls_ui)):
        for url in urls:
            for name, values in BAD.items():
                for v in values:
                    full = f"{url}?{name}={quote(v)}"
                    caplog.clear()
                    t = time.monotonic()
                    r = (api.get(full) if kind == "api" else client.get(full))
                    dt = time.monotonic() - t
                    if r.status_code >= 500 or dt > 2:
                        problems.append((r.status_code, round(dt, 2), full[:160]))
                        key = url.split('?')[0][-8:]
                        if key not in seen and r.status_code >= 500:
                            seen.add(key)
                            print('TB', full[:150]); [print(''.join(traceback.format_exception(*rec.exc_info)[-3:])) for rec in caplog.records if rec.exc_info]
    for p in problems:
        print("PROBLEM", p)
