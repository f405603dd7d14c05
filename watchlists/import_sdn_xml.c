/*
 * import_sdn_xml.c: OFAC's classic sdn.xml, streamed.
 *
 * Layout: <sdnList> (in OFAC's namespace, so elements are matched by local
 * name) with <publshInformation><Publish_Date>MM/DD/YYYY (OFAC's spelling)
 * and one <sdnEntry> per party. Addresses are <idList><id> entries whose
 * <idType> is "Digital Currency Address - TICKER".
 *
 * Design note. The file is read node by node (xmlTextReader) and an entry
 * is held only until its </sdnEntry>: memory is one entry plus the entries
 * with addresses, flat in the file size. Names keep OFAC's display form,
 * "LAST, First" (or the last name alone), for the party and its a.k.a.s.
 * The classic file has no designation dates; SDN_ADVANCED.XML has them.
 *
 * Values are joined from all their text pieces and trimmed (xml_text), so
 * indentation, line breaks and comments inside an element change nothing;
 * a value over XML_VALUE_MAX is refused, never cut. The schema has no mixed
 * content and no entry inside an entry: either is refused rather than read
 * as something else (a nested entry would end the outer one early).
 */
#include <libxml/xmlreader.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import.h"
#include "import_file.h"

#define MAX_DEPTH 64
#define NAME_MAX_LEN 32 /* element local names we match are shorter; longer ones only need to differ */

static const char currency_prefix[] = "Digital Currency Address - ";

typedef struct {
    char **v;
    size_t n;
} str_list;

typedef struct {
    char *ticker;
    char *text;
} entry_addr;

typedef struct {
    import_file in;
    xmlTextReaderPtr reader;
    wl_import *imp;
    bool oom;
    char xml_error[200];
    int xml_error_line, xml_error_code;

    char stack[MAX_DEPTH][NAME_MAX_LEN]; /* local names of open elements */
    bool has_child[MAX_DEPTH];
    int depth;
    xml_text text; /* value of the innermost open element */

    size_t entries;
    char published[16];

    /* The prolog, scanned as it is read (see read_cb). */
    xml_prolog_guard prolog;

    /* the sdnEntry being read */
    char uid[32];
    char *type, *first, *last; /* NULL: absent */
    str_list programs, aliases;
    entry_addr *addrs;
    size_t n_addrs;
    char *aka_first, *aka_last;
    char *id_type, *id_number;
} sdn_xml_state;

static const char *or_empty(const char *s) { return s ? s : ""; }

static void set_field(sdn_xml_state *s, char **dst, const char *text)
{
    char *d = strdup(text);
    if (d == NULL) {
        s->oom = true;
        return;
    }
    free(*dst);
    *dst = d;
}

static void clear_field(char **f)
{
    free(*f);
    *f = NULL;
}

static void on_xml_error(void *arg, xmlErrorPtr e)
{
    sdn_xml_state *s = arg;
    if (e == NULL || e->level < XML_ERR_ERROR || s->xml_error[0] != '\0')
        return;
    snprintf(s->xml_error, sizeof s->xml_error, "%s", e->message ? e->message : "malformed XML");
    size_t n = strlen(s->xml_error);
    while (n && (s->xml_error[n - 1] == '\n' || s->xml_error[n - 1] == ' '))
        s->xml_error[--n] = '\0';
    s->xml_error_line = e->line;
    s->xml_error_code = e->code;
}

static int read_cb(void *ctx, char *buf, int len)
{
    sdn_xml_state *s = ctx;
    long got = import_file_read(&s->in, buf, (size_t)len);
    if (got > 0 && xml_prolog_has_doctype(&s->prolog, buf, got))
        return -1;
    return got < 0 ? -1 : (int)got;
}

static void list_push(sdn_xml_state *s, str_list *l, const char *text)
{
    char **v = realloc(l->v, (l->n + 1) * sizeof *v);
    char *copy = strdup(text);
    if (v == NULL || copy == NULL) {
        if (v)
            l->v = v;
        free(copy);
        s->oom = true;
        return;
    }
    l->v = v;
    v[l->n++] = copy;
}

static void list_free(str_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

static void entry_reset(sdn_xml_state *s)
{
    list_free(&s->programs);
    list_free(&s->aliases);
    for (size_t i = 0; i < s->n_addrs; i++) {
        free(s->addrs[i].ticker);
        free(s->addrs[i].text);
    }
    free(s->addrs);
    s->addrs = NULL;
    s->n_addrs = 0;
    s->uid[0] = '\0';
    clear_field(&s->type), clear_field(&s->first), clear_field(&s->last);
    clear_field(&s->aka_first), clear_field(&s->aka_last), clear_field(&s->id_type), clear_field(&s->id_number);
}

/* OFAC's display form: "LAST, First", or the last name alone. Allocated;
 * NULL on out of memory. */
static char *display_name(const char *last, const char *first)
{
    size_t n = strlen(last) + strlen(first) + 3;
    char *d = malloc(n);
    if (d == NULL)
        return NULL;
    if (first[0] && last[0])
        snprintf(d, n, "%s, %s", last, first);
    else
        snprintf(d, n, "%s", last[0] ? last : first);
    return d;
}

static const char *parent(const sdn_xml_state *s, int up)
{
    int i = s->depth - 1 - up;
    return i >= 0 && i < MAX_DEPTH ? s->stack[i] : "";
}

/* The line of the node being read: the parser itself may have read ahead. */
static int line_now(const sdn_xml_state *s)
{
    xmlNodePtr node = xmlTextReaderCurrentNode(s->reader);
    long line = node ? xmlGetLineNo(node) : -1;
    return line > 0 ? (int)line : xmlTextReaderGetParserLineNumber(s->reader);
}

static cw_code entry_finish(sdn_xml_state *s, const char *path, cw_err *err)
{
    if (s->n_addrs == 0)
        return CW_OK;
    if (s->uid[0] == '\0')
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET,
                          "%s: line %d: an <sdnEntry> with digital currency addresses has no <uid>", path,
                          line_now(s));
    wl_entity *e = wl_import_entity(s->imp, s->uid);
    if (e == NULL)
        return CW_OK; /* wl_import_ok() reports it */
    char *name = display_name(or_empty(s->last), or_empty(s->first));
    if (name == NULL)
        s->oom = true;
    wl_entity_set_name(e, name ? name : "");
    free(name);
    wl_entity_set_type(e, or_empty(s->type));
    wl_entity_set_list(e, "SDN");
    for (size_t i = 0; i < s->aliases.n; i++)
        wl_entity_add_alias(e, s->aliases.v[i]);
    for (size_t i = 0; i < s->programs.n; i++)
        wl_entity_add_program(e, s->programs.v[i]);
    for (size_t i = 0; i < s->n_addrs; i++)
        wl_import_address(s->imp, s->uid, s->addrs[i].ticker, s->addrs[i].text);
    return CW_OK;
}

static void id_finish(sdn_xml_state *s)
{
    const char *type = or_empty(s->id_type);
    if (strncmp(type, currency_prefix, sizeof currency_prefix - 1) != 0 || s->id_number == NULL)
        return;
    /* An address has no whitespace: a line break inside one is layout. */
    size_t w = 0;
    for (size_t i = 0; s->id_number[i]; i++)
        if (s->id_number[i] != ' ')
            s->id_number[w++] = s->id_number[i];
    s->id_number[w] = '\0';
    if (w == 0)
        return;
    entry_addr *v = realloc(s->addrs, (s->n_addrs + 1) * sizeof *v);
    if (v == NULL) {
        s->oom = true;
        return;
    }
    s->addrs = v;
    const char *ticker = type + sizeof currency_prefix - 1;
    while (*ticker == ' ')
        ticker++;
    v[s->n_addrs].ticker = strdup(ticker);
    v[s->n_addrs].text = strdup(s->id_number);
    if (v[s->n_addrs].text == NULL || v[s->n_addrs].ticker == NULL) {
        free(v[s->n_addrs].ticker), free(v[s->n_addrs].text);
        s->oom = true;
    } else {
        s->n_addrs++;
    }
}

/* "MM/DD/YYYY" -> "YYYY-MM-DD"; anything else is left unset rather than guessed. */
static void set_published(sdn_xml_state *s, const char *text)
{
    int m, d, y;
    char extra;
    if (sscanf(text, "%d/%d/%d%c", &m, &d, &y, &extra) == 3 && m >= 1 && m <= 12 && d >= 1 && d <= 31 &&
        y >= 1990 && y <= 9999)
        snprintf(s->published, sizeof s->published, "%04d-%02d-%02d", y, m, d);
}

/* Does the import use the value of element `name` (innermost open) under `up`? */
static bool used(const char *name, const char *up)
{
    if (strcmp(up, "sdnEntry") == 0)
        return strcmp(name, "uid") == 0 || strcmp(name, "firstName") == 0 || strcmp(name, "lastName") == 0 ||
               strcmp(name, "sdnType") == 0;
    if (strcmp(up, "aka") == 0)
        return strcmp(name, "firstName") == 0 || strcmp(name, "lastName") == 0;
    if (strcmp(up, "id") == 0)
        return strcmp(name, "idType") == 0 || strcmp(name, "idNumber") == 0;
    return (strcmp(name, "program") == 0 && strcmp(up, "programList") == 0) ||
           (strcmp(name, "Publish_Date") == 0 && strcmp(up, "publshInformation") == 0);
}

/* The value of the element about to close (it has no child elements). */
static cw_code on_value(sdn_xml_state *s, const char *name, const char *path, cw_err *err)
{
    const char *up = parent(s, 1);
    if (!used(name, up))
        return CW_OK;
    if (s->text.over)
        return cw_err_set(err, CW_ELIMIT, CW_NO_OFFSET,
                          "%s: line %d: the text of <%s> is over %d bytes, the most a name or address may have: "
                          "refused rather than cut",
                          path, line_now(s), name, XML_VALUE_MAX);
    const char *text = xml_text_value(&s->text);
    if (strcmp(up, "sdnEntry") == 0) {
        /* A cut uid would merge parties: refused. */
        if (strcmp(name, "uid") == 0) {
            if (strlen(text) >= sizeof s->uid)
                return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET,
                                  "%s: line %d: an <sdnEntry> <uid> over %zu characters", path, line_now(s),
                                  sizeof s->uid - 1);
            snprintf(s->uid, sizeof s->uid, "%s", text);
        } else if (strcmp(name, "firstName") == 0) {
            set_field(s, &s->first, text);
        } else if (strcmp(name, "lastName") == 0) {
            set_field(s, &s->last, text);
        } else if (strcmp(name, "sdnType") == 0) {
            set_field(s, &s->type, text);
            for (char *p = s->type; p && *p; p++)
                if (*p >= 'A' && *p <= 'Z')
                    *p = (char)(*p + 32);
        }
    } else if (strcmp(up, "aka") == 0) {
        set_field(s, strcmp(name, "firstName") == 0 ? &s->aka_first : &s->aka_last, text);
    } else if (strcmp(up, "id") == 0) {
        set_field(s, strcmp(name, "idType") == 0 ? &s->id_type : &s->id_number, text);
    } else if (strcmp(name, "program") == 0) {
        if (text[0])
            list_push(s, &s->programs, text);
    } else {
        set_published(s, text);
    }
    return CW_OK;
}

static cw_code on_end(sdn_xml_state *s, const char *name, const char *path, cw_err *err)
{
    if (strcmp(name, "sdnEntry") == 0) {
        s->entries++;
        cw_code rc = entry_finish(s, path, err);
        entry_reset(s);
        return rc;
    }
    if (strcmp(name, "aka") == 0) {
        char *alias = display_name(or_empty(s->aka_last), or_empty(s->aka_first));
        if (alias == NULL)
            s->oom = true;
        else if (alias[0])
            list_push(s, &s->aliases, alias);
        free(alias);
        clear_field(&s->aka_first), clear_field(&s->aka_last);
    } else if (strcmp(name, "id") == 0) {
        id_finish(s);
        clear_field(&s->id_type), clear_field(&s->id_number);
    }
    return CW_OK;
}

static cw_code refuse_nesting(sdn_xml_state *s, const char *path, const char *what, const char *a, const char *b,
                              cw_err *err)
{
    char msg[160];
    snprintf(msg, sizeof msg, what, a, b);
    return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET,
                      "%s: line %d: %s: not OFAC's sdn.xml schema, refused rather than half read", path, line_now(s),
                      msg);
}

/* An entry, alias or id inside another would end the outer one early. */
static cw_code on_start(sdn_xml_state *s, const char *name, const char *path, cw_err *err)
{
    if (s->depth >= MAX_DEPTH)
        return refuse_nesting(s, path, "elements nested over %s deep (<%s>)", "64", name, err);
    if (s->depth > 0) {
        if (s->text.n > 0)
            return refuse_nesting(s, path, "<%s> holds both text and the element <%s>", parent(s, 0), name, err);
        s->has_child[s->depth - 1] = true;
    }
    static const char *const flat[] = {"sdnEntry", "aka", "id"};
    for (size_t i = 0; i < sizeof flat / sizeof *flat; i++)
        if (strcmp(name, flat[i]) == 0)
            for (int d = 0; d < s->depth; d++)
                if (strcmp(s->stack[d], name) == 0)
                    return refuse_nesting(s, path, "an <%s> inside another <%s>", name, name, err);
    snprintf(s->stack[s->depth], sizeof s->stack[0], "%s", name);
    s->has_child[s->depth] = false;
    s->depth++;
    xml_text_clear(&s->text);
    if (strcmp(name, "sdnEntry") == 0)
        entry_reset(s);
    return CW_OK;
}

static cw_code refuse_doctype(const char *path, int line, cw_err *err)
{
    return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET,
                      "%s: line %d: the document has a DTD (DOCTYPE); OFAC's sdn.xml has none, and DTDs are how "
                      "entity-expansion and external-entity attacks work: refused",
                      path, line);
}

static cw_code read_document(sdn_xml_state *s, const char *path, cw_err *err)
{
    bool root_seen = false;
    int ret;
    while ((ret = xmlTextReaderRead(s->reader)) == 1) {
        int type = xmlTextReaderNodeType(s->reader);
        if (type == XML_READER_TYPE_DOCUMENT_TYPE)
            return refuse_doctype(path, line_now(s), err);
        if (type == XML_READER_TYPE_ELEMENT) {
            const char *name = (const char *)xmlTextReaderConstLocalName(s->reader);
            if (!root_seen) {
                root_seen = true;
                if (strcmp(name, "sdnList") != 0)
                    return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET,
                                      "%s: line %d: not an OFAC sdn.xml file: the root element is <%s>, not <sdnList>",
                                      path, line_now(s), name);
            }
            bool empty = xmlTextReaderIsEmptyElement(s->reader);
            cw_code rc = on_start(s, name, path, err);
            if (rc == CW_OK && empty) {
                rc = on_value(s, name, path, err);
                if (rc == CW_OK)
                    rc = on_end(s, name, path, err);
                s->depth--;
            }
            if (rc)
                return rc;
        } else if (type == XML_READER_TYPE_END_ELEMENT) {
            const char *name = (const char *)xmlTextReaderConstLocalName(s->reader);
            cw_code rc = s->depth > 0 && !s->has_child[s->depth - 1] ? on_value(s, name, path, err) : CW_OK;
            if (rc == CW_OK)
                rc = on_end(s, name, path, err);
            if (s->depth > 0)
                s->depth--;
            xml_text_clear(&s->text);
            if (rc)
                return rc;
        } else if (type == XML_READER_TYPE_TEXT || type == XML_READER_TYPE_CDATA ||
                   type == XML_READER_TYPE_WHITESPACE || type == XML_READER_TYPE_SIGNIFICANT_WHITESPACE) {
            const char *v = (const char *)xmlTextReaderConstValue(s->reader);
            if (v == NULL || s->depth == 0)
                continue;
            xml_text_add(&s->text, v);
            if (s->text.oom)
                s->oom = true;
            if (s->text.n > 0 && s->has_child[s->depth - 1])
                return refuse_nesting(s, path, "<%s> holds both elements and the text \"%.40s\"", parent(s, 0),
                                      xml_text_value(&s->text), err);
        }
    }
    if (ret != 0 && s->prolog.doctype_line)
        return refuse_doctype(path, s->prolog.doctype_line, err);
    if (ret != 0 && ferror(s->in.f))
        return cw_err_set(err, CW_EIO, CW_NO_OFFSET, "%s: read error near line %d", path, line_now(s));
    int line = s->xml_error_line ? s->xml_error_line : line_now(s);
    /* libxml2's push parser calls any early end "Extra content at the end
     * of the document"; inside an open element it means a cut file. */
    if (ret != 0 && s->xml_error_code == XML_ERR_DOCUMENT_END && s->depth > 0)
        return cw_err_set(err, CW_ETRUNC, CW_NO_OFFSET,
                          "%s: line %d: the file ends inside <%s>: it is truncated (an interrupted download?)", path,
                          line, parent(s, 0));
    if (ret != 0 && s->xml_error_code == XML_ERR_DOCUMENT_END && !root_seen)
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s: line %d: no root element: not an OFAC sdn.xml file",
                          path, line);
    if (ret != 0)
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s: line %d: %s", path, line,
                          s->xml_error[0] ? s->xml_error : "malformed XML");
    if (!root_seen)
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s: line %d: empty document: not an OFAC sdn.xml file",
                          path, line_now(s));
    /* An empty list would replace the previous one with nothing. */
    if (s->entries == 0)
        return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET,
                          "%s: no <sdnEntry> elements: not a complete OFAC sdn.xml file", path);
    if (s->oom || !wl_import_ok(s->imp))
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "%s: out of memory", path);
    return CW_OK;
}

cw_code import_sdn_xml(const char *path, wl_import *imp, const import_progress *p, cw_err *err)
{
    sdn_xml_state *s = calloc(1, sizeof *s);
    if (s == NULL)
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "%s: out of memory", path);
    cw_code rc = import_file_open(&s->in, path, p, imp, err);
    if (rc) {
        free(s);
        return rc;
    }
    s->imp = imp;
    s->reader = xmlReaderForIO(read_cb, NULL, s, path, NULL, XML_PARSE_NONET | XML_PARSE_NOCDATA);
    char sha[65];
    if (s->reader == NULL) {
        import_file_close(&s->in, sha);
        free(s);
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "%s: cannot create an XML reader", path);
    }
    xmlTextReaderSetStructuredErrorHandler(s->reader, on_xml_error, s);
    rc = read_document(s, path, err);
    xmlFreeTextReader(s->reader);
    import_file_close(&s->in, sha);
    if (rc == CW_OK) {
        wl_import_set_file(imp, path, sha);
        if (s->published[0])
            wl_import_set_published(imp, s->published);
    }
    entry_reset(s);
    xml_text_free(&s->text);
    free(s);
    return rc;
}
