/* The JSON writer: separators, escapes, invalid UTF-8, integers. */
#include <criterion/criterion.h>
#include <string.h>

#include "chains/json.h"
#include "tests/support.h"

static char *finish(cw_buf *b)
{
    cw_buf_append(b, "", 1, NULL);
    return (char *)b->p;
}

Test(json, nesting_and_commas)
{
    cw_buf b = CW_BUF_INIT;
    cw_json j;
    cw_json_init(&j, &b);
    cw_json_obj_begin(&j);
    cw_json_key(&j, "a");
    cw_json_u64(&j, 9007199254740993ull); /* 2^53+1: exact as an integer, not as a double */
    cw_json_key(&j, "b");
    cw_json_arr_begin(&j);
    cw_json_i64(&j, -5);
    cw_json_null(&j);
    cw_json_obj_begin(&j);
    cw_json_obj_end(&j);
    cw_json_bool(&j, true);
    cw_json_arr_end(&j);
    cw_json_key(&j, "h");
    cw_json_hex_rev(&j, (const uint8_t *)"\x01\x02", 2);
    cw_json_obj_end(&j);
    cw_json_newline(&j);
    cw_json_obj_begin(&j);
    cw_json_obj_end(&j);
    cr_assert(cw_json_ok(&j));
    cr_assert_str_eq(finish(&b), "{\"a\":9007199254740993,\"b\":[-5,null,{},true],\"h\":\"0201\"}\n{}");
    /* and jansson reads the first line back */
    json_t *back = json_loadb((const char *)b.p, strchr((char *)b.p, '\n') - (char *)b.p, 0, NULL);
    cr_assert_not_null(back);
    cr_assert_str_eq(json_string_value(json_object_get(back, "h")), "0201");
    json_decref(back);
    cw_buf_free(&b);
}

Test(json, string_escapes_and_utf8)
{
    cw_buf b = CW_BUF_INIT;
    cw_json j;
    cw_json_init(&j, &b);
    const char s[] = "q\"b\\n\n\x01 \xc3\xa9 \xe2\x82\xac bad:\xff\xc3 end";
    cw_json_strn(&j, s, sizeof s - 1);
    cr_assert_str_eq(finish(&b), "\"q\\\"b\\\\n\\n\\u0001 \xc3\xa9 \xe2\x82\xac bad:\xef\xbf\xbd\xef\xbf\xbd end\"");
    cw_buf_free(&b);
}

Test(json, rejects_overlong_and_surrogates)
{
    cw_buf b = CW_BUF_INIT;
    cw_json j;
    cw_json_init(&j, &b);
    /* overlong '/', and an encoded UTF-16 surrogate: both invalid UTF-8 */
    cw_json_str(&j, "\xc0\xaf|\xed\xa0\x80");
    cr_assert_str_eq(finish(&b), "\"\xef\xbf\xbd\xef\xbf\xbd|\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
    cw_buf_free(&b);
}

/* A string written in pieces is the string of the pieces joined: each
 * piece escaped, one pair of quotes, separators as for any value. */
Test(json, string_in_pieces_equals_the_joined_string)
{
    cw_buf b = CW_BUF_INIT, w = CW_BUF_INIT;
    cw_json j, k;
    cw_json_init(&j, &b);
    cw_json_init(&k, &w);
    const char *pieces[] = {"Kim \"Sang\" Man", "", "\\ tab\t", "caf\xc3\xa9", " \x01 end"};
    char joined[128] = "";
    for (size_t i = 0; i < 5; i++)
        strcat(joined, pieces[i]);
    cw_json_arr_begin(&j);
    cw_json_str(&j, "first");
    cw_json_str_begin(&j);
    for (size_t i = 0; i < 5; i++)
        cw_json_str_add(&j, pieces[i]);
    cw_json_str_end(&j);
    cw_json_obj_begin(&j);
    cw_json_key(&j, "k");
    cw_json_str_begin(&j);
    cw_json_str_end(&j);
    cw_json_obj_end(&j);
    cw_json_arr_end(&j);
    cw_json_arr_begin(&k);
    cw_json_str(&k, "first");
    cw_json_str(&k, joined);
    cw_json_obj_begin(&k);
    cw_json_key(&k, "k");
    cw_json_str(&k, "");
    cw_json_obj_end(&k);
    cw_json_arr_end(&k);
    cr_assert(cw_json_ok(&j) && cw_json_ok(&k));
    char *got = finish(&b), *want = finish(&w);
    cr_assert_str_eq(got, want);
    cr_assert_str_eq(got, "[\"first\",\"Kim \\\"Sang\\\" Man\\\\ tab\\tcaf\xc3\xa9 \\u0001 end\",{\"k\":\"\"}]");
    cw_buf_free(&b), cw_buf_free(&w);
}

/* The escape of one byte as RFC 8259 and the writer's rules give it: a
 * lone byte at or over 0x80 is invalid UTF-8 and becomes U+FFFD. */
static void ref_escape(unsigned char c, char *out)
{
    if (c == '"') strcpy(out, "\\\"");
    else if (c == '\\') strcpy(out, "\\\\");
    else if (c == '\n') strcpy(out, "\\n");
    else if (c == '\r') strcpy(out, "\\r");
    else if (c == '\t') strcpy(out, "\\t");
    else if (c == '\b') strcpy(out, "\\b");
    else if (c == '\f') strcpy(out, "\\f");
    else if (c < 0x20) sprintf(out, "\\u%04x", c);
    else if (c >= 0x80) strcpy(out, "\xef\xbf\xbd");
    else { out[0] = (char)c; out[1] = '\0'; }
}

/* Every byte value at every position of a 19-byte run of plain text, and
 * two of them apart: the eight-at-a-time scan of plain bytes hands each
 * one to the byte loop wherever it sits in a word, and none is missed. */
Test(json, every_byte_at_every_position)
{
    for (unsigned c = 1; c < 256; c++)
        for (size_t pos = 0; pos < 19; pos++)
            for (size_t gap = 0; gap < 10; gap += 9) {
                char in[20], want[64] = "\"", esc[8];
                memset(in, 'a', 19);
                in[19] = '\0';
                in[pos] = (char)c;
                size_t second = pos + gap;
                if (gap && second < 19)
                    in[second] = (char)c;
                for (size_t i = 0; i < 19; i++) {
                    ref_escape((unsigned char)in[i], esc);
                    strcat(want, esc);
                }
                strcat(want, "\"");
                cw_buf b = CW_BUF_INIT;
                cw_json j;
                cw_json_init(&j, &b);
                cw_json_str(&j, in);
                cr_assert_str_eq(finish(&b), want, "byte 0x%02x at %zu (gap %zu)", c, pos, gap);
                cw_buf_free(&b);
            }
}

/* Valid UTF-8 of two, three and four bytes at every position of a plain
 * run, across word boundaries: kept as it is, byte for byte. */
Test(json, utf8_sequences_at_every_position)
{
    const char *seqs[] = {"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9d\x84\x9e"};
    for (size_t k = 0; k < 3; k++)
        for (size_t pos = 0; pos < 19; pos++) {
            char in[32], want[40];
            memset(in, 'a', pos);
            strcpy(in + pos, seqs[k]);
            size_t l = strlen(in);
            memset(in + l, 'b', 19 - pos);
            in[l + 19 - pos] = '\0';
            snprintf(want, sizeof want, "\"%s\"", in);
            cw_buf b = CW_BUF_INIT;
            cw_json j;
            cw_json_init(&j, &b);
            cw_json_str(&j, in);
            cr_assert_str_eq(finish(&b), want, "sequence %zu at %zu", k, pos);
            cw_buf_free(&b);
        }
}
