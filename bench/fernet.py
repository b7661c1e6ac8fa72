"""Python side of bench/fernet.ts: tokens/s of cryptography.fernet on the same workload.

Usage: python3 fernet.py SECONDS SIZE... ; prints one JSON object on stdout.
"""

import json
import os
import sys
import time

from cryptography.fernet import Fernet


def rate(fn, seconds):
    fn()
    count = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(64):
            fn()
        count += 64
        now = time.perf_counter()
        if now >= deadline:
            return count / (now - start)


def main():
    seconds = float(sys.argv[1])
    fernet = Fernet(Fernet.generate_key())
    result = {}
    for size in (int(s) for s in sys.argv[2:]):
        payload = os.urandom(size)
        token = fernet.encrypt(payload)
        result[f"encrypt {size}"] = rate(lambda: fernet.encrypt(payload), seconds)
        result[f"decrypt {size}"] = rate(lambda: fernet.decrypt(token), seconds)
    json.dump(result, sys.stdout)


main()
