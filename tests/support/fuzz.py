"""Hypothesis strategies and checks for the abuse suite (tests/resilience/test_abuse.py).

Values are drawn from the committed SDL (mobile_contract/schema.graphql), so every stored operation gets
variables of its own types (mostly well-typed, so that resolvers run) and of every wrong type; requests
go over HTTP to the test server, and every answer is checked to be a typed refusal or data: never a 5xx,
never `INTERNAL`, never a traceback, a file path or SQL text.

Example counts: `PALMTRADE_FUZZ_EXAMPLES` (default 40 per group), derandomized so that a failure is
reproduced by running the test again; `PALMTRADE_FUZZ_SEED=<int>` explores other examples instead.
"""

from __future__ import annotations

import base64
import json
import os
import re
import string
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    OperationDefinitionNode,
    build_schema,
    parse,
    type_from_ast,
)
from hypothesis import HealthCheck, seed, settings
from hypothesis import strategies as st

from mobile_contract import gate
from schema.relay import to_global_id

SCHEMA = build_schema((gate.HERE / "schema.graphql").read_text(encoding="utf-8"))
OPERATIONS = {op.name: op for op in gate.load_operations()}

EXAMPLES = int(os.environ.get("PALMTRADE_FUZZ_EXAMPLES", "40"))
SEED = os.environ.get("PALMTRADE_FUZZ_SEED")
settings.register_profile(
    "palmtrade-abuse",
    max_examples=EXAMPLES,
    derandomize=SEED is None,
    deadline=None,
    database=None,  # nothing written into the working tree; a failure prints its reproduction
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
PROFILE = settings.get_profile("palmtrade-abuse")


def seeded(test: Callable[..., None]) -> Callable[..., None]:
    """The probe under `PALMTRADE_FUZZ_SEED` when given (other examples than the fixed ones, reproducibly)."""
    return seed(int(SEED))(test) if SEED is not None else test


# Status codes a client may get from /graphql; anything else (above all a 5xx) is a failure.
STATUSES = {200, 400, 401, 404, 405, 413, 415, 429}
# What a response must never contain unless the request itself carried it: the marks of a traceback,
# of source files and of SQL or driver errors.
LEAKS = (
    "Traceback",
    'File "',
    '.py"',
    ".py:",
    ", line ",
    "site-packages",
    "/work/",
    "/usr/lib/python",
    "sqlite3",
    "aiosqlite",
    "asyncpg",
    "psycopg",
    "tortoise",
    "IntegrityError",
    "OperationalError",
    "ProgrammingError",
    "DoesNotExist",
    "MultipleObjectsReturned",
    "SELECT ",
    "INSERT INTO",
    "DELETE FROM",
    'UPDATE "',
    " WHERE ",
    "syntax error at or near",
    "violates ",
    "duplicate key",
    "constraint failed",
    "no such table",
    "no such column",
    "KeyError",
    "AttributeError",
    "TypeError",
    "ValueError",
    "RecursionError",
    "UnicodeEncodeError",
    "UnicodeDecodeError",
    "Exception",
    "NoneType",
    "object has no attribute",
    "Internal Server Error",
)
CODE = re.compile(r"^[A-Z][A-Z0-9_]*[A-Z0-9]$")
CJK = re.compile(r"[\u4e00-\u9fff]")


# --- the world the values refer to ------------------------------------------------------------------


@dataclass(frozen=True)
class Ref:
    """A value of the world under test (a real lot id, a trade code), resolved when the request is sent:
    drawn examples stay plain data, so a failing one can be kept as an @example."""

    name: str


ID_REFS = ("lot", "auction", "project", "announcement", "guarantor", "bidder_org", "receipt")
STRING_REFS = ("trade_code", "bidder_phone", "expert_phone", "today", "terminal_device_id", "lot", "receipt_sha256")


@dataclass(frozen=True)
class Deep:
    """A value nested `depth` levels, built when the request is sent (hypothesis would print it nested)."""

    depth: int
    kind: str = "list"


def resolve(value: Any, world: Mapping[str, str]) -> Any:
    if isinstance(value, Ref):
        return world[value.name]
    if isinstance(value, Deep):
        return deep(value.depth, value.kind)
    if isinstance(value, dict):
        return {k: resolve(v, world) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, world) for v in value]
    return value


# --- values ---------------------------------------------------------------------------------------

NASTY_STRINGS = [
    "",
    " ",
    "\x00",
    "abc\x00def",
    "\ud800",  # a lone surrogate: valid JSON (\ud800), not encodable as UTF-8
    "\udfff\ud800",
    "\u202e\u0644\u0627",
    "e\u0301\u0301\u0301",
    "\ufeff",
    "\u200b\u200b",
    "１２３４５６",
    "٣",
    "²",
    "𠀀𠀁𠀂",
    "😀" * 64,
    "\r\n\t\x0b\x0c",
    "'; DROP TABLE organisation; --",
    '" OR 1=1 --',
    "%",
    "_",
    "\\",
    "%_\\'\"",
    "<script>alert(1)</script>",
    "{{7*7}}${7*7}",
    "../../../../etc/passwd",
    "null",
    "NaN",
    "-1",
    "0",
    "1e400",
    "9" * 40,
    "13800000001",
    "00000000000",
    "2026-02-30",
    "2026-13-01T25:61:61+99:00",
    "0000-00-00",
    "9999-12-31T23:59:59+00:00",
    "0001-01-01T00:00:00-23:59",
    "道路 维修 工程",
    "AND OR NOT NEAR",
    '"unterminated',
    "* ^ ~ : ( ) -",
    "a" * 300,
    "测" * 5000,
    "x" * 70_000,
]
PAGE_SIZES = [-(2**31), -1, 0, 1, 2, 99, 100, 101, 1000, 2**31 - 1]
PK_TEXTS = ["0", "-1", "1.5", "abc", "", " 1", "1 ", "0x10", "١", "²", str(2**63 - 1), str(2**63), "9" * 30, "1e3"]
TYPE_NAMES = ["Lot", "Project", "Announcement", "Organisation", "User", "SealedBid", "Complaint", "Report", "Nope"]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def bad_ids() -> st.SearchStrategy[str]:
    """Global ids that are malformed, of another type, or of keys no database holds."""
    return st.one_of(
        st.builds(to_global_id, st.sampled_from(TYPE_NAMES), st.sampled_from(PK_TEXTS)),
        st.builds(to_global_id, st.sampled_from(TYPE_NAMES), st.integers(min_value=0, max_value=10**6)),
        st.binary(max_size=40).map(_b64),
        st.sampled_from(["", "=", "====", "!!", "TG90", "TG90Og", "Lot:1", "6K+v", "\x00", "😀", "a" * 5000]),
        st.text(max_size=30),
    )


def bad_cursors() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(["c:1", "c:-1", "c:abc", "x:1", "c:", ":", "c:" + "9" * 40, "c:١", "c:1.0"]).map(
            lambda t: _b64(t.encode())
        ),
        st.binary(max_size=24).map(_b64),
        st.text(max_size=24),
    )


def nasty_text() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(NASTY_STRINGS),
        st.text(max_size=40),
        st.text(alphabet=st.characters(codec="utf-8"), max_size=20),
        st.text(alphabet=string.printable, max_size=60),
    )


def json_values(max_leaves: int = 8) -> st.SearchStrategy[Any]:
    """Any JSON value: what a client of the wrong type (or a broken client) might send."""
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=False, allow_infinity=False),
        nasty_text(),
    )
    return st.recursive(
        scalars,
        lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
        max_leaves=max_leaves,
    )


def deep(depth: int, kind: str) -> Any:
    """A value nested `depth` levels (lists or objects)."""
    value: Any = "x"
    for _ in range(depth):
        value = [value] if kind == "list" else {"a": value}
    return value


def deep_values() -> st.SearchStrategy[Deep]:
    return st.builds(Deep, st.sampled_from([2, 30, 200, 800]), st.sampled_from(["list", "object"]))


def wrong_values() -> st.SearchStrategy[Any]:
    return st.one_of(json_values(), deep_values())


def scalar_values(scalar: GraphQLScalarType) -> st.SearchStrategy[Any]:
    name = scalar.name
    if name == "ID":
        real = st.sampled_from(ID_REFS).map(Ref)
        return st.one_of(real, real, bad_ids(), bad_cursors(), st.integers(min_value=-(2**40), max_value=2**40))
    if name == "String":
        return st.one_of(nasty_text(), st.sampled_from(STRING_REFS).map(Ref), bad_cursors(), bad_ids())
    if name == "Int":
        return st.one_of(
            st.sampled_from(PAGE_SIZES), st.integers(min_value=-(2**31), max_value=2**31 - 1), st.integers()
        )
    if name == "Float":
        return st.floats(allow_nan=False, allow_infinity=False)
    if name == "Boolean":
        return st.booleans()
    if name == "Fen":
        return st.one_of(
            st.sampled_from([0, -1, 1, 2**53 - 1, 2**53, -(2**53), 10**30]), st.integers(min_value=-(2**60))
        )
    if name == "DateTime":
        return st.one_of(
            st.datetimes(timezones=st.just(UTC)).map(datetime.isoformat),
            st.datetimes().map(datetime.isoformat),  # naive
            nasty_text(),
        )
    if name == "Date":
        return st.one_of(st.dates().map(date.isoformat), nasty_text())
    if name == "JSON":
        return st.one_of(json_values(), deep_values())
    return json_values()


def input_values(kind: GraphQLInputType, depth: int = 0) -> st.SearchStrategy[Any]:
    """Values for an input type: mostly of the type (with hostile contents), sometimes of any other."""
    if isinstance(kind, GraphQLNonNull):
        return st.one_of(*[input_values(kind.of_type, depth)] * 6, st.none(), wrong_values())
    wrong = wrong_values()
    if isinstance(kind, GraphQLList):
        item = input_values(kind.of_type, depth + 1)
        return st.one_of(st.lists(item, max_size=4), st.lists(item, max_size=4), item, st.none(), wrong)
    if isinstance(kind, GraphQLEnumType):
        return st.one_of(st.sampled_from(list(kind.values)), st.sampled_from(list(kind.values)), nasty_text(), wrong)
    if isinstance(kind, GraphQLInputObjectType):
        if depth > 3:
            return st.one_of(st.just({}), wrong)
        required = {n: input_values(f.type, depth + 1) for n, f in kind.fields.items() if _required(f.type)}
        optional = {n: input_values(f.type, depth + 1) for n, f in kind.fields.items() if not _required(f.type)}
        shaped = st.fixed_dictionaries(required, optional=optional)
        extra = st.builds(lambda d, k, v: {**d, k: v}, shaped, st.text(min_size=1, max_size=10), json_values(3))
        return st.one_of(shaped, shaped, shaped, extra, st.none(), wrong)
    assert isinstance(kind, GraphQLScalarType)
    return st.one_of(*[scalar_values(kind)] * 4, st.none(), wrong)


def _required(kind: GraphQLInputType) -> bool:
    return isinstance(kind, GraphQLNonNull)


def variable_types(name: str) -> dict[str, GraphQLInputType]:
    """The declared variables of a stored operation and their types."""
    document = parse(OPERATIONS[name].text)
    [operation] = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    found: dict[str, GraphQLInputType] = {}
    for definition in operation.variable_definitions or ():
        kind = type_from_ast(SCHEMA, definition.type)
        assert kind is not None, (name, definition.variable.name.value)
        found[definition.variable.name.value] = kind  # type: ignore[assignment]
    return found


def variables_for(name: str) -> st.SearchStrategy[dict[str, Any]]:
    """Variables for an operation: each declared one drawn or left out, sometimes an undeclared one."""
    declared = {var: input_values(kind) for var, kind in variable_types(name).items()}
    shaped = st.fixed_dictionaries({}, optional=declared)
    return st.one_of(
        shaped,
        shaped,
        shaped,
        st.builds(lambda d, k, v: {**d, k: v}, shaped, st.text(min_size=1, max_size=10), json_values(3)),
    )


# --- a fixed sweep: every operation, every variable at once ------------------------------------------

SWEEP = ("null", "wrong", "nul", "long", "surrogate", "extreme")


def hostile(kind: GraphQLInputType, variant: str, depth: int = 0) -> Any:
    """One value of the type (or, for `null` and `wrong`, not of it) hostile in the way `variant` names."""
    if variant == "null":
        return None
    if variant == "wrong":
        return {"a": [deep(3, "list")]}
    if isinstance(kind, GraphQLNonNull):
        return hostile(kind.of_type, variant, depth)
    if isinstance(kind, GraphQLList):
        return [hostile(kind.of_type, variant, depth + 1)] * 2
    if isinstance(kind, GraphQLEnumType):
        values = list(kind.values)
        return values[-1] if variant == "extreme" else values[0]
    if isinstance(kind, GraphQLInputObjectType):
        return {n: hostile(f.type, variant, depth + 1) for n, f in kind.fields.items()} if depth < 4 else {}
    assert isinstance(kind, GraphQLScalarType)
    return _hostile_scalar(kind.name, variant)


def _hostile_scalar(name: str, variant: str) -> Any:
    text = {"nul": "a\x00b", "long": "测" * 20_000, "surrogate": "x\ud800y", "extreme": "%_\\'\"; --"}[variant]
    if name == "ID":
        return {
            "nul": to_global_id("Lot", "1\x00"),
            "long": "A" * 20_000,
            "surrogate": Ref("lot"),
            "extreme": to_global_id("Lot", 2**63),
        }[variant]
    if name == "Int":
        return {"nul": 0, "long": 2**31 - 1, "surrogate": -1, "extreme": -(2**31)}[variant]
    if name == "Fen":
        return {"nul": 0, "long": 2**53 - 1, "surrogate": -1, "extreme": -(2**53 - 1)}[variant]
    if name == "Float":
        return -1e308
    if name == "Boolean":
        return variant in ("nul", "extreme")
    if name == "DateTime":
        return {
            "nul": "2026-02-30T00:00:00+08:00",
            "long": "9999-12-31T23:59:59+00:00",
            "surrogate": "0001-01-01T00:00:00+14:00",
            "extreme": "2026-06-01T12:00:00",
        }[variant]
    if name == "Date":
        return {"nul": "2026-02-30", "long": "9999-12-31", "surrogate": "0001-01-01", "extreme": "2026-6-1"}[variant]
    if name == "JSON":
        return deep(400, "object") if variant == "long" else {"k": text}
    return text


def sweep_variables(name: str, variant: str) -> dict[str, Any]:
    return {var: hostile(kind, variant) for var, kind in variable_types(name).items()}


# --- documents ------------------------------------------------------------------------------------

INSERTS = [
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    "$",
    "$input",
    "...",
    "... on Error { code }",
    "@include(if: $x)",
    "@skip(if: true)",
    "@deprecated",
    "#",
    '"',
    '"""',
    "\\u0000",
    "\x00",
    "😀",
    "测试",
    "query",
    "mutation",
    "subscription",
    "fragment F on Query { ...F }",
    "...F",
    "__schema { types { name fields { name } } }",
    "__typename",
    "a: __typename b: __typename",
    "node(id: 1) { id }",
    "first: -1",
    "first: 99999999999",
    'after: "x"',
    " 1.5e999 ",
    " -0 ",
    "\ufeff",
    "\u2028",
    "query Q { serverTime } query Q { serverTime }",
]


@st.composite
def broken_documents(draw: st.DrawFn) -> str:
    """A stored document mangled: cut, spliced, stuffed with tokens, or nonsense of its own."""
    text = OPERATIONS[draw(st.sampled_from(sorted(OPERATIONS)))].text
    how = draw(st.sampled_from(["cut", "delete", "insert", "swap", "repeat", "nest", "text", "doubled"]))
    at = draw(st.integers(min_value=0, max_value=len(text)))
    if how == "cut":
        return text[:at]
    if how == "delete":
        return text[:at] + text[at + draw(st.integers(min_value=1, max_value=40)) :]
    if how == "insert":
        pieces = draw(st.lists(st.one_of(st.sampled_from(INSERTS), st.text(max_size=6)), min_size=1, max_size=4))
        return text[:at] + " ".join(pieces) + text[at:]
    if how == "swap":
        words = re.findall(r"[A-Za-z_]+", text)
        old, new = draw(st.sampled_from(words)), draw(st.sampled_from([*words, "nope", "__type", "x" * 100]))
        return text.replace(old, new, draw(st.integers(min_value=1, max_value=3)))
    if how == "repeat":
        return text + "\n" + text
    if how == "nest":
        n = draw(st.sampled_from([10, 60, 150, 400, 1500]))
        opener = draw(st.sampled_from(["{", "a {", "[", "(", "... on Query {", "node(id: ["]))
        return "query " + opener * n + "id" + "}" * n
    if how == "doubled":
        return text.replace("{", "{ " + draw(st.sampled_from(INSERTS)) + " ", 1)
    return draw(st.text(max_size=200))


# --- requests and the checks on their answers -----------------------------------------------------


@dataclass
class Sent:
    """One HTTP request as sent, and every string it carried (a response may echo those)."""

    method: str
    url: str
    headers: dict[str, str]
    content: bytes | None = None
    payload: Any = None

    def strings(self) -> list[str]:
        found = [self.url, *self.headers.values()]
        if self.content is not None:
            found.append(self.content.decode("utf-8", "replace"))
        found.extend(walk_strings(self.payload))
        return found

    @property
    def locale(self) -> str:
        return "en" if self.headers.get("accept-language", "").lower().startswith("en") else "zh"


def walk_strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for k, v in value.items():
            yield str(k)
            yield from walk_strings(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from walk_strings(v)


def walk_dicts(value: Any) -> Iterator[Mapping[str, Any]]:
    if isinstance(value, Mapping):
        yield value
        for v in value.values():
            yield from walk_dicts(v)
    elif isinstance(value, list):
        for v in value:
            yield from walk_dicts(v)


def json_request(body: Any, token: str | None = None, locale: str | None = None, method: str = "POST") -> Sent:
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    if locale:
        headers["accept-language"] = locale
    content = json.dumps(body).encode()  # ASCII: a lone surrogate goes as \ud800, as a JavaScript client sends it
    return Sent(method, "/graphql", headers, content, body)


@dataclass
class Answer:
    status: int
    content_type: str
    text: str
    body: Any  # the decoded JSON, or None


def problems(sent: Sent, answer: Answer) -> list[str]:
    """Everything wrong with an answer: a status outside STATUSES, an untyped or INTERNAL error, a leak."""
    found: list[str] = []
    if answer.status >= 500 or answer.status not in STATUSES:
        found.append(f"HTTP {answer.status}")
    echoed = sent.strings()
    texts = list(walk_strings(answer.body)) if answer.body is not None else [answer.text]
    for marker in LEAKS:
        if any(marker in t for t in texts) and not any(marker in s for s in echoed):
            found.append(f"leak {marker!r}")
    if answer.status == 200 and answer.content_type.startswith("text/html"):
        return found  # GraphiQL, for a GET without a query (development)
    body = answer.body
    if not isinstance(body, Mapping):
        found.append(f"not a JSON object: {answer.content_type} {answer.text[:120]!r}")
        return found
    errors = body.get("errors")
    if answer.status != 200 and not errors:
        found.append("a refusal without errors")
    for error in errors or []:
        code = (error.get("extensions") or {}).get("code") if isinstance(error, Mapping) else None
        if not isinstance(code, str) or not CODE.match(code):
            found.append(f"untyped error {error!r:.200}")
        elif code == "INTERNAL":
            found.append(f"INTERNAL {error!r:.200}")
        if not isinstance(error, Mapping) or not isinstance(error.get("message"), str) or not error["message"]:
            found.append(f"error without a message {error!r:.200}")
    if "data" not in body and answer.status == 200:
        found.append("200 without data")
    for member in walk_dicts(body.get("data")):
        if "__typename" in member and "code" in member and "message" in member:
            found.extend(_member_problems(member, sent.locale))
    return found


def _member_problems(member: Mapping[str, Any], locale: str) -> list[str]:
    code, message = member["code"], member["message"]
    if not isinstance(code, str) or not CODE.match(code):
        return [f"union error without a code {member!r:.200}"]
    if code == "INTERNAL":
        return [f"INTERNAL member {member!r:.200}"]
    if not isinstance(message, str) or not message.strip():
        return [f"union error {code} without a message"]
    if locale == "zh" and not CJK.search(message):
        return [f"union error {code} not in Chinese: {message!r}"]
    if locale == "en" and not re.search(r"[A-Za-z]{3}", message):
        return [f"union error {code} not in English: {message!r}"]
    return []


def check(sent: Sent, answer: Answer) -> None:
    found = problems(sent, answer)
    assert not found, f"{found}\nrequest: {sent.method} {sent.url} {sent.content!r:.600}\nanswer: {answer.text[:1500]}"


# --- cases -------------------------------------------------------------------------------------------

TOKENS = {
    "app": ("anonymous", "bidder"),
    "kiosk": ("anonymous", "bidder", "terminal"),
    "integrator": ("anonymous", "bidder", "integrator"),
}
LOCALES = (None, "en", "en-US,en;q=0.9", "zh-CN", "fr", "é;q=x,,")


@dataclass(frozen=True)
class Case:
    """One stored operation sent with hostile variables, as text or by its persisted hash."""

    operation: str
    token: str
    variables: dict[str, Any]
    locale: str | None = None
    by_hash: bool = False

    def request(self, world: Mapping[str, str], tokens: Mapping[str, str | None]) -> Sent:
        op = OPERATIONS[self.operation]
        body: dict[str, Any] = {"operationName": self.operation, "variables": resolve(self.variables, world)}
        if self.by_hash:
            body["extensions"] = {"persistedQuery": {"version": 1, "sha256Hash": op.sha256}}
        else:
            body["query"] = op.text
        return json_request(body, tokens.get(self.token), self.locale)


def operation_cases(names: list[str]) -> st.SearchStrategy[Case]:
    def of(name: str) -> st.SearchStrategy[Case]:
        return st.builds(
            Case,
            st.just(name),
            st.sampled_from(TOKENS[OPERATIONS[name].client]),
            variables_for(name),
            st.sampled_from(LOCALES),
            st.booleans(),
        )

    return st.sampled_from(sorted(names)).flatmap(of)


CONTENT_TYPES = (
    "application/json",
    "application/json; charset=utf-8",
    "application/json; charset=latin-1",
    "APPLICATION/JSON",
    "application/graphql",
    "application/graphql-response+json",
    "application/jsonx",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "multipart/form-data",
    "application/octet-stream",
    "",
)
AUTHORIZATIONS = (
    None,
    "Bearer",
    "Bearer x",
    "Bearer a.b.c",
    "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.",  # alg none
    "Basic Zm9vOmJhcg==",
    "Token abc",
    "Bearer \u00e9",
)


def _deep_text(kind: str, n: int) -> str:
    if kind == "array":
        return "[" * n + "]" * n
    return '{"a":' * n + "1" + "}" * n


@st.composite
def raw_bodies(draw: st.DrawFn) -> bytes:
    """A request body: any JSON, a request object with fields of any type, or bytes that are not JSON."""
    how = draw(
        st.sampled_from(
            ["json", "request", "request", "bytes", "utf8", "deep", "digits", "batch", "nan", "bom", "empty"]
        )
    )
    if how == "json":
        return json.dumps(draw(json_values())).encode()
    if how == "request":
        fields = {
            "query": st.one_of(broken_documents(), json_values(3)),
            "variables": st.one_of(json_values(), deep_values()),
            "operationName": st.one_of(st.sampled_from(sorted(OPERATIONS)), json_values(2)),
            "extensions": st.one_of(
                json_values(3),
                st.fixed_dictionaries(
                    {"persistedQuery": st.one_of(json_values(3), st.fixed_dictionaries({"sha256Hash": json_values(1)}))}
                ),
            ),
        }
        return json.dumps(resolve(draw(st.fixed_dictionaries({}, optional=fields)), {})).encode()
    if how == "bytes":
        return draw(st.binary(max_size=200))
    if how == "utf8":
        return b'{"query": "{ serverTime }", "operationName": "\xff\xfe' + draw(st.binary(max_size=8)) + b'"}'
    if how == "deep":
        depth = draw(st.sampled_from([100, 1000, 5000, 20000]))  # beyond the stack: json raises RecursionError
        return _deep_text(draw(st.sampled_from(["array", "object"])), depth).encode()
    if how == "digits":
        return (
            b'{"query": "{ serverTime }", "variables": {"a": 1'
            + b"0" * draw(st.sampled_from([10, 4400, 20000]))
            + b"}}"
        )
    if how == "batch":
        return json.dumps([{"query": "{ serverTime }"}] * draw(st.integers(min_value=0, max_value=3))).encode()
    if how == "nan":
        return b'{"query": "query($a: Float) { serverTime }", "variables": {"a": NaN, "b": -Infinity}}'
    if how == "bom":
        return "\ufeff".encode() + b'{"query": "{ serverTime }"}'
    return b""


@st.composite
def raw_posts(draw: st.DrawFn) -> Sent:
    headers = {}
    content_type = draw(st.sampled_from(CONTENT_TYPES))
    if content_type:
        headers["content-type"] = content_type
    authorization = draw(st.sampled_from(AUTHORIZATIONS))
    if authorization is not None:
        headers["authorization"] = authorization
    return Sent("POST", "/graphql", headers, draw(raw_bodies()))


BROKEN_ESCAPES = ("%", "%Z", "%zz", "%00", "%ff%fe", "%C3", "+", "&&", "==", ";", "%%", "%2", "%E6%B5")


def _escaped(text: str) -> str:
    return "".join(c if c.isalnum() and c.isascii() else "%" + "%".join(f"{b:02X}" for b in c.encode()) for c in text)


@st.composite
def broken_gets(draw: st.DrawFn) -> Sent:
    """GET /graphql with query strings broken in every way: bad escapes, bad JSON, odd names, mutations."""
    names = st.sampled_from(["query", "query", "variables", "extensions", "operationName", "queryx", "", "query[]"])
    values = st.one_of(
        broken_documents().map(_escaped),
        st.sampled_from([OPERATIONS[n].text for n in sorted(OPERATIONS)]).map(_escaped),
        json_values(4).map(lambda v: _escaped(json.dumps(v))),
        st.sampled_from(BROKEN_ESCAPES),
        st.text(alphabet="%&=+;#?/abc0123{}[]", max_size=20),
    )
    pairs = draw(st.lists(st.tuples(names, values), max_size=5))
    query = "&".join(f"{n}={v}" if draw(st.booleans()) else f"{n}{v}" for n, v in pairs)
    headers = {}
    accept = draw(st.sampled_from([None, "text/html", "application/json", "*/*"]))
    if accept:
        headers["accept"] = accept
    return Sent("GET", "/graphql?" + query[:6000], headers)


Send = Callable[[Sent], Answer]
