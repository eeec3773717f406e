"""Which business errors a function can raise, read from its source and the sources of what it calls.

The domain declares the errors of a service with @raises (domain/common/errors.py) and the API builds each
mutation's result union from those declarations. This reads the code to check the declarations: a `raise X(...)` or
`raise X` whose X is a DomainError class counts where it stands, unless a surrounding `try` catches it; a call to
another function of the domain counts as everything that function can raise (its declaration when it has one, else
its own body, read the same way). Nested functions are read as part of the function that defines them (they are run
by it: transactions, retries). Names are resolved in the module's namespace as imported, so `x.f()` with `from
domain.x import services as x` follows `domain.x.services.f`, and `self.f()` / `cls.f()` follow the class's method.

A guarded transition (`TABLE.fire(state, "withdraw", ...)`, `check`, `precheck` on a Lifecycle of
domain/<area>/states.py) raises what the transition's guards and refusal return; with no literal transition name, what
any transition of the table can.

What it cannot see: errors raised through a plug-in called by reference (a registered hold, pause or scanner). The
service that calls such a plug-in declares those errors by hand.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import FunctionType, ModuleType
from typing import Any

import domain
from domain.common.errors import COMMON, DomainError
from domain.common.lifecycle import Lifecycle

Errors = frozenset[type[DomainError]]


def domain_modules() -> Iterator[ModuleType]:
    for info in pkgutil.walk_packages(domain.__path__, "domain."):
        if ".migrations" in info.name:
            continue
        yield importlib.import_module(info.name)


PACKAGES = ("domain.", "schema.")


def _source_function(obj: Any, packages: tuple[str, ...] = PACKAGES) -> FunctionType | None:
    """The Python function of the domain (or a schema helper) behind obj (through decorators' __wrapped__), or None.
    Only functions are looked into: an attribute lookup on an ORM manager would need a database."""
    if isinstance(obj, (staticmethod, classmethod)):
        obj = obj.__func__
    if not isinstance(obj, FunctionType):
        return None
    fn = inspect.unwrap(obj)
    if isinstance(fn, FunctionType) and fn.__module__.startswith(packages):
        return fn
    return None


def declaration(obj: Any) -> Errors | None:
    declared = inspect.getattr_static(obj, "__raises__", None) if isinstance(obj, FunctionType) else None
    return None if declared is None else frozenset(declared)


def _is_error(obj: Any) -> bool:
    return isinstance(obj, type) and issubclass(obj, DomainError)


@dataclass
class Analysis:
    """Memoised: what each function of the domain can raise."""

    packages: tuple[str, ...] = PACKAGES
    _raised: dict[FunctionType, Errors] = field(default_factory=dict)
    _busy: set[FunctionType] = field(default_factory=set)

    def raised(self, fn: FunctionType) -> Errors:
        """Every DomainError the body of fn and its callees can raise (declared callees count as declared)."""
        if fn in self._raised:
            return self._raised[fn]
        if fn in self._busy:  # recursion: the outer call collects the rest
            return frozenset()
        self._busy.add(fn)
        try:
            found = frozenset(self._read(fn))
        finally:
            self._busy.discard(fn)
        self._raised[fn] = found
        return found

    def of_call(self, obj: Any) -> Errors:
        """What calling obj can raise: its declaration where it has one, else its body."""
        declared = declaration(obj)
        if declared is not None:
            return declared
        fn = _source_function(obj, self.packages)
        if fn is None:
            return frozenset()
        declared = declaration(fn)
        return declared if declared is not None else self.raised(fn)

    def transition(self, table: Lifecycle[Any], name: str | None) -> Errors:
        """What firing a transition of a table can raise: its guards' and its refusal's errors."""
        found: set[type[DomainError]] = set()
        for t in table.transitions:
            if name is None or t.name == name:
                for check in (*(g.check for g in t.guards), t.refusal):
                    fn = _source_function(check, ("domain.",))
                    if fn is not None:
                        found |= self._read(fn, returned=True)
        return frozenset(found)

    def _read(self, fn: FunctionType, *, returned: bool = False) -> set[type[DomainError]]:
        try:
            source = textwrap.dedent(inspect.getsource(fn))
        except (OSError, TypeError):
            return set()
        try:
            tree = ast.parse(source)
        except SyntaxError:  # a lambda's source is the middle of a line
            return set()
        node = next(n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)))
        statements: list[ast.AST] = list(node.body) if isinstance(node.body, list) else [node.body]
        namespace = dict(fn.__globals__)
        if fn.__closure__:
            for name, cell in zip(fn.__code__.co_freevars, fn.__closure__, strict=True):
                try:
                    namespace[name] = cell.cell_contents
                except ValueError:
                    continue
        owner = _owner_class(fn)
        reader = _Reader(self, namespace, owner, returned=returned)
        for statement in statements:
            reader.visit(statement)
        return reader.found


def _owner_class(fn: FunctionType) -> type | None:
    parts = fn.__qualname__.split(".")
    if len(parts) < 2 or "<locals>" in parts:
        return None
    obj: Any = inspect.getmodule(fn)
    for part in parts[:-1]:
        obj = getattr(obj, part, None)
    return obj if isinstance(obj, type) else None


class _Reader(ast.NodeVisitor):
    def __init__(self, analysis: Analysis, namespace: dict[str, Any], owner: type | None, *, returned: bool) -> None:
        self.analysis = analysis
        self.returned = returned  # a guard or a refusal: the errors it returns count as raised
        self.namespace = namespace
        self.owner = owner
        self.found: set[type[DomainError]] = set()
        self.caught: list[tuple[type[BaseException], ...]] = []

    def resolve(self, node: ast.expr) -> Any:
        if isinstance(node, ast.Name):
            if node.id in ("self", "cls"):
                return self.owner
            return self.namespace.get(node.id)
        if isinstance(node, ast.Attribute):
            base = self.resolve(node.value)
            return None if base is None else inspect.getattr_static(base, node.attr, None)
        return None

    def add(self, errors: Errors) -> None:
        for error in errors:
            if not any(issubclass(error, caught) for group in self.caught for caught in group):
                self.found.add(error)

    def visit_Raise(self, node: ast.Raise) -> None:
        if node.exc is not None:
            target = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            obj = self.resolve(target)
            if _is_error(obj):
                self.add(frozenset({obj}))
        self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.asname:
                self.namespace[alias.asname] = importlib.import_module(alias.name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.module is None or node.level:
            return
        module = importlib.import_module(node.module)
        for alias in node.names:
            value = getattr(module, alias.name, None)
            if value is None:
                value = importlib.import_module(f"{node.module}.{alias.name}")
            self.namespace[alias.asname or alias.name] = value

    def visit_Return(self, node: ast.Return) -> None:
        if self.returned and node.value is not None:
            for part in ast.walk(node.value):  # `return None if ok else NotRegistered()` too
                if isinstance(part, ast.Call) and _is_error(obj := self.resolve(part.func)):
                    self.add(frozenset({obj}))
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in ("fire", "check", "precheck"):
            table = self.resolve(func.value)
            if isinstance(table, Lifecycle):
                at = 0 if func.attr == "precheck" else 1
                literal = node.args[at] if len(node.args) > at else None
                # `"fail" if failed else "report"` fires one of two named transitions, not any of the table's
                for option in [literal.body, literal.orelse] if isinstance(literal, ast.IfExp) else [literal]:
                    named = option.value if isinstance(option, ast.Constant) and isinstance(option.value, str) else None
                    self.add(self.analysis.transition(table, named))
                self.generic_visit(node)
                return
        obj = self.resolve(func)
        if obj is not None and not _is_error(obj):
            self.add(self.analysis.of_call(obj))
        self.generic_visit(node)

    def visit_Try(self, node: ast.Try) -> None:
        caught: list[type[BaseException]] = []
        for handler in node.handlers:
            kinds = handler.type
            names = kinds.elts if isinstance(kinds, ast.Tuple) else [kinds] if kinds is not None else []
            if kinds is None:
                caught.append(BaseException)
            for name in names:
                obj = self.resolve(name)
                if isinstance(obj, type) and issubclass(obj, BaseException):
                    caught.append(obj)
        # a handler that re-raises (bare `raise`) lets its errors through
        reraised = any(isinstance(n, ast.Raise) and n.exc is None for h in node.handlers for n in ast.walk(h))
        self.caught.append(() if reraised else tuple(caught))
        for statement in node.body:
            self.visit(statement)
        self.caught.pop()
        for part in (*node.handlers, *node.orelse, *node.finalbody):
            self.visit(part)

    visit_TryStar = visit_Try


def uncovered(raised: Errors, allowed: Errors) -> set[type[DomainError]]:
    """The raised errors that neither an allowed class nor one of its bases (as_error maps to the nearest) covers."""
    allowed_all = (*allowed, *COMMON)
    return {e for e in raised if not any(issubclass(e, a) for a in allowed_all)}


def name(obj: Callable[..., Any] | type) -> str:
    return f"{obj.__module__}.{obj.__qualname__}"
