"""The contract gate passes on the committed contract and catches what would break a shipped client."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from graphql import (
    GraphQLArgument,
    GraphQLNonNull,
    GraphQLObjectType,
    build_schema,
    print_schema,
)

from mobile_contract import gate
from mobile_contract.snapshot import SNAPSHOT


def served_sdl() -> str:
    """The committed SDL stands for the served one: these tests alter it, not the drift test's subject."""
    return SNAPSHOT.read_text(encoding="utf-8")


def _served_without(type_name: str, field_name: str) -> str:
    schema = build_schema(served_sdl())
    type_ = schema.get_type(type_name)
    assert isinstance(type_, GraphQLObjectType)
    del type_.fields[field_name]
    return print_schema(schema)


def _copy_operations(tmp_path: Path) -> Path:
    root = tmp_path / "operations"
    shutil.copytree(gate.OPERATIONS, root)
    return root


def _manifest() -> dict:
    return json.loads(gate.MANIFEST.read_text(encoding="utf-8"))


def test_the_committed_contract_holds(capsys):
    # when the gate runs on the committed artefacts
    report = gate.check()

    # then nothing fails, and dangerous changes are only reported
    print(report)
    assert report.ok, str(report)


def test_every_client_has_operations_and_names_are_unique():
    operations = gate.load_operations()
    clients = {op.client for op in operations}
    names = [op.name for op in operations]
    assert clients == set(gate.CLIENTS)
    assert len(names) == len(set(names))


def test_a_removed_field_is_a_breaking_change_and_its_operations_stop_validating():
    # given the served schema without Query.auction, which the app and kiosks use
    altered = _served_without("Query", "auction")

    # when the gate checks it
    report = gate.check(served_sdl=altered, errors_md=gate.errors_markdown(build_schema(altered)))

    # then it fails on the breaking change and on each document that selects the field
    assert not report.ok
    assert any("breaking change" in p and "Query.auction was removed" in p for p in report.problems), report
    failing = {p.split(":")[0] for p in report.problems if "no longer validates" in p}
    assert {"operations/app/AuctionState.graphql", "operations/kiosk/KioskAuction.graphql"} <= failing


def test_an_argument_made_required_is_a_breaking_change():
    # given the served schema where announcements(first:) became required
    schema = build_schema(served_sdl())
    query = schema.query_type
    assert query is not None
    field = query.fields["announcements"]
    arg = field.args["first"]
    field.args["first"] = GraphQLArgument(GraphQLNonNull(arg.type), description=arg.description)  # type: ignore[arg-type]
    altered = print_schema(schema)

    # when
    report = gate.check(served_sdl=altered, errors_md=gate.errors_markdown(build_schema(altered)))

    # then
    assert any("breaking change" in p and "Query.announcements(first:)" in p for p in report.problems), report


def test_an_added_enum_value_is_reported_as_dangerous_not_failing():
    sdl = served_sdl().replace("enum AuctionPhase {\n", "enum AuctionPhase {\n  PAUSED\n")

    report = gate.check(served_sdl=sdl)

    assert report.ok, str(report)
    assert any("PAUSED" in d for d in report.dangerous)


def test_a_mutation_without_the_error_fallback_fails(tmp_path):
    # given BidPlace without `... on Error { code message }`, its manifest entry updated
    root = _copy_operations(tmp_path)
    path = root / "app" / "BidPlace.graphql"
    text = path.read_text(encoding="utf-8").replace(
        "    ... on Error {\n      __typename\n      code\n      message\n    }\n", ""
    )
    path.write_text(text, encoding="utf-8")
    manifest = gate.build_manifest(gate.load_operations(root), _manifest())

    # when
    report = gate.check(served_sdl=served_sdl(), root=root, manifest=manifest)

    # then
    assert report.problems == [
        "operations/app/BidPlace.graphql: bidPlace (BidPlaceResult) selects no `... on Error { code message }`"
    ]


def test_a_fallback_through_a_fragment_counts():
    schema = build_schema(served_sdl())
    from graphql import parse

    document = parse(
        "mutation M($i: BidPlaceInput!) { bidPlace(input: $i) { __typename ...Failure } }"
        " fragment Failure on Error { code message }"
    )

    assert gate.missing_error_fallbacks(schema, document) == []


def test_an_edited_document_fails_the_manifest_until_regenerated(tmp_path):
    # given a document changed after the manifest was made
    root = _copy_operations(tmp_path)
    path = root / "app" / "Me.graphql"
    path.write_text(path.read_text(encoding="utf-8").replace("roles\n", "roles\n    user { name }\n", 1))

    # when / then
    report = gate.check(served_sdl=served_sdl(), root=root, manifest=_manifest())
    assert report.problems == [
        "manifest.json: hash of Me does not match operations/app/Me.graphql (run `make contract`)"
    ]

    # and regenerating takes the new hash, with the next app version as its minimum
    regenerated = gate.build_manifest(gate.load_operations(root), {**_manifest(), "nextAppVersion": "1.1.0"})
    [entry] = [e for e in regenerated["operations"] if e["name"] == "Me"]
    assert entry["minAppVersion"] == "1.1.0"
    assert gate.check(served_sdl=served_sdl(), root=root, manifest=regenerated).ok


def test_missing_extra_and_duplicate_operations_fail(tmp_path):
    # given a new document not in the manifest, one that reuses an app name, and a listed one removed
    root = _copy_operations(tmp_path)
    (root / "kiosk" / "KioskServerTime.graphql").write_text("query KioskServerTime {\n  serverTime\n}\n")
    (root / "integrator" / "Me.graphql").write_text("query Me {\n  serverTime\n}\n")
    (root / "app" / "MyDevices.graphql").unlink()

    # when
    report = gate.check(served_sdl=served_sdl(), root=root, manifest=_manifest())

    # then
    assert "manifest.json is missing operation KioskServerTime (run `make contract`)" in report.problems
    assert "manifest.json lists MyDevices, which has no document (run `make contract`)" in report.problems
    assert any(p.startswith("duplicate operation name Me") for p in report.problems), report


def test_badly_formed_documents_fail(tmp_path):
    root = _copy_operations(tmp_path)
    (root / "app" / "Two.graphql").write_text("query Two {\n  serverTime\n}\n\nquery Three {\n  serverTime\n}\n")
    (root / "app" / "Named.graphql").write_text("query Other {\n  serverTime\n}")

    problems: list[str] = []
    gate.load_operations(root, problems)

    assert "operations/app/Two.graphql: must define exactly one named operation" in problems
    assert "operations/app/Named.graphql: operation Other must be stored as Other.graphql" in problems
    assert any(p.startswith("operations/app/Named.graphql: must be UTF-8") for p in problems)


def test_the_manifest_hash_is_of_the_document_as_sent():
    # the document a client sends is the file without its trailing newline
    [me] = [e for e in _manifest()["operations"] if e["name"] == "Me"]
    import hashlib

    raw = (gate.HERE / me["file"]).read_bytes()
    assert me["sha256"] == hashlib.sha256(raw[:-1]).hexdigest()


def test_errors_md_drift_fails():
    report = gate.check(served_sdl=served_sdl(), errors_md="# Error codes\n")
    assert "ERRORS.md differs from the schema's Error types (run `make contract`)" in report.problems


def test_the_cli_reports_what_the_gate_finds(capsys):
    assert gate.main([]) == (0 if gate.check().ok else 1)
    assert "operations: app " in capsys.readouterr().out
