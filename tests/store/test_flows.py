from kestra_lite.store import flows

SOURCE = """# a comment kept verbatim
id: hello
namespace: company.team
tasks:
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: hi
"""


def test_saving_the_same_source_again_makes_no_new_revision(db):
    assert flows.save_flow("main", "company.team", "hello", SOURCE) == (1, True)
    assert flows.save_flow("main", "company.team", "hello", SOURCE) == (1, False)
    assert flows.save_flow("main", "company.team", "hello", SOURCE + "# more\n") == (2, True)
    assert [r.revision for r in flows.revisions("main", "company.team", "hello")] == [1, 2]


def test_the_source_is_kept_verbatim_and_old_revisions_stay_readable(db):
    flows.save_flow("main", "company.team", "hello", SOURCE, labels={"team": "a"})
    flows.save_flow("main", "company.team", "hello", SOURCE.replace("hi", "bye"))
    latest = flows.get_flow("main", "company.team", "hello")
    assert latest.revision == 2 and "bye" in latest.source
    first = flows.get_flow("main", "company.team", "hello", revision=1)
    assert first.source == SOURCE
    assert first.labels == {"team": "a"}
    assert flows.get_flow("main", "company.team", "hello", revision=3) is None


def test_a_deleted_flow_is_hidden_and_saving_it_again_continues_the_revisions(db):
    flows.save_flow("main", "company.team", "hello", SOURCE)
    assert flows.delete_flow("main", "company.team", "hello") is True
    assert flows.delete_flow("main", "company.team", "hello") is False
    assert flows.get_flow("main", "company.team", "hello") is None
    deleted = flows.get_flow("main", "company.team", "hello", allow_deleted=True)
    assert deleted.deleted and deleted.revision == 2
    assert flows.list_flows("main") == []
    assert flows.save_flow("main", "company.team", "hello", SOURCE) == (3, True)
    assert flows.get_flow("main", "company.team", "hello").revision == 3


def test_list_flows_gives_the_latest_revision_of_each_flow_of_the_tenant(db):
    flows.save_flow("main", "b.ns", "one", "v1")
    flows.save_flow("main", "b.ns", "one", "v2")
    flows.save_flow("main", "a.ns", "two", "v1")
    flows.save_flow("other", "a.ns", "three", "v1")
    listed = flows.list_flows("main")
    assert [(f.namespace, f.flow_id, f.revision) for f in listed] == [
        ("a.ns", "two", 1), ("b.ns", "one", 2)]
    assert [f.flow_id for f in flows.list_flows("main", "b.ns")] == ["one"]
    assert [f.flow_id for f in flows.list_flows("other")] == ["three"]


def test_a_missing_flow_is_none(db):
    assert flows.get_flow("main", "x", "y") is None
    assert flows.delete_flow("main", "x", "y") is False
    assert flows.revisions("main", "x", "y") == []
