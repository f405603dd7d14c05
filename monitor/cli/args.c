/* args.c: the verbs' option tables read from argv and chainwatch.conf (args.h). */
#include "args.h"

#include <string.h>

#include "cli.h"

/* The entry named, searching ARG_MORE parts too. */
static cli_arg *find(cli_arg *t, const char *name, size_t len)
{
    for (; t->kind != ARG_END; t++) {
        if (t->kind == ARG_MORE) {
            cli_arg *in = find(t->dest, name, len);
            if (in)
                return in;
        } else if (strlen(t->name) == len && strncmp(t->name, name, len) == 0) {
            return t;
        }
    }
    return NULL;
}

static const cli_arg *cfind(const cli_arg *t, const char *name)
{
    return find((cli_arg *)t, name, strlen(name));
}

/* Reads value into a's destination (when store). CW_OK, or CW_EARG with
 * err naming the option and quoting the value. */
static cw_code take(const cli_arg *a, const char *v, bool store, cw_err *err)
{
    union {
        int64_t i;
        uint64_t u;
        uint32_t ppm;
        int e;
        bool b;
    } x;
    cw_code rc = CW_OK;
    char q[80];
    switch (a->kind) {
    case ARG_STRING:
        break;
    case ARG_PATH:
        if (*v == '\0')
            return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "--%s needs a %s, not an empty value", a->name,
                              a->metavar ? a->metavar : "path");
        break;
    case ARG_INT:
        rc = cli_parse_int(v, a->min, a->max, &x.i, err);
        break;
    case ARG_SIZE:
        rc = cli_parse_size(v, (uint64_t)a->min, (uint64_t)a->max, &x.u, err);
        break;
    case ARG_SECONDS:
        rc = cli_parse_seconds(v, (uint64_t)a->min, (uint64_t)a->max, &x.u, err);
        break;
    case ARG_SHARE:
        rc = cli_parse_share(v, &x.ppm, err);
        break;
    case ARG_PERCENT:
        rc = cli_parse_percent(v, &x.ppm, err);
        break;
    case ARG_BTC:
        rc = cli_parse_btc(v, &x.u, err);
        break;
    case ARG_SWITCH:
        if (strcmp(v, "on") != 0 && strcmp(v, "off") != 0)
            return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "--%s takes on or off, not '%s'", a->name, cli_quote(v, q, sizeof q));
        x.b = strcmp(v, "on") == 0;
        break;
    case ARG_ENUM: {
        x.e = -1;
        for (int i = 0; a->choices[i]; i++)
            if (strcmp(v, a->choices[i]) == 0)
                x.e = i;
        if (x.e < 0) {
            char list[160] = "";
            for (int i = 0; a->choices[i]; i++)
                snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? (a->choices[i + 1] ? ", " : " or ") : "",
                         a->choices[i]);
            return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "--%s is %s, not '%s'", a->name, list, cli_quote(v, q, sizeof q));
        }
        break;
    }
    default: /* ARG_FLAG takes no value */
        return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "--%s takes no value ('%s' given)", a->name, cli_quote(v, q, sizeof q));
    }
    if (rc) {
        char msg[CW_ERR_MSG_MAX];
        snprintf(msg, sizeof msg, "%s", err->msg);
        return cw_err_set(err, rc, CW_NO_OFFSET, "--%s: %s", a->name, msg);
    }
    if (!store)
        return CW_OK;
    switch (a->kind) {
    case ARG_STRING:
    case ARG_PATH: *(const char **)a->dest = v; break;
    case ARG_INT: *(int64_t *)a->dest = x.i; break;
    case ARG_SIZE:
    case ARG_SECONDS:
    case ARG_BTC: *(uint64_t *)a->dest = x.u; break;
    case ARG_SHARE:
    case ARG_PERCENT: *(uint32_t *)a->dest = x.ppm; break;
    case ARG_SWITCH: *(bool *)a->dest = x.b; break;
    case ARG_ENUM: *(int *)a->dest = x.e; break;
    default: break;
    }
    return CW_OK;
}

static int refused(const char *verb, const cw_err *err)
{
    fprintf(stderr, "chainwatch: %s: %s\n", verb, err->msg);
    return CLI_EXIT_USAGE;
}

int cli_args_parse(const char *verb, cli_arg *table, int argc, char **argv, const char **pos, int max_pos,
                   int *n_pos)
{
    char q[128];
    bool options = true;
    *n_pos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (options && strcmp(a, "--") == 0) {
            options = false;
            continue;
        }
        if (options && a[0] == '-' && a[1] != '-' && a[1] != '\0') {
            fprintf(stderr, "chainwatch: %s: unknown option '%s' (see chainwatch %s --help)\n", verb,
                    cli_quote(a, q, sizeof q), verb);
            return CLI_EXIT_USAGE;
        }
        if (!options || strncmp(a, "--", 2) != 0) {
            if (*n_pos == max_pos) {
                fprintf(stderr, "chainwatch: %s: unexpected argument '%s' (see chainwatch %s --help)\n", verb,
                        cli_quote(a, q, sizeof q), verb);
                return CLI_EXIT_USAGE;
            }
            pos[(*n_pos)++] = a;
            continue;
        }
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        cli_arg *d = find(table, name, len);
        if (d == NULL) {
            fprintf(stderr, "chainwatch: %s: unknown option '%s' (see chainwatch %s --help)\n", verb,
                    cli_quote(a, q, sizeof q), verb);
            return CLI_EXIT_USAGE;
        }
        const char *v = eq ? eq + 1 : NULL;
        if (d->kind == ARG_FLAG && v == NULL) {
            *(bool *)d->dest = true;
            d->given = true;
            continue;
        }
        if (v == NULL) {
            if (i + 1 >= argc) {
                fprintf(stderr, "chainwatch: %s: --%s needs a value (%s)\n", verb, d->name,
                        d->metavar ? d->metavar : "see --help");
                return CLI_EXIT_USAGE;
            }
            v = argv[++i];
        }
        cw_err err = {0};
        if (take(d, v, true, &err))
            return refused(verb, &err);
        d->given = true;
    }
    return CLI_EXIT_OK;
}

/* One chainwatch.conf line against the table; stored only when store. */
static int conf_line(cli_arg *table, const char *name, const char *value, bool store, char *why, size_t why_cap)
{
    char q[80];
    cli_arg *d = find(table, name, strlen(name));
    if (d == NULL) {
        snprintf(why, why_cap, "unknown option '%s'", cli_quote(name, q, sizeof q));
        return 0;
    }
    if (!(d->from & ARG_CONF)) {
        snprintf(why, why_cap, "--%s is a command-line option only, not one for the config file", d->name);
        return 0;
    }
    if (d->kind == ARG_FLAG) { /* a line of its own: name = true or false (the command line's flag wins) */
        static const char *const yes[] = {"true", "yes", "on", "1", NULL}, *const no[] = {"false", "no", "off", "0", NULL};
        int v = -1;
        for (int i = 0; yes[i]; i++)
            if (strcmp(value, yes[i]) == 0)
                v = 1;
            else if (strcmp(value, no[i]) == 0)
                v = 0;
        if (v < 0) {
            snprintf(why, why_cap, "--%s is true or false in the config file, not '%s'", d->name,
                     cli_quote(value, q, sizeof q));
            return -1;
        }
        if (store && !d->given)
            *(bool *)d->dest = v == 1, d->conf = true;
        return 1;
    }
    cw_err err = {0};
    if (take(d, value, store && !d->given, &err)) {
        snprintf(why, why_cap, "%s", err.msg);
        return -1;
    }
    if (store)
        d->conf |= !d->given;
    return 1;
}

int cli_args_set_conf(cli_arg *table, const char *name, const char *value, char *why, size_t why_cap)
{
    return conf_line(table, name, value, true, why, why_cap);
}

int cli_args_check_conf(const cli_arg *table, const char *name, const char *value, char *why, size_t why_cap)
{
    return conf_line((cli_arg *)table, name, value, false, why, why_cap);
}

bool cli_args_given(const cli_arg *table, const char *name)
{
    const cli_arg *d = cfind(table, name);
    return d && d->given;
}

bool cli_args_chosen(const cli_arg *table, const char *name)
{
    const cli_arg *d = cfind(table, name);
    return d && (d->given || d->conf);
}

/* Help column: "  --min-exposure-amount BTC  " is the widest in use. */
#define HELP_COL 29

void cli_args_usage(FILE *f, const cli_arg *t)
{
    for (; t->kind != ARG_END; t++) {
        if (t->kind == ARG_MORE) {
            if (t->help)
                fprintf(f, "\n%s\n", t->help);
            cli_args_usage(f, t->dest);
            continue;
        }
        if (t->help == NULL)
            continue;
        int n = fprintf(f, "  --%s%s%s", t->name, t->metavar ? " " : "", t->metavar ? t->metavar : "");
        const char *h = t->help;
        bool first = true;
        while (*h) {
            const char *nl = strchr(h, '\n');
            int len = nl ? (int)(nl - h) : (int)strlen(h);
            int pad = first ? (n < HELP_COL - 1 ? HELP_COL - n : 1) : HELP_COL;
            if (first && n >= HELP_COL - 1) {
                fputc('\n', f);
                pad = HELP_COL;
            }
            fprintf(f, "%*s%.*s\n", pad, "", len, h);
            first = false;
            h += len + (nl != NULL);
        }
        if (first)
            fputc('\n', f);
    }
}

bool cli_wants_help(int argc, char **argv)
{
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return true;
    return false;
}

bool cli_args_help(int argc, char **argv, bool needs_args, const char *usage, const cli_arg *table, int *exit_code)
{
    bool bare = needs_args && argc < 2;
    if (!bare && !cli_wants_help(argc, argv))
        return false;
    FILE *f = bare ? stderr : stdout;
    fputs(usage, f);
    cli_args_usage(f, table);
    *exit_code = bare ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    return true;
}
