/*
 * routes.c: every route of chainwatch's API, registered in one place
 * (api_register_all), and the core routes' shared state: the screening
 * policy per network (flows_opts, as `chainwatch screen` reads it).
 */
#include <stdlib.h>
#include <string.h>

#include "monitor/cli/args_flows.h"
#include "routes.h"
#include "server_internal.h"

static void core_free(void *p)
{
    api_core *c = p;
    if (c == NULL)
        return;
    for (int i = 0; i < API_NETS; i++)
        flows_opts_free(&c->fo[i]);
    tokens_free(&c->tokens);
    free(c);
}

/* The screening policy of every network: the verb's options (template)
 * with each network's labels, enabled (screening is the point here, also
 * when watch runs with --clusters off: screen_tx needs it). */
static cw_code core_new(const api_config *cfg, api_core **out, cw_err *err)
{
    api_core *c = calloc(1, sizeof *c);
    if (c == NULL)
        return cw_err_set(err, CW_ENOMEM, CW_NO_OFFSET, "out of memory");
    const flows_opts *tpl = cfg->flows_template;
    tokens_init_empty(&c->tokens);
    cw_code trc = tokens_init(&c->tokens, err);
    if (trc) {
        free(c);
        return trc;
    }
    for (int i = 0; i < API_NETS; i++) {
        flows_opts_init(&c->fo[i]);
        if (tpl) {
            c->fo[i].cfg = tpl->cfg;
            c->fo[i].cfg.labels = NULL;
            c->fo[i].cfg.watched = NULL;
            c->fo[i].labels_path = tpl->labels_path;
            c->fo[i].hops = tpl->hops;
        }
        c->fo[i].cfg.enabled = true;
        cw_code rc = flows_opts_load(&c->fo[i], (cw_net)i, err);
        if (rc) {
            core_free(c);
            return rc;
        }
    }
    *out = c;
    return CW_OK;
}

const flows_config *api_core_flows(const api_request *req, cw_net net)
{
    const api_core *c = req->server->core;
    return &c->fo[(int)net < API_NETS ? (int)net : 0].cfg;
}

const tokens_table *api_core_tokens(const api_request *req)
{
    const api_core *c = req->server->core;
    return &c->tokens;
}

cw_code api_register_all(api_server *srv, cw_err *err)
{
    api_core *core = NULL;
    cw_code rc = core_new(&srv->cfg, &core, err);
    if (rc)
        return rc;
    srv->core = core;
    srv->core_free = core_free;
    if ((rc = api_routes_screen(srv, err)) || (rc = api_routes_alerts(srv, err)) || (rc = api_routes_ops(srv, err)))
        return rc;
    /* other modules' routes: one line each, e.g.
     * if ((rc = cases_api_register(srv, err))) return rc; */
    return CW_OK;
}
