/* `chainwatch verify`: the signatures and the audit trail of an alert file. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <time.h>

#include "monitor/records/alert.h"
#include "chains/hashtab.h"
#include "chains/hex.h"
#include "watchlists/htab_secret.h"
#include "args.h"
#include "cli.h"
#include "monitor/records/keys.h"
#include "monitor/engine/pipeline.h"
#include "watchlists/store/store.h"

static const char verify_usage[] =
    "usage: chainwatch verify FILE|- [--pubkey HEX] [--datadir D] [--checkpoint CP] [--from-start]\n"
    "\n"
    "Checks every alert record in FILE (JSON lines; - reads standard input)\n"
    "against --pubkey, or the datadir's signing.pub: its signature, and its\n"
    "place in the datadir's audit trail (each record's seq follows the one\n"
    "before, and its prev is the hash of that record's line). Prints\n"
    "FILE:LINE: REASON for each problem: a bad signature, missing records (a\n"
    "gap in seq), a repeated record, a record out of order, a record that does\n"
    "not chain to the one before it, a record without seq/prev. A file that\n"
    "starts after seq 1 (an older file was rotated away) is reported as such,\n"
    "not as an error, unless --from-start says it must hold the whole trail.\n"
    "--checkpoint CP (a line printed by 'chainwatch checkpoint') also checks\n"
    "that FILE holds the record the checkpoint vouches for, with its hash: a\n"
    "file cut short or rewritten since the checkpoint fails.\n"
    "Exit 0 if every record is valid and the whole file is one clean chain\n"
    "(and there is at least one record), 1 otherwise, 2 on usage errors or an\n"
    "unreadable file, key or checkpoint.\n"
    "\n"
    "Options:\n";

/* What verify remembers of each seq: the first line holding it and that
 * record's line hash, in a chains/hashtab.h table keyed by seq. */
typedef struct {
    uint64_t seq;
    unsigned long line;
    uint8_t hash[32];
} seen_rec;

typedef struct {
    cw_htab t; /* seq (8 bytes) -> seen_rec; made at the first add */
} seen_set;

static const seen_rec *seen_get(const seen_set *s, uint64_t seq) { return cw_htab_get(&s->t, &seq, sizeof seq); }

static bool seen_add(seen_set *s, uint64_t seq, unsigned long line, const uint8_t hash[32])
{
    /* a file must not be able to pick seqs that collide: a secret seed */
    if (s->t.cap == 0 && htab_secret_init(&s->t, sizeof seq, sizeof(seen_rec), 0, 1024, NULL))
        return false;
    void *v = NULL;
    if (cw_htab_put(&s->t, &seq, sizeof seq, &v, NULL, NULL))
        return false;
    seen_rec *r = v;
    *r = (seen_rec){seq, line, {0}};
    memcpy(r->hash, hash, 32);
    return true;
}

static void seen_free(seen_set *s) { cw_htab_free(&s->t); }

typedef struct {
    bool have;                 /* a checkpoint was given */
    uint64_t seq;
    uint8_t hash[32];
} checkpoint_want;

/* Verifies every record of an open stream; prints problems and the
 * summary. Returns the exit code. */
static int verify_stream(FILE *in, const char *name, const uint8_t pk[32], bool from_start, const checkpoint_want *cp)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    unsigned long lineno = 0, total = 0, valid = 0, problems = 0;
    seen_set seen = {0};
    alert_trail start;
    alert_trail_start(pk, &start);
    /* the highest seq so far: the record a next one must chain to */
    bool have_last = false, last_hash_known = false;
    uint64_t last_seq = 0, first_seq = 0;
    unsigned long last_line = 0;
    uint8_t last_hash[32];
    bool oom = false;
    while (!oom && (len = getline(&line, &cap, in)) >= 0) {
        if (!cli_out_ok("verify")) { /* a report cut by a full disk stops here, and says so */
            free(line);
            seen_free(&seen);
            return CLI_EXIT_FAIL;
        }
        lineno++;
        size_t n = (size_t)len;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            n--;
        size_t k = 0;
        while (k < n && (line[k] == ' ' || line[k] == '\t'))
            k++;
        if (k == n)
            continue;
        total++;
        char reason[160];
        alert_link ln;
        cw_code rc = alert_check(line, n, pk, &ln, reason);
        if (rc != CW_OK) {
            printf("%s:%lu: %s\n", name, lineno, reason);
            problems++;
            /* a changed record still holds its place: its successor is
             * not reported missing, only not checkable against it */
            if (rc == CW_ECHECKSUM && ln.has_seq && (!have_last || ln.seq == last_seq + 1)) {
                if (!have_last)
                    first_seq = ln.seq;
                have_last = true;
                last_seq = ln.seq;
                last_line = lineno;
                last_hash_known = false;
            }
            continue;
        }
        valid++;
        if (!ln.chained) {
            printf("%s:%lu: not part of an audit trail: no seq and prev (written before chainwatch kept one, or "
                   "signed by something else)\n",
                   name, lineno);
            problems++;
            continue;
        }
        const seen_rec *dup = seen_get(&seen, ln.seq);
        if (dup) {
            if (memcmp(dup->hash, ln.hash, 32) == 0)
                printf("%s:%lu: seq %llu repeats the record at line %lu\n", name, lineno, (unsigned long long)ln.seq,
                       dup->line);
            else
                printf("%s:%lu: seq %llu again, with other content than at line %lu: two trails were mixed or one "
                       "was forked\n",
                       name, lineno, (unsigned long long)ln.seq, dup->line);
            problems++;
            continue;
        }
        if (!seen_add(&seen, ln.seq, lineno, ln.hash)) {
            oom = true;
            break;
        }
        if (!have_last) {
            first_seq = ln.seq;
            if (ln.seq == 1 && memcmp(ln.prev, start.hash, 32) != 0) {
                printf("%s:%lu: seq 1 does not start this key's trail (its prev is not the trail start of the "
                       "public key): it belongs to another datadir's trail\n",
                       name, lineno);
                problems++;
            } else if (ln.seq > 1 && from_start) {
                printf("%s:%lu: the file starts at seq %llu: records 1..%llu are missing\n", name, lineno,
                       (unsigned long long)ln.seq, (unsigned long long)ln.seq - 1);
                problems++;
            }
        } else if (ln.seq == last_seq + 1) {
            if (last_hash_known && memcmp(ln.prev, last_hash, 32) != 0) {
                printf("%s:%lu: seq %llu does not chain to seq %llu at line %lu (its prev is not that record's hash): "
                       "a record was replaced or spliced in\n",
                       name, lineno, (unsigned long long)ln.seq, (unsigned long long)last_seq, last_line);
                problems++;
            }
        } else if (ln.seq > last_seq + 1) {
            if (ln.seq == last_seq + 2)
                printf("%s:%lu: record seq %llu is missing (before seq %llu; the one before is at line %lu)\n", name,
                       lineno, (unsigned long long)last_seq + 1, (unsigned long long)ln.seq, last_line);
            else
                printf("%s:%lu: records seq %llu..%llu are missing (before seq %llu; the one before is at line %lu)\n",
                       name, lineno, (unsigned long long)last_seq + 1, (unsigned long long)ln.seq - 1,
                       (unsigned long long)ln.seq, last_line);
            problems++;
        } else {
            const seen_rec *before = seen_get(&seen, ln.seq - 1);
            printf("%s:%lu: seq %llu is out of order: it comes after seq %llu (line %lu)%s\n", name, lineno,
                   (unsigned long long)ln.seq, (unsigned long long)last_seq, last_line,
                   before && memcmp(before->hash, ln.prev, 32) != 0 ? ", and does not chain to the record before it"
                                                                    : "");
            problems++;
            continue; /* the chain goes on from the highest seq */
        }
        have_last = true;
        last_seq = ln.seq;
        last_line = lineno;
        memcpy(last_hash, ln.hash, 32);
        last_hash_known = true;
    }
    bool read_failed = ferror(in) != 0;
    int read_errno = errno;
    free(line);
    if (oom || read_failed) {
        seen_free(&seen);
        cw_err e;
        if (oom)
            cw_err_set(&e, CW_ENOMEM, CW_NO_OFFSET, "out of memory at line %lu of %s", lineno, name);
        else
            cw_err_set(&e, CW_EIO, CW_NO_OFFSET, "reading %s after line %lu: %s", name, lineno, strerror(read_errno));
        fflush(stdout);
        cli_fail("verify", &e);
        return oom ? CLI_EXIT_FAIL : CLI_EXIT_USAGE;
    }
    if (cp && cp->have && cp->seq > 0) {
        const seen_rec *r = seen_get(&seen, cp->seq);
        if (r == NULL) {
            if (!have_last || last_seq < cp->seq)
                printf("%s: the checkpoint vouches for seq %llu, but the file ends at %s%llu: records were cut off "
                       "its end\n",
                       name, (unsigned long long)cp->seq, have_last ? "seq " : "nothing, seq ",
                       (unsigned long long)last_seq);
            else
                printf("%s: the checkpoint's record seq %llu is not in the file\n", name, (unsigned long long)cp->seq);
            problems++;
        } else if (memcmp(r->hash, cp->hash, 32) != 0) {
            printf("%s:%lu: seq %llu is not the record the checkpoint vouches for (its hash differs): the file was "
                   "rewritten\n",
                   name, r->line, (unsigned long long)cp->seq);
            problems++;
        }
    }
    seen_free(&seen);
    if (have_last && first_seq > 1 && !from_start)
        printf("%s: starts at seq %llu (the records before it are in an earlier file)\n", name,
               (unsigned long long)first_seq);
    printf("%lu records, %lu valid, %lu invalid; trail seq %llu..%llu, %lu problems\n", total, valid, total - valid,
           (unsigned long long)first_seq, (unsigned long long)last_seq, problems);
    if (total == 0)
        fprintf(stderr, "chainwatch: verify: %s holds no records\n", name);
    return total > 0 && problems == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

/* Reads and checks a checkpoint file (its first non-empty line). Returns
 * CLI_EXIT_OK and fills cp, or an exit code after one line on stderr. */
static int read_checkpoint(const char *path, const uint8_t pk[32], checkpoint_want *cp)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "chainwatch: verify: cannot open the checkpoint %s: %s\n", path, strerror(errno));
        return CLI_EXIT_USAGE;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, f)) >= 0 && strspn(line, " \t\r\n") == (size_t)len)
        ;
    fclose(f);
    int rc = CLI_EXIT_USAGE;
    char reason[160];
    alert_link ln;
    json_t *j = NULL;
    if (len < 0) {
        fprintf(stderr, "chainwatch: verify: %s holds no checkpoint\n", path);
        goto out;
    }
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        len--;
    if (alert_check(line, (size_t)len, pk, &ln, reason) != CW_OK) {
        fprintf(stderr, "chainwatch: verify: checkpoint %s: %s\n", path, reason);
        rc = CLI_EXIT_FAIL; /* a forged or changed checkpoint is a finding, not a typo */
        goto out;
    }
    j = json_loadb(line, (size_t)len, 0, NULL);
    json_t *seq = json_object_get(j, "head_seq");
    const char *type = json_string_value(json_object_get(j, "type"));
    const char *hash = json_string_value(json_object_get(j, "head_hash"));
    size_t n = 0;
    if (type == NULL || strcmp(type, "trail_checkpoint") != 0 || !json_is_integer(seq) ||
        json_integer_value(seq) < 0 || hash == NULL || strlen(hash) != 64 ||
        cw_hex_decode(hash, 64, cp->hash, 32, &n, NULL) != CW_OK || n != 32) {
        fprintf(stderr, "chainwatch: verify: %s is not a trail checkpoint (type, head_seq, head_hash; see chainwatch "
                        "checkpoint --help)\n",
                path);
        goto out;
    }
    cp->seq = (uint64_t)json_integer_value(seq);
    cp->have = true;
    rc = CLI_EXIT_OK;
out:
    json_decref(j);
    free(line);
    return rc;
}

int cmd_verify(int argc, char **argv)
{
    const char *file = NULL, *pubhex = NULL, *given = NULL, *cpfile = NULL;
    bool from_start = false;
    cli_arg args[] = {
        {"pubkey", ARG_STRING, &pubhex, .metavar = "HEX",
         .help = "the signer's public key (default: the datadir's signing.pub)"},
        {"datadir", ARG_PATH, &given, .metavar = "D", .help = "default ~/.chainwatch"},
        {"checkpoint", ARG_PATH, &cpfile, .metavar = "CP", .help = "a file holding a line of chainwatch checkpoint"},
        {"from-start", ARG_FLAG, &from_start, .help = "FILE must hold the whole trail, from seq 1"},
        {0},
    };
    int help_rc;
    if (cli_args_help(argc, argv, false, verify_usage, args, &help_rc))
        return help_rc;
    int n_pos;
    if (cli_args_parse("verify", args, argc, argv, &file, 1, &n_pos))
        return CLI_EXIT_USAGE;
    if (file == NULL) {
        fprintf(stderr, "chainwatch: verify: missing FILE (a file of alert records, or - for standard input)\n");
        return CLI_EXIT_USAGE;
    }
    uint8_t pk[32];
    if (pubhex) {
        if (!keys_parse_public_hex(pubhex, pk)) {
            fprintf(stderr, "chainwatch: verify: --pubkey must be 64 hex characters (the line 'public key:' of "
                            "chainwatch init)\n");
            return CLI_EXIT_USAGE;
        }
    } else {
        char buf[4096];
        const char *datadir;
        if ((datadir = cli_datadir("verify", given, buf, sizeof buf)) == NULL)
            return CLI_EXIT_USAGE;
        cw_err err = {0};
        if (keys_load_public(datadir, pk, &err) != CW_OK) {
            cli_fail("verify", &err);
            fprintf(stderr, "chainwatch: verify: or give the public key with --pubkey HEX\n");
            return CLI_EXIT_USAGE;
        }
    }
    checkpoint_want cp = {0};
    int cprc = cpfile ? read_checkpoint(cpfile, pk, &cp) : CLI_EXIT_OK;
    if (cprc != CLI_EXIT_OK)
        return cprc;
    bool is_stdin = strcmp(file, "-") == 0;
    FILE *in = is_stdin ? stdin : fopen(file, "r");
    if (in == NULL) {
        cw_err e;
        cw_err_set(&e, CW_EIO, CW_NO_OFFSET, "cannot open %s: %s", file, strerror(errno));
        cli_fail("verify", &e);
        return CLI_EXIT_USAGE;
    }
    int rc = verify_stream(in, file, pk, from_start, &cp);
    if (!is_stdin)
        fclose(in);
    return rc;
}
