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
 */
#include <libxml/xmlreader.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import.h"
#include "import_file.h"

#define MAX_DEPTH 64
#define NAME_MAX_LEN 32 /* element local names we match are shorter; longer ones only need to differ */
#define TEXT_MAX 2048   /* the longest element text kept (names, addresses: far shorter) */

static const char currency_prefix[] = "Digital Currency Address - ";

typedef struct {
    char **v;
    size_t n;
} str_list;

typedef struct {
    char ticker[32];
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
    int depth;
    char text[TEXT_MAX]; /* text of the element being read */
    size_t text_len;

    size_t entries;
    char published[16];

    /* The prolog, scanned as it is read (see read_cb). */
    xml_prolog_guard prolog;

    /* the sdnEntry being read */
    char uid[32];
    char type[32];
    char first[512], last[512];
    str_list programs, aliases;
    entry_addr *addrs;
    size_t n_addrs;
    char aka_first[512], aka_last[512];
    char id_type[128], id_number[256];
} sdn_xml_state;

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
    for (size_t i = 0; i < s->n_addrs; i++)
        free(s->addrs[i].text);
    free(s->addrs);
    s->addrs = NULL;
    s->n_addrs = 0;
    s->uid[0] = s->type[0] = s->first[0] = s->last[0] = '\0';
    s->aka_first[0] = s->aka_last[0] = s->id_type[0] = s->id_number[0] = '\0';
}

/* OFAC's display form: "LAST, First", or the last name alone. */
static void display_name(char *dst, size_t cap, const char *last, const char *first)
{
    if (first[0] && last[0])
        snprintf(dst, cap, "%s, %s", last, first);
    else
        snprintf(dst, cap, "%s", last[0] ? last : first);
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

/* The element's text without surrounding whitespace (OFAC pretty-prints). */
static const char *trimmed_text(sdn_xml_state *s)
{
    size_t n = s->text_len;
    while (n && (s->text[n - 1] == ' ' || s->text[n - 1] == '\n' || s->text[n - 1] == '\r' ||
                 s->text[n - 1] == '\t'))
        n--;
    s->text[n] = '\0';
    const char *t = s->text;
    while (*t == ' ' || *t == '\n' || *t == '\r' || *t == '\t')
        t++;
    return t;
}

/* Copies text into a field; false if it had to be cut. */
static bool copy_field(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    bool whole = n < cap;
    if (!whole)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
    return whole;
}

static void lower_copy(char *dst, size_t cap, const char *src)
{
    copy_field(dst, cap, src);
    for (char *p = dst; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p + 32);
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
    char name[1100];
    display_name(name, sizeof name, s->last, s->first);
    wl_entity_set_name(e, name);
    wl_entity_set_type(e, s->type);
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
    if (strncmp(s->id_type, currency_prefix, sizeof currency_prefix - 1) != 0 || s->id_number[0] == '\0')
        return;
    entry_addr *v = realloc(s->addrs, (s->n_addrs + 1) * sizeof *v);
    if (v == NULL) {
        s->oom = true;
        return;
    }
    s->addrs = v;
    const char *ticker = s->id_type + sizeof currency_prefix - 1;
    while (*ticker == ' ')
        ticker++;
    snprintf(v[s->n_addrs].ticker, sizeof v[s->n_addrs].ticker, "%s", ticker);
    v[s->n_addrs].text = strdup(s->id_number);
    if (v[s->n_addrs].text == NULL)
        s->oom = true;
    else
        s->n_addrs++;
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

static cw_code on_end(sdn_xml_state *s, const char *name, const char *path, cw_err *err)
{
    const char *up = parent(s, 1);
    const char *text = trimmed_text(s);
    if (strcmp(name, "sdnEntry") == 0) {
        s->entries++;
        cw_code rc = entry_finish(s, path, err);
        entry_reset(s);
        return rc;
    }
    if (strcmp(up, "sdnEntry") == 0) {
        /* A cut uid would merge parties: refused. Names are far shorter than the fields. */
        if (strcmp(name, "uid") == 0 && !copy_field(s->uid, sizeof s->uid, text))
            return cw_err_set(err, CW_EFORMAT, CW_NO_OFFSET, "%s: line %d: an <sdnEntry> <uid> over %zu characters",
                              path, line_now(s), sizeof s->uid - 1);
        else if (strcmp(name, "firstName") == 0)
            copy_field(s->first, sizeof s->first, text);
        else if (strcmp(name, "lastName") == 0)
            copy_field(s->last, sizeof s->last, text);
        else if (strcmp(name, "sdnType") == 0)
            lower_copy(s->type, sizeof s->type, text);
    } else if (strcmp(up, "aka") == 0) {
        if (strcmp(name, "firstName") == 0)
            copy_field(s->aka_first, sizeof s->aka_first, text);
        else if (strcmp(name, "lastName") == 0)
            copy_field(s->aka_last, sizeof s->aka_last, text);
    } else if (strcmp(up, "id") == 0) {
        if (strcmp(name, "idType") == 0)
            copy_field(s->id_type, sizeof s->id_type, text);
        else if (strcmp(name, "idNumber") == 0)
            copy_field(s->id_number, sizeof s->id_number, text); /* longer than any address: flagged when resolved */
    } else if (strcmp(name, "program") == 0 && strcmp(up, "programList") == 0 && text[0]) {
        list_push(s, &s->programs, text);
    } else if (strcmp(name, "Publish_Date") == 0 && strcmp(up, "publshInformation") == 0) {
        set_published(s, text);
    }
    if (strcmp(name, "aka") == 0) {
        char alias[1100];
        display_name(alias, sizeof alias, s->aka_last, s->aka_first);
        if (alias[0])
            list_push(s, &s->aliases, alias);
        s->aka_first[0] = s->aka_last[0] = '\0';
    } else if (strcmp(name, "id") == 0) {
        id_finish(s);
        s->id_type[0] = s->id_number[0] = '\0';
    }
    return CW_OK;
}

static void on_start(sdn_xml_state *s, const char *name)
{
    if (s->depth < MAX_DEPTH)
        snprintf(s->stack[s->depth], sizeof s->stack[0], "%s", name);
    s->depth++;
    s->text_len = 0;
    if (strcmp(name, "sdnEntry") == 0)
        entry_reset(s);
}

static void on_text(sdn_xml_state *s, const char *v)
{
    size_t n = strlen(v);
    if (n > sizeof s->text - 1 - s->text_len)
        n = sizeof s->text - 1 - s->text_len;
    memcpy(s->text + s->text_len, v, n);
    s->text_len += n;
    s->text[s->text_len] = '\0';
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
            on_start(s, name);
            if (empty) {
                cw_code rc = on_end(s, name, path, err);
                s->depth--;
                if (rc)
                    return rc;
            }
        } else if (type == XML_READER_TYPE_END_ELEMENT) {
            cw_code rc = on_end(s, (const char *)xmlTextReaderConstLocalName(s->reader), path, err);
            if (s->depth > 0)
                s->depth--;
            s->text_len = 0;
            if (rc)
                return rc;
        } else if (type == XML_READER_TYPE_TEXT || type == XML_READER_TYPE_CDATA) {
            const char *v = (const char *)xmlTextReaderConstValue(s->reader);
            if (v)
                on_text(s, v);
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
    free(s);
    return rc;
}
