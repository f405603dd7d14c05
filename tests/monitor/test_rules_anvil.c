/*
 * test_rules_anvil: the pattern rules on Ethereum, end to end on a real
 * node. A small payroll plan from the generator (cw_genchain --scenario
 * payroll --account-plan: one IT-worker network of 12 personas, 9 payout
 * addresses (3 shared), a consolidator paying out to labelled exchanges and
 * to the designated facilitator; a processor paying 20 employees who sweep
 * to their exchange deposits; 6 freelancers; 10 DAO contributors) is
 * replayed by scripts/anvil-scenario as MiniToken transfers (the USDC
 * stand-in, 6 decimals) on anvil (127.0.0.1, a free port, one block per
 * 6-hour period, a year of block times), then `chainwatch replay --chain
 * ethereum` runs the rules over it.
 *
 * Real data: the off-ramps are Binance and Coinbase addresses of
 * ../shared/data/labels/services.csv; the facilitator is Kim Sang Man's
 * ETH address, listed under DPRK4 (SOURCES.md: uid 43377, designated
 * 2023-05-23), imported as a one-row CSV list.
 *
 * Expectations come from the generator (the truth's roles, and in the
 * plan which payees got a test payment from which payer and which
 * contributors both DAOs pay), never from an earlier run: each rule fires
 * exactly on the addresses of its scenario and on none of its legitimate
 * twin's.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/support.h"

#define KIM_SANG_MAN_ETH "0xb6f5ec1a0a9cd1526536d3f0426c429529471f40"
#define BINANCE "0x3f5ce5fbfe3e9af3971dd833d26ba9b5c936f0be"
#define COINBASE "0x71660c4005ba85c37ccec55d0c4493e66fe775d3"
#define MAX_ACTORS 512

typedef struct {
    char addr[43];
    char role[32];
    bool test_from_employer; /* paid a tiny test payment by an IT-worker employer */
    int payers[4];           /* distinct payers (legit_payer actors) of a contributor */
    int n_payers;
    unsigned fired;          /* bit per rule below */
    int risk;                /* highest risk of its records: 0 none .. 4 severe */
} actor;

static const char *const RULES[] = {"shared_payout", "consolidator", "payout_toward_designated",
                                    "off_ramp_after_pool", "test_then_salary"};
enum { SHARED, POOL, TOWARD, OFFRAMP, TEST, N_RULES, TOWARD_POOL = N_RULES };

static actor A[MAX_ACTORS];
static int n_actors;

static char *tmpdir(void)
{
    char *d = strdup("/tmp/cw-ranvil-XXXXXX");
    cr_assert_not_null(mkdtemp(d));
    return d;
}

static void run_ok(char *const argv[])
{
    char *out, *err;
    int rc = run_cmd(argv, NULL, 0, &out, &err);
    cr_assert_eq(rc, 0, "%s exited %d: %s%s", argv[0], rc, out, err);
    free(out), free(err);
}

static pid_t anvil_start(const char *dir, int accounts, char url[64])
{
    char acc[16];
    snprintf(acc, sizeof acc, "%d", accounts);
    /* genesis before the plan's first day (2023-11-14): block times are the plan's */
    const char *extra[] = {"--accounts", acc, "--timestamp", "1699000000", "--gas-limit", "2000000000", NULL};
    return test_anvil_start(CW_ANVIL, dir, extra, url);
}

static int actor_of(const char *addr)
{
    for (int i = 0; i < n_actors; i++)
        if (strcasecmp(A[i].addr, addr) == 0)
            return i;
    return -1;
}

/* The node's truth (the driver's: rows in actor-id order, senders mapped to
 * dev accounts) and the plan's payments. Returns the distinct senders. */
static int load_plan(const char *plan, const char *truth)
{
    FILE *f = fopen(truth, "r");
    cr_assert_not_null(f, "%s", truth);
    char line[256];
    n_actors = 0;
    cr_assert_not_null(fgets(line, sizeof line, f));
    cr_assert_str_eq(line, "address,role,group\n");
    while (fgets(line, sizeof line, f)) {
        cr_assert_lt(n_actors, MAX_ACTORS);
        actor *x = &A[n_actors++];
        memset(x, 0, sizeof *x);
        cr_assert_eq(sscanf(line, "%42[^,],%31[^,],", x->addr, x->role), 2, "%s", line);
    }
    fclose(f);
    f = fopen(plan, "r");
    cr_assert_not_null(f, "%s", plan);
    static bool sends[MAX_ACTORS];
    memset(sends, 0, sizeof sends);
    int actors_in_plan = 0, senders = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long long t, units;
        int from, to;
        char kind[16];
        if (strncmp(line, "actor,", 6) == 0)
            actors_in_plan++;
        if (sscanf(line, "pay,%llu,%d,%d,%llu,%15s", &t, &from, &to, &units, kind) != 5)
            continue;
        cr_assert(from >= 0 && from < n_actors && to >= 0 && to < n_actors, "%s", line);
        if (!sends[from])
            sends[from] = true, senders++;
        if (strcmp(kind, "test") == 0 && strcmp(A[from].role, "itw_employer") == 0)
            A[to].test_from_employer = true;
        if (strcmp(A[from].role, "legit_payer") == 0 && strcmp(A[to].role, "legit_contributor") == 0) {
            bool seen = false;
            for (int k = 0; k < A[to].n_payers; k++)
                seen |= A[to].payers[k] == from;
            if (!seen && A[to].n_payers < 4)
                A[to].payers[A[to].n_payers++] = from;
        }
    }
    fclose(f);
    cr_assert_eq(actors_in_plan, n_actors, "the driver's truth and the plan disagree on the actors");
    return senders;
}

static int risk_of(const char *r)
{
    static const char *const names[] = {"none", "low", "medium", "high", "severe"};
    for (int i = 0; i < 5; i++)
        if (strcmp(r, names[i]) == 0)
            return i;
    cr_assert_fail("unknown risk %s", r);
    return -1;
}

static bool is(int i, const char *role) { return strcmp(A[i].role, role) == 0; }
static bool is_payout(int i) { return is(i, "itw_payout") || is(i, "itw_shared_payout"); }
static bool is_legit_payee(int i)
{
    return is(i, "legit_employee") || is(i, "legit_freelancer") || is(i, "legit_contributor");
}

Test(rules_anvil, every_rule_fires_on_its_scenario_and_not_on_its_twin, .timeout = 120)
{
    char *dir = tmpdir();
    char plan[600], gtruth[600], node[600], truth[600], tokens[600], range[600], dd[600], list[600];
    snprintf(plan, sizeof plan, "%s/plan.txt", dir);
    snprintf(gtruth, sizeof gtruth, "%s/gen-truth.csv", dir);
    snprintf(node, sizeof node, "%s/node", dir);
    snprintf(truth, sizeof truth, "%s/node/truth.csv", dir);
    snprintf(tokens, sizeof tokens, "%s/node/tokens.csv", dir);
    snprintf(range, sizeof range, "%s/node/range.txt", dir);
    snprintf(dd, sizeof dd, "%s/d", dir);
    snprintf(list, sizeof list, "%s/list.csv", dir);
    char *gen[] = {CW_GENCHAIN, "--scenario", "payroll", "--account-plan", plan, "--truth", gtruth, "--seed", "7",
                   "--blocks", "1460", "--block-interval", "21600", "--itw-networks", "1", "--employees", "20",
                   "--freelancers", "6", "--contributors", "10", "--exchange", BINANCE, "--exchange", COINBASE,
                   "--facilitator", KIM_SANG_MAN_ETH, NULL};
    run_ok(gen);
    /* the driver needs the plan's senders as dev accounts; count them first */
    int senders = load_plan(plan, gtruth);
    cr_assert_gt(senders, 20);
    char url[64];
    pid_t anvil = anvil_start(dir, senders + 1, url);
    char *drive[] = {CW_SCRIPTS_DIR "/anvil-scenario", plan, "--out", node, "--rpc", url, NULL};
    run_ok(drive);
    load_plan(plan, truth); /* now with the node's addresses */
    unsigned long long from, to;
    FILE *f = fopen(range, "r");
    cr_assert_not_null(f);
    cr_assert_eq(fscanf(f, "%llu %llu", &from, &to), 2);
    fclose(f);
    cr_assert_gt(to, from + 300, "a year of 6-hour periods makes hundreds of blocks");
    /* the store: the designated facilitator as a one-row list */
    char *init[] = {CW_BIN, "init", "--datadir", dd, NULL};
    run_ok(init);
    f = fopen(list, "w");
    fprintf(f, "chain,address,entity,program,note\nethereum,%s,Kim Sang Man,DPRK4,SDN uid 43377\n", KIM_SANG_MAN_ETH);
    fclose(f);
    char *imp[] = {CW_BIN, "watchlist", "import", "csv", list, "--datadir", dd, NULL};
    run_ok(imp);
    char sfrom[24], sto[24], alerts[700];
    snprintf(sfrom, sizeof sfrom, "%llu", from);
    snprintf(sto, sizeof sto, "%llu", to);
    snprintf(alerts, sizeof alerts, "%s/alerts.jsonl", dd);
    char *rep[] = {CW_BIN, "replay", "--chain", "ethereum", "--rpc", url, "--from", sfrom, "--to", sto,
                   "--datadir", dd, "--tokens", tokens, "--labels", CW_DATA_DIR "/labels/services.csv",
                   "--alerts", alerts, NULL};
    run_ok(rep);
    kill(anvil, SIGKILL);
    waitpid(anvil, NULL, 0);

    json_t *recs = alerts_read(dd);
    size_t i;
    json_t *r;
    int pattern = 0;
    json_array_foreach(recs, i, r)
    {
        const char *rule = json_string_value(json_object_get(r, "rule"));
        const char *st = json_string_value(json_object_get(r, "status"));
        int k = 0;
        while (k < N_RULES && (rule == NULL || strcmp(rule, RULES[k]) != 0))
            k++;
        if (k == N_RULES || st == NULL || strcmp(st, "confirmed") != 0)
            continue;
        pattern++;
        const char *addr = json_string_value(json_object_get(r, "address"));
        int a = actor_of(addr);
        /* payout_toward_designated fires once per target kind: a designated address reached, and a
         * flagged pool swept into (docs/rules.md) */
        const char *tk = json_string_value(json_object_get(json_object_get(r, "evidence"), "target_kind"));
        if (k == TOWARD && tk && strcmp(tk, "consolidator") == 0)
            k = TOWARD_POOL;
        else if (k == TOWARD)
            cr_assert_str_eq(tk, "designated", "%s: target_kind %s", addr, tk ? tk : "(none)");
        cr_assert_geq(a, 0, "%s fired on %s, an address the scenario does not hold", rule, addr);
        cr_assert(!(A[a].fired & (1u << k)), "%s fired twice on %s", rule, addr);
        A[a].fired |= 1u << k;
        int rk = risk_of(json_string_value(json_object_get(r, "risk")));
        if (rk > A[a].risk)
            A[a].risk = rk;
    }
    cr_assert_gt(pattern, 0, "no pattern record at all");
    int n[N_RULES + 1] = {0}, payouts = 0, shared = 0, pools = 0, tested = 0, both = 0, legit = 0, te_freelancers = 0;
    for (int a = 0; a < n_actors; a++) {
        for (int k = 0; k <= N_RULES; k++)
            n[k] += (A[a].fired >> k) & 1;
        bool sp = (A[a].fired >> SHARED) & 1, po = (A[a].fired >> POOL) & 1, tw = (A[a].fired >> TOWARD) & 1,
             off = (A[a].fired >> OFFRAMP) & 1, te = (A[a].fired >> TEST) & 1, twp = (A[a].fired >> TOWARD_POOL) & 1;
        payouts += is_payout(a);
        shared += is(a, "itw_shared_payout");
        pools += is(a, "itw_consolidator");
        legit += is_legit_payee(a);
        /* shared_payout: the shared payouts, and the contributors both DAOs pay monthly (the documented
         * twin that does look alike: two treasuries, monthly, salary-sized) */
        bool two_daos = is(a, "legit_contributor") && A[a].n_payers >= 2;
        both += two_daos;
        cr_assert_eq(sp, is(a, "itw_shared_payout") || two_daos, "shared_payout %s on %s (%s)",
                     sp ? "fired" : "missed", A[a].addr, A[a].role);
        cr_assert_eq(po, is(a, "itw_consolidator"), "consolidator %s on %s (%s)", po ? "fired" : "missed",
                     A[a].addr, A[a].role);
        cr_assert_eq(off, is(a, "itw_consolidator"), "off_ramp_after_pool %s on %s (%s)", off ? "fired" : "missed",
                     A[a].addr, A[a].role);
        /* every payout's money reached the facilitator (through the pool): each is named, with its payers;
         * and each swept into the flagged pool */
        cr_assert_eq(tw, is_payout(a), "payout_toward_designated %s on %s (%s)", tw ? "fired" : "missed", A[a].addr,
                     A[a].role);
        cr_assert_eq(twp, is_payout(a), "payout_toward_designated (toward the pool) %s on %s (%s)",
                     twp ? "fired" : "missed", A[a].addr, A[a].role);
        /* a tiny payment then salary from an employer that had paid salaries before; the processor's test
         * payments come before its first payroll, so its employees stay out. A freelancer's invoice under
         * USD 1,000 followed by a bigger one from the same client is the same shape (low weight, documented
         * in docs/rules.md): allowed on freelancers, counted */
        tested += A[a].test_from_employer;
        if (is(a, "legit_freelancer"))
            te_freelancers += te;
        else
            cr_assert_eq(te, A[a].test_from_employer, "test_then_salary %s on %s (%s)", te ? "fired" : "missed",
                         A[a].addr, A[a].role);
        /* the scoring: every payout at high or above, no legitimate payee */
        if (is_payout(a))
            cr_assert_geq(A[a].risk, 3, "payout %s only at risk %d", A[a].addr, A[a].risk);
        if (is_legit_payee(a))
            cr_assert_lt(A[a].risk, 3, "legitimate payee %s (%s) at risk %d", A[a].addr, A[a].role, A[a].risk);
    }
    /* the generator's shape: one network, 9 payout addresses of which 3 shared, one pool */
    cr_assert_eq(payouts, 9);
    cr_assert_eq(shared, 3);
    cr_assert_eq(pools, 1);
    cr_assert_eq(legit, 20 + 6 + 10 + 12 * 2, "20 employees, 6 freelancers, 10 contributors, 2 staff per employer");
    cr_assert_eq(n[SHARED], 3 + both);
    cr_assert_eq(n[POOL], 1);
    cr_assert_eq(n[OFFRAMP], 1);
    cr_assert_eq(n[TOWARD], 9);
    cr_assert_eq(n[TOWARD_POOL], 9);
    cr_assert_gt(tested, 0, "seed 7 gives some personas a test payment");
    cr_assert_eq(n[TEST], tested + te_freelancers);
    json_decref(recs);
    test_remove_dir(dir);
}

/* The driver's plan parser: a cut or malformed plan is refused with the
 * file and line, before any node is asked anything (no --rpc is reachable
 * here: 127.0.0.1:9 is the discard port, closed on this machine). */
static void driver_refuses(const char *plan_text, const char *rpc, const char *want)
{
    char *dir = tmpdir();
    char plan[600], outdir[600];
    snprintf(plan, sizeof plan, "%s/plan.txt", dir);
    snprintf(outdir, sizeof outdir, "%s/out", dir);
    FILE *f = fopen(plan, "w");
    fputs(plan_text, f);
    fclose(f);
    char *argv[] = {CW_SCRIPTS_DIR "/anvil-scenario", plan, "--out", outdir, "--rpc", (char *)rpc, NULL};
    char *out, *err;
    int rc = run_cmd(argv, NULL, 0, &out, &err);
    cr_assert_eq(rc, 1, "exit %d: %s%s", rc, out, err);
    cr_assert(strstr(err, want) != NULL, "stderr %s lacks %s", err, want);
    free(out), free(err);
    test_remove_dir(dir);
}

#define GOOD_ACTORS "actor,0,0x3f5CE5FBFe3E9af3971dD833D26bA9b5C936f0bE,exchange,0,0\n" \
                    "actor,1,0x71be63f3384f5fb98995898a86b02fb2426c5788,legit_payer,0,1000\n"

Test(rules_anvil, driver_refuses_malformed_plans)
{
    driver_refuses(GOOD_ACTORS "pay,1700000000,1,0,10,pay\nbalance,0,10\n", "http://127.0.0.1:9",
                   "not one balance line per actor (a cut file?)");
    driver_refuses(GOOD_ACTORS "pay,1700000000,1,0,10,pay\nbal", "http://127.0.0.1:9", "plan.txt:4: ");
    driver_refuses("actor,0,0x3f5CE5FBFe3E9af3971dD833D26bA9b5C936f0b,exchange,0,0\n", "http://127.0.0.1:9",
                   "plan.txt:1: not an EVM address");
    driver_refuses(GOOD_ACTORS "pay,1700000000,1,0,10,pay\npay,1600000000,1,0,10,pay\n", "http://127.0.0.1:9",
                   "plan.txt:4: unknown actor, amount <= 0 or time going back");
    driver_refuses(GOOD_ACTORS "pay,1700000000,1,7,10,pay\n", "http://127.0.0.1:9", "plan.txt:3: unknown actor");
    driver_refuses("actor,1,0x3f5CE5FBFe3E9af3971dD833D26bA9b5C936f0bE,exchange,0,0\n", "http://127.0.0.1:9",
                   "plan.txt:1: actor ids must run 0, 1, 2");
    /* a node elsewhere is never asked */
    driver_refuses(GOOD_ACTORS "pay,1700000000,1,0,10,pay\nbalance,0,10\nbalance,1,990\n", "http://192.0.2.1:8545",
                   "only a node on this machine (127.0.0.1) is used");
    /* a node that is not there: a clear error, exit 1 */
    driver_refuses(GOOD_ACTORS "pay,1700000000,1,0,10,pay\nbalance,0,10\nbalance,1,990\n", "http://127.0.0.1:9",
                   "anvil-scenario: ");
}

/* The generator's account mode wants EVM addresses for the off-ramps. */
Test(rules_anvil, account_plan_refuses_bitcoin_addresses)
{
    char *dir = tmpdir();
    char plan[600], truth[600];
    snprintf(plan, sizeof plan, "%s/plan.txt", dir);
    snprintf(truth, sizeof truth, "%s/truth.csv", dir);
    char *gen[] = {CW_GENCHAIN, "--scenario", "payroll", "--account-plan", plan, "--truth", truth, "--exchange",
                   "1D6gG9iKEhPitTcWRJiniuj1jYM2hNeAfJ", NULL};
    char *out, *err;
    cr_assert_eq(run_cmd(gen, NULL, 0, &out, &err), 2);
    cr_assert(strstr(err, "EVM addresses only") != NULL, "%s", err);
    free(out), free(err);
    test_remove_dir(dir);
}
