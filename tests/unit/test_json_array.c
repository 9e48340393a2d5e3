/* Unit tests of the JSON array walker (src/core/json_array.c). */
#include <string.h>

#include "core/json_array.h"
#include "test.h"

/* Walks s and writes the elements joined by '|' into out; returns the
 * last result of json_array_next. */
static int walk(const char *s, char *out, size_t outlen, const char **why)
{
    struct json_array_iter it;
    const char *el;
    size_t n, used = 0;
    int rc;

    out[0] = '\0';
    json_array_init(&it, s, strlen(s));
    while ((rc = json_array_next(&it, &el, &n)) == 1) {
        used += (size_t)snprintf(out + used, outlen - used, "%s%.*s",
                                 used ? "|" : "", (int)n, el);
    }
    *why = it.why;
    CHECK_INT(json_array_next(&it, &el, &n), rc); /* sticky end */
    return rc;
}

static void elements_come_out_as_spans(void)
{
    char out[256];
    const char *why;

    CHECK_INT(walk(" [ {\"a\":[1,{\"b\":\"]}\"}]} ,\n{}, 3 ,\"x,\\\"]\" ] ",
                   out, sizeof(out), &why),
              0);
    CHECK_STR(out, "{\"a\":[1,{\"b\":\"]}\"}]}|{}|3|\"x,\\\"]\"");
    CHECK_INT(walk("[]", out, sizeof(out), &why), 0);
    CHECK_STR(out, "");
    CHECK_INT(walk("\n[\n]\n", out, sizeof(out), &why), 0);
}

static void malformed_arrays_fail(void)
{
    static const struct {
        const char *in;
        const char *why;
    } t[] = {
        {"", "expected '['"},
        {"{}", "expected '['"},
        {"[", "unexpected end"},
        {"[{}", "expected ',' or ']'"},
        {"[{},]", "expected a value"},
        {"[,{}]", "expected a value"},
        {"[{} {}]", "expected ',' or ']'"},
        {"[{\"a\":\"x}]", "unterminated element"},
        {"[{]}]", "unbalanced brackets"},
        {"[\"abc]", "unterminated string"},
        {"[] x", "text after the array"},
        {"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
         "nested too deep"},
    };
    char out[256];
    const char *why;

    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        int rc = walk(t[i].in, out, sizeof(out), &why);
        if (rc != -1)
            printf("  case %zu: %s\n", i, t[i].in);
        CHECK_INT(rc, -1);
        CHECK_STR(why, t[i].why);
    }
}

/* Elements before a fault are still given out. */
static void elements_before_a_fault_come_out(void)
{
    char out[256];
    const char *why;

    CHECK_INT(walk("[{\"a\":1},{\"b\":2} x", out, sizeof(out), &why), -1);
    CHECK_STR(out, "{\"a\":1}|{\"b\":2}");
}

int main(void)
{
    RUN(elements_come_out_as_spans);
    RUN(malformed_arrays_fail);
    RUN(elements_before_a_fault_come_out);
    return TEST_DONE();
}
