"""The benchmark's terminal table (the run itself is by hand: `quoteback bench`)."""

from quoteback.bench.run import table_rows


def test_the_table_shows_the_default_build_against_raw_torch_and_memory_answering():
    result = {"passages": 10, "encode_raw_passages_per_s": 50.0, "index_passages_per_s_with_sentences": 80.0,
              "default_build_vs_raw_torch": 1.6, "cold_start_s": 0.7,
              "sizes": {"1000000": {"query_ms_p50": 20.0, "query_ms_p99": 50.0, "index_type": "ivf", "recall_at_10": 0.99,
                                    "peak_rss_mb": 3000, "answer_rss_mb": 800}},
              "peer": {"query_p50_ratio": 0.7}}
    rows = dict(table_rows(result))
    assert rows["default_build_vs_raw_torch"] == 1.6
    assert rows["answer_rss_mb[1000000]"] == 800
    assert rows["peer.query_p50_ratio"] == 0.7
    assert list(rows)[:3] == ["passages", "encode_raw_passages_per_s", "index_passages_per_s_with_sentences"]
