/* conf.c: chainwatch.conf's lines and sections (conf.h).
 *
 * Read here rather than by inih: inih cuts lines at 200 characters and
 * says only "line N", with N past the long line; a path or an endpoint may
 * be longer, and a refusal must say why. The file is read whole first so
 * that a chain's section can win over a line outside it wherever the two
 * stand, and so that a repeated option is found before any is used. */
#include "conf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

static cw_code refused(cw_err *err, size_t offset, unsigned long line, const char *why)
{
    return cw_err_set(err, CW_EARG, offset, "line %lu: cannot use this line: %s", line, why);
}

static void scope_name(const char *const *chains, int chain, char *out, size_t cap)
{
    if (chain == CLI_CONF_EVERY_CHAIN)
        snprintf(out, cap, "outside the chains' sections");
    else
        snprintf(out, cap, "in [%s]", chains[chain]);
}

/* Orders lines by scope, then name, then line: a repeated option's lines
 * end up side by side. */
static int by_scope_name_line(const void *pa, const void *pb)
{
    const cli_conf_line *a = *(const cli_conf_line *const *)pa, *b = *(const cli_conf_line *const *)pb;
    if (a->chain != b->chain)
        return a->chain < b->chain ? -1 : 1;
    int c = strcmp(a->name, b->name);
    if (c)
        return c;
    return a->line < b->line ? -1 : a->line > b->line;
}

/* CW_OK, or CW_EARG naming the earliest line that repeats an option of its
 * scope (and the line it repeats). */
static cw_code no_repeats(const cli_conf *c, const char *const *chains, cw_err *err)
{
    if (c->n < 2)
        return CW_OK;
    const cli_conf_line **ix = malloc(c->n * sizeof *ix);
    if (ix == NULL)
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory reading the config file");
    for (size_t i = 0; i < c->n; i++)
        ix[i] = &c->lines[i];
    qsort(ix, c->n, sizeof *ix, by_scope_name_line);
    const cli_conf_line *first = NULL, *again = NULL;
    for (size_t i = 1; i < c->n; i++) {
        const cli_conf_line *a = ix[i - 1], *b = ix[i];
        if (a->chain == b->chain && strcmp(a->name, b->name) == 0 && (again == NULL || b->line < again->line))
            first = a, again = b;
    }
    free(ix);
    if (again == NULL)
        return CW_OK;
    /* first is the line just before again in (scope, name, line) order:
     * with three or more, the one again repeats most nearly */
    char scope[64], why[200], q[64];
    scope_name(chains, again->chain, scope, sizeof scope);
    snprintf(why, sizeof why, "%s is already set on line %lu (%s); give it once", cli_quote(again->name, q, sizeof q),
             first->line, scope);
    return refused(err, CW_NO_OFFSET, again->line, why);
}

cw_code cli_conf_parse(const char *text, size_t len, const char *const *chains, cli_conf *out, cw_err *err)
{
    *out = (cli_conf){0};
    const char *nul = memchr(text, '\0', len);
    if (nul) {
        unsigned long line = 1;
        for (const char *p = text; p < nul; p++)
            line += *p == '\n';
        return refused(err, (size_t)(nul - text), line, "it holds a NUL byte (is this a text file?)");
    }
    cli_conf c = {.text = malloc(len + 1)};
    if (c.text == NULL)
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory reading the config file");
    memcpy(c.text, text, len);
    c.text[len] = '\0';
    size_t cap = 0;
    int chain = CLI_CONF_EVERY_CHAIN;
    unsigned long line = 0;
    cw_code rc = CW_OK;
    char why[160], q[64];
    for (char *s = c.text, *next; rc == CW_OK && s < c.text + len; s = next) {
        size_t at = (size_t)(s - c.text);
        char *nl = strchr(s, '\n');
        next = nl ? nl + 1 : c.text + len;
        if (nl)
            *nl = '\0';
        line++;
        if (line == 1 && strncmp(s, "\xef\xbb\xbf", 3) == 0)
            s += 3;
        s = trim(s);
        if (*s == '\0' || *s == '#' || *s == ';')
            continue;
        /* an inline comment (bitcoin.conf's start at any '#'): from a ';'
         * or '#' after a blank (a URL's '#fragment' has none before it) */
        for (char *p = s + 1; *p; p++)
            if ((*p == ';' || *p == '#') && (p[-1] == ' ' || p[-1] == '\t')) {
                *p = '\0';
                s = trim(s);
                break;
            }
        if (*s == '[') {
            size_t n = strlen(s);
            if (s[n - 1] != ']') {
                rc = refused(err, at, line, "a section header without its closing ']'");
                break;
            }
            s[n - 1] = '\0';
            const char *section = trim(s + 1);
            int found = CLI_CONF_EVERY_CHAIN;
            for (int i = 0; chains[i]; i++)
                if (strcmp(section, chains[i]) == 0)
                    found = i;
            if (found == CLI_CONF_EVERY_CHAIN && strcmp(section, "rules") != 0) {
                char known[80] = "";
                for (int i = 0; chains[i]; i++)
                    snprintf(known + strlen(known), sizeof known - strlen(known), "%s[%s]", i ? ", " : "", chains[i]);
                snprintf(why, sizeof why, "unknown section '[%s]': the sections are %s (that chain's watch only) and [rules]",
                         cli_quote(section, q, sizeof q), known);
                rc = refused(err, at, line, why);
                break;
            }
            chain = found;
            continue;
        }
        char *sep = s + strcspn(s, "=:");
        if (*sep == '\0') {
            rc = refused(err, at, line, "no '=' (lines are name = value, like rcvhwm = 1000)");
            break;
        }
        *sep = '\0';
        char *name = trim(s), *value = trim(sep + 1);
        if (*name == '\0') {
            rc = refused(err, at, line, "no name before the '='");
            break;
        }
        if (c.n == cap) {
            size_t ncap = cap ? 2 * cap : 16;
            cli_conf_line *grown = realloc(c.lines, ncap * sizeof *grown);
            if (grown == NULL) {
                rc = cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory reading the config file");
                break;
            }
            c.lines = grown;
            cap = ncap;
        }
        c.lines[c.n++] = (cli_conf_line){.line = line, .chain = chain, .name = name, .value = value};
    }
    if (rc == CW_OK)
        rc = no_repeats(&c, chains, err);
    if (rc != CW_OK) {
        cli_conf_free(&c);
        return rc;
    }
    *out = c;
    return CW_OK;
}

cw_code cli_conf_read(const char *path, const char *const *chains, cli_conf *out, cw_err *err)
{
    *out = (cli_conf){0};
    char q[128];
    cli_quote(path, q, sizeof q);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return cw_err_set(err, CW_EIO, CW_NO_OFFSET, "cannot read %s: %s", q, strerror(errno));
    char *buf = malloc(CLI_CONF_MAX_BYTES + 1);
    if (buf == NULL) {
        fclose(f);
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory reading %s", q);
    }
    errno = 0; /* fread sets it only on some failures: no stale value reported */
    size_t n = fread(buf, 1, CLI_CONF_MAX_BYTES + 1, f);
    int failed = ferror(f) ? (errno ? errno : EIO) : 0;
    fclose(f);
    cw_code rc;
    if (failed)
        rc = cw_err_set(err, CW_EIO, CW_NO_OFFSET, "cannot read %s: %s", q, strerror(failed));
    else if (n > CLI_CONF_MAX_BYTES)
        rc = cw_err_set(err, CW_ELIMIT, CW_NO_OFFSET, "%s: more than %zu bytes (is this chainwatch.conf?)", q,
                        CLI_CONF_MAX_BYTES);
    else if ((rc = cli_conf_parse(buf, n, chains, out, err)) == CW_EARG)
        cw_err_prefix(err, rc, "%s", q);
    free(buf);
    return rc;
}

void cli_conf_free(cli_conf *c)
{
    free(c->text);
    free(c->lines);
    *c = (cli_conf){0};
}
