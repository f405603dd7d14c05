/* tokens.c: the table of known tokens (see tokens.h). A handful of rows:
 * a linear scan is faster than hashing and needs no seed. */
#include "tokens.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "chains/addr.h"
#include "csv.h"

/* The facts of ../shared/data/labels/stablecoin_contracts.csv (its
 * `source` column: brianleect/etherscan-labels data/etherscan/tokens/
 * stablecoin.csv @923aba72 for the Ethereum rows; trustwallet/assets
 * blockchains/tron/assets/<contract>/info.json @0051f09e and @29af8923 for
 * the Tron rows, whose contract is also Tether's published TRC-20 address
 * 41a614f803b6fd780986a42c78ec9c7f77e6ded13c). */
static const tokens_builtin_row BUILTIN[] = {
    {"ETH", "USDT", "0xdac17f958d2ee523a2206206994597c13d831ec7", 6},
    {"ETH", "USDC", "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48", 6},
    {"TRON", "USDT", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", 6},
    {"TRON", "USDC", "TEkxiTehnzSmSe2XqrBj4w32RUN966rdz8", 6},
};

const tokens_builtin_row *tokens_builtin(size_t *n)
{
    *n = sizeof BUILTIN / sizeof BUILTIN[0];
    return BUILTIN;
}

void tokens_init_empty(tokens_table *t) { memset(t, 0, sizeof *t); }

void tokens_free(tokens_table *t)
{
    free(t->v);
    memset(t, 0, sizeof *t);
}

static const char *symbol_problem(const char *s)
{
    size_t n = strlen(s);
    if (n == 0)
        return "is empty";
    if (n >= TOKENS_SYMBOL_MAX)
        return "is longer than 15 characters";
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '.' && *s != '-' && *s != '_')
            return "has a character other than A-Z a-z 0-9 . - _";
    return NULL;
}

static token_info *find_mut(const tokens_table *t, const cw_addr *c)
{
    for (size_t i = 0; i < t->n; i++)
        if (cw_addr_eq(&t->v[i].contract, c))
            return &t->v[i];
    return NULL;
}

const token_info *tokens_find(const tokens_table *t, const cw_addr *contract) { return find_mut(t, contract); }

cw_code tokens_put(tokens_table *t, const cw_addr *contract, const char *symbol, unsigned decimals, cw_err *err)
{
    if (contract->kind != CW_ADDR_EVM && contract->kind != CW_ADDR_TRON)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "a token contract is an EVM or Tron address");
    const char *why = symbol_problem(symbol);
    if (why)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "token symbol \"%.40s\" %s", symbol, why);
    if (decimals > TOKENS_DECIMALS_MAX)
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "token decimals %u is above %d", decimals, TOKENS_DECIMALS_MAX);
    token_info *e = find_mut(t, contract);
    if (!e) {
        if (t->n == t->cap) {
            size_t cap = t->cap ? t->cap * 2 : 8;
            token_info *v = realloc(t->v, cap * sizeof *v);
            if (!v)
                return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory for the token table");
            t->v = v;
            t->cap = cap;
        }
        e = &t->v[t->n++];
        e->contract = *contract;
    }
    snprintf(e->symbol, sizeof e->symbol, "%s", symbol);
    e->decimals = decimals;
    return CW_OK;
}

/* "ETH"/"EVM"/"ethereum" -> EVM, "TRON"/"TRX" -> Tron; else NONE. */
static cw_chain chain_of(const char *s)
{
    if (!strcasecmp(s, "ETH") || !strcasecmp(s, "EVM") || !strcasecmp(s, "ethereum"))
        return CW_CHAIN_EVM;
    if (!strcasecmp(s, "TRON") || !strcasecmp(s, "TRX"))
        return CW_CHAIN_TRON;
    return 0;
}

static cw_code parse_contract(const char *chain, const char *text, cw_addr *out, char *why, size_t whylen)
{
    cw_chain c = chain_of(chain);
    if (!c) {
        snprintf(why, whylen, "chain \"%.20s\" is not ETH (EVM) or TRON", chain);
        return CW_EFORMAT;
    }
    cw_err perr = {0};
    if (cw_addr_parse(text, CW_NET_ANY, out, &perr) != CW_OK) {
        snprintf(why, whylen, "contract \"%.64s\": %.120s", text, perr.msg);
        return CW_EFORMAT;
    }
    if (out->chain != c) {
        snprintf(why, whylen, "contract \"%.60s\" is a %s address in a %s row", text,
                 cw_chain_name((cw_chain)out->chain), chain);
        return CW_EFORMAT;
    }
    return CW_OK;
}

cw_code tokens_init(tokens_table *t, cw_err *err)
{
    tokens_init_empty(t);
    for (size_t i = 0; i < sizeof BUILTIN / sizeof BUILTIN[0]; i++) {
        cw_addr a;
        char why[CW_ERR_MSG_MAX];
        cw_code rc = parse_contract(BUILTIN[i].chain, BUILTIN[i].contract, &a, why, sizeof why);
        if (rc == CW_OK)
            rc = tokens_put(t, &a, BUILTIN[i].symbol, BUILTIN[i].decimals, err);
        else
            cw_err_set(err, rc, CW_NO_OFFSET, "built-in token %zu: %s", i, why);
        if (rc) {
            tokens_free(t);
            return rc;
        }
    }
    return CW_OK;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = 0;
    return s;
}

static bool blank(const csv_reader *r)
{
    if (r->n_fields != 1)
        return false;
    for (const char *p = r->field[0]; *p; p++)
        if (!isspace((unsigned char)*p))
            return false;
    return true;
}

enum { COL_CHAIN, COL_TOKEN, COL_CONTRACT, COL_DECIMALS, N_COLS };
static const char *const COLS[N_COLS] = {"chain", "token", "contract_address", "decimals"};

cw_code tokens_load_csv(tokens_table *t, const char *path, cw_err *err)
{
    /* Work on a copy, so the table is untouched on error. */
    tokens_table nt = {NULL, 0, 0};
    if (t->n) {
        nt.v = malloc(t->n * sizeof *nt.v);
        if (!nt.v)
            return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "%s: out of memory", path);
        memcpy(nt.v, t->v, t->n * sizeof *nt.v);
        nt.n = nt.cap = t->n;
    }
    uint8_t *seen = NULL;    /* per entry: set by this file (to refuse a contract twice) */
    size_t seen_cap = 0;
    csv_reader r;
    cw_code rc = csv_open(&r, path, NULL, NULL, err);
    if (rc) {
        tokens_free(&nt);
        return rc;
    }
    int col[N_COLS];
    bool have_header = false;
    int got;
    while ((got = csv_next(&r, err)) == 1) {
        if (blank(&r))
            continue;
        if (!have_header) {
            for (int c = 0; c < N_COLS; c++) {
                col[c] = -1;
                for (int i = 0; i < r.n_fields; i++)
                    if (!strcasecmp(trim(r.field[i]), COLS[c]))
                        col[c] = i;
                if (col[c] < 0) {
                    rc = cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET,
                                    "%s: line %zu: the header has no column \"%s\" (expected "
                                    "chain,token,contract_address,decimals[,source])",
                                    path, r.line_no, COLS[c]);
                    break;
                }
            }
            if (rc)
                break;
            have_header = true;
            continue;
        }
        const char *f[N_COLS];
        for (int c = 0; c < N_COLS; c++) {
            if (col[c] >= r.n_fields) {
                rc = cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s: line %zu: %d fields, no \"%s\"", path, r.line_no,
                                r.n_fields, COLS[c]);
                break;
            }
            f[c] = trim(r.field[col[c]]);
        }
        if (rc)
            break;
        cw_addr a;
        char why[CW_ERR_MSG_MAX];
        if (parse_contract(f[COL_CHAIN], f[COL_CONTRACT], &a, why, sizeof why)) {
            rc = cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s: line %zu: %s", path, r.line_no, why);
            break;
        }
        const char *d = f[COL_DECIMALS];
        unsigned dec = 0;
        bool dok = *d && strlen(d) <= 2;
        for (const char *p = d; dok && *p; p++)
            dok = isdigit((unsigned char)*p);
        if (dok)
            dec = (unsigned)atoi(d);
        if (!dok || dec > TOKENS_DECIMALS_MAX || (d[0] == '0' && d[1])) {
            rc = cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s: line %zu: decimals \"%.20s\" is not a number 0..%d",
                            path, r.line_no, d, TOKENS_DECIMALS_MAX);
            break;
        }
        token_info *prev = find_mut(&nt, &a);
        size_t idx = prev ? (size_t)(prev - nt.v) : nt.n;
        if (idx < seen_cap && seen[idx]) {
            rc = cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s: line %zu: contract %s is listed twice in this file", path,
                            r.line_no, f[COL_CONTRACT]);
            break;
        }
        cw_err perr = {0};
        if (tokens_put(&nt, &a, f[COL_TOKEN], dec, &perr)) {
            rc = cw_err_set(err, perr.code == CW_ENOMEM ? CW_ENOMEM : CW_EFORMAT, CW_NO_OFFSET, "%s: line %zu: %s",
                            path, r.line_no, perr.msg);
            break;
        }
        if (idx >= seen_cap) {
            size_t cap = seen_cap ? seen_cap * 2 : 16;
            while (cap <= idx)
                cap *= 2;
            uint8_t *s2 = realloc(seen, cap);
            if (!s2) {
                rc = cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "%s: out of memory", path);
                break;
            }
            memset(s2 + seen_cap, 0, cap - seen_cap);
            seen = s2;
            seen_cap = cap;
        }
        seen[idx] = 1;
    }
    if (got < 0)
        rc = err ? err->code : CW_EFORMAT;
    if (rc == CW_OK && !have_header)
        rc = cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s: empty: no header chain,token,contract_address,decimals",
                        path);
    char sha[65];
    csv_close(&r, sha);
    free(seen);
    if (rc) {
        tokens_free(&nt);
        return rc;
    }
    tokens_free(t);
    *t = nt;
    return CW_OK;
}
