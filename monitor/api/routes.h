/*
 * routes.h: the core routes' registration (routes_screen.c: address and
 * screen; routes_alerts.c; routes_ops.c: metrics, healthz) and their
 * shared state. api_register_all (routes.c) calls them.
 */
#ifndef CW_API_ROUTES_H
#define CW_API_ROUTES_H

#include "chains/model.h"
#include "monitor/cli/args_flows.h"
#include "monitor/engine/flows.h"
#include "watchlists/tokens.h"
#include "server.h"

#define API_NETS (CW_NET_REGTEST + 1)

typedef struct {
    flows_opts fo[API_NETS]; /* the screening policy per network (cw_net) */
    tokens_table tokens;     /* ERC-20 names for Ethereum txs (the built-in table); read-only */
} api_core;

/* The screening policy for net. */
const flows_config *api_core_flows(const api_request *req, cw_net net);
/* The ERC-20 table for Ethereum txs. */
const tokens_table *api_core_tokens(const api_request *req);

cw_code api_routes_screen(api_server *srv, cw_err *err);
/* Frees the calling server thread's memo of parsed entity records
 * (routes_screen.c), at the thread's end. */
void api_screen_thread_free(void);
cw_code api_routes_alerts(api_server *srv, cw_err *err);
cw_code api_routes_ops(api_server *srv, cw_err *err);

#endif
