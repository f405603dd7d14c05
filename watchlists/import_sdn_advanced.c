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
 */
#include <libxml/xmlreader.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import.h"
#include "import_file.h"

#define MAX_DEPTH 64
#define MAX_REFS 4096

typedef struct {
    int id;
    char text[96];
} ref_value;

typedef struct {
    ref_value v[MAX_REFS];
    size_t n;
} ref_table;

static const char *ref_find(const ref_table *t, int id)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->v[i].id == id)
            return t->v[i].text;
    return NULL;
}

static void ref_add(ref_table *t, int id, const char *text)
{
    if (t->n < MAX_REFS) {
        t->v[t->n].id = id;
        snprintf(t->v[t->n].text, sizeof t->v[t->n].text, "%s", text);
        t->n++;
    }
}

typedef struct {
    char ticker[16];
    char *text;
} party_addr;

typedef struct {
    import_file in;
    xml_prolog_guard prolog;
    xmlTextReaderPtr reader;
    wl_import *imp;
    cw_err *err;
    char xml_error[200];
    int xml_error_line;

    ref_table features;    /* FeatureType ID -> ticker (digital currency ones only) */
    ref_table subtypes;    /* PartySubType ID -> party type name */
    ref_table party_types; /* PartyType ID -> name */
    ref_table lists;       /* List ID -> name */
    int subtype_party_type[MAX_REFS];

    char stack[MAX_DEPTH][32]; /* local names of open elements */
    int depth;

    /* the party being read */
    char uid[32];
    char type[32];
    char name[512];     /* primary name */
    char docname[512];  /* DocumentedName being assembled */
    bool alias_primary, have_name;
    char **aliases;
    size_t n_aliases;
    party_addr *addrs;
    size_t n_addrs;
    char feature_ticker[16]; /* non-empty inside a digital currency Feature */

    /* the sanctions entry being read */
    wl_entity *entry;
    char date[3][8]; /* Year, Month, Day of the EntryEvent */
    bool in_entry_event, have_date;
    char measure_type[16];

    /* DateOfIssue */
    char issue[3][8];
    bool oom; /* an allocation failed: the import must not be committed */
} sdn_state;

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

static void party_reset(sdn_state *s)
{
    for (size_t i = 0; i < s->n_aliases; i++)
        free(s->aliases[i]);
    free(s->aliases);
    for (size_t i = 0; i < s->n_addrs; i++)
        free(s->addrs[i].text);
    free(s->addrs);
    s->aliases = NULL;
    s->addrs = NULL;
    s->n_aliases = s->n_addrs = 0;
    s->uid[0] = s->type[0] = s->name[0] = s->docname[0] = s->feature_ticker[0] = '\0';
    s->have_name = false;
}

static void party_finish(sdn_state *s)
{
    if (s->n_addrs == 0)
        return;
    wl_entity *e = wl_import_entity(s->imp, s->uid);
    if (e == NULL)
        return;
    wl_entity_set_name(e, s->name);
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

static void on_start(sdn_state *s, const char *name)
{
    xmlTextReaderPtr r = s->reader;
    if (strcmp(name, "DistinctParty") == 0) {
        party_reset(s);
        xmlChar *v = xmlTextReaderGetAttribute(r, (const xmlChar *)"FixedRef");
        snprintf(s->uid, sizeof s->uid, "%s", v ? (const char *)v : "");
        xmlFree(v);
    } else if (strcmp(name, "Profile") == 0 && in(s, 1, "DistinctParty")) {
        int sub = attr_int(r, "PartySubTypeID");
        const char *pt = NULL;
        for (size_t i = 0; i < s->subtypes.n; i++)
            if (s->subtypes.v[i].id == sub)
                pt = ref_find(&s->party_types, s->subtype_party_type[i]);
        /* Vessel/Aircraft sub-types say more than their party type (Transport). */
        const char *st = ref_find(&s->subtypes, sub);
        if (st && strcmp(st, "Unknown") != 0)
            pt = st;
        lower_words(s->type, sizeof s->type, pt ? pt : "unknown");
    } else if (strcmp(name, "Alias") == 0) {
        s->alias_primary = attr_is(r, "Primary", "true");
    } else if (strcmp(name, "DocumentedName") == 0) {
        s->docname[0] = '\0';
    } else if (strcmp(name, "Feature") == 0 && s->uid[0]) {
        const char *t = ref_find(&s->features, attr_int(r, "FeatureTypeID"));
        snprintf(s->feature_ticker, sizeof s->feature_ticker, "%s", t ? t : "");
    } else if (strcmp(name, "FeatureType") == 0) {
        s->measure_type[0] = '\0';
        snprintf(s->measure_type, sizeof s->measure_type, "%d", attr_int(r, "ID"));
    } else if (strcmp(name, "PartySubType") == 0 || strcmp(name, "PartyType") == 0 || strcmp(name, "List") == 0) {
        snprintf(s->measure_type, sizeof s->measure_type, "%d", attr_int(r, "ID"));
        if (strcmp(name, "PartySubType") == 0 && s->subtypes.n < MAX_REFS)
            s->subtype_party_type[s->subtypes.n] = attr_int(r, "PartyTypeID");
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
        snprintf(s->measure_type, sizeof s->measure_type, "%d", attr_int(r, "SanctionsTypeID"));
    }
}

static void append_part(char *dst, size_t cap, const char *part)
{
    size_t n = strlen(dst);
    snprintf(dst + n, cap - n, "%s%s", n ? " " : "", part);
}

static void on_end(sdn_state *s, const char *name)
{
    if (strcmp(name, "DocumentedName") == 0 && s->uid[0]) {
        if (s->alias_primary && !s->have_name) {
            snprintf(s->name, sizeof s->name, "%s", s->docname);
            s->have_name = true;
        } else if (s->docname[0]) {
            char **v = realloc(s->aliases, (s->n_aliases + 1) * sizeof *v);
            char *copy = strdup(s->docname);
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
        s->feature_ticker[0] = '\0';
    } else if (strcmp(name, "DistinctParty") == 0) {
        party_finish(s);
        party_reset(s);
    } else if (strcmp(name, "EntryEvent") == 0) {
        s->in_entry_event = false;
        if (s->entry && !s->have_date && s->date[0][0]) {
            char d[16];
            snprintf(d, sizeof d, "%04d-%02d-%02d", atoi(s->date[0]), atoi(s->date[1]), atoi(s->date[2]));
            wl_entity_set_designated(s->entry, d);
            s->have_date = true;
        }
    } else if (strcmp(name, "SanctionsEntry") == 0) {
        s->entry = NULL;
    }
}

static void on_text(sdn_state *s, const char *text)
{
    const char *el = s->depth > 0 && s->depth <= MAX_DEPTH ? s->stack[s->depth - 1] : "";
    if (strcmp(el, "NamePartValue") == 0 && s->uid[0]) {
        append_part(s->docname, sizeof s->docname, text);
    } else if (strcmp(el, "VersionDetail") == 0 && s->feature_ticker[0]) {
        party_addr *v = realloc(s->addrs, (s->n_addrs + 1) * sizeof *v);
        if (v) {
            s->addrs = v;
            snprintf(v[s->n_addrs].ticker, sizeof v[s->n_addrs].ticker, "%s", s->feature_ticker);
            v[s->n_addrs].text = strdup(text);
            if (v[s->n_addrs].text)
                s->n_addrs++;
            else
                s->oom = true;
        } else {
            s->oom = true;
        }
    } else if (strcmp(el, "FeatureType") == 0) {
        static const char prefix[] = "Digital Currency Address - ";
        if (strncmp(text, prefix, sizeof prefix - 1) == 0)
            ref_add(&s->features, atoi(s->measure_type), text + sizeof prefix - 1);
    } else if (strcmp(el, "PartySubType") == 0) {
        ref_add(&s->subtypes, atoi(s->measure_type), text);
    } else if (strcmp(el, "PartyType") == 0) {
        ref_add(&s->party_types, atoi(s->measure_type), text);
    } else if (strcmp(el, "List") == 0 && in(s, 1, "ListValues")) {
        ref_add(&s->lists, atoi(s->measure_type), text);
    } else if (strcmp(el, "Comment") == 0 && in(s, 1, "SanctionsMeasure") && s->entry &&
               strcmp(s->measure_type, "1") == 0) {
        wl_entity_add_program(s->entry, text); /* SanctionsType 1: Program */
    } else if ((strcmp(el, "Year") == 0 || strcmp(el, "Month") == 0 || strcmp(el, "Day") == 0) && s->depth >= 3) {
        int k = el[0] == 'Y' ? 0 : el[0] == 'M' ? 1 : 2;
        if (in(s, 1, "Date") && in(s, 2, "EntryEvent") && s->in_entry_event)
            snprintf(s->date[k], sizeof s->date[k], "%s", text);
        else if (in(s, 1, "DateOfIssue"))
            snprintf(s->issue[k], sizeof s->issue[k], "%s", text);
    }
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
    s->err = err;
    s->reader = xmlReaderForIO(read_cb, NULL, s, path, NULL, XML_PARSE_NONET | XML_PARSE_NOCDATA);
    if (s->reader == NULL) {
        char sha[65];
        import_file_close(&s->in, sha);
        free(s);
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "%s: cannot create an XML reader", path);
    }
    xmlTextReaderSetErrorHandler(s->reader, on_xml_error, s);
    bool root_seen = false;
    int ret;
    rc = CW_OK;
    while ((ret = xmlTextReaderRead(s->reader)) == 1) {
        int type = xmlTextReaderNodeType(s->reader);
        if (type == XML_READER_TYPE_DOCUMENT_TYPE) {
            rc = cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET,
                            "%s: line %d: the document has a DTD (DOCTYPE); official lists have none, and DTDs are "
                            "how entity-expansion and external-entity attacks work: refused",
                            path, xmlTextReaderGetParserLineNumber(s->reader));
            break;
        }
        if (type == XML_READER_TYPE_ELEMENT) {
            const char *name = (const char *)xmlTextReaderConstLocalName(s->reader);
            if (!root_seen) {
                root_seen = true;
                if (strcmp(name, "Sanctions") != 0) {
                    rc = cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET,
                                    "%s: not an SDN_ADVANCED file: the root element is <%s>, not <Sanctions>", path,
                                    name);
                    break;
                }
            }
            bool empty = xmlTextReaderIsEmptyElement(s->reader);
            if (s->depth < MAX_DEPTH) {
                snprintf(s->stack[s->depth], sizeof s->stack[0], "%s", name);
            }
            s->depth++;
            on_start(s, name);
            if (empty) {
                on_end(s, name);
                s->depth--;
            }
        } else if (type == XML_READER_TYPE_END_ELEMENT) {
            on_end(s, (const char *)xmlTextReaderConstLocalName(s->reader));
            if (s->depth > 0)
                s->depth--;
        } else if (type == XML_READER_TYPE_TEXT && s->depth <= MAX_DEPTH) {
            const char *v = (const char *)xmlTextReaderConstValue(s->reader);
            if (v)
                on_text(s, v);
        }
    }
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
        if (s->issue[0][0]) {
            char d[16];
            snprintf(d, sizeof d, "%04d-%02d-%02d", atoi(s->issue[0]), atoi(s->issue[1]), atoi(s->issue[2]));
            wl_import_set_published(imp, d);
        }
    }
    party_reset(s);
    free(s);
    return rc;
}
