/*
 * test_psbt: the strict BIP-174 reader (chains/bitcoin/psbt.h) on BIP-174's
 * test vectors, as Bitcoin Core's test/functional/data/rpc_psbt.json
 * carries them. Expected values (txids, input values, scripts) were
 * computed independently with Python (base64 + a hand-written map walk +
 * double SHA-256), not with this parser.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "chains/addr.h"
#include "chains/bitcoin/psbt.h"
#include "chains/bitcoin/tx.h"
#include "chains/hex.h"

/* BIP-174 "Creator" result: 2 inputs, 2 outputs, empty maps. */
static const char CREATOR[] =
    "cHNidP8BAJoCAAAAAljoeiG1ba8MI76OcHBFbDNvfLqlyHV5JPVFiHuyq911AAAAAAD/////g40EJ9DsZQpoqka7CwmK6kQiwHGyyng1Kgd5WdB86h0B"
    "AAAAAP////8CcKrwCAAAAAAWABTYXCtx0AYLCcmIauuBXlCZHdoSTQDh9QUAAAAAFgAUAK6pouXw+HaliN9VRuh0LR2HAI8AAAAAAAAAAAA=";
/* BIP-174 signer input: input 0 with a non-witness UTXO, input 1 a witness UTXO. */
static const char SIGNER[] =
    "cHNidP8BAJoCAAAAAljoeiG1ba8MI76OcHBFbDNvfLqlyHV5JPVFiHuyq911AAAAAAD/////g40EJ9DsZQpoqka7CwmK6kQiwHGyyng1Kgd5WdB86h0B"
    "AAAAAP////8CcKrwCAAAAAAWABTYXCtx0AYLCcmIauuBXlCZHdoSTQDh9QUAAAAAFgAUAK6pouXw+HaliN9VRuh0LR2HAI8AAAAAAAEAuwIAAAABqtc5"
    "MQGL0l+ErkALaISL4J23BurCrBgpi6vucatlb4sAAAAASEcwRAIgWPb8fGoz4bMVSNSByCbAFb0wE1qtQs1neQ2rZtKtJDsCIEoc7SYExnNbY5PltBaR"
    "3XiwDwxZQvufdRhW+qk4FX26Af7///8CgPD6AgAAAAAXqRQPuUY0IWlrgsgzryQceMF9295JNIfQ8gonAQAAABepFCnKdPigj4GZlCgYXJe12FLkBj9h"
    "h2UAAAABBEdSIQKVg785rgpgl0etGZrd1jT6YQhVnWxc05tMIYPxq5bgfyEC2rYf9JoU22p9ArDNH7t4/EsYMStbTlTa5Nui+/71NtdSriIGApWDvzmu"
    "CmCXR60Zmt3WNPphCFWdbFzTm0whg/GrluB/ENkMak8AAACAAAAAgAAAAIAiBgLath/0mhTban0CsM0fu3j8SxgxK1tOVNrk26L7/vU21xDZDGpPAAAA"
    "gAAAAIABAACAAQMEAQAAAAABASAAwusLAAAAABepFLf1+vQOPUClpFmx2zU18rcvqSHohwEEIgAgjCNTFzdDtZXftKB7crqOQuN5fadOh/59nXSX47IC"
    "iQMBBUdSIQMIncEMesbbVPkTKa9hczPbOIzq0MIx9yM3nRuZAwsC3CECOt2QTz1tz1nduQaw3uI1Kbf/ue1Q5ehhUZJoYCIfDnNSriIGAjrdkE89bc9Z"
    "3bkGsN7iNSm3/7ntUOXoYVGSaGAiHw5zENkMak8AAACAAAAAgAMAAIAiBgMIncEMesbbVPkTKa9hczPbOIzq0MIx9yM3nRuZAwsC3BDZDGpPAAAAgAAA"
    "AIACAACAAQMEAQAAAAAiAgOppMN/WZbTqiXbrGtXCvBlA5RJKUJGCzVHU+2e7KWHcRDZDGpPAAAAgAAAAIAEAACAACICAn9jmXV9Lv9VoTatAsaEsYOL"
    "ZVbl8bazQoKpS2tQBRCWENkMak8AAACAAAAAgAUAAIAA";
/* BIP-174 signer input with two witness UTXOs (P2PKH and P2SH-P2WPKH). */
static const char SIGNER3[] =
    "cHNidP8BAKACAAAAAqsJSaCMWvfEm4IS9Bfi8Vqz9cM9zxU4IagTn4d6W3vkAAAAAAD+////qwlJoIxa98SbghL0F+LxWrP1wz3PFTghqBOfh3pbe+QB"
    "AAAAAP7///8CYDvqCwAAAAAZdqkUdopAu9dAy+gdmI5x3ipNXHE5ax2IrI4kAAAAAAAAGXapFG9GILVT+glechue4O/p+gOcykWXiKwAAAAAAAEBItPf"
    "9QUAAAAAGXapFNSO0xELlAFMsRS9Mtb00GbcdCVriKwAAQEgAOH1BQAAAAAXqRQ1RebjO4MsRwUPJNPuuTycA5SLx4cBBBYAFIXRNTfy4mVAWjTbr6nj"
    "3aAfuCMIACICAurVlmh8qAYEPtw94RbN8p1eklfBls0FXPaYyNAr8k6ZELSmumcAAACAAAAAgAIAAIAAIgIDlPYr6d8ZlSxVh3aK63aYBhrSxKJciU9H"
    "2MFitNchPQUQtKa6ZwAAAIABAACAAgAAgAA=";

/* BIP-174's invalid PSBTs (in its order), each with what the BIP says is wrong. */
static const struct {
    const char *what, *b64;
} INVALID[] = {
    {"a network tx, not a PSBT",
     "AgAAAAEmgXE3Ht/yhek3re6ks3t4AAwFZsuzrWRkFxPKQhcb9gAAAABqRzBEAiBwsiRRI+a/R01gxbUMBD1MaRpdJDXwmjSnZiqdwlF5CgIgATKcqdrP"
     "KAvfMHQOwDkEIkIsgctFg5RXrrdvwS7dlbMBIQJlfRGNM1e44PTCzUbbezn22cONmnCry5st5dyNv+TOMf7///8C09/1BQAAAAAZdqkU0MWZA8W6woaH"
     "YOkP1SGkZlqnZSCIrADh9QUAAAAAF6kUNUXm4zuDLEcFDyTT7rk8nAOUi8eHsy4TAA=="},
    {"missing outputs",
     "cHNidP8BAHUCAAAAASaBcTce3/KF6Tet7qSze3gADAVmy7OtZGQXE8pCFxv2AAAAAAD+////AtPf9QUAAAAAGXapFNDFmQPFusKGh2DpD9UhpGZap2Ug"
     "iKwA4fUFAAAAABepFDVF5uM7gyxHBQ8k0+65PJwDlIvHh7MuEwAAAQD9pQEBAAAAAAECiaPHHqtNIOA3G7ukzGmPopXJRjr6Ljl/hTPMti+VZ+UBAAAA"
     "FxYAFL4Y0VKpsBIDna89p95PUzSe7LmF/////4b4qkOnHf8USIk6UwpyN+9rRgi7st0tAXHmOuxqSJC0AQAAABcWABT+Pp7xp0XpdNkCxDVZQ6vLNL1T"
     "U/////8CAMLrCwAAAAAZdqkUhc/xCX/Z4Ai7NK9wnGIZeziXikiIrHL++E4sAAAAF6kUM5cluiHv1irHU6m80GfWx6ajnQWHAkcwRAIgJxK+IuAnDzlP"
     "VoMR3HyppolwuAJf3TskAinwf4pfOiQCIAGLONfc0xTnNMkna9b7QPZzMlvEuqFEyADS8vAtsnZcASED0uFWdJQbrUqZY3LLh+GFbTZSYG2YVi/jnF6e"
     "fkE/IQUCSDBFAiEA0SuFLYXc2WHS9fSrZgZU327tzHlMDDPOXMMJ/7X85Y0CIGczio4OFyXBl/saiK9Z9R5E5CVbIBZ8hoQDHAXR8lkqASECI7cr7vCW"
     "XRC+B3jv7NYfysb3mk6haTkzgHNEZPhPKrMAAAAAAA=="},
    {"an unsigned tx with scriptSigs",
     "cHNidP8BAP0KAQIAAAACqwlJoIxa98SbghL0F+LxWrP1wz3PFTghqBOfh3pbe+QAAAAAakcwRAIgR1lmF5fAGwNrJZKJSGhiGDR9iYZLcZ4ff89X0eUR"
     "ZYcCIFMJ6r9Wqk2Ikf/REf3xM286KdqGbX+EhtdVRs7tr5MZASEDXNxh/HupccC1AaZGoqg7ECy0OIEhfKaC3Ibi1z+ogpL+////qwlJoIxa98SbghL0"
     "F+LxWrP1wz3PFTghqBOfh3pbe+QBAAAAAP7///8CYDvqCwAAAAAZdqkUdopAu9dAy+gdmI5x3ipNXHE5ax2IrI4kAAAAAAAAGXapFG9GILVT+glechue"
     "4O/p+gOcykWXiKwAAAAAAAABASAA4fUFAAAAABepFDVF5uM7gyxHBQ8k0+65PJwDlIvHhwEEFgAUhdE1N/LiZUBaNNuvqePdoB+4IwgAAAA="},
    {"no unsigned tx",
     "cHNidP8AAQD9pQEBAAAAAAECiaPHHqtNIOA3G7ukzGmPopXJRjr6Ljl/hTPMti+VZ+UBAAAAFxYAFL4Y0VKpsBIDna89p95PUzSe7LmF/////4b4qkOn"
     "Hf8USIk6UwpyN+9rRgi7st0tAXHmOuxqSJC0AQAAABcWABT+Pp7xp0XpdNkCxDVZQ6vLNL1TU/////8CAMLrCwAAAAAZdqkUhc/xCX/Z4Ai7NK9wnGIZ"
     "eziXikiIrHL++E4sAAAAF6kUM5cluiHv1irHU6m80GfWx6ajnQWHAkcwRAIgJxK+IuAnDzlPVoMR3HyppolwuAJf3TskAinwf4pfOiQCIAGLONfc0xTn"
     "NMkna9b7QPZzMlvEuqFEyADS8vAtsnZcASED0uFWdJQbrUqZY3LLh+GFbTZSYG2YVi/jnF6efkE/IQUCSDBFAiEA0SuFLYXc2WHS9fSrZgZU327tzHlM"
     "DDPOXMMJ/7X85Y0CIGczio4OFyXBl/saiK9Z9R5E5CVbIBZ8hoQDHAXR8lkqASECI7cr7vCWXRC+B3jv7NYfysb3mk6haTkzgHNEZPhPKrMAAAAAAA=="},
    {"the unsigned tx key of 2 bytes",
     "cHNidP8CAAFVAgAAAAEnmiMjpd+1H8RfIg+liw/BPh4zQnkqhdfjbNYzO1y8OQAAAAAA/////wGgWuoLAAAAABl2qRT/6cAGEJfMO2NvLLBGD6T8Qn0r"
     "RYisAAAAAAABASCVXuoLAAAAABepFGNFIA9o0YnhrcDfHE0W6o8UwNvrhyICA7E0HMunaDtq9PEjjNbpfnFn1Wn6xH8eSNR1QYRDVb1GRjBDAiAEJLWO"
     "/6qmlOFVnqXJO7/UqJBkIkBVzfBwtncUaUQtBwIfXI6w/qZRbWC4rLM61k7eYOh4W/s6qUuZvfhhUduamgEBBCIAIHcf0YrUWWZt1J89Vk49vEL0yEd0"
     "42CtoWgWqO1IjVaBAQVHUiEDsTQcy6doO2r08SOM1ul+cWfVafrEfx5I1HVBhENVvUYhA95V0eHayAXj+KWMH7+blMAvPbqv4Sf+/KSZXyb4IIO9Uq4i"
     "BgOxNBzLp2g7avTxI4zW6X5xZ9Vp+sR/HkjUdUGEQ1W9RhC0prpnAAAAgAAAAIAEAACAIgYD3lXR4drIBeP4pYwfv5uUwC89uq/hJ/78pJlfJvggg70Q"
     "tKa6ZwAAAIAAAACABQAAgAAA"},
    {"an input's witness UTXO key of 2 bytes",
     "cHNidP8BAFUCAAAAASeaIyOl37UfxF8iD6WLD8E+HjNCeSqF1+Ns1jM7XLw5AAAAAAD/////AaBa6gsAAAAAGXapFP/pwAYQl8w7Y28ssEYPpPxCfStF"
     "iKwAAAAAAAIBACCVXuoLAAAAABepFGNFIA9o0YnhrcDfHE0W6o8UwNvrhyICA7E0HMunaDtq9PEjjNbpfnFn1Wn6xH8eSNR1QYRDVb1GRjBDAiAEJLWO"
     "/6qmlOFVnqXJO7/UqJBkIkBVzfBwtncUaUQtBwIfXI6w/qZRbWC4rLM61k7eYOh4W/s6qUuZvfhhUduamgEBBCIAIHcf0YrUWWZt1J89Vk49vEL0yEd0"
     "42CtoWgWqO1IjVaBAQVHUiEDsTQcy6doO2r08SOM1ul+cWfVafrEfx5I1HVBhENVvUYhA95V0eHayAXj+KWMH7+blMAvPbqv4Sf+/KSZXyb4IIO9Uq4i"
     "BgOxNBzLp2g7avTxI4zW6X5xZ9Vp+sR/HkjUdUGEQ1W9RhC0prpnAAAAgAAAAIAEAACAIgYD3lXR4drIBeP4pYwfv5uUwC89uq/hJ/78pJlfJvggg70Q"
     "tKa6ZwAAAIAAAACABQAAgAAA"},
    {"a partial signature with a 32-byte public key",
     "cHNidP8BAFUCAAAAASeaIyOl37UfxF8iD6WLD8E+HjNCeSqF1+Ns1jM7XLw5AAAAAAD/////AaBa6gsAAAAAGXapFP/pwAYQl8w7Y28ssEYPpPxCfStF"
     "iKwAAAAAAAEBIJVe6gsAAAAAF6kUY0UgD2jRieGtwN8cTRbqjxTA2+uHIQIDsTQcy6doO2r08SOM1ul+cWfVafrEfx5I1HVBhENVvUYwQwIgBCS1jv+q"
     "ppThVZ6lyTu/1KiQZCJAVc3wcLZ3FGlELQcCH1yOsP6mUW1guKyzOtZO3mDoeFv7OqlLmb34YVHbmpoBAQQiACB3H9GK1FlmbdSfPVZOPbxC9MhHdONg"
     "raFoFqjtSI1WgQEFR1IhA7E0HMunaDtq9PEjjNbpfnFn1Wn6xH8eSNR1QYRDVb1GIQPeVdHh2sgF4/iljB+/m5TALz26r+En/vykmV8m+CCDvVKuIgYD"
     "sTQcy6doO2r08SOM1ul+cWfVafrEfx5I1HVBhENVvUYQtKa6ZwAAAIAAAACABAAAgCIGA95V0eHayAXj+KWMH7+blMAvPbqv4Sf+/KSZXyb4IIO9ELSm"
     "umcAAACAAAAAgAUAAIAAAA=="},
    {"an input's redeem script key of 2 bytes",
     "cHNidP8BAFUCAAAAASeaIyOl37UfxF8iD6WLD8E+HjNCeSqF1+Ns1jM7XLw5AAAAAAD/////AaBa6gsAAAAAGXapFP/pwAYQl8w7Y28ssEYPpPxCfStF"
     "iKwAAAAAAAEBIJVe6gsAAAAAF6kUY0UgD2jRieGtwN8cTRbqjxTA2+uHIgIDsTQcy6doO2r08SOM1ul+cWfVafrEfx5I1HVBhENVvUZGMEMCIAQktY7/"
     "qqaU4VWepck7v9SokGQiQFXN8HC2dxRpRC0HAh9cjrD+plFtYLisszrWTt5g6Hhb+zqpS5m9+GFR25qaAQIEACIAIHcf0YrUWWZt1J89Vk49vEL0yEd0"
     "42CtoWgWqO1IjVaBAQVHUiEDsTQcy6doO2r08SOM1ul+cWfVafrEfx5I1HVBhENVvUYhA95V0eHayAXj+KWMH7+blMAvPbqv4Sf+/KSZXyb4IIO9Uq4i"
     "BgOxNBzLp2g7avTxI4zW6X5xZ9Vp+sR/HkjUdUGEQ1W9RhC0prpnAAAAgAAAAIAEAACAIgYD3lXR4drIBeP4pYwfv5uUwC89uq/hJ/78pJlfJvggg70Q"
     "tKa6ZwAAAIAAAACABQAAgAAA"},
    {"an input's witness script key of 2 bytes",
     "cHNidP8BAFUCAAAAASeaIyOl37UfxF8iD6WLD8E+HjNCeSqF1+Ns1jM7XLw5AAAAAAD/////AaBa6gsAAAAAGXapFP/pwAYQl8w7Y28ssEYPpPxCfStF"
     "iKwAAAAAAAEBIJVe6gsAAAAAF6kUY0UgD2jRieGtwN8cTRbqjxTA2+uHIgIDsTQcy6doO2r08SOM1ul+cWfVafrEfx5I1HVBhENVvUZGMEMCIAQktY7/"
     "qqaU4VWepck7v9SokGQiQFXN8HC2dxRpRC0HAh9cjrD+plFtYLisszrWTt5g6Hhb+zqpS5m9+GFR25qaAQEEIgAgdx/RitRZZm3Unz1WTj28QvTIR3Tj"
     "YK2haBao7UiNVoECBQBHUiEDsTQcy6doO2r08SOM1ul+cWfVafrEfx5I1HVBhENVvUYhA95V0eHayAXj+KWMH7+blMAvPbqv4Sf+/KSZXyb4IIO9Uq4i"
     "BgOxNBzLp2g7avTxI4zW6X5xZ9Vp+sR/HkjUdUGEQ1W9RhC0prpnAAAAgAAAAIAEAACAIgYD3lXR4drIBeP4pYwfv5uUwC89uq/hJ/78pJlfJvggg70Q"
     "tKa6ZwAAAIAAAACABQAAgAAA"},
    {"a BIP32 derivation with a 32-byte public key",
     "cHNidP8BAFUCAAAAASeaIyOl37UfxF8iD6WLD8E+HjNCeSqF1+Ns1jM7XLw5AAAAAAD/////AaBa6gsAAAAAGXapFP/pwAYQl8w7Y28ssEYPpPxCfStF"
     "iKwAAAAAAAEBIJVe6gsAAAAAF6kUY0UgD2jRieGtwN8cTRbqjxTA2+uHIgIDsTQcy6doO2r08SOM1ul+cWfVafrEfx5I1HVBhENVvUZGMEMCIAQktY7/"
     "qqaU4VWepck7v9SokGQiQFXN8HC2dxRpRC0HAh9cjrD+plFtYLisszrWTt5g6Hhb+zqpS5m9+GFR25qaAQEEIgAgdx/RitRZZm3Unz1WTj28QvTIR3Tj"
     "YK2haBao7UiNVoEBBUdSIQOxNBzLp2g7avTxI4zW6X5xZ9Vp+sR/HkjUdUGEQ1W9RiED3lXR4drIBeP4pYwfv5uUwC89uq/hJ/78pJlfJvggg71SriEG"
     "A7E0HMunaDtq9PEjjNbpfnFn1Wn6xH8eSNR1QYRDVb0QtKa6ZwAAAIAAAACABAAAgCIGA95V0eHayAXj+KWMH7+blMAvPbqv4Sf+/KSZXyb4IIO9ELSm"
     "umcAAACAAAAAgAUAAIAAAA=="},
    {"PSBT version 1",
     "cHNidP8B+wQBAAAAAQB1AgAAAAEmgXE3Ht/yhek3re6ks3t4AAwFZsuzrWRkFxPKQhcb9gAAAAAA/v///wLT3/UFAAAAABl2qRTQxZkDxbrChodg6Q/V"
     "IaRmWqdlIIisAOH1BQAAAAAXqRQ1RebjO4MsRwUPJNPuuTycA5SLx4ezLhMAAAEA/aUBAQAAAAABAomjxx6rTSDgNxu7pMxpj6KVyUY6+i45f4UzzLYv"
     "lWflAQAAABcWABS+GNFSqbASA52vPafeT1M0nuy5hf////+G+KpDpx3/FEiJOlMKcjfva0YIu7LdLQFx5jrsakiQtAEAAAAXFgAU/j6e8adF6XTZAsQ1"
     "WUOryzS9U1P/////AgDC6wsAAAAAGXapFIXP8Ql/2eAIuzSvcJxiGXs4l4pIiKxy/vhOLAAAABepFDOXJboh79Yqx1OpvNBn1semo50FhwJHMEQCICcS"
     "viLgJw85T1aDEdx8qaaJcLgCX907JAIp8H+KXzokAiABizjX3NMU5zTJJ2vW+0D2czJbxLqhRMgA0vLwLbJ2XAEhA9LhVnSUG61KmWNyy4fhhW02UmBt"
     "mFYv45xenn5BPyEFAkgwRQIhANErhS2F3Nlh0vX0q2YGVN9u7cx5TAwzzlzDCf+1/OWNAiBnM4qODhclwZf7GoivWfUeROQlWyAWfIaEAxwF0fJZKgEh"
     "AiO3K+7wll0Qvgd47+zWH8rG95pOoWk5M4BzRGT4TyqzAAAAAAAAAA=="},
};

typedef struct {
    cw_buf raw;
    void *mem;
    cw_arena arena;
    btc_psbt ps;
    cw_err err;
} parsed;

static cw_code parse_b64(const char *b64, parsed *p)
{
    memset(p, 0, sizeof *p);
    cw_code rc = btc_psbt_text(b64, strlen(b64), &p->raw, &p->err);
    if (rc)
        return rc;
    size_t cap = btc_psbt_arena_bound(p->raw.n);
    p->mem = malloc(cap);
    cr_assert_not_null(p->mem);
    cw_arena_init(&p->arena, p->mem, cap);
    return btc_psbt_parse(p->raw.p, p->raw.n, CW_NET_REGTEST, &p->arena, &p->ps, &p->err);
}

static void done(parsed *p)
{
    cw_buf_free(&p->raw);
    free(p->mem);
}

static void txid_is(const uint8_t txid[32], const char *want)
{
    char hex[65];
    cw_hex_encode_rev(txid, 32, hex);
    cr_assert_str_eq(hex, want);
}

Test(psbt, creator_vector)
{
    parsed p;
    cr_assert_eq(parse_b64(CREATOR, &p), CW_OK, "%s", p.err.msg);
    cr_assert_eq(p.raw.n, 167);
    cr_assert_eq(p.ps.tx.n_in, 2);
    cr_assert_eq(p.ps.tx.n_out, 2);
    txid_is(p.ps.tx.txid, "82efd652d7ab1197f01a5f4d9a30cb4c68bb79ab6fec58dfa1bf112291d1617b");
    txid_is(p.ps.tx.in[0].prev_txid, "75ddabb27b8845f5247975c8a5ba7c6f336c4570708ebe230caf6db5217ae858");
    cr_assert_eq(p.ps.tx.in[1].prev_vout, 1);
    cr_assert_eq(p.ps.tx.out[0].value, 149990000);
    cr_assert_eq(p.ps.tx.out[1].value, 100000000);
    char a[CW_ADDR_TEXT_MAX];
    cw_addr_format(&p.ps.tx.out[0].addr, a, sizeof a);
    cr_assert_str_eq(a, "bcrt1qmpwzkuwsqc9snjvgdt4czhjsnywa5yjdqpxskv"); /* the vector's own creator input */
    cr_assert_eq(p.ps.n_utxo, 0);
    cr_assert(!p.ps.tx.in[0].resolved && !p.ps.tx.in[1].resolved);
    done(&p);
}

Test(psbt, signer_vector_resolves_inputs_from_both_utxo_kinds)
{
    parsed p;
    cr_assert_eq(parse_b64(SIGNER, &p), CW_OK, "%s", p.err.msg);
    cr_assert_eq(p.raw.n, 903);
    cr_assert_eq(p.ps.n_utxo, 2);
    /* input 0: non-witness UTXO (its txid checked against the outpoint), output 0 of it */
    cr_assert(p.ps.tx.in[0].resolved);
    cr_assert_eq(p.ps.tx.in[0].value, 50000000);
    cr_assert_eq(p.ps.tx.in[0].addr.kind, CW_ADDR_P2SH);
    char h[41];
    cw_hex_encode(p.ps.tx.in[0].addr.payload, 20, h);
    cr_assert_str_eq(h, "0fb9463421696b82c833af241c78c17ddbde4934");
    /* input 1: witness UTXO */
    cr_assert_eq(p.ps.tx.in[1].value, 200000000);
    cw_hex_encode(p.ps.tx.in[1].addr.payload, 20, h);
    cr_assert_str_eq(h, "b7f5faf40e3d40a5a459b1db3535f2b72fa921e8");
    cr_assert_eq(p.ps.n_partial_sigs, 0);
    done(&p);
}

Test(psbt, signer3_vector_and_hex_form)
{
    parsed p;
    cr_assert_eq(parse_b64(SIGNER3, &p), CW_OK, "%s", p.err.msg);
    txid_is(p.ps.tx.txid, "fed6cd1fde4db4e13e7e800317e37f9cbd75ec364389670eeff80da993c7e560");
    cr_assert_eq(p.ps.tx.in[0].value, 99999699);
    cr_assert_eq(p.ps.tx.in[0].addr.kind, CW_ADDR_P2PKH);
    cr_assert_eq(p.ps.tx.in[1].value, 100000000);
    cr_assert_eq(p.ps.tx.out[1].value, 9358);
    /* the same bytes as hex parse to the same */
    char *hex = malloc(p.raw.n * 2 + 1);
    cw_hex_encode(p.raw.p, p.raw.n, hex);
    cw_buf b = CW_BUF_INIT;
    cr_assert_eq(btc_psbt_text(hex, strlen(hex), &b, NULL), CW_OK);
    cr_assert_eq(b.n, p.raw.n);
    cr_assert_eq(memcmp(b.p, p.raw.p, b.n), 0);
    cw_buf_free(&b);
    free(hex);
    done(&p);
}

Test(psbt, bip174_invalid_vectors_refused)
{
    for (size_t i = 0; i < sizeof INVALID / sizeof *INVALID; i++) {
        parsed p;
        cw_code rc = parse_b64(INVALID[i].b64, &p);
        cr_assert_neq(rc, CW_OK, "invalid vector %zu (%s) was accepted", i, INVALID[i].what);
        cr_assert_neq(p.err.msg[0], '\0', "vector %zu: no message", i);
        done(&p);
    }
}

Test(psbt, refusals_name_what_and_where)
{
    parsed p;
    cr_assert_eq(parse_b64(INVALID[5].b64, &p), CW_EFORMAT);
    cr_assert(strstr(p.err.msg, "input 0") && strstr(p.err.msg, "witness UTXO key of 2 bytes"), "%s", p.err.msg);
    done(&p);
    cr_assert_eq(parse_b64(INVALID[10].b64, &p), CW_EFORMAT);
    cr_assert(strstr(p.err.msg, "PSBT version 1"), "%s", p.err.msg);
    done(&p);
    cr_assert_eq(parse_b64(INVALID[0].b64, &p), CW_EFORMAT);
    cr_assert(strstr(p.err.msg, "not a PSBT"), "%s", p.err.msg);
    done(&p);
    /* the creator vector cut anywhere: an error, never a crash */
    cw_buf raw = CW_BUF_INIT;
    cr_assert_eq(btc_psbt_text(CREATOR, strlen(CREATOR), &raw, NULL), CW_OK);
    for (size_t n = 0; n < raw.n; n++) {
        cw_arena a = {0};
        void *mem = malloc(btc_psbt_arena_bound(n) + 1);
        cw_arena_init(&a, mem, btc_psbt_arena_bound(n) + 1);
        btc_psbt ps;
        cw_err e = {0};
        cr_assert_neq(btc_psbt_parse(raw.p, n, CW_NET_REGTEST, &a, &ps, &e), CW_OK, "cut at %zu accepted", n);
        free(mem);
    }
    /* a duplicated global key: the unsigned tx twice */
    cw_buf dup = CW_BUF_INIT;
    cw_buf_append(&dup, raw.p, 5, NULL);
    /* the global map's first pair is 01 00 9a <154 bytes>: write it twice, then the rest */
    size_t gl = 1 + 1 + 1 + 0x9a;
    cw_buf_append(&dup, raw.p + 5, gl, NULL);
    cw_buf_append(&dup, raw.p + 5, raw.n - 5, NULL);
    {
        cw_arena a;
        void *mem = malloc(btc_psbt_arena_bound(dup.n));
        cw_arena_init(&a, mem, btc_psbt_arena_bound(dup.n));
        btc_psbt ps;
        cw_err e = {0};
        cr_assert_eq(btc_psbt_parse(dup.p, dup.n, CW_NET_REGTEST, &a, &ps, &e), CW_EFORMAT);
        cr_assert(strstr(e.msg, "global") && strstr(e.msg, "twice"), "%s", e.msg);
        free(mem);
    }
    cw_buf_free(&dup);
    cw_buf_free(&raw);
}

Test(psbt, text_forms_refused)
{
    cw_buf b = CW_BUF_INIT;
    cw_err e = {0};
    cr_assert_eq(btc_psbt_text("cHNidP8", 7, &b, &e), CW_EFORMAT); /* not a multiple of 4 */
    cr_assert_eq(btc_psbt_text("cHN*dP8B", 8, &b, &e), CW_EFORMAT);
    cr_assert(strstr(e.msg, "character 3"), "%s", e.msg);
    cr_assert_eq(btc_psbt_text("cB==", 4, &b, &e), CW_EFORMAT); /* non-zero padding bits */
    cr_assert_eq(btc_psbt_text("c=B=", 4, &b, &e), CW_EFORMAT);
    cr_assert_eq(btc_psbt_text("70736274ff0", 11, &b, &e), CW_EFORMAT); /* odd hex */
    b.n = 0;
    cr_assert_eq(btc_psbt_text("cHNidP8=", 8, &b, &e), CW_OK); /* "psbt" 0xff */
    cr_assert_eq(b.n, 5);
    cr_assert_eq(btc_psbt_text("cHNidP9=", 8, &b, &e), CW_EFORMAT); /* '9' leaves a padding bit set */
    b.n = 0;
    cr_assert_eq(btc_psbt_text("cHNidA==", 8, &b, &e), CW_OK);
    cr_assert_eq(b.n, 4);
    cr_assert_eq(memcmp(b.p, "psbt", 4), 0);
    cw_buf_free(&b);
}
