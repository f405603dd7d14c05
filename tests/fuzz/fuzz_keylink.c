/* libFuzzer target: the keys Bitcoin inputs and outputs reveal
 * (chains/keylink.h) on arbitrary bytes, read as a tx and as a key.
 * Properties beyond "no crash": a key counted for an input is one whose
 * forms include the address the input spends (the rule that keeps an
 * attacker's push from linking what it does not spend); a parsed key's
 * two encodings parse back to the same key; the raw reveal (no parse)
 * agrees with the parsing one. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chains/bitcoin/hint.h"
#include "chains/bitcoin/tx.h"
#include "chains/keylink.h"

static bool has_form(const cw_pubkey *k, const cw_addr *a)
{
    cw_addr f[CW_FORM_COUNT];
    cw_pubkey_forms(k, (cw_net)a->net, CW_FORMS_HASH160, f, NULL);
    for (int i = 0; i < CW_FORM_COUNT; i++)
        if (f[i].kind != CW_ADDR_NONE && cw_addr_eq(&f[i], a))
            return true;
    return false;
}

static void check_key(const uint8_t *p, size_t n)
{
    cw_pubkey k, c, u;
    cw_err err;
    if (cw_pubkey_parse(p, n, &k, &err) != CW_OK) {
        if (err.msg[0] == '\0')
            abort(); /* every refusal says why */
        return;
    }
    if (cw_pubkey_parse(k.compressed, 33, &c, NULL) || cw_pubkey_parse(k.uncompressed, 65, &u, NULL) ||
        memcmp(&c, &k, sizeof k) || memcmp(&u, &k, sizeof k))
        abort();
    cw_addr f[CW_FORM_COUNT];
    if (cw_pubkey_forms(&k, CW_NET_MAIN, CW_FORMS_ALL, f, NULL) == CW_OK)
        for (int i = 0; i < CW_FORM_COUNT; i++)
            if (f[i].kind == CW_ADDR_NONE)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_key(data, size);
    if (size >= 1 && size <= 66)
        check_key(data + 1, size - 1);
    size_t cap = btc_arena_bound(size);
    void *mem = malloc(cap);
    if (mem == NULL)
        return 0;
    cw_arena arena;
    cw_arena_init(&arena, mem, cap);
    cw_tx tx;
    size_t used;
    if (btc_tx_parse(data, size, &used, CW_NET_MAIN, &arena, &tx, NULL) == CW_OK) {
        for (size_t i = 0; i < tx.n_in; i++) {
            cw_txin in = tx.in[i];
            cw_pubkey k;
            cw_revealed_by by;
            cw_reveal r = cw_reveal_input(&in, &k, &by);
            if (r == CW_REVEAL_KEY && by != CW_REVEALED_BY_P2SH_P2WPKH)
                abort(); /* only the self-committing shape counts unresolved */
            /* resolved to what the input itself suggests */
            in.resolved = true;
            if (!btc_input_hint(&tx.in[i], CW_NET_MAIN, &in.addr))
                memset(&in.addr, 0, sizeof in.addr);
            r = cw_reveal_input(&in, &k, &by);
            if (r == CW_REVEAL_KEY && !has_form(&k, &in.addr))
                abort();
            /* the raw reveal agrees: KEY when the parse passes, and the
             * compressed bytes it remembers keys by are the parsed key's */
            cw_span raw;
            cw_reveal rr = cw_reveal_input_raw(&in, &raw, NULL);
            if ((r == CW_REVEAL_KEY || r == CW_REVEAL_BAD_KEY) != (rr == CW_REVEAL_KEY) || rr == CW_REVEAL_BAD_KEY)
                abort();
            uint8_t c33[33];
            if (r == CW_REVEAL_KEY && (!cw_pubkey_compress_bytes(raw, c33) || memcmp(c33, k.compressed, 33)))
                abort();
        }
        for (size_t o = 0; o < tx.n_out; o++) {
            cw_pubkey k;
            cw_reveal r = cw_reveal_output(&tx.out[o], &k);
            if (r == CW_REVEAL_KEY && tx.out[o].type != CW_SCRIPT_P2PK)
                abort();
        }
    }
    free(mem);
    return 0;
}
