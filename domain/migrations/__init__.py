"""The app's migrations. Importing the package (as tortoise's loader does before any migration) puts in place the
migration steps that rebuild only the models an operation changed (_fast_state)."""

from domain.migrations import _fast_state

_fast_state.install()
