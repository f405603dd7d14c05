/*
 * import.h: designation file readers. Each streams its file (memory flat in
 * the file size), feeds entities and addresses into a wl_import, records the
 * file's sha256 and publication date, and refuses what it cannot read with
 * a message naming the file, the line (or byte) and the problem. None of
 * them writes the store: wl_import_commit() does, so a failed read leaves
 * the previous list in place.
 *
 * XML is read with libxml2's streaming reader, without network access or
 * entity expansion; a document with a DTD is refused outright (official
 * lists have none; billion-laughs and external-entity attacks need one).
 *
 * Values are never cut. An XML element's value is joined from all its text
 * pieces (comments and CDATA split them) and trimmed, inner whitespace of an
 * address dropped (xml_text in import_file.h; for every format,
 * wl_import_commit drops Unicode spaces and invisible format characters
 * from addresses too: wl_layout_len); a used value over
 * XML_VALUE_MAX (4 KiB) is refused naming the element and line. Mixed
 * content, an entry inside an entry (which would end the outer one early)
 * and nesting over 64 deep are refused. Line-based files refuse a line or
 * CSV record over IMPORT_LINE_MAX (1 MiB) and a NUL byte, naming the line,
 * as soon as they see it: memory stays bounded on /dev/zero or a 1 GB
 * single line. A file that reads cleanly but lists too few addresses is
 * stopped at the commit, by wl_import_commit's shrink guard.
 *
 * Every reader returns CW_OK or: CW_EIO (cannot open or read the file),
 * CW_EFORMAT (not the format: a bad header, a DTD, mixed content, a bad
 * value, a NUL byte), CW_ELIMIT (a value, line or record over its cap),
 * CW_ETRUNC (the document ends inside an element), CW_ENOMEM. On an error
 * imp holds part of the file: free it, never commit it. path and imp are
 * borrowed; imp receives copies. p may be NULL (no progress).
 */
#ifndef CW_IMPORT_H
#define CW_IMPORT_H

#include <stdint.h>

#include "watchlist.h"

/* Called now and then while reading: bytes read of total, addresses so far. */
typedef struct {
    void (*fn)(void *ctx, uint64_t done, uint64_t total, size_t addresses);
    void *ctx;
} import_progress;

/* OFAC SDN_ADVANCED.XML: every "Digital Currency Address - TICKER" feature
 * with its party (uid = FixedRef, name, aliases, type), programs, list and
 * designation date from the sanctions entries. */
cw_code import_sdn_advanced(const char *path, wl_import *imp, const import_progress *p, cw_err *err);
/* OFAC classic sdn.xml: sdnEntry / idList ids of type "Digital Currency Address - TICKER". */
cw_code import_sdn_xml(const char *path, wl_import *imp, const import_progress *p, cw_err *err);
/* OFAC sdn.csv. Remarks are cut at 1,000 characters and continue in
 * sdn_comments.csv. Without `comments`, a file with cut remarks is refused
 * (a cut remark can hide any number of addresses) unless allow_cut is set:
 * then the address running into the cut is skipped, and the import records
 * a warning naming how many remarks were cut. */
cw_code import_sdn_csv(const char *path, const char *comments, bool allow_cut, wl_import *imp,
                       const import_progress *p, cw_err *err);
/* OpenSanctions FollowTheMoney JSON lines: CryptoWallet entities (publicKey,
 * currency, holder by id or nested) and their holders. */
cw_code import_opensanctions(const char *path, wl_import *imp, const import_progress *p, cw_err *err);
/* A company's own CSV: header chain,address,entity,program,note. Any
 * network's addresses are accepted. */
cw_code import_own_csv(const char *path, wl_import *imp, const import_progress *p, cw_err *err);

#endif
