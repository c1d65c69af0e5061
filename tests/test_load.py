"""The load generator against a real local HTTP server: every sample kept, bounds, errors, thresholds, charts."""

import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from crucible.errors import CrucibleError, TestDataError
from crucible.vocabulary.load import evidence, stats, thresholds
from crucible.vocabulary.load.generator import NOT_SENT, Call, LoadResult, Plan, Sample, repeat, run


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's name
        if self.path.startswith("/slow"):
            time.sleep(0.3)
        status = 503 if self.path.startswith("/fail") else 200
        body = self.headers.get("X-Request-ID", "").encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def load(server, path, clients=4, seconds=0.6, **plan):
    call = Call(f"GET {path}", "GET", path)
    options = {"max_requests": 100_000, "timeout": 5.0, **plan}
    return run(server, repeat(lambda n: call), Plan(clients, seconds, **options), title="test", id_prefix="t")


def test_every_request_is_kept_with_its_own_request_id(server):
    result = load(server, "/ok", keep_bodies=True)
    assert len(result.samples) > 20
    ids = [s.request_id for s in result.samples]
    assert len(set(ids)) == len(ids)
    assert all(s.body.decode() == s.request_id for s in result.samples)  # the server saw that very id
    assert all(s.status == 200 and not s.failed and s.latency_ms > 0 for s in result.samples)
    assert 0.6 <= result.elapsed < 3


def test_the_cap_on_requests_stops_the_load(server):
    result = load(server, "/ok", clients=3, seconds=10, max_requests=7)
    assert len(result.samples) == 7
    assert result.elapsed < 5


def test_failures_are_counted_by_kind(server):
    result = load(server, "/fail", clients=2, seconds=0.3)
    summary = stats.summarize("all", result.samples, result.elapsed)
    assert summary.failed == summary.count > 0
    assert summary.errors == {"HTTP 503": summary.count}


def test_within_a_time_unanswered_calls_fail(server):
    calls = iter([Call("slow", "GET", "/slow")] * 3)
    result = run(server, calls, Plan(1, 0.5, 100, 5.0, finish_within=True), title="t", id_prefix="t")
    kinds = [s.error for s in result.samples]
    assert kinds[0] is None and kinds[1] == "timeout" and kinds[2] == NOT_SENT
    assert result.elapsed < 2


def test_a_load_goes_only_to_loopback():
    with pytest.raises(CrucibleError, match="only to the stack's own loopback ports"):
        run("http://10.255.255.1:8000", repeat(lambda n: Call("x", "GET", "/")), Plan(1, 1, 1, 1.0),
            title="t", id_prefix="t")


@pytest.mark.parametrize("plan, message", [(Plan(0, 1, 1, 1.0), "at least 1 client"),
                                           (Plan(1, -5, 1, 1.0), "more than 0 seconds")])
def test_an_impossible_load_is_refused(plan, message):
    with pytest.raises(TestDataError, match=message):
        plan.check()


def test_something_planned_during_the_load_happens_at_its_moment(server):
    seen = []
    call = Call("ok", "GET", "/ok")
    result = run(server, repeat(lambda n: call), Plan(2, 0.8, 100_000, 5.0), title="t", id_prefix="t",
                 happenings=[(0.3, "fault", lambda: seen.append(time.perf_counter()))])
    assert seen and 0.3 <= result.happenings[0].started < 0.7 and result.happenings[0].error is None


def test_percentiles_are_exact_nearest_rank():
    values = list(range(1, 101))
    assert stats.percentile(values, 50) == 50
    assert stats.percentile(values, 95) == 95
    assert stats.percentile(values, 99.5) == 100
    assert stats.percentile([3.0, 1.0, 2.0], 100) == 3.0
    with pytest.raises(TestDataError):
        stats.percentile(values, 0)


def result_of(latencies, failed=()):
    samples = [Sample("op", n * 0.1, ms, 200 if n not in failed else 503, None if n not in failed else "HTTP 503",
                      f"crucible-x-load-{n:05d}") for n, ms in enumerate(latencies)]
    return LoadResult("5 clients, GET /x on svc, 1 s", Plan(5, 1, 10, 1.0), samples, datetime.now(timezone.utc), 2.0)


def test_a_broken_threshold_names_the_value_and_the_slowest_requests():
    result = result_of([10] * 98 + [900, 1200])
    thresholds.expect_percentile_under(result, 95, 100)
    with pytest.raises(AssertionError) as failure:
        thresholds.expect_percentile_under(result, 99, 500)
    text = str(failure.value)
    assert "p(99) < 500 ms broken" in text and "was 900 ms" in text
    assert "crucible-x-load-00099 (1200 ms)" in text and "crucible-x-load-00098 (900 ms)" in text


def test_failure_rate_and_share_within_thresholds():
    result = result_of([10] * 95 + [10] * 5, failed=range(95, 100))
    thresholds.expect_failures_below(result, 6)
    with pytest.raises(AssertionError, match=r"5.0% failed \(5 of 100: HTTP 503 x5\)"):
        thresholds.expect_failures_below(result, 1)
    with pytest.raises(AssertionError, match="only 95.0% were"):
        thresholds.expect_share_within(result, 99, 50)
    with pytest.raises(AssertionError, match=r"47.5 answered per second \(95 in 2.0 s"):
        thresholds.expect_rate_at_least(result, 100)


def test_charts_and_table_are_made(server):
    result = load(server, "/ok", clients=2, seconds=0.3)
    assert evidence.latency_chart(result).startswith(b"\x89PNG")
    assert evidence.throughput_chart(result).startswith(b"\x89PNG")
    table = stats.table(result)
    assert "p95" in table and "GET /ok" in table
