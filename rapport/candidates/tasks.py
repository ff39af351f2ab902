"""Background work for people (CSV imports); registered with the embedded worker."""
