"""Shop data in: `loader.generate` makes a realistic, reproducible shop as CSV
files; `loader.load` COPYs CSV files into the typed raw tables."""
