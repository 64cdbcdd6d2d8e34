/*
 * fuzz_plot.c - what the plot server parses from the network and from files: the JSON
 * array of a command, the plot options object, output file names, and the pickle, CSV
 * and JSON readers of `iotplot plot`. The first input byte picks the parser.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "iotplot/plotserver.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_data(const ipp_data_t *d)
{
    /* Every column the readers return must be complete. */
    volatile double sum = 0;
    for (size_t c = 0; c < d->ncols; c++)
        for (size_t r = 0; r < d->nrows; r++)
            sum += d->cols[c][r];
    (void)sum; /* read only so that every value is touched */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *text = (const char *)data + 1;
    size_t n = size - 1;
    char err[256], strbuf[4096], name[512];
    const char *why;
    ipp_jval_t vals[64];
    ipp_plotopts_t o;
    ipp_data_t d;
    switch (data[0] % 6) {
    case 0:
        ipp_json_array(text, n, vals, 64, strbuf, sizeof strbuf, &why);
        break;
    case 1:
        if (ipp_plotopts_parse(text, n, &o, err, sizeof err) == 0)
            ipp_plotopts_free(&o);
        break;
    case 2:
        if (n < sizeof name) {
            memcpy(name, text, n);
            name[n] = '\0';
            if (ipp_path_check(name, &why) == 0 && !fuzz_path_inside(name))
                abort(); /* an accepted name must stay inside the folder */
        }
        break;
    case 3:
        if (ipp_read_pickle((const uint8_t *)text, n, &d, err, sizeof err) == 0) {
            check_data(&d);
            ipp_data_free(&d);
        }
        break;
    case 4:
        if (ipp_read_csv(text, n, &d, err, sizeof err) == 0) {
            check_data(&d);
            ipp_data_free(&d);
        }
        break;
    case 5:
        if (ipp_read_json(text, n, &d, err, sizeof err) == 0) {
            check_data(&d);
            ipp_data_free(&d);
        }
        break;
    }
    return 0;
}
