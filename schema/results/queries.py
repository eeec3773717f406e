"""Results of a tendered lot: candidates, award, confirmation, contract and performance records."""

import strawberry


@strawberry.type
class ResultQueries:
    pass
