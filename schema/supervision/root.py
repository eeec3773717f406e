"""The supervision area's root fields, assembled once for schema/build.py."""

import strawberry

from schema.supervision.alerts import AlertMutations, AlertQueries
from schema.supervision.statistics import StatisticsQueries


@strawberry.type
class SupervisionQueries(AlertQueries, StatisticsQueries):
    pass


@strawberry.type
class SupervisionMutations(AlertMutations):
    pass
