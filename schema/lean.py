"""A lean executor for the queries the clients send by name: a plan built once per document, then each request
runs only the resolvers, with none of graphql-core's general per-field machinery.

graphql-core executes a field by looking it up, building a resolve info, checking for middleware and argument
nodes, calling the resolver and dispatching the value's completion on its type, for every field of every
object (about 8 us a field here). For a query whose document is known in advance (the mobile contract's), all
of that but calling the resolvers is the same on every request: the plan keeps, per selected field, its
definition, how its value is read (strawberry's attribute read for a plain field, its resolver otherwise:
permission classes and argument conversion are inside strawberry's resolver, and run as before) and how its
value is completed. The executor then reads attributes directly, builds a resolve info only for a field whose
resolver or type check takes one, and completes values on their planned types.

It runs only the successful answer. The first thing it does not expect (a resolver raising, a null in a
non-null position, a value a scalar refuses, a runtime type it cannot place) marks the run failed; it lets the
work already started finish, then graphql-core executes the operation, exactly as without this module, except
that every resolver the lean run has already called answers what it answered then (a middleware replays it by
path) instead of running again: no resolver runs twice, and the answer, its errors and their null propagation
are graphql-core's own. A document takes this path only when it is a query, carries no directive, selects no
introspection field but `__typename`, and no schema extension resolves fields (a middleware); anything else,
subscriptions included, is executed by graphql-core as before. The one exception is a mutation named in
`LeanPlans.mutations` (the app's `BidPlace`) whose operation selects one root field: with a single root field
graphql-core's serial execution of mutations is the same as this module's, and a failed run is replayed as for a
query (its resolver answered once: a bid is never placed twice). Its refusals are members of the result union, so a
refused bid is an answer without errors and takes the lean path as an accepted one does.

Everything around execution is unchanged: the schema extensions still parse (from the persisted document),
validate (cached), apply the limits, the allow-lists and the kiosk guard, mask errors and trace; the lean run
is the last `on_execute` hook, so a refusal before it means it never starts. Completed objects of the fragment
cache's pure types (schema/fragment_cache.py) are taken from and stored in the same cache, by the same keys.

Once a document's plan exists (built in that hook, after the document validated), the GraphQL view may ask
`LeanPlans.answer` first, before strawberry's operation pipeline, for a request that pipeline would do nothing
else for (api/graphql_app.py says when); an answer without errors is then the response, and a failed run is
left pending for the request's task and replayed by the hook when the pipeline runs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from types import CoroutineType
from typing import Any, Final, TypeGuard, cast

from graphql import (
    DirectiveNode,
    DocumentNode,
    ExecutionResult,
    FieldNode,
    GraphQLAbstractType,
    GraphQLField,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    OperationDefinitionNode,
    OperationType,
    Undefined,
    Visitor,
    execute,
    is_abstract_type,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
    visit,
)
from graphql.execution import MiddlewareManager
from graphql.execution.collect_fields import FieldDetailsList, collect_fields
from graphql.execution.values import get_argument_values
from graphql.pyutils import Path
from strawberry import Schema
from strawberry.execution.is_awaitable import optimized_is_awaitable as _optimized_is_awaitable
from strawberry.extensions import SchemaExtension
from strawberry.types.field import StrawberryField
from strawberry.utils.await_maybe import AwaitableOrValue

from schema.fragment_cache import CachingExecutor, _declared

_FAILED: Final = object()
# strawberry's awaitable check, the one its execution passes to graphql-core (typed there as a TypeGuard)
optimized_is_awaitable = cast("Callable[[Any], TypeGuard[Awaitable[Any]]]", _optimized_is_awaitable)


class _Failed(Exception):
    """Raised inside a lean run where graphql-core would raise a field error; never leaves this module."""


@dataclass
class _Completion:
    """How a value of one output type is completed (graphql-core's complete_value, decided once)."""

    kind: str  # "nonnull", "list", "leaf", "object", "abstract"
    type_: GraphQLOutputType
    inner: _Completion | None = None
    details: FieldDetailsList | None = None
    # objects: their fields (built at first use), pure-type caching; abstract: the object completion per type
    fields: list[_Field] | None = None
    selection: int | None = None
    by_type: dict[str, _Completion] = field(default_factory=dict)


@dataclass
class _Field:
    response_name: str
    definition: GraphQLField
    parent_type: GraphQLObjectType
    details: FieldDetailsList
    nodes: list[FieldNode]
    typename: str | None  # `__typename`: the parent's name, nothing to run
    attribute: str | None  # a plain strawberry field: the attribute it reads
    resolve: Callable[..., Any] | None
    has_arguments: bool
    needs_info: bool  # its resolver or its type check takes a resolve info
    completion: _Completion


def _plain_attribute(resolve: Callable[..., Any] | None, default_resolver: Any) -> str | None:
    """The attribute a strawberry field without resolver, permission or extension reads (its
    `_get_basic_result` calls `field.get_result`, which is `default_resolver(source, python_name)`)."""
    if resolve is None or default_resolver is not getattr or getattr(resolve, "__name__", "") != "_get_basic_result":
        return None
    for cell in getattr(resolve, "__closure__", None) or ():
        value = cell.cell_contents
        if isinstance(value, StrawberryField):
            return value.python_name if value.is_basic_field else None
    return None


class _Eligible(Visitor):
    """Finds what the lean executor leaves to graphql-core: directives and introspection."""

    def __init__(self) -> None:
        super().__init__()
        self.ok = True

    def enter_directive(self, node: DirectiveNode, *_: Any) -> None:
        self.ok = False

    def enter_field(self, node: FieldNode, *_: Any) -> None:
        if node.name.value.startswith("__") and node.name.value != "__typename":
            self.ok = False


class Plan:
    """One query operation of a known document, its fields planned as requests reach them."""

    def __init__(self, schema: Schema, document: DocumentNode, operation: OperationDefinitionNode) -> None:
        self.schema = schema
        self.document = document
        self.operation = operation
        self.root: list[_Field] | None = None
        self._default_resolver = schema.config.default_resolver

    # ---------------------------------------------------------------- planning (once per document and type)

    def _completion(self, type_: GraphQLOutputType, details: FieldDetailsList) -> _Completion:
        if is_non_null_type(type_):
            assert isinstance(type_, GraphQLNonNull)
            return _Completion("nonnull", type_, self._completion(type_.of_type, details))
        if is_list_type(type_):
            assert isinstance(type_, GraphQLList)
            return _Completion("list", type_, self._completion(type_.of_type, details))
        if is_leaf_type(type_):
            return _Completion("leaf", type_)
        if is_abstract_type(type_):
            return _Completion("abstract", type_, details=details)
        return _Completion("object", type_, details=details)

    def _fields(self, executor: Any, parent_type: GraphQLObjectType, grouped: Any) -> list[_Field]:
        planned = []
        for response_name, details in grouped.items():
            node = details[0].node
            name = node.name.value
            if any(d.fragment_variable_values is not None for d in details):
                raise _Failed
            nodes = [d.node for d in details]
            if name == "__typename":
                definition = executor.schema.get_field(parent_type, name)
                typename = _Completion("leaf", definition.type)
                planned.append(
                    _Field(
                        response_name,
                        definition,
                        parent_type,
                        details,
                        nodes,
                        parent_type.name,
                        None,
                        None,
                        False,
                        False,
                        typename,
                    )
                )
                continue
            definition = parent_type.fields.get(name)
            if definition is None:
                raise _Failed
            attribute = _plain_attribute(definition.resolve, self._default_resolver)
            completion = self._completion(definition.type, details)
            named = completion
            while named.inner is not None:
                named = named.inner
            checks = named.kind == "abstract" or (
                named.kind == "object" and getattr(named.type_, "is_type_of", None) is not None
            )
            planned.append(
                _Field(
                    response_name,
                    definition,
                    parent_type,
                    details,
                    nodes,
                    None,
                    attribute,
                    None if attribute is not None else (definition.resolve or executor.field_resolver),
                    bool(definition.args or node.arguments),
                    attribute is None or checks,
                    completion,
                )
            )
        return planned

    def object_fields(self, executor: Any, completion: _Completion) -> list[_Field]:
        if completion.fields is None:
            type_ = completion.type_
            assert isinstance(type_, GraphQLObjectType)
            assert completion.details is not None
            grouped = executor.collect_subfields(type_, completion.details)[0]
            completion.fields = self._fields(executor, type_, grouped)
            declared = _declared.get(type_.name)
            if declared is not None and declared.key is not None and isinstance(executor, CachingExecutor):
                completion.selection = executor._selection(type_, completion.details)
        return completion.fields

    def root_fields(self, executor: Any) -> list[_Field]:
        if self.root is None:
            mutation = self.operation.operation is OperationType.MUTATION
            root_type = executor.schema.mutation_type if mutation else executor.schema.query_type
            grouped = collect_fields(
                executor.schema,
                executor.fragments,
                executor.variable_values,
                root_type,
                self.operation,
                executor.hide_suggestions,
            )[0]
            root = self._fields(executor, root_type, grouped)
            if mutation and sum(f.typename is None for f in root) != 1:
                raise _Failed  # graphql-core runs a mutation's root fields one after the other
            self.root = root
        return self.root


class _Run:
    """One request's lean execution: the resolvers' outcomes by path, whether anything failed."""

    def __init__(self, plan: Plan, executor: Any) -> None:
        self.plan = plan
        self.executor = executor
        self.is_awaitable = executor.is_awaitable
        self.cache = getattr(executor, "cache", None)
        self.failed = False
        self.data: dict[str, Any] | None = None
        self.outcomes: dict[tuple[str | int, ...], tuple[bool, bool, Any]] = {}  # path -> (raised, awaited, value)

    def fields(self, fields: list[_Field], source: Any, path: Path | None) -> AwaitableOrValue[dict[str, Any]]:
        results: dict[str, Any] = {}
        pending: list[str] = []
        for f in fields:
            if f.typename is not None:
                results[f.response_name] = f.typename
                continue
            value = self.field(f, source, path)
            results[f.response_name] = value
            if type(value) is CoroutineType:
                pending.append(f.response_name)
        if not pending:
            return results
        return self._gather(results, pending)

    async def _gather(self, results: dict[str, Any], pending: list[str]) -> dict[str, Any]:
        if len(pending) == 1:
            results[pending[0]] = await results[pending[0]]
        else:
            values = await asyncio.gather(*(results[name] for name in pending))
            results.update(zip(pending, values, strict=True))
        return results

    def field(self, f: _Field, source: Any, path: Path | None) -> Any:
        if self.failed:
            return None
        if f.attribute is not None and not f.needs_info:
            try:
                return self.complete(f.completion, f, None, None, getattr(source, f.attribute))
            except Exception:
                self.failed = True
                return None
        field_path = Path(path, f.response_name, f.parent_type.name)
        executor = self.executor
        info = executor.build_resolve_info(f.definition, f.nodes, f.parent_type, field_path)
        if f.attribute is not None:
            try:
                return self.complete(f.completion, f, info, field_path, getattr(source, f.attribute))
            except Exception:
                self.failed = True
                return None
        key = tuple(field_path.as_list())
        try:
            arguments = (
                get_argument_values(
                    f.definition,
                    f.nodes[0],
                    executor.variable_values,
                    f.details[0].fragment_variable_values,
                    executor.hide_suggestions,
                )
                if f.has_arguments
                else {}
            )
        except Exception:
            self.failed = True
            return None
        assert f.resolve is not None
        try:
            value = f.resolve(source, info, **arguments)
        except Exception as error:
            self.outcomes[key] = (True, False, error)
            self.failed = True
            return None
        if self.is_awaitable(value):
            return self._awaited(f, info, field_path, key, value)
        self.outcomes[key] = (False, False, value)
        try:
            return self.complete(f.completion, f, info, field_path, value)
        except Exception:
            self.failed = True
            return None

    async def _awaited(
        self, f: _Field, info: GraphQLResolveInfo[Any], path: Path, key: tuple[str | int, ...], value: Awaitable[Any]
    ) -> Any:
        try:
            resolved = await value
        except Exception as error:
            self.outcomes[key] = (True, True, error)
            self.failed = True
            return None
        self.outcomes[key] = (False, True, resolved)
        try:
            completed = self.complete(f.completion, f, info, path, resolved)
            if type(completed) is CoroutineType:
                completed = await completed
        except Exception:
            self.failed = True
            return None
        return completed

    def complete(
        self, c: _Completion, f: _Field, info: GraphQLResolveInfo[Any] | None, path: Path | None, value: Any
    ) -> Any:
        """The completed value (or a coroutine completing it); raises _Failed where graphql-core would report."""
        kind = c.kind
        if kind == "nonnull":
            if value is None or value is Undefined:
                raise _Failed
            assert c.inner is not None
            return self.complete(c.inner, f, info, path, value)
        if value is None or value is Undefined or isinstance(value, Exception):
            if isinstance(value, Exception):
                raise _Failed
            return None
        if kind == "leaf":
            type_ = c.type_
            assert isinstance(type_, GraphQLLeafType)
            coerced = type_.coerce_output_value(value)
            if coerced is Undefined or coerced is None:
                raise _Failed
            return coerced
        if kind == "list":
            if not isinstance(value, list | tuple):
                raise _Failed
            assert c.inner is not None
            inner = c.inner
            items: list[Any] = []
            pending: list[int] = []
            for index, item in enumerate(value):
                if self.is_awaitable(item):
                    raise _Failed
                item_path = Path(path, index, None) if path is not None else None
                completed = self.complete(inner, f, info, item_path, item)
                if type(completed) is CoroutineType:
                    pending.append(index)
                items.append(completed)
            if pending:
                return self._list(items, pending, inner.kind == "nonnull")
            return items
        if kind == "abstract":
            return self.abstract(c, f, info, path, value)
        return self.object(c, f, info, path, value)

    async def _list(self, items: list[Any], pending: list[int], non_null: bool) -> list[Any]:
        values = await asyncio.gather(*(self._settled(items[i]) for i in pending))
        for index, completed in zip(pending, values, strict=True):
            if completed is _FAILED or (non_null and completed is None):
                self.failed = True
                completed = None
            items[index] = completed
        return items

    async def _settled(self, completing: Awaitable[Any]) -> Any:
        try:
            return await completing
        except Exception:
            return _FAILED

    def abstract(
        self, c: _Completion, f: _Field, info: GraphQLResolveInfo[Any] | None, path: Path | None, value: Any
    ) -> Any:
        type_ = c.type_
        assert isinstance(type_, GraphQLAbstractType)
        assert info is not None
        resolve_type = type_.resolve_type or self.executor.type_resolver
        name = resolve_type(value, info, type_)
        if not isinstance(name, str):
            raise _Failed  # an awaitable type name, none, or not a name: graphql-core decides
        completion = c.by_type.get(name)
        if completion is None:
            runtime = self.executor.schema.get_type(name)
            if not is_object_type(runtime) or not self.executor.schema.is_sub_type(type_, runtime):
                raise _Failed
            completion = c.by_type[name] = _Completion("object", runtime, details=c.details)
        return self.object(completion, f, info, path, value)

    def object(
        self, c: _Completion, f: _Field, info: GraphQLResolveInfo[Any] | None, path: Path | None, value: Any
    ) -> Any:
        type_ = c.type_
        assert isinstance(type_, GraphQLObjectType)
        is_type_of = type_.is_type_of
        if is_type_of is not None:
            assert info is not None  # planned: a field whose type checks its objects builds its resolve info
            checked = is_type_of(value, info)
            if checked is not True and (self.is_awaitable(checked) or not checked):
                raise _Failed  # an awaitable check is left to graphql-core, which awaits it again
        fields = self.plan.object_fields(self.executor, c)
        if c.selection is not None and self.cache is not None:
            declared = _declared[type_.name]
            assert declared.key is not None
            values = declared.key(value)
            if values is not None:
                key = (c.selection, values)
                cached = self.cache.get(key)
                if cached is not None:
                    return cached
                completed = self.fields(fields, value, path)
                if type(completed) is CoroutineType:
                    return self._store(key, completed)
                if not self.failed:
                    self.cache.put(key, completed)
                return completed
        return self.fields(fields, value, path)

    async def _store(self, key: Any, completing: Awaitable[dict[str, Any]]) -> dict[str, Any]:
        completed = await completing
        if not self.failed and self.cache is not None:
            self.cache.put(key, completed)
        return completed

    def replay(self) -> MiddlewareManager:
        """A middleware answering, by path, what each resolver of this run answered."""
        outcomes = self.outcomes

        def replay(next_: Callable[..., Any], root: Any, info: GraphQLResolveInfo[Any], **args: Any) -> Any:
            outcome = outcomes.get(tuple(info.path.as_list())) if outcomes else None
            if outcome is None:
                return next_(root, info, **args)
            raised, awaited, value = outcome
            if awaited:
                return _later(raised, value)
            if raised:
                raise value
            return value

        return MiddlewareManager(replay)


async def _later(raised: bool, value: Any) -> Any:
    if raised:
        raise value
    return value


@dataclass
class LeanStats:
    """What the lean path did in this process (tests and the bench read it)."""

    executed: int = 0  # answered by the lean run alone
    replayed: int = 0  # the lean run failed somewhere; graphql-core answered, replaying its resolvers
    declined: int = 0  # documents planned as not eligible (counted once each)
    early: int = 0  # of `executed`, answered before strawberry's operation pipeline (LeanPlans.answer)


class LeanPlans:
    """The plans of the documents `eligible` accepts (by identity: persisted documents live as long as the
    process), one per document and operation name; `enabled` may be turned off at any time. Their queries, and
    the mutations named in `mutations` that select one root field."""

    def __init__(
        self,
        schema: Schema,
        eligible: Callable[[DocumentNode], bool],
        enabled: bool = True,
        mutations: frozenset[str] = frozenset(),
    ) -> None:
        self.schema = schema
        self.eligible = eligible
        self.enabled = enabled
        self.mutations = mutations
        self.stats = LeanStats()
        self._plans: dict[tuple[int, str | None], tuple[DocumentNode, Plan | None]] = {}
        self._middleware: bool | None = None

    def plan(self, document: DocumentNode, operation_name: str | None) -> Plan | None:
        """The plan of an eligible document's operation (kept: as many as the eligible documents' operations);
        None for anything else (not kept)."""
        key = (id(document), operation_name)
        found = self._plans.get(key)
        if found is not None and found[0] is document:
            return found[1]
        if not self.eligible(document):
            return None
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        if operation_name is None:
            operation = operations[0] if len(operations) == 1 else None
        else:
            operation = next((o for o in operations if o.name and o.name.value == operation_name), None)
        if operation is None:
            return None  # graphql-core reports it; a name the document lacks is not kept
        plan = self._make(document, operation)
        if plan is None:
            self.stats.declined += 1
        self._plans[key] = (document, plan)  # the document is kept with it: its id is not reused meanwhile
        return plan

    def _make(self, document: DocumentNode, operation: OperationDefinitionNode) -> Plan | None:
        if operation.operation is OperationType.MUTATION:
            if operation.name is None or operation.name.value not in self.mutations:
                return None
        elif operation.operation is not OperationType.QUERY:
            return None
        finder = _Eligible()
        visit(document, finder)
        if not finder.ok:
            return None
        return Plan(self.schema, document, operation)

    def resolving_extensions(self) -> bool:
        """Whether a schema extension resolves fields (strawberry makes it a middleware of every field)."""
        if self._middleware is None:
            self._middleware = any(e._implements_resolve() for e in self.schema.get_extensions())
        return self._middleware

    async def execute(self, ctx: Any) -> ExecutionResult | None:
        """The result of the operation in strawberry's execution context `ctx`, or None when it is not
        eligible (graphql-core executes it as usual). A run `answer` left pending for this document is replayed."""
        pending = _PENDING.get()
        if pending is not None:
            _PENDING.set(None)
            if pending.plan.document is ctx.graphql_document:
                self.stats.replayed += 1
                return await self._replay(pending, ctx)
        document = ctx.graphql_document
        if document is None or not self.enabled or self.resolving_extensions():
            return None
        plan = self.plan(document, ctx.operation_name)
        run = None if plan is None else await self._run(plan, ctx)
        if run is None:
            return None
        if not run.failed:
            self.stats.executed += 1
            return ExecutionResult(run.data, None)
        self.stats.replayed += 1
        return await self._replay(run, ctx)

    async def answer(self, request: LeanRequest) -> ExecutionResult | None:
        """Before strawberry's operation pipeline: the answer of a query planned already (so validated once in
        this process) when the lean run alone answers it. None otherwise; a failed run is then left pending for
        this task, and the pipeline's `execute` replays it (the caller runs the pipeline next, then `forget`s). A
        mutation's plan answers only a request that allows mutations (POST: over GET the pipeline refuses it)."""
        if not self.enabled or self.resolving_extensions():
            return None
        found = self._plans.get((id(request.graphql_document), request.operation_name))
        plan = found[1] if found is not None and found[0] is request.graphql_document else None
        if plan is not None and not request.mutations and plan.operation.operation is OperationType.MUTATION:
            return None
        run = None if plan is None else await self._run(plan, request)
        if run is None:
            return None
        if not run.failed:
            self.stats.executed += 1
            self.stats.early += 1
            return ExecutionResult(run.data, None)
        _PENDING.set(run)
        return None

    @staticmethod
    def forget() -> None:
        """Drops a run `answer` left pending (the pipeline replayed it, or refused before executing)."""
        _PENDING.set(None)

    async def _run(self, plan: Plan, ctx: Any) -> _Run | None:
        """The lean run of `plan`; None when it could not start (nothing ran)."""
        schema = self.schema
        executor = schema.execution_context_class.build(
            schema._schema,
            plan.document,
            ctx.root_value,
            ctx.context,
            ctx.variables,
            ctx.operation_name,
            is_awaitable=optimized_is_awaitable,
            operation_extensions=ctx.operation_extensions,
        )
        if isinstance(executor, list):
            return None  # variables that do not coerce: graphql-core reports them, nothing ran
        run = _Run(plan, executor)
        try:
            fields = plan.root_fields(executor)
        except _Failed:
            return None
        completing = run.fields(fields, ctx.root_value, None)
        run.data = await completing if isinstance(completing, CoroutineType) else cast("dict[str, Any]", completing)
        return run

    async def _replay(self, run: _Run, ctx: Any) -> ExecutionResult:
        """graphql-core's execution of the operation, every resolver `run` called answering as it did then."""
        result = execute(
            self.schema._schema,
            run.plan.document,
            root_value=ctx.root_value,
            middleware=run.replay(),
            variable_values=ctx.variables,
            operation_name=ctx.operation_name,
            context_value=ctx.context,
            is_awaitable=optimized_is_awaitable,
            executor_class=self.schema.execution_context_class,
            operation_extensions=ctx.operation_extensions,
        )
        if isinstance(result, Awaitable):
            result = await result
        assert isinstance(result, ExecutionResult)
        return result


@dataclass(frozen=True, slots=True)
class LeanRequest:
    """What `LeanPlans.answer` needs of a request (as strawberry's execution context has it)."""

    graphql_document: DocumentNode
    operation_name: str | None
    root_value: Any
    context: Any
    variables: dict[str, Any] | None
    operation_extensions: dict[str, Any] | None
    mutations: bool = False  # a planned mutation may run (the request is a POST)


# a failed early run (LeanPlans.answer) waiting for the pipeline's replay, in this task only
_PENDING: ContextVar[_Run | None] = ContextVar("lean_pending", default=None)


def lean_extension(plans: LeanPlans) -> Callable[[], SchemaExtension]:
    """The last `on_execute` hook: answers an eligible query from its plan before graphql-core would run."""

    class LeanExecution(SchemaExtension):
        async def on_execute(self) -> Any:
            ctx = self.execution_context
            if plans.enabled and ctx.result is None:
                result = await plans.execute(ctx)
                if result is not None:
                    ctx.result = result
            yield

    return LeanExecution
