"""Evaluation by the committee: start, score sheets by experts, the report and its candidates."""

import strawberry


@strawberry.type
class ScoringQueries:
    pass


@strawberry.type
class ScoringMutations:
    pass
