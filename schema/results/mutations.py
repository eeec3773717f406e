"""Candidate publicity, award, result confirmation, contract record, performance record."""

import strawberry


@strawberry.type
class ResultMutations:
    pass
