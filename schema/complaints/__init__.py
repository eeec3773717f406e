"""GraphQL for objections, complaints and reports."""
