/* libFuzzer target: chainwatch.conf's reader (monitor/cli/conf.h) on the
 * input as a whole file. What it accepts must be what conf.h promises:
 * names non-empty, trimmed, holding no '=' or ':'; values trimmed; line
 * numbers rising and within the text; each line's scope one of the chains
 * given or every chain's; no option twice in one scope. A refusal names
 * its line and leaves nothing behind. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/cli/conf.h"

static int blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

static void check_trimmed(const char *s)
{
    size_t n = strlen(s);
    if (n && (blank(s[0]) || blank(s[n - 1])))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const chains[] = {"bitcoin", "ethereum", "tron", NULL};
    cli_conf c;
    cw_err err = {0};
    cw_code rc = cli_conf_parse((const char *)data, size, chains, &c, &err);
    if (rc != CW_OK) {
        if ((rc != CW_EARG && rc != CW_ENOMEM) || c.n || c.lines || c.text)
            abort();
        if (rc == CW_EARG && strncmp(err.msg, "line ", 5) != 0)
            abort();
        return 0;
    }
    unsigned long lines = 1;
    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n';
    for (size_t i = 0; i < c.n; i++) {
        const cli_conf_line *l = &c.lines[i];
        if (l->name[0] == '\0' || strpbrk(l->name, "=:") || l->line == 0 || l->line > lines)
            abort();
        if (l->chain < CLI_CONF_EVERY_CHAIN || l->chain > 2)
            abort();
        if (i && l->line <= c.lines[i - 1].line)
            abort();
        check_trimmed(l->name);
        check_trimmed(l->value);
        for (size_t k = 0; k < i; k++)
            if (c.lines[k].chain == l->chain && strcmp(c.lines[k].name, l->name) == 0)
                abort();
    }
    cli_conf_free(&c);
    return 0;
}
