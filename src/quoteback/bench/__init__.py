"""`quoteback bench`: speed and memory, each against the baseline it beats, in one run.

- `run.py`    the benchmark itself: encoding, building, cold start, query latency per size
- `scale.py`  latency and memory at a size, in a process of its own (clean peak RSS)
- `peer.py`   the same passages through txtai, for comparison
"""
