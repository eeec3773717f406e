"""Limits no client can bypass (depth, aliases, tokens, cost), masking of unexpected errors, and a bound on
what one request can make the server log.

The validation rules are built once per schema: a new rule class per request would change the
ValidationCache key and silently disable the cache (measured 1.4k vs 17k executions/s).

Each fragment is measured once per document: walking a spread each time it occurs is exponential
in the number of nested fragments (a few hundred tokens of `...F1 ...F1` blocked the process).
"""

import logging
import re
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSyntaxError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    VariableNode,
)
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry import Schema
from strawberry.extensions import MaskErrors, ParserCache, SchemaExtension
from strawberry.types import ExecutionContext
from strawberry.types.graphql import OperationType

from domain.common.errors import DomainError

log = logging.getLogger("palmtrade.graphql")


@dataclass(frozen=True, slots=True)
class Measure:
    """Of a selection set: field levels (introspection subtrees count one), aliases, unit cost."""

    levels: int = 0
    aliases: int = 0
    cost: int = 0


class _Measurer:
    """Measures selection sets of one document, each fragment once."""

    def __init__(self, fragments: dict[str, FragmentDefinitionNode], page_cap: int) -> None:
        self.fragments = fragments
        self.page_cap = page_cap
        self.done: dict[str, Measure] = {}
        self.open: set[str] = set()

    def fragment(self, name: str) -> Measure:
        if name in self.done:
            return self.done[name]
        definition = self.fragments.get(name)
        if definition is None or name in self.open:
            return Measure()  # unknown or cyclic: reported by the standard rules
        self.open.add(name)
        measure = self.selection(definition.selection_set)
        self.open.discard(name)
        self.done[name] = measure
        return measure

    def _factor(self, node: FieldNode) -> int:
        for arg in node.arguments or ():
            if arg.name.value in ("first", "last", "limit"):
                if isinstance(arg.value, IntValueNode):
                    return max(1, min(int(arg.value.value), self.page_cap))
                if isinstance(arg.value, VariableNode):
                    return self.page_cap
        return 1

    def selection(self, selection: SelectionSetNode | None) -> Measure:
        if selection is None:
            return Measure()
        levels = aliases = cost = 0
        for node in selection.selections:
            if isinstance(node, FieldNode):
                inner = self.selection(node.selection_set)
                # introspection fields count as one level: GraphiQL's own query nests deeper
                deep = node.selection_set is not None and not node.name.value.startswith("__")
                levels = max(levels, 1 + inner.levels if deep else 1)
                aliases += (1 if node.alias else 0) + inner.aliases
                cost += 1 + self._factor(node) * inner.cost
            else:
                inner = (
                    self.selection(node.selection_set)
                    if isinstance(node, InlineFragmentNode)
                    else self.fragment(node.name.value)
                    if isinstance(node, FragmentSpreadNode)
                    else Measure()
                )
                levels = max(levels, inner.levels)
                aliases += inner.aliases
                cost += inner.cost
        return Measure(levels, aliases, cost)


def measure_operations(document: Any, page_cap: int) -> list[tuple[OperationDefinitionNode, Measure]]:
    """The measure of every operation of a parsed document."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    measurer = _Measurer(fragments, page_cap)
    return [
        (d, measurer.selection(d.selection_set)) for d in document.definitions if isinstance(d, OperationDefinitionNode)
    ]


def limits_rule(max_depth: int, max_aliases: int, max_cost: int, page_cap: int) -> type[ValidationRule]:
    """One rule for depth (edges below the root), aliases (in the whole document) and cost.

    Cost charges 1 per field, multiplied by the `first` of every enclosing list (capped).
    """

    class QueryLimits(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            measures = measure_operations(context.document, page_cap)
            aliases = sum(m.aliases for _, m in measures)
            if aliases > max_aliases:
                context.report_error(
                    GraphQLError(
                        f"{aliases} aliases found. Allowed: {max_aliases} / 别名过多",
                        extensions={"code": "TOO_MANY_ALIASES", "aliases": aliases, "limit": max_aliases},
                    )
                )
            for operation, measure in measures:
                name = operation.name.value if operation.name else "anonymous"
                depth = measure.levels - 1
                if depth > max_depth:
                    context.report_error(
                        GraphQLError(
                            f"'{name}' exceeds maximum operation depth of {max_depth} / 查询嵌套过深",
                            [operation],
                            extensions={"code": "QUERY_TOO_DEEP", "depth": depth, "limit": max_depth},
                        )
                    )
                if measure.cost > max_cost:
                    context.report_error(
                        GraphQLError(
                            f"Query cost {measure.cost} exceeds the limit of {max_cost} / 查询代价超出上限",
                            [operation],
                            extensions={"code": "QUERY_TOO_COSTLY", "cost": measure.cost, "limit": max_cost},
                        )
                    )

    return QueryLimits


def limit_extensions(
    *,
    max_depth: int,
    max_aliases: int,
    max_tokens: int,
    max_cost: int,
    page_cap: int,
    anonymous_introspection: bool,
) -> list[Callable[[], SchemaExtension]]:
    rules: tuple[type[ValidationRule], ...] = (limits_rule(max_depth, max_aliases, max_cost, page_cap),)
    closed = (*rules, NoSchemaIntrospectionCustomRule)

    class Limits(SchemaExtension):
        """The token limit for the parser and the rules for validation, in one per-request hook.

        (strawberry's MaxTokensLimiter does only the first; each extension costs every request
        its own hook set-up.)
        """

        def on_operation(self) -> Iterator[None]:
            ctx = self.execution_context
            ctx.parse_options["max_tokens"] = max_tokens
            if getattr(getattr(ctx.context, "request", None), "scope", {}).get("type") == "http":
                # subscriptions are served over the WebSocket only; over HTTP strawberry ran one as a query
                ctx.allowed_operations = set(ctx.allowed_operations) - {OperationType.SUBSCRIPTION}
            actor = getattr(ctx.context, "actor", None)
            allow = anonymous_introspection or (actor is not None and not actor.is_anonymous)
            ctx.validation_rules = ctx.validation_rules + (rules if allow else closed)
            yield

    return [Limits]


class Parser(ParserCache):
    """strawberry's ParserCache, except that a document that does not parse is left to strawberry's own
    parse, which reports it inside the operation: raised here, the error escaped every extension's
    on_operation, so MaskUnexpected never saw it (a syntax error reached clients without a code)."""

    def on_parse(self) -> Iterator[None]:
        ctx = self.execution_context
        try:
            ctx.graphql_document = self.cached_parse_document(ctx.query, **ctx.parse_options)
        except Exception:
            ctx.graphql_document = None
        yield


_EXPECTED_CODES = {"UNAUTHENTICATED", "FORBIDDEN"}
_TOKEN_LIMIT = re.compile(r"more than \d+ tokens")


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _should_mask(error: GraphQLError) -> bool:
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        return False
    return (error.extensions or {}).get("code") not in _EXPECTED_CODES


def _is_bug(error: GraphQLError) -> bool:
    return _should_mask(error) and not isinstance(error.original_error, DomainError)


# What one request can make the server log: a refused request is one line with its first error's message cut
# short (never the document's lines), and at most a few bugs are logged with their tracebacks, each cut short
# (an exception's message may carry what the client sent); the others are only counted.
LOGGED_MESSAGE_CHARS = 300
LOGGED_TRACEBACKS = 3
LOGGED_TRACEBACK_CHARS = 4000


def clip(text: str, limit: int) -> str:
    """The text, cut to `limit` characters with a note of how much was left out."""
    return text if len(text) <= limit else f"{text[:limit]}… [{len(text) - limit} more characters]"


def _traceback(error: BaseException) -> str:
    lines = traceback.format_exception(type(error), error, error.__traceback__)
    return clip("".join(clip(line, LOGGED_MESSAGE_CHARS) for line in lines), LOGGED_TRACEBACK_CHARS)


class BoundedLogSchema(Schema):
    """strawberry's Schema, logging a refused request in one bounded line.

    strawberry logs every error with the document's lines around it, and each bad variable with a traceback:
    a 333-byte document of a fragment with 150 unknown fields made 42 KB of log, 128 times its size. Bugs are
    logged by MaskUnexpected, with the request id the client is shown.
    """

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        refused = [e for e in errors if not _is_bug(e)]
        if refused:
            context = getattr(execution_context, "context", None)
            log.info(
                "request %s refused with %d error(s), the first: %s",
                getattr(context, "request_id", "-"),
                len(refused),
                clip(refused[0].message, LOGGED_MESSAGE_CHARS),
            )


def _typed(error: GraphQLError) -> GraphQLError:
    """The error with a code: graphql-core gives none to a syntax error (or a document over the token
    limit), a document that does not validate, or variables that do not fit their types."""
    if (error.extensions or {}).get("code"):
        return error
    if isinstance(error, GraphQLSyntaxError):
        code = "TOO_MANY_TOKENS" if _TOKEN_LIMIT.search(error.message) else "GRAPHQL_PARSE_FAILED"
    else:
        code = "GRAPHQL_VALIDATION_FAILED" if error.path is None else "BAD_REQUEST"
    return GraphQLError(
        error.message,
        error.nodes,
        error.source,
        error.positions,
        error.path,
        error.original_error,
        {**(error.extensions or {}), "code": code},
    )


class MaskUnexpected(MaskErrors):
    """Hides bugs from clients; the log keeps them, with the request id the client is shown.

    A domain error escaping a resolver (e.g. InvalidInput from a bad `first`) is the caller's
    fault, not a bug: it keeps its code and message in the caller's language. Every other error
    gets a code too (GRAPHQL_PARSE_FAILED, TOO_MANY_TOKENS, GRAPHQL_VALIDATION_FAILED).
    """

    def __init__(self) -> None:
        super().__init__(should_mask_error=_should_mask)
        self.logged = self.unlogged = 0

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        processed = [self.anonymise_error(e) if _should_mask(e) else _typed(e) for e in errors]
        if self.unlogged:
            request_id = getattr(self.execution_context.context, "request_id", "-")
            log.error("%d more unexpected errors [request %s], not logged", self.unlogged, request_id)
            self.unlogged = 0
        return processed

    def _process_result(self, result: object) -> None:
        # as MaskErrors does, without its isinstance() against a runtime-checkable Protocol,
        # which alone cost more than the rest of this extension on every request
        errors = getattr(result, "errors", None)
        if errors:
            result.errors = self._process_errors(errors)  # type: ignore[attr-defined]

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        context = self.execution_context.context
        original: Any = error.original_error
        if isinstance(original, DomainError):
            return GraphQLError(
                message=original.message(getattr(context, "locale", "zh")),
                nodes=error.nodes,
                source=error.source,
                positions=error.positions,
                path=error.path,
                extensions={"code": original.code, **{k: _plain(original.params.get(k)) for k in original.exposed}},
            )
        request_id = getattr(context, "request_id", "-")
        if self.logged < LOGGED_TRACEBACKS:
            self.logged += 1
            log.error(
                "unexpected error in %s [request %s]\n%s",
                clip(str(error.path), LOGGED_MESSAGE_CHARS),
                request_id,
                _traceback(original),
            )
        else:
            self.unlogged += 1
        return GraphQLError(
            message=f"Unexpected error; quote request {request_id} / 服务器内部错误，请提供请求编号 {request_id}",
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions={"code": "INTERNAL", "requestId": request_id},
        )
