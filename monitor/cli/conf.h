/*
 * conf.h: chainwatch.conf, read whole before any of its lines is used
 * (`watch` reads it; args.h's cli_args_set_conf sets each option).
 *
 * The text: "name = value" (or "name: value") lines, up to
 * CLI_CONF_MAX_BYTES in all, of any length; a line starting with '#' or
 * ';' is a comment, and so is the rest of a line from a ';' or '#' after a
 * blank (a value cannot hold " #" or " ;");
 * blanks around names and values are trimmed; a UTF-8 BOM is skipped.
 * A "[name]" line starts a section:
 *   - a chain's name, one of the `chains` the caller gives ([bitcoin],
 *     [ethereum], [tron]): the lines under it are that chain's watch's
 *     alone, and win over the same option outside the chains' sections.
 *     One file then holds an Ethereum watch's confirmations = 12 beside a
 *     Tron watch's confirmations = 19, or each chain's start-height;
 *   - [rules]: a heading over the pattern rules' options, which are every
 *     chain's, as outside any section;
 *   - anything else is refused, so a [main] copied from bitcoin.conf or an
 *     [etherum] typo never leaves its lines silently unused.
 * An option given twice in one scope (outside the chains' sections, or in
 * one chain's, however often its header appears) is refused naming both
 * lines: the command line's "the last one wins" would hide the first.
 *
 * Only the file's shape is checked here; whether a name is an option, and
 * its value, is for the option table (args.h).
 */
#ifndef CW_CLI_CONF_H
#define CW_CLI_CONF_H

#include <stddef.h>

#include "chains/err.h"

/* A chainwatch.conf is a few dozen lines; this bound keeps a wrong path
 * (a log, /dev/zero) from being read into memory whole. */
#define CLI_CONF_MAX_BYTES ((size_t)1 << 20)

/* cli_conf_line.chain of a line outside every chain's section. */
#define CLI_CONF_EVERY_CHAIN (-1)

typedef struct {
    unsigned long line;       /* 1-based, in the file */
    int chain;                /* CLI_CONF_EVERY_CHAIN, or the index in chains of its section */
    const char *name, *value; /* NUL-terminated, trimmed; in the cli_conf's own text */
} cli_conf_line;

typedef struct {
    char *text;           /* the file's copy, cut in place into names and values */
    cli_conf_line *lines; /* the option lines, in the file's order */
    size_t n;
} cli_conf;

/* Reads text[0..len) (copied: text need not outlive the call) against the
 * NULL-terminated chain names. CW_OK with *out filled (cli_conf_free it);
 * CW_EARG with err "line N: cannot use this line: <why>" (a NUL byte, a
 * header without its ']', an unknown section, no '=', no name, an option
 * set twice in one scope); CW_ENOMEM. On error *out is empty. */
cw_code cli_conf_parse(const char *text, size_t len, const char *const *chains, cli_conf *out, cw_err *err);

/* Reads the file at path whole and parses it (cli_conf_parse). CW_EIO
 * "cannot read <path>: <why>"; CW_ELIMIT when it holds more than
 * CLI_CONF_MAX_BYTES; else as cli_conf_parse, with the path before the
 * line: "<path>: line N: cannot use this line: <why>". */
cw_code cli_conf_read(const char *path, const char *const *chains, cli_conf *out, cw_err *err);

/* Frees what *c owns and empties it; an empty cli_conf is fine. */
void cli_conf_free(cli_conf *c);

#endif
