/*
 * numparse.h - decimal text to double, exact and independent of the process locale.
 *
 * What the readers of data files (CSV, JSON, text pickles) and the payload parser use in
 * place of strtod(), which is slow and reads "1,5" as a number under a German locale.
 */
#ifndef IOTPLOT_NUMPARSE_H
#define IOTPLOT_NUMPARSE_H

/*
 * The number at the start of s[0..end) into *out, rounded to nearest, ties to even, as
 * strtod() does in the C locale. Accepts [+-]digits[.digits][(e|E)[+-]digits] (".5"
 * and "5." too), and nan, inf, infinity in any case with an optional sign. Returns the
 * first byte not read, or s itself (and *out untouched) when there is no number there.
 * Never reads at or past end; needs no terminating NUL.
 */
const char *ipp__parse_double(const char *s, const char *end, double *out);

#endif
