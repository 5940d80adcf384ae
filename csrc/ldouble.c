/*
 * Long double arithmetic for INCRBYFLOAT and HINCRBYFLOAT.
 *
 * Redis 7.0 does these increments in C's `long double` (80-bit extended precision on x86-64) and stores
 * the result printed with "%.17Lf" minus trailing zeros. Rust has no such type, so this file does the
 * parse, the addition and the printing in C and hands back text. Nothing here allocates or keeps state.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Redis bounds long double text to this many bytes (MAX_LONG_DOUBLE_CHARS), input and output alike. */
#define LD_TEXT_MAX 5120

enum {
    LD_BAD_BASE = -1,      /* the stored value is not a number */
    LD_BAD_INCREMENT = -2, /* the increment is not a number */
    LD_NOT_FINITE = -3,    /* the sum is NaN or infinite */
    LD_NO_ROOM = -4,       /* the output buffer is too small */
};

/*
 * Parse `len` bytes as a long double the way Redis accepts one: strtold must consume all of them (so an
 * embedded NUL is refused), no leading blank, no NaN, and an overflow or an underflow to zero is
 * refused. A denormal result that strtold flags with ERANGE is still accepted.
 */
static int parse_long_double(const char *text, size_t len, long double *out) {
    char copy[LD_TEXT_MAX];
    char *stop = NULL;
    long double value;

    if (len == 0 || len >= sizeof(copy))
        return 0;
    memcpy(copy, text, len);
    copy[len] = '\0';
    if (isspace((unsigned char)copy[0]))
        return 0;

    errno = 0;
    value = strtold(copy, &stop);
    if (stop != copy + len || errno == EINVAL || isnan(value))
        return 0;
    if (errno == ERANGE && (isinf(value) || value == 0.0L))
        return 0;
    *out = value;
    return 1;
}

/*
 * Print `value` in Redis's "human" long double form: fixed notation with 17 decimals, trailing zeros
 * and a trailing point removed, and "-0" written as "0". Returns the length, or LD_NO_ROOM.
 */
static int print_human(long double value, char *out, size_t cap) {
    int n = snprintf(out, cap, "%.17Lf", value);
    if (n < 0 || (size_t)n >= cap)
        return LD_NO_ROOM;
    if (memchr(out, '.', (size_t)n) != NULL) {
        while (out[n - 1] == '0')
            n--;
        if (out[n - 1] == '.')
            n--;
    }
    if (n == 2 && out[0] == '-' && out[1] == '0') {
        out[0] = '0';
        n = 1;
    }
    out[n] = '\0';
    return n;
}

/*
 * base + increment, both given as text. Writes the result's text to `out` (at most `cap` bytes,
 * NUL-terminated) and returns its length, or a negative LD_* code.
 */
int ferrite_ld_add(const char *base, size_t base_len, const char *incr, size_t incr_len, char *out,
                   size_t cap) {
    long double a, b, sum;

    if (!parse_long_double(base, base_len, &a))
        return LD_BAD_BASE;
    if (!parse_long_double(incr, incr_len, &b))
        return LD_BAD_INCREMENT;
    sum = a + b;
    if (isnan(sum) || isinf(sum))
        return LD_NOT_FINITE;
    return print_human(sum, out, cap);
}

/*
 * A blocking command's timeout: `len` bytes of seconds, parsed as above, times 1000 rounded up to whole
 * milliseconds and converted to a long long as Redis 7.0 does (`(long long)ceill(seconds * 1000.0)` in
 * long double): 0.001 s and 1e-10 s wait 1 ms, -0.0005 s rounds to 0 (wait forever). A product outside
 * long long becomes LLONG_MIN, the value x86-64's conversion yields, which Redis then reports as a
 * negative timeout. Returns 0, or LD_BAD_INCREMENT when the text is not a number.
 */
int ferrite_ld_seconds_to_ms(const char *text, size_t len, long long *out) {
    long double secs, ms;

    if (!parse_long_double(text, len, &secs))
        return LD_BAD_INCREMENT;
    ms = ceill(secs * 1000.0L);
    if (!(ms > -9223372036854775808.0L && ms < 9223372036854775808.0L)) {
        *out = (-9223372036854775807LL - 1);
        return 0;
    }
    *out = (long long)ms;
    return 0;
}
