"""Process-level tuning for serving requests.

The cyclic garbage collector's full collections walk every object the process holds, and
with Django, DRF and a list of 50 engagements in memory one takes ~150 ms: the default
thresholds run one every few requests, which is what the slowest 5% of requests pay.
Freezing what start-up created (modules, settings, URL patterns) takes it out of every
collection, and a larger first threshold collects less often. Reference counting still
frees almost everything at once; only cycles wait for a collection.

Cycles are not rare, though: DRF links the view, the request and the response to each other,
so everything a response was built from (a 200-row page: ~4,700 objects) waits for the
collector. The first threshold is a trade: 10,000 objects collect in ~10 ms about every other
large page; 50,000 collected five times as many at once, 60-90 ms on the slowest requests.
"""

import gc


def tune_gc() -> None:
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)
