"""The schema the apps build against never changes by accident."""

from mobile_contract.snapshot import drift


def test_served_schema_matches_the_committed_snapshot():
    # when the schema is built as the server builds it
    diff = drift()

    # then it is exactly the committed SDL (regenerate deliberately with `make schema`)
    assert diff == "", diff
