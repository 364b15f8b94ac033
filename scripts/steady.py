#!/usr/bin/env python3
"""Steady-state check of a run (issue 18): reads OUT/<stem>/daily.csv and plans.csv and prints
the means a day of GMV, opens and commission settled over days 0-20 and the last 30 days, each
category's share of clips in week 1 and the last week, and each category's share of plan
budgets used (replication 0's plans.csv). Usage: scripts/steady.py OUT/<stem>"""
import csv, sys, collections

folder = sys.argv[1]
rows = list(csv.DictReader(open(f"{folder}/daily.csv")))
days = max(int(r["day"]) for r in rows) + 1
allrows = {int(r["day"]): r for r in rows if r["scope"] == "all"}
def mean(key, lo, hi):
    return sum(float(allrows[d][key]) for d in range(lo, hi + 1)) / (hi - lo + 1)
print(f"days {days}")
print("metric               days 0-20   days %d-%d   ratio" % (days - 30, days - 1))
for key in ["gmv", "opens", "commission_settled"]:
    a, b = mean(key, 0, 20), mean(key, days - 30, days - 1)
    print(f"{key:20s} {a:12.0f} {b:12.0f} {a / b:7.3f}")
clips = collections.defaultdict(lambda: collections.defaultdict(float))
for r in rows:
    if r["scope"] == "category":
        clips[int(r["day"]) // 7][r["key"]] += float(r["clips"])
last = (days // 7) - 1
print(f"category         week 1   week {last + 1}   ratio")
for k in clips[0]:
    w1 = clips[0][k] / sum(clips[0].values())
    wl = clips[last][k] / sum(clips[last].values())
    print(f"{k:15s} {w1:7.3f} {wl:8.3f} {w1 / wl if wl else float('nan'):7.3f}")
budget = collections.defaultdict(float)
used = collections.defaultdict(float)
for r in csv.DictReader(open(f"{folder}/plans.csv")):
    if r["budget"] not in ("", "unlimited"):
        budget[r["category"]] += float(r["budget"])
        used[r["category"]] += float(r["budget_used"])
print("category        share of plan budgets used (replication 0)")
for k in budget:
    print(f"{k:15s} {used[k] / budget[k]:7.3f}")
