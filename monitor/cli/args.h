/*
 * args.h: the one option parser of the verbs. A verb declares each option
 * once, in a table (name, kind, where the value goes, help text, whether
 * chainwatch.conf may set it); the same table reads argv, reads
 * chainwatch.conf (`watch`) and prints the options part of the verb's
 * usage. Values are read by cli.h's strict parsers (cli_parse_*): the
 * whole value or a refusal, never atoi's 0.
 *
 * Every refusal is one line on stderr naming the verb, the option and the
 * value, and CLI_EXIT_USAGE (2):
 *   chainwatch: VERB: --hops: '9' is out of range (1 to 8)
 *   chainwatch: VERB: unknown option '--x' (see chainwatch VERB --help)
 *   chainwatch: VERB: --x needs a value (N)
 *   chainwatch: VERB: unexpected argument 'x'
 */
#ifndef CW_CLI_ARGS_H
#define CW_CLI_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum {
    ARG_END = 0, /* ends a table */
    ARG_FLAG,    /* bool *: --name sets true; a value is refused */
    ARG_STRING,  /* const char **: any text, as given (the argv or config string, not copied) */
    ARG_PATH,    /* const char **: a file or directory name, never empty */
    ARG_INT,     /* int64_t *: a whole number in min..max (cli_parse_int) */
    ARG_SIZE,    /* uint64_t *: bytes, with k/M/G/T, in min..max (cli_parse_size) */
    ARG_SECONDS, /* uint64_t *: seconds, with s/m/h/d, in min..max (cli_parse_seconds) */
    ARG_SHARE,   /* uint32_t *: parts per million, from 1% or 0.01 (cli_parse_share) */
    ARG_PERCENT, /* uint32_t *: parts per million, from 10 or 10% (cli_parse_percent) */
    ARG_BTC,     /* uint64_t *: satoshis, from an amount in BTC (cli_parse_btc) */
    ARG_ENUM,    /* int *: the index in choices (NULL-terminated) of the value */
    ARG_SWITCH,  /* bool *: on or off */
    ARG_MORE,    /* dest is another table, read as if it were here; help, when
                  * set, heads its part of the usage */
} cli_arg_kind;

/* Where the value may come from: the command line always; chainwatch.conf
 * only with ARG_CONF. */
enum { ARG_CONF = 1u << 0 };

typedef struct {
    const char *name; /* without the dashes; NULL for ARG_MORE */
    cli_arg_kind kind;
    void *dest; /* as above; written only when the value is accepted */
    int64_t min, max; /* ARG_INT, ARG_SIZE and ARG_SECONDS (the latter two as uint64) */
    const char *const *choices; /* ARG_ENUM */
    const char *metavar; /* in usage: "--hops N"; NULL for flags */
    const char *help; /* usage text; "\n" starts an indented line; NULL hides it */
    unsigned from; /* ARG_CONF */
    bool given; /* set by cli_args_parse: the command line gave it */
    bool conf;  /* set by cli_args_set_conf: chainwatch.conf gave it, the command line did not */
} cli_arg;

/* Reads argv[1..argc-1] against the table: "--name VALUE" and
 * "--name=VALUE" (the value is the next argument whatever it looks like,
 * so "--rcvhwm -1" reaches the number parser); "--" ends the options;
 * "-x" (one dash and more, -h too) is refused as an unknown option, so a
 * verb asks cli_wants_help first; "-" and anything else not starting with
 * "--" is a positional, kept in pos (up to max_pos; more is refused) in
 * order, *n_pos set. A repeated option:
 * the last one wins. Returns CLI_EXIT_OK, or CLI_EXIT_USAGE after the one
 * line on stderr. Options given are marked (cli_args_given). */
int cli_args_parse(const char *verb, cli_arg *table, int argc, char **argv, const char **pos, int max_pos,
                   int *n_pos);

/* One option by name, as chainwatch.conf gives it (after cli_args_parse:
 * flags win, so an option the command line gave is checked and left as it
 * is; a flag's value is true, yes, on, 1 or false, no, off, 0). Returns 1
 * when taken; 0 when the table has no such option, or it is
 * not one chainwatch.conf may set (why says which); -1 for a bad value
 * (why: "--hops: '9' is out of range (1 to 8)"). value must outlive the
 * table's use (strings are not copied). */
int cli_args_set_conf(cli_arg *table, const char *name, const char *value, char *why, size_t why_cap);

/* As cli_args_set_conf, but nothing is stored or marked: for a line of
 * chainwatch.conf this run does not use (another chain's section, conf.h),
 * whose name and value must still be sound. */
int cli_args_check_conf(const cli_arg *table, const char *name, const char *value, char *why, size_t why_cap);

/* True when argv (cli_args_parse) gave the option named. */
bool cli_args_given(const cli_arg *table, const char *name);
/* True when argv or chainwatch.conf (cli_args_set_conf) gave the option
 * named: for a default that depends on whether the user chose a value
 * (watch --chain tron: --confirmations instead of the solidified block),
 * which a line of chainwatch.conf chooses as the flag does. */
bool cli_args_chosen(const cli_arg *table, const char *name);

/* Prints the table as usage lines, "  --name METAVAR   help", in order,
 * ARG_MORE parts headed by their help. */
void cli_args_usage(FILE *f, const cli_arg *table);

/* A verb's usage when it is asked for: usage, then the table's options
 * (cli_args_usage). Asked is --help or -h anywhere (cli_wants_help):
 * printed on stdout, *exit_code CLI_EXIT_OK; or, for a verb that needs
 * arguments (needs_args), none at all: printed on stderr, *exit_code
 * CLI_EXIT_USAGE. Returns whether it printed (the verb then returns
 * *exit_code); false leaves *exit_code alone. */
bool cli_args_help(int argc, char **argv, bool needs_args, const char *usage, const cli_arg *table, int *exit_code);

#endif
