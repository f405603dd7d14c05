/* internal.h: shared between the Bitcoin decoders, not part of any contract. */
#ifndef CW_BTC_INTERNAL_H
#define CW_BTC_INTERNAL_H

#include "reader.h"

/* Parses one tx at r->pos; offsets in errors are relative to r->buf. */
cw_code btc_tx_read(btc_reader *r, cw_net net, cw_arena *arena, cw_tx *tx);

#endif
