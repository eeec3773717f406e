"""Open data (信息公开): exports that read every trading area (publication, auctions, results), so they sit at the
top of the domain with domain/supervision."""
