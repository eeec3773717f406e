"""The published documents suit the normalised caches of Apollo Client, Apollo Kotlin and Apollo iOS."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import graphql
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    visit,
)

from mobile_contract.snapshot import POSSIBLE_TYPES, SNAPSHOT, possible_types, stale_possible_types

OPERATIONS = Path(__file__).parents[2] / "mobile_contract" / "operations"


def documents() -> list[Path]:
    found = sorted(OPERATIONS.glob("*/*.graphql"))
    assert len(found) > 100
    return found


def selections_without_typename(schema: graphql.GraphQLSchema, text: str) -> list[str]:
    """Where a selection set on an object, interface or union lacks __typename (the operation root aside)."""
    info = TypeInfo(schema)
    missing: list[str] = []

    class Check(Visitor):
        def enter_selection_set(self, node: SelectionSetNode, key: object, parent: object, *_: object) -> None:
            if isinstance(parent, OperationDefinitionNode):
                return
            if any(isinstance(s, FieldNode) and s.name.value == "__typename" for s in node.selections):
                return
            where = parent.name.value if isinstance(parent, FieldNode | FragmentDefinitionNode) else "..."
            if isinstance(parent, InlineFragmentNode) and parent.type_condition is not None:
                where = f"... on {parent.type_condition.name.value}"
            missing.append(f"{where} (line {node.loc.source.get_location(node.loc.start).line if node.loc else '?'})")

    visit(graphql.parse(text), TypeInfoVisitor(info, Check()))
    return missing


def test_every_selection_selects_typename():
    # given the schema the documents are published against
    schema = graphql.build_schema(SNAPSHOT.read_text(encoding="utf-8"))

    # when every document's selection sets are walked, through inline fragments and fragments
    missing = {
        f"{path.parent.name}/{path.name}": found
        for path in documents()
        if (found := selections_without_typename(schema, path.read_text(encoding="utf-8")))
    }

    # then each selects __typename, as the clients' caches add it
    assert missing == {}


def test_the_check_finds_a_selection_without_typename():
    # given a document whose nested selection lacks __typename
    schema = graphql.build_schema(SNAPSHOT.read_text(encoding="utf-8"))
    text = "query Q($lotId: ID!) { auction(lotId: $lotId) { __typename ...F } }\nfragment F on Auction { seq }"

    # when it is checked
    found = selections_without_typename(schema, text)

    # then the fragment is named
    assert found == ["F (line 2)"]


def test_fragment_names_are_unique_across_all_documents():
    # given every fragment defined by every published document
    names = Counter(
        d.name.value
        for path in documents()
        for d in graphql.parse(path.read_text(encoding="utf-8")).definitions
        if isinstance(d, FragmentDefinitionNode)
    )

    # then no name is defined twice (Apollo Kotlin and iOS generate one class per fragment)
    assert [name for name, count in names.items() if count > 1] == []


def test_possible_types_are_current_and_cover_every_union_and_interface():
    # given the committed schema and possibleTypes.json
    schema = graphql.build_schema(SNAPSHOT.read_text(encoding="utf-8"))
    committed = json.loads(POSSIBLE_TYPES.read_text(encoding="utf-8"))

    # then the file is what `make schema` writes, and names every abstract type with its members
    assert not stale_possible_types(), "run `make schema`"
    abstract = {
        name
        for name, kind in schema.type_map.items()
        if isinstance(kind, graphql.GraphQLUnionType | graphql.GraphQLInterfaceType) and not name.startswith("__")
    }
    assert set(committed) == abstract
    assert "Auction" in committed["Node"]
    assert "NotFound" in committed["Error"]
    assert possible_types(SNAPSHOT.read_text(encoding="utf-8")) == POSSIBLE_TYPES.read_text(encoding="utf-8")
