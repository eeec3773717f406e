"""The supervision area's root fields, assembled once for schema/build.py."""

import strawberry

from schema.supervision.alerts import AlertMutations, AlertQueries


@strawberry.type
class SupervisionQueries(AlertQueries):
    pass


@strawberry.type
class SupervisionMutations(AlertMutations):
    pass
