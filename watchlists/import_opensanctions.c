/*
 * import_opensanctions.c: OpenSanctions FollowTheMoney JSON lines, one
 * entity per line. Addresses come from CryptoWallet entities (publicKey x
 * currency); the party they designate is the wallet's holder, given by id
 * or nested as an object, whose name, aliases, type, programs and datasets
 * describe the entity. A wallet without a holder is its own entity.
 *
 * Design note. Holders may come before or after their wallets, and an
 * OpenSanctions export holds far more people and companies than wallets,
 * so keeping every holder would make memory grow with the file. Instead
 * the first pass keeps the wallets, the ids of the holders they name, and
 * the holders read after a wallet named them. Only if a named holder was
 * missed (it came before its wallet) does a second pass pick it up; that
 * pass hashes the file again and refuses it if it changed in between.
 * Memory is the wallets and their holders: flat in the file size.
 *
 * Programs come from the holder's "program"/"programId"; when it has none,
 * its datasets (else the wallet's) stand in, so every entity says where it
 * was listed. The list is the first dataset.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chains/hashtab.h"
#include "htab_secret.h"
#include "import.h"
#include "import_file.h"

typedef struct {
    char **v;
    size_t n;
} str_list;

/* A holder a wallet names; `known` once its own line (or nesting) was read. */
typedef struct {
    char *id, *name, *type;
    str_list aliases, programs, datasets;
    bool known;
} holder_rec;

typedef struct {
    char *id, *caption;
    str_list keys, currencies, holders, datasets;
} wallet_rec;

typedef struct {
    import_file in;
    const char *path;
    wl_import *imp;
    bool oom;

    wallet_rec *wallets;
    size_t n_wallets, cap_wallets;
    holder_rec *holders;
    size_t n_holders, cap_holders;
    cw_htab index; /* holder id (by reference: holders[i].id) -> i + 1 */
    bool skipped_holder_lines; /* a holder-schema line was read before any wallet named it */
} os_state;

/* ---------- small containers ---------- */

static char *dup_str(os_state *s, const char *text)
{
    char *d = strdup(text ? text : "");
    if (d == NULL)
        s->oom = true;
    return d;
}

static void list_push(os_state *s, str_list *l, const char *text)
{
    char **v = realloc(l->v, (l->n + 1) * sizeof *v);
    if (v == NULL) {
        s->oom = true;
        return;
    }
    l->v = v;
    if ((v[l->n] = dup_str(s, text)) != NULL)
        l->n++;
}

static void list_free(str_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

/* Every string of a property (FtM values are arrays of strings). */
static void push_strings(os_state *s, str_list *l, json_t *values)
{
    size_t i;
    json_t *v;
    json_array_foreach(values, i, v) {
        const char *t = json_string_value(v);
        if (t && t[0])
            list_push(s, l, t);
    }
}

static json_t *prop(json_t *entity, const char *name)
{
    return json_object_get(json_object_get(entity, "properties"), name);
}

static const char *first_string(json_t *values)
{
    return json_string_value(json_is_array(values) ? json_array_get(values, 0) : values);
}

static holder_rec *holder_find(const os_state *s, const char *id)
{
    size_t *at = cw_htab_get(&s->index, id, strlen(id));
    return at ? &s->holders[*at - 1] : NULL;
}

/* The record of holder `id`, created unknown on first mention; NULL on OOM. */
static holder_rec *holder_named(os_state *s, const char *id)
{
    holder_rec *h = holder_find(s, id);
    if (h)
        return h;
    if (s->index.cap == 0 && htab_secret_init(&s->index, 0, sizeof(size_t), 0, 64, NULL)) {
        s->oom = true; /* a list file must not be able to pick ids that collide: a secret seed or nothing */
        return NULL;
    }
    if (s->n_holders == s->cap_holders) {
        size_t cap = s->cap_holders ? s->cap_holders * 2 : 32;
        holder_rec *v = realloc(s->holders, cap * sizeof *v);
        if (v == NULL) {
            s->oom = true;
            return NULL;
        }
        s->holders = v;
        s->cap_holders = cap;
    }
    h = &s->holders[s->n_holders];
    memset(h, 0, sizeof *h);
    if ((h->id = dup_str(s, id)) == NULL)
        return NULL;
    void *v = NULL;
    if (cw_htab_put(&s->index, h->id, strlen(h->id), &v, NULL, NULL)) {
        free(h->id);
        h->id = NULL;
        s->oom = true;
        return NULL;
    }
    s->n_holders++;
    *(size_t *)v = s->n_holders;
    return h;
}

/* ---------- entities ---------- */

/* FtM schemata that designate a party, and chainwatch's type for them. */
static const char *holder_type(const char *schema)
{
    static const char *const kinds[][2] = {
        {"Person", "individual"}, {"Organization", "entity"}, {"Company", "entity"},
        {"LegalEntity", "entity"}, {"PublicBody", "entity"},
    };
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
        if (strcmp(schema, kinds[i][0]) == 0)
            return kinds[i][1];
    return NULL;
}

/* Fills a named holder from its entity, once. */
static void holder_fill(os_state *s, holder_rec *h, json_t *entity, const char *type)
{
    if (h->known)
        return;
    h->known = true;
    json_t *names = prop(entity, "name");
    const char *caption = json_string_value(json_object_get(entity, "caption"));
    h->name = dup_str(s, caption && caption[0] ? caption : first_string(names));
    h->type = dup_str(s, type);
    push_strings(s, &h->aliases, names); /* other spellings of the name; the primary one is skipped later */
    push_strings(s, &h->aliases, prop(entity, "alias"));
    push_strings(s, &h->programs, prop(entity, "program"));
    push_strings(s, &h->programs, prop(entity, "programId"));
    push_strings(s, &h->datasets, json_object_get(entity, "datasets"));
}

/* On failure s->oom is set; the import reports it once the file is read. */
static void add_wallet(os_state *s, json_t *entity, const char *id)
{
    if (s->n_wallets == s->cap_wallets) {
        size_t cap = s->cap_wallets ? s->cap_wallets * 2 : 64;
        wallet_rec *v = realloc(s->wallets, cap * sizeof *v);
        if (v == NULL) {
            s->oom = true;
            return;
        }
        s->wallets = v;
        s->cap_wallets = cap;
    }
    wallet_rec *w = &s->wallets[s->n_wallets++];
    memset(w, 0, sizeof *w);
    w->id = dup_str(s, id);
    w->caption = dup_str(s, json_string_value(json_object_get(entity, "caption")));
    push_strings(s, &w->keys, prop(entity, "publicKey"));
    push_strings(s, &w->currencies, prop(entity, "currency"));
    push_strings(s, &w->datasets, json_object_get(entity, "datasets"));
    size_t i;
    json_t *v;
    json_array_foreach(prop(entity, "holder"), i, v) {
        const char *hid = json_is_object(v) ? json_string_value(json_object_get(v, "id")) : json_string_value(v);
        if (hid == NULL || hid[0] == '\0')
            continue;
        holder_rec *h = holder_named(s, hid);
        if (h == NULL)
            continue;
        list_push(s, &w->holders, hid);
        const char *schema = json_string_value(json_object_get(v, "schema"));
        const char *type = schema ? holder_type(schema) : NULL;
        if (json_is_object(v))
            holder_fill(s, h, v, type ? type : "unknown");
    }
}

/* One line: a wallet, a holder, or something else (ignored). `second_pass`
 * only fills holders that the first pass missed. */
static cw_code read_line(os_state *s, const char *line, size_t len, size_t lineno, bool second_pass, cw_err *err)
{
    json_error_t jerr;
    json_t *entity = json_loadb(line, len, 0, &jerr);
    if (entity == NULL && second_pass)
        return cw_err_set(err, CW_EIO, CW_NO_OFFSET,
                          "%s: line %zu: the file changed while it was being read: import it again once it is complete",
                          s->path, lineno);
    if (entity == NULL)
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s: line %zu: %s (column %d)", s->path, lineno, jerr.text,
                          jerr.column);
    const char *schema = json_string_value(json_object_get(entity, "schema"));
    if (!json_is_object(entity) || schema == NULL) {
        json_decref(entity);
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET,
                          "%s: line %zu: not a FollowTheMoney entity (a JSON object with a \"schema\"): is this an "
                          "OpenSanctions entities export?",
                          s->path, lineno);
    }
    const char *id = json_string_value(json_object_get(entity, "id"));
    cw_code rc = CW_OK;
    const char *type = holder_type(schema);
    if (strcmp(schema, "CryptoWallet") == 0 && !second_pass) {
        if (id == NULL || id[0] == '\0')
            rc = cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s: line %zu: a CryptoWallet without an \"id\"", s->path,
                            lineno);
        else
            add_wallet(s, entity, id);
    } else if (type && id) {
        holder_rec *h = holder_find(s, id);
        if (h)
            holder_fill(s, h, entity, type);
        else
            s->skipped_holder_lines = true;
    }
    json_decref(entity);
    return rc;
}

static bool blank(const char *line, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
            return false;
    return true;
}

/* Reads the whole file once; sha receives its sha256. */
static cw_code read_pass(os_state *s, const import_progress *p, bool second_pass, char sha[65], cw_err *err)
{
    cw_code rc = import_file_open(&s->in, s->path, p, s->imp, err);
    if (rc)
        return rc;
    char *line = NULL;
    size_t cap = 0, len = 0, lineno = 0;
    while (rc == CW_OK) {
        import_line_status st = import_file_line(&s->in, &line, &cap, &len);
        if (st == IMPORT_LINE_EOF)
            break;
        lineno++;
        if (st != IMPORT_LINE_OK)
            rc = import_line_error(&s->in, st, lineno, err);
        else if (!blank(line, len))
            rc = read_line(s, line, len, lineno, second_pass, err);
    }
    if (rc == CW_OK && ferror(s->in.f))
        rc = cw_err_set(err, CW_EIO, CW_NO_OFFSET, "%s: read error after line %zu", s->path, lineno);
    free(line);
    import_file_close(&s->in, sha);
    return rc;
}

static bool holders_missing(const os_state *s)
{
    for (size_t i = 0; i < s->n_holders; i++)
        if (!s->holders[i].known)
            return true;
    return false;
}

/* ---------- the import ---------- */

static void add_programs(wl_entity *e, const str_list *programs, const str_list *fallback, const str_list *last)
{
    const str_list *use = programs->n ? programs : fallback->n ? fallback : last;
    for (size_t i = 0; i < use->n; i++)
        wl_entity_add_program(e, use->v[i]);
}

static void emit_addresses(os_state *s, const wallet_rec *w, const char *uid)
{
    for (size_t k = 0; k < w->keys.n; k++) {
        if (w->currencies.n == 0)
            wl_import_address(s->imp, uid, "UNKNOWN", w->keys.v[k]);
        for (size_t c = 0; c < w->currencies.n; c++)
            wl_import_address(s->imp, uid, w->currencies.v[c], w->keys.v[k]);
    }
}

static void emit_wallet(os_state *s, const wallet_rec *w)
{
    static const str_list none = {NULL, 0};
    if (w->holders.n == 0) {
        wl_entity *e = wl_import_entity(s->imp, w->id);
        if (e == NULL)
            return;
        wl_entity_set_name(e, w->caption[0] ? w->caption : w->keys.n ? w->keys.v[0] : w->id);
        wl_entity_set_type(e, "unknown");
        wl_entity_set_list(e, w->datasets.n ? w->datasets.v[0] : "");
        add_programs(e, &none, &w->datasets, &none);
        emit_addresses(s, w, w->id);
        return;
    }
    /* An address held jointly designates each holder. */
    for (size_t i = 0; i < w->holders.n; i++) {
        const holder_rec *h = holder_find(s, w->holders.v[i]);
        if (h == NULL)
            continue;
        bool fresh = !wl_import_has_entity(s->imp, h->id);
        wl_entity *e = wl_import_entity(s->imp, h->id);
        if (e == NULL)
            return;
        if (fresh) {
            bool named = h->known && h->name && h->name[0];
            wl_entity_set_name(e, named ? h->name : w->caption[0] ? w->caption : h->id);
            wl_entity_set_type(e, h->known ? h->type : "unknown");
            const str_list *datasets = h->known && h->datasets.n ? &h->datasets : &w->datasets;
            wl_entity_set_list(e, datasets->n ? datasets->v[0] : "");
        }
        if (h->known) {
            for (size_t a = 0; a < h->aliases.n; a++)
                wl_entity_add_alias(e, h->aliases.v[a]);
            add_programs(e, &h->programs, &h->datasets, &w->datasets);
        } else {
            add_programs(e, &none, &none, &w->datasets);
        }
        emit_addresses(s, w, h->id);
    }
}

static void state_free(os_state *s)
{
    for (size_t i = 0; i < s->n_wallets; i++) {
        wallet_rec *w = &s->wallets[i];
        free(w->id);
        free(w->caption);
        list_free(&w->keys);
        list_free(&w->currencies);
        list_free(&w->holders);
        list_free(&w->datasets);
    }
    free(s->wallets);
    for (size_t i = 0; i < s->n_holders; i++) {
        holder_rec *h = &s->holders[i];
        free(h->id);
        free(h->name);
        free(h->type);
        list_free(&h->aliases);
        list_free(&h->programs);
        list_free(&h->datasets);
    }
    free(s->holders);
    cw_htab_free(&s->index);
    free(s);
}

cw_code import_opensanctions(const char *path, wl_import *imp, const import_progress *p, cw_err *err)
{
    os_state *s = calloc(1, sizeof *s);
    if (s == NULL)
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "%s: out of memory", path);
    s->path = path;
    s->imp = imp;
    char sha[65], again[65];
    cw_code rc = read_pass(s, p, false, sha, err);
    if (rc == CW_OK && s->n_wallets == 0)
        rc = cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET,
                        "%s: no CryptoWallet entities: nothing to import (importing it would empty the list)", path);
    if (rc == CW_OK && !s->oom && s->skipped_holder_lines && holders_missing(s)) {
        rc = read_pass(s, p, true, again, err);
        if (rc == CW_OK && strcmp(sha, again) != 0)
            rc = cw_err_set(err, CW_EIO, CW_NO_OFFSET,
                            "%s: the file changed while it was being read (its sha256 differs between two passes): "
                            "import it again once it is complete",
                            path);
    }
    if (rc == CW_OK) {
        for (size_t i = 0; i < s->n_wallets; i++)
            emit_wallet(s, &s->wallets[i]);
        if (s->oom || !wl_import_ok(imp))
            rc = cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "%s: out of memory", path);
    }
    if (rc == CW_OK)
        wl_import_set_file(imp, path, sha);
    state_free(s);
    return rc;
}
