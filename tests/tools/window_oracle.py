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
source sweeping in later). Run: python3 tests/tools/window_oracle.py

Also the window with sources a chainwatch before the window index kept
past the list (rules.h: sources_not_examined_by_window): X and Y, swept in
by day 67, are not seen by it from then on until they sweep into it again
(test_rules.c: forget_window_index); with x_again X sweeps again on day 73
instead of N2 (late_pool_scenario's LATE_X_AGAIN). Prints how many are not
seen when it fires. And with O61..O63 not paid on day 61 (never payouts),
up to N1's sweep (LATE_N1_PENDING_GIVE_WAY)."""

DAY = 86400
WINDOW, MIN_SOURCES, MIN_GAP, MAX_GAP, RECURRING = 62, 5, 20, 130, 3


def scenario(twin, x_again=False, unpaid=0, stop_n1=False):
    """(day, kind, who, payer) in chain order: kind 'pay' or 'sweep'. unpaid:
    the last O's E does not pay on day 61; stop_n1: nothing after N1's sweep."""
    ev = []
    olds = ["O%d" % i for i in range(64)]
    news = ["N0", "N1", "N2"]
    ev += [(1, "pay", w, "E") for w in olds] + [(1, "pay", w, "F") for w in news]
    ev += [(2, "sweep", w, None) for w in olds[:32]] + [(3, "sweep", w, None) for w in olds[32:]]
    ev += [(10, "pay", "X", "G"), (10, "pay", "Y", "H")]
    ev += [(31, "pay", w, "E") for w in olds] + [(31, "pay", w, "F") for w in news]
    ev += [(40, "pay", "X", "G")]
    ev += [(61, "pay", w, "E") for w in olds[:64 - unpaid]] + ([] if twin else [(61, "pay", w, "F") for w in news])
    ev += [(66, "sweep", "X", None), (67, "sweep", "Y", None)]
    ev += ([] if twin else [(70, "pay", "X", "G")]) + [(70, "sweep", "O0", None), (70, "sweep", "O1", None)]
    ev += [(71 + i, "sweep", news[i], None) for i in range(2)]
    if stop_n1:
        return ev
    if x_again:
        return ev + [(73, "sweep", "X", None)]
    ev += [(73, "sweep", news[2], None)]
    ev += [] if twin else [(74, "pay", "N0", "F"), (75, "sweep", "N0", None)]
    return ev


def run(twin, forget_after=None, x_again=False, unpaid=0, stop_n1=False):
    """forget_after: the day after which the sources swept in by then are
    not seen (kept by a chainwatch before the index), until they sweep again."""
    pays = {}        # (payee, payer) -> days paid
    payout = set()   # paid on cadence
    last = {}        # source -> day of its last sweep into the pool
    unseen = None    # the sources the window cannot see
    fired = None
    records = 0
    for day, kind, who, payer in scenario(twin, x_again, unpaid, stop_n1):
        if forget_after is not None and unseen is None and day > forget_after:
            unseen = set(last) & {"X", "Y"}
        if kind == "pay":
            days = pays.setdefault((who, payer), [])
            days.append(day)
            gaps = [b - a for a, b in zip(days, days[1:])]
            if sum(MIN_GAP <= g <= MAX_GAP for g in gaps) + 1 >= RECURRING:
                payout.add(who)
            continue
        new = who not in last
        last[who] = day
        if unseen:
            unseen.discard(who)  # seen again from its sweep on
        if fired is not None:
            records += new  # a new source into a flagged pool
            continue
        counted = sorted(s for s, d in last.items() if d >= day - WINDOW and s in payout and s not in (unseen or ()))
        if len(counted) >= MIN_SOURCES:
            fired = (day, who, counted, sorted(unseen or ()))
            records += 1 + len(last)  # the consolidator, and every source tied to it
    return fired, records, len(last)


if __name__ == "__main__":
    runs = [("twin=False", dict(twin=False)), ("twin=True", dict(twin=True)),
            ("X, Y unseen after day 67", dict(twin=False, forget_after=67)),
            ("X, Y unseen after day 67, X again on day 73", dict(twin=False, forget_after=67, x_again=True)),
            ("O61..O63 unpaid on day 61, to N1's sweep", dict(twin=False, unpaid=3, stop_n1=True))]
    for name, kw in runs:
        fired, records, sources = run(**kw)
        if fired:
            day, who, counted, unseen = fired
            print("%s fires on day %d at %s's sweep: %d in the window %s, %d not seen by it %s; %d records, "
                  "%d sources in all" % (name, day, who, len(counted), counted, len(unseen), unseen, records, sources))
        else:
            print("%s never fires; %d records" % (name, records))
