/* tokens.c: stub (first commit: headers only). */
#include "tokens.h"

#include <string.h>

void tokens_init_empty(tokens_table *t) { memset(t, 0, sizeof *t); }
cw_code tokens_init(tokens_table *t, cw_err *err) { tokens_init_empty(t); return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "not implemented yet"); }
void tokens_free(tokens_table *t) { memset(t, 0, sizeof *t); }
cw_code tokens_put(tokens_table *t, const cw_addr *contract, const char *symbol, unsigned decimals, cw_err *err) { (void)t; (void)contract; (void)symbol; (void)decimals; return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "not implemented yet"); }
cw_code tokens_load_csv(tokens_table *t, const char *path, cw_err *err) { (void)t; return cw_err_set(err, CW_EARG, CW_NO_OFFSET, "%s: not implemented yet", path); }
const token_info *tokens_find(const tokens_table *t, const cw_addr *contract) { (void)t; (void)contract; return NULL; }
const tokens_builtin_row *tokens_builtin(size_t *n) { *n = 0; return NULL; }
