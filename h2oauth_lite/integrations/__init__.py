"""Optional bridges that import their framework lazily; nothing here is
imported by the rest of the package."""
