#!/usr/bin/env python3
"""An independent model of the consolidator's window (docs/rules.md,
monitor/engine/rules/rules.h) over the sweeps of test_rules.c's
late_pool_scenario, written from the rule's words only: no list, no cap,
no index. At each sweep into the pool (in chain order), the sources counted
are the distinct ones whose last sweep into it is within the window
(62 days, ends included) and that are payouts paid on cadence at that
moment (a payer's 3rd salary-sized payment, each gap 20..130 days).
Prints the day and sweep the rule fires on, its counts, and how many
records follow (the consolidator, one per source swept in by then, one per
source sweeping in later). Run: python3 tests/tools/window_oracle.py"""

DAY = 86400
WINDOW, MIN_SOURCES, MIN_GAP, MAX_GAP, RECURRING = 62, 5, 20, 130, 3


def scenario(twin):
    """(day, kind, who, payer) in chain order: kind 'pay' or 'sweep'."""
    ev = []
    olds = ["O%d" % i for i in range(64)]
    news = ["N0", "N1", "N2"]
    ev += [(1, "pay", w, "E") for w in olds] + [(1, "pay", w, "F") for w in news]
    ev += [(2, "sweep", w, None) for w in olds[:32]] + [(3, "sweep", w, None) for w in olds[32:]]
    ev += [(10, "pay", "X", "G"), (10, "pay", "Y", "H")]
    ev += [(31, "pay", w, "E") for w in olds] + [(31, "pay", w, "F") for w in news]
    ev += [(40, "pay", "X", "G")]
    ev += [(61, "pay", w, "E") for w in olds] + ([] if twin else [(61, "pay", w, "F") for w in news])
    ev += [(66, "sweep", "X", None), (67, "sweep", "Y", None)]
    ev += ([] if twin else [(70, "pay", "X", "G")]) + [(70, "sweep", "O0", None), (70, "sweep", "O1", None)]
    ev += [(71 + i, "sweep", news[i], None) for i in range(3)]
    ev += [] if twin else [(74, "pay", "N0", "F"), (75, "sweep", "N0", None)]
    return ev


def run(twin):
    pays = {}        # (payee, payer) -> days paid
    payout = set()   # paid on cadence
    last = {}        # source -> day of its last sweep into the pool
    fired = None
    records = 0
    for day, kind, who, payer in scenario(twin):
        if kind == "pay":
            days = pays.setdefault((who, payer), [])
            days.append(day)
            gaps = [b - a for a, b in zip(days, days[1:])]
            if sum(MIN_GAP <= g <= MAX_GAP for g in gaps) + 1 >= RECURRING:
                payout.add(who)
            continue
        new = who not in last
        last[who] = day
        if fired is not None:
            records += new  # a new source into a flagged pool
            continue
        counted = sorted(s for s, d in last.items() if d >= day - WINDOW and s in payout)
        if len(counted) >= MIN_SOURCES:
            fired = (day, who, counted)
            records += 1 + len(last)  # the consolidator, and every source tied to it
    return fired, records, len(last)


if __name__ == "__main__":
    for twin in (False, True):
        fired, records, sources = run(twin)
        if fired:
            day, who, counted = fired
            print("twin=%s fires on day %d at %s's sweep: %d in the window %s; %d records, %d sources in all"
                  % (twin, day, who, len(counted), counted, records, sources))
        else:
            print("twin=%s never fires; %d records" % (twin, records))
