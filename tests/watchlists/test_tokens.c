/* The known-token table: the built-in rows equal the facts of
 * ../shared/data/labels/stablecoin_contracts.csv (read here with the same
 * loader), and every malformed file is refused with file:line. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chains/addr.h"
#include "tests/support.h"
#include "watchlists/tokens.h"

static const token_info *find_text(const tokens_table *t, const char *text)
{
    cw_addr a;
    cr_assert_eq(cw_addr_parse(text, CW_NET_ANY, &a, NULL), CW_OK, "%s", text);
    return tokens_find(t, &a);
}

Test(tokens, builtin_rows_are_the_data_files_facts)
{
    tokens_table b, f;
    cw_err err = {0};
    cr_assert_eq(tokens_init(&b, &err), CW_OK, "%s", err.msg);
    tokens_init_empty(&f);
    char path[1024];
    snprintf(path, sizeof path, "%s/labels/stablecoin_contracts.csv", CW_DATA_DIR);
    cr_assert_eq(tokens_load_csv(&f, path, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(f.n, 4);
    cr_assert_eq(b.n, f.n);
    for (size_t i = 0; i < f.n; i++) {
        const token_info *x = tokens_find(&b, &f.v[i].contract);
        cr_assert_not_null(x, "file row %zu not built in", i);
        cr_assert_str_eq(x->symbol, f.v[i].symbol);
        cr_assert_eq(x->decimals, f.v[i].decimals);
    }
    const token_info *usdt = find_text(&b, "0xdac17f958d2ee523a2206206994597c13d831ec7");
    cr_assert_str_eq(usdt->symbol, "USDT");
    cr_assert_eq(usdt->decimals, 6);
    usdt = find_text(&b, "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t");
    cr_assert_str_eq(usdt->symbol, "USDT");
    cr_assert_eq(usdt->contract.chain, CW_CHAIN_TRON);
    cr_assert_null(find_text(&b, "0x3535353535353535353535353535353535353535"));
    /* the same 20 bytes on the other chain are another contract */
    cw_addr evm_form = usdt->contract;
    evm_form.chain = CW_CHAIN_EVM;
    evm_form.kind = CW_ADDR_EVM;
    cr_assert_null(tokens_find(&b, &evm_form));
    size_t n;
    const tokens_builtin_row *rows = tokens_builtin(&n);
    cr_assert_eq(n, 4);
    cr_assert_str_eq(rows[1].symbol, "USDC");
    tokens_free(&b);
    tokens_free(&f);
}

static char *write_tmp(const char *text)
{
    char *path = strdup("/tmp/cw-tokens-XXXXXX");
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void refused(const char *text, const char *want)
{
    tokens_table t;
    cw_err err = {0};
    cr_assert_eq(tokens_init(&t, &err), CW_OK);
    char *path = write_tmp(text);
    cr_assert_eq(tokens_load_csv(&t, path, &err), CW_EFORMAT, "accepted: %s", text);
    char full[512];
    snprintf(full, sizeof full, "%s: %s", path, want);
    cr_assert(strstr(err.msg, full), "%s: want \"%s\"", err.msg, full);
    cr_assert_eq(t.n, 4, "the table is as it was");
    cr_assert_str_eq(find_text(&t, "0xdac17f958d2ee523a2206206994597c13d831ec7")->symbol, "USDT");
    unlink(path);
    free(path);
    tokens_free(&t);
}

Test(tokens, files_add_replace_and_refuse)
{
    tokens_table t;
    cw_err err = {0};
    cr_assert_eq(tokens_init(&t, &err), CW_OK);
    /* columns found by name, in any order; a row replaces a built-in; blank lines skipped */
    char *path = write_tmp("\xef\xbb\xbf"
                           "decimals,contract_address,token,chain\r\n"
                           "18,0x6B175474E89094C44Da98b954EedeAC495271d0F,DAI,ETH\r\n"
                           "\r\n"
                           "6,0xdac17f958d2ee523a2206206994597c13d831ec7,USDT0,evm\r\n");
    cr_assert_eq(tokens_load_csv(&t, path, &err), CW_OK, "%s", err.msg);
    cr_assert_eq(t.n, 5);
    cr_assert_str_eq(find_text(&t, "0x6b175474e89094c44da98b954eedeac495271d0f")->symbol, "DAI");
    cr_assert_eq(find_text(&t, "0x6b175474e89094c44da98b954eedeac495271d0f")->decimals, 18);
    cr_assert_str_eq(find_text(&t, "0xdac17f958d2ee523a2206206994597c13d831ec7")->symbol, "USDT0");
    unlink(path);
    free(path);
    tokens_free(&t);
    refused("chain,token,contract_address\nETH,X,0x6b175474e89094c44da98b954eedeac495271d0f\n",
            "line 1: the header has no column \"decimals\"");
    refused("chain,token,contract_address,decimals\nETH,X,0x6b175474e89094c44da98b954eedeac495271d0f,78\n",
            "line 2: decimals \"78\" is not a number 0..77");
    refused("chain,token,contract_address,decimals\nETH,X,0x6b175474e89094c44da98b954eedeac495271d0f,-1\n",
            "line 2: decimals \"-1\"");
    refused("chain,token,contract_address,decimals\nETH,X,0x6b175474e89094c44da98b954eedeac495271d0f,06\n",
            "line 2: decimals \"06\"");
    refused("chain,token,contract_address,decimals\nSOL,X,0x6b175474e89094c44da98b954eedeac495271d0f,6\n",
            "line 2: chain \"SOL\" is not ETH (EVM) or TRON");
    refused("chain,token,contract_address,decimals\nETH,X,TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t,6\n",
            "line 2: contract \"TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t\" is a tron address in a ETH row");
    refused("chain,token,contract_address,decimals\nETH,X,0x6B175474E89094C44Da98b954EedeAC495271d0f,6\n",
            "line 2: contract \"0x6B175474E89094C44Da98b954EedeAC495271d0f\"");
    refused("chain,token,contract_address,decimals\nETH,A B,0x6b175474e89094c44da98b954eedeac495271d0f,6\n",
            "line 2: token symbol \"A B\" has a character");
    refused("chain,token,contract_address,decimals\nETH,,0x6b175474e89094c44da98b954eedeac495271d0f,6\n",
            "line 2: token symbol \"\" is empty");
    refused("chain,token,contract_address,decimals\n"
            "ETH,A,0x6b175474e89094c44da98b954eedeac495271d0f,6\n"
            "ETH,B,0x6B175474E89094C44Da98b954EedeAC495271d0F,6\n",
            "line 3: contract 0x6B175474E89094C44Da98b954EedeAC495271d0F is listed twice in this file");
    refused("chain,token,contract_address,decimals\nETH,A\n", "line 2: 2 fields, no \"contract_address\"");
    refused("", "empty: no header");
    tokens_init_empty(&t);
    cr_assert_eq(tokens_load_csv(&t, "/nonexistent/tokens.csv", &err), CW_EIO);
    cr_assert(strstr(err.msg, "/nonexistent/tokens.csv"), "%s", err.msg);
    tokens_free(&t);
}
