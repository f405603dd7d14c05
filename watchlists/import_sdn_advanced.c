/*
 * import_sdn_advanced.c: OFAC's SDN_ADVANCED.XML, streamed.
 *
 * Design note. The file is 121 MB, so it is read node by node
 * (xmlTextReader), never as a tree. What matters is spread over it:
 *   ReferenceValueSets  which FeatureType IDs are "Digital Currency Address -
 *                       TICKER", party sub-types, list names (at the top);
 *   DistinctParties     each party's names and features (the middle);
 *   SanctionsEntries    programs, list and designation date per profile (the end).
 * A party is kept only if it has an address; its sanctions entry, read
 * later, completes it. Memory is the reference tables plus the few hundred
 * parties with addresses: flat in the file size.
 *
 * Element values are joined from all their text pieces and trimmed
 * (xml_text): an indented, wrapped or commented file reads as the compact
 * one. The schema has no mixed content, so text beside a child element, a
 * party inside a party, or nesting deeper than MAX_DEPTH is refused rather
 * than half read; a value over XML_VALUE_MAX is refused, never cut.
 */
#include <libxml/xmlreader.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import.h"
#include "import_file.h"

#define MAX_DEPTH 64

/* Reference values (ID -> text), as many as the file has. */
typedef struct {
    int id, parent; /* parent: a PartySubType's PartyTypeID */
    char *text;
} ref_value;

typedef struct {
    ref_value *v;
    size_t n, cap;
} ref_table;

static const ref_value *ref_get(const ref_table *t, int id)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->v[i].id == id)
            return &t->v[i];
    return NULL;
}

static const char *ref_find(const ref_table *t, int id)
{
    const ref_value *v = ref_get(t, id);
    return v ? v->text : NULL;
}

/* False on out of memory. */
static bool ref_add(ref_table *t, int id, int parent, const char *text)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        ref_value *v = realloc(t->v, cap * sizeof *v);
        if (v == NULL)
            return false;
        t->v = v;
        t->cap = cap;
    }
    char *copy = strdup(text);
    if (copy == NULL)
        return false;
    t->v[t->n++] = (ref_value){id, parent, copy};
    return true;
}

static void ref_free(ref_table *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->v[i].text);
    free(t->v);
    memset(t, 0, sizeof *t);
}

typedef struct {
    char *ticker;
    char *text;
} party_addr;

typedef struct {
    import_file in;
    xml_prolog_guard prolog;
    xmlTextReaderPtr reader;
    wl_import *imp;
    const char *path;
    char xml_error[200];
    int xml_error_line;

    ref_table features;    /* FeatureType ID -> ticker (digital currency ones only) */
    ref_table subtypes;    /* PartySubType ID -> party type name, parent PartyTypeID */
    ref_table party_types; /* PartyType ID -> name */
    ref_table lists;       /* List ID -> name */

    char stack[MAX_DEPTH][32]; /* local names of open elements */
    bool has_child[MAX_DEPTH];
    int depth;
    xml_text text; /* the value of the innermost open element */

    /* the party being read */
    char *uid;
    char type[64];
    char *name;     /* primary name */
    char *docname;  /* DocumentedName being assembled */
    bool alias_primary, have_name;
    char **aliases;
    size_t n_aliases;
    party_addr *addrs;
    size_t n_addrs;
    char *feature_ticker; /* non-NULL inside a digital currency Feature */

    /* the sanctions entry being read */
    wl_entity *entry;
    int date[3]; /* Year, Month, Day of the EntryEvent */
    bool in_entry_event, have_date;
    int measure_type, parent_id; /* ID and PartyTypeID of the reference value being read */

    /* DateOfIssue */
    int issue[3];
    bool oom; /* an allocation failed: the import must not be committed */
} sdn_state;

/* Replaces *dst with a copy of src; sets oom on failure. */
static void set_dup(sdn_state *s, char **dst, const char *src)
{
    char *d = strdup(src);
    if (d == NULL) {
        s->oom = true;
        return;
    }
    free(*dst);
    *dst = d;
}

static void on_xml_error(void *arg, const char *msg, xmlParserSeverities severity, xmlTextReaderLocatorPtr loc)
{
    sdn_state *s = arg;
    if (severity != XML_PARSER_SEVERITY_ERROR && severity != XML_PARSER_SEVERITY_VALIDITY_ERROR)
        return;
    if (s->xml_error[0] == '\0') {
        snprintf(s->xml_error, sizeof s->xml_error, "%s", msg);
        size_t n = strlen(s->xml_error);
        while (n && (s->xml_error[n - 1] == '\n' || s->xml_error[n - 1] == ' '))
            s->xml_error[--n] = '\0';
        s->xml_error_line = xmlTextReaderLocatorLineNumber(loc);
    }
}

static int read_cb(void *ctx, char *buf, int len)
{
    sdn_state *s = ctx;
    long got = import_file_read(&s->in, buf, (size_t)len);
    if (got > 0 && xml_prolog_has_doctype(&s->prolog, buf, got))
        return -1; /* refused below, before the parser expands anything */
    return got < 0 ? -1 : (int)got;
}

static int attr_int(xmlTextReaderPtr r, const char *name)
{
    xmlChar *v = xmlTextReaderGetAttribute(r, (const xmlChar *)name);
    int n = v ? atoi((const char *)v) : -1;
    xmlFree(v);
    return n;
}

static bool attr_is(xmlTextReaderPtr r, const char *name, const char *want)
{
    xmlChar *v = xmlTextReaderGetAttribute(r, (const xmlChar *)name);
    bool eq = v && strcmp((const char *)v, want) == 0;
    xmlFree(v);
    return eq;
}

static bool in(const sdn_state *s, int up, const char *name)
{
    int i = s->depth - 1 - up;
    return i >= 0 && i < MAX_DEPTH && strcmp(s->stack[i], name) == 0;
}

/* Is an element of this name open above the innermost one? */
static bool inside(const sdn_state *s, const char *name)
{
    for (int i = 0; i < s->depth - 1 && i < MAX_DEPTH; i++)
        if (strcmp(s->stack[i], name) == 0)
            return true;
    return false;
}

static void party_reset(sdn_state *s)
{
    for (size_t i = 0; i < s->n_aliases; i++)
        free(s->aliases[i]);
    free(s->aliases);
    for (size_t i = 0; i < s->n_addrs; i++) {
        free(s->addrs[i].ticker);
        free(s->addrs[i].text);
    }
    free(s->addrs);
    s->aliases = NULL;
    s->addrs = NULL;
    s->n_aliases = s->n_addrs = 0;
    free(s->uid), free(s->name), free(s->docname), free(s->feature_ticker);
    s->uid = s->name = s->docname = s->feature_ticker = NULL;
    s->type[0] = '\0';
    s->have_name = false;
}

static void party_finish(sdn_state *s)
{
    if (s->n_addrs == 0)
        return;
    wl_entity *e = wl_import_entity(s->imp, s->uid);
    if (e == NULL)
        return;
    wl_entity_set_name(e, s->name ? s->name : "");
    wl_entity_set_type(e, s->type);
    for (size_t i = 0; i < s->n_aliases; i++)
        wl_entity_add_alias(e, s->aliases[i]);
    for (size_t i = 0; i < s->n_addrs; i++)
        wl_import_address(s->imp, s->uid, s->addrs[i].ticker, s->addrs[i].text);
}

static void lower_words(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src);
    for (char *p = dst; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p + 32);
}

/* The line of the node being read: the parser itself may have read ahead. */
static int line_now(const sdn_state *s)
{
    xmlNodePtr node = xmlTextReaderCurrentNode(s->reader);
    long line = node ? xmlGetLineNo(node) : -1;
    return line > 0 ? (int)line : xmlTextReaderGetParserLineNumber(s->reader);
}

static cw_code refuse(sdn_state *s, cw_err *err, const char *fmt, const char *a, const char *b)
{
    char what[200];
    snprintf(what, sizeof what, fmt, a, b);
    return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s: line %d: %s: not OFAC's schema, refused rather than half read",
                      s->path, line_now(s), what);
}

static cw_code on_start(sdn_state *s, const char *name, cw_err *err)
{
    xmlTextReaderPtr r = s->reader;
    /* A party or entry inside another would end the outer one early. */
    static const char *const flat[] = {"DistinctParty", "Feature", "DocumentedName", "SanctionsEntry", "EntryEvent"};
    for (size_t i = 0; i < sizeof flat / sizeof *flat; i++)
        if (strcmp(name, flat[i]) == 0 && inside(s, name))
            return refuse(s, err, "a <%s> inside another <%s>", name, name);
    if (strcmp(name, "DistinctParty") == 0) {
        party_reset(s);
        xmlChar *v = xmlTextReaderGetAttribute(r, (const xmlChar *)"FixedRef");
        set_dup(s, &s->uid, v ? (const char *)v : "");
        xmlFree(v);
    } else if (strcmp(name, "Profile") == 0 && in(s, 1, "DistinctParty")) {
        const ref_value *sub = ref_get(&s->subtypes, attr_int(r, "PartySubTypeID"));
        const char *pt = sub ? ref_find(&s->party_types, sub->parent) : NULL;
        /* Vessel/Aircraft sub-types say more than their party type (Transport). */
        if (sub && strcmp(sub->text, "Unknown") != 0)
            pt = sub->text;
        lower_words(s->type, sizeof s->type, pt ? pt : "unknown");
    } else if (strcmp(name, "Alias") == 0) {
        s->alias_primary = attr_is(r, "Primary", "true");
    } else if (strcmp(name, "DocumentedName") == 0) {
        set_dup(s, &s->docname, "");
    } else if (strcmp(name, "Feature") == 0 && s->uid) {
        const char *t = ref_find(&s->features, attr_int(r, "FeatureTypeID"));
        free(s->feature_ticker);
        s->feature_ticker = NULL;
        if (t)
            set_dup(s, &s->feature_ticker, t);
    } else if (strcmp(name, "FeatureType") == 0 || strcmp(name, "PartySubType") == 0 ||
               strcmp(name, "PartyType") == 0 || strcmp(name, "List") == 0) {
        s->measure_type = attr_int(r, "ID");
        s->parent_id = strcmp(name, "PartySubType") == 0 ? attr_int(r, "PartyTypeID") : 0;
    } else if (strcmp(name, "SanctionsEntry") == 0) {
        xmlChar *v = xmlTextReaderGetAttribute(r, (const xmlChar *)"ProfileID");
        s->entry = v && wl_import_has_entity(s->imp, (const char *)v) ? wl_import_entity(s->imp, (const char *)v)
                                                                      : NULL;
        xmlFree(v);
        s->have_date = false;
        if (s->entry) {
            const char *list = ref_find(&s->lists, attr_int(r, "ListID"));
            if (list && strcmp(list, "SDN List") == 0)
                list = "SDN";
            wl_entity_set_list(s->entry, list ? list : "");
        }
    } else if (strcmp(name, "EntryEvent") == 0) {
        s->in_entry_event = true;
        memset(s->date, 0, sizeof s->date);
    } else if (strcmp(name, "SanctionsMeasure") == 0) {
        s->measure_type = attr_int(r, "SanctionsTypeID");
    }
    return CW_OK;
}

static void on_end(sdn_state *s, const char *name)
{
    if (strcmp(name, "DocumentedName") == 0 && s->uid) {
        const char *doc = s->docname ? s->docname : "";
        if (s->alias_primary && !s->have_name) {
            set_dup(s, &s->name, doc);
            s->have_name = true;
        } else if (doc[0]) {
            char **v = realloc(s->aliases, (s->n_aliases + 1) * sizeof *v);
            char *copy = strdup(doc);
            if (v)
                s->aliases = v;
            if (v && copy)
                v[s->n_aliases++] = copy;
            else {
                free(copy);
                s->oom = true;
            }
        }
    } else if (strcmp(name, "Feature") == 0) {
        free(s->feature_ticker);
        s->feature_ticker = NULL;
    } else if (strcmp(name, "DistinctParty") == 0) {
        party_finish(s);
        party_reset(s);
    } else if (strcmp(name, "EntryEvent") == 0) {
        s->in_entry_event = false;
        if (s->entry && !s->have_date && s->date[0]) {
            char d[40];
            snprintf(d, sizeof d, "%04d-%02d-%02d", s->date[0], s->date[1], s->date[2]);
            wl_entity_set_designated(s->entry, d);
            s->have_date = true;
        }
    } else if (strcmp(name, "SanctionsEntry") == 0) {
        s->entry = NULL;
    }
}

/* Is the value of this element (the innermost open one) one the import uses? */
static bool used(const sdn_state *s, const char *el)
{
    return (strcmp(el, "NamePartValue") == 0 && s->uid) || (strcmp(el, "VersionDetail") == 0 && s->feature_ticker) ||
           strcmp(el, "FeatureType") == 0 || strcmp(el, "PartySubType") == 0 || strcmp(el, "PartyType") == 0 ||
           (strcmp(el, "List") == 0 && in(s, 1, "ListValues")) ||
           (strcmp(el, "Comment") == 0 && in(s, 1, "SanctionsMeasure") && s->entry) || strcmp(el, "Year") == 0 ||
           strcmp(el, "Month") == 0 || strcmp(el, "Day") == 0;
}

/* The whole value of the element about to close. */
static cw_code on_value(sdn_state *s, const char *el, cw_err *err)
{
    if (!used(s, el))
        return CW_OK;
    if (s->text.over)
        return cw_err_set(err, CW_ELIMIT, CW_NO_OFFSET,
                          "%s: line %d: the text of <%s> is over %d bytes, the most a name or address may have: "
                          "refused rather than cut",
                          s->path, line_now(s), el, XML_VALUE_MAX);
    if (strcmp(el, "VersionDetail") == 0)
        xml_text_strip_spaces(&s->text); /* an address has no whitespace: a line break in it is layout */
    const char *text = xml_text_value(&s->text);
    if (strcmp(el, "NamePartValue") == 0) {
        if (text[0] == '\0')
            return CW_OK;
        const char *old = s->docname ? s->docname : "";
        size_t n = strlen(old) + strlen(text) + 2;
        char *joined = malloc(n);
        if (joined == NULL) {
            s->oom = true;
            return CW_OK;
        }
        snprintf(joined, n, "%s%s%s", old, old[0] ? " " : "", text);
        free(s->docname);
        s->docname = joined;
    } else if (strcmp(el, "VersionDetail") == 0) {
        party_addr *v = realloc(s->addrs, (s->n_addrs + 1) * sizeof *v);
        if (v == NULL) {
            s->oom = true;
            return CW_OK;
        }
        s->addrs = v;
        v[s->n_addrs].ticker = strdup(s->feature_ticker);
        v[s->n_addrs].text = strdup(text);
        if (v[s->n_addrs].ticker && v[s->n_addrs].text)
            s->n_addrs++;
        else {
            free(v[s->n_addrs].ticker), free(v[s->n_addrs].text);
            s->oom = true;
        }
    } else if (strcmp(el, "FeatureType") == 0) {
        static const char prefix[] = "Digital Currency Address - ";
        if (strncmp(text, prefix, sizeof prefix - 1) == 0 && !ref_add(&s->features, s->measure_type, 0,
                                                                      text + sizeof prefix - 1))
            s->oom = true;
    } else if (strcmp(el, "PartySubType") == 0) {
        if (!ref_add(&s->subtypes, s->measure_type, s->parent_id, text))
            s->oom = true;
    } else if (strcmp(el, "PartyType") == 0) {
        if (!ref_add(&s->party_types, s->measure_type, 0, text))
            s->oom = true;
    } else if (strcmp(el, "List") == 0) {
        if (!ref_add(&s->lists, s->measure_type, 0, text))
            s->oom = true;
    } else if (strcmp(el, "Comment") == 0) {
        if (s->measure_type == 1)
            wl_entity_add_program(s->entry, text); /* SanctionsType 1: Program */
    } else if (s->depth >= 3) { /* Year, Month, Day */
        int k = el[0] == 'Y' ? 0 : el[0] == 'M' ? 1 : 2;
        if (in(s, 1, "Date") && in(s, 2, "EntryEvent") && s->in_entry_event)
            s->date[k] = atoi(text);
        else if (in(s, 1, "DateOfIssue"))
            s->issue[k] = atoi(text);
    }
    return CW_OK;
}

static cw_code read_nodes(sdn_state *s, bool *root_seen, int *ret, cw_err *err)
{
    cw_code rc;
    while ((*ret = xmlTextReaderRead(s->reader)) == 1) {
        int type = xmlTextReaderNodeType(s->reader);
        if (type == XML_READER_TYPE_DOCUMENT_TYPE)
            return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET,
                              "%s: line %d: the document has a DTD (DOCTYPE); official lists have none, and DTDs are "
                              "how entity-expansion and external-entity attacks work: refused",
                              s->path, xmlTextReaderGetParserLineNumber(s->reader));
        if (type == XML_READER_TYPE_ELEMENT) {
            const char *name = (const char *)xmlTextReaderConstLocalName(s->reader);
            if (!*root_seen) {
                *root_seen = true;
                if (strcmp(name, "Sanctions") != 0)
                    return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET,
                                      "%s: not an SDN_ADVANCED file: the root element is <%s>, not <Sanctions>",
                                      s->path, name);
            }
            if (s->depth >= MAX_DEPTH)
                return refuse(s, err, "elements nested over %s deep (<%s>)", "64", name);
            if (s->depth > 0) {
                if (s->text.n > 0)
                    return refuse(s, err, "<%s> holds both text and the element <%s>", s->stack[s->depth - 1], name);
                s->has_child[s->depth - 1] = true;
            }
            xml_text_clear(&s->text);
            bool empty = xmlTextReaderIsEmptyElement(s->reader);
            snprintf(s->stack[s->depth], sizeof s->stack[0], "%s", name);
            s->has_child[s->depth] = false;
            s->depth++;
            if ((rc = on_start(s, name, err)))
                return rc;
            if (empty) {
                if ((rc = on_value(s, name, err)))
                    return rc;
                on_end(s, name);
                s->depth--;
            }
        } else if (type == XML_READER_TYPE_END_ELEMENT) {
            const char *name = (const char *)xmlTextReaderConstLocalName(s->reader);
            if (s->depth > 0 && !s->has_child[s->depth - 1] && (rc = on_value(s, name, err)))
                return rc;
            on_end(s, name);
            xml_text_clear(&s->text);
            if (s->depth > 0)
                s->depth--;
        } else if (type == XML_READER_TYPE_TEXT || type == XML_READER_TYPE_CDATA ||
                   type == XML_READER_TYPE_WHITESPACE || type == XML_READER_TYPE_SIGNIFICANT_WHITESPACE) {
            const char *v = (const char *)xmlTextReaderConstValue(s->reader);
            if (v == NULL || s->depth == 0)
                continue;
            xml_text_add(&s->text, v);
            if (s->text.oom)
                s->oom = true;
            if (s->text.n > 0 && s->has_child[s->depth - 1])
                return refuse(s, err, "<%s> holds both elements and the text \"%.40s\"", s->stack[s->depth - 1],
                              xml_text_value(&s->text));
        }
    }
    return CW_OK;
}

cw_code import_sdn_advanced(const char *path, wl_import *imp, const import_progress *p, cw_err *err)
{
    sdn_state *s = calloc(1, sizeof *s);
    if (s == NULL)
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory");
    cw_code rc = import_file_open(&s->in, path, p, imp, err);
    if (rc) {
        free(s);
        return rc;
    }
    s->imp = imp;
    s->reader = xmlReaderForIO(read_cb, NULL, s, path, NULL, XML_PARSE_NONET | XML_PARSE_NOCDATA);
    if (s->reader == NULL) {
        char sha[65];
        import_file_close(&s->in, sha);
        free(s);
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "%s: cannot create an XML reader", path);
    }
    xmlTextReaderSetErrorHandler(s->reader, on_xml_error, s);
    s->path = path;
    bool root_seen = false;
    int ret = 0;
    rc = read_nodes(s, &root_seen, &ret, err);
    if (rc)
        ret = 0; /* already explained */
    if (rc == CW_OK && ret != 0 && s->prolog.doctype_line)
        rc = cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET,
                        "%s: line %d: the document has a DTD (DOCTYPE); official lists have none, and DTDs are "
                        "how entity-expansion and external-entity attacks work: refused",
                        path, s->prolog.doctype_line);
    if (rc == CW_OK && ret != 0 && root_seen && s->depth > 0 && s->in.done == s->in.size && s->depth <= MAX_DEPTH)
        rc = cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET,
                        "%s: line %d: the file ends inside <%s>: it is truncated (an interrupted download?)", path,
                        xmlTextReaderGetParserLineNumber(s->reader), s->stack[s->depth - 1]);
    if (rc == CW_OK && ret != 0)
        rc = cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s: line %d: %s", path,
                        s->xml_error_line ? s->xml_error_line : xmlTextReaderGetParserLineNumber(s->reader),
                        s->xml_error[0] ? s->xml_error : "malformed XML");
    if (rc == CW_OK && !root_seen)
        rc = cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s: empty document", path);
    if (rc == CW_OK && s->features.n == 0)
        rc = cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET,
                        "%s: no 'Digital Currency Address' feature types: not a complete SDN_ADVANCED file", path);
    if (rc == CW_OK && (s->oom || !wl_import_ok(imp)))
        rc = cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "%s: out of memory", path);
    xmlFreeTextReader(s->reader);
    char sha[65];
    import_file_close(&s->in, sha);
    if (rc == CW_OK) {
        wl_import_set_file(imp, path, sha);
        if (s->issue[0]) {
            char d[40];
            snprintf(d, sizeof d, "%04d-%02d-%02d", s->issue[0], s->issue[1], s->issue[2]);
            wl_import_set_published(imp, d);
        }
    }
    ref_free(&s->features);
    ref_free(&s->subtypes);
    ref_free(&s->party_types);
    ref_free(&s->lists);
    xml_text_free(&s->text);
    party_reset(s);
    free(s);
    return rc;
}
