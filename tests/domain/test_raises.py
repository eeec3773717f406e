"""Every service's @raises declaration covers what its body, and what it calls, can raise.

The mutation's result union is built from these declarations (schema/errors.py), so an error a service raises
without declaring it would reach the phone as a top-level GraphQL error instead of a typed member of the union.
"""

from __future__ import annotations

from types import FunctionType

from tests.support.raise_analysis import Analysis, _source_function, declaration, domain_modules, name, uncovered


def declared_services() -> dict[FunctionType, frozenset[type]]:
    """Each declared service's own function (behind its decorators), with its declaration."""
    found: dict[FunctionType, frozenset[type]] = {}
    for module in domain_modules():
        for value in vars(module).values():
            declared = declaration(value)
            fn = _source_function(value) if declared is not None else None
            if fn is not None and declared is not None and fn.__module__ == module.__name__:
                found[fn] = declared
    return found


def test_services_declare_their_errors() -> None:
    services = declared_services()
    assert services, "no service declares its errors with @raises"
    analysis = Analysis()
    missing = {
        name(fn): sorted(e.__name__ for e in undeclared)
        for fn, declared in services.items()
        if (undeclared := uncovered(analysis.raised(fn), declared))  # type: ignore[arg-type]
    }
    assert not missing, f"services raise errors they do not declare with @raises: {missing}"


def test_the_analysis_sees_raises_through_calls_and_respects_try() -> None:
    from domain.common import errors

    def helper() -> None:
        raise errors.PermissionDenied()

    class Special(errors.InvalidTransition):
        pass

    def service() -> None:
        helper()
        try:
            raise Special(state="x")
        except errors.InvalidTransition:
            pass
        raise errors.NotFound()

    analysis = Analysis(packages=("tests.",))
    assert analysis.raised(service) == {errors.PermissionDenied, errors.NotFound}  # type: ignore[arg-type]
    assert uncovered(frozenset({Special}), frozenset()) == set()  # InvalidTransition is common: its subclass too
