"""`quoteback eval`: retrieval quality, honesty and highlight accuracy on BEIR-layout sets.

- `datasets.py`      loading sets (BEIR layout, phrase sets over real documents) and the cache
- `evaluate.py`      `Evaluator`: index a set with the user's pipeline, run the named fusions, score
- `honesty.py`       answered / related / declined shares and the abstention curve
- `quote_checks.py`  every quote an exact slice; unclean quotes (spliced headers, split words)
- `report.py`        tables, report files and plots
- `calibrate.py`     `python -m quoteback.evaluation.calibrate`: refit the answerability coefficients
"""
