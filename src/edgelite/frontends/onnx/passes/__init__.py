"""Graph passes over the converted edgelite Model, each small and usable alone."""
