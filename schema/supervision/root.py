"""The supervision area's root fields, assembled once for schema/build.py."""

import strawberry

from schema.supervision.alerts import AlertMutations, AlertQueries
from schema.supervision.archive import ArchiveMutations
from schema.supervision.deliveries import DeliveryQueries
from schema.supervision.evidence import EvidenceQueries
from schema.supervision.reports import StatisticsReportQueries
from schema.supervision.statistics import StatisticsQueries


@strawberry.type
class SupervisionQueries(AlertQueries, StatisticsQueries, EvidenceQueries, DeliveryQueries, StatisticsReportQueries):
    pass


@strawberry.type
class SupervisionMutations(AlertMutations, ArchiveMutations):
    pass
