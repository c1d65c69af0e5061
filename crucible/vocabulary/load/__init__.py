"""Load: real concurrent HTTP traffic against the stack's own loopback ports, judged by thresholds.

``generator`` sends the requests (closed loop: N clients, each sending its next request as soon as
the last one was answered; bounded in count and time), ``stats`` computes exact percentiles (every
latency is kept, nothing is bucketed), throughput and errors by kind per operation, ``thresholds``
judges them as k6 thresholds do, in sentences, and ``evidence`` attaches the charts, the percentile
table and the containers' CPU and memory to the report.
"""
