#!/usr/bin/python3
# test-token-bucket.py: the latency proxy's bandwidth arithmetic.
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# The benchmark's "10 Mbit/s" line is only as good as the proxy's token
# bucket.  These check what it computes, on a clock the test gives it:
# nothing here waits or measures time.

import importlib.util
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location(
    'latency_proxy', os.path.join(HERE, 'latency-proxy.py'))
proxy = importlib.util.module_from_spec(spec)
spec.loader.exec_module(proxy)


class RateTest(unittest.TestCase):
    def test_units(self):
        for text, rate in (('10mbit', 1250000), ('10Mbit', 1250000),
                           ('64kbit', 8000), ('1gbit', 125000000),
                           ('800bit', 100), ('2.5mbit', 312500),
                           ('1000', 1000), ('1000bps', 1000),
                           ('3kbps', 3000), ('2mbps', 2000000),
                           ('1gbps', 1000000000)):
            with self.subTest(text=text):
                self.assertEqual(proxy.parse_rate(text), rate)

    def test_bad_rates(self):
        for text, words in (('10mbits', 'unknown unit "mbits"'),
                            ('fast', 'unknown unit "fast"'),
                            ('mbit', 'is not a rate'),
                            ('1.2.3mbit', 'is not a rate'),
                            ('0mbit', 'is not above zero')):
            with self.subTest(text=text):
                with self.assertRaises(ValueError) as raised:
                    proxy.parse_rate(text)
                self.assertIn(words, str(raised.exception))

    def test_slices(self):
        # About a millisecond of the line, never less than a frame.
        self.assertEqual(proxy.slice_size(proxy.parse_rate('10mbit')), 1500)
        self.assertEqual(proxy.slice_size(proxy.parse_rate('1gbit')), 125000)


class TokenBucketTest(unittest.TestCase):
    def test_burst_goes_at_once(self):
        bucket = proxy.TokenBucket(rate=1000, burst=500, now=0.0)
        self.assertEqual(bucket.wait(300, 0.0), 0.0)
        self.assertEqual(bucket.wait(200, 0.0), 0.0)

    def test_bytes_beyond_the_tokens_wait_for_the_line(self):
        bucket = proxy.TokenBucket(rate=1000, burst=500, now=0.0)
        # 500 bytes of credit, then 1,500 more at 1,000 bytes a second.
        self.assertAlmostEqual(bucket.wait(2000, 0.0), 1.5)
        # Queued behind them: another 1,000 bytes leave a second later.
        self.assertAlmostEqual(bucket.wait(1000, 0.0), 2.5)
        # Half a second on, the line has carried 500 of what waited.
        self.assertAlmostEqual(bucket.wait(0, 0.5), 2.0)

    def test_a_transfer_takes_its_bytes_over_the_rate(self):
        # 10 MB in slices at 10 Mbit/s, all offered at once: the last
        # slice leaves 8 s after the start, less the burst.
        rate = proxy.parse_rate('10mbit')
        piece = proxy.slice_size(rate)
        bucket = proxy.TokenBucket(rate, piece, now=0.0)
        total = 10 * 1000 * 1000
        waits = [bucket.wait(min(piece, total - sent), 0.0)
                 for sent in range(0, total, piece)]
        self.assertAlmostEqual(waits[-1], (total - piece) / rate)
        self.assertEqual(waits, sorted(waits))

    def test_idle_line_saves_no_more_than_the_burst(self):
        bucket = proxy.TokenBucket(rate=1000, burst=500, now=0.0)
        bucket.wait(500, 0.0)
        # An hour idle still gives only 500 bytes of credit.
        self.assertEqual(bucket.wait(500, 3600.0), 0.0)
        self.assertAlmostEqual(bucket.wait(100, 3600.0), 0.1)

    def test_slow_sender_never_waits(self):
        # 100 bytes every 0.2 s is 500 bytes a second, half the line.
        bucket = proxy.TokenBucket(rate=1000, burst=100, now=0.0)
        for i in range(50):
            self.assertEqual(bucket.wait(100, i * 0.2), 0.0)


if __name__ == '__main__':
    result = unittest.main(exit=False, verbosity=2).result
    sys.exit(0 if result.wasSuccessful() and result.testsRun > 0 else 1)
