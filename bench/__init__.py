"""Side-by-side measurements: `make bench` (python -m bench) prints one table."""
