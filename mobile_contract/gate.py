"""The contract gate: what the app, kiosks and integrators were promised still holds.

`python -m mobile_contract.gate` checks and exits 1 on any problem; `--write` regenerates the
manifest and ERRORS.md (from schema.graphql); `--release VERSION` makes schema.graphql the
released snapshot.
The test suite runs the same checks (tests/mobile_contract/test_gate.py).

A document is the file's text (UTF-8, LF line ends, no BOM) without its trailing newline; the
manifest's `sha256` is the hex SHA-256 of exactly those bytes, which is what a client sends as
`query` (or hashes for a persisted query).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLCompositeType,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    build_schema,
    find_breaking_changes,
    find_dangerous_changes,
    get_named_type,
    parse,
    validate,
)

from mobile_contract import snapshot

HERE = Path(__file__).resolve().parent
OPERATIONS = HERE / "operations"
MANIFEST = HERE / "manifest.json"
ERRORS_MD = HERE / "ERRORS.md"
RELEASED = HERE / "released" / "schema.graphql"
CLIENTS = ("app", "kiosk", "integrator")
DEFAULT_APP_VERSION = "1.0.0"
_RELEASE_HEADER = re.compile(r"^# PalmTrade mobile contract, release (\S+)", re.MULTILINE)


@dataclass(frozen=True)
class Operation:
    """One stored document: its client, file and the operation it defines."""

    client: str
    path: Path
    rel: str
    text: str
    name: str
    kind: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)
    dangerous: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def __str__(self) -> str:
        lines = [f"FAIL {p}" for p in self.problems] + [f"dangerous (not failing): {d}" for d in self.dangerous]
        return "\n".join(lines) or "contract holds"


def document_text(raw: bytes) -> str:
    """The document as sent: the file's UTF-8 text without its trailing newline."""
    return raw.decode("utf-8").removesuffix("\n")


def load_operations(root: Path = OPERATIONS, problems: list[str] | None = None) -> list[Operation]:
    """Every operation file under root/<client>/, checked for form (one named operation per file)."""
    problems = problems if problems is not None else []
    found: list[Operation] = []
    for path in sorted(root.glob("*/*.graphql")):
        rel = path.relative_to(root.parent).as_posix()
        client = path.parent.name
        if client not in CLIENTS:
            problems.append(f"{rel}: unknown client directory {client!r} (one of {', '.join(CLIENTS)})")
            continue
        raw = path.read_bytes()
        if raw.startswith(b"\xef\xbb\xbf") or b"\r" in raw or not raw.endswith(b"\n") or raw.endswith(b"\n\n"):
            problems.append(f"{rel}: must be UTF-8 without BOM, LF line ends, ending in exactly one newline")
        text = document_text(raw)
        try:
            document = parse(text)
        except GraphQLError as err:
            problems.append(f"{rel}: does not parse: {err.message}")
            continue
        ops = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        if len(ops) != 1 or ops[0].name is None:
            problems.append(f"{rel}: must define exactly one named operation")
            continue
        name = ops[0].name.value
        if name != path.stem:
            problems.append(f"{rel}: operation {name} must be stored as {name}.graphql")
        found.append(Operation(client, path, rel, text, name, ops[0].operation.value))
    return found


def check_operations(schema: GraphQLSchema, operations: list[Operation]) -> list[str]:
    """Unique names, each document valid against schema, each mutation with its Error fallbacks."""
    problems: list[str] = []
    seen: dict[str, str] = {}
    for op in operations:
        if op.name in seen:
            problems.append(f"duplicate operation name {op.name}: {seen[op.name]} and {op.rel}")
        seen.setdefault(op.name, op.rel)
        document = parse(op.text)
        errors = validate(schema, document)
        if errors:
            problems.extend(f"{op.rel}: no longer validates: {e.message}" for e in errors)
            continue
        if op.kind == OperationType.MUTATION.value:
            problems.extend(f"{op.rel}: {p}" for p in missing_error_fallbacks(schema, document))
    return problems


def missing_error_fallbacks(schema: GraphQLSchema, document: Any) -> list[str]:
    """Union-typed fields (with Error members) selected without `... on Error { code message }`."""
    error_type = schema.get_type("Error")
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    problems: list[str] = []

    def error_fields(selection_set: SelectionSetNode) -> set[str]:
        names: set[str] = set()
        for sel in selection_set.selections:
            if isinstance(sel, InlineFragmentNode) and sel.type_condition and sel.type_condition.name.value == "Error":
                names |= {s.name.value for s in sel.selection_set.selections if isinstance(s, FieldNode)}
            elif isinstance(sel, FragmentSpreadNode) and sel.name.value in fragments:
                frag = fragments[sel.name.value]
                if frag.type_condition.name.value == "Error":
                    names |= {s.name.value for s in frag.selection_set.selections if isinstance(s, FieldNode)}
        return names

    def walk(parent: GraphQLCompositeType, selection_set: SelectionSetNode, path: str) -> None:
        for sel in selection_set.selections:
            if isinstance(sel, FieldNode):
                if not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
                    continue
                definition = parent.fields.get(sel.name.value)
                if definition is None or sel.selection_set is None:
                    continue
                named = get_named_type(definition.type)
                here = f"{path}.{sel.alias.value if sel.alias else sel.name.value}"
                if (
                    isinstance(named, GraphQLUnionType)
                    and isinstance(error_type, GraphQLInterfaceType)
                    and any(schema.is_sub_type(error_type, m) for m in named.types)
                    and not {"code", "message"} <= error_fields(sel.selection_set)
                ):
                    problems.append(f"{here.lstrip('.')} ({named.name}) selects no `... on Error {{ code message }}`")
                if isinstance(named, GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType):
                    walk(named, sel.selection_set, here)
            else:
                target = parent
                if isinstance(sel, InlineFragmentNode):
                    inner = sel.selection_set
                    if sel.type_condition:
                        target = schema.get_type(sel.type_condition.name.value)  # type: ignore[assignment]
                elif isinstance(sel, FragmentSpreadNode):
                    frag = fragments.get(sel.name.value)
                    if frag is None:
                        continue
                    inner = frag.selection_set
                    target = schema.get_type(frag.type_condition.name.value)  # type: ignore[assignment]
                if target is not None:
                    walk(target, inner, path)

    mutation_type = schema.mutation_type
    for definition in document.definitions:
        if (
            isinstance(definition, OperationDefinitionNode)
            and mutation_type is not None
            and definition.operation == OperationType.MUTATION
        ):
            walk(mutation_type, definition.selection_set, "")
    return problems


def schema_changes(released: GraphQLSchema, served: GraphQLSchema) -> tuple[list[str], list[str]]:
    """(breaking, dangerous) changes from the released snapshot to the served schema."""
    breaking = [f"{c.type.name}: {c.description}" for c in find_breaking_changes(released, served)]
    dangerous = [f"{c.type.name}: {c.description}" for c in find_dangerous_changes(released, served)]
    return breaking, dangerous


def build_manifest(operations: list[Operation], previous: dict[str, Any] | None = None) -> dict[str, Any]:
    """The manifest for these operations; minimum app versions of unchanged documents are kept."""
    previous = previous or {}
    next_version = str(previous.get("nextAppVersion", DEFAULT_APP_VERSION))
    before = {e["name"]: e for e in previous.get("operations", [])}
    entries = []
    for op in sorted(operations, key=lambda o: (CLIENTS.index(o.client), o.name)):
        old = before.get(op.name)
        keep = old is not None and old.get("sha256") == op.sha256 and old.get("client") == op.client
        entries.append(
            {
                "name": op.name,
                "client": op.client,
                "type": op.kind,
                "file": op.rel,
                "sha256": op.sha256,
                "minAppVersion": old["minAppVersion"] if keep and old else next_version,
            }
        )
    return {
        "hash": "sha256 of the document: the file's UTF-8 bytes without the trailing newline",
        "nextAppVersion": next_version,
        "operations": entries,
    }


def manifest_text(manifest: dict[str, Any]) -> str:
    return json.dumps(manifest, ensure_ascii=False, indent=2) + "\n"


def check_manifest(operations: list[Operation], manifest: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    listed = {e.get("name"): e for e in manifest.get("operations", [])}
    if len(listed) != len(manifest.get("operations", [])):
        problems.append("manifest.json lists an operation name twice")
    stored = {op.name: op for op in operations}
    for name in sorted(set(stored) - set(listed)):
        problems.append(f"manifest.json is missing operation {name} (run `make contract`)")
    for name in sorted(set(listed) - set(stored)):
        problems.append(f"manifest.json lists {name}, which has no document (run `make contract`)")
    for name in sorted(set(stored) & set(listed)):
        entry, op = listed[name], stored[name]
        if entry.get("sha256") != op.sha256:
            problems.append(f"manifest.json: hash of {name} does not match {op.rel} (run `make contract`)")
        if entry.get("client") != op.client:
            problems.append(f"manifest.json: {name} is listed for {entry.get('client')}, stored for {op.client}")
        if not re.fullmatch(r"\d+\.\d+\.\d+", str(entry.get("minAppVersion", ""))):
            problems.append(f"manifest.json: {name} has no minAppVersion (MAJOR.MINOR.PATCH)")
    return problems


_CODE = re.compile(r"^([A-Z][A-Z0-9_]+): (.*)$", re.DOTALL)


def errors_markdown(schema: GraphQLSchema) -> str:
    """ERRORS.md: every Error type with its code, message, extra fields and the mutations returning it."""
    error = schema.get_type("Error")
    assert isinstance(error, GraphQLInterfaceType)
    returned_by: dict[str, list[str]] = {}
    unions = 0
    for name, fdef in (schema.mutation_type.fields if schema.mutation_type else {}).items():
        result = get_named_type(fdef.type)
        if isinstance(result, GraphQLUnionType):
            unions += 1
            for member in result.types:
                returned_by.setdefault(member.name, []).append(name)
    rows = []
    for type_ in schema.get_implementations(error).objects:
        match = _CODE.match((type_.description or "").strip())
        code, message = (match.group(1), " ".join(match.group(2).split())) if match else ("?", type_.description or "")
        extra = [f"`{n}`" for n in type_.fields if n not in ("code", "message")]
        mutations = returned_by.get(type_.name, [])
        where = "every mutation" if len(mutations) == unions else ", ".join(f"`{m}`" for m in sorted(mutations))
        rows.append((code, type_.name, message.replace("|", "\\|"), ", ".join(extra), where))
    rows.sort()
    lines = [
        "# Error codes",
        "",
        "Generated from the served schema by `make contract` (`python -m mobile_contract.gate --write`);",
        "the gate fails when this file and the schema differ. Do not edit by hand.",
        "",
        "A business failure is data, never a top-level GraphQL error: a mutation returns a union whose",
        "members implement `interface Error { code: String! message: String! }` (and `FieldError`, which",
        "adds `field`, the input field at fault). `code` is stable; `message` is in the caller's language",
        "(zh-CN by default, English with `Accept-Language: en`); `{placeholders}` below are filled in.",
        "Every operation selects `... on Error { code message }`, so a member added after an app build",
        "still shows its message. Top-level errors carry `extensions.code`: `UNAUTHENTICATED` (no or bad",
        "token, HTTP 401; `extensions.cause` is `TOKEN_REVOKED` for a session that ended before its token expired:",
        "signed out, a password change or reset, a refresh token presented twice; on connection_init too, and",
        "an open socket of such a session is closed with code 4401, reason `TOKEN_REVOKED`: sign in again),",
        "`FORBIDDEN` (a role that may never call the field), `TWO_FACTOR_REQUIRED` (a",
        "role withheld from a session without two factors), `GRAPHQL_PARSE_FAILED` (a document that does",
        "not parse), `GRAPHQL_VALIDATION_FAILED` (a document or variables that do not fit the schema),",
        "`QUERY_TOO_DEEP` / `TOO_MANY_ALIASES` / `TOO_MANY_TOKENS` / `QUERY_TOO_COSTLY` for one over the",
        "limits, `PERSISTED_QUERY_NOT_FOUND` / `PERSISTED_QUERY_HASH_MISMATCH` / `PERSISTED_QUERY_REQUIRED`",
        "/ `OPERATION_NOT_ALLOWED` for persisted operations and allow-lists, `RATE_LIMITED` (HTTP 429 with",
        "`Retry-After` and `extensions.retryAfter`), `BAD_REQUEST` / `NOT_FOUND` / `METHOD_NOT_ALLOWED` for",
        "a request the endpoint cannot take (HTTP 400 / 404 / 405), and `INTERNAL` for bugs (masked; quote",
        "`extensions.requestId`).",
        "",
        "| code | type | message (English) | extra fields | returned by |",
        "| --- | --- | --- | --- | --- |",
    ]
    lines += [f"| `{c}` | `{t}` | {m} | {x} | {w} |" for c, t, m, x, w in rows]
    return "\n".join(lines) + "\n"


def released_sdl() -> str:
    return RELEASED.read_text(encoding="utf-8")


def released_version(sdl: str | None = None) -> str:
    match = _RELEASE_HEADER.search(sdl if sdl is not None else released_sdl())
    return match.group(1) if match else "unknown"


def check(
    served_sdl: str | None = None,
    released: str | None = None,
    root: Path = OPERATIONS,
    manifest: dict[str, Any] | None = None,
    errors_md: str | None = None,
    drift: bool = True,
) -> Report:
    """Every check of the gate; arguments replace the committed artefacts (tests pass altered ones)."""
    report = Report()
    served_text = served_sdl if served_sdl is not None else snapshot.served_sdl()
    served = build_schema(served_text)
    if drift and served_sdl is None:
        diff = snapshot.drift()
        if diff:
            report.problems.append("schema drift: the served schema differs from schema.graphql (`make schema`)")
    old = build_schema(released if released is not None else released_sdl())
    breaking, report.dangerous = schema_changes(old, served)
    report.problems += [f"breaking change against release {released_version(released)}: {b}" for b in breaking]
    operations = load_operations(root, report.problems)
    report.problems += check_operations(served, operations)
    if manifest is None:
        manifest = json.loads(MANIFEST.read_text(encoding="utf-8")) if MANIFEST.exists() else {}
    report.problems += check_manifest(operations, manifest)
    if errors_md is None:
        errors_md = ERRORS_MD.read_text(encoding="utf-8") if ERRORS_MD.exists() else ""
    committed = build_schema(snapshot.SNAPSHOT.read_text(encoding="utf-8")) if served_sdl is None else served
    if errors_md != errors_markdown(committed):
        report.problems.append("ERRORS.md differs from the schema's Error types (run `make contract`)")
    return report


def write() -> None:
    """Regenerates manifest.json and ERRORS.md from the documents and the served schema."""
    previous = json.loads(MANIFEST.read_text(encoding="utf-8")) if MANIFEST.exists() else None
    problems: list[str] = []
    operations = load_operations(OPERATIONS, problems)
    MANIFEST.write_text(manifest_text(build_manifest(operations, previous)), encoding="utf-8")
    ERRORS_MD.write_text(errors_markdown(build_schema(snapshot.SNAPSHOT.read_text(encoding="utf-8"))), encoding="utf-8")
    for p in problems:
        print(f"FAIL {p}", file=sys.stderr)
    print(f"wrote {MANIFEST.relative_to(HERE.parent)} ({len(operations)} operations) and {ERRORS_MD.name}")


def release(version: str) -> None:
    """Makes the committed snapshot (schema.graphql) the released one, as `version`."""
    if not re.fullmatch(r"\d+\.\d+\.\d+", version):
        raise SystemExit("a release version is MAJOR.MINOR.PATCH")
    header = (
        f"# PalmTrade mobile contract, release {version}\n"
        "# The schema shipped apps and integrators were built against; the gate fails on a breaking change\n"
        "# from it. Cut a release only when clients ship: `python -m mobile_contract.gate --release X.Y.Z`.\n\n"
    )
    RELEASED.parent.mkdir(exist_ok=True)
    RELEASED.write_text(header + snapshot.SNAPSHOT.read_text(encoding="utf-8"), encoding="utf-8")
    print(f"wrote {RELEASED.relative_to(HERE.parent)} as release {version}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mobile_contract.gate")
    parser.add_argument("--write", action="store_true", help="regenerate manifest.json and ERRORS.md")
    parser.add_argument("--release", metavar="VERSION", help="make schema.graphql the released snapshot")
    args = parser.parse_args(argv)
    if args.release:
        release(args.release)
    if args.write:
        write()
    report = check()
    print(report)
    counts = {c: 0 for c in CLIENTS}
    for op in load_operations(OPERATIONS, []):
        counts[op.client] += 1
    print("operations: " + ", ".join(f"{c} {n}" for c, n in counts.items()))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
