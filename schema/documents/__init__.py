"""GraphQL for documents: granting uploads, listing files, signed download links."""
