/*
 * routes_screen.c: GET /api/v1/address/{address} (Chainalysis' free
 * sanctions API's shape) and POST /v1/screen (screen.h's answer, as
 * `chainwatch screen` gives it, for an address, a batch of addresses, a raw
 * Bitcoin or Ethereum tx, a signed Tron tx (java-tron's JSON) or a PSBT).
 */
#include <stdlib.h>
#include <string.h>

#include "chains/addr.h"
#include "chains/json.h"
#include "chains/bitcoin/psbt.h"
#include "chains/bitcoin/tx.h"
#include "chains/hex.h"
#include "chains/tron/api.h"
#include "monitor/cli/cli.h"
#include "monitor/engine/decode_eth.h"
#include "monitor/engine/screen.h"
#include "monitor/records/alert.h"
#include "routes.h"
#include "watchlists/watchlist.h"

#define SCREEN_BATCH_MAX 1000

/* ---- GET /api/v1/address/{address} ----
 *
 * The hot path of the API (exchanges call it for every deposit address and
 * withdrawal): no JSON tree is built. The address is parsed and formatted
 * once, its designations are read from the watchlist (wl_lookup) and each
 * one's identification is written straight into the reply with the JSON
 * writer, keys in canonical (sorted) order, so the bytes are what
 * alert_canonical would print for the same object. Only a listed
 * address's entity record is parsed (jansson). */

/* An entity's fields as an identification names them, pointing into
 * `stored` (NULL: absent from the store or the record). */
typedef struct {
    json_t *stored; /* the parsed record (owned), NULL when there is none */
    const char *name, *list, *designated;
    const json_t *programs;
} entity_fields;

/* A server thread's last parsed entity records, each with the exact bytes
 * it was parsed from. A record is read from the store on every request and
 * its parse reused only when those bytes are the same: a memo of the parse
 * (jansson's is most of a listed address's cost), never a stale answer. */
#define ENTITY_MEMO_SLOTS 32
typedef struct {
    uint8_t *raw;
    size_t n;
    entity_fields f;
} entity_memo;
static _Thread_local entity_memo entity_memos[ENTITY_MEMO_SLOTS];

static void memo_clear(entity_memo *m)
{
    json_decref(m->f.stored);
    free(m->raw);
    memset(m, 0, sizeof *m);
}

void api_screen_thread_free(void)
{
    for (size_t i = 0; i < ENTITY_MEMO_SLOTS; i++)
        memo_clear(&entity_memos[i]);
}

static size_t memo_slot(const char *source, const char *uid)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const char *p = source; *p; p++)
        h = (h ^ (uint8_t)*p) * 16777619u;
    for (const char *p = uid; *p; p++)
        h = (h ^ (uint8_t)*p) * 16777619u;
    return h % ENTITY_MEMO_SLOTS;
}

/* The entity record of one designation, with screen_entity_json's rules:
 * an absent record gives no fields (the identification still names the
 * address); a record that does not parse is damage, a read error the
 * store's, and both are errors (503), never a shorter answer. *out points
 * at this thread's memo or at tmp; the caller decrefs tmp->stored. */
static cw_code entity_read(store_txn *t, const char *source, const char *uid, entity_fields *tmp,
                           const entity_fields **out, cw_err *err)
{
    memset(tmp, 0, sizeof *tmp);
    *out = tmp;
    cw_span ej;
    cw_code rc = wl_entity_json(t, source, uid, &ej, err);
    if (rc == CW_ENOTFOUND)
        return CW_OK;
    if (rc)
        return rc;
    entity_memo *m = &entity_memos[memo_slot(source, uid)];
    if (m->raw && m->n == ej.n && memcmp(m->raw, ej.p, ej.n) == 0) {
        *out = &m->f;
        return CW_OK;
    }
    json_error_t jerr;
    if ((tmp->stored = json_loadb((const char *)ej.p, ej.n, 0, &jerr)) == NULL)
        return json_error_code(&jerr) == json_error_out_of_memory
                   ? cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory reading entity %s/%s", source, uid)
                   : store_damaged(t, err, "the record of entity %s/%s does not parse", source, uid);
    tmp->name = json_string_value(json_object_get(tmp->stored, "name"));
    tmp->list = json_string_value(json_object_get(tmp->stored, "list"));
    tmp->designated = json_string_value(json_object_get(tmp->stored, "designated"));
    tmp->programs = json_object_get(tmp->stored, "programs");
    uint8_t *raw = malloc(ej.n ? ej.n : 1);
    if (raw) { /* kept for the next request; without memory, used once */
        memo_clear(m);
        memcpy(raw, ej.p, ej.n);
        m->raw = raw;
        m->n = ej.n;
        m->f = *tmp;
        tmp->stored = NULL;
        *out = &m->f;
    }
    return CW_OK;
}

/* One identification of a designation, as Chainalysis names them:
 * name "SANCTIONS: OFAC SDN <entity> <designated> <address>". Each text is
 * written in pieces straight into the reply (cw_json_str_add): this runs
 * for every listed address screened, and formatting it with snprintf into
 * buffers first cost a tenth of the server's user time. */
static void write_identification(cw_json *j, const entity_fields *f, const char *source, const char *uid,
                                 const char *address)
{
    const char *name = f->name, *list = f->list, *designated = f->designated;
    bool ofac = source && strncmp(source, "ofac", 4) == 0;
    cw_json_obj_begin(j); /* keys in canonical order */
    cw_json_key(j, "category");
    cw_json_str(j, "sanctions");
    cw_json_key(j, "description");
    cw_json_str_begin(j);
    cw_json_str_add(j, name ? name : "This entity");
    cw_json_str_add(j, " is designated");
    if (list) {
        cw_json_str_add(j, " on the ");
        cw_json_str_add(j, list);
        cw_json_str_add(j, " list");
    }
    /* the programs joined by ", ", from the first with text on (entries
     * before it that are empty or not strings add nothing, later ones an
     * empty item); no clause when none has text */
    size_t i;
    bool started = false;
    const json_t *p;
    json_array_foreach(f->programs, i, p)
    {
        const char *ps = json_string_value(p);
        if (started) {
            cw_json_str_add(j, ", ");
            cw_json_str_add(j, ps ? ps : "");
        } else if (ps && ps[0]) {
            cw_json_str_add(j, " (programs: ");
            cw_json_str_add(j, ps);
            started = true;
        }
    }
    if (started)
        cw_json_str_add(j, ")");
    cw_json_str_add(j, "; ");
    cw_json_str_add(j, source ? source : "the list");
    cw_json_str_add(j, " lists ");
    cw_json_str_add(j, address);
    cw_json_str_add(j, " under it (");
    cw_json_str_add(j, source ? source : "list");
    cw_json_str_add(j, " entry ");
    cw_json_str_add(j, uid ? uid : "?");
    cw_json_str_add(j, ").");
    cw_json_str_end(j);
    cw_json_key(j, "name");
    cw_json_str_begin(j);
    cw_json_str_add(j, "SANCTIONS: ");
    cw_json_str_add(j, ofac ? "OFAC " : "");
    const char *head = list ? list : (source ? source : "");
    cw_json_str_add(j, head);
    bool ends_in_space = head[0] ? head[strlen(head) - 1] == ' ' : true; /* "SANCTIONS: " or "... OFAC " */
    if (name) {
        cw_json_str_add(j, " ");
        cw_json_str_add(j, name);
        ends_in_space = name[0] ? name[strlen(name) - 1] == ' ' : true;
    }
    if (designated) {
        cw_json_str_add(j, " ");
        cw_json_str_add(j, designated);
        ends_in_space = designated[0] ? designated[strlen(designated) - 1] == ' ' : true;
    }
    cw_json_str_add(j, ends_in_space ? "" : " ");
    cw_json_str_add(j, address);
    cw_json_str_end(j);
    cw_json_key(j, "url");
    if (ofac && uid) {
        cw_json_str_begin(j);
        cw_json_str_add(j, "https://sanctionssearch.ofac.treas.gov/Details.aspx?id=");
        cw_json_str_add(j, uid);
        cw_json_str_end(j);
    } else if (source && uid && strcmp(source, "opensanctions") == 0) {
        cw_json_str_begin(j);
        cw_json_str_add(j, "https://www.opensanctions.org/entities/");
        cw_json_str_add(j, uid);
        cw_json_str_add(j, "/");
        cw_json_str_end(j);
    } else
        cw_json_null(j);
    cw_json_obj_end(j);
}

typedef struct {
    store_txn *t;
    const char *address; /* canonical text */
    cw_json *j;
    cw_code rc; /* the first error reading an entity */
    cw_err *err;
} ident_ctx;

/* The address's own designations only (Chainalysis lists the address's
 * identifications; key-linked forms are POST /v1/screen's hold). */
static void ident_of_ref(void *ctx, const wl_ref *r)
{
    ident_ctx *c = ctx;
    if (c->rc || (r->flags & WL_REF_LINKED))
        return;
    entity_fields tmp;
    const entity_fields *f;
    c->rc = entity_read(c->t, r->source, r->uid, &tmp, &f, c->err);
    if (c->rc == CW_OK)
        write_identification(c->j, f, r->source, r->uid, c->address);
    json_decref(tmp.stored);
}

static void get_address(const api_request *req, api_reply *rep, void *ctx)
{
    (void)ctx;
    const char *text = api_param(req, "address");
    cw_addr a;
    cw_err err = {0};
    char canon[CW_ADDR_TEXT_MAX]; /* from the parse: no second encoding (EIP-55's Keccak, base58's hashes) */
    if (cw_addr_parse_canon(text, CW_NET_ANY, &a, canon, &err)) {
        /* fail closed: a typo is never "no identifications" */
        api_reply_error(rep, 400, "bad_address", "'%.120s' is not a Bitcoin, EVM or Tron address chainwatch can check: %s",
                        text, err.msg);
        return;
    }
    uint8_t key[WL_KEY_MAX];
    size_t kn = wl_key_from_addr(&a, key);
    store_txn *t;
    if (api_read(req, &t, &err)) {
        api_reply_store_error(rep, &err);
        return;
    }
    cw_json j;
    cw_json_init(&j, api_reply_buf(rep, 200, "application/json"));
    cw_json_obj_begin(&j);
    cw_json_key(&j, "identifications");
    cw_json_arr_begin(&j);
    ident_ctx ic = {t, canon, &j, CW_OK, &err};
    size_t count = 0;
    cw_code rc = wl_lookup(t, key, kn, ident_of_ref, &ic, &count, &err);
    if (rc == CW_OK)
        rc = ic.rc;
    if (rc == CW_OK && count == 0) /* no identifications: only from a store a list was imported into */
        rc = wl_require_imported(t, &err);
    cw_json_arr_end(&j);
    cw_json_obj_end(&j);
    cw_json_newline(&j);
    if (rc)
        api_reply_store_error(rep, &err);
    else if (!cw_json_ok(&j))
        api_reply_error(rep, 500, "out_of_memory", "out of memory building the reply");
}

/* ---- POST /v1/screen ---- */

static const char *risk_of(screen_decision d)
{
    static const char *const r[] = {"low", "medium", "high", "severe"};
    return r[d];
}

/* The ids of the records the monitor writes for this tx when it sees it
 * (records.c): designated_address for each designated or key-linked
 * address, cluster_hit and indirect_exposure for the tx's findings. */
static json_t *tx_alert_ids(const json_t *answer, const char *net)
{
    json_t *ids = json_array();
    const char *txid = json_string_value(json_object_get(answer, "subject"));
    bool ok = ids != NULL && txid != NULL;
    size_t i, j;
    json_t *a, *r;
    json_array_foreach(json_object_get(answer, "addresses"), i, a)
    {
        const char *addr = json_string_value(json_object_get(a, "address"));
        json_array_foreach(json_object_get(a, "reasons"), j, r)
        {
            const char *kind = json_string_value(json_object_get(r, "kind"));
            if (ok && addr && kind && (strcmp(kind, "designated") == 0 || strcmp(kind, "key_linked") == 0)) {
                char id[33];
                alert_id("bitcoin", net, txid, "designated_address", addr, id);
                alert_push(ids, json_string(id), &ok);
                break;
            }
        }
    }
    json_array_foreach(json_object_get(answer, "reasons"), i, r)
    {
        const char *kind = json_string_value(json_object_get(r, "kind"));
        const char *addr = json_string_value(json_object_get(r, "address"));
        if (ok && kind && addr && (strcmp(kind, "cluster") == 0 || strcmp(kind, "exposure") == 0)) {
            char id[33];
            alert_id("bitcoin", net, txid, strcmp(kind, "cluster") == 0 ? "cluster_hit" : "indirect_exposure", addr,
                     id);
            alert_push(ids, json_string(id), &ok);
        }
    }
    if (!ok) {
        json_decref(ids);
        return NULL;
    }
    return ids;
}

typedef struct {
    const char *direction;
    int64_t amount; /* -1: none */
    bool net_given;
    cw_net net;
} screen_params;

/* Reads direction, amount/amount_sats and network from the body. False
 * after a 400 reply. */
static bool read_params(const json_t *body, screen_params *p, api_reply *rep)
{
    p->direction = NULL;
    p->amount = -1;
    p->net_given = false;
    p->net = CW_NET_MAIN;
    const json_t *dir = json_object_get(body, "direction"), *amount = json_object_get(body, "amount"),
                 *sats = json_object_get(body, "amount_sats"), *net = json_object_get(body, "network");
    if (dir && !json_is_null(dir)) {
        const char *d = json_string_value(dir);
        if (!d || (strcmp(d, "deposit") != 0 && strcmp(d, "withdrawal") != 0)) {
            api_reply_error(rep, 400, "bad_request", "direction: \"deposit\" or \"withdrawal\"");
            return false;
        }
        p->direction = strcmp(d, "deposit") == 0 ? "deposit" : "withdrawal";
    }
    if (amount && sats) {
        api_reply_error(rep, 400, "bad_request", "give amount (BTC, as a string) or amount_sats, not both");
        return false;
    }
    if (amount && !json_is_null(amount)) {
        uint64_t v;
        cw_err err = {0};
        if (!json_is_string(amount) || cli_parse_btc(json_string_value(amount), &v, &err) || v == 0) {
            api_reply_error(rep, 400, "bad_request", "amount: a positive amount in BTC as a string (\"0.5\")%s%s",
                            err.msg[0] ? ": " : "", err.msg);
            return false;
        }
        p->amount = (int64_t)v;
    }
    if (sats && !json_is_null(sats)) {
        if (!json_is_integer(sats) || json_integer_value(sats) <= 0 ||
            json_integer_value(sats) > (json_int_t)2100000000000000LL) {
            api_reply_error(rep, 400, "bad_request", "amount_sats: a whole number of satoshis, 1 to 21M BTC");
            return false;
        }
        p->amount = (int64_t)json_integer_value(sats);
    }
    if (net && !json_is_null(net)) {
        if (!json_is_string(net) || !cw_net_from_name(json_string_value(net), &p->net)) {
            api_reply_error(rep, 400, "bad_request", "network: main, test, testnet4, signet or regtest");
            return false;
        }
        p->net_given = true;
    }
    return true;
}

/* The body's JSON object, or NULL after a 4xx reply. */
static json_t *read_body(const api_request *req, api_reply *rep)
{
    if (req->body_len == 0) {
        api_reply_error(rep, 400, "bad_request", "expected a JSON object body (see the README's API section)");
        return NULL;
    }
    json_error_t je;
    json_t *body = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES | JSON_DISABLE_EOF_CHECK * 0, &je);
    if (body == NULL) {
        api_reply_error(rep, 400, "bad_json", "the body is not JSON: %s at line %d column %d", je.text, je.line,
                        je.column);
        return NULL;
    }
    if (!json_is_object(body)) {
        json_decref(body);
        api_reply_error(rep, 400, "bad_request", "the body must be a JSON object");
        return NULL;
    }
    return body;
}

/* Adds risk and alert ids to an answer. */
static bool finish_answer(json_t *ans, screen_decision d, const char *net, bool tx)
{
    bool ok = true;
    alert_put(ans, "risk", json_string(risk_of(d)), &ok);
    if (tx) {
        json_t *ids = tx_alert_ids(ans, net);
        json_t *first = ids && json_array_size(ids) ? json_incref(json_array_get(ids, 0)) : json_null();
        alert_put(ans, "alert_ids", ids, &ok);
        alert_put(ans, "alert_id", first, &ok);
    } else {
        alert_put(ans, "alert_id", json_null(), &ok);
    }
    return ok;
}

/* One address: the answer, or NULL after a reply (400 or store). */
static json_t *screen_one_address(const api_request *req, store_txn *t, const char *text, const screen_params *p,
                                  screen_decision *d, api_reply *rep, const char *where)
{
    cw_addr a;
    cw_err err = {0};
    if (cw_addr_parse(text, p->net_given ? (int)p->net : CW_NET_ANY, &a, &err)) {
        api_reply_error(rep, 400, "bad_address", "%s'%.120s' is not a Bitcoin, EVM or Tron address: %s", where, text,
                        err.msg);
        return NULL;
    }
    cw_net net = a.chain == CW_CHAIN_BITCOIN && !p->net_given ? (cw_net)a.net : p->net;
    screen_subject s = {.addr = &a, .net = net, .amount = p->amount, .direction = p->direction};
    json_t *ans;
    if (screen_answer(api_core_flows(req, net), t, &s, &ans, d, &err)) {
        api_reply_store_error(rep, &err);
        return NULL;
    }
    if (!finish_answer(ans, *d, cw_net_name(net), false)) {
        json_decref(ans);
        api_reply_error(rep, 500, "out_of_memory", "out of memory building the reply");
        return NULL;
    }
    return ans;
}

/* A tx's bytes from hex text into raw; false after a 400. */
static bool tx_bytes(const char *field, const char *text, cw_buf *raw, api_reply *rep)
{
    size_t n = strlen(text);
    if (n == 0 || n % 2 || !cw_looks_like_hex((const uint8_t *)text, n)) {
        api_reply_error(rep, 400, "bad_request", "%s: expected the raw transaction as hex", field);
        return false;
    }
    cw_err err = {0};
    size_t got = 0;
    if (cw_buf_reserve(raw, n / 2, &err) || cw_hex_decode(text, n, raw->p, n / 2, &got, &err)) {
        api_reply_error(rep, err.code == CW_ENOMEM ? 500 : 400, "bad_request", "%s: %s", field, err.msg);
        return false;
    }
    raw->n = got;
    return true;
}

/* What the PSBT said beside its tx. */
static json_t *psbt_summary(const btc_psbt *ps)
{
    json_t *o = json_object();
    bool ok = true;
    alert_put(o, "version", json_integer(ps->version), &ok);
    alert_put(o, "inputs_with_utxo", json_integer((json_int_t)ps->n_utxo), &ok);
    alert_put(o, "partial_signatures", json_integer((json_int_t)ps->n_partial_sigs), &ok);
    alert_put(o, "inputs_final", json_integer((json_int_t)ps->n_final), &ok);
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static void screen_tx_reply(const api_request *req, store_txn *t, cw_tx *tx, const screen_params *p, json_t *extra,
                            api_reply *rep)
{
    cw_err err = {0};
    screen_subject s = {.tx = tx, .net = p->net, .amount = p->amount, .direction = p->direction};
    json_t *ans;
    screen_decision d;
    if (screen_answer(api_core_flows(req, p->net), t, &s, &ans, &d, &err)) {
        api_reply_store_error(rep, &err);
        return;
    }
    bool ok = finish_answer(ans, d, cw_net_name(p->net), true);
    if (extra)
        alert_put(ans, "psbt", json_incref(extra), &ok);
    if (ok)
        api_reply_json(rep, 200, ans);
    else
        api_reply_error(rep, 500, "out_of_memory", "out of memory building the reply");
    json_decref(ans);
}

enum { TX_BITCOIN, TX_ETHEREUM, TX_TRON, TX_REFUSED };

/* The body's tx's chain: "chain" when given; else told by its form, as
 * `chainwatch screen` tells them: a JSON object (java-tron's signed tx)
 * is Tron's, 0x-prefixed hex or RLP (a list byte, or a type 1-4 byte and a
 * list) Ethereum's, other hex Bitcoin's. TX_REFUSED after a 400 for a bad
 * chain. */
static int tx_chain(const json_t *body, const json_t *txv, api_reply *rep)
{
    const json_t *ch = json_object_get(body, "chain");
    const char *c = json_string_value(ch);
    if (ch && (!c || (strcmp(c, "bitcoin") != 0 && strcmp(c, "ethereum") != 0 && strcmp(c, "tron") != 0))) {
        api_reply_error(rep, 400, "bad_request", "chain: \"bitcoin\", \"ethereum\" or \"tron\"");
        return TX_REFUSED;
    }
    if (c)
        return strcmp(c, "ethereum") == 0 ? TX_ETHEREUM : strcmp(c, "tron") == 0 ? TX_TRON : TX_BITCOIN;
    if (json_is_object(txv))
        return TX_TRON;
    const char *t = json_string_value(txv);
    if (t == NULL)
        return TX_BITCOIN;
    if (t[0] == '0' && (t[1] == 'x' || t[1] == 'X'))
        return TX_ETHEREUM;
    uint8_t b[2];
    size_t got;
    if (strlen(t) < 4 || cw_hex_decode(t, 4, b, 2, &got, NULL) != CW_OK)
        return TX_BITCOIN;
    return b[0] >= 0xc0 || (b[0] >= 1 && b[0] <= 4 && b[1] >= 0xc0) ? TX_ETHEREUM : TX_BITCOIN;
}

/* Adds risk and the (empty) alert ids of an account-chain answer. */
static void reply_account(api_reply *rep, json_t *ans, screen_decision d)
{
    bool ok = true;
    alert_put(ans, "risk", json_string(risk_of(d)), &ok);
    alert_put(ans, "alert_id", json_null(), &ok); /* records of account chains are the watch's, not named here */
    alert_put(ans, "alert_ids", json_array(), &ok);
    if (ok)
        api_reply_json(rep, 200, ans);
    else
        api_reply_error(rep, 500, "out_of_memory", "out of memory building the reply");
}

/* A signed Tron tx, as java-tron's HTTP API returns it (an object, or
 * that JSON as a string): decoded from its signed bytes, txID checked,
 * signer recovered and checked, screened as `chainwatch screen --chain
 * tron` does (screen_answer). */
static void screen_tron_reply(const api_request *req, store_txn *t, const json_t *txv, const screen_params *p,
                              const json_t *body, api_reply *rep)
{
    if (p->amount >= 0 || json_object_get(body, "network")) {
        api_reply_error(rep, 400, "bad_request", "network and amount (BTC) are for Bitcoin, not a Tron tx");
        return;
    }
    char *text = NULL;
    const char *json = NULL;
    if (json_is_object(txv))
        json = text = json_dumps(txv, JSON_COMPACT);
    else if (json_is_string(txv))
        json = json_string_value(txv);
    if (json == NULL) {
        api_reply_error(rep, json_is_object(txv) ? 500 : 400, json_is_object(txv) ? "out_of_memory" : "bad_request",
                        json_is_object(txv) ? "out of memory" : "tx: a signed Tron tx as java-tron's HTTP API returns it "
                                                                "(an object with txID, raw_data_hex, signature)");
        return;
    }
    tron_signed tron;
    cw_err err = {0};
    if (tron_signed_parse(json, strlen(json), &tron, &err)) {
        api_reply_error(rep, err.code == CW_ENOMEM ? 500 : 400, err.code == CW_ENOMEM ? "out_of_memory" : "bad_tx",
                        "tx: %s", err.msg);
        free(text);
        return;
    }
    free(text);
    cw_addr signer;
    tron_addr(&signer, tron.signer);
    screen_subject s = {.acct = &tron.tx, .acct_signer = &signer, .net = CW_NET_MAIN, .amount = -1,
                        .direction = p->direction, .tokens = api_core_tokens(req)};
    json_t *ans;
    screen_decision d;
    if (screen_answer(api_core_flows(req, CW_NET_MAIN), t, &s, &ans, &d, &err)) {
        api_reply_store_error(rep, &err);
    } else {
        reply_account(rep, ans, d);
        json_decref(ans);
    }
    tron_signed_free(&tron);
}

/* An Ethereum tx: decoded (sender recovered, token call read), screened
 * as `chainwatch screen 0x...` does. */
static void screen_eth_reply(const api_request *req, store_txn *t, const char *text, const screen_params *p,
                             const json_t *body, api_reply *rep)
{
    if (p->amount >= 0 || json_object_get(body, "network")) {
        api_reply_error(rep, 400, "bad_request", "network and amount (BTC) are for Bitcoin, not an Ethereum tx");
        return;
    }
    if (text[0] == '0' && (text[1] == 'x' || text[1] == 'X'))
        text += 2;
    cw_buf raw = CW_BUF_INIT;
    if (!tx_bytes("tx", text, &raw, rep))
        return;
    eth_view ev;
    cw_err err = {0};
    if (decode_eth_view(raw.p, raw.n, api_core_tokens(req), &ev, &err)) {
        api_reply_error(rep, 400, "bad_tx", "tx: %s", err.msg);
        cw_buf_free(&raw);
        return;
    }
    screen_subject s = {.eth = &ev, .net = CW_NET_MAIN, .amount = -1, .direction = p->direction,
                        .tokens = api_core_tokens(req)};
    json_t *ans;
    screen_decision d;
    if (screen_answer(api_core_flows(req, CW_NET_MAIN), t, &s, &ans, &d, &err)) {
        api_reply_store_error(rep, &err);
    } else {
        bool ok = true;
        alert_put(ans, "risk", json_string(risk_of(d)), &ok);
        alert_put(ans, "alert_id", json_null(), &ok); /* the monitor records no Ethereum txs yet */
        alert_put(ans, "alert_ids", json_array(), &ok);
        if (ok)
            api_reply_json(rep, 200, ans);
        else
            api_reply_error(rep, 500, "out_of_memory", "out of memory building the reply");
        json_decref(ans);
    }
    cw_buf_free(&raw);
}

static void post_screen(const api_request *req, api_reply *rep, void *ctx)
{
    (void)ctx;
    json_t *body = read_body(req, rep);
    if (body == NULL)
        return;
    static const char *const known[] = {"address", "addresses", "tx", "psbt", "direction", "amount", "amount_sats",
                                        "network", "chain", NULL};
    const char *key;
    json_t *v;
    json_object_foreach(body, key, v)
    {
        bool found = false;
        for (int i = 0; known[i]; i++)
            found |= strcmp(key, known[i]) == 0;
        if (!found) {
            api_reply_error(rep, 400, "bad_request", "unknown field '%.64s' (address, addresses, tx, psbt, direction, "
                                                     "amount, amount_sats, network, chain)", key);
            json_decref(body);
            return;
        }
    }
    const json_t *addr = json_object_get(body, "address"), *addrs = json_object_get(body, "addresses"),
                 *txv = json_object_get(body, "tx"), *psbtv = json_object_get(body, "psbt");
    int given = !!addr + !!addrs + !!txv + !!psbtv, chain = TX_BITCOIN;
    screen_params p;
    if (given != 1) {
        api_reply_error(rep, 400, "bad_request", "give exactly one of address, addresses, tx or psbt");
    } else if (read_params(body, &p, rep)) {
        store_txn *t;
        cw_err err = {0};
        if (api_read(req, &t, &err)) {
            api_reply_store_error(rep, &err);
        } else if (addr) {
            screen_decision d;
            json_t *ans = json_is_string(addr) ? screen_one_address(req, t, json_string_value(addr), &p, &d, rep, "address: ")
                                               : NULL;
            if (!json_is_string(addr))
                api_reply_error(rep, 400, "bad_request", "address: a string");
            if (ans)
                api_reply_json(rep, 200, ans);
            json_decref(ans);
        } else if (addrs) {
            size_t n = json_array_size(addrs);
            if (!json_is_array(addrs) || n == 0) {
                api_reply_error(rep, 400, "bad_request", "addresses: an array of 1 to %d address strings",
                                SCREEN_BATCH_MAX);
            } else if (n > SCREEN_BATCH_MAX) {
                api_reply_error(rep, 413, "too_many_addresses",
                                "addresses: %zu given, at most %d per request: split the batch", n, SCREEN_BATCH_MAX);
            } else {
                json_t *results = json_array(), *out = json_object();
                screen_decision worst = SCREEN_ALLOW;
                bool ok = results && out, failed = false;
                for (size_t i = 0; i < n && ok && !failed; i++) {
                    const char *text = json_string_value(json_array_get(addrs, i));
                    char where[48];
                    snprintf(where, sizeof where, "addresses[%zu]: ", i);
                    screen_decision d;
                    json_t *ans = text ? screen_one_address(req, t, text, &p, &d, rep, where) : NULL;
                    if (!text)
                        api_reply_error(rep, 400, "bad_request", "addresses[%zu]: a string", i);
                    if (ans == NULL) {
                        failed = true; /* the whole batch fails: never a partial answer */
                        break;
                    }
                    worst = d > worst ? d : worst;
                    alert_push(results, ans, &ok);
                }
                if (!failed) {
                    alert_put(out, "results", results, &ok);
                    results = NULL;
                    alert_put(out, "count", json_integer((json_int_t)n), &ok);
                    alert_put(out, "decision", json_string(screen_decision_name(worst)), &ok);
                    alert_put(out, "risk", json_string(risk_of(worst)), &ok);
                    if (ok)
                        api_reply_json(rep, 200, out);
                    else
                        api_reply_error(rep, 500, "out_of_memory", "out of memory building the reply");
                }
                json_decref(results);
                json_decref(out);
            }
        } else if (txv && (chain = tx_chain(body, txv, rep)) == TX_TRON) {
            screen_tron_reply(req, t, txv, &p, body, rep);
        } else if (txv && chain == TX_ETHEREUM) {
            if (json_is_string(txv))
                screen_eth_reply(req, t, json_string_value(txv), &p, body, rep);
            else
                api_reply_error(rep, 400, "bad_request", "tx: the signed Ethereum tx as hex (0x02f8...)");
        } else if (rep->status == 0) {
            cw_buf raw = CW_BUF_INIT;
            const char *text = json_string_value(txv ? txv : psbtv);
            void *mem = NULL;
            json_t *extra = NULL;
            if (text == NULL) {
                api_reply_error(rep, 400, "bad_request", "%s: a string", txv ? "tx" : "psbt");
            } else if (txv ? tx_bytes("tx", text, &raw, rep) : btc_psbt_text(text, strlen(text), &raw, &err) == CW_OK) {
                size_t cap = btc_arena_bound(raw.n) + (psbtv ? btc_psbt_arena_bound(raw.n) : 0);
                cw_arena arena;
                cw_tx tx;
                btc_psbt psbt;
                if ((mem = malloc(cap)) == NULL) {
                    api_reply_error(rep, 500, "out_of_memory", "out of memory");
                } else {
                    cw_arena_init(&arena, mem, cap);
                    cw_code rc = txv ? btc_tx_parse(raw.p, raw.n, NULL, p.net, &arena, &tx, &err)
                                     : btc_psbt_parse(raw.p, raw.n, p.net, &arena, &psbt, &err);
                    if (rc) {
                        api_reply_error(rep, 400, txv ? "bad_tx" : "bad_psbt", "%s: %s", txv ? "tx" : "psbt", err.msg);
                    } else {
                        if (psbtv) {
                            tx = psbt.tx; /* inputs resolved from the PSBT's UTXO fields */
                            extra = psbt_summary(&psbt);
                        }
                        if (psbtv && extra == NULL)
                            api_reply_error(rep, 500, "out_of_memory", "out of memory");
                        else
                            screen_tx_reply(req, t, &tx, &p, extra, rep);
                    }
                }
            } else if (psbtv) {
                api_reply_error(rep, 400, "bad_psbt", "psbt: %s", err.msg);
            }
            json_decref(extra);
            free(mem);
            cw_buf_free(&raw);
        }
    }
    json_decref(body);
}

cw_code api_routes_screen(api_server *srv, cw_err *err)
{
    cw_code rc = api_route(srv, "GET", "/api/v1/address/{address}", API_ROLE_SCREEN, get_address, NULL, err);
    if (rc == CW_OK)
        rc = api_route(srv, "POST", "/v1/screen", API_ROLE_SCREEN, post_screen, NULL, err);
    return rc;
}
