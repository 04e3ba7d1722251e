"""mmassets."""
