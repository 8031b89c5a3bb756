"""The plot theme and the plots shared by several results (survival curves, forest plots)."""
