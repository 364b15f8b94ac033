# A fixed single-thread loop: its time says how fast the (shared, virtual) machine runs right now,
# so that timings taken at different moments can be compared. Usage: python3 scripts/reference-loop.py
import time
t = time.time()
x = 0
for i in range(30_000_000):
    x += i * i
print(f"reference loop: {time.time() - t:.2f} s")
